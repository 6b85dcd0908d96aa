"""The row Merkle tree: RFC 6962 (Certificate Transparency) shape over SHA-256.

leaf hash = SHA-256(0x00 || canonical row bytes), node hash = SHA-256(0x01 || left || right):
the prefixes keep a leaf from ever being read as a node (second-preimage safety). For n leaves the
left subtree holds the largest power of two < n leaves, so the root is defined for every n and
an inclusion proof has at most ceil(log2 n) hashes. The empty tree's root is SHA-256("").

Everything here streams: `RootBuilder` keeps one hash per set bit of the leaf count (O(log n)
memory), and `proof_from_leaves` computes an audit path in one pass over the leaves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from hashlib import sha256

from ..errors import CityLedgerError

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(NODE_PREFIX + left + right).digest()


class RootBuilder:
    """Folds leaf hashes into the RFC 6962 root with a stack of complete subtrees.

    After leaf number c (1-based) the stack holds one perfect subtree per set bit of c, largest
    first; adding a leaf merges as many times as c has trailing zero bits.
    """

    __slots__ = ("count", "_stack")

    def __init__(self) -> None:
        self.count = 0
        self._stack: list[bytes] = []

    def add(self, leaf: bytes) -> None:
        stack = self._stack
        stack.append(leaf)
        self.count += 1
        c = self.count
        while not c & 1:
            right = stack.pop()
            stack[-1] = sha256(NODE_PREFIX + stack[-1] + right).digest()
            c >>= 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        # Fold right to left: the smaller trailing subtrees join first, as RFC 6962's split does.
        acc = self._stack[-1]
        for h in reversed(self._stack[:-1]):
            acc = node_hash(h, acc)
        return acc


def merkle_root(leaves: Iterable[bytes]) -> tuple[bytes, int]:
    """(root, leaf count) of an iterable of leaf hashes, in O(log n) memory."""
    builder = RootBuilder()
    add = builder.add
    for leaf in leaves:
        add(leaf)
    return builder.root(), builder.count


def _split(n: int) -> int:
    """Largest power of two strictly less than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def audit_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges [lo, hi) whose subtree hashes form the audit path of `index`, leaf level first."""
    if not 0 <= index < size:
        raise CityLedgerError(f"leaf index {index} out of range for a tree of {size} leaves")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def proof_from_leaves(leaves: Iterator[bytes], index: int, size: int) -> tuple[bytes, list[bytes]]:
    """(leaf hash at `index`, audit path) from one pass over exactly `size` leaf hashes.

    The path's ranges are disjoint and, with the leaf itself, cover [0, size): each leaf is fed to
    the one range that holds it, so memory stays O(log n).
    """
    ranges = audit_ranges(index, size)
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    hashes: list[bytes | None] = [None] * len(ranges)
    target: bytes | None = None
    j = 0
    builder = RootBuilder()
    for i, leaf in enumerate(leaves):
        if i >= size:
            raise CityLedgerError(f"the file has more than the expected {size} rows (changed while reading?)")
        if i == index:
            target = leaf
            continue
        lo, hi = ranges[order[j]]
        builder.add(leaf)
        if i == hi - 1:
            hashes[order[j]] = builder.root()
            builder = RootBuilder()
            j += 1
    if target is None or any(h is None for h in hashes):
        raise CityLedgerError(f"the file has fewer than the expected {size} rows (changed while reading?)")
    return target, hashes  # type: ignore[return-value]


def root_from_path(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """The root an audit path leads to (RFC 9162 section 2.1.3.2), or None if the path is malformed."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = sha256(NODE_PREFIX + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_path(root: bytes, leaf: bytes, index: int, size: int, path: list[bytes]) -> bool:
    """True iff `path` proves that `leaf` is leaf number `index` of the `size`-leaf tree with `root`."""
    return root_from_path(leaf, index, size, path) == root
