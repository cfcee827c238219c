"""Ensemble options that reach the members' servers: super_digest (both
modes) and container_check_interval_ms in process mode (zkit member
--super-digest / --container-check-interval)."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import zkit

from zkit_testutil import eventually


def _digest_acl(user: str, password: str) -> Any:
    from kazoo.security import make_digest_acl

    return make_digest_acl(user, password, all=True)


@pytest.mark.parametrize("mode", ["inprocess", "process"])
def test_super_digest_passes_every_acl(mode: str, kazoo_client: Callable[..., Any]) -> None:
    from kazoo.exceptions import NoAuthError
    from kazoo.security import make_digest_acl_credential

    digest = make_digest_acl_credential("super", "s3cret")
    with zkit.Ensemble(3, mode=mode, super_digest=digest) as ens:
        alice = kazoo_client(ens.hosts, auth_data=[("digest", "alice:pw")])
        alice.create("/private", b"alice's", acl=[_digest_acl("alice", "pw")])

        stranger = kazoo_client(ens.members[1].address)
        stranger.sync("/private")
        with pytest.raises(NoAuthError):
            stranger.get("/private")

        wrong = kazoo_client(ens.members[2].address, auth_data=[("digest", "super:wrong")])
        with pytest.raises(NoAuthError):
            wrong.get("/private")

        root = kazoo_client(ens.members[2].address, auth_data=[("digest", "super:s3cret")])
        root.sync("/private")
        assert root.get("/private")[0] == b"alice's"
        root.set("/private", b"overruled")
        root.delete("/private")
        alice.sync("/private")
        assert alice.exists("/private") is None


def test_no_super_digest_means_no_super_user(kazoo_client: Callable[..., Any]) -> None:
    from kazoo.exceptions import NoAuthError

    with zkit.Ensemble(1) as ens:
        alice = kazoo_client(ens.hosts, auth_data=[("digest", "alice:pw")])
        alice.create("/private", b"x", acl=[_digest_acl("alice", "pw")])
        root = kazoo_client(ens.hosts, auth_data=[("digest", "super:")])
        with pytest.raises(NoAuthError):
            root.get("/private")


@pytest.mark.parametrize("bad", ["nocolon", 42])
def test_super_digest_is_checked(bad: Any) -> None:
    with pytest.raises(zkit.ZkitError, match="super_digest"):
        zkit.Ensemble(1, super_digest=bad)


def _create_container(zk: Any, path: str) -> None:
    """kazoo has no container nodes: send ZooKeeper's createContainer
    (opcode 19, flags CONTAINER) with kazoo's Create2 encoding."""
    from kazoo.protocol.serialization import Create2
    from kazoo.security import OPEN_ACL_UNSAFE

    class CreateContainer(Create2):  # type: ignore[misc]
        type = 19

    result = zk.handler.async_result()
    zk._call(CreateContainer(path, b"", OPEN_ACL_UNSAFE, 4), result)
    result.get(timeout=10)


def test_container_check_interval_in_process_mode(kazoo_client: Callable[..., Any]) -> None:
    with zkit.Ensemble(3, mode="process", container_check_interval_ms=50) as ens:
        zk = kazoo_client(ens.hosts)
        _create_container(zk, "/box")
        assert zk.exists("/box") is not None
        zk.create("/box/item")
        zk.delete("/box/item")
        # An emptied container goes at the next check (50 ms here; the
        # member's default is 60 s, well past this wait).
        eventually(lambda: zk.exists("/box") is None, timeout=10)


def test_container_check_interval_is_checked() -> None:
    with pytest.raises(zkit.ZkitError, match="container_check_interval_ms"):
        zkit.Ensemble(1, container_check_interval_ms=0)
