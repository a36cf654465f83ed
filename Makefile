# One entry point for people and CI. Every target sets up .venv first (idempotent: it reinstalls
# only when pyproject.toml changed), so a fresh clone needs nothing but python3.11 and make.
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
export DAGSTER_HOME ?= $(CURDIR)/.dagster

.PHONY: setup system-deps demo demo-prod-local prod-local-down test lint typecheck check pytest bench bench-quick bench-setup kill-harness ui clean-lake

setup: $(STAMP)

# --compile-bytecode: every `mesh` and Dagster process starts ~1 s sooner when the libraries'
# bytecode is written once here (an environment with PYTHONDONTWRITEBYTECODE never caches it).
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@test -x $(BIN)/uv || $(PY) -m pip install --quiet uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev]'
	@touch $(STAMP)

## Materialise the whole demo mesh into the local lake (.lake/) and print a summary.
demo: $(STAMP)
	$(BIN)/mesh materialize --all
	$(BIN)/mesh tables

## The same against the production configuration on this machine (docs/deploy.md): a local
## S3-compatible server holds the lake, PostgreSQL holds Dagster's runs (both under .prod-local/,
## left running for `mesh ui`; `make prod-local-down` stops them and deletes .prod-local/).
demo-prod-local: $(STAMP)
	$(BIN)/mesh deploy up
	. .prod-local/env.sh && $(BIN)/mesh materialize --all && $(BIN)/mesh tables
	@echo "Still running: '. .prod-local/env.sh && mesh ui' to browse, 'make prod-local-down' to stop."

prod-local-down: $(STAMP)
	$(BIN)/mesh deploy down

## Lint, type-check, check the mesh's contracts and conventions, and run the whole test suite.
## The system packages the tests use come first, so a missing one stops it before anything runs.
test: system-deps lint typecheck check pytest

## Debian's chromium and fonts (the catalog's browser test) and PostgreSQL (tests/prod): installed
## with apt-get when missing, or a message naming the packages and the command to run.
system-deps:
	@scripts/system-deps

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

## Conventions, consumers and contracts of the whole mesh (add BASE=origin/main to compare).
check: $(STAMP)
	$(BIN)/mesh check $(if $(BASE),--base $(BASE))

pytest: system-deps $(STAMP)
	$(BIN)/pytest -q

## Benchmarks (benchmarks/README.md): 10M rows, or a quick 20,000-row smoke run.
bench: bench-setup
	$(PY) benchmarks/run.py

bench-quick: bench-setup
	$(PY) benchmarks/run.py --quick

## SIGKILL a materialisation at every kill point (>= 50; CI's pytest runs a reduced set).
kill-harness: $(STAMP)
	$(PY) -m tests.reliability.kill_harness

## The bench extra (pandera). Without the package index it is skipped, and so is its case.
bench-setup: $(BENCH_STAMP)

$(BENCH_STAMP): $(STAMP)
	@$(BIN)/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev,bench]' && touch $(BENCH_STAMP) \
		|| echo "bench-setup: could not install the bench extra; P1 skips its pandera case"

## Serve the Dagster UI (and daemon) for every domain on http://127.0.0.1:3000.
ui: $(STAMP)
	$(BIN)/mesh ui --host 127.0.0.1 --port 3000

## Delete the local lake and Dagster instance (demo data only).
clean-lake:
	rm -rf .lake .dagster
