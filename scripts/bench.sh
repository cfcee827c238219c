#!/usr/bin/env bash
# Benchmarks of zkit against Apache ZooKeeper 3.8 (see BENCHMARKS.md).
#
#   scripts/bench.sh [suite] [flags]   the whole comparison (make bench): both servers with
#                                      equivalent zoo.cfg, alternating rounds, ratio tables
#   scripts/bench.sh profile [flags]   only the CPU and heap profiles of zkit, standalone and
#                                      every member of a 3-member ensemble (make profile)
#   scripts/bench.sh smoke             a short load-generator run against bin/zkit serve,
#                                      failing on any error (part of make test)
#
# Flags go to `zkit bench suite` (run `bin/zkit bench suite --help`); so do the
# words of $BENCH_FLAGS. Results go to bin/bench-results/<UTC time>/ (report.md,
# results.jsonl, progress.log, profiles/), linked as bin/bench-results/latest.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=suite
case "${1:-}" in
suite | profile | smoke) mode=$1; shift ;;
esac
[ -x bin/zkit ] || { echo "bench.sh: bin/zkit is missing; run make build" >&2; exit 1; }

if [ "$mode" = smoke ]; then
    work=$(mktemp -d)
    pid=""
    cleanup() {
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
        rm -rf "$work"
    }
    trap cleanup EXIT
    mkdir "$work/data"
    printf 'tickTime=2000\ndataDir=%s/data\nclientPort=2181\nmaxClientCnxns=0\nforceSync=yes\nadmin.enableServer=false\n' "$work" > "$work/zoo.cfg"
    bin/zkit serve --client-addr 127.0.0.1:0 --ready-file "$work/addr" "$work/zoo.cfg" 2>"$work/zkit.log" &
    pid=$!
    for _ in $(seq 200); do
        [ -s "$work/addr" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$work/zkit.log" >&2; exit 1; }
        sleep 0.05
    done
    [ -s "$work/addr" ] || { echo "bench.sh: zkit serve did not start" >&2; cat "$work/zkit.log" >&2; exit 1; }
    # Exits non-zero on any failed request; prints the JSON line and the table.
    bin/zkit bench --hosts "$(cat "$work/addr")" --server-pid "$pid" --op mixed --clients 8 --inflight 4 \
        --duration 3s --warmup 500ms | tee "$work/out"
    grep -q '"ops":[1-9]' "$work/out" || { echo "bench.sh: smoke run completed no operations" >&2; exit 1; }
    grep -q '"errors":0,' "$work/out" || { echo "bench.sh: smoke run had errors" >&2; exit 1; }
    echo "bench smoke: ok"
    exit 0
fi

out=bin/bench-results/$(date -u +%Y%m%dT%H%M%SZ)
[ "$mode" = profile ] && out=$out-profile
mkdir -p "$out"
ln -sfn "$(basename "$out")" bin/bench-results/latest
extra=()
if [ "$mode" = profile ]; then
    extra=(--force-sync= --rss-znodes 0 --recovery-znodes 0 --ensemble=false --client-check=false)
fi
# The suite runs a private copy of bin/zkit (it starts servers and ensemble
# members from its own executable): a `make build` elsewhere during the
# run does not change what is measured. What it was built from is kept.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp bin/zkit "$work/zkit"
{
    "$work/zkit" version
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), working tree changes at the start of the run:"
    git status --short 2>/dev/null || true
} > "$out/build.txt"
# shellcheck disable=SC2086 # BENCH_FLAGS is a list of words
"$work/zkit" bench suite --out "$out" "${extra[@]}" ${BENCH_FLAGS:-} "$@" 2> >(tee "$out/progress.log" >&2)
echo
echo "results: $out (report.md, results.jsonl, progress.log, profiles/)"
