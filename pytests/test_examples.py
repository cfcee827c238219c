"""The examples work: the 3-server zoo.cfg set forms an ensemble with the
bare binary (on free ports), every tutorial script runs both against it
(--hosts) and with its own zkit.Ensemble, and scripts/demo.sh runs them all
and leaves nothing behind."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List

import pytest
from kazoo.client import KazooClient

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TUTORIAL = EXAMPLES / "tutorial"
ENSEMBLE = EXAMPLES / "ensemble"
BINARY = ROOT / "bin" / "zkit"

pytestmark = pytest.mark.timeout(120)


def _load_run_local() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_local", ENSEMBLE / "run_local.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["run_local"] = mod
    spec.loader.exec_module(mod)
    return mod


run_local = _load_run_local()
#: examples/ensemble/run_local.py's LocalEnsemble (loaded from its path, so
#: typed loosely here).
LocalEnsemble = Any

#: What each tutorial script must print (besides exiting 0).
SCRIPTS: Dict[str, List[str]] = {
    "step1_connect_crud": [
        "is a leader",
        "creating it again fails: NodeExistsError",
        "(epoch ",
        "a set with a stale version fails: BadVersionError",
        "children: ['config', 'job-0000000001', 'job-0000000002', 'job-0000000003']",
        "deleted /tutorial; exists now: False",
        "step 1 done",
    ],
    "step2_watches": [
        "one-shot watch fired 1 time(s): CHANGED on /tutorial/watches/flag",
        "DataWatch saw, in order: ['off', 'red', 'green', 'blue']",
        "members now: ['worker-1', 'worker-2']",
        "members now: ['worker-2']",
        "step 2 done",
    ],
    "step3_lock": [
        "balance: 150 (expected 150)",
        "gives up: LockTimeout",
        "step 3 done",
    ],
    "step4_election": [
        "contenders, in line: ['candidate-a', 'candidate-b', 'candidate-c']",
        "leaders, in order: ['candidate-a', 'candidate-b', 'candidate-c']",
        "step 4 done",
    ],
    "step5_config": [
        "all 3 services run config version 10",
        "(nothing applied)",
        "transaction: 3 operations applied together",
        "all 3 services run config version 11",
        "step 5 done",
    ],
    "walkthrough": [
        "watch fired: b'color=green' is now version 1",
        "deleted /tutorial; exists now: False",
        "done",
    ],
}


def run_script(name: str, *args: str, timeout: float = 90) -> str:
    """Runs tutorial script `name` with `args`; returns its stdout (it must exit 0)."""
    proc = subprocess.run(
        [sys.executable, str(TUTORIAL / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(ROOT),
    )
    assert proc.returncode == 0, f"{name}.py exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-3000:]}"
    return proc.stdout


def check_output(name: str, out: str) -> None:
    """Fails unless the output has every line SCRIPTS expects of `name`."""
    missing = [line for line in SCRIPTS[name] if line not in out]
    assert not missing, f"{name}.py did not print {missing}:\n{out}"


@pytest.fixture(scope="module")
def zoo_cfg_ensemble() -> Iterator[LocalEnsemble]:
    """The example zoo.cfg set, three `bin/zkit serve` processes on free ports."""
    with run_local.LocalEnsemble(BINARY) as ens:
        yield ens


def test_example_configs_describe_one_ensemble() -> None:
    texts = {i: (ENSEMBLE / f"server{i}" / "zoo.cfg").read_text() for i in (1, 2, 3)}

    def values(text: str) -> Dict[str, str]:
        out = {}
        for line in text.splitlines():
            if line.strip() and not line.startswith("#"):
                k, _, v = line.partition("=")
                out[k.strip()] = v.strip()
        return out

    cfgs = {i: values(t) for i, t in texts.items()}
    servers = {i: {k: v for k, v in c.items() if k.startswith("server.")} for i, c in cfgs.items()}
    assert servers[1] == servers[2] == servers[3], "every server must list the same server.N lines"
    assert sorted(servers[1]) == ["server.1", "server.2", "server.3"]
    for i in (1, 2, 3):
        assert (ENSEMBLE / f"server{i}" / "data" / "myid").read_text().strip() == str(i)
        assert cfgs[i]["dataDir"] == f"./server{i}/data"
    # On one host every listening port must differ: client, quorum, election, admin.
    ports = [cfgs[i][k] for i in (1, 2, 3) for k in ("clientPort", "admin.serverPort")]
    ports += [p for v in servers[1].values() for p in v.split(":")[1:3]]
    assert len(ports) == len(set(ports)) == 12, ports
    # The free-port copy changes ports and dataDir only.
    moved = run_local.remap(texts[1], {int(p): 40000 + n for n, p in enumerate(ports)}, Path("/x"))
    assert moved.count("\n") == texts[1].count("\n")
    assert "server.1=127.0.0.1:4" in moved and "dataDir=/x" in moved


def test_zoo_cfg_ensemble_elects_and_serves_kazoo(zoo_cfg_ensemble: LocalEnsemble) -> None:
    ens = zoo_cfg_ensemble
    modes = ens.modes()
    assert sorted(modes.values()) == ["follower", "follower", "leader"], modes
    writer = KazooClient(hosts=ens.hosts)
    writer.start(timeout=15)
    readers = []
    try:
        path = f"/zoo-cfg-{uuid.uuid4().hex[:8]}"
        writer.create(path, b"replicated")
        for address in ens.servers.values():
            r = KazooClient(hosts=address)
            readers.append(r)
            r.start(timeout=15)
            r.sync(path)
            assert r.get(path)[0] == b"replicated", f"{address} does not have the write"
    finally:
        for c in [writer, *readers]:
            c.stop()
            c.close()


def test_zoo_cfg_ensemble_survives_its_leader_being_killed() -> None:
    with run_local.LocalEnsemble(BINARY) as ens:
        modes = ens.wait_ready()
        leader = next(i for i, m in modes.items() if m == "leader")
        zk = KazooClient(hosts=ens.hosts)
        zk.start(timeout=15)
        try:
            zk.create("/before", b"1")
            ens.kill_server(leader)  # kill -9
            after = ens.wait_ready()
            assert leader not in ens.procs and list(after.values()).count("leader") == 1
            zk.retry(zk.create, "/after", b"2")
            ens.start_server(leader)  # recovers from its data directory
            rejoined = ens.wait_ready()
            assert rejoined[leader] == "follower", rejoined
            pinned = KazooClient(hosts=ens.servers[leader])
            pinned.start(timeout=15)
            pinned.sync("/")
            assert pinned.get("/before")[0] == b"1" and pinned.get("/after")[0] == b"2"
            pinned.stop()
            pinned.close()
        finally:
            zk.stop()
            zk.close()


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_tutorial_script_against_zoo_cfg_ensemble(name: str, zoo_cfg_ensemble: LocalEnsemble) -> None:
    # Each script in its own chroot, so that one failing cannot upset another.
    chroot = f"/example-{name}-{uuid.uuid4().hex[:6]}"
    admin = KazooClient(hosts=zoo_cfg_ensemble.hosts)
    admin.start(timeout=15)
    try:
        admin.ensure_path(chroot)
    finally:
        admin.stop()
        admin.close()
    out = run_script(name, "--hosts", zoo_cfg_ensemble.hosts + chroot)
    assert f"using the ensemble at {zoo_cfg_ensemble.hosts}" in out
    check_output(name, out)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_tutorial_script_with_its_own_ensemble(name: str) -> None:
    out = run_script(name)
    assert re.search(r"started a local 3-member ensemble: 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+", out), out
    check_output(name, out)


def test_run_local_serves_until_terminated_and_cleans_up(tmp_path: Path) -> None:
    ready = tmp_path / "hosts"
    proc = subprocess.Popen(
        [sys.executable, str(ENSEMBLE / "run_local.py"), "--binary", str(BINARY), "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        hosts = proc.stdout.readline().strip() if proc.stdout else ""
        assert re.fullmatch(r"127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}", hosts), hosts
        assert ready.read_text().strip() == hosts
        zk = KazooClient(hosts=hosts)
        zk.start(timeout=15)
        zk.create("/hello", b"world")
        zk.stop()
        zk.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    scratch = {Path(m).parent.parent for m in re.findall(r"\((/\S+/server\d/zoo\.cfg)\)", err)}
    assert len(scratch) == 1, err
    assert not scratch.pop().exists(), "run_local.py left its scratch directory behind"
    _assert_no_servers_from(err)


def _assert_no_servers_from(log: str) -> None:
    """No `zkit serve` process of the configs named in log is left."""
    configs = re.findall(r"\((/\S+/server\d/zoo\.cfg)\)", log)
    assert configs
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(c.decode(errors="replace") in configs for c in cmd):
            left.append(pid)
    assert not left, f"zkit serve processes left running: {left}"


def test_demo_script_runs_every_tutorial_and_stops_everything() -> None:
    env = dict(os.environ, PY=sys.executable, BIN=str(BINARY))
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")], capture_output=True, text=True, timeout=110, env=env, cwd=str(ROOT)
    )
    assert proc.returncode == 0, f"demo.sh exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    for name in SCRIPTS:
        assert f"=== examples/tutorial/{name}.py --hosts" in proc.stdout
        check_output(name, proc.stdout)
    assert "demo done" in proc.stdout
    scratch = {Path(m).parent.parent for m in re.findall(r"\((/\S+/server\d/zoo\.cfg)\)", proc.stdout)}
    assert len(scratch) == 1 and not scratch.pop().exists(), "demo.sh left the servers' scratch directory"
    _assert_no_servers_from(proc.stdout)
