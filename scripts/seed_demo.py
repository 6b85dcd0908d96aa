"""Seed the demo on a deployed network: `.venv/bin/python scripts/seed_demo.py [--network devnet]`.

A thin wrapper over cityledger.demo.seed_demo (idempotent: running it twice adds nothing)."""

from __future__ import annotations

import argparse
import sys

from cityledger.chain.accounts import devnet_accounts
from cityledger.chain.connection import connect
from cityledger.chain.deployments import load_deployment
from cityledger.config import config
from cityledger.demo import seed_demo
from cityledger.errors import CityLedgerError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default=None, help="configured network (a devnet: the demo uses its accounts)")
    args = parser.parse_args()
    try:
        cfg = config()
        net = cfg.network(args.network)
        w3 = connect(net)
        summary = seed_demo(
            w3, load_deployment(net.chain_id, cfg), devnet_accounts(net), cfg.data_dir, cfg=cfg, log=print
        )
    except CityLedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"datasets: {summary.datasets}")
    print(f"access id: {summary.access_id}; rights requests: {summary.rights_requests}")
    print("nothing new: already seeded" if not summary.created else f"{len(summary.created)} steps done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
