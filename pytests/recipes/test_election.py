"""Election, Party and ShallowParty with several clients on the shared
ensemble. (Elections moving when a session dies: test_faults_expiry.py.)"""

from __future__ import annotations

from typing import Callable, List

import pytest
from kazoo.client import KazooClient

from .zktools import Leadership, Workers, wait_until

Clients = Callable[..., List[KazooClient]]


def test_election_one_leader_at_a_time_in_queue_order(clients: Clients) -> None:
    zks = clients(4)
    names = [f"c{i}" for i in range(4)]
    board = Leadership(names)
    elections = [zk.Election("/election", name) for zk, name in zip(zks, names)]
    w = Workers()
    for e, name in zip(elections, names):
        w.spawn(name, e.run, board.lead, name)
    wait_until(lambda: len(elections[0].contenders()) == 4, "all four contenders to join")
    zks[1].sync("/election")  # the others joined through other members
    queue = elections[1].contenders()
    assert sorted(queue) == names
    for expected in queue:
        leader = board.wait_leader()
        assert leader == expected, f"{leader} leads, but {expected} is first in line {queue}"
        for zk, e in zip(zks, elections):
            zk.sync("/election")
            assert e.contenders()[0] == leader, "a client sees another leader"
        board.abdicate[leader].set()
        with board.cond:
            assert board.cond.wait_for(lambda: board.current != leader, 20), f"{leader} did not step down"
    w.join()
    board.cs.assert_respected()
    assert board.order == queue
    zks[0].sync("/election")
    assert elections[0].contenders() == []


def test_election_cancelled_contender_never_leads(clients: Clients) -> None:
    a, b, c = clients(3)
    board = Leadership(["a", "b", "c"])
    ea, eb, ec = a.Election("/election", "a"), b.Election("/election", "b"), c.Election("/election", "c")
    w = Workers()
    w.spawn("a", ea.run, board.lead, "a")
    assert board.wait_leader() == "a"
    w.spawn("b", eb.run, board.lead, "b")
    wait_until(lambda: ea.contenders() == ["a", "b"], "b to join")
    w.spawn("c", ec.run, board.lead, "c")
    wait_until(lambda: ea.contenders() == ["a", "b", "c"], "c to join")
    eb.cancel()
    wait_until(lambda: ea.contenders() == ["a", "c"], "b to withdraw")
    board.abdicate["a"].set()
    with board.cond:
        assert board.cond.wait_for(lambda: board.current == "c", 20), f"c did not take over: {board.order}"
    board.abdicate["c"].set()
    w.join()
    assert board.order == ["a", "c"]
    board.cs.assert_respected()


@pytest.mark.parametrize("kind", ["Party", "ShallowParty"])
def test_party_membership_is_seen_by_every_client(clients: Clients, kind: str) -> None:
    zks = clients(6)
    watcher = zks[5]
    members = zks[:5]
    parties = [getattr(zk, kind)("/party", f"m{i}") for i, zk in enumerate(members)]
    view = getattr(watcher, kind)("/party")

    def seen() -> List[str]:
        watcher.sync("/party")
        return sorted(view)

    w = Workers()
    for i, p in enumerate(parties):
        w.spawn(f"m{i}", p.join)
    w.join()
    assert seen() == [f"m{i}" for i in range(5)]
    assert len(view) == 5
    # Joining twice is idempotent.
    parties[0].join()
    assert len(parties[0]) == 5
    for i in (1, 3):
        parties[i].leave()
    assert seen() == ["m0", "m2", "m4"]
    # Every member, on its own member server, agrees after a sync.
    for zk, p in zip(members, parties):
        zk.sync("/party")
        assert sorted(p) == ["m0", "m2", "m4"]
    # A member that closes its session leaves the party by itself.
    members[4].stop()
    assert seen() == ["m0", "m2"]
