"""Exit codes of every resolve311 command: the source of truth for docs/operations.md.

A test checks that docs/operations.md lists every code below with what an operator
should do about it.
"""

EXIT_OK = 0
EXIT_FAILURE = 1  # failed: the `error:` line says why (a bad input file, an unexpected error)
EXIT_USAGE = 2  # bad arguments or settings (an unusable SOCRATA_APP_TOKEN included)
EXIT_STORAGE = 74  # EX_IOERR: disk full or a file that cannot be written
EXIT_UNAVAILABLE = 75  # EX_TEMPFAIL: the source stayed unavailable, or another writer holds the lock
EXIT_INTERRUPTED = 130  # SIGINT/SIGTERM: the run was stopped; rerun

ALL_EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILURE: "failed",
    EXIT_USAGE: "usage",
    EXIT_STORAGE: "storage",
    EXIT_UNAVAILABLE: "temporary",
    EXIT_INTERRUPTED: "interrupted",
}
