"""A member partitioned from the others, then healed (in-process ensembles:
only they can cut links). A cut-off member stops serving after syncLimit
ticks; its clients move to the majority with their sessions; the majority
goes on (electing a new leader if the leader was cut off); once healed, the
member catches up. No write may be lost or applied twice on the way."""

from __future__ import annotations

import json
import time
from typing import Any

from .zktools import (
    WAIT,
    Leadership,
    LockWorkload,
    Seen,
    StateLog,
    Workers,
    connected_member,
    wait_connected_elsewhere,
    wait_event,
    wait_leader,
    wait_until,
)


def test_partitioned_follower_clients_move_keeping_session_and_lock(
    fresh: Any, clients_on: Any, zk_client_factory: Any
) -> None:
    ens = fresh()
    cut = ens.followers[0]
    holder = clients_on(ens, 1, first=cut.id - 1)[0]
    other = clients_on(ens, 1, first=wait_leader(ens).id - 1)[0]
    assert connected_member(ens, holder).id == cut.id
    lock = holder.Lock("/lock", "holder")
    assert lock.acquire(timeout=10)
    holder.create("/e", ephemeral=True)
    other.create("/cfg", b"v0")
    seen = Seen()
    holder.DataWatch("/cfg", lambda data, stat: seen.add(data))
    session = holder.client_id
    log = StateLog(holder)

    ens.partition(cut)
    wait_until(lambda: not cut.serving, f"member {cut.id} to stop serving once cut off")
    wait_connected_elsewhere(holder, cut.port, "the holder to move to the majority")
    wait_event(log.reconnected, "the holder to reconnect")
    assert holder.client_id == session and not log.lost.is_set()
    holder.retry(holder.sync, "/lock")
    assert lock.is_acquired and holder.retry(lock.contenders) == ["holder"]
    assert other.Lock("/lock", "other").acquire(blocking=False) is False, "the lock was taken from a live session"
    assert other.exists("/e") is not None
    other.set("/cfg", b"v1")
    seen.wait_for(lambda items: items[-1:] == [b"v1"], "the watch to fire through the new member")
    other.create("/during", b"written while member was cut off")

    ens.heal()
    ens.wait_ready()
    assert cut.serving
    pinned = zk_client_factory(ensemble=cut.address, chroot=False)
    pinned.sync("/")
    assert pinned.get("/during")[0] == b"written while member was cut off", "the healed member did not catch up"
    assert pinned.get("/cfg")[0] == b"v1"
    lock.release()


def test_partitioned_leader_is_replaced_and_exclusion_holds(fresh: Any, clients_on: Any, zk_client_factory: Any) -> None:
    ens = fresh()
    zks = clients_on(ens, 4)
    work = LockWorkload(zks).start()
    work.wait_progress(10, "before the partition")
    old = wait_leader(ens)
    ens.partition(old)
    new = wait_leader(ens, not_id=old.id)
    work.wait_progress(15, f"while the old leader {old.id} is cut off")
    assert not old.serving, "a cut-off leader still serves"
    ens.heal()
    ens.wait_ready()
    assert old.role == "follower", f"the old leader came back as {old.role}"
    assert ens.leader is not None and ens.leader.id == new.id
    work.wait_progress(10, "after healing")
    total = work.stop_and_check(zks[0])
    pinned = zk_client_factory(ensemble=old.address, chroot=False)
    pinned.sync("/counter")
    assert int(pinned.get("/counter")[0]) == total


def test_election_leader_keeps_leading_while_its_member_is_cut_off(fresh: Any, clients_on: Any) -> None:
    ens = fresh()
    zks = clients_on(ens, 3)
    names = ["a", "b", "c"]
    board = Leadership(names)
    elections = [zk.Election("/election", n) for zk, n in zip(zks, names)]
    w = Workers()
    for k, (e, n) in enumerate(zip(elections, names), start=1):
        w.spawn(n, e.run, board.lead, n)
        wait_until(lambda: elections[0].contenders() == names[:k], f"{n} to join")
    assert board.wait_leader() == "a"
    cut = connected_member(ens, zks[0])
    leader = wait_leader(ens)
    log = StateLog(zks[0])
    began = time.monotonic()
    ens.partition(cut)
    wait_connected_elsewhere(zks[0], cut.port, "a's client to move to the majority")
    moved = time.monotonic() - began
    for zk in zks:
        zk.retry(zk.sync, "/election")
    assert elections[1].contenders() == names, (
        f"a's session did not survive: cut member {cut.id} (leader {leader.id}), a moved after {moved:.2f}s, "
        f"a's states {log.states}, session 0x{zks[0].client_id[0]:x}"
    )
    assert board.order == ["a"] and board.current == "a"
    ens.heal()
    ens.wait_ready()
    board.abdicate["a"].set()
    with board.cond:
        assert board.cond.wait_for(lambda: board.current == "b", WAIT), board.order
    board.abdicate["b"].set()
    board.abdicate["c"].set()
    w.join()
    board.cs.assert_respected()
    assert board.order == names


def test_config_readers_converge_across_partition_and_heal(fresh: Any, clients_on: Any) -> None:
    ens = fresh()
    zks = clients_on(ens, 6)
    writer, readers = zks[0], zks[1:]
    writer.create("/config", json.dumps({"seq": 0}).encode())
    seen = [Seen() for _ in readers]
    for zk, s in zip(readers, seen):
        zk.DataWatch("/config", s.add_config)
    cut = ens.followers[0]
    last = 30
    for seq in range(1, last + 1):
        if seq == 10:
            ens.partition(cut)
        if seq == 20:
            wait_until(lambda: not cut.serving, "the cut-off member to stop serving")
            ens.heal()
        writer.retry(writer.set, "/config", json.dumps({"seq": seq}).encode())
    ens.wait_ready()
    for i, s in enumerate(seen):
        s.wait_for(lambda items: items[-1:] == [last], f"reader {i} to converge")
        assert s.items == sorted(set(s.items)), f"reader {i} went back in time: {s.items}"
