"""The privacy engine's refusals. Each is raised before anything is read, computed or spent, with a
message that says what was refused and what to do instead (the API turns them into 4xx answers)."""

from __future__ import annotations

from ..errors import CityLedgerError


class PrivacyError(CityLedgerError):
    """Any refusal of the privacy engine."""

    code = "privacy_refused"


class DeclarationError(PrivacyError):
    """The publisher's `cl:privacy` declaration is missing, malformed or does not fit the file."""

    code = "bad_privacy_declaration"


class QueryRefused(PrivacyError):
    """An aggregate query is refused: undeclared or unbounded column, bad epsilon, too many or too small groups."""

    code = "query_refused"


class QueryAltered(QueryRefused):
    """The query to run is not the one whose hash (and cost) was reserved."""

    code = "query_altered"


class KAnonymityRefused(PrivacyError):
    """A row release cannot reach k even at the most general level the declaration allows.

    The message names no row counts (a grantee who reads it would learn how many consenting subjects
    the file holds); `rows` and `smallest` carry them for the publisher's logs."""

    code = "k_anonymity_refused"

    def __init__(self, message: str, *, rows: int = 0, smallest: int = 0):
        super().__init__(message)
        self.rows = rows
        self.smallest = smallest
