# resolve311 — two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.installed-core
DEV := $(VENV)/.installed-dev

.PHONY: demo run test lint typecheck bench install clean help

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(CORE): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,spark]'
	touch $(CORE) $@

install: $(CORE)  ## create .venv and install the app

demo: $(CORE)  ## offline demo: simulator -> pipeline -> dashboard on http://127.0.0.1:8050 (CITIES=nyc,chicago,sf for several)
	$(BIN)/resolve311 demo $(if $(CITIES),--cities $(CITIES))

run: $(CORE)  ## the real thing against the live NYC API, dashboard on http://127.0.0.1:8050
	$(BIN)/resolve311 up

lint: $(DEV)  ## ruff (lint + format check), mypy strict on src/ and bench/, the import layers (docs/architecture.md)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/mypy bench
	$(BIN)/lint-imports

# The tests start hundreds of Python processes. Where the environment sets PYTHONDONTWRITEBYTECODE
# (this machine's does), each one compiled our modules again, and pytest rewrote the asserts of every
# plugin package (dash, hypothesis, schemathesis) in each worker. The caches go to __pycache__ (ignored).
test: lint  ## lint, types, then every test (unit, integration, Spark, browser)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n 2 --dist loadgroup --durations=20

bench: $(DEV)  ## benchmarks side by side with the alternatives; writes BENCHMARKS.md
	$(BIN)/python -m bench

clean:  ## remove the env and local data
	rm -rf $(VENV) .resolve311 .pytest_cache .mypy_cache .ruff_cache
