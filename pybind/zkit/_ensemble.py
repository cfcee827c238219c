"""zkit.Ensemble and zkit.Member: the public API."""

from __future__ import annotations

import os
import weakref
from typing import Any, List, Optional, Tuple, Union

from . import _logs
from ._errors import ZkitError
from ._status import MemberStatus

__all__ = ["Ensemble", "Member", "MODES"]

#: The ways an ensemble can run.
MODES = ("inprocess", "process")

MemberRef = Union["Member", int]


def _close_backend(backend: Any, owner_pid: int) -> None:
    """Closes a backend when its Ensemble is closed, collected or the
    interpreter exits — never in a forked child (the parent owns it)."""
    if os.getpid() != owner_pid:
        return
    try:
        backend.close()
    except Exception:
        pass


class Member:
    """One member of an :class:`Ensemble` (get them from ``Ensemble.members``).

    ``id`` is the member's server id (myid, the N of ``server.N``): voters
    are 1..size, observers size+1..size+observers. ``Ensemble.members[i]`` is
    the member with id ``i + 1``. Its client address stays the same across
    stops, kills and restarts.

    Properties that describe the member's state (``state``, ``role``,
    ``zxid`` ...) ask it afresh on every access; :meth:`status` returns them
    all at one moment.
    """

    def __init__(self, ensemble: "Ensemble", member_id: int, observer: bool, address: str) -> None:
        self._ensemble = ensemble
        self._id = member_id
        self._observer = observer
        self._address = address

    @property
    def id(self) -> int:
        """The server id (myid): 1..size for voters, then the observers."""
        return self._id

    @property
    def observer(self) -> bool:
        """Whether this member is configured as an observer (a non-voting
        member that serves clients)."""
        return self._observer

    @property
    def ensemble(self) -> "Ensemble":
        """The ensemble this member belongs to."""
        return self._ensemble

    @property
    def address(self) -> str:
        """The client address, ``"127.0.0.1:40123"`` — a connect string of
        this member alone."""
        return self._address

    @property
    def host(self) -> str:
        """The host part of :attr:`address`."""
        return self._address.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        """The client port."""
        return int(self._address.rpartition(":")[2])

    def status(self) -> MemberStatus:
        """Everything about the member's state, at one moment."""
        st: MemberStatus = self._ensemble._backend_checked().member_status(self._id)
        return st

    @property
    def state(self) -> str:
        """``"leading"``, ``"following"``, ``"observing"``, ``"looking"``
        (electing or syncing), ``"stopped"`` or, in process mode after
        :meth:`pause`, ``"paused"``."""
        return self.status().state

    @property
    def role(self) -> Optional[str]:
        """``"leader"``, ``"follower"`` or ``"observer"`` while the member
        serves clients; None while it looks for a leader or is stopped."""
        return self.status().role

    @property
    def running(self) -> bool:
        """Whether the member's server runs (False once stopped or killed)."""
        return self.status().running

    @property
    def serving(self) -> bool:
        """Whether the member serves clients (is synced with a leader)."""
        return self.status().serving

    @property
    def zxid(self) -> Optional[int]:
        """The last transaction id the member applied (``epoch << 32 |
        counter``); None while stopped (and, in process mode, while looking)."""
        return self.status().zxid

    @property
    def epoch(self) -> Optional[int]:
        """The epoch the member leads or follows; None when unknown."""
        return self.status().epoch

    @property
    def pid(self) -> Optional[int]:
        """The member's process id in process mode while it runs; None in
        process mode while stopped and always in-process."""
        return self.status().pid

    def stop(self) -> None:
        """Stops the member cleanly: it closes its clients' connections and
        keeps everything it logged."""
        self._ensemble._backend_checked().member_op(self._id, "stop")

    def start(self) -> None:
        """Starts a stopped or killed member again, from its data, on the
        same ports. Returns once it runs; it then rejoins the ensemble (see
        :meth:`Ensemble.wait_ready`). Starting a running member does
        nothing."""
        self._ensemble._backend_checked().member_op(self._id, "start")

    def kill(self) -> None:
        """Crashes the member. In process mode this is ``kill -9``. In-process
        with in-memory data, what it had not synced is lost, as on a power
        failure; with a ``data_dir`` it stops at once."""
        self._ensemble._backend_checked().member_op(self._id, "kill")

    def restart(self) -> None:
        """Stops the member cleanly and starts it again (see :meth:`start`)."""
        self._ensemble._backend_checked().member_op(self._id, "restart")

    def pause(self) -> None:
        """Freezes the member's process (SIGSTOP): its connections stay open
        but nothing answers, like a long GC pause. Process mode only."""
        self._ensemble._pause(self._id, "pause")

    def resume(self) -> None:
        """Lets a paused member run again (SIGCONT). Process mode only."""
        self._ensemble._pause(self._id, "resume")

    def partition(self) -> None:
        """Cuts this member off from the others (see :meth:`Ensemble.partition`)."""
        self._ensemble.partition(self)

    def __repr__(self) -> str:
        kind = "observer" if self._observer else "voter"
        return f"<zkit.Member id={self._id} {kind} {self._address}>"


