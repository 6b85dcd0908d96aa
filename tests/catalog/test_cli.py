"""`cityledger quality FILE` offline: a CityLedger metadata document (scored as the description it
will have once registered) or any DCAT document; bad input is one clear error."""

from __future__ import annotations

import json

from cityledger.datasets.metadata import build_metadata, canonical_json

from .conftest import dataset_info
from .test_quality import CKAN_SHAPED


def test_quality_of_files(cli, tmp_path):
    doc = build_metadata(
        dataset_info(keywords=[]), file_name="c.csv", content_hash=b"\x11" * 32, byte_size=3, media="text/csv"
    )
    mine = tmp_path / "metadata.json"
    mine.write_bytes(canonical_json(doc))
    code, out, err = cli("quality", mine, "--no-probe")
    assert code == 0, err
    assert "score 295/405 (73%): good" in out and "+30  add keywords" in out  # reachability not checked: -80
    assert "not checked: access URL accessible, download URL accessible" in out

    ckan = tmp_path / "catalog.ttl"
    ckan.write_text(CKAN_SHAPED)
    code, out, err = cli("quality", ckan, "--no-probe", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["dataset"] == "https://ckan.example/dataset/a" and report["rating"] == "bad"
    assert any("not text" in v for v in report["conformance"])

    empty = tmp_path / "empty.ttl"
    empty.write_text("<https://x.example/a> <https://x.example/b> <https://x.example/c> .")
    code, _, err = cli("quality", empty)
    assert code == 1 and "no dcat:Dataset in it" in err
    code, _, err = cli("quality", tmp_path / "missing.ttl")
    assert code == 1 and "missing.ttl" in err
    code, _, err = cli("quality", "1", "--base", "ftp://x")
    assert code == 1 and "must be an http(s) URL" in err
