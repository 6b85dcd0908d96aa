"""Decoders, pure reducers, the bulk writer and the reorg undo, without a chain."""

from __future__ import annotations

import random

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from sqlalchemy import select

from cityledger.indexer import reducers as r
from cityledger.indexer.compare import compare_stores, dump_table
from cityledger.indexer.events import ARGS_MODULE, CONTRACTS, DECODERS, INT63, SPECS, args_source, load_specs
from cityledger.indexer.models import Checkpoint
from cityledger.indexer.reorg import rollback_to
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch, MergeError, _merge

A1, A2, A3 = ("0x" + f"{i:040x}" for i in (0xA1, 0xA2, 0xA3))


def h(label: str) -> str:
    return "0x" + keccak(text=label).hex()


def encode_log(name: str, args: dict) -> tuple[list[str], str]:
    """(topics, data) of an event as a node returns it, built with eth_abi (the reference encoder)."""
    spec = next(s for s in SPECS if s.name == name)
    topics = [spec.topic0]
    data_types, data_values = [], []
    for arg, typ, indexed in spec.inputs:
        value = args[arg]
        if typ == "bytes32":
            value = bytes.fromhex(value[2:])
        if indexed:
            topics.append("0x" + abi_encode([typ], [value]).hex())
        else:
            data_types.append(typ)
            data_values.append(value)
    return topics, "0x" + abi_encode(data_types, data_values).hex()


# ---------------------------------------------------------------- decoders


def test_the_event_table_is_the_compiled_abi_and_every_event_is_reduced():
    from cityledger.chain.artifacts import compile_all
    from cityledger.indexer.sync import UNREDUCED

    artifacts = compile_all()
    events = {(c, e["name"]) for c in CONTRACTS for e in artifacts[c].abi if e["type"] == "event"}
    assert {(s.contract, s.name) for s in SPECS} == events
    assert {(d.contract, d.name) for d in DECODERS.values()} == events
    assert set(r.REDUCERS) == {name for _, name in events} and UNREDUCED == []


def test_event_args_module_is_generated_from_the_abi():
    # `python -m cityledger.indexer.events` rewrites it when the contracts change.
    assert ARGS_MODULE.read_text() == args_source(load_specs()), "stale: run python -m cityledger.indexer.events"
    from cityledger.indexer import event_args

    for spec in SPECS:
        typed = getattr(event_args, f"{spec.name}Args")
        assert list(typed.__annotations__) == [n for n, _, _ in spec.inputs], spec.name


def test_an_event_table_from_other_contracts_is_generated_from_their_abi(tmp_path):
    # The table follows the artifacts, not a copy: an artifact with an extra event yields its decoder.
    import dataclasses
    import json

    from cityledger.chain.artifacts import compile_all
    from cityledger.config import load_config
    from cityledger.indexer.events import _decoders

    compile_all(load_config())  # the artifacts it copies (cached; a fresh clone run in this order had none)
    cfg = dataclasses.replace(load_config(), build_dir=tmp_path, contracts_dir=tmp_path / "none")
    for name in CONTRACTS:
        src = json.loads((load_config().build_dir / f"{name}.json").read_text())
        if name == "ConsentRegistry":
            src["abi"].append(
                {
                    "type": "event",
                    "name": "ConsentNoted",
                    "anonymous": False,
                    "inputs": [
                        {"name": "key", "type": "bytes32", "indexed": True},
                        {"name": "citizen", "type": "address", "indexed": True},
                        {"name": "nonce", "type": "uint64", "indexed": False},
                    ],
                }
            )
        (tmp_path / f"{name}.json").write_text(json.dumps(src))
    specs = load_specs(cfg)
    assert len(specs) == len(SPECS) + 1
    added = next(d for d in _decoders(specs).values() if d.name == "ConsentNoted")
    key, citizen = h("k"), A1
    topics = [added.topic0, key, "0x" + "00" * 12 + citizen[2:]]
    assert added.decode(topics, "0x" + f"{7:064x}") == {"key": key, "citizen": citizen, "nonce": 7}
    assert "class ConsentNotedArgs(TypedDict):" in args_source(specs)


