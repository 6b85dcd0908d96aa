"""CLI commands for what the second round's contracts let publishers, grantees, recipients and the
admin do, and for reading it back from the index:

    access [list] | access cancel ID                      rights [list] | rights answer ID | rights stats
    release-operator add|remove ADDRESS | list PUBLISHER  budget ACCESS_ID [--epsilon E]
    obligations [list] | request RELEASE SUBJECT | confirm ID...     org set-profile ADDRESS | show | list

`access` and `rights` list as before when given no subcommand. A transaction is signed by the key the
user set (any network) or, on a devnet, by `--from-account N`, else by the account the chain names
for it (the dataset's publisher, the request's publisher, the obligation's recipient, the admin).
Input is checked first, and what the contracts refuse is refused while estimating gas: one clear
error, nothing sent (chain/actions.py)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import CityLedgerError
from . import query_cmds
from .base import View, lazy, reads_index
from .chain_cmds import prompt_password
from .query_cmds import PAGE, PAGE_SIZE, audit_cell, listing, short, when

queries = lazy("cityledger.query.queries")
v = lazy("cityledger.query.validate")

NETWORK = typer.Option("--network", "-n", help="A network of cityledger.toml (default: devnet)")
FROM = typer.Option("--from-account", help="Devnet account index (default: the account the chain names for it)")
JSON_OUT = typer.Option("--json", help="Print JSON")


def _address(value: str, name: str) -> str:
    """An address argument, or the one-line error before anything is read (the query floor's check)."""
    from ..query.errors import BadInput

    try:
        return v.address(value, name)
    except BadInput as exc:
        raise CityLedgerError(str(exc)) from None


def _chain(network: str | None):
    """(network, web3, deployment); the network is resolved first so a typo fails before any I/O."""
    from ..chain.connection import connect
    from ..chain.deployments import load_deployment
    from ..config import config

    net = config().network(network)
    return net, connect(net), load_deployment(net.chain_id)


def _signer(net, from_account: int | None, owner: str | None, role: str, default: int | None = None):
    """Who signs: the key the user set (any network), else on a devnet `--from-account`, the mnemonic
    account with the `owner` address the chain names (`role` says which, for the error), or `default`."""
    from ..chain.accounts import configured_key, devnet_accounts, sender_account

    if configured_key(prompt=prompt_password) is not None or from_account is not None or not net.devnet:
        return sender_account(net, from_account, prompt=prompt_password)
    accounts = devnet_accounts(net)
    for acct in accounts:
        if owner is not None and acct.address.lower() == owner.lower():
            return acct
    if default is not None:
        return accounts[default]
    raise CityLedgerError(f"{role} {owner} is not a devnet account: give --from-account or set CITYLEDGER_PRIVATE_KEY")


def _done(result: dict[str, Any], line: str, as_json: bool) -> None:
    View(result, lines=[f"{line} (tx {result['tx_hash']}, block {result['block']})"]).show(as_json)


def _contract(w3, deployment, name: str):
    from ..chain.deployments import contract

    return contract(w3, deployment, name)


# ---------------------------------------------------------------- access and rights: listing groups


def listing_group(list_command, help_text: str) -> typer.Typer:
    """A command group that runs `list_command` (a reads_index command) when given no subcommand, so
    `cityledger access --grantee X` lists as before and `cityledger access cancel 3` acts."""
    group = typer.Typer(help=help_text, invoke_without_command=True, no_args_is_help=False)
    sig = inspect.signature(list_command)

    def callback(ctx: typer.Context, **kwargs: Any) -> None:
        if ctx.invoked_subcommand is None:
            list_command(**kwargs)

    ctx_param = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    params = [ctx_param, *sig.parameters.values()]
    callback.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    callback.__annotations__ = {p.name: p.annotation for p in params}
    callback.__doc__ = list_command.__doc__
    group.callback()(callback)
    return group


def access_cancel_cmd(
    access_id: Annotated[int, typer.Argument(help="Your pending access request")],
    network: Annotated[str | None, NETWORK] = None,
    from_account: Annotated[int | None, FROM] = None,
    as_json: Annotated[bool, JSON_OUT] = False,
) -> None:
    """Withdraw a pending access request (its requester only)."""
    from ..chain.actions import cancel_access_request

    net, w3, dep = _chain(network)
    requester = _contract(w3, dep, "AccessRegistry").functions.access(access_id).call()[1]
    account = _signer(net, from_account, requester, "the requester")
    _done(cancel_access_request(w3, dep, account, access_id), f"cancelled access request {access_id}", as_json)


def rights_answer_cmd(
    request_id: Annotated[int, typer.Argument(help="The rights request to answer")],
    outcome: Annotated[str, typer.Option("--outcome", help="fulfilled | refused | rejected")],
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            help="The answer for the citizen (Markdown, text or JSON, at most 1 MiB): kept in the content-addressed "
            "store, its SHA-256 on chain, served by GET /api/documents/{hash}",
        ),
    ],
    network: Annotated[str | None, NETWORK] = None,
    from_account: Annotated[int | None, FROM] = None,
    as_json: Annotated[bool, JSON_OUT] = False,
) -> None:
    """Answer a rights request: fulfilled, refused, or rejected (not from a data subject, or manifestly
    unfounded or excessive: counted apart in the statistics)."""
    from ..chain.actions import answer_rights_request
    from ..codes import RIGHTS_OUTCOMES
    from ..datasets.store import MetadataStore
    from ..fingerprint import check_readable_file

    if outcome not in RIGHTS_OUTCOMES:
        raise CityLedgerError(f"--outcome must be one of {', '.join(RIGHTS_OUTCOMES)}, got {outcome!r}")
    answer = check_readable_file(file).read_bytes()
    net, w3, dep = _chain(network)
    publisher = _contract(w3, dep, "RightsRegistry").functions.request(request_id).call()[1]
    account = _signer(net, from_account, publisher, "the responsible publisher")
    result = answer_rights_request(w3, dep, account, request_id, outcome, answer, MetadataStore())
    late = " (after the deadline)" if result["late"] else ""
    _done(result, f"answered rights request {request_id}: {outcome}{late}, answer {result['answer_hash']}", as_json)


