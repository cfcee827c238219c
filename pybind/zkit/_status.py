"""MemberStatus: one member's state at one moment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

__all__ = ["MemberStatus", "STATES"]

#: The states a member can be in: ZooKeeper's peer states, lowercase, plus
#: "stopped" and (process mode, see Member.pause) "paused".
STATES = ("leading", "following", "observing", "looking", "stopped", "paused")

_ROLES = {"leading": "leader", "following": "follower", "observing": "observer"}


@dataclass(frozen=True)
class MemberStatus:
    """A snapshot of one member.

    Attributes:
        id: the server id (myid, the N of ``server.N``); voters are
            1..size, observers follow.
        observer: whether the member is configured as an observer.
        running: whether its server runs (False once stopped or killed).
        state: ``"leading"``, ``"following"``, ``"observing"``, ``"looking"``
            (running, not serving: electing or syncing), ``"stopped"``, or
            ``"paused"`` (process mode: frozen by :meth:`Member.pause`; not
            asked, so not known to serve).
        serving: whether it serves clients (synced with a leader).
        leader: id of the leader it follows (or itself, leading); None while
            looking or stopped. In process mode, the member that says it
            leads.
        epoch: the epoch it leads or follows, None when unknown.
        zxid: the last transaction it applied (``epoch << 32 | counter``),
            None when unknown (stopped; in process mode also while looking).
        address: its client address, ``"host:port"``; the same across
            restarts.
        pid: the member's process id in process mode while it runs, else
            None.
    """

    id: int
    observer: bool
    running: bool
    state: str
    serving: bool
    leader: Optional[int]
    epoch: Optional[int]
    zxid: Optional[int]
    address: str
    pid: Optional[int] = None

    @property
    def role(self) -> Optional[str]:
        """``"leader"``, ``"follower"`` or ``"observer"`` while serving, else
        None."""
        return _ROLES.get(self.state) if self.serving else None
