"""CLI commands: harvest, quality (owned by catalog/): DCAT catalogues in, metadata quality out."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from ..errors import CityLedgerError
from .dataset_cmds import JSON_OUT, NETWORK

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

TIMEOUT = typer.Option(30.0, "--timeout", min=1.0, max=600.0, help="Seconds allowed for each network step.")


def harvest_cmd(
    source: str = typer.Argument(..., help="URL or file of a DCAT catalogue (JSON-LD, Turtle, RDF/XML), e.g. CKAN's"),
    domain: str | None = typer.Option(None, "--domain", help="Domain for datasets whose theme maps to none."),
    license: str | None = typer.Option(None, "--license", help="Licence for datasets that declare none."),
    max_mb: int = typer.Option(512, "--max-mb", min=1, max=1 << 20, help="Largest file downloaded, in MiB."),
    timeout: float = TIMEOUT,
    dry_run: bool = typer.Option(False, "--dry-run", help="Fetch and report; register nothing."),
    network: str | None = NETWORK,
    from_account: int | None = typer.Option(None, "--from-account", help="Devnet account index (default 1)."),
    as_json: bool = JSON_OUT,
) -> None:
    """Register the datasets of a DCAT catalogue not on chain yet (changed files as new versions)."""
    from ..catalog.fetch import Limits
    from ..catalog.harvest import harvest
    from ..config import config
    from ..datasets.metadata import domain_code, licence_iri
    from ..datasets.store import MetadataStore
    from .dataset_cmds import _account, _chain

    # Bad options fail before anything is fetched or the chain is touched.
    if domain is not None:
        domain_code(domain)
    if license is not None:
        licence_iri(license)
    net = config().network(network)
    account = _account(net, from_account, 1)
    _, w3, deployment = _chain(net.name)

    def show(result) -> None:
        if not as_json:
            where = f"dataset {result.dataset_id}" if result.dataset_id else ""
            if result.supersedes:
                where += f" (supersedes {result.supersedes})"
            detail = f": {result.detail}" if result.detail else ""
            out.print(f"{result.status:<11} {where:<28} {result.title or result.source}{detail}")

    report = harvest(
        source,
        w3=w3,
        deployment=deployment,
        account=account,
        store=MetadataStore(),
        limits=Limits(max_bytes=max_mb << 20, timeout=timeout),
        default_domain=domain,
        default_licence=license,
        dry_run=dry_run,
        log=show,
    )
    if as_json:
        out.print_json(json.dumps(report.to_json()))
        return
    counts = ", ".join(f"{n} {status}" for status, n in report.counts().items())
    did = "would change" if dry_run else "harvested"
    out.print(f"{did} {len(report.results)} datasets from {source} ({report.pages} page(s)): {counts}")


def quality_cmd(
    target: str = typer.Argument(..., help="A dataset id, or a file: a CityLedger metadata document or any DCAT one"),
    base: str | None = typer.Option(None, "--base", help="Public base URL of the API (default: the configured one)."),
    probe: bool = typer.Option(True, "--probe/--no-probe", help="Check that the files are served (HTTP)."),
    timeout: float = TIMEOUT,
    network: str | None = NETWORK,
    as_json: bool = JSON_OUT,
) -> None:
    """Score a dataset's metadata (after data.europa.eu's MQA) and say what to fix to raise it."""
    from ..catalog.fetch import Limits, client
    from ..catalog.iris import check_base
    from ..catalog.quality import http_prober
    from ..config import config

    cfg = config()
    root = check_base(base or cfg.base_url)
    limits = Limits(timeout=timeout)
    with client(limits) as http:
        prober = http_prober(http, limits) if probe else None
        if target.isdigit():
            reports = [_registered_quality(int(target), root, prober, network)]
        else:
            reports = _file_quality(Path(target), prober)
    if as_json:
        out.print_json(json.dumps(reports[0].to_json() if len(reports) == 1 else [r.to_json() for r in reports]))
        return
    for report in reports:
        for line in _lines(report):
            out.print(line)


def _registered_quality(dataset_id: int, base: str, prober, network: str | None):
    from ..catalog.facts import chain_facts
    from ..catalog.quality import dataset_quality
    from ..datasets.store import URI_PREFIX, MetadataStore
    from ..fingerprint.hashing import parse_hash
    from .dataset_cmds import _chain

    if dataset_id < 1:
        raise CityLedgerError(f"dataset {dataset_id}: ids start at 1")
    _, w3, deployment = _chain(network)
    facts = chain_facts(w3, deployment, dataset_id)
    store, doc = MetadataStore(), None
    if facts.metadata_uri.startswith(URI_PREFIX):
        digest = parse_hash(facts.metadata_uri[len(URI_PREFIX) :], "metadata hash")
        doc = store.get(digest) if store.has(digest) else None
    if doc is None:
        err.print(f"note: the metadata of dataset {dataset_id} ({facts.metadata_uri}) is not in the local store")
    return dataset_quality(doc, facts, base=base, prober=prober)


def _file_quality(path: Path, prober) -> list:
    from ..catalog.quality import PROVISIONAL_BASE, dataset_quality, datasets_of, provisional_facts, quality
    from ..catalog.serialize import parse
    from ..fingerprint import check_readable_file

    data = check_readable_file(path).read_bytes()
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "cl:contentHash" in doc:  # a CityLedger document, registered or not yet
        return [dataset_quality(doc, provisional_facts(doc), base=PROVISIONAL_BASE)]
    graph = parse(data, name=path.name)
    found = datasets_of(graph)
    if not found:
        raise CityLedgerError(f"{path}: no dcat:Dataset in it")
    return [quality(graph, ds, prober=prober) for ds in found]


def _lines(report) -> list[str]:
    lines = [f"{report.dataset}  score {report.score}/{report.max_score} ({report.percent}%): {report.rating}"]
    for dimension, (score, most) in report.dimensions().items():
        lines.append(f"  {dimension:<17} {score:>3}/{most}")
    if report.unchecked():
        lines.append(
            f"  not checked: {', '.join(report.unchecked())} (give --base of a running API, without --no-probe)"
        )
    for violation in report.conformance:
        lines.append(f"  DCAT-AP {violation}")
    if report.fixes():
        lines.append("  to raise it:")
        lines += [f"    +{points:<3} {fix}" for points, fix in report.fixes()]
    return lines


def register(app: typer.Typer) -> None:
    app.command("harvest")(harvest_cmd)
    app.command("quality")(quality_cmd)
