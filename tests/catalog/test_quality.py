"""The metadata quality score (after data.europa.eu's MQA): indicators and weights, reachability
and the registered hash checked over HTTP, what to fix, and the publish-time warnings."""

from __future__ import annotations

import hashlib

import pytest
from rdflib import Graph

from cityledger.catalog.fetch import Limits, client
from cityledger.catalog.quality import dataset_quality, http_prober, publish_warnings, quality
from cityledger.datasets.metadata import Coverage
from cityledger.demo import catalog as demo
from cityledger.errors import CityLedgerError

from .conftest import closed_port_url, dataset_info

CKAN_SHAPED = """
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<https://ckan.example/dataset/a> a dcat:Dataset ; dct:title "Trees" ; dct:description "Street trees" ;
    dct:publisher [ a foaf:Agent ; foaf:name "Parks" ] ;
    dcat:distribution <https://ckan.example/dataset/a/resource/1> .
<https://ckan.example/dataset/a/resource/1> a dcat:Distribution ;
    dcat:accessURL <https://ckan.example/trees.xlsx> ; dct:format "XLSX" ; dcat:mediaType "application/vnd.ms-excel" .
"""


def by_name(report):
    return {i.name: i for i in report.indicators}


def entry(demo_entries, key):
    return next((doc, facts) for k, doc, facts in demo_entries if k == key)


def test_weights_are_the_mqa_ones(demo_entries):
    doc, facts = entry(demo_entries, "iowa-electricity")
    report = dataset_quality(doc, facts, base="https://data.city.example")
    assert report.max_score == 405
    dims = report.dimensions()
    assert {d: m for d, (_, m) in dims.items()} == {
        "findability": 100,
        "accessibility": 100,
        "interoperability": 110,
        "reusability": 75,
        "contextuality": 20,
    }
    # Offline: everything but reachability is scored; the two reachability indicators are not checked.
    assert report.unchecked() == ["access URL accessible", "download URL accessible"]
    assert dims["findability"] == (100, 100) and dims["interoperability"] == (110, 110)
    # The demo's Public Domain Mark is in neither the EU vocabulary nor SPDX's list.
    assert report.fixes() == [(10, by_name(report)["licence from a vocabulary"].fix)]
    assert report.score == 315 and report.rating == "good"


def test_reachable_and_matching_download_scores_full_accessibility(demo_entries, files):
    doc, facts = entry(demo_entries, "iowa-electricity")
    data = demo.vega_file("iowa-electricity.csv").read_bytes()
    assert "0x" + hashlib.sha256(data).hexdigest() == facts.content_hash
    files.routes[f"/api/datasets/{facts.dataset_id}/download"] = data
    with client(Limits(timeout=5)) as http:
        report = dataset_quality(doc, facts, base=files.base, prober=http_prober(http))
    assert report.dimensions()["accessibility"] == (100, 100) and not report.unchecked()
    assert report.score == 395 and report.rating == "excellent"


def test_wrong_bytes_or_no_answer_are_what_to_fix(demo_entries, files):
    doc, facts = entry(demo_entries, "iowa-electricity")
    files.routes[f"/api/datasets/{facts.dataset_id}/download"] = b"year,source,net_generation\n2001,other,1\n"
    with client(Limits(timeout=5)) as http:
        report = dataset_quality(doc, facts, base=files.base, prober=http_prober(http))
    ind = by_name(report)
    assert ind["access URL accessible"].earned == 50  # it answers...
    assert ind["download URL accessible"].earned == 0  # ...with other bytes than the registered ones
    assert "do not match the registered SHA-256" in ind["download URL accessible"].fix
    with client(Limits(timeout=5)) as http:
        base = closed_port_url("")
        report = dataset_quality(doc, facts, base=base, prober=http_prober(http))
    ind = by_name(report)
    assert ind["access URL accessible"].earned == 0 and "ConnectError" in ind["access URL accessible"].fix
    assert report.fixes()[0][0] == 50  # the most valuable fix first


def test_personal_data_has_no_download_by_design(demo_entries):
    doc, facts = entry(demo_entries, "citizen-mobility")
    report = dataset_quality(doc, facts, base="https://data.city.example")
    ind = by_name(report)
    assert not ind["download URL given"].applicable and not ind["download URL accessible"].applicable
    assert report.max_score == 355 and report.fixes() == []


def test_an_external_document_is_scored_and_told_what_to_fix():
    g = Graph().parse(data=CKAN_SHAPED, format="turtle")
    report = quality(g)
    ind = by_name(report)
    assert ind["format"].earned == 20 and ind["machine-readable format"].earned == 20
    assert ind["non-proprietary format"].earned == 0 and ind["format and media type from a vocabulary"].earned == 0
    assert ind["DCAT-AP compliance"].earned == 0 and any("not text" in v for v in report.conformance)
    assert ind["licence"].earned == 0 and ind["keywords"].earned == 0
    fixes = [f for _, f in report.fixes()]
    assert any("keywords" in f for f in fixes) and any("licence" in f for f in fixes)
    assert report.rating == "bad"
    with pytest.raises(CityLedgerError, match="not a dcat:Dataset"):
        quality(g, "https://ckan.example/dataset/b")
    with pytest.raises(CityLedgerError, match="the graph has 0 datasets"):
        quality(Graph())


def test_publish_warnings_name_what_the_publisher_can_improve():
    info = dataset_info(license="https://creativecommons.org/publicdomain/mark/1.0/", keywords=[], coverage=Coverage())
    warnings = publish_warnings(info, "trees.xlsx")
    assert len(warnings) == 5
    assert warnings[0].startswith("add keywords") and warnings[0].endswith("(quality score -30 of 405)")
    assert any("--spatial" in w for w in warnings) and any("--temporal" in w for w in warnings)
    assert any("non-proprietary" in w for w in warnings) and any("licence of the EU" in w for w in warnings)
    assert publish_warnings(dataset_info(), "counts.csv") == []
