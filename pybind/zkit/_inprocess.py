"""mode="inprocess": the ensemble runs inside this Python process, in the Go
runtime of libzkit (see _native)."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from . import _native
from ._errors import ZkitError
from ._status import MemberStatus


class InProcessBackend:
    """An ensemble in libzkit, named by its handle."""

    mode = "inprocess"

    def __init__(self, config: Dict[str, Any]) -> None:
        import ctypes

        self._lib = _native.lib()
        handle = ctypes.c_int64(0)
        _native.call(self._lib.zkit_start, json.dumps(config).encode(), ctypes.byref(handle))
        self._handle = handle.value
        self._closed = False
        try:
            self.hosts: str = _native.call_out(self._lib.zkit_connect_string, self._handle) or ""
            self._addresses = {m.id: m.address for m in self.status()}
        except BaseException:
            self.close()
            raise

    @property
    def handle(self) -> int:
        """libzkit's handle of this ensemble."""
        return self._handle

    def _check(self) -> None:
        if self._closed:
            raise ZkitError("zkit: the ensemble is closed")

    def status(self) -> List[MemberStatus]:
        self._check()
        raw = _native.call_out(self._lib.zkit_members, self._handle) or "[]"
        out = []
        for m in json.loads(raw):
            running = m["running"]
            out.append(
                MemberStatus(
                    id=m["id"],
                    observer=m["observer"],
                    running=running,
                    state=m["state"],
                    serving=m["serving"],
                    leader=(m["leader"] or None) if running else None,
                    epoch=m["epoch"] if running else None,
                    zxid=m["zxid"] if running else None,
                    address=m["client"],
                    pid=None,
                )
            )
        return out

    def member_status(self, member_id: int) -> MemberStatus:
        for st in self.status():
            if st.id == member_id:
                return st
        raise ZkitError(f"zkit: no member {member_id}")

    def address(self, member_id: int) -> str:
        return self._addresses[member_id]

    def member_op(self, member_id: int, op: str) -> None:
        self._check()
        fn = {
            "stop": self._lib.zkit_member_stop,
            "start": self._lib.zkit_member_start,
            "kill": self._lib.zkit_member_kill,
            "restart": self._lib.zkit_member_restart,
        }[op]
        _native.call(fn, self._handle, member_id)

    def partition(self, member_id: int) -> None:
        self._check()
        _native.call(self._lib.zkit_partition, self._handle, member_id)

    def heal(self) -> None:
        self._check()
        _native.call(self._lib.zkit_heal, self._handle)

    def expire_session(self, session_id: int, password: Optional[bytes]) -> None:
        self._check()
        sid = session_id - (1 << 64) if session_id >= (1 << 63) else session_id
        _native.call(self._lib.zkit_expire_session, self._handle, sid)

    def wait_ready(self, timeout: float) -> None:
        self._check()
        _native.call(self._lib.zkit_wait_ready, self._handle, int(timeout * 1000))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if _native.forked():
            return  # the Go runtime is gone in this child; the parent owns it
        _native.call(self._lib.zkit_close, self._handle)
