"""Barrier and DoubleBarrier with several clients on the shared ensemble."""

from __future__ import annotations

import threading
from typing import Callable, Dict, List

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from .zktools import Workers, wait_event, wait_until

Clients = Callable[..., List[KazooClient]]


def test_barrier_holds_every_waiter_until_removed(clients: Clients) -> None:
    zks = clients(5)
    controller, waiters = zks[0], zks[1:]
    controller.Barrier("/barrier").create()
    removing = threading.Event()
    passed: Dict[str, bool] = {}
    watching = [threading.Event() for _ in waiters]

    def wait(i: int, zk: KazooClient) -> None:
        barrier = zk.Barrier("/barrier")
        # A bounded wait times out while the barrier stands...
        assert barrier.wait(timeout=0.05) is False
        watching[i].set()
        assert barrier.wait(timeout=20) is True
        passed[f"w{i}"] = removing.is_set()

    w = Workers()
    for i, zk in enumerate(waiters):
        w.spawn(f"w{i}", wait, i, zk)
    for i, ev in enumerate(watching):
        wait_event(ev, f"waiter {i} to reach the barrier")
    assert passed == {}, f"waiters passed a standing barrier: {passed}"
    removing.set()
    assert controller.Barrier("/barrier").remove() is True
    w.join()
    assert passed == {f"w{i}": True for i in range(4)}, f"passed before removal: {passed}"
    # A removed barrier does not block, and removing it again says so.
    assert waiters[0].Barrier("/barrier").wait(timeout=1) is True
    assert controller.Barrier("/barrier").remove() is False


def test_double_barrier_enters_and_leaves_together(clients: Clients) -> None:
    n = 4
    zks = clients(n)
    barriers = [zk.DoubleBarrier("/double", n, f"p{i}") for i, zk in enumerate(zks)]
    lock = threading.Lock()
    entering: List[int] = []
    leaving: List[int] = []
    seen_at_enter: Dict[int, int] = {}
    seen_at_leave: Dict[int, int] = {}
    entered = [threading.Event() for _ in range(n)]
    go_leave = [threading.Event() for _ in range(n)]

    def participant(i: int) -> None:
        with lock:
            entering.append(i)
        barriers[i].enter()
        assert barriers[i].participating, f"p{i} failed to enter"
        with lock:
            seen_at_enter[i] = len(entering)
        entered[i].set()
        assert go_leave[i].wait(30)
        with lock:
            leaving.append(i)
        barriers[i].leave()
        with lock:
            seen_at_leave[i] = len(leaving)

    watcher = zks[0]
    w = Workers()
    # Three enter and block: their nodes are there, nobody is through.
    for i in range(n - 1):
        w.spawn(f"p{i}", participant, i)

    def nodes() -> List[str]:
        watcher.sync("/double")
        try:
            children = watcher.get_children("/double")
        except NoNodeError:  # the first participant has not created it yet
            return []
        return sorted(c for c in children if c != "ready")

    wait_until(lambda: len(nodes()) == n - 1, "three participants to enter")
    assert not seen_at_enter, f"entered with {n - 1} of {n}: {seen_at_enter}"
    w.spawn(f"p{n - 1}", participant, n - 1)
    for i, ev in enumerate(entered):
        wait_event(ev, f"p{i} to pass the entry barrier")
    assert seen_at_enter == {i: n for i in range(n)}, f"someone entered early: {seen_at_enter}"

    # Three leave and block until the last one leaves too.
    last = n - 1
    for i in range(n - 1):
        go_leave[i].set()
    # Leaving, each node but the lowest goes at once; the lowest waits
    # for the others. What stays is the lowest and the last one's node.
    lowest = min(b.node_name for b in barriers)
    expect = sorted({lowest, barriers[last].node_name})
    wait_until(lambda: nodes() == expect, "the first three to start leaving")
    assert not seen_at_leave, f"left while p{last} was still in: {seen_at_leave}"
    go_leave[last].set()
    w.join()
    assert seen_at_leave == {i: n for i in range(n)}, f"someone left early: {seen_at_leave}"
    assert nodes() == []
