"""`cityledger publish` says what will lower the dataset's quality score (docs/CATALOG.md §9-10):
one warning line each, with the points it costs, on stderr, before anything is sent or stored."""

from __future__ import annotations

import pytest

PD_MARK = "https://creativecommons.org/publicdomain/mark/1.0/"  # in neither the EU vocabulary nor SPDX's list


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """A node that does not answer and an empty metadata store: publish fails after its warnings."""
    monkeypatch.setenv("CITYLEDGER_RPC_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CITYLEDGER_METADATA_DIR", str(tmp_path / "metadata"))
    return tmp_path


def publish(cli, folder, name: str, *extra: str):
    data = folder / name
    data.write_text("day,count\n2024-01-01,3\n")
    return cli("publish", data, "--title", "Counts", "--domain", "transport", "--description", "Daily", *extra)


def test_publish_warns_about_what_lowers_the_score(cli, offline):
    code, out, err = publish(cli, offline, "counts.csv", "--license", PD_MARK, "--json")
    warnings = [w.strip() for w in err.split("warning:")[1:]]
    assert [w.split("(quality score ")[1].split(" ")[0] for w in warnings] == ["-30", "-20", "-20", "-10"]
    assert warnings[0].startswith("add keywords (dcat:keyword; `cityledger publish --keyword`)")
    assert "`--spatial`" in warnings[1] and "`--temporal START/END`" in warnings[2] and "licence" in warnings[3]
    # Then the node: one error, nothing registered or stored, and stdout is left to --json.
    assert code == 1 and err.count("error:") == 1 and out == ""
    assert not (offline / "metadata").exists()


def test_a_complete_description_publishes_without_warnings(cli, offline):
    code, _, err = publish(cli, offline, "counts.csv", "--license", "CC-BY-4.0", "--keyword", "bicycles",
                           "--spatial", "Ghent, Belgium", "--temporal", "2024-01-01/2024-12-31")  # fmt: skip
    assert "warning:" not in err and code == 1 and "error:" in err


def test_a_proprietary_format_is_warned_about(cli, offline):
    _, _, err = publish(cli, offline, "counts.xlsx", "--license", "CC-BY-4.0", "--keyword", "bicycles",
                        "--spatial", "Ghent", "--temporal", "2024-01-01/2024-12-31")  # fmt: skip
    assert err.count("warning:") == 1 and "non-proprietary format" in err and "(quality score -20 of 405)" in err