@reads_index
def rights_stats_cmd(publisher: Annotated[str | None, typer.Option("--publisher", help="One publisher")] = None):
    """Rights requests by outcome: rejected ones apart from refusals, overdue ones apart from the rest."""
    who = v.address(publisher, "--publisher") if publisher else None

    def ask(conn) -> View:
        st = queries.rights_stats(conn, who)
        keys = ("total", "open", "overdue", "fulfilled", "refused", "rejected", "withdrawn", "answered_late")
        return View(st, lines=[f"[bold]{k:>14}[/]  {st[k]}" for k in keys])

    return ask


# ---------------------------------------------------------------- release operators and budgets


def _operator(add: bool):
    def command(
        operator: Annotated[str, typer.Argument(help="The operator's address (e.g. the data room's key)")],
        network: Annotated[str | None, NETWORK] = None,
        from_account: Annotated[int | None, FROM] = None,
        as_json: Annotated[bool, JSON_OUT] = False,
    ) -> None:
        from ..chain.actions import set_release_operator

        who = _address(operator, "operator")
        net, w3, dep = _chain(network)
        account = _signer(net, from_account, None, "the publisher", default=1)
        result = set_release_operator(w3, dep, account, who, add)
        word = "may now log" if add else "may no longer log"
        _done(result, f"{result['operator']} {word} releases and private queries for {account.address}", as_json)

    command.__doc__ = (
        "Allow an operator to log your releases and private queries (publisher role; devnet default account 1)."
        if add
        else "Stop one of your release operators (devnet default account 1)."
    )
    return command


OPERATOR_COLUMNS = [
    ("operator", lambda o: o["operator"]),
    ("name", lambda o: o["operator_name"] or ""),
    ("allowed", lambda o: "yes" if o["allowed"] else "stopped"),
    ("effective", lambda o: "yes" if o["effective"] else "no"),
    ("since block", lambda o: o["since_block"]),
]


