#!/usr/bin/env bash
# Starts a standalone zkit server from the sample zoo.cfg (on a free port,
# with a throwaway data dir) and runs the kazoo walkthrough against it.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

sed "s|^dataDir=.*|dataDir=$work/data|" examples/standalone/zoo.cfg > "$work/zoo.cfg"
bin/zkit serve "$work/zoo.cfg" --client-addr 127.0.0.1:0 --ready-file "$work/addr" 2>"$work/zkit.log" &
pid=$!
for _ in $(seq 100); do
    [ -s "$work/addr" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/zkit.log" >&2; exit 1; }
    sleep 0.05
done
addr=$(cat "$work/addr")
echo "zkit is serving on $addr (config: examples/standalone/zoo.cfg)"
echo "srvr says:"; .venv/bin/python - "$addr" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"srvr")
print("".join(iter(lambda: s.recv(4096).decode(), "")), end="")
PY
echo
.venv/bin/python examples/tutorial/walkthrough.py "$addr"
