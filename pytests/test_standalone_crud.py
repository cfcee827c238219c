"""CRUD, sequential and ephemeral nodes, versions and errors through kazoo."""
import pytest
from kazoo.exceptions import (
    BadVersionError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
)


def test_create_get_set_delete(zk):
    assert zk.create("/a", b"one") == "/a"
    data, stat = zk.get("/a")
    assert data == b"one"
    assert stat.version == 0 and stat.dataLength == 3 and stat.numChildren == 0
    assert stat.czxid == stat.mzxid == stat.pzxid
    stat2 = zk.set("/a", b"two")
    assert stat2.version == 1 and stat2.mzxid > stat.mzxid and stat2.czxid == stat.czxid
    assert zk.get("/a")[0] == b"two"
    zk.delete("/a")
    assert zk.exists("/a") is None


def test_errors(zk):
    zk.create("/e", b"")
    with pytest.raises(NodeExistsError):
        zk.create("/e", b"")
    with pytest.raises(NoNodeError):
        zk.get("/missing")
    with pytest.raises(NoNodeError):
        zk.create("/missing/child", b"")
    with pytest.raises(BadVersionError):
        zk.set("/e", b"x", version=5)
    zk.create("/e/kid", b"")
    with pytest.raises(NotEmptyError):
        zk.delete("/e")
    with pytest.raises(BadVersionError):
        zk.delete("/e/kid", version=3)
    zk.delete("/e", recursive=True)


def test_sequential_names_follow_parent_cversion(zk):
    zk.create("/seq", b"")
    first = zk.create("/seq/n-", b"", sequence=True)
    second = zk.create("/seq/n-", b"", sequence=True)
    assert first == "/seq/n-0000000000"
    assert second == "/seq/n-0000000001"
    zk.delete(first)
    # Deleting does not reuse numbers: the counter is the parent's cversion.
    assert zk.create("/seq/n-", b"", sequence=True) == "/seq/n-0000000002"
    assert sorted(zk.get_children("/seq")) == ["n-0000000001", "n-0000000002"]


def test_ephemerals(zk, make_client, zkit_server):
    other = make_client(zkit_server.address + zk.chroot)
    other.create("/eph", b"", ephemeral=True)
    _, stat = zk.get("/eph")
    assert stat.ephemeralOwner == other.client_id[0]
    with pytest.raises(NoChildrenForEphemeralsError):
        other.create("/eph/child", b"")
    other.stop()
    assert zk.exists("/eph") is None


def test_get_children_and_stat(zk):
    zk.create("/p", b"")
    for name in ("c", "a", "b"):
        zk.create(f"/p/{name}", b"")
    children, stat = zk.get_children("/p", include_data=True)
    assert sorted(children) == ["a", "b", "c"]
    assert stat.numChildren == 3 and stat.cversion == 3


def test_large_value_round_trips(zk):
    blob = bytes(range(256)) * 2048  # 512 KiB
    zk.create("/big", blob)
    assert zk.get("/big")[0] == blob
