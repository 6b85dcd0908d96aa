"""Consent snapshot files: <data_dir>/releases/snapshots/<consent_root>.json, each holding every
included subject address (as OpenZeppelin's standard-v1 tree dump), so that the API can serve a
citizen the Merkle proof that their address was in a release's consent root.

A snapshot is published: its canonical bytes (RFC 8785) are also put in the content-addressed
document store under their SHA-256 (served by `GET /api/documents/{sha256}`), and the file under
`releases/snapshots/` is the same bytes found by the consent root on chain: a root is itself a
content address of the subject set (rebuilding the tree from the values must give it). The indexer
audits each release's claim against it (release/audit.py). It holds pseudonymous addresses only."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from ..chain.util import write_bytes_atomic
from ..datasets.metadata import canonical_json
from ..datasets.store import JSON, MetadataStore, metadata_dir, read_bounded
from ..errors import CityLedgerError
from ..fingerprint.consent_tree import ConsentTree, consent_leaf

log = logging.getLogger("cityledger.release")
FORMAT = "cityledger-consent-snapshot-v1"


def snapshots_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "releases" / "snapshots"


def snapshot_path(data_dir: Path, consent_root: str) -> Path:
    return snapshots_dir(data_dir) / f"{consent_root.lower()}.json"


def snapshot_bytes(tree: ConsentTree, meta: dict[str, Any]) -> bytes:
    """The canonical bytes of a snapshot document (what its SHA-256 is taken of)."""
    root = "0x" + tree.root.hex()
    return canonical_json(
        {"format": FORMAT, "consent_root": root, "subject_count": len(tree), **meta, "tree": tree.dump()}
    )


def write_snapshot(data_dir: Path, tree: ConsentTree, meta: dict[str, Any], store: MetadataStore | None = None) -> Path:
    """Publish a release's snapshot: into the document store (by SHA-256) and under its consent root.
    Returns the by-root path; its bytes' SHA-256 is the document's hash."""
    data = snapshot_bytes(tree, meta)
    (store or MetadataStore(metadata_dir(data_dir=Path(data_dir)))).put_bytes(data, JSON)
    path = snapshot_path(data_dir, "0x" + tree.root.hex())
    try:
        write_bytes_atomic(path, data)  # the indexer and the API never read half a snapshot
    except OSError as exc:
        raise CityLedgerError(f"cannot write the consent snapshot {path}: {exc.strerror or exc}") from None
    return path


# A snapshot holds every subject of a release: about 140 bytes per subject (leaf, node, address).
MAX_SNAPSHOT_BYTES = 512 << 20


def read_snapshot(data_dir: Path, consent_root: str) -> tuple[ConsentTree, bytes] | None:
    """The published snapshot of a consent root: (its tree, its exact bytes), or None when it is not
    here. CityLedgerError when the file there is not that root's snapshot (unreadable, or its tree
    does not rebuild to the root its name claims): it must not be taken for the release's."""
    path = snapshot_path(data_dir, consent_root)
    try:
        data = read_bounded(path, MAX_SNAPSHOT_BYTES)
    except FileNotFoundError:
        return None
    try:
        tree = ConsentTree.load(json.loads(data)["tree"])
    except (CityLedgerError, ValueError, KeyError, TypeError) as exc:
        raise CityLedgerError(f"{path} is not a consent snapshot ({exc})") from None
    if "0x" + tree.root.hex() != consent_root.lower():
        raise CityLedgerError(f"{path}: its subjects' root is 0x{tree.root.hex()}, not {consent_root}")
    return tree, data


def document_hash(path: Path) -> str:
    """The 0x SHA-256 of a snapshot file (its document hash in the store)."""
    return "0x" + hashlib.sha256(path.read_bytes()).hexdigest()


class SnapshotIndex:
    """address -> consent roots whose snapshot includes it, over the snapshot files on disk.

    Rescans when the folder changes (a new snapshot file changes its mtime); a file that does not
    rebuild to its own root is skipped with a warning, never served."""

    def __init__(self, data_dir: Path):
        self.folder = snapshots_dir(data_dir)
        self._stamp: float | None = None
        self._trees: dict[str, ConsentTree] = {}
        self._by_address: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            stamp = self.folder.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        trees: dict[str, ConsentTree] = {}
        by_address: dict[str, set[str]] = {}
        for path in sorted(self.folder.glob("0x*.json")) if stamp is not None else []:
            root = path.stem.lower()
            tree = self._trees.get(root)
            if tree is None:
                try:
                    tree = ConsentTree.load(json.loads(path.read_text())["tree"])
                except Exception as exc:
                    log.warning("skipping consent snapshot %s: %s", path, exc)
                    continue
                if "0x" + tree.root.hex() != root:
                    log.warning("skipping consent snapshot %s: its tree has root 0x%s", path, tree.root.hex())
                    continue
            trees[root] = tree
            for address in tree.values:
                by_address.setdefault(address.lower(), set()).add(root)
        self._trees, self._by_address, self._stamp = trees, by_address, stamp

    def roots_of(self, address: str) -> set[str]:
        with self._lock:
            self._refresh()
            return set(self._by_address.get(address.lower(), ()))

    def proof(self, consent_root: str, address: str) -> tuple[str, list[str]]:
        """(leaf, proof) of `address` in the snapshot with this root."""
        with self._lock:
            self._refresh()
            tree = self._trees[consent_root.lower()]
        return "0x" + consent_leaf(address).hex(), ["0x" + h.hex() for h in tree.proof(address)]
