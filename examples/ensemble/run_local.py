"""Run the example 3-server ensemble (server1/ server2/ server3/) with the
bare zkit binary, on free ports, in a scratch directory.

The example configs use the fixed ports of the classic tutorial (clients on
2181-2183, quorum 2888-2890, election 3888-3890, AdminServer 8081-8083).
Those may be taken on your machine, and tests must never rely on fixed
ports, so this script copies the three configs and myid files into a
scratch directory, swaps every port for a free one (and dataDir for the
copy), starts `zkit serve serverN/zoo.cfg` for each, waits until one
server leads and the other two follow, and prints the connect string:

    python examples/ensemble/run_local.py --binary bin/zkit
    127.0.0.1:40313,127.0.0.1:36529,127.0.0.1:41877

It serves until interrupted (Ctrl-C or SIGTERM), then stops the three
servers and removes the scratch directory. `--ready-file F` also writes
the connect string to F once the ensemble is ready (scripts/demo.sh waits
for it).

Used as a module (pytests/test_examples.py): `LocalEnsemble(binary)` is a
context manager with `.hosts`, `.servers` and `.modes()`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SERVERS = (1, 2, 3)

_PORT_KEYS = ("clientPort", "admin.serverPort")
_SERVER_LINE = re.compile(r"^(server\.(\d+))=([^:]+):(\d+):(\d+)(.*)$")


def free_ports(n: int, host: str = "127.0.0.1") -> List[int]:
    """n distinct ports the OS reports free right now (bound to port 0 at
    the same time, then released for the servers to bind)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def fixed_ports(config_text: str) -> List[int]:
    """Every port a config names (client, quorum, election, AdminServer)."""
    ports = []
    for line in config_text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in _PORT_KEYS:
            ports.append(int(value))
        m = _SERVER_LINE.match(line.strip())
        if m:
            ports += [int(m.group(4)), int(m.group(5))]
    return ports


def remap(config_text: str, ports: Dict[int, int], data_dir: Path) -> str:
    """The config with each port replaced through `ports` and dataDir set
    to `data_dir`."""
    out = []
    for line in config_text.splitlines():
        key, sep, value = line.partition("=")
        if key.strip() in _PORT_KEYS:
            line = f"{key}={ports[int(value)]}"
        elif key.strip() == "dataDir":
            line = f"dataDir={data_dir}"
        else:
            m = _SERVER_LINE.match(line.strip())
            if m:
                line = f"{m.group(1)}={m.group(3)}:{ports[int(m.group(4))]}:{ports[int(m.group(5))]}{m.group(6)}"
        out.append(line)
    return "\n".join(out) + "\n"


def write_configs(dest: Path, source: Path = HERE) -> List[Path]:
    """Copies server1..3 (zoo.cfg and data/myid) from `source` into `dest`
    with free ports; returns the three config paths."""
    texts = {i: (source / f"server{i}" / "zoo.cfg").read_text() for i in SERVERS}
    old = sorted({p for t in texts.values() for p in fixed_ports(t)})
    ports = dict(zip(old, free_ports(len(old))))
    paths = []
    for i in SERVERS:
        data = dest / f"server{i}" / "data"
        data.mkdir(parents=True)
        shutil.copyfile(source / f"server{i}" / "data" / "myid", data / "myid")
        cfg = dest / f"server{i}" / "zoo.cfg"
        cfg.write_text(remap(texts[i], ports, data))
        paths.append(cfg)
    return paths


