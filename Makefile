# slotd developer entry points. Every install step is stamped, so a second run is quick.
#   make up     install slotd and run a local 6-node cluster in the foreground (3 masters, 3
#               replicas on PORT..PORT+5, 7000 by default; data in CLUSTER_DIR; Ctrl-C stops it)
#   make node   one standalone node in the foreground (NODE_PORT=6379 by default)
#   make test   install the test tools (plus Debian's redis-server/redis-tools) and run pytest
#   make lint   ruff check, ruff format --check, mypy
#   make bench  tests/bench/run.sh
#   make native compile the request hot path with mypyc (up, node, test and bench do it first;
#               NATIVE=0 runs pure Python instead)
#   make bench-memory  tests/bench/memory.sh (maxmemory load, lazy-free latency; prints only)
#   make bench-cluster tests/bench/cluster.sh (redis-benchmark --cluster, slotd vs redis; prints only)

# The interpreter .venv is made from. Debian's /usr/bin/python3 is built with PGO and LTO and
# runs slotd's hot path markedly faster than an unoptimised build such as pyenv's default
# (BENCHMARKS.md, "The interpreter build"), so it is preferred when it is 3.11 or newer and
# can make venvs (python3-venv); otherwise the python3 on PATH. `make PYTHON=...` overrides.
# An existing .venv is kept: `make clean` first to rebuild it from another interpreter.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip, venv; \
	sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo /usr/bin/python3 || echo python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 7000
CLUSTER_DIR ?= cluster-data
NODE_PORT ?= 6379
PYTEST_ARGS ?=

.PHONY: up node test lint bench bench-memory bench-cluster native redis-tools clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# The stamps depend on pyproject.toml: changing the dependencies reinstalls.
$(VENV)/.stamp-run: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test,lint]'
	touch $@ $(VENV)/.stamp-run

# mypyc, and (when we are root on Debian and they are missing) a C compiler and the headers.
$(VENV)/.stamp-native-tools: pyproject.toml | $(VENV)/.stamp-run
	$(PY) -m pip install -q -e '.[native]'
	@if [ "$(NATIVE)" != 0 ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		! { command -v cc >/dev/null && [ -f "$$($(PY) -c 'import sysconfig; \
			print(sysconfig.get_paths()["include"])')/Python.h" ]; }; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc python3-dev; \
	fi
	touch $@

up: $(VENV)/.stamp-run native
	$(PY) -m cluster_cli up --port $(PORT) --dir $(CLUSTER_DIR)

node: $(VENV)/.stamp-run native
	$(PY) -m node --port $(NODE_PORT) --bind 127.0.0.1 --save '' --appendonly no

# Interop tests need the real binaries. Installed only when missing and when we are root;
# otherwise the tests skip them (or fail, with CI=true).
redis-tools:
	@if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server redis-tools; \
	else echo "redis-server/redis-cli missing and not root: interop tests will be skipped"; fi

# ioredis for the second-ecosystem cluster test (pinned by its package-lock.json).
IOREDIS := tests/interop/ioredis
$(IOREDIS)/node_modules/.stamp: $(IOREDIS)/package-lock.json
	@if command -v npm >/dev/null; then \
		cd $(IOREDIS) && npm ci --no-audit --no-fund --silent && touch node_modules/.stamp; \
	else echo "npm missing: the ioredis interop test will be skipped"; fi

test: $(VENV)/.stamp-dev native redis-tools $(IOREDIS)/node_modules/.stamp
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(VENV)/.stamp-run native
	bash tests/bench/run.sh

bench-memory: $(VENV)/.stamp-run native
	bash tests/bench/memory.sh

bench-cluster: $(VENV)/.stamp-run native
	bash tests/bench/cluster.sh

# The compiled build, on by default: mypyc (it ships with mypy) compiles the modules every
# request runs through into extension modules next to their sources, which Python then
# imports instead: about half the instructions per request (BENCHMARKS.md). The .py files
# stay the source of truth. A build older than any node source would run old code, so it is
# redone whenever one changes (and the server warns, and the test suite refuses to run, on
# a stale one: node/io/native.py). Without a C compiler and Python's headers, or with
# NATIVE=0, slotd runs as pure Python (slower, same behaviour). The stamp names the choice,
# so switching NATIVE rebuilds. What is compiled, and how: node/io/native.py.
NATIVE ?= 1
NODE_SOURCES := $(shell find node -name '*.py')

native: $(VENV)/.stamp-native-$(NATIVE)

# Built again whenever a source changed, and whenever the library is missing.
ifeq ($(wildcard node/_native__mypyc*.so),)
.PHONY: $(VENV)/.stamp-native-1
endif
$(VENV)/.stamp-native-1: $(NODE_SOURCES) | $(VENV)/.stamp-native-tools
	@rm -f $(VENV)/.stamp-native-0; find node -name '*.so' -delete; mkdir -p build
	@if ! command -v cc >/dev/null || [ ! -f "$$($(PY) -c 'import sysconfig; \
			print(sysconfig.get_paths()["include"])')/Python.h" ]; then \
		echo "make native: no C compiler or no Python headers: slotd runs as pure Python"; \
	elif echo "make native: compiling node/io/native.py's MODULES with mypyc (about 2 minutes)" && \
			$(PY) -m node.io.native >build/native.log 2>&1; then \
		echo "make native: done"; \
	else \
		find node -name '*.so' -delete; \
		echo "make native: the build failed (build/native.log): slotd runs as pure Python"; \
	fi
	@touch $@

$(VENV)/.stamp-native-0: | $(VENV)/.stamp-run
	rm -f $(VENV)/.stamp-native-1
	find node -name '*.so' -delete
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis $(IOREDIS)/node_modules build
	find node -name '*.so' -delete
