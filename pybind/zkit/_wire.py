"""The little of ZooKeeper's wire protocol the kit speaks itself: four-letter
words (a member's role in process mode) and taking over a session to close
it (expiring a session of a member running in another process)."""

from __future__ import annotations

import socket
import struct
from typing import Dict, Optional, Tuple

from ._errors import ZkitError

NOT_SERVING = "This ZooKeeper instance is not currently serving requests"


def split_address(address: str) -> Tuple[str, int]:
    """``"127.0.0.1:2181"`` (or ``"[::1]:2181"``) → (host, port)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def four_letter(address: str, word: str, timeout: float = 2.0) -> str:
    """Sends a four-letter word and returns the whole answer."""
    with socket.create_connection(split_address(address), timeout=timeout) as s:
        s.sendall(word.encode("ascii"))
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode("utf-8", "replace")


def srvr(address: str, timeout: float = 2.0) -> Optional[Dict[str, str]]:
    """The ``srvr`` fields of a member (``{"Mode": "leader", "Zxid": "0x1..."}``),
    ``{}`` if it runs but does not serve, None if it does not answer."""
    try:
        text = four_letter(address, "srvr", timeout)
    except OSError:
        return None
    if not text:
        return None
    if text.startswith(NOT_SERVING):
        return {}
    out: Dict[str, str] = {}
    for line in text.splitlines():
        k, sep, v = line.partition(": ")
        if sep:
            out[k.strip()] = v.strip()
    return out


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise ConnectionError("connection closed by the server")
        buf += b
    return buf


def _recv_frame(s: socket.socket) -> bytes:
    (n,) = struct.unpack(">i", _recv_exact(s, 4))
    return _recv_exact(s, n)


def _attach(address: str, sid: int, password: bytes, timeout: float) -> Optional[socket.socket]:
    """Connects with an existing session; the socket if it is live, else None."""
    connect = struct.pack(">iqiqi", 0, 0, 30000, sid, len(password)) + password + b"\x00"
    s = socket.create_connection(split_address(address), timeout=timeout)
    try:
        s.sendall(struct.pack(">i", len(connect)) + connect)
        try:
            resp = _recv_frame(s)
        except ConnectionError:
            resp = b""
        if len(resp) < 16:
            s.close()
            return None
        _, negotiated, got = struct.unpack(">iiq", resp[:16])
        if negotiated <= 0 or got != sid:
            s.close()
            return None
        return s
    except BaseException:
        s.close()
        raise


def close_session(address: str, session_id: int, password: bytes, timeout: float = 5.0) -> None:
    """Takes over a session on the member at ``address`` (connecting with its
    id and password, as a client that moved would) and closes it, which
    expires it for its owner: ephemerals go, the owner's next contact is told
    the session expired. What kazoo's own test harness does, without kazoo.
    Returns once the member has applied the close."""
    name = f"0x{session_id & 0xFFFFFFFFFFFFFFFF:x}"
    sid = struct.unpack(">q", struct.pack(">Q", session_id & 0xFFFFFFFFFFFFFFFF))[0]
    try:
        s = _attach(address, sid, password, timeout)
        if s is None:
            raise ZkitError(f"zkit: session {name} is not live (expired already, or wrong password)")
        with s:
            close = struct.pack(">ii", 1, -11)  # xid 1, closeSession
            s.sendall(struct.pack(">i", len(close)) + close)
            try:
                reply = _recv_frame(s)
            except ConnectionError:
                reply = b""  # the connection ends with the session
            if len(reply) >= 16:
                _, _, err = struct.unpack(">iqi", reply[:16])
                if err != 0:
                    raise ZkitError(f"zkit: closing session {name} failed with error {err}")
        # Without a reply (a member may drop the connection first), make
        # sure: a closed session refuses to be attached again.
        again = _attach(address, sid, password, timeout)
        if again is not None:
            again.close()
            raise ZkitError(f"zkit: session {name} is still live after closing it through {address}")
    except (OSError, struct.error) as e:
        raise ZkitError(f"zkit: expiring session {name} through {address}: {e}") from e
