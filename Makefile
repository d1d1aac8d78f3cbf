# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: every suite against the embedded mock; writes reports/; exits with the verdict
run: $(STAMP)
	$(BIN)/conformance run

## test: the project's own tests (lint, types, toolkit, fault-injected mocks)
test: $(STAMP) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests suites
	$(BIN)/mypy

clean:
	rm -rf $(VENV) reports/*.json reports/*.xml reports/*.html