@pytest.mark.parametrize("seed", range(5))
def test_decoders_roundtrip_every_event(seed):
    rng = random.Random(seed)
    values = {
        "address": lambda: "0x" + rng.randbytes(20).hex(),
        "bytes32": lambda: "0x" + rng.randbytes(32).hex(),
        "uint256": lambda: rng.choice([0, 1, rng.getrandbits(64)]),
        "uint64": lambda: rng.choice([0, 1, rng.getrandbits(63), 2**64 - 1]),
        "uint32": lambda: rng.getrandbits(32),
        "uint16": lambda: rng.getrandbits(16),
        "uint8": lambda: rng.getrandbits(8),
        "bool": lambda: rng.random() < 0.5,
        "string": lambda: rng.choice(["", "ipfs://meta/x.json", "https://é.example/" + "a" * 200]),
    }
    assert len(DECODERS) == len(SPECS) == 27
    for spec in SPECS:
        args = {arg: values[typ]() for arg, typ, _ in spec.inputs}
        topics, data = encode_log(spec.name, args)
        decoded = DECODERS[topics[0]].decode(topics, data)
        expected = {
            k: (min(v, INT63) if typ == "uint64" else v)
            for (k, typ, _), v in zip(spec.inputs, args.values(), strict=True)
        }
        assert decoded == expected, spec.name


def test_unknown_uint64_expiry_is_clamped_not_wrapped():
    topics, data = encode_log(
        "ConsentGranted",
        {
            "key": h("k"),
            "citizen": A1,
            "purpose": h("p"),
            "scope_kind": 3,
            "scope_id": h("s"),
            "grantee": A2,
            "expiry": 2**64 - 1,
            "nonce": 1,
            "submitted_by": A1,
        },
    )
    assert DECODERS[topics[0]].decode(topics, data)["expiry"] == 2**63 - 1


# ---------------------------------------------------------------- reducers


def ctx(block: int, index: int = 0) -> r.Ctx:
    return r.Ctx(block, index, "0x" + f"{block:04x}{index:04x}".rjust(64, "0"), 1_700_000_000 + 12 * block)


def grant_args(citizen=A1, purpose=None, scope=3, expiry=2_000_000_000, nonce=1, by=None) -> dict:
    purpose = purpose or h("research")
    key = h(f"{citizen}{purpose}{scope}")
    return {
        "key": key,
        "citizen": citizen,
        "purpose": purpose,
        "scope_kind": 3,
        "scope_id": "0x" + f"{scope:064x}",
        "grantee": "0x" + "00" * 20,
        "expiry": expiry,
        "nonce": nonce,
        "submitted_by": by or citizen,
    }


def test_consent_reducers_are_pure_and_complete():
    a = grant_args()
    ops = r.reduce("ConsentGranted", a, ctx(10, 2))
    assert [o.kind for o in ops] == [r.INSERT, r.UPSERT]
    event, state = ops
    assert event.table == "consent_events" and event.key == (10, 2)
    assert event.row["action"] == "grant" and event.row["submitted_by"] == A1 and event.row["expiry"] == a["expiry"]
    assert state.row["granted_at"] == ctx(10).timestamp and state.row["revoked_at"] is None
    assert r.reduce("ConsentGranted", a, ctx(10, 2)) == ops  # no hidden state
    rev = {k: v for k, v in a.items() if k != "expiry"} | {"nonce": 2, "submitted_by": A3}
    ops = r.reduce("ConsentRevoked", rev, ctx(11))
    assert ops[0].row["action"] == "revoke" and ops[0].row["expiry"] == 0
    assert ops[1].kind == r.UPDATE and ops[1].row["expiry"] == 0 and ops[1].row["revoked_block"] == 11
    assert ops[1].row["submitted_by"] == A3


def test_dataset_reducers_link_versions():
    base = {"publisher": A1, "metadata_hash": h("m"), "metadata_uri": "ipfs://m", "domain": 7, "personal_data": True}
    first = r.reduce(
        "DatasetRegistered", base | {"dataset_id": 1, "content_hash": h("c1"), "version": 1, "supersedes": 0}, ctx(5)
    )
    assert len(first) == 1 and first[0].row["supersedes"] is None and first[0].row["status"] == 1
    second = r.reduce(
        "DatasetRegistered", base | {"dataset_id": 2, "content_hash": h("c2"), "version": 2, "supersedes": 1}, ctx(6)
    )
    assert second[1] == r.Op(r.UPDATE, "datasets", (1,), {"successor": 2, "successor_block": 6})
    withdrawn = r.reduce("DatasetWithdrawn", {"dataset_id": 2, "publisher": A1, "reason_hash": h("why")}, ctx(7))
    assert withdrawn[0].row["status"] == 2 and withdrawn[0].row["withdrawn_reason"] == h("why")


