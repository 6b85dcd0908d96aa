#!/usr/bin/env bash
# The whole test suite: Python (contracts, chain, fingerprint, indexer, API, reliability quick mode),
# then the browser suite. pytest's exit 5 ("no tests collected") is a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi
[ $rc -ne 0 ] && exit $rc
if ls tests/e2e/*.test.mjs >/dev/null 2>&1; then
  npm run --silent test:browser || exit $?
fi
exit 0
