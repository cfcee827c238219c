"""SetPartitioner: members on different servers split a set between them
with no item held twice, and split it again when one leaves. (A member
whose session expires: test_faults_expiry.py.)"""

from __future__ import annotations

from typing import Callable, List

from kazoo.client import KazooClient

from .partitioning import Partitioners

Clients = Callable[..., List[KazooClient]]

ITEMS = {f"item-{k:02d}" for k in range(24)}


def test_set_partitioner_splits_and_resplits(clients: Clients) -> None:
    zks = clients(5)
    parts = Partitioners(ITEMS)
    try:
        for i, zk in enumerate(zks[:4]):
            parts.start(f"p{i}", zk)
        held = parts.wait_covering({"p0", "p1", "p2", "p3"})
        assert sorted(len(v) for v in held.values()) == [6, 6, 6, 6], "the default partitioner splits evenly"
        parts.finish("p2")
        held = parts.wait_covering({"p0", "p1", "p3"})
        assert sorted(len(v) for v in held.values()) == [8, 8, 8]
        # A newcomer gets a share as well.
        parts.start("p4", zks[4])
        parts.wait_covering({"p0", "p1", "p3", "p4"})
    finally:
        parts.close()
    assert not parts.failed
