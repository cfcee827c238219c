"""ctypes binding of libzkit.so (cshim/zkit.h), the in-process runtime.

The library is loaded on first use, not at ``import zkit``. Loading it starts
the Go runtime in this process, and a daemon thread that pumps Go's log
records into ``logging``. The Go runtime does not survive ``fork()``: a child
forked after the library was loaded gets a :class:`ZkitError` from every
call instead of a hang.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Optional

from . import _logs
from ._errors import ZkitError

ABI_VERSION = 1

if sys.platform == "darwin":
    LIBRARY_NAME = "libzkit.dylib"
elif sys.platform == "win32":
    LIBRARY_NAME = "zkit.dll"
else:
    LIBRARY_NAME = "libzkit.so"

FORK_MESSAGE = (
    "zkit: this process was forked from one that had started the in-process zkit "
    "runtime (libzkit); the Go runtime does not survive fork(), so in-process "
    "ensembles cannot be used here. Start the child with the 'spawn' or "
    "'forkserver' multiprocessing start method, create ensembles only in the "
    "child, or use zkit.Ensemble(mode='process')."
)

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_loaded_pid = 0
_forked = False


def _after_fork_in_child() -> None:
    global _forked
    if _lib is not None:
        _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def library_path() -> Path:
    """Where libzkit is loaded from: ``$ZKIT_LIBRARY`` or the copy inside the
    package."""
    env = os.environ.get("ZKIT_LIBRARY")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / LIBRARY_NAME


def forked() -> bool:
    """True in a child forked after the in-process runtime was loaded."""
    return _forked


def check_fork() -> None:
    """Raises :class:`ZkitError` in a forked child of a process that had
    loaded the runtime."""
    if _forked:
        raise ZkitError(FORK_MESSAGE)


def _declare(lib: ctypes.CDLL) -> None:
    c_char_pp = ctypes.POINTER(ctypes.c_void_p)
    err = ctypes.c_void_p  # a char* we must zkit_free, so not c_char_p
    i64 = ctypes.c_int64
    sigs = {
        "zkit_version": (ctypes.c_void_p, []),
        "zkit_abi_version": (ctypes.c_int32, []),
        "zkit_free": (None, [ctypes.c_void_p]),
        "zkit_start": (err, [ctypes.c_char_p, ctypes.POINTER(i64)]),
        "zkit_wait_ready": (err, [i64, i64]),
        "zkit_connect_string": (err, [i64, c_char_pp]),
        "zkit_members": (err, [i64, c_char_pp]),
        "zkit_member_stop": (err, [i64, i64]),
        "zkit_member_start": (err, [i64, i64]),
        "zkit_member_kill": (err, [i64, i64]),
        "zkit_member_restart": (err, [i64, i64]),
        "zkit_partition": (err, [i64, i64]),
        "zkit_heal": (err, [i64]),
        "zkit_expire_session": (err, [i64, i64]),
        "zkit_close": (err, [i64]),
        "zkit_next_log": (err, [i64, ctypes.c_int32, c_char_pp]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def lib() -> ctypes.CDLL:
    """The loaded library (loading it, and starting the log pump, on first
    use)."""
    global _lib, _loaded_pid
    check_fork()
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            path = library_path()
            if not path.exists():
                raise ZkitError(
                    f"zkit: the in-process runtime {path} is missing: this zkit was not built "
                    "with its Go code. Install it with `pip install .` from a checkout (needs Go), "
                    "set ZKIT_LIBRARY to a libzkit built with "
                    "`go build -buildmode=c-shared -o libzkit.so ./cshim`, or use mode='process'."
                )
            try:
                loaded = ctypes.CDLL(str(path))
                _declare(loaded)
            except (OSError, AttributeError) as e:
                raise ZkitError(f"zkit: cannot load {path}: {e}") from e
            abi = loaded.zkit_abi_version()
            if abi != ABI_VERSION:
                raise ZkitError(f"zkit: {path} has C ABI {abi}, this package needs {ABI_VERSION}: reinstall zkit")
            _lib = loaded
            _loaded_pid = os.getpid()
            threading.Thread(target=_pump_logs, name="zkit-log-pump", daemon=True).start()
    assert _lib is not None
    return _lib


def take_string(p: Optional[int]) -> Optional[str]:
    """Copies a malloc'd C string returned by the library and frees it."""
    if not p:
        return None
    try:
        return ctypes.string_at(p).decode("utf-8", "replace")
    finally:
        _lib.zkit_free(p)  # type: ignore[union-attr]


def call(fn: Callable[..., Any], *args: Any) -> None:
    """Calls an export returning a char* error; raises it as ZkitError."""
    check_fork()
    msg = take_string(fn(*args))
    if msg is not None:
        raise ZkitError(msg)


def call_out(fn: Callable[..., Any], *args: Any) -> Optional[str]:
    """Calls an export with a trailing ``char** out``; returns the string."""
    check_fork()
    out = ctypes.c_void_p()
    msg = take_string(fn(*args, ctypes.byref(out)))
    value = take_string(out.value)
    if msg is not None:
        raise ZkitError(msg)
    return value


def version() -> str:
    """libzkit's version string."""
    lb = lib()
    return take_string(lb.zkit_version()) or ""


# --- the log pump -----------------------------------------------------------


def _pump_logs() -> None:
    lb = _lib
    assert lb is not None
    while True:
        if _forked:  # never in practice: threads do not survive fork
            return
        try:
            raw = call_out(lb.zkit_next_log, 250, 512)
        except ZkitError:
            return
        except Exception:  # interpreter shutting down
            return
        if raw is None:
            continue
        try:
            batch = json.loads(raw)
        except ValueError:
            continue
        try:
            if batch.get("dropped"):
                _logs.emit_dropped(batch["dropped"])
            for r in batch.get("records", ()):
                _logs.emit(
                    r.get("level", 0),
                    r.get("msg", ""),
                    r.get("attrs"),
                    member=r.get("member", 0),
                    ensemble=f"inprocess-{r.get('ensemble', 0)}",
                    time_ns=r.get("time_ns"),
                )
        except Exception:  # a handler failed: keep pumping
            pass
