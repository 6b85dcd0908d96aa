# CityLedger: the two set-up commands are `make run` and `make test`.
# Every target installs what it needs first (venv, npm packages, Debian packages).

PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test lint install bench bench-quick reliability-long compile deploy clean system-deps browser-deps postgres-deps frontend

run: install frontend
	.venv/bin/cityledger up

test: install browser-deps postgres-deps frontend
	$(MAKE) --no-print-directory lint
	bash scripts/test.sh

# Lint and types, before the tests (CI runs `make test`): ruff (rules and format, line length 120,
# config in pyproject.toml), mypy (strict where pyproject.toml says so) and the page's TypeScript.
PY_SOURCES := src tests bench scripts
lint: install
	.venv/bin/ruff check $(PY_SOURCES)
	.venv/bin/ruff format --check $(PY_SOURCES)
	.venv/bin/mypy
	npm run --silent typecheck

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (3.11+) is required"; exit 1; }
	python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json $(wildcard package-lock.json)
	@command -v npm >/dev/null || { echo "node and npm (20+) are required"; exit 1; }
	@# From the lock file exactly when there is one (fresh machines, CI); `npm install` adds no surprises.
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
	touch $(NODE_STAMP)

frontend: $(NODE_STAMP)
	@if [ -f frontend/index.html ]; then npm run --silent build; fi

# Debian's chromium for the browser tests (never a downloaded browser build).
browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# PostgreSQL on loopback so the store tests run on it too; the tests skip it if it is not there.
postgres-deps:
	@bash scripts/postgres.sh || echo "PostgreSQL not available: its tests will be skipped"

compile: install
	.venv/bin/cityledger compile

deploy: install
	.venv/bin/cityledger deploy --network devnet

bench: install postgres-deps
	$(PY) bench/run.py

bench-quick: install postgres-deps
	$(PY) bench/run.py --quick

reliability-long: install postgres-deps
	.venv/bin/pytest tests/reliability tests/contracts -m long -p no:cacheprovider

clean:
	rm -rf build .cityledger frontend/dist
