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
	$(BIN)/python tools/faithful.py all

test: setup faithful
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q

# Without the browser and load tests, for a quick loop while editing.
test-fast: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q -m "not browser and not slow"

# Refresh the phone screenshots in docs/screenshots/ (the browser test; normally it writes them
# to host_tests/.artifacts/ so that a test run leaves the tree as it was).
screenshots: setup
	SESSIONRING_SCREENSHOTS=docs/screenshots PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/python -m pytest -q host_tests/browser

run: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/run.py --py $(PY) --port $(or $(PORT),8080) $(if $(SESSIONS),--sessions $(SESSIONS))

bench: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/bench.py all

bench-ring: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/bench.py ring

bench-http: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/bench.py http

footprint: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/bench.py footprint

# The abuse mix against the firmware for MINUTES minutes (default 5), sampled every second:
# OUT/soak.csv, OUT/soak.png and a one-line verdict (OUT defaults to docs/soak).
soak: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/soak.py --minutes $(or $(MINUTES),5) \
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
