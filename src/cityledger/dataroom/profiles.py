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


def _profile_path(data_dir: Path, content_hash: str, metadata_hash: str) -> Path:
    return profiles_dir(data_dir) / f"{content_hash.removeprefix('0x')}-{metadata_hash.removeprefix('0x')}.json"


def read_kept_profile(data_dir: Path, content_hash: str, metadata_hash: str) -> Any:
    """The kept population profile of `content_hash` under `metadata_hash`, or None: nothing is
    computed, read or spent (profiles are written whole, by rename, so no lock is needed to read)."""
    from ..privacy import PopulationProfile

    path = _profile_path(data_dir, content_hash, metadata_hash)
    if not path.is_file():
        return None
    return PopulationProfile.from_json(json.loads(path.read_text()))


def kept_profile(data_dir: Path, content_hash: str, metadata_hash: str, decl: Any, table: Callable[[], Any]) -> Any:
    """The population profile of the file `content_hash` under the declaration `decl` registered in
    `metadata_hash`: the kept one, else computed now at the declaration's `cl:profileEpsilon` over
    `table()` (the file read with that declaration: only read when the profile is not kept yet) and kept."""
    from ..privacy import population_profile

    if decl.profile_epsilon is None:
        raise ValueError("the declaration has no cl:profileEpsilon")  # callers check first
    kept = read_kept_profile(data_dir, content_hash, metadata_hash)
    if kept is not None:  # the common case, without waiting behind another file's computation
        return kept
    folder = profiles_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = _profile_path(data_dir, content_hash, metadata_hash)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kept = read_kept_profile(data_dir, content_hash, metadata_hash)  # computed while this one waited
        if kept is not None:
            return kept
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


def file_population(data_dir: Path, row: Any, owner: bool) -> tuple[dict[str, Any] | None, str | None]:
    """How many people the personal file of dataset version `row` holds, as its kept population profile
    counts them (noisy, with its 95% interval): (the estimate, None), or (None, one sentence for a
    citizen saying why there is none). Only a profile already kept is read: a page view never reads the
    file nor spends epsilon (the profile is computed once, when a researcher's question first needs it).
    `owner`: whether `row`'s publisher registered its bytes first (owners.py)."""
    from ..privacy import PrivacyError, parse_declaration, profile_rows

    if not row["personal_data"]:
        return None, "This dataset is not about individual people, so there is no share of people to show."
    if not owner:
        return None, (
            "These bytes were registered first by another publisher, so this data room keeps no count of the people "
            "in them for this registration, and no share is shown."
        )
    try:
        declared = service.privacy_declaration(row, MetadataStore(metadata_dir(data_dir=Path(data_dir))))
    except CityLedgerError:
        return None, (
            "This node does not hold the dataset's description, so the number of people in its file is not known "
            "and no share is shown."
        )
    try:
        decl = parse_declaration(declared) if declared is not None else None
    except CityLedgerError:
        return None, "The dataset's privacy declaration cannot be read, so no share is shown."
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
        profile = read_kept_profile(data_dir, row["content_hash"], row["metadata_hash"])
        if profile is None:
            return None, (
                "The number of people in this file has not been estimated yet: it is estimated once, with privacy "
                "protection, when a researcher's question first needs it, never for a page view. Until then only "
                "the number of consents is shown."
            )
        return profile_rows(profile).to_json(), None
    except (PrivacyError, ValueError, KeyError) as exc:  # a kept profile that cannot be read
        log.warning("dataset %s: the kept population profile cannot be read: %s", row["id"], exc)
        return None, "The privacy-protected count of the people in this file cannot be read, so no share is shown."


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