def test_access_and_rights_status_follow_events():
    req = r.reduce(
        "AccessRequested",
        {"access_id": 1, "dataset_id": 1, "requester": A2, "purpose": h("p"), "terms_hash": h("t"), "role": 4},
        ctx(1),
    )
    assert req[0].row["status"] == 1 and req[0].row["role"] == 4 and req[0].row["cancelled_block"] is None
    cancelled = r.reduce("AccessCancelled", {"access_id": 1, "dataset_id": 1, "requester": A2}, ctx(2))
    assert cancelled == [r.Op(r.UPDATE, "access", (1,), {"status": 5} | r._stamp("cancelled", ctx(2)))]
    assert (
        r.reduce(
            "AccessGranted", {"access_id": 1, "dataset_id": 1, "grantee": A2, "purpose": h("p"), "expiry": 99}, ctx(2)
        )[0].row["status"]
        == 2
    )
    assert r.reduce("AccessEnded", {"access_id": 1, "dataset_id": 1, "ended_by": A2}, ctx(3))[0].row["ended_by"] == A2
    ans = r.reduce(
        "RightsRequestAnswered",
        {"request_id": 4, "citizen": A1, "publisher": A2, "outcome": 3, "answer_hash": h("a"), "late": True},
        ctx(9),
    )
    assert ans[0].row["status"] == 3 and ans[0].row["late"] is True
    rejected = r.reduce(
        "RightsRequestAnswered",
        {"request_id": 5, "citizen": A1, "publisher": A2, "outcome": 5, "answer_hash": h("a"), "late": False},
        ctx(9),
    )
    assert rejected[0].row["status"] == 5  # rejected: counted apart from refusals


def test_deletion_obligations_follow_events():
    req = r.reduce(
        "DeletionRequested",
        {"obligation_id": 3, "release_id": 2, "recipient": A2, "subject": A1, "deadline": 99, "requested_by": A3},
        ctx(4),
    )
    assert req[0].table == "deletion_obligations" and req[0].row["status"] == 1 and req[0].row["requested_block"] == 4
    base = {"obligation_id": 3, "release_id": 2, "recipient": A2, "subject": A1, "evidence_hash": h("e")}
    on_time = r.reduce("DeletionConfirmed", base | {"late": False}, ctx(5))[0].row
    late = r.reduce("DeletionConfirmed", base | {"late": True}, ctx(5))[0].row
    assert (on_time["status"], late["status"]) == (2, 3) and on_time["evidence_hash"] == h("e")


# ---------------------------------------------------------------- writer merge rules


def test_merge_rules():
    ins = r.Op(r.INSERT, "datasets", (1,), {"id": 1, "status": 1, "withdrawn_block": None})
    upd = r.Op(r.UPDATE, "datasets", (1,), {"status": 2, "withdrawn_block": 9})
    assert _merge(_merge(None, ins), upd) == (r.INSERT, {"id": 1, "status": 2, "withdrawn_block": 9})
    assert _merge((r.INSERT, {"a": 1}), r.Op(r.DELETE, "roles", (A1, 4), {})) is None
    assert _merge((r.UPSERT, {"a": 1}), r.Op(r.DELETE, "roles", (A1, 4), {})) == (r.DELETE, {})
    assert _merge((r.DELETE, {}), r.Op(r.UPSERT, "roles", (A1, 4), {"a": 2})) == (r.UPSERT, {"a": 2})
    with pytest.raises(MergeError):
        _merge((r.DELETE, {}), upd)
    with pytest.raises(MergeError):
        _merge((r.INSERT, {"id": 1}), ins)


# ---------------------------------------------------------------- a synthetic history: batching and undo


