"""zkit.Ensemble in-process: start, describe, fault injection, data."""

from __future__ import annotations

import time

import pytest
from kazoo.exceptions import NoNodeError
from kazoo.protocol.states import KazooState
from zkit_testutil import eventually

import zkit


def test_start_describe_close(kazoo_client):
    began = time.perf_counter()
    with zkit.Ensemble(3) as ens:
        took = time.perf_counter() - began
        assert ens.mode == "inprocess"
        hosts = ens.hosts.split(",")
        assert len(hosts) == 3 and all(h.startswith("127.0.0.1:") for h in hosts)
        assert [m.id for m in ens.members] == [1, 2, 3]
        assert [m.address for m in ens.members] == hosts
        assert ens.member(2) is ens.members[1]
        leader = ens.leader
        assert leader is not None and leader.role == "leader" and leader.state == "leading"
        assert sorted(m.id for m in ens.followers) == sorted(m.id for m in ens.members if m is not leader)
        for st in ens.status():
            assert st.running and st.serving and st.leader == leader.id
            assert st.epoch and st.epoch >= 1 and st.zxid is not None and st.pid is None
        zk = kazoo_client(ens.hosts)
        zk.create("/hello", b"world")
        assert zk.get("/hello")[0] == b"world"
        assert ens.members[0].zxid is not None
        assert "zkit.Member id=1" in repr(ens.members[0])
    assert ens.closed
    assert took < 5, f"Ensemble(3) took {took:.3f}s"
    with pytest.raises(zkit.ZkitError, match="closed"):
        ens.members[0].stop()
    ens.close()  # twice is fine


def test_observers_and_one_member():
    with zkit.Ensemble(3, 1) as ens:
        obs = ens.members[3]
        assert obs.observer and obs.id == 4 and ens.observers == (obs,)
        assert obs.state == "observing" and obs.role == "observer"
        assert len(ens.voters) == 3
    with zkit.Ensemble(1) as one:
        assert one.leader is one.members[0]


def test_bad_arguments():
    with pytest.raises(zkit.ZkitError, match="mode"):
        zkit.Ensemble(mode="threads")
    with pytest.raises(zkit.ZkitError, match="size"):
        zkit.Ensemble(0)
    with pytest.raises(zkit.ZkitError, match="log_level"):
        zkit.Ensemble(1, log_level="loud")
    with zkit.Ensemble(1) as ens:
        with pytest.raises(zkit.ZkitError, match="no member with id 0"):
            ens.partition(0)
        with pytest.raises(zkit.ZkitError, match="want a Member"):
            ens.partition("1")
        with pytest.raises(zkit.ZkitError, match="session"):
            ens.expire_session(0x1234)
        with pytest.raises(zkit.ZkitError, match="session id or a client"):
            ens.expire_session("nope")


def test_kill_follower_loses_nothing_acknowledged(kazoo_client):
    with zkit.Ensemble(3) as ens:
        victim = ens.followers[0]
        zk = kazoo_client(",".join(m.address for m in ens.members if m is not victim))
        for i in range(20):
            zk.create(f"/n{i}", b"v")
        victim.kill()
        assert victim.state == "stopped" and not victim.running and victim.zxid is None
        zk.create("/while-down", b"x")  # two of three still make a quorum
        victim.start()
        ens.wait_ready(10)
        direct = kazoo_client(victim.address)
        direct.sync("/")
        assert len(direct.get_children("/")) == 22  # 20 + while-down + zookeeper


def test_in_memory_data_survives_killing_every_member(kazoo_client):
    with zkit.Ensemble(3) as ens:
        zk = kazoo_client(ens.hosts)
        for i in range(30):
            zk.create(f"/acked{i}", b"v")  # acknowledged: synced by a quorum
        zk.stop()
        for m in ens.members:
            m.kill()
        for m in ens.members:
            m.start()
        ens.wait_ready(10)
        zk2 = kazoo_client(ens.hosts)
        assert len(zk2.get_children("/")) == 31


