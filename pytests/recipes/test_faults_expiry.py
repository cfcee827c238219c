"""A session expired server-side (`ensemble.expire_session(client)`, as if
its client had gone quiet past its timeout): its ephemeral nodes vanish and
every recipe built on them moves on — the lock passes, the election moves,
the lease and the queue entry are freed, the set is repartitioned. Expiring
a session does not harm the ensemble, so these use the shared one."""

from __future__ import annotations

import threading
from typing import Callable, List

from kazoo.client import KazooClient

import zkit
from .partitioning import Partitioners
from .test_partitioner import ITEMS
from .zktools import WAIT, Leadership, Seen, StateLog, Workers, wait_event, wait_until

Clients = Callable[..., List[KazooClient]]


def expire(ens: zkit.Ensemble, zk: KazooClient) -> StateLog:
    """Expires zk's session and waits until kazoo reports it LOST (kazoo
    then starts a new session by itself)."""
    log = StateLog(zk)
    old = zk.client_id
    ens.expire_session(zk)
    # The client hears of it when it next talks to the ensemble.
    zk.exists_async("/")
    wait_event(log.lost, "kazoo to report the session LOST")
    wait_until(lambda: zk.connected and zk.client_id and zk.client_id[0] != old[0], "kazoo's new session")
    return log


def test_expired_session_loses_its_ephemerals(zk_ensemble: zkit.Ensemble, clients: Clients) -> None:
    a, b, c = clients(3)
    a.create("/e", b"a's", ephemeral=True)
    seq = a.create("/q/item-", ephemeral=True, sequence=True, makepath=True)
    a.Party("/party", "a").join()
    c.create("/c-e", ephemeral=True)
    b.sync("/")
    data, party = Seen(), Seen()
    b.DataWatch("/e", lambda d, stat: data.add(d))
    b.ChildrenWatch("/party", party.add)
    data.wait_for(lambda items: items == [b"a's"], "b's data watch to start")
    expire(zk_ensemble, a)
    data.wait_for(lambda items: items[-1:] == [None], "b to see /e deleted")
    party.wait_for(lambda items: items[-1:] == [[]], "b to see a leave the party")
    b.sync("/")
    assert b.exists(seq) is None
    assert b.exists("/c-e") is not None, "another session's ephemeral went too"
    # The client carries on in its new session.
    a.create("/e", b"again", ephemeral=True)
    data.wait_for(lambda items: items[-1:] == [b"again"], "b to see /e again")


def test_expired_lock_holder_passes_the_lock_on(zk_ensemble: zkit.Ensemble, clients: Clients) -> None:
    a, b, c = clients(3)
    held = a.Lock("/lock", "a")
    assert held.acquire(timeout=10)
    expiring = threading.Event()
    got: List[str] = []
    cond = threading.Condition()
    w = Workers()

    def wait_turn(zk: KazooClient, name: str, hold: threading.Event) -> None:
        with zk.Lock("/lock", name):
            with cond:
                got.append(name if expiring.is_set() else f"{name} before the expiry")
                cond.notify_all()
            hold.wait(WAIT)

    hold_b, hold_c = threading.Event(), threading.Event()
    w.spawn("b", wait_turn, b, "b", hold_b)
    wait_until(lambda: held.contenders() == ["a", "b"], "b to queue")
    w.spawn("c", wait_turn, c, "c", hold_c)
    wait_until(lambda: held.contenders() == ["a", "b", "c"], "c to queue")
    expiring.set()
    expire(zk_ensemble, a)
    with cond:
        assert cond.wait_for(lambda: got == ["b"], WAIT), f"the lock went to {got}"
    assert b.Lock("/lock").contenders() == ["b", "c"], "a's lock node outlived its session"
    hold_b.set()
    with cond:
        assert cond.wait_for(lambda: got == ["b", "c"], WAIT), got
    hold_c.set()
    w.join()


