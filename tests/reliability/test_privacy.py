"""No personal data on chain: run the demo seed on a devnet, then scan every event log and every
storage write of every demo transaction (anvil's prestateTracer in diff mode).

Every 32-byte word must be an address (left-padded), a number (small or a timestamp-sized
value), a packed word of numbers, or a hash (high entropy); the only string fields (metadata_uri,
profile_uri) must be a cityledger://, s3://, ipfs:// (or https) URI whose path is a hash or a short
code. No word may decode to readable text (names, emails, sentences): not even the organisations'
public names, which stay in their profile documents off chain."""

from __future__ import annotations

import math
import re
from collections import Counter

from cityledger.chain.connection import node_rpc
from cityledger.demo import seed_demo

from .helpers import addresses

URI = re.compile(r"^(cityledger|s3|ipfs|https)://[A-Za-z0-9._/\-]{1,200}$")
EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}")
PRESTATE_DIFF = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}


def entropy(b: bytes) -> float:
    c = Counter(b)
    return -sum(n / len(b) * math.log2(n / len(b)) for n in c.values())


def classify(word: bytes) -> str | None:
    """What a 32-byte word is, or None if it looks like data about a person (text)."""
    stripped = word.lstrip(b"\0")
    if len(stripped) <= 20:
        return "address-or-number"
    if entropy(word) >= 4.0 and not _texty(word):
        return "hash"
    # Packed slots (several numbers side by side: expiry | nonce << 64 | granted_at << 128).
    if not _texty(word) and word.count(b"\0") >= 8:
        return "packed-numbers"
    return None


def _texty(b: bytes) -> bool:
    printable = sum(32 <= x < 127 for x in b)
    return printable >= 0.8 * len(b.strip(b"\0")) and len(b.strip(b"\0")) >= 6


def test_demo_writes_no_personal_data(devnet, tmp_path):
    w3 = devnet.w3
    start = w3.eth.block_number + 1
    seed_demo(w3, devnet.deployment, devnet.accounts, tmp_path, cfg=devnet.cfg)
    end = w3.eth.block_number
    ours = {a.lower() for a in addresses(devnet).values()}
    kinds: Counter = Counter()
    bad: list = []
    txs = 0
    uris = []
    ds = devnet.contract("DatasetRegistry")
    for log in ds.events.DatasetRegistered().get_logs(from_block=start, to_block=end):
        uris.append(log["args"]["metadata_uri"])
    assert uris, "the demo registered no dataset"
    # Organisation profiles: the chain holds their hash and store URI; the names stay in the document.
    profiles = devnet.contract("CityRoles").events.ProfileUpdated().get_logs(from_block=start, to_block=end)
    assert profiles, "the demo published no organisation profile"
    uris += [log["args"]["profile_uri"] for log in profiles]
    for uri in uris:
        if not URI.match(uri) or EMAIL.search(uri.encode()):
            bad.append(("metadata_uri", uri))
    for n in range(start, end + 1):
        block = w3.eth.get_block(n, full_transactions=False)
        for tx_hash in block["transactions"]:
            txs += 1
            receipt = w3.eth.get_transaction_receipt(tx_hash)
            for lg in receipt["logs"]:
                assert lg["address"].lower() in ours
                words = [bytes(t) for t in lg["topics"][1:]]
                data = bytes(lg["data"])
                words += [data[i : i + 32] for i in range(0, len(data), 32)]
                for w in words:
                    k = classify(w) if not EMAIL.search(w) else None
                    if k is None and not _uri_chunk(w, uris):
                        bad.append(("log", tx_hash.hex(), w))
                    kinds[k or "uri-bytes"] += 1
            # An error answer fails with the node's message (node_rpc), not as a missing key.
            trace = node_rpc(w3, "debug_traceTransaction", [tx_hash.to_0x_hex(), PRESTATE_DIFF])
            post = trace["post"]
            for addr, acct in post.items():
                for slot, value in (acct.get("storage") or {}).items():
                    w = bytes.fromhex(value[2:].rjust(64, "0"))
                    k = classify(w) if not EMAIL.search(w) else None
                    if k is None:
                        bad.append(("storage", addr, slot, w))
                    kinds["storage:" + (k or "?")] += 1
    assert txs > 10 and sum(v for k, v in kinds.items() if k.startswith("storage")) > 10, (txs, kinds)
    assert not bad, f"values that look like personal data or free text: {bad[:10]}"
    print(f"privacy: {txs} transactions, {dict(kinds)}")


def _uri_chunk(word: bytes, uris: list[str]) -> bool:
    """ABI string data (length word and bytes) of a metadata URI already checked above."""
    text = word.rstrip(b"\0")
    return any(text and text.decode("latin-1") in u for u in uris)
