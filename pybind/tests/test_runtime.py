"""The in-process runtime's edges: fork protection, the log pump, versions,
the CLI."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest
from zkit_testutil import eventually

import zkit


def _run_in_fork(fn) -> str:
    """Runs fn in a forked child; returns what it reported (or raised)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        os.close(r)
        try:
            msg = "ok: " + str(fn())
        except BaseException as e:  # noqa: B902
            msg = f"{type(e).__name__}: {e}"
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + 20
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError("the forked child hung")
    return b"".join(chunks).decode()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_fails_clearly_instead_of_hanging():
    with zkit.Ensemble(3) as ens:
        out = _run_in_fork(lambda: ens.members[0].stop())
        assert out.startswith("ZkitError") and "does not survive fork" in out and "spawn" in out
        out = _run_in_fork(lambda: zkit.Ensemble(1))
        assert out.startswith("ZkitError") and "does not survive fork" in out
        out = _run_in_fork(lambda: ens.hosts)  # plain data is fine
        assert out == "ok: " + ens.hosts
        out = _run_in_fork(lambda: ens.close())  # the child does not close the parent's
        assert out == "ok: None"
        # the parent is unaffected
        assert ens.leader is not None
        ens.members[0].restart()
        ens.wait_ready(10)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_may_use_process_mode():
    with zkit.Ensemble(1):  # the runtime is loaded in this process
        out = _run_in_fork(_process_mode_hosts)
        assert out.startswith("ok: 127.0.0.1:"), out


def _process_mode_hosts() -> str:
    with zkit.Ensemble(1, mode="process") as e:  # closed: no member or directory outlives it
        return e.hosts


def _spawned_child(q) -> None:
    import zkit as z

    with z.Ensemble(1) as e:
        q.put(e.leader.id)


def test_spawned_child_gets_its_own_runtime():
    zkit.Ensemble(1).close()  # loaded here first
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_spawned_child, args=(q,))
    p.start()
    assert q.get(timeout=60) == 1
    p.join(30)
    assert p.exitcode == 0


def test_log_pump_forwards_go_records(caplog):
    caplog.set_level(logging.INFO, logger="zkit")
    with zkit.Ensemble(3) as ens:
        ens.members[0].restart()
        ens.wait_ready(10)

        def role_records():
            return [
                r
                for r in caplog.records
                if r.name == "zkit" and getattr(r, "zkit_member", 0) and "role" in r.getMessage()
            ]

        recs = eventually(role_records)
    r = recs[0]
    assert r.levelno == logging.INFO
    assert r.getMessage().startswith(f"member {r.zkit_member}: role")
    assert "state" in r.zkit_attrs
    assert r.zkit_ensemble.startswith("inprocess-")
    assert abs(r.created - time.time()) < 60


def test_log_level_follows_the_zkit_logger(caplog):
    caplog.set_level(logging.WARNING, logger="zkit")
    with zkit.Ensemble(1):
        time.sleep(0.3)
    assert not [r for r in caplog.records if r.name == "zkit" and r.levelno < logging.WARNING]


def test_process_mode_logs_too(caplog):
    caplog.set_level(logging.INFO, logger="zkit")
    with zkit.Ensemble(1, mode="process"):
        eventually(lambda: [r for r in caplog.records if r.name == "zkit" and "role" in r.getMessage()])
    assert any(r.zkit_ensemble.startswith("process-") for r in caplog.records if r.name == "zkit")


def test_versions():
    v = zkit.library_version()
    assert v.startswith(f"zkit {zkit.__version__} ") and "abi 1" in v
    out = subprocess.run([sys.executable, "-m", "zkit", "version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and zkit.__version__ in out.stdout and "missing" not in out.stdout


def test_import_is_cheap_and_loads_no_runtime():
    code = (
        "import json, sys, zkit; "
        "print(json.dumps(['ctypes' in sys.modules, 'kazoo' in sys.modules, 'zkit._native' not in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert json.loads(out) == [False, False, True]


def test_cli_ensemble_serves_until_interrupted(tmp_path, kazoo_client):
    ready = tmp_path / "ready"
    p = subprocess.Popen(
        [sys.executable, "-m", "zkit", "ensemble", "-n", "3", "--tick-time-ms", "200", "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        eventually(lambda: ready.exists() or p.poll() is not None, timeout=30)
        assert p.poll() is None, p.stderr.read()
        hosts = ready.read_text().strip()
        assert p.stdout.readline().strip() == hosts
        zk = kazoo_client(hosts)
        zk.create("/cli", b"ok")
        zk.stop()
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=30) == 0
        assert "server.1" in p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_cli_hands_other_commands_to_the_go_binary():
    out = subprocess.run(
        [sys.executable, "-m", "zkit", "datadir", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "datadir" in (out.stdout + out.stderr)
    out = subprocess.run([sys.executable, "-m", "zkit"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "ensemble" in out.stderr


def test_missing_library_is_a_clear_error(tmp_path):
    code = "import zkit\ntry:\n    zkit.Ensemble(1)\nexcept zkit.ZkitError as e:\n    print(e)"
    env = dict(os.environ, ZKIT_LIBRARY=str(tmp_path / "nope.so"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env).stdout
    assert "nope.so is missing" in out and "mode='process'" in out
