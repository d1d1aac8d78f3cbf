# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint setup clean adapters chromium bench mutants

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: every suite against the embedded mock; writes reports/; exits with the verdict
run: $(STAMP)
	$(BIN)/conformance run

## adapters: the Node SDK for `conformance sdk --adapter node` (npm ci from package-lock.json)
NODE_SDK := adapters/node/node_modules/.installed

adapters: $(NODE_SDK)

$(NODE_SDK): adapters/node/package.json adapters/node/package-lock.json
	cd adapters/node && npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_SDK)

## chromium: Debian's chromium for the report's browser test (tests/test_report_browser.py);
## installed once when missing, as root with apt-get; elsewhere the test skips and says why
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium (Debian package) for the report's browser test"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
	      || echo "chromium: apt-get install failed; the browser test will be skipped"; \
	  else echo "chromium: no apt-get here (or not root); the browser test will be skipped"; fi; }

## test: the project's own tests (lint, types, toolkit, fault-injected mocks, both SDK adapters)
test: $(STAMP) lint adapters chromium
	$(BIN)/pytest

## bench: speed figures, each a ratio measured side by side in one run (bench/README.md)
bench: $(STAMP)
	$(BIN)/python bench/run.py

## mutants: the suites against every fault-injected and benign variant of the mock (tests/mutants.py)
mutants: $(STAMP)
	$(BIN)/python -m tests.mutants

lint: $(STAMP)
	$(BIN)/ruff check src tests suites bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) reports/*.json reports/*.xml reports/*.html
