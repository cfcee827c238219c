#!/usr/bin/env bash
# The kazoo tutorial against a local 3-server ensemble: starts the example
# zoo.cfg set (examples/ensemble/serverN/zoo.cfg + myid) with the bare zkit
# binary — copied to a scratch directory with every port swapped for a free
# one, by examples/ensemble/run_local.py — runs every tutorial script in
# examples/tutorial/ against it, and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
BIN=${BIN:-bin/zkit}
[ -x "$BIN" ] || { echo "demo: $BIN is missing: run make build" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        # run_local.py stops its three servers on SIGTERM and removes their
        # scratch directory.
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$PY" examples/ensemble/run_local.py --binary "$BIN" --ready-file "$work/hosts" \
    >"$work/run_local.out" 2>"$work/run_local.err" &
pid=$!
for _ in $(seq 600); do
    [ -s "$work/hosts" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/run_local.err" >&2; exit 1; }
    sleep 0.05
done
[ -s "$work/hosts" ] || { echo "demo: the ensemble did not start within 30 s" >&2; cat "$work/run_local.err" >&2; exit 1; }
hosts=$(cat "$work/hosts")

echo "A 3-server ensemble from examples/ensemble/ (zkit serve serverN/zoo.cfg, on free ports):"
sed 's/^/  /' "$work/run_local.err"
echo "connect string: $hosts"

for script in step1_connect_crud step2_watches step3_lock step4_election step5_config walkthrough; do
    echo
    echo "=== examples/tutorial/$script.py --hosts $hosts"
    "$PY" "examples/tutorial/$script.py" --hosts "$hosts"
done
echo
echo "demo done: stopping the ensemble"