def synthetic_history(seed: int, blocks: int = 40) -> list[tuple[str, dict, r.Ctx]]:
    """A valid event history touching every table, with re-grants, revokes and role churn."""
    rng = random.Random(seed)
    out = []
    datasets, active_ds, access, rights = 0, [], [], []
    releases, obligations, queries = [], [], 0
    consents: dict[str, dict] = {}
    roles: set[tuple[str, int]] = set()
    atts, att_count = [], 0
    for b in range(1, blocks + 1):
        for i in range(rng.randint(0, 6)):
            c = ctx(b, i)
            if rng.random() < 0.15:
                extra = second_round_event(rng, c, access, releases, obligations, queries, consents)
                if extra is not None:
                    queries += extra[0] == "PrivateQueryLogged"
                    out.append(extra)
                    continue
            roll = rng.random()
            if roll < 0.1:
                acct, role = rng.choice([A1, A2, A3]), rng.choice([1, 2, 4])
                if (acct, role) in roles:
                    roles.discard((acct, role))
                    out.append(("RoleRevoked", {"account": acct, "role": role, "revoked_by": A3}, c))
                else:
                    roles.add((acct, role))
                    out.append(
                        (
                            "RoleGranted",
                            {"account": acct, "role": role, "kind": 1 if role == 1 else 0, "granted_by": A3},
                            c,
                        )
                    )
            elif roll < 0.2:
                datasets += 1
                sup = rng.choice(active_ds) if active_ds and rng.random() < 0.4 else 0
                if sup:
                    active_ds.remove(sup)
                args = {
                    "dataset_id": datasets,
                    "publisher": A1,
                    "content_hash": h(f"c{datasets}"),
                    "metadata_hash": h("m"),
                    "metadata_uri": f"ipfs://{datasets}",
                    "domain": rng.randint(1, 12),
                    "personal_data": rng.random() < 0.5,
                    "version": 1,
                    "supersedes": sup,
                }
                active_ds.append(datasets)
                out.append(("DatasetRegistered", args, c))
            elif roll < 0.25 and active_ds:
                d = active_ds.pop(rng.randrange(len(active_ds)))
                out.append(("DatasetWithdrawn", {"dataset_id": d, "publisher": A1, "reason_hash": h("r")}, c))
            elif roll < 0.3 and datasets:
                att_count += 1
                atts.append(att_count)
                out.append(
                    (
                        "AttestationAdded",
                        {
                            "attestation_id": att_count,
                            "dataset_id": datasets,
                            "auditor": A2,
                            "kind": 1,
                            "report_hash": h("rep"),
                        },
                        c,
                    )
                )
            elif roll < 0.33 and atts:
                out.append(("AttestationRevoked", {"attestation_id": atts.pop(0), "dataset_id": 1, "auditor": A2}, c))
            elif roll < 0.65:
                a = grant_args(citizen=rng.choice([A1, A2, A3]), scope=rng.randint(1, 4))
                prev = consents.get(a["key"])
                a["nonce"] = (prev["nonce"] if prev else 0) + 1
                a["expiry"] = 1_800_000_000 + rng.randint(0, 10**6)
                consents[a["key"]] = a
                out.append(("ConsentGranted", a, c))
            elif roll < 0.75 and consents:
                k = rng.choice(sorted(consents))
                a = consents[k]
                a = {x: v for x, v in a.items() if x != "expiry"} | {"nonce": a["nonce"] + 1, "submitted_by": A3}
                consents[k] = a
                out.append(("ConsentRevoked", a, c))
            elif roll < 0.82 and datasets:
                access.append([len(access) + 1, 1])
                out.append(
                    (
                        "AccessRequested",
                        {
                            "access_id": len(access),
                            "dataset_id": datasets,
                            "requester": A2,
                            "purpose": h("p"),
                            "terms_hash": h("t"),
                            "role": 4,
                        },
                        c,
                    )
                )
            elif roll < 0.9 and access:
                acc = rng.choice(access)
                if acc[1] == 1:
                    acc[1] = rng.choice([2, 3])
                    if acc[1] == 2:
                        out.append(
                            (
                                "AccessGranted",
                                {
                                    "access_id": acc[0],
                                    "dataset_id": 1,
                                    "grantee": A2,
                                    "purpose": h("p"),
                                    "expiry": 10**10,
                                },
                                c,
                            )
                        )
                    else:
                        out.append(
                            (
                                "AccessRefused",
                                {"access_id": acc[0], "dataset_id": 1, "requester": A2, "reason_hash": h("no")},
                                c,
                            )
                        )
                elif acc[1] == 2:
                    if rng.random() < 0.5:
                        acc[1] = 4
                        out.append(("AccessEnded", {"access_id": acc[0], "dataset_id": 1, "ended_by": A1}, c))
                    else:
                        releases.append(b * 10 + i)
                        out.append(
                            (
                                "ReleaseLogged",
                                {
                                    "release_id": b * 10 + i,
                                    "access_id": acc[0],
                                    "grantee": A2,
                                    "dataset_id": 1,
                                    "purpose": h("p"),
                                    "subject_count": 3,
                                    "consent_root": h("root"),
                                    "snapshot_block": b,
                                    "release_hash": h(f"rel{b}{i}"),
                                    "k_anonymity": rng.choice([0, 5]),
                                    "logged_by": rng.choice([A1, A3]),
                                },
                                c,
                            )
                        )
            else:
                if rights and rng.random() < 0.5:
                    req = rights.pop(0)
                    if rng.random() < 0.5:
                        out.append(
                            (
                                "RightsRequestAnswered",
                                {
                                    "request_id": req,
                                    "citizen": A1,
                                    "publisher": A2,
                                    "outcome": rng.choice([2, 3, 5]),
                                    "answer_hash": h("a"),
                                    "late": False,
                                },
                                c,
                            )
                        )
                    else:
                        out.append(("RightsRequestWithdrawn", {"request_id": req, "citizen": A1, "publisher": A2}, c))
                else:
                    n = b * 10 + i
                    rights.append(n)
                    out.append(
                        (
                            "RightsRequestFiled",
                            {
                                "request_id": n,
                                "citizen": A1,
                                "publisher": A2,
                                "kind": 3,
                                "target_kind": 1,
                                "target": h("t"),
                                "details_hash": h("d"),
                                "deadline": 10**9,
                            },
                            c,
                        )
                    )
    return out


