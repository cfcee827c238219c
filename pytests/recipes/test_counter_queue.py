"""Counter, Queue and LockingQueue with several clients on the shared
ensemble: concurrent increments are exact, queued items are neither lost
nor delivered twice."""

from __future__ import annotations

import threading
from collections import Counter as Multiset
from typing import Callable, Dict, List, Tuple

import pytest
from kazoo.client import KazooClient

from .zktools import Workers

Clients = Callable[..., List[KazooClient]]


def test_counter_concurrent_increments_are_exact(clients: Clients) -> None:
    zks = clients(5)
    rounds = 20
    posts: Dict[int, List[int]] = {}

    def worker(i: int, zk: KazooClient) -> None:
        counter = zk.Counter("/counter")
        mine: List[int] = []
        for _ in range(rounds):
            counter += 1
            assert counter.post_value == counter.pre_value + 1
            mine.append(counter.post_value)
        posts[i] = mine

    w = Workers()
    for i, zk in enumerate(zks):
        w.spawn(f"c{i}", worker, i, zk)
    w.join()
    every = [v for vs in posts.values() for v in vs]
    # Each increment moved the counter from a distinct value to the next:
    # no two clients ever both went from n to n+1 (a lost update).
    assert sorted(every) == list(range(1, 5 * rounds + 1))
    for i, vs in posts.items():
        assert vs == sorted(vs), f"client {i} saw the counter go backwards: {vs}"
    zks[3].sync("/counter")
    assert zks[3].Counter("/counter").value == 5 * rounds


def test_counter_types_and_curator_encoding(clients: Clients) -> None:
    a, b = clients(2)
    f = a.Counter("/float", default=0.0)
    f += 2.5
    f -= 1.0
    b.sync("/float")
    assert b.Counter("/float", default=0.0).value == 1.5
    with pytest.raises(TypeError):
        f += 1  # an int into a float counter
    c = a.Counter("/curator", support_curator=True)
    c += 7
    b.sync("/curator")
    # Curator's SharedCount: a 4-byte big-endian int.
    assert b.get("/curator")[0] == (7).to_bytes(4, "big")
    assert b.Counter("/curator", support_curator=True).value == 7


class Drain:
    """Consumers taking items from a kazoo Queue (which never blocks) until
    `total` were taken in all. An empty queue is waited on with a children
    watch, not by polling; the consumer that takes the last item wakes the
    others."""

    def __init__(self, total: int, consumers: int) -> None:
        self.total = total
        self.taken: Dict[int, List[bytes]] = {i: [] for i in range(consumers)}
        self.wake = [threading.Event() for _ in range(consumers)]
        self.lock = threading.Lock()

    def count(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.taken.values())

    def run(self, i: int, zk: KazooClient, path: str) -> None:
        queue = zk.Queue(path)
        zk.ensure_path(path)
        while self.count() < self.total:
            self.wake[i].clear()
            # Watch before looking: an entry added after the look fires it.
            zk.get_children(path, watch=lambda _e: self.wake[i].set())
            item = queue.get()
            if item is None:
                self.wake[i].wait(10)
                continue
            with self.lock:
                self.taken[i].append(item)
                if sum(len(v) for v in self.taken.values()) >= self.total:
                    for ev in self.wake:
                        ev.set()


def test_queue_no_loss_no_duplicates_fifo_per_producer(clients: Clients) -> None:
    zks = clients(6)
    producers, consumers = zks[:3], zks[3:]
    per_producer = 30
    total = 3 * per_producer
    drain = Drain(total, len(consumers))
    taken = drain.taken

    def produce(i: int, zk: KazooClient) -> None:
        q = zk.Queue("/queue")
        for k in range(per_producer):
            q.put(f"p{i}-{k:03d}".encode())

    w = Workers()
    for i, zk in enumerate(consumers):
        w.spawn(f"consumer{i}", drain.run, i, zk, "/queue")
    for i, zk in enumerate(producers):
        w.spawn(f"producer{i}", produce, i, zk)
    w.join()

    every = [x for v in taken.values() for x in v]
    dups = [x for x, n in Multiset(every).items() if n > 1]
    assert not dups, f"delivered twice: {dups[:5]}"
    expected = {f"p{i}-{k:03d}".encode() for i in range(3) for k in range(per_producer)}
    assert set(every) == expected, f"lost: {sorted(expected - set(every))[:5]}"
    # The queue is FIFO: each consumer got each producer's items in order.
    for i, items in taken.items():
        for p in range(3):
            mine = [x for x in items if x.startswith(f"p{p}-".encode())]
            assert mine == sorted(mine), f"consumer {i} got producer {p}'s items out of order"
    assert len(zks[0].Queue("/queue")) == 0


def test_queue_priority_then_fifo(clients: Clients) -> None:
    producer, consumer = clients(2)
    q = producer.Queue("/queue")
    for value, prio in [(b"low-1", 500), (b"urgent", 1), (b"low-2", 500), (b"normal", 100)]:
        q.put(value, priority=prio)
    consumer.sync("/queue")
    got = [consumer.Queue("/queue").get() for _ in range(5)]
    assert got == [b"urgent", b"normal", b"low-1", b"low-2", None]


def test_locking_queue_each_entry_consumed_exactly_once(clients: Clients) -> None:
    zks = clients(6)
    producers, consumers = zks[:2], zks[2:]
    per_producer = 20
    total = 2 * per_producer
    consumed: List[Tuple[int, bytes]] = []
    lock = threading.Lock()
    holding: Dict[bytes, int] = {}
    overlaps: List[str] = []

    def produce(i: int, zk: KazooClient) -> None:
        q = zk.LockingQueue("/lq")
        half = per_producer // 2
        for k in range(half):
            q.put(f"p{i}-{k:03d}".encode())
        q.put_all([f"p{i}-{k:03d}".encode() for k in range(half, per_producer)])

    def consume(i: int, zk: KazooClient) -> None:
        q = zk.LockingQueue("/lq")
        while True:
            with lock:
                if len(consumed) >= total:
                    return
            item = q.get(timeout=0.5)
            if item is None:
                continue
            with lock:
                # While a consumer holds an entry nobody else may get it.
                if item in holding:
                    overlaps.append(f"c{i} and c{holding[item]} hold {item!r}")
                holding[item] = i
            assert q.holds_lock()
            with lock:
                del holding[item]
                consumed.append((i, item))
            assert q.consume(), f"c{i} could not consume {item!r}"

    w = Workers()
    for i, zk in enumerate(consumers):
        w.spawn(f"c{i}", consume, i, zk)
    for i, zk in enumerate(producers):
        w.spawn(f"p{i}", produce, i, zk)
    w.join()
    assert not overlaps, overlaps[:3]
    items = [x for _, x in consumed]
    assert len(items) == len(set(items)), "an entry was consumed twice"
    assert set(items) == {f"p{i}-{k:03d}".encode() for i in range(2) for k in range(per_producer)}
    zks[0].sync("/lq")
    assert len(zks[0].LockingQueue("/lq")) == 0
    assert zks[0].get_children("/lq/taken") == []


def test_locking_queue_release_hands_entry_to_another(clients: Clients) -> None:
    a, b = clients(2)
    qa, qb = a.LockingQueue("/lq"), b.LockingQueue("/lq")
    qa.put(b"job")
    assert qa.get(timeout=10) == b"job"
    assert qb.get(timeout=0.2) is None, "a locked entry was handed out twice"
    assert qa.release()
    assert qb.get(timeout=10) == b"job"
    assert qb.consume()
    assert qa.get(timeout=0.2) is None