@reads_index
def operator_list_cmd(
    publisher: Annotated[str, typer.Argument(help="The publisher's address")],
    all_: Annotated[bool, typer.Option("--all", help="Also the operators it stopped")] = False,
):
    """A publisher's release operators, from the index."""
    who = v.address(publisher, "publisher")

    def ask(conn) -> View:
        ops = queries.release_operators(conn, who, include_stopped=all_)["items"]  # the first 100
        return View(ops, f"release operators of {who}", OPERATOR_COLUMNS, ops, f"{len(ops)} operator(s)")

    return ask


def budget_cmd(
    access_id: Annotated[int, typer.Argument(help="The granted access to personal data")],
    epsilon: Annotated[
        str | None,
        typer.Option(
            "--epsilon",
            help="Set the total epsilon its private answers may spend (e.g. 2.5; never below what is spent). "
            "Without it: show the budget and spending from the index",
        ),
    ] = None,
    network: Annotated[str | None, NETWORK] = None,
    from_account: Annotated[int | None, FROM] = None,
    db: Annotated[str | None, typer.Option("--db", help="Store URL (showing)")] = None,
    as_json: Annotated[bool, JSON_OUT] = False,
) -> None:
    """An access's privacy budget: set it (the dataset's publisher), or show it with its private answers."""
    from ..chain.actions import micro_epsilon, set_privacy_budget

    if epsilon is None:
        _show_budget(access_id, db, as_json)
        return
    micro_epsilon(epsilon)  # a bad number fails before anything is read
    net, w3, dep = _chain(network)
    access = _contract(w3, dep, "AccessRegistry").functions.access(access_id).call()
    publisher = _contract(w3, dep, "DatasetRegistry").functions.publisher_of(access[0]).call() if access[0] else None
    account = _signer(net, from_account, publisher, "the dataset's publisher")
    result = set_privacy_budget(w3, dep, account, access_id, epsilon)
    spent = queries.epsilon(result["spent"])
    _done(result, f"access {access_id}: budget {queries.epsilon(result['budget'])} epsilon ({spent} spent)", as_json)


QUERY_COLUMNS = [
    ("query", lambda q: q["query_id"]),
    ("epsilon", lambda q: q["epsilon_spent"]),
    ("total", lambda q: q["spent_total"]),
    ("subjects", lambda q: q["subject_count"]),
    ("snapshot block", lambda q: q["snapshot_block"]),
    ("logged by", lambda q: short(q["logged_by"], 4)),
    ("audit", lambda q: audit_cell(q["audit"])),
]


def _show_budget(access_id: int, db: str | None, as_json: bool) -> None:
    from .base import store

    with store(db) as conn:
        b = queries.access_budget(conn, access_id)
        answers = queries.list_private_queries(conn, access_id, page_size=100)["items"]
    data = {**b, "queries_list": answers}
    if as_json:
        View(data).show(True)
        return
    state = "" if b["consistent"] else "  [red]SPENDING DOES NOT CHECK against the budget[/]"
    View(
        data,
        f"access {access_id}: budget {b['budget']} epsilon, spent {b['spent']}, remaining {b['remaining']}{state}",
        QUERY_COLUMNS,
        answers,
        f"{b['queries']} private answer(s)" + ("" if b["set"] else "; no budget set (0 admits no query)"),
    ).show(False)


# ---------------------------------------------------------------- deletion obligations

OBLIGATION_COLUMNS = [
    ("obligation", lambda o: o["obligation_id"]),
    ("release", lambda o: o["release_id"]),
    ("recipient", lambda o: short(o["recipient"], 4)),
    ("subject", lambda o: short(o["subject"], 4)),
    ("status", lambda o: o["status"] + (" [red](OVERDUE)[/]" if o["overdue"] else "")),
    ("deadline", lambda o: when(o["deadline"])),
    ("confirmed", lambda o: when(o["confirmed_at"])),
]


