"""The pytest plugin, run in nested pytest sessions (pytester)."""

from __future__ import annotations

import ctypes  # noqa: F401 - see below

import pytest

# pytester's in-process runs drop the modules first imported inside them;
# import the kit's native side here so every nested run shares one ctypes
# and one loaded library, as a real process does.
from zkit import _inprocess, _native, _process  # noqa: F401

FIXTURES_TEST = """
import zkit

def test_ensemble(zk_ensemble):
    assert isinstance(zk_ensemble, zkit.Ensemble)
    assert len(zk_ensemble.members) == {size}
    assert zk_ensemble.mode == "{mode}"
    assert zk_ensemble.leader is not None

def test_standalone(zk_standalone):
    assert len(zk_standalone.members) == 1
    assert zk_standalone.leader is zk_standalone.members[0]

def test_client_is_chrooted(zk_client, zk_chroot, zk_ensemble):
    zk_client.create("/mine", b"x")
    assert zk_client.get_children("/") == ["mine"]
    from kazoo.client import KazooClient
    raw = KazooClient(hosts=zk_ensemble.hosts)
    raw.start()
    try:
        assert raw.exists(zk_chroot + "/mine")
        assert zk_chroot.startswith("/zkit-tests/test_client_is_chrooted-")
    finally:
        raw.stop()

def test_each_test_gets_a_fresh_chroot(zk_client):
    assert zk_client.get_children("/") == []

def test_several_clients_share_the_chroot(zk_client, zk_client_factory):
    other = zk_client_factory()
    zk_client.create("/shared", b"1")
    other.sync("/")  # other may be on a member that has not applied it yet
    assert other.get("/shared")[0] == b"1"

def test_factory(zk_ensemble_factory, zk_client_factory):
    ens = zk_ensemble_factory(3, 1)
    assert ens.mode == "{mode}" and len(ens.members) == 4
    c = zk_client_factory(ens, chroot=False)
    c.create("/own", b"")
    d = zk_client_factory(ens, chroot="/app/one")
    d.create("/x", b"")
    assert c.exists("/app/one/x")
    ens.leader.kill()
    ens.wait_ready()
"""


@pytest.mark.parametrize("mode", ["inprocess", "process"])
def test_fixtures(pytester, mode):
    pytester.makepyfile(test_fixtures=FIXTURES_TEST.format(size=3, mode=mode))
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", f"--zk-mode={mode}")
    result.assert_outcomes(passed=6)


def test_size_option_and_header(pytester):
    pytester.makepyfile(test_fixtures=FIXTURES_TEST.format(size=5, mode="inprocess"))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--zk-size=5", "-k", "test_ensemble")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["zkit: *, fixtures run inprocess ensembles, zk_ensemble has 5 members"])


def test_ini_defaults(pytester):
    pytester.makeini("[pytest]\nzk_size = 1\nzk_mode = process\n")
    pytester.makepyfile(test_fixtures=FIXTURES_TEST.format(size=1, mode="process"))
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "-k", "test_ensemble")
    result.assert_outcomes(passed=1)


def test_xdist_workers_get_their_own_ensembles(pytester):
    pytester.makepyfile(
        test_workers="""
import os, pytest

@pytest.mark.parametrize("i", range(8))
def test_hosts(zk_ensemble, zk_client, tmp_path_factory, i):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    zk_client.create("/n", worker.encode())
    base = tmp_path_factory.getbasetemp().parent
    (base / f"{worker}-{i}").write_text(zk_ensemble.hosts)
"""
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=8)
    files = [p for p in pytester.path.glob("**/gw*-*") if p.is_file()]
    hosts = {p.name.split("-")[0]: p.read_text() for p in files}
    assert set(hosts) == {"gw0", "gw1"}, files
    assert hosts["gw0"] != hosts["gw1"]
    assert not set(hosts["gw0"].split(",")) & set(hosts["gw1"].split(","))
