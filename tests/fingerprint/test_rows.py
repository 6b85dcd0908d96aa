"""Canonical rows, row Merkle roots and inclusion proofs."""

import hashlib
import json

import pytest

from cityledger.errors import CityLedgerError
from cityledger.fingerprint import (
    ProofInvalid,
    canonical_row,
    check_row_proof,
    prove_row,
    row_leaf,
    rows_root,
    sha256_file,
    verify_row_proof,
)
from cityledger.fingerprint.merkle import (
    EMPTY_ROOT,
    _split,
    leaf_hash,
    merkle_root,
    node_hash,
    proof_from_leaves,
    verify_path,
)


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


BASE = b'city,year,value\nSeattle,2012,"1,5"\nTacoma,2013,7\n"New\nYork",2014,\n'


def reference_root(rows):
    """RFC 6962 MTH written from the definition (recursive split), independent of the streaming fold."""
    leaves = [
        hashlib.sha256(
            b"\x00" + json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).digest()
        for r in rows
    ]

    def mth(ls):
        if not ls:
            return hashlib.sha256(b"").digest()
        if len(ls) == 1:
            return ls[0]
        k = 1
        while k * 2 < len(ls):
            k *= 2
        return hashlib.sha256(b"\x01" + mth(ls[:k]) + mth(ls[k:])).digest()

    return mth(leaves)


def test_root_matches_definition(tmp_path):
    fp = rows_root(write(tmp_path, "a.csv", BASE))
    rows = [
        {"city": "Seattle", "year": "2012", "value": "1,5"},
        {"city": "Tacoma", "year": "2013", "value": "7"},
        {"city": "New\nYork", "year": "2014", "value": ""},
    ]
    assert fp.count == 3
    assert fp.columns == ["city", "value", "year"]
    assert fp.root == reference_root(rows)


def test_canonical_row_bytes_are_sorted_compact_utf8_json():
    assert canonical_row({"b": "é", "a": '1"2'}) == '{"a":"1\\"2","b":"é"}'.encode()
    assert row_leaf({"a": "1"}) == hashlib.sha256(b'\x00{"a":"1"}').digest()


def test_invariant_under_column_order_crlf_quoting_and_bom(tmp_path):
    base = rows_root(write(tmp_path, "a.csv", BASE)).root
    reordered = b'value,city,year\n"1,5",Seattle,2012\n7,Tacoma,2013\n,"New\nYork",2014\n'
    crlf = BASE.replace(b"\n", b"\r\n")
    quoted = b'"city","year","value"\n"Seattle","2012","1,5"\n"Tacoma","2013","7"\n"New\r\nYork","2014",""'
    bom_blank_lines = b"\xef\xbb\xbf" + BASE.replace(b"Tacoma", b"Tacoma") + b"\n\n"
    for i, data in enumerate([reordered, crlf, quoted, bom_blank_lines]):
        assert rows_root(write(tmp_path, f"v{i}.csv", data)).root == base, i
    # ...while the content hash (file bytes) differs, as it must
    assert sha256_file(tmp_path / "v1.csv") != sha256_file(tmp_path / "a.csv")


def test_changes_that_matter_change_the_root(tmp_path):
    base = rows_root(write(tmp_path, "a.csv", BASE)).root
    swapped_rows = b'city,year,value\nTacoma,2013,7\nSeattle,2012,"1,5"\n"New\nYork",2014,\n'
    edited = BASE.replace(b"2013", b"2031")
    spaced = BASE.replace(b"Tacoma", b"Tacoma ")
    renamed = BASE.replace(b"value", b"amount")
    for i, data in enumerate([swapped_rows, edited, spaced, renamed]):
        assert rows_root(write(tmp_path, f"c{i}.csv", data)).root != base, i


def test_tsv_and_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    tsv = write(tmp_path, "a.tsv", b"city\tyear\nSeattle\t2012\n")
    assert rows_root(tsv).root == reference_root([{"city": "Seattle", "year": "2012"}])
    table = pa.table({"year": pa.array([2012, None]), "city": pa.array(["Seattle", "Tacoma"])})
    pq.write_table(table, tmp_path / "a.parquet")
    fp = rows_root(tmp_path / "a.parquet")
    assert fp.count == 2
    assert fp.root == reference_root([{"city": "Seattle", "year": "2012"}, {"city": "Tacoma", "year": ""}])


def test_empty_table_and_header_only(tmp_path):
    fp = rows_root(write(tmp_path, "h.csv", b"a,b\n"))
    assert (fp.root, fp.count) == (EMPTY_ROOT, 0)
    with pytest.raises(CityLedgerError, match="empty file"):
        rows_root(write(tmp_path, "e.csv", b""))


