"""Where the tutorial's ZooKeeper comes from.

Every tutorial script takes the connect string of a running ensemble:

    python examples/tutorial/step1_connect_crud.py --hosts 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183

(for instance the example zoo.cfg set: `python examples/ensemble/run_local.py`
prints one). Without --hosts a script starts its own 3-member ensemble with
the zkit Python kit (`pip install .`), runs against it, and stops it.

A connect string lists servers, comma-separated. A client connects to one
of them (kazoo picks at random) and moves to another if that one fails; its
session, watches and ephemeral nodes go with it.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import socket
from typing import Dict, Iterator, Optional


def parse_args(description: Optional[str]) -> argparse.Namespace:
    """The tutorial scripts' command line: --hosts (or a positional HOSTS)."""
    ap = argparse.ArgumentParser(description=(description or "").strip().split("\n\n")[0])
    ap.add_argument("--hosts", help="connect string, e.g. 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183 "
                    "(default: start a local 3-member zkit ensemble)")
    ap.add_argument("hosts_arg", nargs="?", metavar="HOSTS", help="the same, as a positional argument")
    args = ap.parse_args()
    args.hosts = args.hosts or args.hosts_arg
    return args


@contextlib.contextmanager
def ensemble_hosts(description: Optional[str]) -> Iterator[str]:
    """Yields the connect string to use: --hosts, or that of a fresh local
    3-member zkit ensemble, closed afterwards."""
    args = parse_args(description)
    if args.hosts:
        print(f"using the ensemble at {args.hosts}")
        yield args.hosts
        return
    import zkit  # the Python kit: real ensembles, in this process

    with zkit.Ensemble(3) as ens:
        print(f"started a local 3-member ensemble: {ens.hosts}")
        yield ens.hosts


def four_letter(address: str, word: str, timeout: float = 2.0) -> str:
    """Sends a four-letter word (srvr, ruok, stat, mntr, ...) to one server
    and returns its answer — what `echo srvr | nc host port` prints."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(word.encode())
        chunks = []
        while True:
            b = s.recv(4096)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode(errors="replace")


def roles(hosts: str) -> Dict[str, str]:
    """Each server's Mode from `srvr`: leader, follower, observer (or
    standalone); '?' when the server is down or not serving."""
    out = {}
    for address in hosts.split("/")[0].split(","):
        try:
            m = re.search(r"^Mode: (\S+)", four_letter(address, "srvr"), re.M)
        except OSError:
            m = None
        out[address] = m.group(1) if m else "?"
    return out


def split_zxid(zxid: int) -> str:
    """A zxid is epoch << 32 | counter: the epoch counts leaders (each new
    leader starts a new one), the counter the transactions it proposed."""
    return f"0x{zxid:x} (epoch {zxid >> 32}, counter {zxid & 0xFFFFFFFF})"