class Ensemble:
    """A running ZooKeeper-compatible ensemble on loopback, for tests.

    ::

        with zkit.Ensemble(3) as ens:
            zk = KazooClient(hosts=ens.hosts); zk.start()
            ens.leader.kill()            # a new leader is elected
            ens.wait_ready()

    Args:
        size: voting members (1 gives a one-member ensemble).
        observers: observers, after the voters (ids size+1...).
        mode: ``"inprocess"`` (default): members run inside this process
            in the Go runtime of the bundled libzkit — fastest, and
            supports :meth:`partition`. ``"process"``: each member is a
            subprocess of the bundled ``zkit`` binary — :meth:`Member.kill` is
            a real ``kill -9`` and a restart recovers from disk.
        tick_time_ms: ZooKeeper's tickTime. Session timeouts are bounded to
            2..20 ticks (with the default 200 ms: 0.4 s to 4 s), and a
            member that goes unheard for ``sync_limit`` ticks is dropped.
        init_limit, sync_limit: in ticks, as in zoo.cfg.
        data_dir: where members keep their data (``member-<id>/`` inside).
            None keeps it in memory in-process (a killed member loses what
            it had not synced) and in a temporary directory, removed on
            close, in process mode.
        host: the loopback address to bind.
        extended_types: enable TTL nodes (``extendedTypesEnabled``).
        container_check_interval_ms: how often empty containers and expired
            TTL nodes are reaped (default: 1000 in-process, 60000 in
            process mode, as ZooKeeper's ``znode.container.checkIntervalMs``).
        no_sync: skip fsyncs of the transaction log (``forceSync=no``). Only
            for disk data: with in-memory data a killed member would lose
            everything.
        read_only: a member cut off from the quorum keeps serving clients
            that allow read-only mode (``readonlymode.enabled``; kazoo:
            ``KazooClient(read_only=True)``), with state ``"looking"`` and
            ``srvr`` Mode ``read-only``.
        super_digest: ``DigestAuthenticationProvider.superDigest``,
            ``"super:<base64 sha1>"`` (make one with kazoo's
            ``make_digest_acl_credential("super", password)``): a client
            that adds auth ``digest`` ``super:<password>`` passes every ACL
            check. None (default): no super user.
        log_level: the level of Go records forwarded to the ``"zkit"``
            logger ("debug", "info", "warn", "error" or a ``logging``
            level); default: the ``"zkit"`` logger's effective level when
            the ensemble starts.
        ready_timeout: seconds to wait until a leader is elected and every
            member serves (:meth:`wait_ready`); None returns as soon as the
            members run.

    Every port is bound by its server on port 0 and reported back: no
    pick-then-bind race, and any number of ensembles (pytest-xdist workers)
    can run side by side.

    Raises:
        ZkitError: on any failure, with the reason.
    """

    def __init__(
        self,
        size: int = 3,
        observers: int = 0,
        *,
        mode: str = "inprocess",
        tick_time_ms: int = 200,
        init_limit: int = 10,
        sync_limit: int = 5,
        data_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
        host: str = "127.0.0.1",
        extended_types: bool = False,
        container_check_interval_ms: Optional[int] = None,
        no_sync: bool = False,
        read_only: bool = False,
        super_digest: Optional[str] = None,
        log_level: Optional[Union[str, int]] = None,
        ready_timeout: Optional[float] = 30.0,
    ) -> None:
        if mode not in MODES:
            raise ZkitError(f"zkit: mode {mode!r}: want one of {', '.join(MODES)}")
        for name, value, least in (
            ("size", size, 1),
            ("observers", observers, 0),
            ("tick_time_ms", tick_time_ms, 1),
            ("init_limit", init_limit, 1),
            ("sync_limit", sync_limit, 1),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ZkitError(f"zkit: {name} must be an integer >= {least}, not {value!r}")
        if super_digest is not None and (not isinstance(super_digest, str) or ":" not in super_digest):
            raise ZkitError(f"zkit: super_digest wants 'user:<base64 sha1>', not {super_digest!r}")
        if container_check_interval_ms is not None and (
            not isinstance(container_check_interval_ms, int)
            or isinstance(container_check_interval_ms, bool)
            or container_check_interval_ms < 1
        ):
            raise ZkitError(
                f"zkit: container_check_interval_ms must be an integer >= 1, not {container_check_interval_ms!r}"
            )
        level = _level_name(log_level)
        self._pid = os.getpid()
        self._mode = mode
        self._closed = False
        self._data_dir = os.fspath(data_dir) if data_dir is not None else None
        self._backend: Any
        if mode == "inprocess":
            from ._inprocess import InProcessBackend

            config = {
                "size": size,
                "observers": observers,
                "tick_time_ms": tick_time_ms,
                "init_limit": init_limit,
                "sync_limit": sync_limit,
                "data_dir": self._data_dir or "",
                "host": host,
                "extended_types": extended_types,
                "container_check_interval_ms": container_check_interval_ms or 0,
                "no_sync": no_sync,
                "read_only": read_only,
                "super_digest": super_digest or "",
                "log_level": level,
            }
            self._backend = InProcessBackend(config)
        else:
            from ._process import ProcessBackend

            self._backend = ProcessBackend(
                size=size,
                observers=observers,
                tick_time_ms=tick_time_ms,
                init_limit=init_limit,
                sync_limit=sync_limit,
                data_dir=self._data_dir,
                host=host,
                extended_types=extended_types,
                no_sync=no_sync,
                read_only=read_only,
                container_check_interval_ms=container_check_interval_ms,
                super_digest=super_digest,
                log_level=level,
                start_timeout=ready_timeout if ready_timeout else 30.0,
            )
        self._finalizer = weakref.finalize(self, _close_backend, self._backend, self._pid)
        try:
            statuses = self._backend.status()
            self._members: Tuple[Member, ...] = tuple(Member(self, s.id, s.observer, s.address) for s in statuses)
            if ready_timeout is not None:
                self.wait_ready(ready_timeout)
        except BaseException:
            self.close()
            raise

    # -- context manager --------------------------------------------------

    def __enter__(self) -> "Ensemble":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- description ------------------------------------------------------

    @property
    def mode(self) -> str:
        """``"inprocess"`` or ``"process"``."""
        return self._mode

    @property
    def hosts(self) -> str:
        """The connect string, ``"127.0.0.1:p1,127.0.0.1:p2,..."``, for
        ``KazooClient(hosts=...)`` or any ZooKeeper client."""
        return str(self._backend.hosts)

    @property
    def data_dir(self) -> Optional[str]:
        """The ``data_dir`` given, or None."""
        return self._data_dir

    @property
    def members(self) -> Tuple[Member, ...]:
        """Every member, voters first: ``members[i].id == i + 1``."""
        return self._members

    @property
    def voters(self) -> Tuple[Member, ...]:
        """The voting members."""
        return tuple(m for m in self._members if not m.observer)

    @property
    def observers(self) -> Tuple[Member, ...]:
        """The observers."""
        return tuple(m for m in self._members if m.observer)

    def member(self, member_id: int) -> Member:
        """The member with this server id (1-based, like myid)."""
        for m in self._members:
            if m.id == member_id:
                return m
        raise ZkitError(f"zkit: no member with id {member_id!r} (ids are 1..{len(self._members)})")

    def status(self) -> List[MemberStatus]:
        """Every member's state, voters first."""
        return list(self._backend_checked().status())

    @property
    def leader(self) -> Optional[Member]:
        """The member leading right now, or None (during an election, or
        without a quorum)."""
        for s in self._backend_checked().status():
            if s.state == "leading" and s.serving:
                return self.member(s.id)
        return None

    @property
    def followers(self) -> List[Member]:
        """The voters following a leader right now."""
        return [self.member(s.id) for s in self._backend_checked().status() if s.state == "following"]

    # -- faults -------------------------------------------------------------

    def partition(self, member: MemberRef) -> None:
        """Cuts ``member`` (a :class:`Member` or a server id) off from every
        other member, both ways; its clients stay connected to it. A
        partitioned follower stops serving after ``sync_limit`` ticks; a
        partitioned leader loses its quorum. Partitions add up until
        :meth:`heal`. In-process mode only (process mode raises
        :class:`ZkitError`)."""
        self._backend_checked().partition(self._id_of(member))

    def heal(self) -> None:
        """Ends every partition (in process mode, where there are none, does
        nothing)."""
        self._backend_checked().heal()

    def expire_session(self, session: Any, password: Optional[bytes] = None) -> None:
        """Expires a client's session server-side, as if its timeout had
        passed: its ephemeral nodes go, its watches end, and the client is
        told ``EXPIRED`` (kazoo: state ``LOST``) when it next talks to the
        ensemble.

        ``session`` is a client with a ``client_id`` attribute (a connected
        ``KazooClient``) or a session id (``KazooClient.client_id[0]``).
        In process mode a bare id also needs the session's ``password``
        (the session is taken over and closed, as kazoo's own harness does);
        in-process the id is enough. In-process the expiry is queued when
        this returns; in process mode it has happened.
        """
        backend = self._backend_checked()
        client_id = getattr(session, "client_id", None)
        if client_id is not None or hasattr(session, "client_id"):
            if not client_id:
                raise ZkitError("zkit: that client has no session (is it connected?)")
            session_id, password = client_id[0], bytes(client_id[1])
        elif isinstance(session, int) and not isinstance(session, bool):
            session_id = session
        else:
            raise ZkitError(f"zkit: expire_session wants a session id or a client, not {session!r}")
        backend.expire_session(session_id & 0xFFFFFFFFFFFFFFFF, password)

    # -- lifecycle ----------------------------------------------------------

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Waits until one member leads and every running member serves.

        Raises:
            ZkitError: if that does not happen within ``timeout`` seconds
                (the message lists each member's state).
        """
        self._backend_checked().wait_ready(timeout)

    def close(self) -> None:
        """Stops every member and releases their data (in memory, or the
        temporary directory of process mode; a ``data_dir`` given stays).
        Closing twice is fine."""
        if self._closed:
            return
        self._closed = True
        if os.getpid() != self._pid:
            return  # a forked child: the ensemble belongs to the parent
        self._finalizer.detach()
        self._backend.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    # -- internals ----------------------------------------------------------

    def _backend_checked(self) -> Any:
        if os.getpid() != self._pid:
            from . import _native

            if self._mode == "inprocess":
                raise ZkitError(_native.FORK_MESSAGE)
            raise ZkitError(
                f"zkit: this ensemble belongs to process {self._pid}; a forked child cannot "
                "control it (create ensembles in the child instead)"
            )
        if self._closed:
            raise ZkitError("zkit: the ensemble is closed")
        return self._backend

    def _id_of(self, member: MemberRef) -> int:
        if isinstance(member, Member):
            if member.ensemble is not self:
                raise ZkitError(f"zkit: {member!r} belongs to another ensemble")
            return member.id
        if isinstance(member, int) and not isinstance(member, bool):
            return self.member(member).id
        raise ZkitError(f"zkit: want a Member or a server id, not {member!r}")

    def _pause(self, member_id: int, op: str) -> None:
        backend = self._backend_checked()
        if self._mode != "process":
            raise ZkitError(f"zkit: {op}() needs mode='process' (it stops the member's process)")
        backend.member_op(member_id, op)

    def __repr__(self) -> str:
        state = "closed" if self._closed else self.hosts
        return (
            f"<zkit.Ensemble {self._mode} {len(self._members) if hasattr(self, '_members') else '?'} members {state}>"
        )


def _level_name(level: Optional[Union[str, int]]) -> str:
    if level is None:
        return _logs.go_level_name()
    if isinstance(level, int):
        return _logs.go_level_name(level)
    name = str(level).lower()
    if name == "warning":
        name = "warn"
    if name not in ("debug", "info", "warn", "error"):
        raise ZkitError(f"zkit: log_level {level!r}: want debug, info, warn or error")
    return name