def srvr(address: str, timeout: float = 1.0) -> str:
    """The answer to the four-letter word `srvr` ('' if none)."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as s:
            s.sendall(b"srvr")
            chunks = []
            while True:
                b = s.recv(4096)
                if not b:
                    break
                chunks.append(b)
        return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


def _parent_death_signal() -> None:  # pragma: no cover - runs in the child
    """Linux: the server gets SIGKILL if this process dies first."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class LocalEnsemble:
    """The example ensemble: three `zkit serve` processes on free ports."""

    def __init__(self, binary: Path, workdir: Optional[Path] = None) -> None:
        self.binary = Path(binary)
        if not self.binary.exists():
            raise FileNotFoundError(f"{self.binary} is missing: run `make build` first")
        self._own_dir = workdir is None
        self.dir = Path(tempfile.mkdtemp(prefix="zkit-example-ensemble-")) if workdir is None else Path(workdir)
        self.configs = write_configs(self.dir)
        self.procs: Dict[int, subprocess.Popen] = {}
        self.servers: Dict[int, str] = {}  # myid -> client address

    # -- lifecycle ----------------------------------------------------------

    def start(self, timeout: float = 30.0) -> "LocalEnsemble":
        """Starts the three servers and waits for a leader and two followers."""
        try:
            for i in SERVERS:
                self.start_server(i)
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_server(self, i: int, timeout: float = 30.0) -> str:
        """Starts server i (again) and returns its client address once bound."""
        ready = self.dir / f"server{i}" / "ready"
        if ready.exists():
            ready.unlink()
        log = open(self.dir / f"server{i}" / "zkit.log", "ab")
        try:
            self.procs[i] = subprocess.Popen(
                [str(self.binary), "serve", str(self.configs[i - 1]), "--ready-file", str(ready)],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_parent_death_signal,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while not (ready.exists() and ready.read_text().strip()):
            if self.procs[i].poll() is not None:
                raise RuntimeError(f"server{i} exited with {self.procs[i].returncode}:\n{self.log(i)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server{i} did not start within {timeout}s:\n{self.log(i)}")
            time.sleep(0.02)
        # zoo.cfg's clientPort binds every interface ("[::]:port" in the
        # ready file); clients on this machine use the loopback address.
        port = ready.read_text().strip().rsplit(":", 1)[1]
        self.servers[i] = f"127.0.0.1:{port}"
        return self.servers[i]

    def kill_server(self, i: int) -> None:
        """Crashes server i (SIGKILL)."""
        p = self.procs.pop(i)
        p.kill()
        p.wait(10)

    def modes(self) -> Dict[int, str]:
        """Each running server's Mode (leader, follower) from srvr, or ''."""
        out = {}
        for i, addr in self.servers.items():
            m = re.search(r"^Mode: (\S+)", srvr(addr) if i in self.procs else "", re.M)
            out[i] = m.group(1) if m else ""
        return out

    def wait_ready(self, timeout: float = 30.0) -> Dict[int, str]:
        """Waits until one running server leads and the others follow."""
        deadline = time.monotonic() + timeout
        while True:
            modes = self.modes()
            running = [modes[i] for i in self.procs]
            if running.count("leader") == 1 and running.count("follower") == len(running) - 1:
                return modes
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- server{i}\n{self.log(i)}" for i in self.procs)
                raise TimeoutError(f"no leader with followers within {timeout}s: {modes}\n{logs}")
            time.sleep(0.05)

    @property
    def hosts(self) -> str:
        """The connect string of the three servers."""
        return ",".join(self.servers[i] for i in SERVERS)

    def log(self, i: int) -> str:
        """The end of server i's log (for error messages)."""
        try:
            return (self.dir / f"server{i}" / "zkit.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stops every server (SIGTERM, then SIGKILL) and removes the
        scratch directory if this object made it."""
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        self.procs.clear()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "LocalEnsemble":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Optional[List[str]] = None) -> int:
    """Serves the example ensemble until SIGINT or SIGTERM; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=str(ROOT / "bin" / "zkit"), help="the zkit binary (default: bin/zkit)")
    ap.add_argument("--ready-file", help="write the connect string here once the ensemble is ready")
    args = ap.parse_args(argv)

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM as Ctrl-C: leaving the with block stops the servers and
    # removes the scratch directory, even in the middle of starting them.
    signal.signal(signal.SIGTERM, interrupted)
    try:
        with LocalEnsemble(Path(args.binary)) as ens:
            for i, mode in sorted(ens.modes().items()):
                print(f"server{i}: {ens.servers[i]} {mode} ({ens.configs[i - 1]})", file=sys.stderr)
            # The ready file first, then stdout: whoever reads either one
            # finds both in place.
            if args.ready_file:
                tmp = args.ready_file + ".tmp"
                Path(tmp).write_text(ens.hosts + "\n")
                os.replace(tmp, args.ready_file)
            print(ens.hosts, flush=True)
            while True:
                dead = [i for i, p in ens.procs.items() if p.poll() is not None]
                if dead:
                    print(f"server{dead[0]} exited:\n{ens.log(dead[0])}", file=sys.stderr)
                    return 1
                time.sleep(0.5)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