@reads_index
def obligations_cmd(
    recipient: Annotated[str | None, typer.Option("--recipient", help="The release's recipient")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="The subject's address")] = None,
    release: Annotated[int | None, typer.Option("--release", help="One release")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open | confirmed | confirmed late")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open obligations past their deadline")] = False,
    page: Annotated[int, PAGE] = 1,
    page_size: Annotated[int, PAGE_SIZE] = 20,
):
    """Deletion obligations: recipients of a release must delete a subject's rows within 30 days."""
    args = dict(
        recipient=v.address(recipient, "--recipient") if recipient else None,
        subject=v.address(subject, "--subject") if subject else None,
        release_id=release,
        status=v.choice(status, ("open", "confirmed", "confirmed late"), "--status"),
        overdue=overdue,
        page=page,
        page_size=page_size,
    )
    return lambda conn: listing(queries.list_obligations(conn, **args), "deletion obligations", OBLIGATION_COLUMNS)


def obligation_request_cmd(
    release_id: Annotated[int, typer.Argument(help="The release that included the subject")],
    subject: Annotated[str, typer.Argument(help="The subject's pseudonymous address")],
    network: Annotated[str | None, NETWORK] = None,
    from_account: Annotated[int | None, FROM] = None,
    as_json: Annotated[bool, JSON_OUT] = False,
) -> None:
    """Ask the recipient of a release to delete one subject's rows (30 days). The subject, the publisher
    or its operator may always ask; anyone may once the subject's consent no longer covers the use
    (revoked, expired, dataset withdrawn). The proof comes from the release's published snapshot."""
    from ..chain.actions import release_claim, request_deletion
    from ..config import config
    from ..release.snapshots import read_snapshot

    who = _address(subject, "subject")
    net, w3, dep = _chain(network)
    root = "0x" + bytes(release_claim(w3, dep, release_id)["consent_root"]).hex()
    found = read_snapshot(config().data_dir, root)
    if found is None:
        raise CityLedgerError(f"release {release_id}'s consent snapshot ({root}) is not published in this data folder")
    account = _signer(net, from_account, who, "the subject")
    result = request_deletion(w3, dep, account, release_id, who, found[0])
    _done(
        result,
        f"deletion obligation {result['obligation_id']}: {short(result['recipient'], 4)} must delete the rows of "
        f"{short(who, 4)} from release {release_id} by {when(result['deadline'])}",
        as_json,
    )


def obligation_confirm_cmd(
    obligation_ids: Annotated[list[int], typer.Argument(help="The obligations (at most 128, all yours)")],
    evidence: Annotated[
        Path, typer.Option("--evidence", help="What shows the deletion (a log): its SHA-256 goes on chain")
    ],
    network: Annotated[str | None, NETWORK] = None,
    from_account: Annotated[int | None, FROM] = None,
    as_json: Annotated[bool, JSON_OUT] = False,
) -> None:
    """Confirm, as the recipient, that you deleted the rows of these obligations (all or nothing)."""
    from ..chain.actions import confirm_deletions
    from ..fingerprint import check_readable_file

    if any(i < 1 for i in obligation_ids):
        raise CityLedgerError("obligation ids count from 1")
    data = check_readable_file(evidence).read_bytes()
    net, w3, dep = _chain(network)
    recipient = _contract(w3, dep, "DeletionRegistry").functions.obligation(obligation_ids[0]).call()[1]
    account = _signer(net, from_account, recipient, "the recipient")
    result = confirm_deletions(w3, dep, account, obligation_ids, data)
    late = f"; late: {', '.join(map(str, result['late']))}" if result["late"] else ""
    _done(result, f"confirmed deletion for obligation(s) {', '.join(map(str, obligation_ids))}{late}", as_json)


# ---------------------------------------------------------------- organisations


