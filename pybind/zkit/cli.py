"""The ``zkit`` console script and ``python -m zkit``.

``zkit ensemble -n 3`` starts a local ensemble with the library, prints its
connect string and serves until Ctrl-C. ``zkit version`` prints the
versions. Every other command (``serve``, ``member``, ``datadir``,
``bench``...) is handed to the bundled Go binary, so ``zkit serve zoo.cfg``
works from a pip install as it does from a build.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from typing import Any, List, Optional, Sequence

from ._errors import ZkitError

OWN_COMMANDS = ("ensemble", "version")

USAGE = """usage: zkit <command> [arguments]

commands:
  ensemble   run a local ensemble and print its connect string (until Ctrl-C)
  version    print the versions of this package and its runtimes

commands of the bundled Go binary:
  serve      run a server from a zoo.cfg
  member     run one member of a local ensemble as its own process
  datadir    inspect, verify and purge a data directory
  bench      load generator; 'bench suite' compares zkit with Apache ZooKeeper

Run 'zkit <command> --help' for a command's flags.
"""


def _ensemble_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zkit ensemble",
        description="Starts a local ZooKeeper-compatible ensemble on free loopback ports, "
        "prints its connect string on stdout and serves until interrupted (Ctrl-C).",
    )
    p.add_argument("-n", "--members", type=int, default=3, help="voting members (default 3)")
    p.add_argument("--observers", type=int, default=0, help="observers (default 0)")
    p.add_argument(
        "--mode",
        choices=("inprocess", "process"),
        default="inprocess",
        help="run members in this process (default) or as zkit member subprocesses",
    )
    p.add_argument("--tick-time-ms", type=int, default=2000, help="tickTime in ms (default 2000, as zoo.cfg)")
    p.add_argument("--data-dir", default=None, help="keep each member's data under this directory (default: memory)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    p.add_argument("--extended-types", action="store_true", help="enable TTL nodes")
    p.add_argument("--json", action="store_true", help="print the members as JSON once ready")
    p.add_argument("--ready-file", default=None, help="once ready, write the connect string to this file")
    p.add_argument(
        "--log-level", default="warn", choices=("debug", "info", "warn", "error"), help="server log level (stderr)"
    )
    return p


def _run_ensemble(argv: Sequence[str]) -> int:
    from ._ensemble import Ensemble

    args = _ensemble_parser().parse_args(list(argv))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("zkit").setLevel(args.log_level.upper().replace("WARN", "WARNING"))

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        ens = Ensemble(
            args.members,
            args.observers,
            mode=args.mode,
            tick_time_ms=args.tick_time_ms,
            data_dir=args.data_dir,
            host=args.host,
            extended_types=args.extended_types,
            log_level=args.log_level,
        )
    except ZkitError as e:
        print(e, file=sys.stderr)
        return 1
    with ens:
        status = ens.status()
        if args.json:
            print(
                json.dumps(
                    {
                        "connect": ens.hosts,
                        "mode": ens.mode,
                        "members": [{"id": s.id, "role": s.state, "client": s.address, "pid": s.pid} for s in status],
                    }
                ),
                flush=True,
            )
        else:
            print(ens.hosts, flush=True)
            print(f"zkit ensemble ({ens.mode}) ready:", file=sys.stderr)
            for s in status:
                kind = "observer" if s.observer else "voter"
                print(f"  server.{s.id}  {kind:8} {s.state:9}  client {s.address}", file=sys.stderr)
            print("serving until interrupted (Ctrl-C)", file=sys.stderr, flush=True)
        if args.ready_file:
            tmp = args.ready_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(ens.hosts + "\n")
            os.replace(tmp, args.ready_file)
        while not stop.wait(0.5):
            pass
    return 0


def _run_version() -> int:
    from . import __version__, library_version
    from ._process import binary_path

    print(f"zkit (Python package) {__version__}")
    try:
        print(f"in-process runtime: {library_version()}")
    except ZkitError as e:
        print(f"in-process runtime: unavailable ({e})")
    b = binary_path()
    print(f"binary: {b}" + ("" if b.exists() else " (missing)"))
    return 0


def _exec_binary(argv: List[str]) -> int:
    from ._process import binary_path

    b = binary_path()
    if not b.exists():
        print(f"zkit: the bundled Go binary {b} is missing: reinstall zkit, or set ZKIT_BINARY", file=sys.stderr)
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(str(b), [str(b)] + argv)
    return 1  # not reached


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``zkit`` console script and ``python -m zkit``;
    returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, end="", file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    cmd, rest = args[0], args[1:]
    if cmd == "ensemble":
        return _run_ensemble(rest)
    if cmd == "version":
        return _run_version()
    return _exec_binary(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
