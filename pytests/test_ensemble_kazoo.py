"""kazoo against a 3-member zkit ensemble run as `zkit member` processes.

The member kazoo is connected to is killed (SIGKILL): kazoo must reconnect
to another member and keep its session, its watches and its ephemerals,
as it does with Apache ZooKeeper.
"""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import LockTimeout, NodeExistsError

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "bin" / "zkit"


def four_letter(address: str, word: str, timeout: float = 1.0) -> str:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(word.encode())
        chunks = []
        while True:
            b = s.recv(4096)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode(errors="replace")


class MemberProcesses:
    """N voting members, one `zkit member` process each, meeting through a
    rendezvous directory; members can be killed and restarted."""

    def __init__(self, n: int = 3, tick_ms: int = 200) -> None:
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: run `make build` first")
        self.n = n
        self.tick_ms = tick_ms
        self.dir = Path(tempfile.mkdtemp(prefix="zkit-pytest-ensemble-"))
        self.rendezvous = self.dir / "rendezvous"
        self.rendezvous.mkdir()
        self.procs: Dict[int, subprocess.Popen] = {}
        self.addresses: Dict[int, str] = {}
        try:
            for i in range(1, n + 1):
                self._spawn(i)
            for i in range(1, n + 1):
                self._wait_started(i)
            self.wait_ready()
        except BaseException:
            self.close()
            raise

    def _ready_file(self, i: int) -> Path:
        return self.dir / f"ready-{i}"

    def _spawn(self, i: int) -> None:
        ready = self._ready_file(i)
        if ready.exists():
            ready.unlink()
        log = open(self.dir / f"member-{i}.log", "ab")
        voters = ",".join(str(k) for k in range(1, self.n + 1))
        self.procs[i] = subprocess.Popen(
            [str(BINARY), "member", "--id", str(i), "--voters", voters,
             "--rendezvous", str(self.rendezvous), "--data-dir", str(self.dir / f"data-{i}"),
             "--tick-time", f"{self.tick_ms}ms", "--ready-file", str(ready)],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def _wait_started(self, i: int, timeout: float = 20) -> None:
        ready = self._ready_file(i)
        deadline = time.monotonic() + timeout
        while not (ready.exists() and ready.read_text().strip()):
            if self.procs[i].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"member {i} did not start:\n{self.log_tail(i)}")
            time.sleep(0.01)
        self.addresses[i] = ready.read_text().strip()

    def log_tail(self, i: int, lines: int = 30) -> str:
        p = self.dir / f"member-{i}.log"
        return "\n".join(p.read_text(errors="replace").splitlines()[-lines:]) if p.exists() else ""

    @property
    def hosts(self) -> str:
        return ",".join(self.addresses[i] for i in sorted(self.addresses))

    def running(self, i: int) -> bool:
        return self.procs[i].poll() is None

    def mode(self, i: int) -> str:
        if not self.running(i):
            return ""
        try:
            out = four_letter(self.addresses[i], "srvr")
        except OSError:
            return ""
        for line in out.splitlines():
            if line.startswith("Mode: "):
                return line[len("Mode: "):].strip()
        return ""

    def leader(self) -> Optional[int]:
        leaders = [i for i in self.procs if self.mode(i) == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            modes = {i: self.mode(i) for i in self.procs if self.running(i)}
            if all(modes.values()) and list(modes.values()).count("leader") == 1:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"ensemble not ready: {modes}")
            time.sleep(0.02)

    def member_of_session(self, session_id: int) -> Optional[int]:
        want = f"sid=0x{session_id:x},"
        for i in self.procs:
            if self.running(i):
                try:
                    if want in four_letter(self.addresses[i], "cons"):
                        return i
                except OSError:
                    pass
        return None

    def kill(self, i: int) -> None:
        p = self.procs[i]
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()

    def start(self, i: int) -> None:
        self._spawn(i)
        self._wait_started(i)

    def close(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def members() -> Iterator[MemberProcesses]:
    ens = MemberProcesses()
    yield ens
    ens.close()


def client(hosts: str, **kwargs) -> KazooClient:
    c = KazooClient(hosts=hosts, timeout=4.0, **kwargs)
    c.start(timeout=15)
    return c


def wait_for(cond, timeout: float = 15, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_crud_watches_and_sync_across_members(members: MemberProcesses) -> None:
    root = f"/t-{uuid.uuid4().hex[:8]}"
    a = client(members.addresses[1])
    b = client(members.addresses[2])
    try:
        a.ensure_path(root)
        events: List[bytes] = []
        children: List[List[str]] = []

        b.sync(root)

        @b.DataWatch(root)
        def on_data(data, stat):  # noqa: ANN001
            events.append(data)

        @b.ChildrenWatch(root)
        def on_children(kids):  # noqa: ANN001
            children.append(sorted(kids))

        a.set(root, b"v1")
        wait_for(lambda: b"v1" in events, what="data watch on another member")
        a.create(f"{root}/x", b"1")
        a.create(f"{root}/y", b"2", ephemeral=True)
        wait_for(lambda: children and children[-1] == ["x", "y"], what="children watch")
        # A write through one member is read after sync on another.
        b.sync(root)
        assert b.get(f"{root}/x")[0] == b"1"
        data, stat = b.get(root)
        assert data == b"v1" and stat.version == 1
        tx = a.transaction()
        tx.create(f"{root}/z", b"3")
        tx.set_data(f"{root}/x", b"11", version=0)
        tx.delete(f"{root}/y")
        results = tx.commit()
        assert results[0] == f"{root}/z"
        assert results[1].version == 1
        assert results[2] is True
        b.sync(root)
        assert sorted(b.get_children(root)) == ["x", "z"]
        a.delete(root, recursive=True)
        b.sync(root)
        assert b.exists(root) is None
    finally:
        for c in (a, b):
            c.stop()
            c.close()


def test_kill_connected_member_keeps_session(members: MemberProcesses) -> None:
    root = f"/t-{uuid.uuid4().hex[:8]}"
    states: List[str] = []
    c = client(members.hosts)
    c.add_listener(lambda s: states.append(s))
    other: Optional[KazooClient] = None
    try:
        c.ensure_path(root)
        c.create(f"{root}/eph", b"e", ephemeral=True)
        lock = c.Lock(f"{root}/lock", "holder")
        assert lock.acquire(timeout=10)
        data_events: List[bytes] = []
        child_events: List[List[str]] = []

        @c.DataWatch(root)
        def on_data(data, stat):  # noqa: ANN001
            data_events.append(data)

        @c.ChildrenWatch(root)
        def on_children(kids):  # noqa: ANN001
            child_events.append(sorted(kids))

        session_id = c.client_id[0]
        first = members.member_of_session(session_id)
        assert first is not None, "no member lists the session in cons"
        members.kill(first)
        wait_for(lambda: members.member_of_session(session_id) not in (None, first), timeout=30,
                 what="the session to resume on another member")
        wait_for(lambda: c.state == KazooState.CONNECTED, what="kazoo to reconnect")
        assert c.client_id[0] == session_id
        assert KazooState.LOST not in states, states
        assert KazooState.SUSPENDED in states, states

        # Another client, on a member that is still up, sees the session's
        # ephemeral and lock node, and its changes fire the watches.
        up = [i for i in members.procs if members.running(i)]
        other = client(",".join(members.addresses[i] for i in up))
        other.sync(root)
        data, stat = other.get(f"{root}/eph")
        assert stat.ephemeralOwner == session_id
        contender = other.Lock(f"{root}/lock", "contender")
        with pytest.raises(LockTimeout):  # the lock was not lost with the member
            contender.acquire(timeout=1)
        other.set(root, b"after-kill")
        other.create(f"{root}/new", b"")
        wait_for(lambda: b"after-kill" in data_events, what="data watch after reconnect")
        wait_for(lambda: child_events and "new" in child_events[-1], what="children watch after reconnect")
        # The session writes and reads its own writes on its new member.
        c.set(f"{root}/new", b"mine")
        assert c.get(f"{root}/new")[0] == b"mine"
        lock.release()
        assert contender.acquire(timeout=10)
        contender.release()

        # The killed member comes back and catches up.
        members.start(first)
        members.wait_ready()
        back = client(members.addresses[first])
        try:
            back.sync(root)
            assert back.get(f"{root}/new")[0] == b"mine"
            assert back.exists(f"{root}/eph") is not None
        finally:
            back.stop()
            back.close()
        # Closing the session removes its ephemeral.
        c.stop()
        other.sync(root)
        assert other.exists(f"{root}/eph") is None
    finally:
        c.stop()
        c.close()
        if other is not None:
            other.stop()
            other.close()


def test_writes_resume_after_leader_is_killed(members: MemberProcesses) -> None:
    root = f"/t-{uuid.uuid4().hex[:8]}"
    leader = members.leader()
    assert leader is not None
    followers = [i for i in members.procs if i != leader]
    c = client(",".join(members.addresses[i] for i in followers))
    try:
        c.ensure_path(root)
        for i in range(20):
            c.create(f"{root}/n", b"x", sequence=True)
        killed = time.monotonic()
        members.kill(leader)
        while True:
            try:
                c.create(f"{root}/after", b"after")
                break
            except NodeExistsError:
                break  # an earlier attempt went through
            except Exception:  # noqa: BLE001 - connection loss, no leader yet
                if time.monotonic() - killed > 30:
                    raise
                time.sleep(0.02)
        print(f"first write {time.monotonic() - killed:.3f}s after kill -9 of the leader")
        assert len(c.get_children(root)) == 21
        new_leader = members.leader()
        assert new_leader in followers
    finally:
        c.stop()
        c.close()
