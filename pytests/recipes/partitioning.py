"""Drives kazoo SetPartitioners in threads and checks their guarantee: the
items held at any moment by acquired partitioners never overlap, and once
the party is stable they cover the whole set."""

from __future__ import annotations

import threading
from typing import Dict, FrozenSet, List, Optional, Set

from kazoo.client import KazooClient

from .zktools import WAIT, Workers


class Partitioners:
    """Named SetPartitioners on one path, each on its own thread, with what
    each holds; an overlap between two acquired partitioners is recorded."""

    def __init__(self, items: Set[str], path: str = "/part") -> None:
        self.items = frozenset(items)
        self.path = path
        self.holdings: Dict[str, FrozenSet[str]] = {}
        self.overlaps: List[str] = []
        self.failed: Set[str] = set()
        self.cond = threading.Condition()
        self.stop: Dict[str, threading.Event] = {}
        self.wake: Dict[str, threading.Event] = {}
        self.workers = Workers()

    def start(self, name: str, zk: KazooClient) -> None:
        """Starts partitioner `name` on client `zk`."""
        self.stop[name] = threading.Event()
        self.wake[name] = threading.Event()
        self.workers.spawn(name, self._run, name, zk)

    def _publish(self, name: str, held: Optional[FrozenSet[str]]) -> None:
        with self.cond:
            if held is None:
                self.holdings.pop(name, None)
            else:
                for other, theirs in self.holdings.items():
                    if other != name and theirs & held:
                        self.overlaps.append(f"{name} and {other} both hold {sorted(theirs & held)}")
                self.holdings[name] = held
            self.cond.notify_all()

    def _run(self, name: str, zk: KazooClient) -> None:
        wake, stop = self.wake[name], self.stop[name]
        p = zk.SetPartitioner(
            self.path, set=self.items, identifier=name, time_boundary=0.1, max_reaction_time=0.2,
            state_change_event=wake,
        )  # fmt: skip
        try:
            while not stop.is_set():
                wake.clear()
                if p.failed:
                    with self.cond:
                        self.failed.add(name)
                        self.holdings.pop(name, None)
                        self.cond.notify_all()
                    return
                if p.release:
                    self._publish(name, None)
                    p.release_set()
                elif p.acquired:
                    self._publish(name, frozenset(p))
                    wake.wait(WAIT)
                elif p.allocating:
                    p.wait_for_acquire(WAIT)
        finally:
            self._publish(name, None)
            if not p.failed:
                p.finish()

    def finish(self, name: str) -> None:
        """Makes `name` release its items and leave the party."""
        self.stop[name].set()
        self.wake[name].set()

    def wait_covering(self, names: Set[str], timeout: float = WAIT) -> Dict[str, FrozenSet[str]]:
        """Waits until exactly `names` hold items, together all of them."""

        def covered() -> bool:
            held = self.holdings
            union: Set[str] = set()
            for v in held.values():
                union |= v
            return set(held) == names and union == self.items

        with self.cond:
            if not self.cond.wait_for(covered, timeout):
                raise AssertionError(
                    f"partitioners {sorted(names)} did not cover the set within {timeout}s: "
                    f"{ {k: len(v) for k, v in self.holdings.items()} }, failed {sorted(self.failed)}"
                )
            return dict(self.holdings)

    def close(self) -> None:
        """Finishes every partitioner, and checks that none ever overlapped."""
        for name in self.stop:
            self.finish(name)
        self.workers.join()
        assert not self.overlaps, self.overlaps[:3]
