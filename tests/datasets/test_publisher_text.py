"""Publisher text at publish: normalised (NFC, trimmed, LF) or refused when it would display deceptively.

Issue 13 item 3: a right-to-left override made `rtl<U+202E>txt.exe` display as "rtlexe.txt",
zero-width characters were kept, a 20,000-character word overflowed the page, and --license took
any string. The rules are in docs/FINGERPRINT.md section 5; the CLI's refusal is in test_cli_chain.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityledger.datasets import Coverage, DatasetInfo, build_metadata
from cityledger.datasets.metadata import DESCRIPTION, EU_LICENCES, SPDX_LICENCES, TITLE, clean_info
from cityledger.datasets.text import clean_license, clean_text
from cityledger.errors import CityLedgerError

PUBLISHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def info(**kw) -> DatasetInfo:
    base = dict(title="Bus trips", domain="transport", publisher=PUBLISHER, description="Trips", license="CC0-1.0")
    base.update(kw)
    return DatasetInfo(**base)


def refused(**kw) -> str:
    with pytest.raises(CityLedgerError) as exc:
        clean_info(info(**kw))
    message = str(exc.value)
    assert message.startswith("publisher text refused: ") and "\n" not in message
    return message


def doc(**kw) -> dict:
    return build_metadata(info(**kw), file_name="f.csv", content_hash=b"\x01" * 32, byte_size=1, media="text/csv")


BIDI = [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C]


@pytest.mark.parametrize("cp", BIDI, ids=[f"U+{cp:04X}" for cp in BIDI])
def test_bidirectional_controls_are_refused(cp):
    message = refused(title=f"rtl{chr(cp)}txt.exe")
    assert f"title: U+{cp:04X} {unicodedata.name(chr(cp))}: a bidirectional control" in message
    assert "at character 4" in message


@pytest.mark.parametrize(
    "field,value,reason",
    [
        ("title", "Bus\u200btrips", "U+200B ZERO WIDTH SPACE: an invisible character at character 4"),
        ("title", "Bus\u2060trips", "U+2060 WORD JOINER: an invisible character"),
        ("title", "\ufeffBus trips", "U+FEFF ZERO WIDTH NO-BREAK SPACE: an invisible character"),
        ("title", "Bus\u00adtrips", "U+00AD SOFT HYPHEN: an invisible character"),
        ("title", "Bus \u3164trips", "U+3164 HANGUL FILLER: an invisible character"),
        ("title", "Bus\u200dtrips", "U+200D ZERO WIDTH JOINER: an invisible character (kept only between"),
        ("title", "👩\u200d💻 trips", "U+200D ZERO WIDTH JOINER"),
        ("title", "Bus\x07trips", "U+0007: a control character at character 4"),
        ("title", "Bus\ttrips", "U+0009: a control character"),
        ("title", "Bus\ntrips", "a line break (this field is one line) at character 4"),
        ("description", "Trips\x00", "U+0000: a control character"),
        ("description", "a\u2028b", "U+2028 LINE SEPARATOR: a line separator at character 2"),
        ("title", "Bus \ue000", "U+E000: a private-use character"),
        ("title", "Bus \u0378", "U+0378: an unassigned code point"),
        ("title", "Bus \U000e0041", "U+E0041 TAG LATIN CAPITAL LETTER A: an invisible character"),
        ("title", "x" + "\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309", "more than 8 combining marks"),
        ("title", "x" * 201, "201 characters (at most 200)"),
        ("description", "x " * 5_001, "10,001 characters (at most 10,000)"),
        ("description", "a " + "w" * 20_000, "20,002 characters (at most 10,000)"),
        ("description", "a " + "w" * 101, "a word of 101 characters at character 3 (at most 100"),
        ("description", "see https://example.org/" + "p" * 2_000, "a word of 2,020 characters"),
        ("source", "s" * 101, "a word of 101 characters"),
    ],
)
def test_deceptive_or_unwieldy_text_is_refused(field, value, reason):
    assert f"{field}: {reason}" in refused(**{field: value})


def test_coverage_keywords_and_dates_are_checked_too():
    message = refused(
        coverage=Coverage(temporal_start="2020-13-01", spatial="Seattle\u202e", not_covered="x\u200by"),
        keywords=["ok", "", "k" * 51],
    )
    for part in [
        "keyword 2: empty",
        "keyword 3: 51 characters (at most 50)",
        "temporal start '2020-13-01' is not an ISO 8601 date (YYYY-MM-DD)",
        "spatial: U+202E RIGHT-TO-LEFT OVERRIDE",
        "not covered: U+200B ZERO WIDTH SPACE",
    ]:
        assert part in message
    assert "keywords: 31 (at most 30)" in refused(keywords=[f"k{i}" for i in range(31)])


def test_what_is_normalised():
    d = doc(
        title="  Cafe\u0301 counts ",
        description="Line one\r\nline two\rline three  ",
        license="cc-by-4.0",
        keywords=["bus", "bus", "Cafe\u0301"],
        source=" https://data.example.org/trips ",
    )
    assert d["dct:title"] == "Café counts" and unicodedata.is_normalized("NFC", d["dct:title"])
    assert d["dct:description"] == "Line one\nline two\nline three"
    assert d["dct:license"] == {"@id": EU_LICENCES + "CC_BY_4_0", "rdfs:label": "CC-BY-4.0"}
    assert doc(license="apache-2.0")["dct:license"] == {"@id": SPDX_LICENCES + "Apache-2.0", "rdfs:label": "Apache-2.0"}
    assert d["dcat:keyword"] == ["bus", "Café"] and d["dct:source"] == {"@id": "https://data.example.org/trips"}
    # Empty optional text is dropped; empty required text is missing.
    assert "dct:source" not in doc(source="   ") and "dct:provenance" not in doc(source="   ")
    with pytest.raises(CityLedgerError, match="missing required fields: title"):
        doc(title="  ")


def test_what_is_kept():
    kept = {
        "title": "می\u200cخواهم: Persian needs its zero-width non-joiner",
        "description": "क्\u200dष, ❤\ufe0f, עִבְרִית with marks, and 公共交通の利用者数" * 30,  # CJK runs wrap anywhere
        "source": "https://data.example.org/" + "p" * 150,  # a long URL is one word of its own limit
    }
    d = doc(**kept, coverage=Coverage(notes="first line\nsecond line", spatial="Zürich"))
    assert d["dct:title"] == kept["title"] and d["dct:description"] == kept["description"].strip()
    assert d["cl:sampling"]["rdfs:comment"] == "first line\nsecond line"
    assert len(clean_text("公" * 5_000, DESCRIPTION)[0]) == 5_000 and clean_text("公" * 5_000, DESCRIPTION)[1] is None


@pytest.mark.parametrize(
    "value,expected",
    [
        ("CC-BY-4.0", "CC-BY-4.0"),
        ("cc0-1.0", "CC0-1.0"),
        ("apache-2.0", "Apache-2.0"),
        ("urn:example:city-licence:1", None),
        ("https://creativecommons.org/licenses/by/4.0/", "https://creativecommons.org/licenses/by/4.0/"),
        ("http://publications.europa.eu/resource/authority/licence/CC_BY_4_0", None),
    ],
)
def test_known_licenses(value, expected):
    assert clean_license(value) == (expected or value, None)


@pytest.mark.parametrize(
    "value,reason",
    [
        ("any string at all", "unknown licence 'any string at all': give one SPDX licence identifier"),
        ("CC-BY-9.9", "unknown licence 'CC-BY-9.9'"),
        ("MIT OR Apache-2.0", "unknown licence 'MIT OR Apache-2.0': give one"),  # dct:license names one document
        ("GPL-2.0+", "unknown licence"),
        ("LicenseRef-City-Open-Data", "unknown licence"),
        ("https://creativecommons.org@evil.example/by/4.0/", "a URL with a user name before its host"),
        ("https:///no-host", "not a URL"),
        ("CC-BY-4.0\u202e", "bidirectional control"),
    ],
)
def test_unknown_licenses_are_refused(value, reason):
    cleaned, problem = clean_license(value)
    assert problem is not None and reason in problem
    assert f"license: {problem}" in refused(license=value)


def test_every_problem_in_one_message():
    message = refused(title="a\u202eb", description="c\u200bd", license="nope")
    assert message.count(";") == 2 and all(f in message for f in ("title:", "description:", "license:"))


@given(st.text(max_size=60))
def test_property_cleaning_is_idempotent(value):
    """Whatever is accepted is stored NFC-normalised and would be accepted again unchanged."""
    cleaned, problem = clean_text(value, TITLE)
    if problem is None:
        assert clean_text(cleaned, TITLE) == (cleaned, None)
        assert unicodedata.is_normalized("NFC", cleaned) and cleaned == cleaned.strip()
        assert not any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in cleaned)
