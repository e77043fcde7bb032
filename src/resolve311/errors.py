"""The exception tree of resolve311.

Every error the library raises derives from ``Resolve311Error`` and is either
*transient* (retrying later may succeed) or *terminal* (retrying will not help)::

    Resolve311Error
    ├── TransientError                 retry with backoff
    │   ├── SourceUnavailable          the API stayed down/slow/throttled past the retry budget
    │   └── LockBusy                   another update holds the warehouse lock
    └── TerminalError                  do not retry; fix the input or configuration
        ├── ConfigError                a bad setting or command-line argument
        ├── SourceRequestError         the API rejected the query (4xx other than 429)
        ├── LandingError               the landing log is inconsistent (checksum, sequence)
        ├── ParseError                 a whole file/batch could not be read at all
        └── SnapshotMissing            no serving snapshot has been published yet

The CLI turns these into one-line messages and exit codes (see ``cli``);
library code never prints.
"""

from __future__ import annotations


class Resolve311Error(Exception):
    """Base of every resolve311 error."""


class TransientError(Resolve311Error):
    """Retrying later may succeed."""


class TerminalError(Resolve311Error):
    """Retrying will not help."""


class SourceUnavailable(TransientError):
    """The source stayed unavailable for the whole retry budget."""


class LockBusy(TransientError):
    """Another process holds the update lock."""


class ConfigError(TerminalError):
    """A setting or argument is invalid."""


class SourceRequestError(TerminalError):
    """The source rejected the request (a 4xx other than 429)."""

    def __init__(self, message: str, status_code: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.code = code


class LandingError(TerminalError):
    """The landing log is inconsistent."""


class ParseError(TerminalError):
    """A file or batch could not be read at all."""


class SnapshotMissing(TerminalError):
    """No serving snapshot has been published yet."""