def test_expired_leader_election_moves(zk_ensemble: zkit.Ensemble, clients: Clients) -> None:
    zks = clients(3)
    names = ["a", "b", "c"]
    board = Leadership(names)
    elections = [zk.Election("/election", n) for zk, n in zip(zks, names)]
    # A leader steps down when its session is lost, as it must: it can no
    # longer know whether it still leads.
    lost_a = StateLog(zks[0])

    def step_down_when_lost() -> None:
        lost_a.lost.wait(WAIT)
        board.abdicate["a"].set()

    threading.Thread(target=step_down_when_lost, daemon=True).start()
    w = Workers()
    for k, (e, n) in enumerate(zip(elections, names), start=1):
        w.spawn(n, e.run, board.lead, n)
        wait_until(lambda: elections[0].contenders() == names[:k], f"{n} to join")
    assert board.wait_leader() == "a"
    zk_ensemble.expire_session(zks[0])
    zks[0].exists_async("/")
    with board.cond:
        assert board.cond.wait_for(lambda: board.order == ["a", "b"] and board.current == "b", WAIT), board.order
    wait_event(lost_a.lost, "the old leader to learn its session is gone")
    zks[1].sync("/election")
    assert elections[1].contenders() == ["b", "c"]
    board.abdicate["b"].set()
    board.abdicate["c"].set()
    w.join()
    assert board.order == names


def test_expired_semaphore_holder_frees_its_lease(zk_ensemble: zkit.Ensemble, clients: Clients) -> None:
    a, b, c = clients(3)
    sa, sb = a.Semaphore("/sem", "a", max_leases=2), b.Semaphore("/sem", "b", max_leases=2)
    assert sa.acquire(timeout=10) and sb.acquire(timeout=10)
    sc = c.Semaphore("/sem", "c", max_leases=2)
    got = threading.Event()
    w = Workers()

    def take() -> None:
        assert sc.acquire(timeout=WAIT)
        got.set()

    w.spawn("c", take)
    expire(zk_ensemble, a)
    wait_event(got, "c to get the lease a's session held")
    w.join()
    b.sync("/sem")
    assert sorted(sb.lease_holders()) == ["b", "c"]
    sb.release()
    sc.release()


def test_expired_consumer_returns_its_queue_entry(zk_ensemble: zkit.Ensemble, clients: Clients) -> None:
    a, b = clients(2)
    qa, qb = a.LockingQueue("/lq"), b.LockingQueue("/lq")
    qa.put(b"job-1")
    qa.put(b"job-2")
    assert qa.get(timeout=10) == b"job-1"
    assert qb.get(timeout=10) == b"job-2", "a locked entry was handed out twice"
    qb.release()
    entry = qa.processing_element[0]
    expire(zk_ensemble, a)
    b.sync("/lq")
    assert b.exists(f"/lq/taken/{entry}") is None, "the expired consumer's claim on job-1 outlived it"
    assert qb.get(timeout=10) == b"job-1", "the entry of the expired consumer was not handed out again"
    assert qb.consume()
    assert qb.get(timeout=10) == b"job-2"
    assert qb.consume()
    b.sync("/lq")
    assert len(qb) == 0


def test_expired_partitioner_member_is_repartitioned(zk_ensemble: zkit.Ensemble, clients: Clients) -> None:
    zks = clients(3)
    parts = Partitioners(ITEMS)
    try:
        for i, zk in enumerate(zks):
            parts.start(f"p{i}", zk)
        parts.wait_covering({"p0", "p1", "p2"})
        zk_ensemble.expire_session(zks[0])
        zks[0].exists_async("/")
        held = parts.wait_covering({"p1", "p2"})
        assert sorted(len(v) for v in held.values()) == [12, 12]
        with parts.cond:
            assert parts.cond.wait_for(lambda: "p0" in parts.failed, WAIT), "p0 did not see its session end"
    finally:
        parts.close()
