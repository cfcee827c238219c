"""Recipes while the ensemble's leader is killed mid-test (kill -9 of a
`zkit member` process: fresh process-mode ensembles). The clients keep their
sessions across the election, so the recipes' guarantees must hold straight
through it."""

from __future__ import annotations

import json
import threading
from collections import Counter as Multiset
from typing import Any, Dict, List

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, ConnectionLoss, KazooException, NoNodeError
from kazoo.recipe.queue import LockingQueue

import zkit
from .zktools import (
    WAIT,
    CriticalSection,
    Leadership,
    LockWorkload,
    Seen,
    StateLog,
    Workers,
    connected_member,
    wait_leader,
    wait_until,
)


def kill_leader(ens: zkit.Ensemble) -> zkit.Member:
    """Kills the current leader; returns once another member leads."""
    old = wait_leader(ens)
    old.kill()
    wait_leader(ens, not_id=old.id)
    ens.wait_ready()
    return old


def rejoin(ens: zkit.Ensemble, member: zkit.Member) -> None:
    """Restarts a killed member; it must come back as a follower."""
    member.start()
    ens.wait_ready()
    assert member.role == "follower", f"member {member.id} rejoined as {member.role}"


def test_lock_exclusion_holds_through_leader_kills(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    zks = clients_on(ens, 4)
    work = LockWorkload(zks).start()
    work.wait_progress(15, "before the first kill")
    first = kill_leader(ens)
    work.wait_progress(15, "after the first leader was killed")
    rejoin(ens, first)
    second = kill_leader(ens)
    assert second.id != first.id
    work.wait_progress(15, "after the second leader was killed")
    rejoin(ens, second)
    total = work.stop_and_check(zks[0])
    assert total >= 45
    # The killed leaders caught up when they came back.
    for m in (first, second):
        pinned = clients_on(ens, 1, first=m.id - 1)[0]
        assert connected_member(ens, pinned).id == m.id
        pinned.sync("/counter")
        assert int(pinned.get("/counter")[0]) == total


def test_counter_loses_no_increment_when_leader_killed(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    zks = clients_on(ens, 4)
    logs = [StateLog(zk) for zk in zks]
    rounds = 40
    progress = threading.Semaphore(0)

    def worker(zk: KazooClient) -> None:
        counter = zk.Counter("/counter")
        for _ in range(rounds):
            counter += 1  # kazoo retries it across connection losses
            progress.release()

    w = Workers()
    for i, zk in enumerate(zks):
        w.spawn(f"c{i}", worker, zk)
    for _ in range(30):
        assert progress.acquire(timeout=20), "increments stalled before the kill"
    kill_leader(ens)
    w.join()
    zks[0].sync("/counter")
    value = zks[0].Counter("/counter").value
    # Every increment that returned was applied. One whose reply was lost
    # with the connection is retried and may count twice (kazoo's Counter
    # is not idempotent): at most one per client per disconnection.
    disconnections = sum(log.count("SUSPENDED") for log in logs)
    assert 4 * rounds <= value <= 4 * rounds + disconnections, (value, disconnections)


def test_compare_and_swap_transactions_exact_through_leader_kill(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    zks = clients_on(ens, 4)
    zks[0].create("/x", b"0")
    zks[0].create("/log")
    progress = threading.Semaphore(0)
    stop = threading.Event()
    committed: Dict[int, int] = {}

    def worker(i: int, zk: KazooClient) -> None:
        committed[i] = 0
        while not stop.is_set():
            data, stat = zk.retry(zk.get, "/x")
            t = zk.transaction()
            t.check("/x", stat.version)
            t.set_data("/x", str(int(data) + 1).encode())
            t.create("/log/e-", data, sequence=True)
            try:
                results = t.commit()
            except ConnectionLoss:
                continue  # applied or not: the next check decides
            if isinstance(results[0], BadVersionError):
                continue
            assert not any(isinstance(r, Exception) for r in results), results
            committed[i] += 1
            progress.release()

    w = Workers()
    for i, zk in enumerate(zks):
        w.spawn(f"t{i}", worker, i, zk)
    for _ in range(20):
        assert progress.acquire(timeout=20), "transactions stalled before the kill"
    kill_leader(ens)
    for _ in range(20):
        assert progress.acquire(timeout=20), "transactions stalled after the kill"
    stop.set()
    w.join()
    zks[1].sync("/x")
    final = int(zks[1].get("/x")[0])
    logged = sorted(int(zks[1].get(f"/log/{e}")[0]) for e in zks[1].get_children("/log"))
    # Each swap that happened wrote one log entry from a distinct value,
    # even those whose reply was lost: nothing half-applied, nothing twice.
    assert logged == list(range(final))
    assert final >= sum(committed.values())


def test_election_leader_keeps_leading_through_leader_kill(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    zks = clients_on(ens, 3)
    names = ["a", "b", "c"]
    board = Leadership(names)
    elections = [zk.Election("/election", n) for zk, n in zip(zks, names)]
    w = Workers()
    w.spawn("a", elections[0].run, board.lead, "a")
    assert board.wait_leader() == "a"
    for k, (e, n) in enumerate(zip(elections[1:], names[1:]), start=2):
        w.spawn(n, e.run, board.lead, n)
        wait_until(lambda: elections[0].contenders() == names[:k], f"{n} to join")
    logs = [StateLog(zk) for zk in zks]
    zks[0].retry(zks[0].sync, "/election")
    kill_leader(ens)
    # After the election every contender is still in line, in order.
    for zk in zks:
        zk.retry(zk.sync, "/election")
    assert elections[1].contenders() == names
    assert board.current == "a" and board.order == ["a"]
    assert not any(log.lost.is_set() for log in logs), "a session was lost"
    board.abdicate["a"].set()
    with board.cond:
        assert board.cond.wait_for(lambda: board.current == "b", 20), board.order
    board.abdicate["b"].set()
    board.abdicate["c"].set()
    w.join()
    assert board.order == names
    board.cs.assert_respected()


def test_config_readers_converge_through_leader_kill(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    zks = clients_on(ens, 5)
    writer, readers = zks[0], zks[1:]
    writer.create("/config", json.dumps({"seq": 0}).encode())
    seen = [Seen() for _ in readers]
    for zk, s in zip(readers, seen):
        zk.DataWatch("/config", s.add_config)
    last = 30
    for seq in range(1, last + 1):
        if seq == 15:
            kill_leader(ens)
        writer.retry(writer.set, "/config", json.dumps({"seq": seq}).encode())
    for i, s in enumerate(seen):
        s.wait_for(lambda items: bool(items) and items[-1] == last, f"reader {i} to converge")
        assert s.items == sorted(set(s.items)), f"reader {i} went back in time: {s.items}"


def test_semaphore_limit_holds_through_leader_kill(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    zks = clients_on(ens, 5)
    cs = CriticalSection(limit=2)
    progress = threading.Semaphore(0)
    stop = threading.Event()

    def worker(i: int, zk: KazooClient) -> None:
        sem = zk.Semaphore("/sem", f"s{i}", max_leases=2)
        while not stop.is_set():
            with sem:
                with cs.hold(f"s{i}"):
                    zk.retry(zk.get, "/")
            progress.release()

    w = Workers()
    for i, zk in enumerate(zks):
        w.spawn(f"s{i}", worker, i, zk)
    for _ in range(15):
        assert progress.acquire(timeout=20), "semaphore stalled before the kill"
    kill_leader(ens)
    for _ in range(15):
        assert progress.acquire(timeout=20), "semaphore stalled after the kill"
    stop.set()
    w.join()
    cs.assert_respected()
    assert cs.max_inside <= 2


def consume_settled(zk: KazooClient, queue: LockingQueue, path: str) -> None:
    """Consumes the entry `queue` (on `path`) holds, however often the
    connection drops.

    The consuming transaction deletes the entry and its lock node together;
    when its reply is lost with the connection, whether the entry is gone
    says whether it was applied (no one else can consume an entry locked
    by this session)."""
    assert queue.processing_element is not None
    entry = f"{path}/entries/{queue.processing_element[0]}"
    while True:
        try:
            if queue.consume():
                return
            raise AssertionError(f"{entry} was locked by this session, yet consume() refused it")
        except (ConnectionLoss, NoNodeError):
            zk.retry(zk.sync, path)
            if zk.retry(zk.exists, entry) is None:
                queue.processing_element = None
                return


def test_locking_queue_delivers_each_entry_once_through_leader_kill(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    zks = clients_on(ens, 4)
    producer, consumers = zks[0], zks[1:]  # consumers sit on members 2, 3 and 1: one is the leader
    jobs = [f"job-{i:03d}".encode() for i in range(90)]
    producer.LockingQueue("/lq").put_all(jobs)  # one transaction: all in, once
    logs = [StateLog(zk) for zk in consumers]
    delivered: List[bytes] = []
    guard = threading.Lock()
    progress = threading.Semaphore(0)
    stop = threading.Event()

    def consumer(zk: KazooClient) -> None:
        queue = zk.LockingQueue("/lq")
        while not stop.is_set():
            try:
                job = queue.get(timeout=0.2)
            except KazooException:
                continue  # the connection dropped while taking an entry
            if job is None:
                continue
            consume_settled(zk, queue, "/lq")
            with guard:
                delivered.append(job)
            progress.release()

    w = Workers()
    for i, zk in enumerate(consumers):
        w.spawn(f"q{i}", consumer, zk)
    for _ in range(20):
        assert progress.acquire(timeout=20), "consumers stalled before the kill"
    kill_leader(ens)
    for _ in range(20):
        assert progress.acquire(timeout=20), "consumers stalled after the kill"
    stop.set()
    w.join()
    assert any(log.count("SUSPENDED") for log in logs), "no consumer lost its connection: the kill tested nothing"
    # A take whose reply was lost leaves an entry locked by a live session;
    # closing the consumers frees those, and a last consumer drains the rest.
    for zk in consumers:
        zk.stop()
    producer.sync("/lq")
    drain = producer.LockingQueue("/lq")
    while len(drain):
        job = drain.get(timeout=WAIT)
        assert job is not None, "an entry stayed locked after every consumer left"
        assert drain.consume()
        delivered.append(job)
    twice = [j for j, n in Multiset(delivered).items() if n > 1]
    assert not twice, f"entries delivered more than once: {twice}"
    assert sorted(delivered) == jobs, f"entries lost: {sorted(set(jobs) - set(delivered))}"
