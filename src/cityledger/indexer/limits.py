"""The indexer's default batch size, in a module of its own so the CLI can show it without importing
the indexer (sqlalchemy, requests) at start-up."""

# Logs aimed at per fetched range. Catch-up holds about three ranges of decoded logs (one being
# fetched, one queued, one being reduced) plus a transaction's rows (1.5 ranges): the largest
# variable part of the indexer's memory. 5,000 catches up as fast as 10,000 with ~45 MB less peak
# RSS on 1M events; 2,500 is ~5% slower (BENCHMARKS.md, bench/indexer.py).
TARGET_LOGS = 5_000
