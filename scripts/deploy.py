#!/usr/bin/env python3
"""Deploy the contracts: a thin wrapper over `cityledger deploy` (same options: --network, --force)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cityledger.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.argv = ["cityledger", "deploy", *sys.argv[1:]]
    main()