def test_kill_leader_elects_another(kazoo_client):
    with zkit.Ensemble(3) as ens:
        zk = kazoo_client(ens.hosts)
        zk.create("/before", b"1")
        old = ens.leader
        old.kill()
        new = eventually(lambda: ens.leader)
        assert new is not old
        eventually(lambda: zk.state == KazooState.CONNECTED)
        zk.retry(zk.create, "/after", b"2")
        old.restart()
        ens.wait_ready(10)
        assert old.role == "follower"
        assert zk.get("/before")[0] == b"1"


def test_data_dir_survives_a_new_ensemble(tmp_path, kazoo_client):
    with zkit.Ensemble(3, data_dir=tmp_path) as ens:
        zk = kazoo_client(ens.hosts)
        for i in range(10):
            zk.create(f"/d{i}", str(i).encode())
        for m in ens.members:
            m.stop()
        for m in ens.members:
            m.start()
        ens.wait_ready(10)
        zk2 = kazoo_client(ens.hosts)
        assert zk2.get("/d9")[0] == b"9"
        zk.stop()
        zk2.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["member-1", "member-2", "member-3"]
    with zkit.Ensemble(3, data_dir=tmp_path) as again:  # new ports, same data
        zk3 = kazoo_client(again.hosts)
        assert zk3.get("/d3")[0] == b"3"
        assert len(zk3.get_children("/")) == 11


def test_partition_and_heal(kazoo_client):
    with zkit.Ensemble(3, tick_time_ms=50) as ens:
        f = ens.followers[0]
        ens.partition(f)
        eventually(lambda: not f.serving)
        assert f.role is None
        zk = kazoo_client(",".join(m.address for m in ens.members if m is not f))
        zk.retry(zk.create, "/during", b"p")
        ens.heal()
        ens.wait_ready(10)
        direct = kazoo_client(f.address)
        direct.sync("/")
        assert direct.exists("/during")


def test_partitioned_leader_is_replaced():
    with zkit.Ensemble(3, tick_time_ms=50) as ens:
        old = ens.leader
        old.partition()
        new = eventually(lambda: next((m for m in ens.members if m is not old and m.role == "leader"), None))
        assert new.id != old.id
        ens.heal()
        ens.wait_ready(10)
        assert ens.leader is not None


def test_expire_session_removes_ephemerals(kazoo_client):
    with zkit.Ensemble(3) as ens:
        zk = kazoo_client(ens.hosts)
        other = kazoo_client(ens.hosts)
        states = []
        zk.add_listener(states.append)
        zk.create("/eph", b"", ephemeral=True)
        ens.expire_session(zk)
        eventually(lambda: other.exists("/eph") is None)
        eventually(lambda: KazooState.LOST in states)
        # by session id as well
        zk2 = kazoo_client(ens.hosts)
        zk2.create("/eph2", b"", ephemeral=True)
        ens.expire_session(zk2.client_id[0])
        eventually(lambda: other.exists("/eph2") is None)
        with pytest.raises(NoNodeError):
            other.get("/eph2")


def test_wait_ready_times_out_without_quorum():
    with zkit.Ensemble(3, tick_time_ms=50) as ens:
        ens.members[0].stop()
        ens.members[1].stop()
        eventually(lambda: not ens.members[2].serving)  # a lone leader steps down
        with pytest.raises(zkit.ZkitError, match="timed out"):
            ens.wait_ready(0.3)
        ens.members[0].start()
        ens.wait_ready(10)
        assert ens.leader is not None


@pytest.mark.parametrize("mode", ["inprocess", "process"])
def test_start_with_options_in_both_modes(mode, kazoo_client):
    with zkit.Ensemble(3, mode=mode, read_only=True, extended_types=True, tick_time_ms=100) as ens:
        zk = kazoo_client(ens.hosts, read_only=True)
        zk.create("/n", b"")
        assert zk.exists("/n")
