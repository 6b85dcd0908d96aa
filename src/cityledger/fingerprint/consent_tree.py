"""Consent snapshots: the set of consenting subject addresses of a release, as a Merkle tree that is
byte-for-byte OpenZeppelin's `StandardMerkleTree.of(values, ["address"])` (@openzeppelin/merkle-tree).

- leaf = keccak256(keccak256(abi.encode(address)))  (double hash: a leaf is never a 64-byte node)
- node = keccak256(min(a, b) || max(a, b))          (sorted pairs: a proof needs no left/right bits,
                                                      verifiable by OpenZeppelin's MerkleProof.verify)
- leaves sorted ascending by hash, laid out as OZ's array tree (leaf i at tree[len - 1 - i]);
- the set is deduplicated (an address is one subject); the empty set's root is 32 zero bytes.

Public API: consent_leaf, consent_root, consent_proof, verify_consent_proof, ConsentTree
(.build, .root, .proof, .dump for `StandardMerkleTree.load` in JavaScript, .load).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from ..errors import CityLedgerError

EMPTY_CONSENT_ROOT = bytes(32)


def _address(value: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise CityLedgerError(f"not an Ethereum address: {value!r}")
    return to_checksum_address(value)


def consent_leaf(address: str) -> bytes:
    """OpenZeppelin standard leaf of one address: keccak256(keccak256(abi.encode(address)))."""
    return _leaf(_address(address))


def _leaf(checksummed: str) -> bytes:
    return keccak(keccak(encode(["address"], [checksummed])))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a <= b else keccak(b + a)


def _as_bytes(h: bytes | str) -> bytes:
    if isinstance(h, bytes) and len(h) == 32:
        return h
    if isinstance(h, str):
        body = h[2:] if h[:2].lower() == "0x" else h
        if len(body) == 64:
            try:
                return bytes.fromhex(body)
            except ValueError:
                pass
    raise CityLedgerError(f"not a 32-byte hash: {h!r}")


@dataclass(frozen=True)
class ConsentTree:
    """A built snapshot: `tree` is OZ's node array (root first), `values` maps address -> tree index."""

    tree: tuple[bytes, ...]
    values: dict[str, int]

    @classmethod
    def build(cls, addresses: Iterable[str]) -> ConsentTree:
        leaves = sorted((_leaf(a), a) for a in {_address(a) for a in addresses})
        if not leaves:
            return cls((), {})
        n = len(leaves)
        tree: list[bytes] = [b""] * (2 * n - 1)
        values = {}
        for i, (leaf, addr) in enumerate(leaves):
            tree[len(tree) - 1 - i] = leaf
            values[addr] = len(tree) - 1 - i
        for i in range(len(tree) - 1 - n, -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        return cls(tuple(tree), values)

    @property
    def root(self) -> bytes:
        return self.tree[0] if self.tree else EMPTY_CONSENT_ROOT

    def __len__(self) -> int:
        return len(self.values)

    def __contains__(self, address: str) -> bool:
        return is_address(address) and to_checksum_address(address) in self.values

    def proof(self, address: str) -> list[bytes]:
        """Sibling hashes from the address's leaf up to the root (OZ `getProof`)."""
        addr = _address(address)
        if addr not in self.values:
            raise CityLedgerError(f"{addr} is not in this consent snapshot")
        i = self.values[addr]
        out = []
        while i > 0:
            out.append(self.tree[i - 1 if i % 2 == 0 else i + 1])
            i = (i - 1) // 2
        return out

    def dump(self) -> dict[str, object]:
        """OZ's `standard-v1` JSON: `StandardMerkleTree.load(dump)` works on it in JavaScript."""
        return {
            "format": "standard-v1",
            "leafEncoding": ["address"],
            "tree": ["0x" + h.hex() for h in self.tree],
            "values": [{"value": [a], "treeIndex": i} for a, i in sorted(self.values.items(), key=lambda kv: -kv[1])],
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> ConsentTree:
        """Rebuild from `dump()` output, checking every leaf and node."""
        if data.get("format") != "standard-v1" or data.get("leafEncoding") != ["address"]:
            raise CityLedgerError("not an OpenZeppelin standard-v1 address tree")
        built = cls.build(v["value"][0] for v in data.get("values", []))
        if ["0x" + h.hex() for h in built.tree] != [h.lower() for h in data.get("tree", [])]:
            raise CityLedgerError("consent tree does not match its values")
        return built


def consent_root(addresses: Iterable[str]) -> bytes:
    """Root of the snapshot of `addresses` (32 zero bytes for an empty set)."""
    return ConsentTree.build(addresses).root


def consent_proof(addresses: Iterable[str], address: str) -> list[bytes]:
    """Proof that `address` is in the snapshot of `addresses`."""
    return ConsentTree.build(addresses).proof(address)


def process_proof(leaf: bytes, proof: Iterable[bytes | str]) -> bytes:
    h = leaf
    for sibling in proof:
        h = hash_pair(h, _as_bytes(sibling))
    return h


def verify_consent_proof(root: bytes | str, address: str, proof: Iterable[bytes | str]) -> bool:
    """True iff `proof` shows `address` in the snapshot with `root` (OZ MerkleProof.verify semantics)."""
    if not is_address(address):
        return False
    return process_proof(consent_leaf(address), proof) == _as_bytes(root)
