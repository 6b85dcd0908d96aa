"""The events the indexer reads (docs/CONTRACTS.md) and their fast decoders.

Each event gets one precomputed decoder keyed by (topic0): indexed arguments come from topic words,
the data tuple is cut into 32-byte words when all its types are static (no ABI machinery per log)
and decoded once with eth_abi when it holds a dynamic type (DatasetRegistered's metadata_uri).
Values follow the store's conventions (models.py): lowercase 0x-hex strings and ints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_abi import decode as abi_decode
from eth_utils import keccak

INT63 = 2**63 - 1  # largest BIGINT: uint64 values above it are stored clamped (see models.py)

# (contract, event, [(name, type, indexed)]) exactly as in docs/CONTRACTS.md and snekmate.
_A, _U256, _U64, _U32, _U8, _B32, _BOOL, _STR = (
    "address",
    "uint256",
    "uint64",
    "uint32",
    "uint8",
    "bytes32",
    "bool",
    "string",
)
SPECS: list[tuple[str, str, list[tuple[str, str, bool]]]] = [
    (
        "CityRoles",
        "RoleGranted",
        [("account", _A, True), ("role", _U256, False), ("kind", _U8, False), ("granted_by", _A, True)],
    ),
    ("CityRoles", "RoleRevoked", [("account", _A, True), ("role", _U256, False), ("revoked_by", _A, True)]),
    ("CityRoles", "OwnershipTransferStarted", [("previous_owner", _A, True), ("new_owner", _A, True)]),
    ("CityRoles", "OwnershipTransferred", [("previous_owner", _A, True), ("new_owner", _A, True)]),
    (
        "DatasetRegistry",
        "DatasetRegistered",
        [
            ("dataset_id", _U256, True),
            ("publisher", _A, True),
            ("content_hash", _B32, True),
            ("metadata_hash", _B32, False),
            ("metadata_uri", _STR, False),
            ("domain", _U8, False),
            ("personal_data", _BOOL, False),
            ("version", _U32, False),
            ("supersedes", _U256, False),
        ],
    ),
    (
        "DatasetRegistry",
        "DatasetWithdrawn",
        [("dataset_id", _U256, True), ("publisher", _A, True), ("reason_hash", _B32, False)],
    ),
    (
        "DatasetRegistry",
        "AttestationAdded",
        [
            ("attestation_id", _U256, True),
            ("dataset_id", _U256, True),
            ("auditor", _A, True),
            ("kind", _U8, False),
            ("report_hash", _B32, False),
        ],
    ),
    (
        "DatasetRegistry",
        "AttestationRevoked",
        [("attestation_id", _U256, True), ("dataset_id", _U256, True), ("auditor", _A, True)],
    ),
    (
        "ConsentRegistry",
        "ConsentGranted",
        [
            ("key", _B32, True),
            ("citizen", _A, True),
            ("purpose", _B32, True),
            ("scope_kind", _U8, False),
            ("scope_id", _B32, False),
            ("grantee", _A, False),
            ("expiry", _U64, False),
            ("nonce", _U64, False),
            ("submitted_by", _A, False),
        ],
    ),
    (
        "ConsentRegistry",
        "ConsentRevoked",
        [
            ("key", _B32, True),
            ("citizen", _A, True),
            ("purpose", _B32, True),
            ("scope_kind", _U8, False),
            ("scope_id", _B32, False),
            ("grantee", _A, False),
            ("nonce", _U64, False),
            ("submitted_by", _A, False),
        ],
    ),
    (
        "AccessRegistry",
        "AccessRequested",
        [
            ("access_id", _U256, True),
            ("dataset_id", _U256, True),
            ("requester", _A, True),
            ("purpose", _B32, False),
            ("terms_hash", _B32, False),
        ],
    ),
    (
        "AccessRegistry",
        "AccessGranted",
        [
            ("access_id", _U256, True),
            ("dataset_id", _U256, True),
            ("grantee", _A, True),
            ("purpose", _B32, False),
            ("expiry", _U64, False),
        ],
    ),
    (
        "AccessRegistry",
        "AccessRefused",
        [
            ("access_id", _U256, True),
            ("dataset_id", _U256, True),
            ("requester", _A, True),
            ("reason_hash", _B32, False),
        ],
    ),
    (
        "AccessRegistry",
        "AccessEnded",
        [("access_id", _U256, True), ("dataset_id", _U256, True), ("ended_by", _A, True)],
    ),
    (
        "AccessRegistry",
        "ReleaseLogged",
        [
            ("release_id", _U256, True),
            ("access_id", _U256, True),
            ("grantee", _A, True),
            ("dataset_id", _U256, False),
            ("purpose", _B32, False),
            ("subject_count", _U32, False),
            ("consent_root", _B32, False),
            ("snapshot_block", _U64, False),
            ("release_hash", _B32, False),
        ],
    ),
    (
        "RightsRegistry",
        "RightsRequestFiled",
        [
            ("request_id", _U256, True),
            ("citizen", _A, True),
            ("publisher", _A, True),
            ("kind", _U8, False),
            ("target_kind", _U8, False),
            ("target", _B32, False),
            ("details_hash", _B32, False),
            ("deadline", _U64, False),
        ],
    ),
    (
        "RightsRegistry",
        "RightsRequestAnswered",
        [
            ("request_id", _U256, True),
            ("citizen", _A, True),
            ("publisher", _A, True),
            ("outcome", _U8, False),
            ("answer_hash", _B32, False),
            ("late", _BOOL, False),
        ],
    ),
    (
        "RightsRegistry",
        "RightsRequestWithdrawn",
        [("request_id", _U256, True), ("citizen", _A, True), ("publisher", _A, True)],
    ),
]

CONTRACTS = ("CityRoles", "DatasetRegistry", "ConsentRegistry", "AccessRegistry", "RightsRegistry")


def signature(name: str, inputs: list[tuple[str, str, bool]]) -> str:
    return f"{name}({','.join(t for _, t, _ in inputs)})"


def topic0(name: str, inputs: list[tuple[str, str, bool]]) -> str:
    return "0x" + keccak(text=signature(name, inputs)).hex()


def _value(typ: str, v: object) -> object:
    """An eth_abi-decoded value in store conventions."""
    if typ == "address":
        return v.lower()
    if typ == "bytes32":
        return "0x" + v.hex()
    if typ == "uint64":
        return min(v, INT63)
    return v


@dataclass(frozen=True)
class EventDecoder:
    contract: str
    name: str
    topic0: str
    decode: Callable[[list[str], str], dict]  # (topics, data hex) -> args


def _expr(typ: str, word: str) -> str:
    """Python source converting one ABI word to a store value; `word` is an expression giving the
    64 hex chars (topics: the 0x-prefixed topic string with an offset of 2)."""
    if typ == "address":
        return f"'0x' + {word}[24:]"
    if typ == "bytes32":
        return f"'0x' + {word}"
    if typ == "bool":
        return f"{word}[-1] != '0'"
    if typ == "uint64":
        return f"min(int({word}, 16), {INT63})"
    if typ.startswith("uint"):
        return f"int({word}, 16)"
    raise ValueError(f"no word decoder for {typ}")


def _dict_function(params: str, items: list[str]) -> Callable:
    """A function of `params` returning the dict literal of `items` (source built from the fixed SPECS only)."""
    src = "def f(" + params + "):\n    return {" + ", ".join(items) + "}\n"
    scope: dict = {}
    exec(src, scope)  # noqa: S102
    return scope["f"]


def _make_decoder(contract: str, name: str, inputs: list[tuple[str, str, bool]]) -> EventDecoder:
    """One generated function per event: a dict literal of slices, no loop or ABI call per log."""
    indexed = [(n, t) for n, t, ix in inputs if ix]
    data_inputs = [(n, t) for n, t, ix in inputs if not ix]
    items = []
    for i, (n, t) in enumerate(indexed):
        # A topic is "0x" + 64 hex chars; bytes32 can be taken whole.
        items.append(f"{n!r}: topics[{i + 1}]" if t == "bytes32" else f"{n!r}: " + _expr(t, f"topics[{i + 1}][2:]"))
    if all(t != "string" for _, t in data_inputs):
        for i, (n, t) in enumerate(data_inputs):
            items.append(f"{n!r}: " + _expr(t, f"data[{2 + 64 * i}:{66 + 64 * i}]"))
        return EventDecoder(contract, name, topic0(name, inputs), _dict_function("topics, data", items))
    head = _dict_function("topics", items)
    types = [t for _, t in data_inputs]

    def decode(topics: list[str], data: str) -> dict:
        args = head(topics)
        for (n, t), v in zip(data_inputs, abi_decode(types, bytes.fromhex(data[2:]))):
            args[n] = _value(t, v)
        return args

    return EventDecoder(contract, name, topic0(name, inputs), decode)


DECODERS: dict[str, EventDecoder] = {}
for _c, _n, _inputs in SPECS:
    _d = _make_decoder(_c, _n, _inputs)
    DECODERS[_d.topic0] = _d


def abi_events(contract: str) -> list[dict]:
    """The events of `contract` as ABI JSON entries (to check them against compiled artifacts)."""
    return [
        {
            "type": "event",
            "name": n,
            "anonymous": False,
            "inputs": [{"name": a, "type": t, "indexed": ix} for a, t, ix in inputs],
        }
        for c, n, inputs in SPECS
        if c == contract
    ]
