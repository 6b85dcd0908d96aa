"""Exit codes of the `cityledger` command, for scripts (README "Exit codes").

0 is success and 1 an error (one line on stderr, nothing changed); 2 is a usage error (click's).
The others are answers a script branches on, like `sha256sum -c` or `git diff --exit-code`; each
code has one meaning across commands."""

OK = 0
ERROR = 1
USAGE = 2
NOT_REGISTERED = 3  # verify: no dataset on chain has the file's content hash
MISMATCH = 4  # verify --dataset N: the file is not dataset N's; receipt verify: a fact contradicts the chain
NOT_CURRENT = 5  # verify: withdrawn or superseded; receipt verify: genuine, but the consent changed since
NODE_DOWN = 6  # status: the node does not answer (the index's own status is still printed)
NODE_INCONSISTENT = 7  # status: the node answers but contradicts itself (the indexer recorded it)

# verify's answer for each status of datasets.registry.Verification
VERIFY_CODES = {"registered": OK, "not_registered": NOT_REGISTERED, "superseded": NOT_CURRENT, "withdrawn": NOT_CURRENT}
