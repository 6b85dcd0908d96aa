"""Child process of the crash test: one indexer catch-up with the given spec (JSON in argv[1]).

Small `target_logs` makes the catch-up commit often, so a SIGKILL lands between, before and inside
many transactions."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from cityledger.indexer.sync import Indexer  # noqa: E402

spec = json.loads(sys.argv[1])
ix = Indexer(spec["db"], spec["rpc"], chain_id=spec["chain_id"], addresses=spec["addresses"],
             start_block=spec["start_block"], target_logs=spec["target_logs"])  # fmt: skip
try:
    ix.catch_up()
    print(json.dumps({"checkpoint": ix.checkpoint()[0], "events": ix.events_total}))
finally:
    ix.close()
