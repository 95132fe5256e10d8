# The single entry point, locally and in CI. README's two commands: `make run`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test lint format migrate bench-smoke bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

## Serve the API on http://$(HOST):$(PORT) (SQLite file by default; migrates, loads the demo).
run: $(VENV)/.installed
	$(BIN)/conflictdb serve --host $(HOST) --port $(PORT)

## Lint, then the whole test suite on SQLite and a throwaway PostgreSQL server.
test: $(VENV)/.installed-test lint
	$(BIN)/pytest

## ruff (lint and format), mypy (strict on app/, and on tests/ and bench/), the layering.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict app
	$(BIN)/mypy tests bench
	$(BIN)/lint-imports

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(VENV)/.installed
	$(BIN)/conflictdb migrate

## The benchmark's CI-sized run, and the documented full run (see bench/README.md).
bench-smoke: $(VENV)/.installed-test
	$(BIN)/python -m bench.run --backend sqlite --smoke
	$(BIN)/python -m bench.run --backend postgresql --smoke

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.run --backend sqlite --reports 2000 --duration 20
	$(BIN)/python -m bench.run --backend postgresql --reports 2000 --duration 20

## The dashboard benchmark (bench/README.md): EVENTS events, our API beside the bare SQL, a
## reference app and Datasette, driven by wrk (`apt-get install wrk`; without it, bench/loadgen.py).
EVENTS ?= 1000000
.PHONY: bench-dashboards bench-dashboards-smoke

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

bench-dashboards: $(VENV)/.installed-bench
	$(BIN)/python -m bench.dashboards --events $(EVENTS)

## CI: 10,000 events, 2 s a cell; fails if our API answers with errors or wrong rows.
bench-dashboards-smoke: $(VENV)/.installed-bench
	$(BIN)/python -m bench.dashboards --smoke

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
