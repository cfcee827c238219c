"""mode="process": every member is a ``zkit member`` subprocess of the Go
binary shipped in the package, so kill() is a real ``kill -9`` and a restart
recovers from the member's data directory.

Members bind port 0 and find each other through a rendezvous directory
(``<dir>/<id>.json``); a restarted member reads its file and binds the same
ports again, so clients and peers keep its address.

Members must not outlive this process: on Linux each is started with a
parent-death signal (SIGTERM when this process dies, even by SIGKILL), from
one long-lived thread (the signal follows the thread that forked), and an
``atexit`` hook closes what is still open.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional

from . import _logs, _wire
from ._errors import ZkitError
from ._status import MemberStatus

BINARY_NAME = "zkit.exe" if sys.platform == "win32" else "zkit"

PARTITION_MESSAGE = (
    "zkit: partition() needs mode='inprocess'. In process mode members connect to "
    "each other directly over loopback, and this kit has no honest way to cut those "
    "links alone (the addresses are the members' own; a proxy would have to sit in "
    "every member's path). Use kill(), stop() or pause() here, or an in-process "
    "ensemble for partitions."
)


def binary_path() -> Path:
    """The ``zkit`` Go binary used by process mode: ``$ZKIT_BINARY`` or the
    copy inside the package (``zkit/_bin/zkit``)."""
    env = os.environ.get("ZKIT_BINARY")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "_bin" / BINARY_NAME


# --- spawning with a parent-death signal ------------------------------------

_spawn_lock = threading.Lock()
_spawn_queue: "Optional[queue.Queue[Any]]" = None


def _pdeathsig_preexec() -> Optional[Callable[[], None]]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec
        prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl
            os._exit(1)

    return preexec


def _spawner(q: "queue.Queue[Any]") -> None:
    while True:
        fn, box, done = q.get()
        try:
            box.append((True, fn()))
        except BaseException as e:  # noqa: B902 - handed to the caller
            box.append((False, e))
        done.set()


def _spawn(args: List[str], **kwargs: Any) -> "subprocess.Popen[bytes]":
    """Popen from the one spawner thread (see the module docstring)."""
    global _spawn_queue
    with _spawn_lock:
        if _spawn_queue is None or _spawn_queue_pid != os.getpid():
            _start_spawner()
    assert _spawn_queue is not None
    preexec = _pdeathsig_preexec()
    box: List[Any] = []
    done = threading.Event()
    _spawn_queue.put((lambda: subprocess.Popen(args, preexec_fn=preexec, **kwargs), box, done))
    done.wait()
    ok, value = box[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


_spawn_queue_pid = 0


def _start_spawner() -> None:
    global _spawn_queue, _spawn_queue_pid
    _spawn_queue = queue.Queue()
    _spawn_queue_pid = os.getpid()
    threading.Thread(target=_spawner, args=(_spawn_queue,), name="zkit-spawner", daemon=True).start()


# --- one member process ------------------------------------------------------


class _MemberProcess:
    def __init__(self, backend: "ProcessBackend", member_id: int, observer: bool) -> None:
        self.id = member_id
        self.observer = observer
        self.backend = backend
        self.data_dir = backend.data_root / f"member-{member_id}"
        self.ready_file = backend.root / f"ready-{member_id}"
        self.proc: "Optional[subprocess.Popen[bytes]]" = None
        self.reader: Optional[threading.Thread] = None
        self.tail: Deque[str] = collections.deque(maxlen=40)
        self.expected_exit = True  # no process yet
        self.paused = False
        self.address = ""

    def args(self) -> List[str]:
        b = self.backend
        a = [
            str(b.binary), "member",
            "--id", str(self.id),
            "--voters", ",".join(str(i) for i in b.voters),
            "--rendezvous", str(b.rendezvous),
            "--data-dir", str(self.data_dir),
            "--host", b.host,
            "--tick-time", f"{b.tick_time_ms}ms",
            "--init-limit", str(b.init_limit),
            "--sync-limit", str(b.sync_limit),
            "--ready-file", str(self.ready_file),
            "--log-format", "json",
            "--log-level", b.log_level,
        ]  # fmt: skip
        if b.observer_ids:
            a += ["--observers", ",".join(str(i) for i in b.observer_ids)]
        if b.no_sync:
            a.append("--no-sync")
        if b.extended_types:
            a.append("--extended-types")
        if b.read_only:
            a.append("--read-only-mode")
        if b.container_check_interval_ms is not None:
            a += ["--container-check-interval", f"{b.container_check_interval_ms}ms"]
        if b.super_digest:
            a += ["--super-digest", b.super_digest]
        return a

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def launch(self) -> None:
        if self.running:
            return
        try:
            self.ready_file.unlink()
        except FileNotFoundError:
            pass
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            proc = _spawn(
                self.args(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as e:
            raise ZkitError(f"zkit: cannot run {self.backend.binary}: {e}") from e
        self.proc = proc
        self.expected_exit = False
        self.paused = False
        self.reader = threading.Thread(
            target=self._read_logs, args=(proc,), name=f"zkit-member-{self.id}-logs", daemon=True
        )
        self.reader.start()

    def _read_logs(self, proc: "subprocess.Popen[bytes]") -> None:
        assert proc.stderr is not None
        ensemble = f"process-{self.backend.root.name}"
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not line:
                continue
            self.tail.append(line)
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise ValueError
            except ValueError:
                _logs.emit(4, line, member=self.id, ensemble=ensemble)
                continue
            rec.pop("time", None)
            rec.pop("myid", None)
            level = _logs.slog_level_of(rec.pop("level", "INFO"))
            msg = str(rec.pop("msg", ""))
            _logs.emit(level, msg, rec, member=self.id, ensemble=ensemble)
        proc.stderr.close()

    def failure(self, what: str) -> ZkitError:
        code = self.proc.poll() if self.proc else None
        if self.reader is not None:
            self.reader.join(timeout=1)
        tail = "\n".join(self.tail) or "(no output)"
        return ZkitError(f"zkit: member {self.id} {what} (exit status {code}); its last output:\n{tail}")

    def wait_started(self, deadline: float) -> None:
        while True:
            try:
                text = self.ready_file.read_text().strip()
            except FileNotFoundError:
                text = ""
            if text:
                self.address = text
                return
            if self.proc is None or self.proc.poll() is not None:
                raise self.failure("exited while starting")
            if time.monotonic() > deadline:
                raise self.failure("did not start in time")
            time.sleep(0.002)

    def stop(self, timeout: float = 10.0) -> None:
        proc = self.proc
        self.expected_exit = True
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGCONT)  # a paused member must see SIGTERM
                proc.terminate()
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._reap()

    def kill(self) -> None:
        proc = self.proc
        self.expected_exit = True
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        self._reap()

    def _reap(self) -> None:
        if self.reader is not None:
            self.reader.join(timeout=5)
        self.proc = None
        self.reader = None


# --- the backend -------------------------------------------------------------


class ProcessBackend:
    """An ensemble of ``zkit member`` processes."""

    mode = "process"

    def __init__(
        self,
        *,
        size: int,
        observers: int,
        tick_time_ms: int,
        init_limit: int,
        sync_limit: int,
        data_dir: Optional[str],
        host: str,
        extended_types: bool,
        no_sync: bool,
        read_only: bool,
        log_level: str,
        start_timeout: float,
        container_check_interval_ms: Optional[int] = None,
        super_digest: Optional[str] = None,
    ) -> None:
        self.binary = binary_path()
        if not self.binary.exists():
            raise ZkitError(
                f"zkit: process mode needs the zkit binary, and {self.binary} is missing: "
                "install zkit with `pip install .` from a checkout (needs Go), or set "
                "ZKIT_BINARY to a zkit binary built with `make build`."
            )
        self.host = host
        self.tick_time_ms = tick_time_ms
        self.init_limit = init_limit
        self.sync_limit = sync_limit
        self.extended_types = extended_types
        self.no_sync = no_sync
        self.read_only = read_only
        self.container_check_interval_ms = container_check_interval_ms
        self.super_digest = super_digest
        self.log_level = log_level
        self.voters = list(range(1, size + 1))
        self.observer_ids = list(range(size + 1, size + observers + 1))
        self.root = Path(tempfile.mkdtemp(prefix="zkit-process-"))
        self.rendezvous = self.root / "rendezvous"
        self.rendezvous.mkdir()
        self.data_root = Path(data_dir) if data_dir else self.root / "data"
        self._closed = False
        self._lock = threading.RLock()
        self.members: Dict[int, _MemberProcess] = {
            i: _MemberProcess(self, i, i in self.observer_ids) for i in self.voters + self.observer_ids
        }
        try:
            for m in self.members.values():
                m.launch()
            deadline = time.monotonic() + start_timeout
            for m in self.members.values():
                m.wait_started(deadline)
        except BaseException:
            self.close()
            raise
        self.hosts = ",".join(m.address for m in self.members.values())

    def _check(self) -> None:
        if self._closed:
            raise ZkitError("zkit: the ensemble is closed")

    def _member(self, member_id: int) -> _MemberProcess:
        m = self.members.get(member_id)
        if m is None:
            raise ZkitError(f"zkit: no member {member_id} (ids are 1..{len(self.members)})")
        return m

    def pid(self, member_id: int) -> Optional[int]:
        m = self._member(member_id)
        return m.proc.pid if m.running and m.proc else None

    def address(self, member_id: int) -> str:
        return self._member(member_id).address

    def _died(self) -> Optional[ZkitError]:
        for m in self.members.values():
            if not m.expected_exit and not m.running:
                m.expected_exit = True
                return m.failure("exited unexpectedly")
        return None

    def status(self) -> List[MemberStatus]:
        self._check()
        raw = {}
        for m in self.members.values():  # a paused member would not answer
            raw[m.id] = _wire.srvr(m.address, timeout=1.0) if m.running and not m.paused else None
        leader = next((i for i, r in raw.items() if r and r.get("Mode") == "leader"), None)
        out = []
        for m in self.members.values():
            r = raw[m.id]
            running = m.running
            state, serving, zxid = "stopped", False, None
            if running and m.paused:
                state = "paused"
            elif running:
                mode = (r or {}).get("Mode", "")
                state = {"leader": "leading", "follower": "following", "observer": "observing"}.get(mode, "looking")
                serving = state != "looking"
                if serving and r and "Zxid" in r:
                    try:
                        zxid = int(r["Zxid"], 16)
                    except ValueError:
                        zxid = None
            out.append(
                MemberStatus(
                    id=m.id,
                    observer=m.observer,
                    running=running,
                    state=state,
                    serving=serving,
                    leader=leader if serving else None,
                    epoch=(zxid >> 32) if zxid is not None else None,
                    zxid=zxid,
                    address=m.address,
                    pid=m.proc.pid if running and m.proc else None,
                )
            )
        return out

    def member_status(self, member_id: int) -> MemberStatus:
        self._member(member_id)
        return next(s for s in self.status() if s.id == member_id)

    def member_op(self, member_id: int, op: str) -> None:
        self._check()
        m = self._member(member_id)
        with self._lock:
            if op == "stop":
                m.stop()
            elif op == "kill":
                m.kill()
            elif op in ("start", "restart"):
                if op == "restart":
                    m.stop()
                if not m.running:
                    m.launch()
                    m.wait_started(time.monotonic() + 30)
            elif op in ("pause", "resume"):
                if not m.running or m.proc is None:
                    raise ZkitError(f"zkit: member {member_id} is not running")
                os.kill(m.proc.pid, signal.SIGSTOP if op == "pause" else signal.SIGCONT)
                m.paused = op == "pause"
            else:
                raise ZkitError(f"zkit: unknown member operation {op!r}")

    def partition(self, member_id: int) -> None:
        raise ZkitError(PARTITION_MESSAGE)

    def heal(self) -> None:
        """Nothing to heal: process mode cannot partition."""

    def expire_session(self, session_id: int, password: Optional[bytes]) -> None:
        self._check()
        if password is None:
            raise ZkitError(
                "zkit: in process mode expire_session() needs the session's password: pass "
                "the client itself (expire_session(kazoo_client)) or expire_session(session_id, password)"
            )
        st = self.status()
        targets = [s for s in st if s.state == "leading"] + [s for s in st if s.serving and s.state != "leading"]
        if not targets:
            raise ZkitError("zkit: no member serves: cannot expire a session")
        _wire.close_session(targets[0].address, session_id, password)

    def wait_ready(self, timeout: float) -> None:
        self._check()
        deadline = time.monotonic() + timeout
        while True:
            died = self._died()
            if died is not None:
                raise died
            st = self.status()
            running = [s for s in st if s.running]
            if (
                running
                and all(s.serving or s.state == "paused" for s in running)
                and sum(s.state == "leading" for s in running) == 1
            ):
                return
            if time.monotonic() > deadline:
                states = " ".join(f"{s.id}:{s.state}" for s in st)
                raise ZkitError(
                    f"zkit: timed out after {timeout:g}s waiting for a leader and synced members ({states})"
                )
            time.sleep(0.005)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        procs = [m for m in self.members.values() if m.proc is not None]
        for m in procs:
            m.expected_exit = True
            if m.proc is not None and m.proc.poll() is None:
                try:
                    m.proc.send_signal(signal.SIGCONT)  # a paused member must see SIGTERM
                    m.proc.terminate()
                except ProcessLookupError:
                    pass
        for m in procs:  # all were told at once; now wait for each
            m.stop(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)
