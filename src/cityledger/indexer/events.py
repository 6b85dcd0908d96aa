"""The events the indexer reads and their fast decoders, generated from the compiled ABIs.

The event table is generated from the contracts' compiled ABIs (build/contracts/<Name>.json,
chain/artifacts.py) into event_args.py by `python -m cityledger.indexer.events`, and committed: the
indexer needs no compiler, contract sources or build folder at run time (a standby indexer installed
from the package, a CLI command run in another folder), and tests/indexer/test_reducers.py fails
when the generated file differs from what the contracts compile to, so it cannot drift.

Each event gets one generated decoder keyed by topic0:
indexed arguments come from topic words, the data tuple is cut into 32-byte words when all its
types are static (no ABI machinery per log) and decoded once with eth_abi when it holds a dynamic
type (DatasetRegistered's metadata_uri). Values follow the store's conventions (models.py): lowercase
0x-hex strings and ints.

`event_args.py` holds one TypedDict per event (what the reducers take), generated from the same
table: `python -m cityledger.indexer.events` rewrites it; a test fails when it is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak

from ..config import Config, config
from ..errors import CityLedgerError
from .models import CONTRACT_COLUMNS

INT63 = 2**63 - 1  # largest BIGINT: uint64 values above it are stored clamped (see models.py)
CONTRACTS = tuple(CONTRACT_COLUMNS)

Input = tuple[str, str, bool]  # (argument name, ABI type, indexed)
Args = dict[str, Any]
Decode = Callable[[list[str], str], Args]  # (topics, data hex) -> args


@dataclass(frozen=True)
class EventSpec:
    contract: str
    name: str
    inputs: tuple[Input, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(t for _, t, _ in self.inputs)})"

    @property
    def topic0(self) -> str:
        return "0x" + keccak(text=self.signature).hex()


def load_specs(cfg: Config | None = None) -> list[EventSpec]:
    """Every (non-anonymous) event of the six contracts, from their compiled artifacts."""
    from ..chain.artifacts import compile_all, load_artifact

    cfg = cfg or config()
    try:  # what was built (and deployed): read as it is, without importing the compiler (~6 MB)
        artifacts = {name: load_artifact(name, cfg) for name in CONTRACTS}
    except CityLedgerError:
        if not cfg.contracts_dir.is_dir():
            raise  # an installed package without the sources: its message says to compile
        artifacts = compile_all(cfg)  # a fresh checkout: build them first
    specs = []
    for contract in CONTRACTS:
        if contract not in artifacts:
            raise CityLedgerError(f"no contract {contract} in {cfg.contracts_dir}: the indexer reads its events")
        for entry in artifacts[contract].abi:
            if entry["type"] == "event" and not entry.get("anonymous"):
                inputs = tuple((i["name"], i["type"], bool(i["indexed"])) for i in entry["inputs"])
                specs.append(EventSpec(contract, entry["name"], inputs))
    return specs


# ---------------------------------------------------------------- decoders


def _value(typ: str, v: Any) -> Any:
    """An eth_abi-decoded value in store conventions."""
    if typ == "address":
        return str(v).lower()
    if typ == "bytes32":
        return "0x" + bytes(v).hex()
    if typ == "uint64":
        return min(int(v), INT63)
    return v


def _expr(typ: str, word: str) -> str | None:
    """Python source converting one ABI word to a store value (None: not a one-word type); `word` is
    an expression giving the 64 hex chars (topics: the 0x-prefixed topic string with an offset of 2)."""
    if typ == "address":
        return f"'0x' + {word}[24:]"
    if typ == "bytes32":
        return f"'0x' + {word}"
    if typ == "bool":
        return f"{word}[-1] != '0'"
    if typ == "uint64":
        return f"min(int({word}, 16), {INT63})"
    if typ.startswith("uint") and typ[4:].isdigit():
        return f"int({word}, 16)"
    return None


def _dict_function(params: str, items: list[str]) -> Callable[..., Args]:
    """A function of `params` returning the dict literal of `items` (source built from ABI types and
    names only: identifiers and the fixed expressions of _expr)."""
    src = "def f(" + params + "):\n    return {" + ", ".join(items) + "}\n"
    scope: dict[str, Any] = {}
    exec(src, scope)  # noqa: S102
    f: Callable[..., Args] = scope["f"]
    return f


@dataclass(frozen=True)
class EventDecoder:
    contract: str
    name: str
    topic0: str
    decode: Decode


def _make_decoder(spec: EventSpec) -> EventDecoder:
    """One generated function per event: a dict literal of slices, no loop or ABI call per log."""
    items = []
    for i, (n, t) in enumerate((n, t) for n, t, ix in spec.inputs if ix):
        # A topic is "0x" + 64 hex chars; bytes32 is taken whole, a hashed dynamic value as it is.
        expr = _expr(t, f"topics[{i + 1}][2:]") if t != "bytes32" else None
        items.append(f"{n!r}: {expr or f'topics[{i + 1}]'}")
    data_inputs = [(n, t) for n, t, ix in spec.inputs if not ix]
    words = [_expr(t, f"data[{2 + 64 * i}:{66 + 64 * i}]") for i, (_, t) in enumerate(data_inputs)]
    if all(words):
        items += [f"{n!r}: {w}" for (n, _), w in zip(data_inputs, words, strict=True)]
        return EventDecoder(spec.contract, spec.name, spec.topic0, _dict_function("topics, data", items))
    head = _dict_function("topics", items)
    types = [t for _, t in data_inputs]

    def decode(topics: list[str], data: str) -> Args:
        args = head(topics)
        for (n, t), v in zip(data_inputs, abi_decode(types, bytes.fromhex(data[2:])), strict=True):
            args[n] = _value(t, v)
        return args

    return EventDecoder(spec.contract, spec.name, spec.topic0, decode)


def _decoders(specs: list[EventSpec]) -> dict[str, EventDecoder]:
    out: dict[str, EventDecoder] = {}
    for spec in specs:
        d = _make_decoder(spec)
        if d.topic0 in out:
            other = out[d.topic0]
            raise CityLedgerError(
                f"{spec.contract}.{spec.name} and {other.contract}.{other.name} share topic0 {d.topic0}: "
                "the indexer tells events apart by topic0 and address (events.py)"
            )
        out[d.topic0] = d
    return out


def _generated_specs() -> list[EventSpec]:
    try:
        from .event_args import EVENTS
    except ImportError:  # event_args.py predates the table: `python -m cityledger.indexer.events` rewrites it
        return load_specs()

    return [EventSpec(contract, name, tuple(inputs)) for contract, name, inputs in EVENTS]


SPECS: list[EventSpec] = _generated_specs()
DECODERS: dict[str, EventDecoder] = _decoders(SPECS)


# ---------------------------------------------------------------- typed arguments (event_args.py)

_PY_TYPES = {"address": "str", "bool": "bool", "string": "str"}
ARGS_MODULE = Path(__file__).with_name("event_args.py")


def _py_type(typ: str) -> str:
    if typ in _PY_TYPES or typ.startswith("bytes"):
        return _PY_TYPES.get(typ, "str")
    if typ.startswith(("uint", "int")) and "[" not in typ:
        return "int"
    return "Any"


def args_source(specs: list[EventSpec]) -> str:
    """The source of event_args.py: the event table (EVENTS: contract, event, inputs, in ABI order) and
    one TypedDict `<Event>Args` per event (its decoded arguments)."""
    types = [[(n, _py_type(t)) for n, t, _ in spec.inputs] for spec in specs]
    uses_any = any(t == "Any" for fields in types for _, t in fields)
    out = [
        '"""The decoded arguments of each event the indexer reads: one TypedDict per event, what its reducer',
        "takes.",
        "",
        "Generated from the compiled ABIs by `python -m cityledger.indexer.events` (events.py): do not edit.",
        'tests/indexer/test_reducers.py fails when this file differs from the contracts."""',
        "",
        "from __future__ import annotations",
        "",
        f"from typing import {'Any, ' if uses_any else ''}TypedDict",
        "",
        "# (contract, event, ((argument, ABI type, indexed), ...)) for every non-anonymous event.",
        "EVENTS: tuple[tuple[str, str, tuple[tuple[str, str, bool], ...]], ...] = (",
    ]
    for spec in specs:
        out.append(f"    ({spec.contract!r}, {spec.name!r}, (")
        out += [f"        ({n!r}, {t!r}, {ix!r})," for n, t, ix in spec.inputs]
        out.append("    )),")
    out.append(")")
    for spec, fields in zip(specs, types, strict=True):
        out += ["", "", f"class {spec.name}Args(TypedDict):", f'    """{spec.contract}.{spec.name}"""', ""]
        out += [f"    {n}: {t}" for n, t in fields]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    specs = load_specs()  # from the artifacts (compiling what changed), not the generated table
    ARGS_MODULE.write_text(args_source(specs))
    print(f"wrote {ARGS_MODULE} ({len(specs)} events)", file=sys.stderr)
