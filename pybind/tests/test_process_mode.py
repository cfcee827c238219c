"""mode="process": members are zkit binaries; kill is kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from kazoo.protocol.states import KazooState
from zkit_testutil import eventually

import zkit


def alive(pid: int) -> bool:
    """Whether pid runs (a zombie waiting for its reaper does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


@pytest.fixture
def ens():
    with zkit.Ensemble(3, mode="process") as e:
        yield e


def test_members_are_processes(ens, kazoo_client):
    pids = [m.pid for m in ens.members]
    assert all(pids) and len(set(pids)) == 3 and os.getpid() not in pids
    assert ens.leader is not None
    zk = kazoo_client(ens.hosts)
    zk.create("/p", b"1")
    st = ens.leader.status()
    assert st.zxid and st.zxid >> 32 == st.epoch
    ens.close()
    for pid in pids:
        eventually(lambda pid=pid: not alive(pid))


def test_kill_9_and_restart_from_disk(ens, kazoo_client):
    zk = kazoo_client(ens.hosts)
    for i in range(20):
        zk.create(f"/k{i}", b"v")
    leader = ens.leader
    pid = leader.pid
    address = leader.address
    leader.kill()
    assert not alive(pid)  # reaped: really gone
    assert leader.state == "stopped" and leader.pid is None
    new = eventually(lambda: ens.leader)
    assert new is not leader
    eventually(lambda: zk.state == KazooState.CONNECTED)
    zk.retry(zk.create, "/after-kill", b"x")
    leader.start()
    assert leader.pid not in (None, pid)
    assert leader.address == address  # the same port again
    ens.wait_ready(15)
    direct = kazoo_client(leader.address)
    direct.sync("/")
    assert len(direct.get_children("/")) == 22


def test_kill_all_and_restart_recovers_everything(kazoo_client):
    with zkit.Ensemble(3, mode="process") as ens:
        zk = kazoo_client(ens.hosts)
        zk.create("/durable", b"yes")
        zk.stop()
        for m in ens.members:
            m.kill()
        for m in ens.members:
            m.start()
        ens.wait_ready(15)
        zk2 = kazoo_client(ens.hosts)
        assert zk2.get("/durable")[0] == b"yes"


def test_expire_session_and_unsupported_partition(ens, kazoo_client):
    zk = kazoo_client(ens.hosts)
    other = kazoo_client(ens.hosts)
    states = []
    zk.add_listener(states.append)
    zk.create("/eph", b"", ephemeral=True)
    ens.expire_session(zk)
    assert other.exists("/eph") is None or eventually(lambda: other.exists("/eph") is None)
    eventually(lambda: KazooState.LOST in states)
    with pytest.raises(zkit.ZkitError, match="password"):
        ens.expire_session(12345)
    with pytest.raises(zkit.ZkitError, match="inprocess"):
        ens.partition(1)
    ens.heal()  # nothing to heal: fine


def test_pause_and_resume(kazoo_client):
    with zkit.Ensemble(3, mode="process", tick_time_ms=50) as ens:
        f = ens.followers[0]
        f.pause()  # frozen: its sockets stay open, nothing answers
        zk = kazoo_client(",".join(m.address for m in ens.members if m is not f))
        zk.retry(zk.create, "/while-paused", b"")
        f.resume()
        ens.wait_ready(15)
        with pytest.raises(zkit.ZkitError, match="process"):
            with zkit.Ensemble(1) as inproc:
                inproc.members[0].pause()


def test_member_that_cannot_start_reports_its_output(tmp_path):
    fake = tmp_path / "zkit"
    fake.write_text("#!/bin/sh\necho 'zkit: cannot bind: no such luck' >&2\nexit 3\n")
    fake.chmod(0o755)
    code = textwrap.dedent(
        f"""
        import os, zkit
        os.environ["ZKIT_BINARY"] = {str(fake)!r}
        try:
            zkit.Ensemble(3, mode="process")
        except zkit.ZkitError as e:
            print("ERR", e)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "ERR zkit: member" in out and "no such luck" in out and "exit status 3" in out


def test_members_die_with_their_parent(tmp_path):
    """A Python process killed by SIGKILL leaves no member behind."""
    code = textwrap.dedent(
        """
        import sys, time, zkit
        ens = zkit.Ensemble(3, mode="process")
        print(" ".join(str(m.pid) for m in ens.members), flush=True)
        time.sleep(60)
        """
    )
    # The killed parent cannot remove its ensemble's directory: it goes
    # under tmp_path, which pytest manages.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        pids = [int(x) for x in p.stdout.readline().split()]
        assert len(pids) == 3 and all(alive(pid) for pid in pids)
        p.send_signal(signal.SIGKILL)
        p.wait()
        for pid in pids:
            eventually(lambda pid=pid: not alive(pid), timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
