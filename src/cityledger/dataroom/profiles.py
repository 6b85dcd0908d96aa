"""The population profiles the data room keeps (docs/PRIVACY.md section 7): per dataset version, the
noisy count of every declared category over all rows, consenting or not, at the declaration's
`cl:profileEpsilon`. It touches people who never consented, so it is computed once per file and
declaration and kept; every representativeness report, and the consented share on the dataset page,
reuses it at no further cost (its numbers are private already). A file lock makes two processes
asking at once compute it once, not twice."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..datasets.store import MetadataStore, metadata_dir
from ..errors import CityLedgerError
from ..release import service

log = logging.getLogger(__name__)


def profiles_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "privacy" / "profiles"


def kept_profile(data_dir: Path, content_hash: str, metadata_hash: str, decl: Any, table: Callable[[], Any]) -> Any:
    """The population profile of the file `content_hash` under the declaration `decl` registered in
    `metadata_hash`: the kept one, else computed now at the declaration's `cl:profileEpsilon` over
    `table()` (the file read with that declaration: only read when the profile is not kept yet) and kept."""
    from ..privacy import PopulationProfile, population_profile

    if decl.profile_epsilon is None:
        raise ValueError("the declaration has no cl:profileEpsilon")  # callers check first
    folder = profiles_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{content_hash.removeprefix('0x')}-{metadata_hash.removeprefix('0x')}.json"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            return PopulationProfile.from_json(json.loads(path.read_text()))
        profile = population_profile(table(), decl.profile_epsilon)
        doc: dict[str, Any] = {**profile.to_json(), "content_hash": content_hash, "metadata_hash": metadata_hash}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, sort_keys=True))
        os.replace(tmp, path)  # never a half-written profile (which would be computed, and spent, again)
        return profile


def stored_table(files: Any, data_dir: Path, content_hash: str, decl: Any) -> Any:
    """The stored file `content_hash` read with the declaration (a temporary local copy from an object
    store, removed again). PrivacyError when it does not fit the declaration."""
    from ..privacy import load_table
    from .delivery import _local_copy

    path, temporary = _local_copy(files, content_hash, Path(data_dir) / "files" / "tmp")
    try:
        return load_table(path, decl)
    finally:
        if temporary:
            path.unlink(missing_ok=True)


def file_population(data_dir: Path, files: Callable[[], Any], row: Any) -> tuple[dict[str, Any] | None, str | None]:
    """How many people the personal file of dataset version `row` holds, as the kept population profile
    counts them (noisy, with its 95% interval; computed and kept now if it is not yet): (the estimate,
    None), or (None, one sentence for a citizen saying why there is none). `files` gives the data room's
    store (it may be unreachable)."""
    from ..privacy import PrivacyError, parse_declaration, profile_rows

    if not row["personal_data"]:
        return None, "This dataset is not about individual people, so there is no share of people to show."
    unknown = (
        "This node does not hold the dataset's file and its description, so the number of people in it cannot be "
        "estimated and no share is shown."
    )
    try:
        declared = service.privacy_declaration(row, MetadataStore(metadata_dir(data_dir=Path(data_dir))))
        decl = parse_declaration(declared) if declared is not None else None
    except CityLedgerError:  # the description is not held here, or its declaration is broken
        return None, unknown
    if decl is None or decl.profile_epsilon is None:
        return None, (
            "The publisher has not declared a privacy-protected count of the people in this file, so only the "
            "number of consents is shown."
        )
    if decl.contributions != 1:
        return None, (
            "One person can have several rows in this file, so the number of people in it is not known and no "
            "share is shown."
        )
    if not decl.categorical:
        return None, (
            "The publisher has declared no category to count the people in this file by, so no share is shown."
        )
    try:
        store = files()
        if store.size(row["content_hash"]) is None:
            return None, unknown
        profile = kept_profile(
            data_dir,
            row["content_hash"],
            row["metadata_hash"],
            decl,
            lambda: stored_table(store, data_dir, row["content_hash"], decl),
        )
    except PrivacyError as exc:
        log.warning("dataset %s: no population profile: %s", row["id"], exc)
        return None, "The dataset's file does not match its privacy declaration, so no share is shown."
    except CityLedgerError:  # the store is not reachable
        return None, unknown
    return profile_rows(profile).to_json(), None


def with_shares(counts: dict[str, Any], population: dict[str, Any] | None, reason: str | None) -> dict[str, Any]:
    """The consent counts of a dataset with each purpose's share of the people in the file: consents
    over the estimate, capped at 1 (`share_capped`: consents can come from people who are not in the
    file, and the estimate is noisy), or None with `no_share_reason`."""
    people = population["estimate"] if population is not None else None
    for c in counts["counts"]:
        if people is None:
            c["share"], c["share_capped"] = None, None
        else:
            c["share_capped"] = c["active"] > people
            c["share"] = 1.0 if c["share_capped"] else round(c["active"] / people, 4) if people else 0.0
    return {**counts, "population": population, "no_share_reason": reason}
