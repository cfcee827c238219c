"""Operations features through kazoo: dynamic reconfiguration and read-only mode."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import BadArgumentsError, NotReadOnlyCallError

import zkit

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "bin" / "zkit"


def super_digest(user_password: str) -> str:
    user = user_password.split(":", 1)[0]
    return user + ":" + base64.b64encode(hashlib.sha1(user_password.encode()).digest()).decode()


def four_letter(address: str, word: str) -> str:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(word.encode())
        chunks = []
        while True:
            b = s.recv(4096)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode()


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def reconfig_ensemble() -> Iterator[Dict[str, Any]]:
    """`zkit ensemble -n 3 --reconfig-enabled` as an operator runs it, with a super user."""
    if not BINARY.exists():
        raise RuntimeError(f"{BINARY} is missing: run `make build` first")
    work = Path(tempfile.mkdtemp(prefix="zkit-reconfig-"))
    ready = work / "ready.json"
    log = open(work / "zkit.log", "wb")
    proc = subprocess.Popen(
        [str(BINARY), "ensemble", "-n", "3", "--tick-time", "200ms", "--reconfig-enabled",
         "--super-digest", super_digest("super:secret"), "--json", "--ready-file", str(ready)],
        stdout=subprocess.PIPE, stderr=log,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("zkit ensemble did not start:\n" + (work / "zkit.log").read_text())
        yield json.loads(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        for p in work.iterdir():
            p.unlink()
        work.rmdir()


def spec(member: Dict[str, Any], role: str = "participant") -> str:
    quorum_host, quorum_port = member["quorum"].rsplit(":", 1)
    election_port = member["election"].rsplit(":", 1)[1]
    return f"server.{member['id']}={quorum_host}:{quorum_port}:{election_port}:{role};{member['client']}"


def config_ids(data: bytes) -> List[int]:
    return sorted(int(l.split("=", 1)[0][len("server."):]) for l in data.decode().splitlines() if l.startswith("server."))


def test_reconfig_with_kazoo(reconfig_ensemble: Dict[str, Any]) -> None:
    members = reconfig_ensemble["members"]
    follower = next(m for m in members if m["role"] == "following")
    others = [m for m in members if m is not follower]
    zk = KazooClient(hosts=",".join(m["client"] for m in others), auth_data=[("digest", "super:secret")])
    zk.start(timeout=10)
    try:
        data, stat = zk.get("/zookeeper/config")
        assert config_ids(data) == [1, 2, 3]
        assert stat.version == -1

        changes: List[bytes] = []
        seen = threading.Event()

        @zk.DataWatch("/zookeeper/config")
        def watch(d: bytes, s: Any) -> None:
            changes.append(d)
            if len(changes) > 1:
                seen.set()

        data, stat = zk.reconfig(joining=None, leaving=str(follower["id"]), new_members=None)
        assert config_ids(data) == sorted(m["id"] for m in others)
        version = int(data.decode().rsplit("version=", 1)[1], 16)
        assert stat.mzxid == version, "the new configuration's version is the zxid of its reconfig"
        assert seen.wait(10), "the DataWatch on /zookeeper/config did not fire"
        assert config_ids(changes[-1]) == config_ids(data)

        # fromConfig must match the current version; one voter is too few.
        with pytest.raises(Exception) as bad_version:
            zk.reconfig(joining=None, leaving=str(others[0]["id"]), new_members=None, from_config=version + 1)
        assert "BadVersion" in type(bad_version.value).__name__
        with pytest.raises(BadArgumentsError):
            zk.reconfig(joining=None, leaving=str(others[0]["id"]), new_members=None)

        # The removed server went on following; it comes back as an observer.
        data, _ = zk.reconfig(joining=spec(follower, "observer"), leaving=None, new_members=None, from_config=version)
        assert f"server.{follower['id']}=" in data.decode() and ":observer;" in data.decode()
        wait_for(lambda: "Mode: observer" in four_letter(follower["client"], "srvr"), "the observer to sync")
        observer = KazooClient(hosts=follower["client"])
        observer.start(timeout=10)
        try:
            zk.create("/written-through-voters", b"x")
            observer.sync("/")
            assert observer.exists("/written-through-voters") is not None
        finally:
            observer.stop()
            observer.close()
    finally:
        zk.stop()
        zk.close()


def test_read_only_mode_with_kazoo() -> None:
    """A member cut off from its quorum serves read-only clients, refuses writes, and
    sends them back to read-write service when the quorum returns."""
    with zkit.Ensemble(3, read_only=True, tick_time_ms=100) as ens:
        writer = KazooClient(hosts=ens.hosts)
        writer.start(timeout=10)
        writer.create("/ro-data", b"before")
        member = ens.followers[0]
        ro = KazooClient(hosts=member.address, read_only=True)
        states: List[str] = []
        ro.add_listener(lambda s: states.append(s))
        ro.start(timeout=10)
        try:
            ro.sync("/")
            ens.partition(member)
            wait_for(lambda: four_letter(member.address, "isro") == "ro", "the partitioned member to turn read-only")
            wait_for(lambda: ro.client_state == "CONNECTED_RO" and ro.connected, "kazoo to connect read-only")
            assert ro.get("/ro-data")[0] == b"before"
            with pytest.raises(NotReadOnlyCallError):
                ro.set("/ro-data", b"refused")
            # The rest of the ensemble still takes writes.
            writer.retry(writer.set, "/ro-data", b"after")

            ens.heal()
            wait_for(lambda: four_letter(member.address, "isro") == "rw", "the member to rejoin", timeout=20)
            wait_for(lambda: ro.connected and ro.client_state == "CONNECTED", "kazoo to move back to read-write", timeout=30)
            ro.retry(ro.set, "/ro-data", b"writable again")
            assert KazooState.CONNECTED in states
        finally:
            ro.stop()
            ro.close()
            writer.stop()
            writer.close()
