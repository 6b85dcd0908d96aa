"""Tampered variants of a row proof, one field at a time (shared by the offline and the --dataset tests)."""

from __future__ import annotations

import copy
import json

from . import independent_verifier as iv


def flip(hex_hash: str) -> str:
    """The same hash with its last hex digit changed."""
    return hex_hash[:-1] + ("0" if hex_hash[-1] != "0" else "1")


def variants(proof: dict, other_leaf: str) -> dict[str, bytes]:
    """Tampered proofs, one field at a time, as the bytes of a proof file."""
    out: dict[str, object] = {}

    def edit(name: str, **changes) -> None:
        doc = copy.deepcopy(proof)
        doc.update(changes)
        out[name] = doc

    n, size = proof["row_number"], proof["tree_size"]
    for delta in (-1, 1):
        edit(f"row_number{delta:+d}", row_number=n + delta)
        edit(f"tree_size{delta:+d}", tree_size=size + delta)
    edit("row_number 0", row_number=0)
    edit("row_number beyond tree_size", row_number=size + 1)
    edit("row_number as text", row_number=str(n))
    edit("row_number true", row_number=True)
    edit("tree_size 0", tree_size=0)
    edit("leaf_hash of another row", leaf_hash=other_leaf)
    edit("leaf_hash flipped", leaf_hash=flip(proof["leaf_hash"]))
    edit("leaf_hash uppercase", leaf_hash="0x" + proof["leaf_hash"][2:].upper())
    edit("leaf_hash without 0x", leaf_hash=proof["leaf_hash"][2:])
    edit("root flipped", root=flip(proof["root"]))
    edit("root zero", root="0x" + "00" * 32)
    for i, sibling in enumerate(proof["path"]):
        edit(f"path[{i}] flipped", path=[*proof["path"][:i], flip(sibling), *proof["path"][i + 1 :]])
    edit("path reversed", path=list(reversed(proof["path"])))
    edit("path one short", path=proof["path"][:-1])
    edit("path one long", path=[*proof["path"], proof["root"]])
    edit("path not a list", path=proof["path"][0])
    for column in proof["row"]:
        edit(f"row[{column}] changed", row={**proof["row"], column: proof["row"][column] + "x"})
    first, last = sorted(proof["row"])[0], sorted(proof["row"])[-1]
    edit("row value a number", row={**proof["row"], first: 5})
    edit("row extra column", row={**proof["row"], "extra": ""})
    edit("row missing column", row={k: v for k, v in proof["row"].items() if k != last})
    edit("row lone surrogate", row={**proof["row"], first: "\ud800"})
    edit("canonical_form unknown", canonical_form="cityledger-rows-v9")
    edit("format v1", format="cityledger-row-proof-v1")
    edit("extra field file", file="t.csv")
    edit("extra field leaf_index", leaf_index=n - 1)
    for field in proof:
        doc = copy.deepcopy(proof)
        del doc[field]
        out[f"missing {field}"] = doc
    # The row edited and its leaf hash recomputed to match: the path then gives away the edit.
    forged = copy.deepcopy(proof)
    forged["row"][first] = "forged"
    forged["leaf_hash"] = "0x" + iv.h(b"\x00" + iv.canonical_bytes(forged["row"], proof["canonical_form"])).hex()
    out["row and leaf_hash forged together"] = forged
    # ASCII JSON: the lone surrogate is written as the escape "\ud800", as an attacker would.
    files = {name: json.dumps(doc).encode() for name, doc in out.items()}
    text = json.dumps(proof)
    files["repeated key"] = (text[:-1] + f', "row_number": {n + 1}}}').encode()
    files["NaN tree_size"] = text.replace(f'"tree_size": {size}', '"tree_size": NaN').encode()
    files["tree_size 13.0"] = text.replace(f'"tree_size": {size}', f'"tree_size": {size}.0').encode()
    files["trailing data"] = (text + " {}").encode()
    files["byte-order mark"] = b"\xef\xbb\xbf" + text.encode()
    files["not an object"] = json.dumps([proof]).encode()
    files["deeply nested"] = ("[" * 100_000 + "]" * 100_000).encode()
    files["not UTF-8"] = text.encode().replace(b'"row"', b'"r\xffw"')
    return files
