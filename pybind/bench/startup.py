#!/usr/bin/env python3
"""Start-up times of the Python kit, next to Apache ZooKeeper's, in one run.

Measures (median, min and max over --rounds):

- ``import zkit`` in a fresh interpreter (the interpreter's own start-up is
  measured apart and not counted);
- the first ``zkit.Ensemble(3)`` of a fresh interpreter (loading libzkit
  and starting the Go runtime included);
- ``zkit.Ensemble(3)`` until ready for its first write, in-process and in
  process mode: the constructor (which returns once a leader is elected and
  every member serves), then a kazoo client's connect and first create;
- a 3-member Apache ZooKeeper ensemble started the way kazoo's test harness
  (kazoo.testing.common.ZookeeperCluster) starts one: a zoo.cfg per member
  (tickTime=2000, initLimit=4, syncLimit=2, server.N lines), QuorumPeerMain
  JVMs started in reverse order, then (a) the harness's fixed 2 s sleep and
  a first write, and (b) the earliest first write, retrying the connect.
  Debian's jars from /usr/share/java; SSL, SASL and the Netty connection
  factory the harness also configures are left out (they only add time), and
  ports are picked free rather than from a fixed offset.

This is a benchmark, not a test: it prints a table and exits 0. Run it with
the project's venv: ``.venv/bin/python pybind/bench/startup.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

JARS = "/usr/share/java"
CLASSPATH_JARS = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-log4j12.jar", "log4j-1.2.jar"]


def first_write(hosts: str, timeout: float = 60.0) -> None:
    """Connects a kazoo client and creates one node, retrying until it works."""
    from kazoo.client import KazooClient
    from kazoo.exceptions import KazooException
    from kazoo.handlers.threading import KazooTimeoutError

    deadline = time.monotonic() + timeout
    while True:
        zk = KazooClient(hosts=hosts, connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.1})
        try:
            zk.start(timeout=max(0.5, deadline - time.monotonic()))
            zk.retry(zk.create, "/first-write", b"x")
            return
        except (KazooException, KazooTimeoutError):
            if time.monotonic() > deadline:
                raise
        finally:
            zk.stop()
            zk.close()


def timed(fn: Callable[[], None], rounds: int) -> List[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def import_times(rounds: int) -> Dict[str, List[float]]:
    empty, with_zkit = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        empty.append(time.perf_counter() - t)
        code = "import time; t = time.perf_counter(); import zkit; print(time.perf_counter() - t)"
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        with_zkit.append(float(out))
    return {"python -c pass (interpreter start-up)": empty, "import zkit": with_zkit}


def cold_ensemble(rounds: int) -> Dict[str, List[float]]:
    """The first in-process Ensemble(3) of a fresh interpreter, which also
    loads libzkit and starts the Go runtime."""
    code = "import time, zkit; t = time.perf_counter(); e = zkit.Ensemble(3); print(time.perf_counter() - t); e.close()"
    out = []
    for _ in range(rounds):
        r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        out.append(float(r.stdout))
    return {"first zkit.Ensemble(3) of a process, loading libzkit, ready": out}


def zkit_ensemble(mode: str, rounds: int) -> Dict[str, List[float]]:
    import zkit

    if mode == "inprocess":
        zkit.Ensemble(1).close()  # load the runtime once; not part of an ensemble's start
    ready, write = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        ens = zkit.Ensemble(3, mode=mode)
        ready.append(time.perf_counter() - t)
        first_write(ens.hosts)
        write.append(time.perf_counter() - t)
        ens.close()
    return {f"zkit.Ensemble(3, mode={mode!r}) ready": ready, f"zkit.Ensemble(3, mode={mode!r}) first write": write}


def free_ports(n: int) -> List[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class ApacheEnsemble:
    """Three QuorumPeerMain JVMs configured as kazoo's harness configures them."""

    def __init__(self, java: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="zkit-bench-apache-"))
        ports = free_ports(9)
        self.members = [
            {"id": i + 1, "client": ports[3 * i], "leader": ports[3 * i + 1], "election": ports[3 * i + 2]}
            for i in range(3)
        ]
        servers = "\n".join(
            f"server.{m['id']}=localhost:{m['leader']}:{m['election']}:participant" for m in self.members
        )
        classpath = ":".join(os.path.join(JARS, j) for j in CLASSPATH_JARS)
        self.procs: List[subprocess.Popen] = []
        self.cmds = []
        for m in self.members:
            d = self.dir / f"member-{m['id']}"
            (d / "data").mkdir(parents=True)
            (d / "data" / "myid").write_text(str(m["id"]))
            (d / "zoo.cfg").write_text(
                f"tickTime=2000\ndataDir={d / 'data'}\nclientPort={m['client']}\nmaxClientCnxns=0\n"
                "admin.enableServer=false\n4lw.commands.whitelist=*\n"
                f"initLimit=4\nsyncLimit=2\n{servers}\npeerType=participant\n"
            )
            (d / "log4j.properties").write_text(
                "log4j.rootLogger=INFO, FILE\nlog4j.appender.FILE=org.apache.log4j.FileAppender\n"
                f"log4j.appender.FILE.File={d / 'zookeeper.log'}\n"
                "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n"
            )
            self.cmds.append(
                [
                    java, "-cp", classpath, "-Dfile.encoding=UTF-8", "-Dreadonlymode.enabled=true",
                    f"-Dlog4j.configuration=file:{d / 'log4j.properties'}", "-Djava.awt.headless=true",
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(d / "zoo.cfg"),
                ]
            )  # fmt: skip

    @property
    def hosts(self) -> str:
        return ",".join(f"127.0.0.1:{m['client']}" for m in self.members)

    def start(self) -> None:
        for cmd in reversed(self.cmds):  # the harness starts them in reverse order
            self.procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def close(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def apache(rounds: int) -> Optional[Dict[str, List[float]]]:
    java = shutil.which("java")
    missing = [j for j in CLASSPATH_JARS if not os.path.exists(os.path.join(JARS, j))]
    if java is None or missing:
        print(f"(Apache ZooKeeper skipped: java={java}, missing jars {missing})", file=sys.stderr)
        return None
    harness, earliest = [], []
    for mode in ("harness", "earliest"):
        for _ in range(rounds):
            ens = ApacheEnsemble(java)
            try:
                t = time.perf_counter()
                ens.start()
                if mode == "harness":
                    time.sleep(2)  # ZookeeperCluster.start()
                first_write(ens.hosts)
                (harness if mode == "harness" else earliest).append(time.perf_counter() - t)
            finally:
                ens.close()
    return {
        "Apache 3-member ensemble, kazoo harness (start, sleep 2 s, first write)": harness,
        "Apache 3-member ensemble, earliest first write": earliest,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=10, help="rounds of each zkit measurement (default 10)")
    ap.add_argument("--apache-rounds", type=int, default=3, help="rounds of each Apache measurement (default 3)")
    ap.add_argument("--no-apache", action="store_true", help="skip Apache ZooKeeper")
    args = ap.parse_args()

    import logging

    logging.getLogger("kazoo").setLevel(logging.CRITICAL)
    results: Dict[str, List[float]] = {}
    results.update(import_times(args.rounds))
    results.update(cold_ensemble(args.rounds))
    results.update(zkit_ensemble("inprocess", args.rounds))
    results.update(zkit_ensemble("process", args.rounds))
    if not args.no_apache:
        results.update(apache(args.apache_rounds) or {})

    width = max(len(k) for k in results)
    print(f"{'measurement':<{width}}  {'median':>9}  {'min':>9}  {'max':>9}  n")
    for name, xs in results.items():
        print(
            f"{name:<{width}}  {statistics.median(xs) * 1000:7.1f}ms  {min(xs) * 1000:7.1f}ms  "
            f"{max(xs) * 1000:7.1f}ms  {len(xs)}"
        )
    base = results.get("zkit.Ensemble(3, mode='inprocess') first write")
    for name in [k for k in results if k.startswith("Apache")]:
        if base:
            print(f"{name}: {statistics.median(results[name]) / statistics.median(base):.0f}x zkit in-process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
