"""The events the indexer reads (docs/CONTRACTS.md) and their fast decoders.

Each event gets one precomputed decoder keyed by (topic0): indexed arguments come from topic words,
the data tuple is cut into 32-byte words when all its types are static (no ABI machinery per log)
and decoded once with eth_abi when it holds a dynamic type (DatasetRegistered's metadata_uri).
Values follow the store's conventions (models.py): lowercase 0x-hex strings and ints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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
    ("CityRoles", "RoleGranted", [("account", _A, True), ("role", _U256, False), ("kind", _U8, False), ("granted_by", _A, True)]),
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
    ("DatasetRegistry", "DatasetWithdrawn", [("dataset_id", _U256, True), ("publisher", _A, True), ("reason_hash", _B32, False)]),
    (
        "DatasetRegistry",
        "AttestationAdded",
        [("attestation_id", _U256, True), ("dataset_id", _U256, True), ("auditor", _A, True), ("kind", _U8, False), ("report_hash", _B32, False)],
    ),
    ("DatasetRegistry", "AttestationRevoked", [("attestation_id", _U256, True), ("dataset_id", _U256, True), ("auditor", _A, True)]),
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
        [("access_id", _U256, True), ("dataset_id", _U256, True), ("requester", _A, True), ("purpose", _B32, False), ("terms_hash", _B32, False)],
    ),
    (
        "AccessRegistry",
        "AccessGranted",
        [("access_id", _U256, True), ("dataset_id", _U256, True), ("grantee", _A, True), ("purpose", _B32, False), ("expiry", _U64, False)],
    ),
    (
        "AccessRegistry",
        "AccessRefused",
        [("access_id", _U256, True), ("dataset_id", _U256, True), ("requester", _A, True), ("reason_hash", _B32, False)],
    ),
    ("AccessRegistry", "AccessEnded", [("access_id", _U256, True), ("dataset_id", _U256, True), ("ended_by", _A, True)]),
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
    ("RightsRegistry", "RightsRequestWithdrawn", [("request_id", _U256, True), ("citizen", _A, True), ("publisher", _A, True)]),
]

CONTRACTS = ("CityRoles", "DatasetRegistry", "ConsentRegistry", "AccessRegistry", "RightsRegistry")


def signature(name: str, inputs: list[tuple[str, str, bool]]) -> str:
    return f"{name}({','.join(t for _, t, _ in inputs)})"


def topic0(name: str, inputs: list[tuple[str, str, bool]]) -> str:
    return "0x" + keccak(text=signature(name, inputs)).hex()


def _word(typ: str) -> Callable[[str], object]:
    """Converter of one 64-hex-char ABI word (lowercase, no 0x) of a static type."""
    if typ == "address":
        return lambda w: "0x" + w[24:]
    if typ == "bytes32":
        return lambda w: "0x" + w
    if typ == "bool":
        return lambda w: w[-1] != "0"
    if typ == "uint64":
        return lambda w: min(int(w, 16), INT63)
    if typ.startswith("uint"):
        return lambda w: int(w, 16)
    raise ValueError(f"no word decoder for {typ}")


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


def _make_decoder(contract: str, name: str, inputs: list[tuple[str, str, bool]]) -> EventDecoder:
    indexed = [(n, _word(t)) for n, t, ix in inputs if ix]
    data_inputs = [(n, t) for n, t, ix in inputs if not ix]
    static = all(t != "string" for _, t in data_inputs)
    if static:
        data_conv = [(n, _word(t), 2 + 64 * i) for i, (n, t) in enumerate(data_inputs)]

        def decode(topics: list[str], data: str) -> dict:
            args = {n: conv(topics[i + 1][2:]) for i, (n, conv) in enumerate(indexed)}
            for n, conv, at in data_conv:
                args[n] = conv(data[at : at + 64])
            return args

    else:
        types = [t for _, t in data_inputs]

        def decode(topics: list[str], data: str) -> dict:
            args = {n: conv(topics[i + 1][2:]) for i, (n, conv) in enumerate(indexed)}
            values = abi_decode(types, bytes.fromhex(data[2:]))
            for (n, t), v in zip(data_inputs, values):
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
