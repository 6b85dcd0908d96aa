# CityLedger: the two set-up commands are `make run` and `make test`.
# Every target installs what it needs first (venv, npm packages, Debian packages).
# Python packages come from the hash-locked requirements/*.txt (README "Dependencies"): `make run`
# installs the runtime set, `make test` the dev set (runtime + test tools); `make lock` re-resolves.

PY      := .venv/bin/python
PIP     := .venv/bin/pip
PIP_VERSION := 26.3
RUN_STAMP := .venv/.installed-runtime
DEV_STAMP := .venv/.installed-dev
NODE_STAMP := node_modules/.installed
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --no-header -q

.PHONY: run test lint install install-dev lock lock-upgrade check-lock bench bench-quick reliability-long compile deploy clean system-deps browser-deps postgres-deps frontend

run: install frontend
	.venv/bin/cityledger up

test: install-dev check-lock browser-deps postgres-deps frontend
	$(MAKE) --no-print-directory lint
	bash scripts/test.sh

# Lint and types, before the tests (CI runs `make test`): ruff (rules and format, line length 120,
# config in pyproject.toml), mypy (strict where pyproject.toml says so) and the page's TypeScript.
PY_SOURCES := src tests bench scripts
lint: install-dev
	.venv/bin/ruff check $(PY_SOURCES)
	.venv/bin/ruff format --check $(PY_SOURCES)
	.venv/bin/mypy
	npm run --silent typecheck

install: $(RUN_STAMP) $(NODE_STAMP)

install-dev: $(DEV_STAMP) $(NODE_STAMP)

$(PY):
	@command -v python3 >/dev/null || { echo "python3 (3.11+) is required"; exit 1; }
	python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	python3 -m venv .venv
	$(PIP) install -q pip==$(PIP_VERSION)

# --require-hashes: every package exactly as locked; then the project itself, without its deps.
$(RUN_STAMP): requirements/runtime.txt pyproject.toml | $(PY)
	$(PIP) install -q --require-hashes -r requirements/runtime.txt
	$(PIP) install -q --no-deps -e .
	touch $@

$(DEV_STAMP): requirements/dev.txt requirements/runtime.txt pyproject.toml | $(PY)
	$(PIP) install -q --require-hashes -r requirements/dev.txt
	$(PIP) install -q --no-deps -e .
	touch $@ $(RUN_STAMP)

# Re-resolve the locks from pyproject.toml, keeping current pins where they still fit
# (lock-upgrade: newest versions pyproject.toml allows). Then `make test`, and commit both files.
lock: $(DEV_STAMP)
	.venv/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) $(UPGRADE) -o requirements/runtime.txt
	.venv/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) $(UPGRADE) --extra dev --extra postgres --extra parquet \
		-c requirements/runtime.txt -o requirements/dev.txt
	$(PY) scripts/check_lock.py

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

# Fails when pyproject.toml and the locks disagree, or the venv differs from the dev lock.
check-lock: $(DEV_STAMP)
	$(PY) scripts/check_lock.py --installed requirements/dev.txt

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

bench: install-dev postgres-deps
	$(PY) bench/run.py

bench-quick: install-dev postgres-deps
	$(PY) bench/run.py --quick

reliability-long: install-dev postgres-deps
	.venv/bin/pytest tests/reliability tests/contracts -m long -p no:cacheprovider

clean:
	rm -rf build .cityledger frontend/dist
