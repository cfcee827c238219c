"""Fixtures of the kazoo recipe tests (pytests/recipes/).

Every test runs several kazoo clients at once against a real 3-member
ensemble from the zkit pytest plugin: the session's `zk_ensemble` (each test
in its own chroot) for recipes, a fresh ensemble from `zk_ensemble_factory`
for tests that kill, partition or restart members.

Clients get quick, unbounded retries (zktools.FAST_RETRY) and a fixed member
order: client i connects first to member i % 3, so concurrent clients always
sit on different members, and a client whose member goes away moves to the
next one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, List

import pytest
from kazoo.client import KazooClient

import zkit
from .zktools import client_kwargs, rotated_hosts

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: List[Any]) -> None:
    # Every wait in these tests is bounded; this is the backstop.
    """Gives every recipe test a timeout unless it has its own."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(120))


@pytest.fixture
def clients(zk_ensemble: zkit.Ensemble, zk_chroot: str, zk_client_factory: Callable[..., Any]) -> Callable[..., List[KazooClient]]:
    """`clients(n, **kazoo_kwargs)`: n connected clients on the shared
    ensemble, all in this test's chroot, client i first on member i % 3."""
    addresses = [m.address for m in zk_ensemble.members]

    def make(n: int, **kwargs: Any) -> List[KazooClient]:
        return [
            zk_client_factory(ensemble=rotated_hosts(addresses, i, zk_chroot), chroot=False, **client_kwargs(**kwargs))
            for i in range(n)
        ]

    return make


@pytest.fixture
def fresh(zk_ensemble_factory: Callable[..., zkit.Ensemble], zk_client_factory: Callable[..., Any]) -> Callable[..., zkit.Ensemble]:
    """`fresh(size=3, **ensemble_kwargs)`: a new in-process ensemble for a
    destructive test, closed after it. (It sets up zk_ensemble_factory
    before zk_client_factory, so clients are closed before ensembles.)"""

    def make(size: int = 3, **kwargs: Any) -> zkit.Ensemble:
        kwargs.setdefault("mode", "inprocess")
        return zk_ensemble_factory(size, **kwargs)

    return make


@pytest.fixture
def clients_on(fresh: Any, zk_client_factory: Callable[..., Any]) -> Callable[..., List[KazooClient]]:
    """`clients_on(ensemble, n, first=0, **kazoo_kwargs)`: n connected
    clients on `ensemble` (no chroot), client i first on member
    (first + i) % size. Closed before the ensembles of `fresh`."""

    def make(ens: zkit.Ensemble, n: int, first: int = 0, **kwargs: Any) -> List[KazooClient]:
        addresses = [m.address for m in ens.members]
        return [
            zk_client_factory(ensemble=rotated_hosts(addresses, first + i), chroot=False, **client_kwargs(**kwargs))
            for i in range(n)
        ]

    return make
