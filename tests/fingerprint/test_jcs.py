"""RFC 8785 (JCS): the canonical row form v2 and the metadata bytes follow it exactly; v1 roots still verify.

Issue 13 item 4: the canonical row claimed JCS but sorted keys by code point; JCS sorts by UTF-16
code units, and the two differ for keys such as "😀" (U+1F600) and "Ａ" (U+FF21).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityledger.errors import CityLedgerError
from cityledger.fingerprint import (
    CANONICAL_FORM,
    CANONICAL_FORM_V1,
    canonical_row,
    canonicalize,
    check_row_proof,
    prove_row,
    rows_root,
)

from . import independent_verifier as iv
from .test_rows import reference_root

# RFC 8785 section 3.2.3, "Sorting of Object Properties": the input and the order it prescribes.
RFC_SORTING_INPUT = {
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\U0001f600": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis",
}
RFC_SORTED_VALUES = [
    "Carriage Return",
    "One",
    "Control",
    "Latin Small Letter O With Diaeresis",
    "Euro Sign",
    "Emoji: Grinning Face",
    "Hebrew Letter Dalet With Dagesh",
]


def test_rfc8785_sorting_example():
    out = canonicalize(RFC_SORTING_INPUT)
    assert list(json.loads(out).values()) == RFC_SORTED_VALUES
    # The same object as a table row: v2 is JCS, v1 (code point order) puts U+FB33 before the emoji.
    assert canonical_row(RFC_SORTING_INPUT) == out
    v1_order = list(json.loads(canonical_row(RFC_SORTING_INPUT, CANONICAL_FORM_V1)).values())
    assert v1_order[-2:] == ["Hebrew Letter Dalet With Dagesh", "Emoji: Grinning Face"]


def test_rfc8785_main_example_without_its_numbers():
    """RFC 8785 section 3.2.2's example, less the "numbers" member (floats are refused, see below):
    its "literals" and "string" members must come out byte for byte as the RFC prints them."""
    text = r"""{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"""
    # The RFC's output text, as printed there (the "numbers" member left out).
    expected = r"""{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"""
    assert canonicalize(json.loads(text)) == expected.encode("utf-8")
    with pytest.raises(CityLedgerError, match="float"):
        canonicalize({"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001]})


def test_integers_and_refusals():
    assert canonicalize([0, -1, 2**53 - 1, -(2**53 - 1)]) == b"[0,-1,9007199254740991,-9007199254740991]"
    for bad, reason in [
        (2**53, "beyond 2\\^53"),
        ({"a": "\ud800"}, "lone surrogate U\\+D800"),
        ({"\udfff": "a"}, "lone surrogate U\\+DFFF"),
        ({1: "a"}, "not text"),
        ({"a": {1, 2}}, "set, not JSON"),
    ]:
        with pytest.raises(CityLedgerError, match=reason):
            canonicalize(bad)


def test_utf16_order_differs_from_code_point_order(tmp_path):
    row = {"Ａ": "fullwidth", "😀": "emoji", "a": "ascii"}
    assert canonical_row(row) == '{"a":"ascii","😀":"emoji","Ａ":"fullwidth"}'.encode()
    assert canonical_row(row, CANONICAL_FORM_V1) == '{"a":"ascii","Ａ":"fullwidth","😀":"emoji"}'.encode()
    p = tmp_path / "t.csv"
    p.write_text("Ａ,😀,a\nfullwidth,emoji,ascii\nx,y,z\n", encoding="utf-8")
    v2, v1 = rows_root(p), rows_root(p, canonical_form=CANONICAL_FORM_V1)
    assert (v2.canonical_form, v1.canonical_form) == (CANONICAL_FORM, CANONICAL_FORM_V1)
    assert v2.root != v1.root and v2.columns == ["a", "😀", "Ａ"]
    assert v1.root == reference_root([row, {"Ａ": "x", "😀": "y", "a": "z"}])  # test_rows: code point order
    # A v1 proof still verifies against the v1 root (what a dataset registered under v1 holds).
    proof = prove_row(p, 2, CANONICAL_FORM_V1)
    assert proof["canonical_form"] == CANONICAL_FORM_V1 and proof["root"] == "0x" + v1.root.hex()
    assert check_row_proof(proof).root == v1.root
    assert prove_row(p, 2)["root"] == "0x" + v2.root.hex()
    with pytest.raises(CityLedgerError, match="unknown canonical form 'cityledger-rows-v3'"):
        rows_root(p, canonical_form="cityledger-rows-v3")


keys = st.text(st.characters(blacklist_categories=("Cs",)), max_size=4)


@given(st.dictionaries(keys, keys, max_size=6))
def test_property_v2_is_the_documented_form_and_round_trips(row):
    out = canonical_row(row)
    assert out == iv.canonical_bytes(row, CANONICAL_FORM)  # written from docs/FINGERPRINT.md
    assert json.loads(out) == row
    assert canonical_row(row, CANONICAL_FORM_V1) == iv.canonical_bytes(row, CANONICAL_FORM_V1)
    units = [iv.utf16_units(k) for k in json.loads(out)]
    assert units == sorted(units)
