"""The strongest simple baseline of issue 17, kept honest: raw JSON-RPC + eth_abi + one executemany per table.

What a competent engineer writes in an afternoon: `provider.make_request("eth_getLogs")` over fixed
block ranges, each log decoded with eth_abi from the ABI, and the rows of each event written with
one `executemany` per table and range into SQLite (one table per event, append-only). It does less
than CityLedger: no current-state tables (who holds which consent now), no indexes, no block
headers, no reorg or crash handling, no bound on a response. Its rows match the indexer's event
tables; bench/indexer.py checks the counts. Also `ceiling()`: the same fetches, JSON-parsed only.

    .venv/bin/python bench/baseline_raw.py RPC_URL START END DB.sqlite   # prints {"events": ...}
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import requests
from eth_abi import decode
from eth_utils import keccak
from web3 import Web3

from cityledger.indexer.events import CONTRACTS  # the contracts the indexer follows: the same logs

ROOT = Path(__file__).resolve().parents[1]
STEP = 100  # blocks per eth_getLogs: ~12,800 logs on the dense chains (128 per block)


def load_events() -> dict[str, tuple[str, list[dict], list[str], list[str]]]:
    """topic0 -> (event name, ABI inputs, indexed types, data types), from build/contracts."""
    events = {}
    for name in CONTRACTS:
        for e in json.loads((ROOT / "build" / "contracts" / f"{name}.json").read_text())["abi"]:
            if e["type"] == "event":
                ins = e["inputs"]
                sig = f"{e['name']}({','.join(i['type'] for i in ins)})"
                types = [i["type"] for i in ins if i["indexed"]], [i["type"] for i in ins if not i["indexed"]]
                events["0x" + keccak(text=sig).hex()] = (e["name"], ins, *types)
    return events


def create_tables(con: sqlite3.Connection, events: dict) -> None:
    """A table per event kind: the log's place, then its arguments in ABI order."""
    for name, inputs, _, _ in events.values():
        # Quoted: an event argument may be named like an SQL keyword (SignedGrantSkipped's `index`).
        cols = ", ".join(
            f'"{c}"' for c in ["block_number", "log_index", "tx_hash", "timestamp", *(i["name"] for i in inputs)]
        )
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")


def run(rpc_url: str, addresses: list[str], start: int, end: int, db: str, step: int = STEP) -> int:
    events = load_events()
    provider = Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 300})
    con = sqlite3.connect(db)
    create_tables(con, events)
    total = 0
    for frm in range(start, end + 1, step):
        params = [{"fromBlock": hex(frm), "toBlock": hex(min(end, frm + step - 1)), "address": addresses}]
        rows: dict[str, list[tuple]] = {}
        for lg in provider.make_request("eth_getLogs", params)["result"]:
            name, inputs, topic_types, data_types = events[lg["topics"][0]]
            # Two eth_abi calls per log: the indexed words (topics 1..) and the data.
            indexed = iter(decode(topic_types, bytes.fromhex("".join(t[2:] for t in lg["topics"][1:]))))
            data = iter(decode(data_types, bytes.fromhex(lg["data"][2:])))
            values = [next(indexed) if i["indexed"] else next(data) for i in inputs]
            values = [v.hex() if isinstance(v, bytes) else v for v in values]
            stamp = (
                int(lg["blockNumber"], 16),
                int(lg["logIndex"], 16),
                lg["transactionHash"],
                int(lg["blockTimestamp"], 16),
            )
            rows.setdefault(name, []).append(
                stamp + tuple(min(v, 2**63 - 1) if isinstance(v, int) else v for v in values)
            )
        for name, batch in rows.items():
            con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(batch[0]))})", batch)
            total += len(batch)
        con.commit()
    con.close()
    return total


def ceiling(rpc_url: str, addresses: list[str], start: int, end: int, step: int = STEP) -> int:
    """The same eth_getLogs ranges, fetched and JSON-parsed, nothing else: what no indexer can beat."""
    session, total = requests.Session(), 0
    for frm in range(start, end + 1, step):
        params = [{"fromBlock": hex(frm), "toBlock": hex(min(end, frm + step - 1)), "address": addresses}]
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": params}
        total += len(json.loads(session.post(rpc_url, json=body, timeout=300).content)["result"])
    return total


if __name__ == "__main__":
    url, first, last, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    print(json.dumps({"events": run(url, json.loads(sys.argv[5]), first, last, path)}))
