"""NonBlockingLease and MultiNonBlockingLease: several clients try at the
same moment; the lease goes to exactly as many as it allows. Time is a fake
clock the test moves (kazoo's `utcnow` hook), so nothing sleeps."""

from __future__ import annotations

import datetime
import threading
from typing import Callable, Dict, List, Set

from kazoo.client import KazooClient

from .zktools import Workers

Clients = Callable[..., List[KazooClient]]
MINUTE = datetime.timedelta(minutes=1)


class Clock:
    """A settable UTC clock (naive datetimes, as kazoo's utcnow)."""

    def __init__(self) -> None:
        self.now = datetime.datetime(2030, 1, 1, 12, 0, 0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime.datetime:
        with self._lock:
            return self.now

    def advance(self, by: datetime.timedelta) -> None:
        with self._lock:
            self.now += by


def contend(zks: Dict[str, KazooClient], make: Callable[[KazooClient, str], object]) -> Set[str]:
    """Every client (by name) tries at once, released together by a
    threading barrier; returns the names of those who obtained it."""
    start = threading.Barrier(len(zks))
    got: Dict[str, bool] = {}

    def attempt(name: str, zk: KazooClient) -> None:
        start.wait(10)
        got[name] = bool(make(zk, name))

    w = Workers()
    for name, zk in zks.items():
        w.spawn(name, attempt, name, zk)
    w.join()
    assert len(got) == len(zks)
    return {name for name, ok in got.items() if ok}


def test_non_blocking_lease_is_exclusive_renewable_and_expires(clients: Clients) -> None:
    zks = {f"h{i}": zk for i, zk in enumerate(clients(5))}
    clock = Clock()

    def lease(zk: KazooClient, ident: str) -> object:
        return zk.NonBlockingLease("/lease", MINUTE, identifier=ident, utcnow=clock)

    holders = contend(zks, lease)
    assert len(holders) == 1, f"the lease went to {sorted(holders)}"
    (holder,) = holders
    # Within its term only the holder gets it (a renewal)...
    clock.advance(datetime.timedelta(seconds=30))
    assert contend(zks, lease) == {holder}
    # ...the renewal extended the term past the first one's end...
    clock.advance(datetime.timedelta(seconds=45))
    assert contend(zks, lease) == {holder}
    # ...and once it has run out, exactly one client (any) takes over.
    clock.advance(2 * MINUTE)
    others = {name: zk for name, zk in zks.items() if name != holder}
    after = contend(others, lease)
    assert len(after) == 1, f"after expiry the lease went to {sorted(after)}"
    (new,) = after
    assert not lease(zks[holder], holder), "the old holder got the lease back within the new term"
    assert lease(zks[new], new)


def test_multi_non_blocking_lease_grants_count_leases(clients: Clients) -> None:
    zks = {f"h{i}": zk for i, zk in enumerate(clients(5))}
    clock = Clock()

    def lease(zk: KazooClient, ident: str) -> object:
        return zk.MultiNonBlockingLease(2, "/multi", MINUTE, identifier=ident, utcnow=clock)

    holders = contend(zks, lease)
    assert len(holders) == 2, f"2 leases went to {sorted(holders)}"
    clock.advance(datetime.timedelta(seconds=30))
    assert contend(zks, lease) == holders, "holders must renew, nobody else get in"
    clock.advance(3 * MINUTE)
    others = {name: zk for name, zk in zks.items() if name not in holders}
    taken = contend(others, lease)
    assert len(taken) == 2, f"after expiry 2 leases went to {sorted(taken)}"
    assert contend(zks, lease) == taken, "the new holders must keep their leases"
