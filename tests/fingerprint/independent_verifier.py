"""A row-proof verifier written from docs/FINGERPRINT.md (sections 2 and 3) alone.

It imports nothing from cityledger, so comparing its verdicts with the CLI's checks that the
documentation is precise enough to verify a proof without CityLedger, and that the CLI does what the
documentation says. Keep it that way: when the document changes, change this from the document.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

FORMAT = "cityledger-row-proof-v2"
FIELDS = {"format", "canonical_form", "row_number", "tree_size", "row", "leaf_hash", "path", "root"}
HEX = set("0123456789abcdef")


@dataclass(frozen=True)
class Binding:
    root: bytes | None = None  # --root, or the dataset's cl:rowsMerkleRoot
    size: int | None = None  # --tree-size, or cl:recordCount
    form: str | None = None  # cl:canonicalForm (a registered dataset only)


class Invalid(Exception):
    pass


def utf16_units(name: str) -> list[int]:
    """UTF-16 code units of a name (RFC 8785 section 3.2.3 sorts by these)."""
    units = []
    for c in name:
        cp = ord(c)
        if cp > 0xFFFF:
            cp -= 0x10000
            units += [0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)]
        else:
            units.append(cp)
    return units


def sort_key(form: str):
    # Section 2: v2 sorts a row's keys by UTF-16 code units, v1 by Unicode code point.
    if form == "cityledger-rows-v2":
        return utf16_units
    if form == "cityledger-rows-v1":
        return lambda k: [ord(c) for c in k]
    raise Invalid("unknown form")


def canonical_bytes(row: dict, form: str) -> bytes:
    # Both forms: no whitespace, strings as json.dumps(text, ensure_ascii=False) writes them, UTF-8.
    key = sort_key(form)
    parts = []
    for k in sorted(row, key=key):
        parts.append(json.dumps(k, ensure_ascii=False) + ":" + json.dumps(row[k], ensure_ascii=False))
    return ("{" + ",".join(parts) + "}").encode("utf-8")


def nesting(text: str) -> int:
    """Deepest [ / { nesting outside strings: a plain state machine (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse(data: bytes) -> dict:
    # Step 1: UTF-8, no BOM, one JSON object, no repeated keys, no NaN/Infinity.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("not UTF-8") from None
    if text.startswith("\ufeff"):
        raise Invalid("BOM")
    if nesting(text) > 32:
        raise Invalid("too deep")

    def pairs(items):
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise Invalid("repeated key")
        return dict(items)

    def constant(name):
        raise Invalid(name)

    try:
        doc = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except ValueError:
        raise Invalid("not JSON") from None
    if not isinstance(doc, dict):
        raise Invalid("not an object")
    return doc


def is_hash(v) -> bool:
    return isinstance(v, str) and len(v) == 66 and v[:2] == "0x" and set(v[2:]) <= HEX


def is_count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def scalar_text(s: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def audit_path_length(m: int, n: int) -> int:
    lo, hi, count = 0, n, 0
    while hi - lo > 1:
        k = 1
        while k * 2 < hi - lo:
            k *= 2
        if m < lo + k:
            hi = lo + k
        else:
            lo = lo + k
        count += 1
    return count


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def check(data: bytes, binding: Binding | None = None) -> int:
    """The verified row number, or Invalid."""
    doc = parse(data)
    if "format" in doc and doc["format"] != FORMAT:  # step 2
        raise Invalid("format")
    if set(doc) != FIELDS:  # step 3
        raise Invalid("fields")
    form = doc["canonical_form"]
    if not isinstance(form, str):
        raise Invalid("form")
    sort_key(form)  # step 4
    n, r = doc["tree_size"], doc["row_number"]  # step 5
    if not (is_count(n) and is_count(r) and n >= 1 and 1 <= r <= n):
        raise Invalid("numbers")
    row = doc["row"]
    if not isinstance(row, dict) or not all(isinstance(v, str) for v in row.values()):
        raise Invalid("row")
    if not all(scalar_text(k) and scalar_text(v) for k, v in row.items()):
        raise Invalid("surrogate")
    path = doc["path"]
    if not (isinstance(path, list) and all(is_hash(p) for p in path)):
        raise Invalid("path")
    if not (is_hash(doc["leaf_hash"]) and is_hash(doc["root"])):
        raise Invalid("hashes")
    leaf = h(b"\x00" + canonical_bytes(row, form))  # step 6
    if "0x" + leaf.hex() != doc["leaf_hash"]:
        raise Invalid("leaf")
    m = r - 1
    if len(path) != audit_path_length(m, n):  # step 7
        raise Invalid("path length")
    fn, sn, acc = m, n - 1, leaf  # step 8: RFC 9162 2.1.3.2
    for p in (bytes.fromhex(x[2:]) for x in path):
        if sn == 0:
            raise Invalid("path too long")
        if fn % 2 == 1 or fn == sn:
            acc = h(b"\x01" + p + acc)
            if fn % 2 == 0:
                while fn != 0 and fn % 2 == 0:
                    fn >>= 1
                    sn >>= 1
        else:
            acc = h(b"\x01" + acc + p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or "0x" + acc.hex() != doc["root"]:
        raise Invalid("root")
    if binding is not None:  # step 9
        if binding.form is not None and form != binding.form:
            raise Invalid("bound form")
        if binding.size is not None and n != binding.size:
            raise Invalid("bound size")
        if binding.root is not None and doc["root"] != "0x" + binding.root.hex():
            raise Invalid("bound root")
    return m + 1


def verdict(data: bytes, binding: Binding | None = None) -> bool:
    try:
        check(data, binding)
    except Invalid:
        return False
    return True
