"""Fixtures: a zkit server started from the built binary, and kazoo clients."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from kazoo.client import KazooClient

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "bin" / "zkit"


class ZkitProcess:
    """A standalone zkit server run as a subprocess on a free port."""

    def __init__(self, extra_config: str = "", tick_ms: int = 200) -> None:
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: run `make build` first")
        self.dir = Path(tempfile.mkdtemp(prefix="zkit-pytest-"))
        cfg = self.dir / "zoo.cfg"
        cfg.write_text(
            f"tickTime={tick_ms}\n"
            f"dataDir={self.dir / 'data'}\n"
            "clientPort=2181\n"
            "maxClientCnxns=0\n"
            "4lw.commands.whitelist=*\n"
            "admin.enableServer=false\n" + extra_config
        )
        ready = self.dir / "addr"
        self.log = open(self.dir / "zkit.log", "wb")
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", str(cfg), "--client-addr", "127.0.0.1:0", "--ready-file", str(ready)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("zkit did not start:\n" + (self.dir / "zkit.log").read_text())
            time.sleep(0.01)
        self.address = ready.read_text().strip()
        host, port = self.address.rsplit(":", 1)
        self.host, self.port = host, int(port)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def zkit_server() -> Iterator[ZkitProcess]:
    server = ZkitProcess(extra_config="extendedTypesEnabled=true\n"
                         "DigestAuthenticationProvider.superDigest="
                         "super:lK75jTNcA+U9vtVEw5vB51mj/w4=\n")
    yield server
    server.stop()


@pytest.fixture
def zk(zkit_server: ZkitProcess) -> Iterator[KazooClient]:
    """A connected client, chrooted to a fresh path so tests never collide."""
    root = f"/t-{uuid.uuid4().hex[:12]}"
    admin = KazooClient(hosts=zkit_server.address)
    admin.start(timeout=10)
    admin.ensure_path(root)
    admin.stop()
    admin.close()
    client = KazooClient(hosts=zkit_server.address + root)
    client.start(timeout=10)
    yield client
    client.stop()
    client.close()


@pytest.fixture
def make_client(zkit_server: ZkitProcess):
    """Factory of extra clients, closed after the test."""
    made = []

    def make(hosts: str = "", **kwargs) -> KazooClient:
        c = KazooClient(hosts=hosts or zkit_server.address, **kwargs)
        c.start(timeout=10)
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            c.stop()
            c.close()
        except Exception:
            pass
