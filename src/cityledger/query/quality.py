"""The stored metadata quality scores (indexer/quality.py) in dataset queries: the catalogue's
"minimum quality" filter and its sort by score. A dataset without a stored score (its document is
not in this node's metadata store, or not scored yet) is unknown: never above a minimum, sorted
last."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, cast, select
from sqlalchemy.engine import Connection

from ..digits import is_decimal
from ..indexer.quality import SCORE_OF, D, Q
from .errors import BadInput

SCORE_COLUMNS = (
    Q.c.score.label("quality_score"),
    Q.c.max_score.label("quality_max_score"),
    Q.c.percent.label("quality_percent"),
    Q.c.rating.label("quality_rating"),
)
# The MQA's rating bands as shares of the applicable maximum (351, 221 and 121 of 405 points: the
# engine's catalog.quality.RATINGS), exact so that a filter and the rating a dataset shows agree.
RATING_FLOORS = {
    "excellent": Fraction(351, 405),
    "good": Fraction(221, 405),
    "sufficient": Fraction(121, 405),
    "bad": Fraction(0),
}


def min_quality(value: str | int | None, name: str = "min_quality") -> Fraction | None:
    """A minimum share of the applicable maximum: a percent 0..100, or a rating (sufficient, good,
    excellent: that rating or better; bad: any scored dataset). None or '' means no minimum."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lower().removesuffix("%")
    if is_decimal(text):
        if int(text) > 100:
            raise BadInput(f"{name} must be a percent 0..100 or a rating ({', '.join(RATING_FLOORS)}), got {text[:20]}")
        return Fraction(int(text), 100)
    if text in RATING_FLOORS:
        return RATING_FLOORS[text]
    raise BadInput(f"{name} must be a percent 0..100 or a rating ({', '.join(RATING_FLOORS)}), got {str(value)[:40]!r}")


def at_least(share: Fraction) -> ColumnElement[bool]:
    """score / max_score >= share, in integers (no rounding at a band's edge)."""
    return Q.c.score * share.denominator >= Q.c.max_score * share.numerator


def with_quality(query: Select[Any], minimum: Fraction | None, sort: str | None) -> tuple[Select[Any], list[Any]]:
    """`query` over the datasets table limited to `minimum`, and its order: newest first, or the best
    share of the maximum first (then newest). The scores are joined only when the filter or the order
    needs them: a COUNT over the join reads every row's score (the plain listing took 4 times as long
    at 100,000 versions), and a page's own scores are one more query (`scores_of`)."""
    if minimum is None and sort != "quality":
        return query, [D.c.id.desc()]
    query = query.outerjoin(Q, SCORE_OF)
    if minimum is not None:
        query = query.where(Q.c.score.is_not(None), at_least(minimum))
    if sort == "quality":
        share = cast(Q.c.score, Float) / Q.c.max_score
        return query, [share.desc().nulls_last(), D.c.id.desc()]
    return query, [D.c.id.desc()]


def scores_of(conn: Connection, rows: Sequence[Mapping[Any, Any]]) -> list[dict[str, Any] | None]:
    """The stored scores of dataset rows, in their order (None where none), in one query."""
    hashes = sorted({r["metadata_hash"] for r in rows})
    if not hashes:
        return []
    found = {
        (q["metadata_hash"], bool(q["personal_data"]), q["domain"]): quality_out(q, prefix="")
        for q in conn.execute(select(Q).where(Q.c.metadata_hash.in_(hashes))).mappings()
    }
    return [found.get((r["metadata_hash"], bool(r["personal_data"]), r["domain"])) for r in rows]


def quality_out(row: Mapping[Any, Any], prefix: str = "quality_") -> dict[str, Any] | None:
    """A row's stored score (`{score, max_score, percent, rating}`), or None when it has none (or
    the query did not join it); `prefix` is SCORE_COLUMNS' labels' ("" for a dataset_quality row)."""
    if row.get(prefix + "score") is None:
        return None
    return {
        "score": row[prefix + "score"],
        "max_score": row[prefix + "max_score"],
        "percent": row[prefix + "percent"],
        "rating": row[prefix + "rating"],
    }
