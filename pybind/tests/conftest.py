"""Tests of the zkit Python kit itself (the package must be installed:
`make pyinstall`). The zkit pytest plugin is loaded through its entry point."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["pytester"]


def pytest_collection_modifyitems(items: Any) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(120))


@pytest.fixture
def kazoo_client() -> Any:
    """Factory of started KazooClients, all stopped after the test."""
    from kazoo.client import KazooClient

    made = []

    def make(hosts: str, **kwargs: Any) -> Any:
        c = KazooClient(hosts=hosts, **kwargs)
        made.append(c)
        c.start(timeout=15)
        return c

    yield make
    for c in made:
        try:
            c.stop()
            c.close()
        except Exception:
            pass
