"""Row proofs: every field is checked, and the CLI's verdict is the one docs/FINGERPRINT.md defines.

`independent_verifier` is written from the document alone; for every tampered variant of a proof,
under every binding (none, --root, --root with --tree-size), `cityledger verify-row` and it must
agree, and every tampered variant bound to a root and a row count is INVALID. The same variants
against a registered dataset (--dataset, on a devnet) are in tests/datasets/test_cli_chain.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityledger.errors import CityLedgerError
from cityledger.fingerprint import (
    Expected,
    ProofInvalid,
    check_row_proof,
    parse_proof,
    prove_row,
    rows_root,
    verify_row_proof,
)

from . import independent_verifier as iv
from .tampering import flip, variants

ROWS = 13  # not a power of two: paths of different lengths, and a right edge to relabel


def table(folder: Path, rows: int = ROWS) -> Path:
    p = folder / "t.csv"
    p.write_text("id,name,note\n" + "".join(f"{i},n{i},note {i % 4}\n" for i in range(rows)))
    return p


@pytest.fixture
def proof(tmp_path) -> tuple[dict, bytes, str]:
    """(proof of row 6 of 13, the table's root, the leaf hash of row 5)."""
    p = table(tmp_path)
    return prove_row(p, 6), rows_root(p).root, prove_row(p, 5)["leaf_hash"]


def run_verify(cli, tmp_path: Path, data: bytes, *args) -> tuple[int, str, str]:
    f = tmp_path / "proof.json"
    f.write_bytes(data)
    return cli("verify-row", f, *args)


def modes(root: bytes, size: int) -> dict[str, tuple[list[str], iv.Binding | None]]:
    return {
        "alone": ([], None),
        "root": (["--root", "0x" + root.hex()], iv.Binding(root=root)),
        "root+size": (["--root", "0x" + root.hex(), "--tree-size", str(size)], iv.Binding(root=root, size=size)),
    }


def test_an_untouched_proof_is_valid_in_every_mode(cli, tmp_path, proof):
    doc, root, _ = proof
    data = json.dumps(doc).encode()
    for name, (args, binding) in modes(root, ROWS).items():
        code, out, err = run_verify(cli, tmp_path, data, *args)
        assert code == 0 and out.startswith("VALID"), (name, err)
        assert "row 6 of 13" in out and iv.check(data, binding) == 6
    # Layout is not content: other key order and whitespace verify the same.
    code, out, _ = run_verify(cli, tmp_path, json.dumps(dict(reversed(doc.items())), indent=4).encode())
    assert code == 0


def test_every_tampered_field_gets_the_documented_verdict(cli, tmp_path, proof):
    doc, root, other_leaf = proof
    files = variants(doc, other_leaf)
    assert len(files) > 50
    for name, data in files.items():
        for mode, (args, binding) in modes(root, ROWS).items():
            code, out, err = run_verify(cli, tmp_path, data, *args)
            expected = iv.verdict(data, binding)
            assert (code == 0) == expected, f"{name} / {mode}: CLI {code} {out}{err}, documented verdict {expected}"
            assert "Traceback" not in out + err
            if mode == "root+size":
                assert code == 1 and err.startswith("error: INVALID: "), f"{name}: {out}{err}"
                assert len(err) < 400, err


@pytest.mark.parametrize(
    "changes,reason",
    [
        ({"row_number": 7}, "the path does not lead to root: row 7 of 13"),
        ({"tree_size": 14}, "tree_size 14 is not the row count given (13)"),
        ({"leaf_hash": "0x" + "ab" * 32}, "leaf_hash does not match the row"),
        ({"root": "0x" + "ab" * 32}, "the path does not lead to root"),
        ({"file": "t.csv"}, "unknown fields: 'file'"),
        ({"format": "cityledger-row-proof-v1"}, "v1 proofs carried fields that were never checked"),
        ({"row_number": 6.5}, "row_number must be a whole number"),
    ],
)
def test_the_reason_is_named(cli, tmp_path, proof, changes, reason):
    doc, root, _ = proof
    code, _, err = run_verify(
        cli, tmp_path, json.dumps({**doc, **changes}).encode(), "--root", "0x" + root.hex(), "--tree-size", "13"
    )
    assert code == 1 and reason in err, err


def test_a_consistent_proof_for_another_root_names_the_root(cli, tmp_path, proof):
    doc, _, _ = proof
    code, _, err = run_verify(cli, tmp_path, json.dumps(doc).encode(), "--root", "0x" + "cd" * 32, "--tree-size", "13")
    assert code == 1 and f"root {doc['root']} is not the root given (0x{'cd' * 32})" in err


def test_the_right_edge_relabelled_binds_only_with_the_row_count(cli, tmp_path):
    """Row 3 of 3 and 'row 2 of 2' combine the same hashes in the same order: the root alone cannot
    tell them apart, the row count can."""
    p = table(tmp_path, rows=3)
    root = rows_root(p).root
    doc = {**prove_row(p, 3), "row_number": 2, "tree_size": 2}
    data = json.dumps(doc).encode()
    code, out, _ = run_verify(cli, tmp_path, data, "--root", "0x" + root.hex())
    assert code == 0 and "the row count is not checked" in out and iv.verdict(data, iv.Binding(root=root))
    code, _, err = run_verify(cli, tmp_path, data, "--root", "0x" + root.hex(), "--tree-size", "3")
    assert code == 1 and "tree_size 2 is not the row count given (3)" in err
    assert not iv.verdict(data, iv.Binding(root=root, size=3))


def test_alone_the_verdict_says_it_binds_nothing(cli, tmp_path, proof):
    doc, _, _ = proof
    code, out, _ = run_verify(cli, tmp_path, json.dumps(doc).encode())
    assert code == 0 and out.startswith("VALID (self-consistent only): row 6 of 13") and "nothing binds" in out


def test_option_misuse(cli, tmp_path, proof):
    doc, root, _ = proof
    code, _, err = run_verify(cli, tmp_path, json.dumps(doc).encode(), "--tree-size", "13")
    assert code == 1 and "--tree-size goes with --root" in err


def test_library_api(proof):
    doc, root, _ = proof
    v = check_row_proof(doc, Expected(root, ROWS))
    assert (v.row_number, v.tree_size, v.root) == (6, ROWS, root)
    assert verify_row_proof(doc, root) and verify_row_proof(doc, root, ROWS)
    assert not verify_row_proof(doc, root, ROWS + 1) and not verify_row_proof({**doc, "row_number": 7}, root)
    with pytest.raises(ProofInvalid, match="repeats the key 'a'"):
        parse_proof('{"a": 1, "a": 2}')
    assert isinstance(ProofInvalid("x"), CityLedgerError)


# ----- property: random proofs, random tampering, random binding: the CLI agrees with the document


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.text(max_size=6) | st.just("0x" + "0" * 64),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=5,
)


