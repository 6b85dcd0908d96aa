#!/usr/bin/env bash
# The whole test suite: Python (contracts, chain, fingerprint, indexer, API, reliability quick mode),
# then the browser suite. pytest's exit 5 ("no tests collected") is a failure here.
#
# The Python tests run in a random order (pytest-randomly) from a seed printed before and after the
# run, so an order-dependent failure can be replayed: CITYLEDGER_TEST_SEED=N make test, or
# scripts/test.sh ARGS with the same seed. Arguments that name randomly themselves
# (-p no:randomly, --randomly-seed=N) are passed as they are.
set -uo pipefail
cd "$(dirname "$0")/.."
order=()
seed=""
if [[ " $* " != *randomly* ]]; then
  seed="${CITYLEDGER_TEST_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
  order=(-p randomly "--randomly-seed=$seed")
  echo "test order: pytest-randomly seed $seed (replay: CITYLEDGER_TEST_SEED=$seed make test)"
fi
.venv/bin/pytest "${order[@]}" "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi
if [ $rc -ne 0 ]; then
  [ -n "$seed" ] && echo "failed with test order seed $seed: CITYLEDGER_TEST_SEED=$seed make test replays it"
  exit $rc
fi
# The second EVM client (docs/NETWORKS.md "A second client: Hardhat"): the chain suite and the demo
# seed again, on Hardhat's node ([networks.hardhat]); about 3.5 minutes here. Skipped with arguments (a
# chosen subset of tests).
if [ $# -eq 0 ]; then
  echo "the chain suite on Hardhat's node (CITYLEDGER_TEST_NETWORK=hardhat)"
  CITYLEDGER_TEST_NETWORK=hardhat .venv/bin/pytest -q -p no:randomly tests/chain tests/datasets/test_demo_seed.py || exit $?
fi
if ls tests/e2e/*.test.mjs >/dev/null 2>&1; then
  npm run --silent test:browser || exit $?
fi
exit 0
