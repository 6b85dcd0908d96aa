"""Moved to cityledger.query.validate (the read floor below api/ and release/). This name remains only
for callers above the API (the CLI) until they import from there."""

from ..query.validate import *  # noqa: F403