def mutate(doc: dict, draw) -> dict:
    """One random edit; edits that no longer apply (an earlier edit changed the field's type) do nothing."""
    doc = copy.deepcopy(doc)
    op = draw(st.sampled_from(["set", "delete", "nudge", "flip", "path", "row", "none"]))
    hashes = [k for k in ("leaf_hash", "root") if isinstance(doc.get(k), str) and doc[k]]
    path = doc.get("path") if isinstance(doc.get("path"), list) else None
    if op == "set":
        doc[draw(st.sampled_from([*sorted(iv.FIELDS), "extra"]))] = draw(JSON_VALUES)
    elif op == "delete" and doc:
        doc.pop(draw(st.sampled_from(sorted(doc))))
    elif op == "nudge":
        key = draw(st.sampled_from(["row_number", "tree_size"]))
        if type(doc.get(key)) is int:
            doc[key] += draw(st.integers(-3, 3))
    elif op == "flip":
        targets = hashes + [i for i, h in enumerate(path or []) if isinstance(h, str) and h]
        if targets:
            key = draw(st.sampled_from(targets))
            if isinstance(key, int):
                path[key] = flip(path[key])
            else:
                doc[key] = flip(doc[key])
    elif op == "path" and path is not None:
        doc["path"] = draw(st.permutations(path).map(list) | st.just(path[1:]) | st.just(path * 2))
    elif op == "row" and isinstance(doc.get("row"), dict) and doc["row"]:
        doc["row"][draw(st.sampled_from(sorted(doc["row"])))] = draw(st.text(max_size=4))
    return doc


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(1, 40), data=st.data())
def test_property_cli_verdict_is_the_documented_verdict(cli, tmp_path, rows, data):
    p = table(tmp_path, rows)
    root = rows_root(p).root
    code, out, err = cli("prove", p, "--row", data.draw(st.integers(1, rows)))
    assert code == 0, err
    original = json.loads(out)
    doc = original
    for _ in range(data.draw(st.integers(1, 3))):
        doc = mutate(doc, data.draw)
    mode = data.draw(st.sampled_from(["alone", "root", "root+size"]))
    args, binding = modes(root, rows)[mode]
    raw = json.dumps(doc, ensure_ascii=False).encode()
    code, out, err = run_verify(cli, tmp_path, raw, *args)
    assert (code == 0) == iv.verdict(raw, binding), (doc, mode, out, err)
    assert "Traceback" not in out + err
    if mode == "root+size":
        # Bound to the root and the row count, any change of content is caught.
        assert (code == 0) == (doc == original), (doc, out, err)
