"""DCAT metadata documents, their canonical hash and the content-addressed store."""

import hashlib
import json

import pytest

from cityledger.datasets import (
    Coverage,
    DatasetInfo,
    MetadataStore,
    build_metadata,
    canonical_json,
    domain_code,
    metadata_hash,
    validate_metadata,
)
from cityledger.datasets.store import check_uri, default_uri
from cityledger.errors import CityLedgerError

PUBLISHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def info(**kw):
    base = dict(
        title="Seattle weather",
        domain="environment",
        publisher=PUBLISHER,
        description="Daily weather",
        license="CC0-1.0",
        coverage=Coverage("2012-01-01", "2015-12-31", "Seattle, Washington, USA", not_covered="other stations"),
    )
    base.update(kw)
    return DatasetInfo(**base)


def doc(**kw):
    return build_metadata(
        info(**kw),
        file_name="w.csv",
        content_hash=b"\x11" * 32,
        byte_size=123,
        media="text/csv",
        record_count=2,
        rows_root=b"\x22" * 32,
        canonical_form="cityledger-rows-v1",
    )


def test_document_fields():
    d = doc(supersedes=3, personal_data=True)
    assert d["@type"] == "dcat:Dataset"
    # Schema version 2: the domain on the dataset, the theme and media type as IRIs (docs/CATALOG.md).
    assert d["cl:schemaVersion"] == 2 and d["dcat:theme"].endswith("/data-theme/ENVI")
    assert d["cl:domain"] == "environment" and d["cl:domainCode"] == 8
    dist = d["dcat:distribution"][0]
    assert dist["spdx:checksum"]["spdx:checksumValue"] == "11" * 32
    assert (
        dist["dcat:byteSize"] == 123
        and dist["dcat:mediaType"] == "https://www.iana.org/assignments/media-types/text/csv"
    )
    assert d["cl:recordCount"] == 2 and d["cl:rowsMerkleRoot"] == "0x" + "22" * 32
    assert d["dct:temporal"]["dcat:startDate"] == "2012-01-01"
    assert d["cl:sampling"]["cl:notCovered"] == "other stations"
    assert d["cl:supersedes"] == 3 and d["cl:personalData"] is True


def test_hash_is_sha256_of_canonical_sorted_compact_json():
    d = doc()
    data = canonical_json(d)
    assert data == json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert metadata_hash(d) == hashlib.sha256(data).digest()
    reordered = dict(reversed(list(d.items())))
    assert metadata_hash(reordered) == metadata_hash(d)
    assert metadata_hash(doc(title="Other")) != metadata_hash(d)
    assert metadata_hash(doc()) == metadata_hash(d)  # deterministic: no timestamps


def test_missing_fields_are_listed_together():
    with pytest.raises(CityLedgerError) as exc:
        doc(description=None, license="")
    assert str(exc.value) == "metadata is missing required fields: description, license"
    d = doc()
    del d["dcat:distribution"][0]["dcat:byteSize"]
    del d["dct:title"]
    with pytest.raises(CityLedgerError, match="title, distribution byte size"):
        validate_metadata(d)


def test_domains_and_floats():
    assert domain_code("energy") == 4 and domain_code(8) == 8 and domain_code("5") == 5
    with pytest.raises(CityLedgerError, match="unknown domain 'weather'"):
        domain_code("weather")
    with pytest.raises(CityLedgerError, match="float"):
        canonical_json({"a": [1.5]})


def test_canonical_json_is_rfc8785():
    # Keys by UTF-16 code units (a code point sort would put U+FF21 first), integers exact or refused.
    assert canonical_json({"Ａ": 1, "😀": [True, None]}) == '{"😀":[true,null],"Ａ":1}'.encode()
    with pytest.raises(CityLedgerError, match="beyond 2\\^53"):
        canonical_json({"dcat:byteSize": 2**53})


def test_store_is_content_addressed(tmp_path):
    store = MetadataStore(tmp_path / "meta")
    d = doc()
    digest, written = store.put(d)
    assert written and digest == metadata_hash(d)
    path = tmp_path / "meta" / f"{digest.hex()}.json"
    assert hashlib.sha256(path.read_bytes()).digest() == digest
    assert store.put(d) == (digest, False)
    assert store.get(digest) == d
    assert store.get_uri(default_uri(digest)) == d
    path.write_bytes(path.read_bytes().replace(b"Seattle", b"Tacoma"))
    with pytest.raises(CityLedgerError, match="does not match its hash"):
        store.get(digest)
    with pytest.raises(CityLedgerError, match="not in the local store"):
        store.get(b"\x00" * 32)


def test_store_dir_from_config(tmp_path, monkeypatch):
    from cityledger.config import load_config

    monkeypatch.setenv("CITYLEDGER_DATA_DIR", str(tmp_path / "data"))
    assert MetadataStore(cfg=load_config(tmp_path)).root == tmp_path / "data" / "metadata"
    monkeypatch.setenv("CITYLEDGER_METADATA_DIR", str(tmp_path / "elsewhere"))
    assert MetadataStore(cfg=load_config(tmp_path)).root == tmp_path / "elsewhere"


def test_uris():
    assert check_uri("ipfs://bafy") == "ipfs://bafy"
    assert check_uri("s3://bucket/key.json")
    with pytest.raises(CityLedgerError, match="must start with"):
        check_uri("ftp://x")
    with pytest.raises(CityLedgerError, match="at most 256"):
        check_uri("s3://" + "a" * 300)
