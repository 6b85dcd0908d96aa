"""Parsing of user input (HTTP parameters and CLI arguments) into the store's forms.

Each parser raises BadInput with a message that names the parameter and the expected form,
so the API answers 400 and the CLI prints one line."""

from __future__ import annotations

import re

from eth_utils import is_checksum_address

from .. import codes
from ..digits import is_decimal
from .errors import BadInput

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")

MAX_PAGE_SIZE = 100
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1
# Ids and blocks are stored as signed 64-bit integers: anything above cannot exist in the index.
ID_MAX = 2**63 - 1


def address(value: str, name: str = "address") -> str:
    """A 20-byte hex address -> lowercase 0x form (the store's). Mixed case must be a valid EIP-55 checksum."""
    value = (value or "").strip()
    if not _ADDRESS.match(value):
        raise BadInput(f"{name} must be a 0x-prefixed 20-byte hex address (42 characters), got {value[:80]!r}")
    body = value[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise BadInput(f"{name} {value} has an invalid EIP-55 checksum (mixed case); check for a typo")
    return value.lower()


def hash32(value: str, name: str = "hash") -> str:
    """A 32-byte hex hash -> lowercase 0x form."""
    value = (value or "").strip()
    if not _HASH.match(value):
        raise BadInput(f"{name} must be 0x followed by 64 hex digits, got {value[:80]!r}")
    return value.lower()


def signature(value: str, name: str = "signature") -> bytes:
    value = (value or "").strip()
    if not _SIGNATURE.match(value):
        raise BadInput(f"{name} must be 65 bytes r||s||v as 0x followed by 130 hex digits")
    return bytes.fromhex(value[2:])


def purpose(value: str, name: str = "purpose") -> str:
    """A DPV purpose name ('ScientificResearch'), its IRI, or a 0x bytes32 hash -> 0x hash."""
    value = (value or "").strip()
    if value.startswith("0x"):
        return hash32(value, name)
    term = value.removeprefix(codes.DPV)
    if term in codes.PURPOSES:
        return "0x" + codes.purpose_hash(term).hex()
    known = ", ".join(sorted(codes.PURPOSES))
    raise BadInput(f"{name} {value[:80]!r} is not a known DPV purpose (one of: {known}) nor a 0x-hash")


def purpose_name(hash_hex: str | None) -> str | None:
    if not hash_hex:
        return None
    try:
        return codes.PURPOSE_BY_HASH.get(bytes.fromhex(hash_hex.removeprefix("0x")))
    except ValueError:
        return None


def block(value: int | str | None, name: str = "as_of_block") -> int | None:
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a block number (a non-negative integer), got {str(value)[:40]!r}") from None
    if n < 0 or n > ID_MAX:
        raise BadInput(f"{name} must be between 0 and 2^63-1, got {n}")
    return n


def positive_id(value: int | str, name: str = "id") -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a positive integer, got {str(value)[:40]!r}") from None
    if n < 1 or n > ID_MAX:
        raise BadInput(f"{name} must be a positive integer below 2^63, got {n}")
    return n


def domain(value: str | int | None, name: str = "domain") -> int | None:
    """A domain name ('health') or code (1..12); None when not given (an optional filter)."""
    if value is None or value == "":
        return None
    return domain_code(value, name)


def domain_code(value: str | int, name: str = "domain") -> int:
    """A domain name or code that must be there (e.g. a scope id)."""
    text = str(value).strip().lower()
    if is_decimal(text) and int(text) in codes.DOMAIN_NAMES:
        return int(text)
    if text in codes.DOMAINS:
        return codes.DOMAINS[text]
    raise BadInput(f"{name} must be one of {', '.join(codes.DOMAINS)} (or its code 1..12), got {str(value)[:40]!r}")


def scope_kind(value: str | int | None, name: str = "scope_kind") -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if is_decimal(text) and int(text) in (1, 2, 3):
        return int(text)
    if text in codes.SCOPES:
        return codes.SCOPES[text]
    raise BadInput(f"{name} must be dataset, publisher or domain (1, 2 or 3), got {str(value)[:40]!r}")


def pad32(value: int | str) -> str:
    """A uint (dataset id, domain) or an address as the contract's left-padded bytes32."""
    if isinstance(value, int):
        return "0x" + format(value, "064x")
    return "0x" + value.removeprefix("0x").lower().rjust(64, "0")


def scope_id(kind: int, value: str, name: str = "scope_id") -> str:
    """The bytes32 scope id: a 0x-hash as is, or for convenience a dataset id / a publisher
    address / a domain name or code, encoded as the contract does (left-padded)."""
    value = (value or "").strip()
    if _HASH.match(value):
        return value.lower()
    if kind == codes.SCOPE_PUBLISHER:
        return pad32(address(value, name))
    if kind == codes.SCOPE_DOMAIN:
        return pad32(domain_code(value, name))
    if kind == codes.SCOPE_DATASET:
        return pad32(positive_id(value, name))
    raise BadInput(f"scope_kind must be 1, 2 or 3, got {kind}")


def page(page_: int, page_size: int) -> tuple[int, int]:
    if page_ < 1:
        raise BadInput(f"page must be at least 1, got {page_}")
    if page_size < 1 or page_size > MAX_PAGE_SIZE:
        raise BadInput(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    return page_, page_size


def choice(value: str | None, allowed: dict[str, int] | tuple[str, ...], name: str) -> str | None:
    if value is None or value == "":
        return None
    text = value.strip().lower()
    if text not in allowed:
        raise BadInput(f"{name} must be one of {', '.join(allowed)}, got {value[:40]!r}")
    return text