@pytest.mark.parametrize(
    "data,message",
    [
        (b"a,b\n1,2\n3\n", "malformed row at line 3: 1 fields, the header has 2"),
        (b"a,b\n1,2,3\n", "malformed row at line 2"),
        (b'a,b\n"1,2\n', "malformed CSV"),
        (b"a,a\n1,2\n", "duplicate column name 'a'"),
        (b"a,b\n\xff\xfe,1\n", "not UTF-8"),
    ],
)
def test_malformed_csv_is_a_clear_error(tmp_path, data, message):
    with pytest.raises(CityLedgerError, match=message):
        rows_root(write(tmp_path, "bad.csv", data))


def test_unsupported_format_and_missing_file(tmp_path):
    with pytest.raises(CityLedgerError, match="unsupported format '.json'"):
        rows_root(write(tmp_path, "x.json", b"{}"))
    with pytest.raises(CityLedgerError, match="no such file"):
        rows_root(tmp_path / "nope.csv")
    with pytest.raises(CityLedgerError, match="is a directory"):
        sha256_file(tmp_path)


def test_sha256_file_matches_hashlib_across_buffer_boundaries(tmp_path):
    data = bytes(range(256)) * 9000
    p = write(tmp_path, "b.bin", data)
    seen = []
    assert sha256_file(p, progress=seen.append, buffer_size=4096) == hashlib.sha256(data).digest()
    assert sum(seen) == len(data)


def test_streaming_fold_and_proofs_match_definition_for_all_small_sizes():
    for n in range(1, 34):
        leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]

        def mth(ls):
            if len(ls) == 1:
                return ls[0]
            k = _split(len(ls))
            return node_hash(mth(ls[:k]), mth(ls[k:]))

        root, count = merkle_root(leaves)
        assert (root, count) == (mth(leaves), n)
        for m in range(n):
            leaf, path = proof_from_leaves(iter(leaves), m, n)
            assert leaf == leaves[m]
            assert verify_path(root, leaf, m, n, path)
            assert not verify_path(root, leaf, (m + 1) % n, n, path) or n == 1
            if path:
                assert not verify_path(root, leaf, m, n, path[:-1])
                assert not verify_path(root, leaf, m, n, [bytes(32)] + path[1:])


def test_prove_row_verifies_alone_and_fails_when_tampered(tmp_path):
    lines = ["id,name"] + [f"{i},n{i}" for i in range(100)]
    p = write(tmp_path, "t.csv", ("\n".join(lines) + "\n").encode())
    fp = rows_root(p)
    proof = prove_row(p, 42)
    assert proof["row"] == {"id": "41", "name": "n41"}
    assert proof["root"] == "0x" + fp.root.hex()
    doc = json.loads(json.dumps(proof))
    assert verify_row_proof(doc, fp.root)
    assert not verify_row_proof(doc, bytes(32))

    tampered_row = json.loads(json.dumps(proof))
    tampered_row["row"]["name"] = "n40"
    assert not verify_row_proof(tampered_row, fp.root)
    tampered_index = dict(proof, row_number=41)
    assert not verify_row_proof(tampered_index, fp.root)
    tampered_path = dict(proof, path=["0x" + "00" * 32] + proof["path"][1:])
    assert not verify_row_proof(tampered_path, fp.root)


def test_prove_row_out_of_range(tmp_path):
    p = write(tmp_path, "t.csv", b"a\n1\n2\n")
    with pytest.raises(CityLedgerError, match="row 3 out of range"):
        prove_row(p, 3)
    with pytest.raises(CityLedgerError, match="row 0 out of range"):
        prove_row(p, 0)
    assert prove_row(p, 2)["row"] == {"a": "2"}


def test_malformed_proof_documents():
    good = {
        "format": "cityledger-row-proof-v2",
        "canonical_form": "cityledger-rows-v1",
        "row": {"a": "1"},
        "row_number": 1,
        "tree_size": 1,
        "leaf_hash": "0x" + row_leaf({"a": "1"}).hex(),
        "path": [],
        "root": "0x" + row_leaf({"a": "1"}).hex(),
    }
    assert verify_row_proof(good)
    for bad, reason in [
        ({"format": "x"}, "format 'x' is not 'cityledger-row-proof-v2'"),
        (dict(good, root="0x1234"), "root must be '0x' and 64 lowercase hex digits"),
        (dict(good, row_number=2), "row_number 2 is outside 1..tree_size"),
        (dict(good, row={"a": 1}), "row must be an object whose values are all text"),
    ]:
        assert not verify_row_proof(bad)
        with pytest.raises(ProofInvalid, match=reason):
            check_row_proof(bad)
