"""The population profiles the data room keeps (docs/PRIVACY.md section 7): per dataset version, the
noisy count of every declared category over all rows, consenting or not, at the declaration's
`cl:profileEpsilon`. It touches people who never consented, so it is computed once per file and
declaration and kept; every representativeness report reuses it at no further cost (its numbers are
private already). A file lock makes two processes asking at once compute it once, not twice."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any


def profiles_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "privacy" / "profiles"


def kept_profile(data_dir: Path, content_hash: str, metadata_hash: str, table: Any) -> Any:
    """The population profile of the file `content_hash` under the declaration registered in
    `metadata_hash` (`table` is the file read with that declaration): the kept one, else computed now
    at the declaration's `cl:profileEpsilon` and kept."""
    from ..privacy import PopulationProfile, population_profile

    decl = table.declaration
    if decl.profile_epsilon is None:
        raise ValueError("the declaration has no cl:profileEpsilon")  # callers check first
    folder = profiles_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{content_hash.removeprefix('0x')}-{metadata_hash.removeprefix('0x')}.json"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            return PopulationProfile.from_json(json.loads(path.read_text()))
        profile = population_profile(table, decl.profile_epsilon)
        doc: dict[str, Any] = {**profile.to_json(), "content_hash": content_hash, "metadata_hash": metadata_hash}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, sort_keys=True))
        os.replace(tmp, path)  # never a half-written profile (which would be computed, and spent, again)
        return profile
