"""The indexer's default batch size, in a module of its own so the CLI can show it without importing
the indexer (sqlalchemy, requests) at start-up."""

# Logs aimed at per fetched range. Catch-up holds at most two ranges of decoded logs (one being
# reduced, the next fetched) plus a transaction's rows (one range): the largest variable part of the
# indexer's memory. 5,000 catches up as fast as 10,000 with ~45 MB less peak RSS on 1M events;
# 4,000 (since 2026-12-01, session 5) as fast again with ~4 MB less; 2,500 is ~5% slower
# (docs/INDEXER.md, Memory; BENCHMARKS.md).
TARGET_LOGS = 4_000

# An eth_getLogs answer is read up to this many bytes per log aimed at (rpc.get_logs: the complete
# blocks before the cut are kept, the rest is not read). A log of ours is 0.9-1.1 KB of JSON on anvil,
# so 1.5 KB lets a range hold about 1.5 times the target before it is cut (the ranges aim at the
# target from the last one's density), and bounds what one answer costs whatever the chain holds
# (docs/INDEXER.md, Memory).
RESPONSE_BYTES_PER_LOG = 1_536
