"""The member a client is connected to is killed (kill -9 of a `zkit member`
process: process-mode ensembles). kazoo moves to another member and keeps
its session, and with it its watches, its ephemeral nodes and the locks
and leaderships built on them."""

from __future__ import annotations

import threading
from typing import Any

from kazoo.recipe.cache import TreeCache, TreeEvent

from .zktools import (
    WAIT,
    Leadership,
    Seen,
    StateLog,
    Workers,
    cache_snapshot,
    connected_member,
    tree,
    wait_connected_elsewhere,
    wait_event,
    wait_until,
)


def test_session_watches_and_ephemerals_survive_member_kill(fresh: Any, clients_on: Any, zk_client_factory: Any) -> None:
    ens = fresh(mode="process")
    a, b = clients_on(ens, 2)
    a.create("/data", b"v0")
    a.create("/kids")
    a.create("/e", b"mine", ephemeral=True)
    a.Party("/party", "a").join()
    data_seen, kids_seen = Seen(), Seen()
    a.DataWatch("/data", lambda data, stat: data_seen.add(data))
    a.ChildrenWatch("/kids", kids_seen.add_sorted)
    session = a.client_id
    log = StateLog(a)

    victim = connected_member(ens, a)
    assert connected_member(ens, b).id != victim.id
    victim.kill()
    wait_connected_elsewhere(a, victim.port, "kazoo to move to another member")
    wait_event(log.reconnected, "kazoo to report CONNECTED again")
    assert a.client_id == session, "kazoo got a new session: the old one was lost"
    assert not log.lost.is_set(), log.states

    b.retry(b.sync, "/")
    stat = b.retry(b.exists, "/e")
    assert stat is not None and stat.ephemeralOwner == session[0], "the ephemeral node went with the member"
    assert list(b.Party("/party")) == ["a"]
    # The watches set through the dead member fire through the new one.
    b.retry(b.set, "/data", b"v1")
    data_seen.wait_for(lambda items: items[-1:] == [b"v1"], "the data watch to fire after the move")
    b.retry(b.create, "/kids/k1")
    kids_seen.wait_for(lambda items: items[-1:] == [["k1"]], "the children watch to fire after the move")

    # The killed member recovers its data and serves it.
    victim.start()
    ens.wait_ready()
    on_victim = zk_client_factory(ensemble=victim.address, chroot=False)
    on_victim.sync("/")
    assert on_victim.get("/data")[0] == b"v1" and on_victim.exists("/e") is not None
    a.stop()
    on_victim.sync("/")
    assert on_victim.exists("/e") is None, "closing the session must remove its ephemeral node"


def test_lock_holder_keeps_lock_when_its_member_dies(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    holder, waiter = clients_on(ens, 2)
    held = holder.Lock("/lock", "holder")
    assert held.acquire(timeout=10)
    released = threading.Event()
    got = threading.Event()
    early = []

    def wait_turn() -> None:
        with waiter.Lock("/lock", "waiter"):
            if not released.is_set():
                early.append("the waiter got the lock while the holder held it")
            got.set()

    w = Workers()
    w.spawn("waiter", wait_turn)
    wait_until(lambda: held.contenders() == ["holder", "waiter"], "the waiter to queue")
    victim = connected_member(ens, holder)
    victim.kill()
    wait_connected_elsewhere(holder, victim.port, "the holder to move to another member")
    ens.wait_ready()
    holder.retry(holder.sync, "/lock")
    assert held.is_acquired
    assert holder.retry(held.contenders) == ["holder", "waiter"], "the holder's lock node was lost"
    assert not got.is_set(), "the waiter got the lock while the holder held it"
    released.set()
    held.release()
    wait_event(got, "the waiter to get the lock once released")
    w.join()
    assert not early


def test_election_leader_survives_its_member_kill(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    zks = clients_on(ens, 3)
    names = ["a", "b", "c"]
    board = Leadership(names)
    elections = [zk.Election("/election", n) for zk, n in zip(zks, names)]
    w = Workers()
    for k, (e, n) in enumerate(zip(elections, names), start=1):
        w.spawn(n, e.run, board.lead, n)
        wait_until(lambda: elections[0].contenders() == names[:k], f"{n} to join")
    assert board.wait_leader() == "a"
    victim = connected_member(ens, zks[0])
    victim.kill()
    wait_connected_elsewhere(zks[0], victim.port, "the leader's client to move")
    ens.wait_ready()
    for zk in zks:
        zk.retry(zk.sync, "/election")
    assert elections[2].contenders() == names, "the election lost a contender"
    assert board.current == "a" and board.order == ["a"], "leadership moved though no session died"
    board.abdicate["a"].set()
    with board.cond:
        assert board.cond.wait_for(lambda: board.current == "b", WAIT), board.order
    board.abdicate["b"].set()
    board.abdicate["c"].set()
    w.join()
    board.cs.assert_respected()
    assert board.order == names


def test_tree_cache_catches_up_after_its_member_dies(fresh: Any, clients_on: Any) -> None:
    ens = fresh(mode="process")
    cacher, writer = clients_on(ens, 2)
    writer.create("/tree/a", b"1", makepath=True)
    cacher.sync("/tree")
    cache = TreeCache(cacher, "/tree")
    events = Seen()
    cache.listen(events.add)
    cache.start()
    try:
        events.wait_for(lambda items: any(e.event_type == TreeEvent.INITIALIZED for e in items), "the cache to load")
        victim = connected_member(ens, cacher)
        if victim.id == connected_member(ens, writer).id:
            raise AssertionError("the two clients should sit on different members")
        victim.kill()
        # Changes while the cache's client is moving to another member.
        writer.retry(writer.set, "/tree/a", b"2")
        writer.retry(writer.create, "/tree/b/c", b"3", makepath=True)
        writer.retry(writer.delete, "/tree/a")
        wait_connected_elsewhere(cacher, victim.port, "the cache's client to move")
        writer.retry(writer.sync, "/tree")
        actual = writer.retry(tree, writer, "/tree")
        assert actual == {"": b"", "/b": b"", "/b/c": b"3"}
        events.wait_for(lambda _items: cache_snapshot(cache, "/tree") == actual, "the cache to catch up")
        removed = [e.event_data.path for e in events.items if e.event_type == TreeEvent.NODE_REMOVED]
        assert removed == ["/tree/a"]
    finally:
        cache.close()
