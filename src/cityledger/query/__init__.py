"""The read floor over the index store: the queries (queries.py), the parsing of user input
(validate.py) and the coded errors both raise (errors.py).

Shared by the HTTP API (api/), consent-filtered releases (release/) and the CLI; it imports none of
them, so a request reads one way: api -> release -> query -> the store (indexer.models)."""
