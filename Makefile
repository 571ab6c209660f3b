# sessionring host tasks. Every target sets up what it needs (tools/setup.sh is idempotent).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY ?= micropython
# make run FAITHFUL=1: the board-faithful build (32-bit, project frozen in; tools/faithful.py)
ifeq ($(FAITHFUL),1)
PY := micropython32
endif
PORT ?=
SESSIONS ?=
BOARD ?= unix

.PHONY: setup faithful test test-fast run bench bench-ring bench-http footprint screenshots lint format deploy vboard clean soak

setup:
	@tools/setup.sh

# The board-faithful builds (build/faithful/): unix32, armv7m, armv6m; MICROPY_DIR=... to
# build from your own MicroPython v1.28.0 checkout. Rebuilt only when their inputs change.
faithful: setup
	@echo "make: the board-faithful MicroPython builds (unix32, armv7m, armv6m): about 6 minutes the first time, seconds when nothing changed"
	$(BIN)/python tools/faithful.py all

test: setup faithful
	@echo "make: the test suite (CPython, the MicroPython unix port, the faithful builds): several minutes"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q

# Without the browser and load tests, for a quick loop while editing.
test-fast: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q -m "not browser and not slow"

# Refresh the phone screenshots in docs/screenshots/ (the browser test; normally it writes them
# to host_tests/.artifacts/ so that a test run leaves the tree as it was).
screenshots: setup
	SESSIONRING_SCREENSHOTS=docs/screenshots PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/python -m pytest -q host_tests/browser

# The port has one source, tools/run.py: PORT=N here, else SESSIONRING_PORT, else 8080.
# make run TLS=1: HTTPS on PORT (default 8443), plain HTTP on HTTP_PORT (8080) redirecting to it
ifeq ($(TLS),1)
RUN_TLS := --tls --redirect-port $(or $(HTTP_PORT),8080) --port $(or $(PORT),8443)
else
RUN_TLS := $(if $(PORT),--port $(PORT))
endif

run: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/run.py --py $(PY) $(RUN_TLS) $(if $(SESSIONS),--sessions $(SESSIONS))

# A missed target is reported (MISS in the output and in docs/benchmarks.md), not an error;
# STRICT=1 makes it one.
BENCH = PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/bench $(if $(filter 1,$(STRICT)),--strict)

bench: setup
	$(BENCH) all

bench-ring: setup
	$(BENCH) ring

bench-http: setup
	$(BENCH) http

footprint: setup
	$(BENCH) footprint

# The abuse mix against the firmware for MINUTES minutes (default 5), sampled every second:
# OUT/soak.csv, OUT/soak.png and a one-line verdict (OUT defaults to docs/soak).
soak: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/bench soak -- --minutes $(or $(MINUTES),5) \
		--out $(or $(OUT),docs/soak) --py $(PY)

# A virtual board (the unix port with .vboard/ as its flash) for `make deploy BOARD=unix
# PORT=socket://127.0.0.1:8266`; see docs/deploy.md.
vboard: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/vboard --dir .vboard --port $(or $(PORT),8266)

deploy: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/deploy.py --board $(BOARD) --port "$(PORT)"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd lib/stubs && ../../$(BIN)/mypy --strict --cache-dir ../../build/mypy sessionring
	MYPYPATH=lib/stubs PYTHONPATH=lib:lib/hostshim $(BIN)/python -m mypy.stubtest sessionring \
		--ignore-missing-stub --mypy-config-file pyproject.toml

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf build .pytest_cache .ruff_cache
