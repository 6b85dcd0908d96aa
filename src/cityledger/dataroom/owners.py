"""Whose bytes a stored file is. The file store is keyed by content hash only, and a content hash is
public on chain once registered, so any accredited publisher can register another publisher's bytes
(docs/CONTRACTS.md: a content hash is unique per publisher, not overall), under its own personal-data
flag and its own privacy declaration. Were the stored bytes used for every registration of their
hash, a second publisher could register a personal file's hash as open data and have the data room
serve it to anyone, or declare its own terms over it (a population profile at an epsilon of its
choosing, releases to its own grantees). So the data room uses stored bytes only for the versions of
the publisher who registered them first (dataset ids are assigned in registration order); the
upload, the open download, releases, private answers and the dataset page's population estimate all
ask `check_owner` or `owns` (docs/DATAROOM.md, Whose bytes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..indexer.models import Dataset
from ..query.errors import CodedError


def first_registration(conn: Connection, content_hash: str) -> Any:
    """(id, publisher) of the earliest registration of `content_hash` the index holds, or None."""
    return conn.execute(
        select(Dataset.id, Dataset.publisher).where(Dataset.content_hash == content_hash).order_by(Dataset.id).limit(1)
    ).first()


def owns(conn: Connection, row: Any) -> bool:
    """Whether dataset version `row`'s publisher registered its bytes first."""
    first = first_registration(conn, row["content_hash"])
    return first is not None and first.publisher == row["publisher"]


def check_owner(conn: Connection, row: Any) -> None:
    """CodedError (403) unless dataset version `row`'s publisher registered its bytes first."""
    first = first_registration(conn, row["content_hash"])
    if first is None or first.publisher != row["publisher"]:
        registered = f"dataset {first.id} by {first.publisher}" if first is not None else "another registration"
        raise CodedError(
            f"dataset {row['id']}'s bytes {row['content_hash']} were registered first as {registered}: the data room "
            f"stores, serves and computes over them only for that publisher's versions, not for {row['publisher']}'s",
            code="forbidden",
        )
