# The single entry point, locally and in CI. README's two commands: `make run`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test lint format migrate bench-smoke bench clean vendor-docs vendor-explorer screenshots bench-explorer lock

# Dependencies come from uv.lock, every file's hash checked (pip --require-hashes); uv only
# exports the lock as a requirements file (`make lock` updates the lock after pyproject.toml).
UV := $(BIN)/uv
UV_VERSION := 0.13.10
# The lock's requirements for the extras in $(1), then the project itself without resolving.
define install-locked
	$(UV) export --quiet --frozen --no-emit-project --format requirements-txt $(1) -o $(VENV)/requirements$(2).txt
	$(BIN)/pip install --quiet --require-hashes -r $(VENV)/requirements$(2).txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
endef

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(UV): | $(BIN)/python
	$(BIN)/pip install --quiet "setuptools>=77" uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(call install-locked,,)
	touch $@

$(VENV)/.installed-test: pyproject.toml uv.lock | $(UV)
	$(call install-locked,--extra test,-test)
	touch $@ $(VENV)/.installed

## Update uv.lock after a change of dependencies in pyproject.toml.
lock: | $(UV)
	$(UV) lock

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

$(VENV)/.installed-bench: pyproject.toml uv.lock | $(UV)
	$(call install-locked,--extra test --extra bench,-bench)
	touch $@ $(VENV)/.installed

bench-dashboards: $(VENV)/.installed-bench
	$(BIN)/python -m bench.dashboards --events $(EVENTS)

## CI: 10,000 events, 2 s a cell; fails if our API answers with errors or wrong rows.
bench-dashboards-smoke: $(VENV)/.installed-bench
	$(BIN)/python -m bench.dashboards --smoke

## Re-vendor the assets of /docs and /redoc from the npm registry (app/static/vendor/VENDORED.md).
SWAGGER_UI_VERSION ?= 5.36.0
REDOC_VERSION ?= 2.5.4
VENDOR_DIR := app/static/vendor

vendor-docs:
	set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) redoc@$(REDOC_VERSION) >/dev/null); \
	rm -rf $(VENDOR_DIR)/swagger-ui $(VENDOR_DIR)/redoc; \
	mkdir -p $(VENDOR_DIR)/swagger-ui $(VENDOR_DIR)/redoc; \
	tar -xzf "$$tmp/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz" -C $(VENDOR_DIR)/swagger-ui \
	    --strip-components=1 package/package.json package/LICENSE package/NOTICE \
	    package/swagger-ui-bundle.js package/swagger-ui-bundle.js.LICENSE.txt \
	    package/swagger-ui.css package/favicon-32x32.png; \
	tar -xzf "$$tmp/redoc-$(REDOC_VERSION).tgz" -C $(VENDOR_DIR)/redoc \
	    --strip-components=1 package/package.json package/LICENSE; \
	tar -xzf "$$tmp/redoc-$(REDOC_VERSION).tgz" -C $(VENDOR_DIR)/redoc \
	    --strip-components=2 package/bundles/redoc.standalone.js \
	    package/bundles/redoc.standalone.js.LICENSE.txt

## The explorer's screenshots in docs/ (the README shows them), on the demo data, in Chromium.
screenshots: $(VENV)/.installed-test
	PYTHONPATH=. $(BIN)/python docs/screenshot.py

## The explorer's first render on 100,000 events, in Chromium (bench/README.md).
bench-explorer: $(VENV)/.installed-test
	$(BIN)/python -m bench.explorer --events 100000

## Re-vendor the explorer's libraries from the npm registry (app/static/vendor/VENDORED.md).
MAPLIBRE_VERSION ?= 6.20.0
UPLOT_VERSION ?= 1.6.32
WORLD_ATLAS_VERSION ?= 2.0.2
TOPOJSON_CLIENT_VERSION ?= 3.1.0

vendor-explorer:
	set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent maplibre-gl@$(MAPLIBRE_VERSION) uplot@$(UPLOT_VERSION) \
	    world-atlas@$(WORLD_ATLAS_VERSION) topojson-client@$(TOPOJSON_CLIENT_VERSION) >/dev/null); \
	for d in maplibre-gl uplot world-atlas topojson-client; do \
	    rm -rf $(VENDOR_DIR)/$$d; mkdir -p $(VENDOR_DIR)/$$d; done; \
	tar -xzf "$$tmp/maplibre-gl-$(MAPLIBRE_VERSION).tgz" -C $(VENDOR_DIR)/maplibre-gl \
	    --strip-components=1 package/package.json package/LICENSE.txt; \
	tar -xzf "$$tmp/maplibre-gl-$(MAPLIBRE_VERSION).tgz" -C $(VENDOR_DIR)/maplibre-gl \
	    --strip-components=2 package/dist/maplibre-gl.mjs package/dist/maplibre-gl-worker.mjs \
	    package/dist/maplibre-gl.css; \
	tar -xzf "$$tmp/uplot-$(UPLOT_VERSION).tgz" -C $(VENDOR_DIR)/uplot \
	    --strip-components=1 package/package.json package/LICENSE; \
	tar -xzf "$$tmp/uplot-$(UPLOT_VERSION).tgz" -C $(VENDOR_DIR)/uplot \
	    --strip-components=2 package/dist/uPlot.esm.js package/dist/uPlot.min.css; \
	tar -xzf "$$tmp/world-atlas-$(WORLD_ATLAS_VERSION).tgz" -C $(VENDOR_DIR)/world-atlas \
	    --strip-components=1 package/package.json package/LICENSE package/countries-110m.json; \
	tar -xzf "$$tmp/topojson-client-$(TOPOJSON_CLIENT_VERSION).tgz" -C $(VENDOR_DIR)/topojson-client \
	    --strip-components=1 package/package.json package/LICENSE; \
	tar -xzf "$$tmp/topojson-client-$(TOPOJSON_CLIENT_VERSION).tgz" -C $(VENDOR_DIR)/topojson-client \
	    --strip-components=2 package/dist/topojson-client.min.js

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