def org_set_profile_cmd(
    address: Annotated[str, typer.Argument(help="The organisation's address (it holds or held a role)")],
    name: Annotated[str, typer.Option("--name", help="Its public name")],
    kind: Annotated[str, typer.Option("--kind", help="agency | business | research institute | auditor")],
    website: Annotated[str | None, typer.Option("--website", help="https:// URL")] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help="The organisation's contact point: e-mail or contact page URL")
    ] = None,
    jurisdiction: Annotated[str | None, typer.Option("--jurisdiction", help="Country or jurisdiction")] = None,
    network: Annotated[str | None, NETWORK] = None,
    from_account: Annotated[int | None, FROM] = None,
    as_json: Annotated[bool, JSON_OUT] = False,
) -> None:
    """Publish an organisation's profile (the admin): the document in the metadata store, its hash on chain."""
    from ..chain.actions import set_profile
    from ..datasets.profiles import profile_document
    from ..datasets.store import MetadataStore

    who = _address(address, "address")
    doc = profile_document(name=name, kind=kind, website=website, contact=contact, jurisdiction=jurisdiction)
    net, w3, dep = _chain(network)
    admin = _contract(w3, dep, "CityRoles").functions.owner().call()
    account = _signer(net, from_account, admin, "the admin")
    result = set_profile(w3, dep, account, who, doc, MetadataStore())
    _done(result, f"profile of {who} ({doc['schema:name']}): {result['profile_hash']}", as_json)


def _org_lines(o: dict) -> list[str]:
    fields = (
        ("organisation", o["address"]),
        ("name", o["name"] or ("(profile document not verified here)" if o["profile_hash"] else "(no profile)")),
        ("kind", o["kind"] or ""),
        ("website", o["website"] or ""),
        ("contact", o["contact"] or ""),
        ("jurisdiction", o["jurisdiction"] or ""),
        ("roles", ", ".join(o["roles"]) or "none now"),
        ("ever held", ", ".join(o["ever_roles"])),
        ("profile", f"{o['profile_hash']} (block {o['profile_block']})" if o["profile_hash"] else ""),
    )
    return [f"[bold]{label:>14}[/]  {value}" for label, value in fields if value]


@reads_index
def org_show_cmd(address: Annotated[str, typer.Argument(help="The organisation's address")]):
    """An organisation: its verified profile (name, kind, website, contact, jurisdiction) and roles."""
    who = v.address(address, "address")
    return lambda conn: (lambda o: View(o, lines=_org_lines(o)))(queries.organisation(conn, who))


ORG_COLUMNS = [
    ("address", lambda o: o["address"]),
    ("name", lambda o: o["name"] or ""),
    ("kind", lambda o: o["kind"] or o["publisher_kind"] or ""),
    ("roles", lambda o: ", ".join(o["roles"]) or "(former " + ", ".join(o["ever_roles"]) + ")"),
]


@reads_index
def org_list_cmd(page: Annotated[int, PAGE] = 1, page_size: Annotated[int, PAGE_SIZE] = 20):
    """Every organisation (an account that held a role or has a profile)."""
    return lambda conn: listing(
        queries.list_organisations(conn, page=page, page_size=page_size), "organisations", ORG_COLUMNS
    )


def register(app: typer.Typer) -> None:
    access = listing_group(query_cmds.access_cmd, "Access requests and grants; `cancel` withdraws a pending one.")
    access.command("cancel")(access_cancel_cmd)
    app.add_typer(access, name="access")
    rights = listing_group(
        query_cmds.rights_cmd, "Citizens' rights requests; `answer` answers one, `stats` counts them by outcome."
    )
    rights.command("answer")(rights_answer_cmd)
    rights.command("stats")(rights_stats_cmd)
    app.add_typer(rights, name="rights")
    operators = typer.Typer(help="A publisher's release operators: add, remove, list.", no_args_is_help=True)
    operators.command("add")(_operator(True))
    operators.command("remove")(_operator(False))
    operators.command("list")(operator_list_cmd)
    app.add_typer(operators, name="release-operator")
    app.command("budget")(budget_cmd)
    obligations = listing_group(
        obligations_cmd, "Deletion obligations; `request` opens one, `confirm` confirms deletion as the recipient."
    )
    obligations.command("request")(obligation_request_cmd)
    obligations.command("confirm")(obligation_confirm_cmd)
    app.add_typer(obligations, name="obligations")
    org = typer.Typer(help="Organisation profiles: set-profile (the admin), show, list.", no_args_is_help=True)
    org.command("set-profile")(org_set_profile_cmd)
    org.command("show")(org_show_cmd)
    org.command("list")(org_list_cmd)
    app.add_typer(org, name="org")
