"""zkit: real ZooKeeper-compatible ensembles for Python, in milliseconds.

::

    import zkit
    from kazoo.client import KazooClient

    with zkit.Ensemble(3) as ens:            # 3 voters, in this process
        zk = KazooClient(hosts=ens.hosts)
        zk.start()
        zk.create("/app", b"v1")
        ens.leader.kill()                    # crash the leader
        ens.wait_ready()                     # a new one is elected
        assert zk.get("/app")[0] == b"v1"

``zkit.Ensemble(mode="process")`` runs each member as a subprocess of the
bundled ``zkit`` binary instead (real ``kill -9``). The pytest plugin
(``zkit.pytest_plugin``, loaded automatically) provides the fixtures
``zk_ensemble``, ``zk_standalone``, ``zk_client`` and friends. Go's log
records go to the ``"zkit"`` logger. Every failure raises
:class:`ZkitError`.

The in-process runtime does not survive ``fork()``: use the ``spawn`` or
``forkserver`` multiprocessing start method, or process mode, when children
need ensembles.
"""

from __future__ import annotations

from ._ensemble import MODES, Ensemble, Member
from ._errors import ZkitError
from ._status import STATES, MemberStatus

__all__ = ["Ensemble", "Member", "MemberStatus", "ZkitError", "MODES", "STATES", "__version__", "library_version"]

#: The version of this package (and of the Go server it bundles).
__version__ = "0.1.0"


def library_version() -> str:
    """The version of the bundled in-process runtime (libzkit), e.g.
    ``"zkit 0.1.0 (ZooKeeper 3.9.3 compatible) abi 1"``. Loads it."""
    from . import _native

    return _native.version()
