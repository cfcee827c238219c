"""The zkit pytest plugin (entry point ``pytest11``; loaded automatically
once zkit is installed).

Fixtures:

``zk_ensemble`` (session)
    A :class:`zkit.Ensemble` of ``--zk-size`` members (default 3), started
    once per session — per worker under pytest-xdist, each on its own ports.
    Shared by every test: do not stop, kill or partition its members; use
    ``zk_ensemble_factory`` for that.
``zk_standalone`` (session)
    A one-member ensemble (a single voter that leads itself; ``srvr`` says
    ``Mode: leader``, not ``standalone``).
``zk_ensemble_factory``
    ``zk_ensemble_factory(size=3, **kwargs)`` starts a fresh
    :class:`zkit.Ensemble` (``mode`` defaults to ``--zk-mode``); each is
    closed after the test. Starting one takes tens of milliseconds.
``zk_chroot``
    A fresh, empty znode path on ``zk_ensemble`` for this test
    (``/zkit-tests/<test name>-<random>``).
``zk_client``
    A connected kazoo ``KazooClient`` on ``zk_ensemble``, chrooted to
    ``zk_chroot``; stopped and closed after the test.
``zk_client_factory``
    ``zk_client_factory(ensemble=None, chroot=True, **kazoo_kwargs)`` →
    another connected ``KazooClient`` (by default on ``zk_ensemble`` in the
    same chroot as ``zk_client``, so several clients can contend; on another
    ensemble with ``chroot=False`` or a path, created if missing); all are
    closed after the test.

Options: ``--zk-size N`` (members of ``zk_ensemble``), ``--zk-mode
inprocess|process`` (how every fixture runs its ensembles); the ini keys
``zk_size`` and ``zk_mode`` set their defaults.

kazoo is imported only by the client fixtures; the rest needs nothing but
the standard library.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Callable, Iterator, List

import pytest

from ._ensemble import MODES, Ensemble
from ._errors import ZkitError


def pytest_addoption(parser: Any) -> None:
    """Adds ``--zk-size`` and ``--zk-mode`` (and their ini keys)."""
    group = parser.getgroup("zkit", "zkit ZooKeeper ensembles")
    group.addoption("--zk-size", type=int, default=None, help="members of the zk_ensemble fixture (default 3)")
    group.addoption(
        "--zk-mode",
        choices=MODES,
        default=None,
        help="how zkit fixtures run ensembles: inprocess (default) or process (one zkit binary per member)",
    )
    parser.addini("zk_size", "members of the zk_ensemble fixture", default="3")
    parser.addini("zk_mode", "how zkit fixtures run ensembles (inprocess or process)", default="inprocess")


def _size(config: Any) -> int:
    v = config.getoption("zk_size")
    if v is None:
        v = int(config.getini("zk_size"))
    if v < 1:
        raise pytest.UsageError("--zk-size must be at least 1")
    return int(v)


def _mode(config: Any) -> str:
    v = config.getoption("zk_mode") or config.getini("zk_mode")
    if v not in MODES:
        raise pytest.UsageError(f"zk_mode {v!r}: want one of {', '.join(MODES)}")
    return str(v)


def pytest_report_header(config: Any) -> str:
    """Says which ensembles the fixtures start."""
    from . import __version__

    return f"zkit: {__version__}, fixtures run {_mode(config)} ensembles, zk_ensemble has {_size(config)} members"


@pytest.fixture(scope="session")
def zk_ensemble(request: Any) -> Iterator[Ensemble]:
    """A session-wide ensemble of ``--zk-size`` members (see the module doc)."""
    with Ensemble(_size(request.config), mode=_mode(request.config)) as ens:
        yield ens


@pytest.fixture(scope="session")
def zk_standalone(request: Any) -> Iterator[Ensemble]:
    """A session-wide one-member ensemble."""
    with Ensemble(1, mode=_mode(request.config)) as ens:
        yield ens


@pytest.fixture
def zk_ensemble_factory(request: Any) -> Iterator[Callable[..., Ensemble]]:
    """Starts fresh ensembles for this test: ``zk_ensemble_factory(size=3,
    **kwargs)``; all are closed after it."""
    made: List[Ensemble] = []
    default_mode = _mode(request.config)

    def make(size: int = 3, observers: int = 0, **kwargs: Any) -> Ensemble:
        kwargs.setdefault("mode", default_mode)
        ens = Ensemble(size, observers, **kwargs)
        made.append(ens)
        return ens

    yield make
    for ens in reversed(made):
        ens.close()


def _kazoo() -> Any:
    try:
        from kazoo.client import KazooClient  # type: ignore[import-untyped,unused-ignore]
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ZkitError("zkit: the zk_client fixtures need kazoo: pip install kazoo") from e
    return KazooClient


@pytest.fixture(scope="session")
def _zk_admin(zk_ensemble: Ensemble) -> Iterator[Any]:
    """One unchrooted client that creates the test chroots."""
    client = _kazoo()(hosts=zk_ensemble.hosts)
    client.start(timeout=15)
    yield client
    client.stop()
    client.close()


@pytest.fixture
def zk_chroot(request: Any, _zk_admin: Any) -> str:
    """A fresh, empty path for this test on ``zk_ensemble``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:80].strip("_.") or "test"
    path = f"/zkit-tests/{name}-{uuid.uuid4().hex[:8]}"
    _zk_admin.ensure_path(path)
    return path


@pytest.fixture
def zk_client_factory(request: Any) -> Iterator[Callable[..., Any]]:
    """Makes connected KazooClients, closed after the test:
    ``zk_client_factory(ensemble=None, chroot=True, start_timeout=15,
    **kazoo_kwargs)``. ``ensemble`` (an Ensemble or a connect string)
    defaults to ``zk_ensemble``; ``chroot`` is True (this test's
    ``zk_chroot``, on ``zk_ensemble`` only), False (none) or a path (created
    if missing)."""
    KazooClient = _kazoo()
    made: List[Any] = []

    def make(ensemble: Any = None, chroot: Any = True, **kwargs: Any) -> Any:
        shared = (
            request.getfixturevalue("zk_ensemble")
            if ensemble is None or "zk_ensemble" in request.fixturenames
            else None
        )
        if ensemble is None:
            ensemble = shared
        hosts = ensemble if isinstance(ensemble, str) else ensemble.hosts
        if chroot is True:
            if ensemble is not shared:
                raise ZkitError(
                    "zkit: chroot=True is zk_ensemble's chroot; for another ensemble pass chroot=False or a path"
                )
            chroot = request.getfixturevalue("zk_chroot")
        elif chroot:
            if not str(chroot).startswith("/"):
                raise ZkitError(f"zkit: chroot {chroot!r} must start with /")
            admin = KazooClient(hosts=hosts)
            admin.start(timeout=15)
            try:
                admin.ensure_path(chroot)
            finally:
                admin.stop()
                admin.close()
        if chroot:
            hosts += chroot
        timeout = kwargs.pop("start_timeout", 15)
        client = KazooClient(hosts=hosts, **kwargs)
        made.append(client)
        client.start(timeout=timeout)
        return client

    yield make
    for client in reversed(made):
        try:
            client.stop()
            client.close()
        except Exception:
            pass


@pytest.fixture
def zk_client(zk_client_factory: Callable[..., Any]) -> Any:
    """A connected KazooClient on ``zk_ensemble``, chrooted to this test's
    fresh ``zk_chroot``."""
    return zk_client_factory()
