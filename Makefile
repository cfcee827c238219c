# zkit — a ZooKeeper-compatible coordination server in Go, and its Python kit.
#
#   make demo    set up, build, start a local 3-member ensemble and run the kazoo tutorial
#   make test    set up and run every Go and Python test
#   make bench   zkit against Apache ZooKeeper, side by side (~20 min; see BENCHMARKS.md)

GO      ?= go
VENV    := .venv
PY      := $(VENV)/bin/python
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE    := $(shell date -u +%Y-%m-%dT%H:%MZ)
LDFLAGS := -X zkit/server/version.Commit=$(COMMIT) -X zkit/server/version.BuildDate=$(DATE)

.PHONY: all build deps test gotest pytest pyinstall pykit demo vet fmt clean bench bench-smoke profile soak

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/zkit ./server/cmd/zkit

deps:
	scripts/deps.sh

vet:
	@test -z "$$(gofmt -l server cshim 2>/dev/null)" || { gofmt -l server cshim; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

gotest:
	$(GO) test -count=1 ./...

# The Python kit (pybind/): setup.py builds libzkit.so and the zkit binary
# into pybind/zkit (git-ignored); the editable install puts it in .venv.
pyinstall:
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation -e .

pykit: pyinstall
	$(PY) -m pytest -q pybind/tests

pytest: build pykit
	$(PY) -m pytest -q pytests

test: deps build vet gotest bench-smoke pytest

# The load generator's smoke run against bin/zkit serve (the in-process one,
# server/bench TestSmoke, runs in gotest).
bench-smoke: build
	scripts/bench.sh smoke

# Not part of test: takes ~20 minutes. BENCH_FLAGS="--rounds 5 ..." passes
# flags to `zkit bench suite`; results go to bin/bench-results/latest/.
bench: build
	scripts/bench.sh suite

# CPU and heap profiles of zkit under each workload, without the comparison.
profile: build
	scripts/bench.sh profile

# The ZAB simulator over many more seeds than make test runs (2,000):
# SOAK_SEEDS=100000 make soak. About 5 ms per seed.
SOAK_SEEDS ?= 30000
soak:
	ZAB_SIM_SEEDS=$(SOAK_SEEDS) $(GO) test ./server/zab -run TestSimulation -count=1 -timeout 2h -v

demo: deps build
	scripts/demo.sh

fmt:
	gofmt -w server cshim

clean:
	rm -rf bin build dist pybind/zkit/_bin pybind/zkit/libzkit.*