def second_round_event(rng, c, access, releases, obligations, queries, consents) -> tuple[str, dict, r.Ctx] | None:
    """One event of the second round's contracts (profiles, operators, budgets and private queries,
    cancelled requests and signatures, skipped batch entries, deletion obligations), or None."""
    kind = rng.randrange(8)
    if kind == 0:
        args = {"account": rng.choice([A1, A2]), "profile_hash": h(f"p{c}"), "profile_uri": "", "updated_by": A3}
        return "ProfileUpdated", args | {"profile_uri": f"cityledger://metadata/{args['profile_hash'][2:]}"}, c
    if kind == 1:
        return (
            "ReleaseOperatorSet",
            {"publisher": A1, "operator": rng.choice([A2, A3]), "allowed": rng.random() < 0.6},
            c,
        )
    if kind == 2:  # a key granted before (its nonce moves on), or one never granted
        key = rng.choice(sorted(consents)) if consents and rng.random() < 0.7 else h(f"key{rng.randrange(5)}")
        nonce = consents[key]["nonce"] + 1 if key in consents else rng.randrange(1, 9)
        if key in consents:
            consents[key] = consents[key] | {"nonce": nonce}
        return "SignaturesCancelled", {"key": key, "citizen": A1, "nonce": nonce}, c
    if kind == 3:
        args = {"index": rng.randrange(128), "citizen": A2, "key": h("k"), "reason": rng.randint(1, 11)}
        return "SignedGrantSkipped", args, c
    pending = [a for a in access if a[1] == 1]
    granted = [a for a in access if a[1] == 2]
    if kind == 4 and pending:
        acc = rng.choice(pending)
        acc[1] = 5
        return "AccessCancelled", {"access_id": acc[0], "dataset_id": 1, "requester": A2}, c
    if kind == 5 and granted:
        return "PrivacyBudgetSet", {"access_id": rng.choice(granted)[0], "budget": 10**6, "spent": 0}, c
    if kind == 6 and granted:
        args = {
            "query_id": queries + 1,
            "access_id": rng.choice(granted)[0],
            "grantee": A2,
            "dataset_id": 1,
            "epsilon_spent": 1000,
            "spent_total": 1000 * (queries + 1),
            "budget": 10**6,
            "query_hash": h(f"q{queries}"),
            "consent_root": h("root"),
            "snapshot_block": c.block_number,
            "subject_count": 3,
            "logged_by": A1,
        }
        return "PrivateQueryLogged", args, c
    if kind == 7 and releases:
        open_ones = [o for o in obligations if o[1] == 1]
        if open_ones and rng.random() < 0.5:
            ob = rng.choice(open_ones)
            ob[1] = 2
            args = {"obligation_id": ob[0], "release_id": ob[2], "recipient": A2, "subject": A1}
            return "DeletionConfirmed", args | {"evidence_hash": h("gone"), "late": rng.random() < 0.3}, c
        obligations.append([len(obligations) + 1, 1, rng.choice(releases)])
        args = {"obligation_id": len(obligations), "release_id": obligations[-1][2], "recipient": A2, "subject": A1}
        return "DeletionRequested", args | {"deadline": 10**9, "requested_by": A3}, c
    return None


