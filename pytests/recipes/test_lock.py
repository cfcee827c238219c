"""Lock, ReadLock / WriteLock and Semaphore, with several clients on
different members of the shared ensemble."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, List

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import CancelledError, LockTimeout

from .zktools import CriticalSection, Workers, wait_event, wait_until

Clients = Callable[..., List[KazooClient]]


def bump(zk: KazooClient, path: str) -> int:
    """A read-modify-write with no version check: correct only if no one
    else runs it at the same time (the lock is what makes it correct)."""
    value = int(zk.get(path)[0])
    zk.set(path, str(value + 1).encode())
    return value + 1


def test_lock_mutual_exclusion_under_contention(clients: Clients) -> None:
    zks = clients(5)
    zks[0].create("/counter", b"0")
    cs = CriticalSection()
    rounds = 8

    def worker(i: int, zk: KazooClient) -> None:
        lock = zk.Lock("/lock", f"w{i}")
        for _ in range(rounds):
            with lock:
                with cs.hold(f"w{i}"):
                    bump(zk, "/counter")

    w = Workers()
    for i, zk in enumerate(zks):
        w.spawn(f"w{i}", worker, i, zk)
    w.join()

    cs.assert_respected()
    assert cs.entries == 5 * rounds
    zks[1].sync("/counter")
    # A lost update would mean two clients read the same value: exclusion
    # failed somewhere, even if the detector above missed it.
    assert int(zks[1].get("/counter")[0]) == 5 * rounds
    zks[2].sync("/lock")
    assert zks[2].get_children("/lock") == [], "lock nodes left behind"


def test_lock_waiters_are_served_in_arrival_order(clients: Clients) -> None:
    zks = clients(4)
    holder = zks[0].Lock("/lock", "holder")
    assert holder.acquire(timeout=10)
    order: List[str] = []
    w = Workers()
    for i in (1, 2, 3):
        lock = zks[i].Lock("/lock", f"waiter{i}")

        def wait_turn(lock: Any = lock, name: str = f"waiter{i}") -> None:
            with lock:
                order.append(name)

        w.spawn(f"waiter{i}", wait_turn)
        # The next waiter queues only once this one is in line.
        wait_until(lambda: len(holder.contenders()) == i + 1, f"waiter{i} to queue")
    assert holder.contenders() == ["holder", "waiter1", "waiter2", "waiter3"]
    assert order == [], "a waiter got the lock while it was held"
    holder.release()
    w.join()
    assert order == ["waiter1", "waiter2", "waiter3"]


def test_lock_acquire_timeout(clients: Clients) -> None:
    a, b = clients(2)
    held = a.Lock("/lock", "a")
    assert held.acquire(timeout=10)
    contender = b.Lock("/lock", "b")
    began = time.monotonic()
    with pytest.raises(LockTimeout):
        contender.acquire(timeout=0.3)
    took = time.monotonic() - began
    assert 0.3 <= took < 10, f"acquire(timeout=0.3) gave up after {took:.2f}s"
    assert not contender.is_acquired
    # The timed-out contender withdrew its node: the holder is alone.
    assert len(b.get_children("/lock")) == 1
    assert held.contenders() == ["a"]
    assert not contender.acquire(blocking=False)
    held.release()
    assert contender.acquire(blocking=False), "free lock refused after a timeout"
    contender.release()


def test_lock_cancel_wakes_a_blocked_acquire(clients: Clients) -> None:
    a, b = clients(2)
    held = a.Lock("/lock", "a")
    assert held.acquire(timeout=10)
    blocked = b.Lock("/lock", "b")
    outcome: List[str] = []

    def acquire() -> None:
        try:
            blocked.acquire()
            outcome.append("acquired")
        except CancelledError:
            outcome.append("cancelled")

    w = Workers()
    w.spawn("blocked", acquire)
    wait_until(lambda: held.contenders() == ["a", "b"], "b to queue behind a")
    blocked.cancel()
    w.join(10)
    assert outcome == ["cancelled"]
    assert held.contenders() == ["a"], "the cancelled contender left its node"
    assert held.is_acquired
    held.release()
    assert blocked.acquire(timeout=10), "a cancelled Lock must be usable again"
    blocked.release()


def test_lock_is_not_reentrant(clients: Clients) -> None:
    a, b = clients(2)
    lock = a.Lock("/lock", "a")
    assert lock.acquire(timeout=10)
    # The same Lock object refuses to take the lock a second time...
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(timeout=0.2) is False
    # ...and so does another Lock on the same path, same session: ZooKeeper
    # locks belong to the lock node, not to the session or the thread.
    twin = a.Lock("/lock", "a-twin")
    assert twin.acquire(blocking=False) is False
    assert b.Lock("/lock", "b").acquire(blocking=False) is False
    # The refusals took nothing away and left nothing behind.
    assert lock.is_acquired
    assert lock.contenders() == ["a"]
    lock.release()
    assert not lock.is_acquired
    assert b.Lock("/lock", "b").acquire(blocking=False)


def test_read_locks_share_write_lock_excludes(clients: Clients) -> None:
    r1, r2, wr = clients(3)
    read1, read2 = r1.ReadLock("/rw", "r1"), r2.ReadLock("/rw", "r2")
    write = wr.WriteLock("/rw", "w")
    assert read1.acquire(timeout=10)
    assert read2.acquire(timeout=10), "two readers must share the lock"
    assert write.acquire(blocking=False) is False, "a writer got in beside readers"
    read1.release()
    assert write.acquire(blocking=False) is False, "a writer got in beside a reader"
    read2.release()
    assert write.acquire(timeout=10)
    assert read1.acquire(blocking=False) is False, "a reader got in beside the writer"
    assert r2.WriteLock("/rw", "w2").acquire(blocking=False) is False, "two writers"
    write.release()
    assert read1.acquire(timeout=10)
    read1.release()


def test_read_write_lock_invariant_under_contention(clients: Clients) -> None:
    zks = clients(6)
    zks[0].create("/value", b"0")
    readers = CriticalSection(limit=6)
    writers = CriticalSection(limit=1)
    mixed: List[str] = []
    guard = threading.Lock()
    rounds = 5

    def reader(i: int, zk: KazooClient) -> None:
        for _ in range(rounds):
            with zk.ReadLock("/rw", f"r{i}"):
                with readers.hold(f"r{i}"):
                    with guard:
                        if writers.inside:
                            mixed.append(f"r{i} with {writers.inside}")
                    zk.get("/value")

    def writer(i: int, zk: KazooClient) -> None:
        for _ in range(rounds):
            with zk.WriteLock("/rw", f"w{i}"):
                with writers.hold(f"w{i}"):
                    with guard:
                        if readers.inside:
                            mixed.append(f"w{i} with {readers.inside}")
                    bump(zk, "/value")

    w = Workers()
    for i, zk in enumerate(zks):
        if i < 4:
            w.spawn(f"r{i}", reader, i, zk)
        else:
            w.spawn(f"w{i}", writer, i, zk)
    w.join()
    writers.assert_respected()
    assert not mixed, f"readers and a writer inside together: {mixed[:3]}"
    zks[0].sync("/value")
    assert int(zks[0].get("/value")[0]) == 2 * rounds


def test_semaphore_never_exceeds_max_leases(clients: Clients) -> None:
    zks = clients(5)
    cs = CriticalSection(limit=2)
    holders_seen: List[int] = []
    rounds = 4

    def worker(i: int, zk: KazooClient) -> None:
        sem = zk.Semaphore("/sem", f"s{i}", max_leases=2)
        for _ in range(rounds):
            with sem:
                with cs.hold(f"s{i}"):
                    holders_seen.append(len(sem.lease_holders()))

    w = Workers()
    for i, zk in enumerate(zks):
        w.spawn(f"s{i}", worker, i, zk)
    w.join()
    cs.assert_respected()
    assert cs.entries == 5 * rounds
    assert max(holders_seen) <= 2, f"ZooKeeper listed {max(holders_seen)} lease holders"


def test_semaphore_blocks_at_capacity_and_hands_over(clients: Clients) -> None:
    a, b, c = clients(3)
    sa, sb = a.Semaphore("/sem", "a", max_leases=2), b.Semaphore("/sem", "b", max_leases=2)
    sc = c.Semaphore("/sem", "c", max_leases=2)
    assert sa.acquire(timeout=10) and sb.acquire(timeout=10)
    c.sync("/sem")  # a and b took their leases through other members
    assert sorted(sc.lease_holders()) == ["a", "b"]
    assert sc.acquire(blocking=False) is False
    with pytest.raises(LockTimeout):
        sc.acquire(timeout=0.3)
    got = threading.Event()

    def take() -> None:
        assert sc.acquire(timeout=15)
        got.set()

    w = Workers()
    w.spawn("c", take)
    assert not got.is_set()
    sa.release()
    wait_event(got, "c to get the lease a released")
    w.join(10)
    b.sync("/sem")
    assert sorted(sb.lease_holders()) == ["b", "c"]
    # Everyone must agree on the number of leases.
    with pytest.raises(ValueError):
        a.Semaphore("/sem", "x", max_leases=3).acquire(blocking=False)
    sb.release()
    sc.release()
