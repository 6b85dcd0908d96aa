"""Consent snapshot files: <data_dir>/releases/snapshots/<consent_root>.json, each holding every
included subject address (as OpenZeppelin's standard-v1 tree dump), so that the API can serve a
citizen the Merkle proof that their address was in a release's consent root."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from ..chain.util import write_json_atomic
from ..fingerprint.consent_tree import ConsentTree, consent_leaf

log = logging.getLogger("cityledger.release")
FORMAT = "cityledger-consent-snapshot-v1"


def snapshots_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "releases" / "snapshots"


def snapshot_path(data_dir: Path, consent_root: str) -> Path:
    return snapshots_dir(data_dir) / f"{consent_root.lower()}.json"


def write_snapshot(data_dir: Path, tree: ConsentTree, meta: dict[str, Any]) -> Path:
    root = "0x" + tree.root.hex()
    path = snapshot_path(data_dir, root)
    write_json_atomic(
        path, {"format": FORMAT, "consent_root": root, "subject_count": len(tree), **meta, "tree": tree.dump()}
    )
    return path


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
