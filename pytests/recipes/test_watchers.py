"""DataWatch, ChildrenWatch, TreeCache and configuration management: clients
on every member of the shared ensemble see changes in order and converge."""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, List, Optional, Tuple

from kazoo.client import KazooClient
from kazoo.recipe.cache import TreeCache, TreeEvent

from .zktools import Seen, Workers, cache_snapshot, tree

Clients = Callable[..., List[KazooClient]]


def test_data_watch_sees_every_change_in_order(clients: Clients) -> None:
    zks = clients(4)
    writer, watchers = zks[3], zks[:3]
    seen = [Seen() for _ in watchers]

    def record(s: Seen) -> Callable[[Optional[bytes], Any], None]:
        # (kazoo passes a third argument, the event, to functions that take one)
        def on_change(data: Optional[bytes], stat: Any) -> None:
            s.add(None if stat is None else (data, stat.version))

        return on_change

    for zk, s in zip(watchers, seen):
        zk.DataWatch("/node", record(s))
    expected: List[Optional[Tuple[bytes, int]]] = [None]

    def step(action: Callable[[], object], then: Optional[Tuple[bytes, int]]) -> None:
        # The writer waits until every watcher saw the last change, so
        # each change must reach each watcher: watches lose nothing.
        expected.append(then)
        action()
        n = len(expected)
        for i, s in enumerate(seen):
            s.wait_for(lambda items: len(items) >= n, f"watcher {i} to see change {n - 1} ({then})")

    for s in seen:
        s.wait_for(lambda items: len(items) >= 1, "the initial call")
    step(lambda: writer.create("/node", b"v0"), (b"v0", 0))
    for v in range(1, 6):
        step(functools.partial(writer.set, "/node", f"v{v}".encode()), (f"v{v}".encode(), v))
    step(lambda: writer.delete("/node"), None)
    step(lambda: writer.create("/node", b"again"), (b"again", 0))
    for i, s in enumerate(seen):
        assert s.items == expected, f"watcher {i} saw {s.items}"


def test_children_watch_converges_on_concurrent_changes(clients: Clients) -> None:
    zks = clients(7)
    writers, watchers = zks[:4], zks[4:]
    zks[0].ensure_path("/kids")
    seen = [Seen() for _ in watchers]
    for zk, s in zip(watchers, seen):
        zk.sync("/kids")
        zk.ChildrenWatch("/kids", s.add_sorted)

    def write(i: int, zk: KazooClient) -> None:
        for k in range(10):
            zk.create(f"/kids/w{i}-{k}")
        for k in range(0, 10, 2):
            zk.delete(f"/kids/w{i}-{k}")

    w = Workers()
    for i, zk in enumerate(writers):
        w.spawn(f"w{i}", write, i, zk)
    w.join()
    final = sorted(f"w{i}-{k}" for i in range(4) for k in range(1, 10, 2))
    zks[0].sync("/kids")
    assert sorted(zks[0].get_children("/kids")) == final
    created = {f"w{i}-{k}" for i in range(4) for k in range(10)}
    for i, s in enumerate(seen):
        s.wait_for(lambda items: bool(items) and items[-1] == final, f"watcher {i} to converge")
        assert all(set(snapshot) <= created for snapshot in s.items)


def test_configuration_management(clients: Clients) -> None:
    """One writer publishes configs; many readers (DataWatch) converge on
    the latest and never see an older one after a newer."""
    zks = clients(6)
    writer, readers = zks[0], zks[1:]
    writer.create("/config", json.dumps({"seq": 0, "pool": 4}).encode())
    seen = [Seen() for _ in readers]

    def apply(s: Seen) -> Callable[[bytes, Any], None]:
        def on_config(data: Optional[bytes], stat: Any) -> None:
            if data is not None:
                s.add((json.loads(data)["seq"], stat.version))

        return on_config

    for zk, s in zip(readers, seen):
        zk.DataWatch("/config", apply(s))
    last = 40
    for seq in range(1, last + 1):
        writer.set("/config", json.dumps({"seq": seq, "pool": 4 + seq % 3}).encode())
    for i, s in enumerate(seen):
        s.wait_for(lambda items: bool(items) and items[-1][0] == last, f"reader {i} to see config {last}")
        seqs = [seq for seq, _ in s.items]
        assert seqs == sorted(set(seqs)), f"reader {i} saw configs out of order: {seqs}"
        assert all(seq == version for seq, version in s.items), f"reader {i}: data and version disagree"
    # A reader that starts late gets the latest config at once.
    late = Seen()
    readers[0].DataWatch("/config", apply(late))
    late.wait_for(lambda items: bool(items), "the late reader's first call")
    assert late.items[0] == (last, last)


def test_tree_cache_mirrors_concurrent_writes(clients: Clients) -> None:
    zks = clients(5)
    writers, cachers = zks[:3], zks[3:]
    zks[0].create("/tree/seed/leaf", b"seed", makepath=True)
    caches = []
    events: List[Seen] = []
    for zk in cachers:
        zk.sync("/tree")
        cache = TreeCache(zk, "/tree")
        s = Seen()
        cache.listen(s.add)
        cache.start()
        caches.append(cache)
        events.append(s)
    for i, s in enumerate(events):
        s.wait_for(lambda items: any(e.event_type == TreeEvent.INITIALIZED for e in items), f"cache {i} to load")
        assert cache_snapshot(caches[i], "/tree") == {"": b"", "/seed": b"", "/seed/leaf": b"seed"}

    def write(i: int, zk: KazooClient) -> None:
        for k in range(6):
            zk.create(f"/tree/w{i}/n{k}", f"{i}.{k}".encode(), makepath=True)
        for k in range(0, 6, 2):
            zk.set(f"/tree/w{i}/n{k}", f"{i}.{k}-updated".encode())
        zk.delete(f"/tree/w{i}/n5")
        if i == 0:
            zk.delete("/tree/seed", recursive=True)

    w = Workers()
    for i, zk in enumerate(writers):
        w.spawn(f"w{i}", write, i, zk)
    w.join()
    zks[0].sync("/tree")
    actual = tree(zks[0], "/tree")
    assert "/seed" not in actual and "/w2/n4" in actual

    def matches(cache: TreeCache, _events: List[Any]) -> bool:
        return cache_snapshot(cache, "/tree") == actual

    try:
        for i, (cache, s) in enumerate(zip(caches, events)):
            s.wait_for(functools.partial(matches, cache), f"cache {i} to match the tree")
            removed = {e.event_data.path for e in s.items if e.event_type == TreeEvent.NODE_REMOVED}
            assert "/tree/seed/leaf" in removed and "/tree/seed" in removed
    finally:
        for cache in caches:
            cache.close()
