"""Exit codes of every resolve311 command (documented in docs/operations.md)."""

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 75  # EX_TEMPFAIL: the source stayed unavailable; try again later