def apply_events(engine, events, batch_size: int) -> None:
    for i in range(0, len(events), batch_size):
        batch = Batch()
        for name, args, c in events[i : i + batch_size]:
            batch.add(r.reduce(name, args, c))
        with engine.begin() as conn:
            batch.flush(conn)


def new_store(url: str):
    engine = make_engine(url)
    migrate(engine)
    return engine


@pytest.mark.parametrize("seed", range(3))
def test_batching_does_not_change_the_result(stores, seed):
    events = synthetic_history(seed)
    one, many = new_store(stores("one")), new_store(stores("many"))
    apply_events(one, events, batch_size=1)
    apply_events(many, events, batch_size=10_000)
    assert compare_stores(one, many) == []
    assert len(dump_table(one, "consent_events")) == sum(1 for e in events if e[0].startswith("Consent"))
    one.dispose(), many.dispose()


@pytest.mark.parametrize("seed", range(3))
def test_rollback_equals_reindex_of_the_prefix(stores, seed):
    events = synthetic_history(seed, blocks=40)
    for ancestor in (0, 13, 27, 39):
        full, prefix = new_store(stores(f"full{ancestor}")), new_store(stores(f"prefix{ancestor}"))
        apply_events(full, events, batch_size=7)
        with full.begin() as conn:
            rollback_to(conn, ancestor)
        apply_events(prefix, [e for e in events if e[2].block_number <= ancestor], batch_size=1000)
        assert compare_stores(full, prefix) == [], f"ancestor {ancestor}"
        full.dispose(), prefix.dispose()


def test_migrations_match_models_and_are_idempotent(stores):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from cityledger.indexer.models import Base

    engine = new_store(stores())
    migrate(engine)  # again: nothing to do
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert conn.execute(select(Checkpoint)).first() is None
    engine.dispose()


def test_bad_store_url_is_a_clear_error():
    from cityledger.errors import CityLedgerError

    with pytest.raises(CityLedgerError, match="unsupported database|not a database URL"):
        make_engine("mysql://x@localhost/db")
    with pytest.raises(CityLedgerError):
        make_engine("no such url")


# ---------------------------------------------------------------- errors with context, structured logs


def test_a_log_that_cannot_be_indexed_is_named(tmp_path):
    # As ponder's indexing errors: contract, event, block, log index and transaction.
    from cityledger.indexer.sync import Indexer, IndexingError

    ix = Indexer(
        f"sqlite:///{tmp_path / 's.db'}",
        "http://127.0.0.1:9",
        chain_id=31337,
        addresses={c: "0x" + f"{i + 1:040x}" for i, c in enumerate(CONTRACTS)},
        start_block=1,
    )
    consents, datasets = ix.addresses["ConsentRegistry"], ix.addresses["DatasetRegistry"]

    def node_log(address, name, args, block, index):
        topics, data = encode_log(name, args)
        return {
            "address": address,
            "topics": topics,
            "data": data,
            "blockNumber": hex(block),
            "logIndex": hex(index),
            "transactionHash": h(f"tx{block}"),
            "blockTimestamp": hex(1_700_000_000),
        }

    grant = node_log(consents, "ConsentGranted", grant_args(), 16, 3)
    cut = grant | {"data": grant["data"][:100]}  # a data word cut short
    with pytest.raises(IndexingError) as err:
        ix._reduce([grant, cut], {}, Batch())
    msg = str(err.value)
    assert f"ConsentRegistry.ConsentGranted at block 16, log 3, tx {h('tx16')}" in msg and "ValueError" in msg
    # A reduce failure: the same dataset id registered twice in one batch (a chain the contracts
    # cannot produce) names the second log.
    base = {
        "dataset_id": 5,
        "publisher": A1,
        "metadata_hash": h("m"),
        "metadata_uri": "ipfs://m",
        "domain": 1,
        "personal_data": False,
        "version": 1,
        "supersedes": 0,
    }
    twice = [node_log(datasets, "DatasetRegistered", base | {"content_hash": h(f"c{i}")}, 20 + i, i) for i in (0, 1)]
    with pytest.raises(IndexingError, match=r"DatasetRegistry.DatasetRegistered at block 21, log 1, .*MergeError"):
        ix._reduce(twice, {}, Batch())
    ix.close()


