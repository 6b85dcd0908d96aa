"""Decoders, pure reducers, the bulk writer and the reorg undo, without a chain."""

from __future__ import annotations

import random

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from sqlalchemy import select

from cityledger.indexer import reducers as r
from cityledger.indexer.compare import compare_stores, dump_table
from cityledger.indexer.events import CONTRACTS, DECODERS, INT63, SPECS, abi_events, topic0
from cityledger.indexer.models import Checkpoint
from cityledger.indexer.reorg import rollback_to
from cityledger.indexer.store import make_engine, migrate
from cityledger.indexer.writer import Batch, MergeError, _merge

A1, A2, A3 = ("0x" + f"{i:040x}" for i in (0xA1, 0xA2, 0xA3))


def h(label: str) -> str:
    return "0x" + keccak(text=label).hex()


def encode_log(name: str, args: dict) -> tuple[list[str], str]:
    """(topics, data) of an event as a node returns it, built with eth_abi (the reference encoder)."""
    spec = next(inputs for _, n, inputs in SPECS if n == name)
    topics = [topic0(name, spec)]
    data_types, data_values = [], []
    for arg, typ, indexed in spec:
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


def test_specs_match_compiled_abi():
    from cityledger.chain.artifacts import compile_all

    artifacts = compile_all()

    def norm(events):
        return sorted((e["name"], tuple((i["name"], i["type"], i["indexed"]) for i in e["inputs"])) for e in events)

    for name in CONTRACTS:
        assert norm(abi_events(name)) == norm(e for e in artifacts[name].abi if e["type"] == "event"), name


@pytest.mark.parametrize("seed", range(5))
def test_decoders_roundtrip_every_event(seed):
    rng = random.Random(seed)
    values = {
        "address": lambda: "0x" + rng.randbytes(20).hex(),
        "bytes32": lambda: "0x" + rng.randbytes(32).hex(),
        "uint256": lambda: rng.choice([0, 1, rng.getrandbits(64)]),
        "uint64": lambda: rng.choice([0, 1, rng.getrandbits(63), 2**64 - 1]),
        "uint32": lambda: rng.getrandbits(32),
        "uint8": lambda: rng.getrandbits(8),
        "bool": lambda: rng.random() < 0.5,
        "string": lambda: rng.choice(["", "ipfs://meta/x.json", "https://é.example/" + "a" * 200]),
    }
    assert len(DECODERS) == len(SPECS) == 18
    for _, name, spec in SPECS:
        args = {arg: values[typ]() for arg, typ, _ in spec}
        topics, data = encode_log(name, args)
        decoded = DECODERS[topics[0]].decode(topics, data)
        expected = {k: (min(v, INT63) if typ == "uint64" else v) for (k, typ, _), v in zip(spec, args.values())}
        assert decoded == expected, name


def test_unknown_uint64_expiry_is_clamped_not_wrapped():
    topics, data = encode_log(
        "ConsentGranted",
        {"key": h("k"), "citizen": A1, "purpose": h("p"), "scope_kind": 3, "scope_id": h("s"), "grantee": A2,
         "expiry": 2**64 - 1, "nonce": 1, "submitted_by": A1},
    )  # fmt: skip
    assert DECODERS[topics[0]].decode(topics, data)["expiry"] == 2**63 - 1


# ---------------------------------------------------------------- reducers


def ctx(block: int, index: int = 0) -> r.Ctx:
    return r.Ctx(block, index, "0x" + f"{block:04x}{index:04x}".rjust(64, "0"), 1_700_000_000 + 12 * block)


def grant_args(citizen=A1, purpose=None, scope=3, expiry=2_000_000_000, nonce=1, by=None) -> dict:
    purpose = purpose or h("research")
    key = h(f"{citizen}{purpose}{scope}")
    return {"key": key, "citizen": citizen, "purpose": purpose, "scope_kind": 3, "scope_id": "0x" + f"{scope:064x}",
            "grantee": "0x" + "00" * 20, "expiry": expiry, "nonce": nonce, "submitted_by": by or citizen}  # fmt: skip


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
        {"access_id": 1, "dataset_id": 1, "requester": A2, "purpose": h("p"), "terms_hash": h("t")},
        ctx(1),
    )
    assert req[0].row["status"] == 1
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
    consents: dict[str, dict] = {}
    roles: set[tuple[str, int]] = set()
    atts, att_count = [], 0
    for b in range(1, blocks + 1):
        for i in range(rng.randint(0, 6)):
            c = ctx(b, i)
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
                args = {"dataset_id": datasets, "publisher": A1, "content_hash": h(f"c{datasets}"), "metadata_hash": h("m"),
                        "metadata_uri": f"ipfs://{datasets}", "domain": rng.randint(1, 12), "personal_data": rng.random() < 0.5,
                        "version": 1, "supersedes": sup}  # fmt: skip
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
                        out.append(("ReleaseLogged", {"release_id": b * 10 + i, "access_id": acc[0], "grantee": A2, "dataset_id": 1,
                                                      "purpose": h("p"), "subject_count": 3, "consent_root": h("root"),
                                                      "snapshot_block": b, "release_hash": h(f"rel{b}{i}")}, c))  # fmt: skip
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
                                    "outcome": 2,
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
                    out.append(("RightsRequestFiled", {"request_id": n, "citizen": A1, "publisher": A2, "kind": 3, "target_kind": 1,
                                                       "target": h("t"), "details_hash": h("d"), "deadline": 10**9}, c))  # fmt: skip
    return out


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