def test_log_lines_are_key_value_or_json():
    import io
    import json
    import logging

    from cityledger.indexer.logs import _Handler, configure, fields

    root, ours = logging.getLogger(), logging.getLogger("cityledger")
    saved = root.handlers[:], root.level, ours.level
    for as_json in (False, True):
        stream = io.StringIO()
        undo = configure(json_lines=as_json, stream=stream)
        try:
            logging.getLogger("cityledger.indexer").warning(
                "reorg rolled back", extra=fields(from_block=81, ancestor=77, rows={"consents_replayed": 3}, x=None)
            )
            logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")  # below WARNING: not shown
        finally:
            undo()
        line = stream.getvalue().strip()
        assert "\n" not in line
        if as_json:
            got = json.loads(line)
            assert got["msg"] == "reorg rolled back" and got["level"] == "warning" and got["from_block"] == 81
            assert got["rows"] == {"consents_replayed": 3} and got["x"] is None and got["time"].endswith("Z")
        else:
            expected = ' level=warning logger=cityledger.indexer msg="reorg rolled back" from_block=81 ancestor=77 '
            assert expected in line and line.startswith("time=")
            assert line.endswith(" rows=\"{'consents_replayed': 3}\" x=null")
    # Undone, the logging set-up is as it was; a second configure() replaces its own handler only.
    assert (root.handlers, root.level, ours.level) == saved
    undo_first = configure(stream=io.StringIO())
    undo_second = configure(stream=io.StringIO())
    try:
        assert len([h for h in root.handlers if isinstance(h, _Handler)]) == 1
        assert [h for h in root.handlers if not isinstance(h, _Handler)] == saved[0]
    finally:
        undo_second()
        undo_first()
    assert (root.handlers, root.level, ours.level) == saved


# ---------------------------------------------------------------- eth_getLogs answers cut at a block boundary


def _answer(blocks: list[int]) -> bytes:
    import json

    logs = [{"blockNumber": hex(b), "logIndex": hex(i), "data": "0x" + "ab" * 64} for i, b in enumerate(blocks)]
    return json.dumps({"jsonrpc": "2.0", "id": 7, "result": logs}).encode()


@pytest.mark.parametrize(
    ("blocks", "cut_in", "kept", "cover"),
    [
        ([5, 5, 5, 6, 6, 9], 4, [0, 1, 2], 5),  # in block 6: block 5 kept, the cover ends at 5
        ([5, 5, 5, 6, 6, 9], 5, [0, 1, 2], 5),  # in block 9: block 6 may go on, so it is dropped too
        ([5, 6, 7, 9], 3, [0, 1], 6),  # in block 9: blocks 5 and 6 kept, 7 may go on
        ([5, 5, 5, 6, 6, 9], 1, [0, 1, 2], 5),  # inside the first block: read on until the next one starts
        ([5, 5, 5], 1, [0, 1, 2], -1),  # inside the only block: read on to the end, the whole answer
    ],
)
def test_a_cut_answer_keeps_the_complete_blocks(blocks, cut_in, kept, cover):
    from cityledger.indexer.rpc import _cut_logs

    body = _answer(blocks)
    braces = [i for i, ch in enumerate(body) if ch == ord("{")]  # the answer's, then one per log
    at = braces[cut_in + 1] + 20  # inside log number cut_in; the rest comes in small chunks
    rest = [body[i : i + 17] for i in range(at, len(body), 17)]
    logs, last = _cut_logs(bytearray(body[:at]), iter(rest))
    assert [int(lg["logIndex"], 16) for lg in logs] == kept and last == cover


def test_a_cut_answer_that_is_not_logs_is_an_rpc_error():
    from cityledger.indexer.rpc import RpcError, _cut_logs

    with pytest.raises(RpcError, match="not a list of logs"):
        _cut_logs(bytearray(b'{"jsonrpc": "2.0", "id": 1, "error": {"message": "' + b"x" * 300), iter([]))
    with pytest.raises(RpcError, match="ended in the middle"):
        _cut_logs(bytearray(_answer([5, 5])[:60]), iter([]))
