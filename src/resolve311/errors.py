"""The exception tree of resolve311.

Every error the library raises derives from ``Resolve311Error`` and is either
*transient* (retrying later may succeed) or *terminal* (retrying will not help)::

    Resolve311Error
    ├── TransientError                 retry with backoff
    │   ├── SourceUnavailable          the API stayed down/slow/throttled past the retry budget
    │   └── LockBusy                   another writer holds the update lock or the warehouse file
    └── TerminalError                  do not retry; fix the input or configuration
        ├── StorageError               a file or the warehouse could not be written
        │   └── DiskFull               no space left on the device
        ├── ConfigError                a bad setting or command-line argument
        ├── SourceRequestError         the API rejected the query (4xx other than 429)
        ├── LandingError               the landing log is inconsistent (checksum, sequence)
        ├── ParseError                 a whole file/batch could not be read at all
        └── SnapshotMissing            no serving snapshot has been published yet

The CLI turns these into one-line messages and exit codes (see ``cli``);
library code never prints. :func:`known_error` recognises storage failures
(DuckDB I/O errors, ``OSError``) behind any exception, including when a failed
rollback masks the original cause.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager


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


class StorageError(TerminalError):
    """The warehouse, the landing log or the snapshot could not be written."""


class DiskFull(StorageError):
    """No space left on the device."""


#: Messages of a failed rollback that hide the real error (kept in ``__context__``).
_MASKING = ("cannot rollback - no transaction is active", "no transaction is active")
_DISK_FULL = ("no space left on device", "disk full", "disk is full", "not enough space")


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or during, outermost first.

    A ``raise ... from None`` ends the chain: its author said the error it handled is not the cause.
    """
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return seen


def first_line(exc: BaseException) -> str:
    """The exception's message on one line (its type name when it has none)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def root_cause(exc: BaseException) -> BaseException:
    """``exc``, or the error a failed rollback masked (``cannot rollback - no transaction is active``)."""
    for candidate in _chain(exc):
        if not any(m in str(candidate).lower() for m in _MASKING):
            return candidate
    return exc


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is, or came from, a Ctrl-C (or a SIGTERM a command turns into one).

    DuckDB checks for signals while a query runs and consumes the KeyboardInterrupt: it ends the
    query with ``RuntimeError("Query interrupted")``, or, when the signal came while it read a
    registered Arrow table, with an error whose message ends ``failed: KeyboardInterrupt:``.
    """
    return any(
        isinstance(c, KeyboardInterrupt)
        or (type(c) is RuntimeError and str(c) == "Query interrupted")
        or "failed: KeyboardInterrupt" in str(c)
        for c in _chain(exc)
    )


def stop_if_interrupted(exc: Exception) -> None:
    """Raise the KeyboardInterrupt ``exc`` stands for (see :func:`interrupted`), if it stands for one."""
    if interrupted(exc):
        raise KeyboardInterrupt("interrupted during a warehouse query") from exc


@contextmanager
def interrupts_kept() -> Iterator[None]:
    """Inside, an interrupt that DuckDB turned into a query error comes out as a KeyboardInterrupt."""
    try:
        yield
    except Exception as exc:
        stop_if_interrupted(exc)
        raise


def known_error(exc: BaseException) -> Resolve311Error | None:
    """The resolve311 error ``exc`` stands for (DiskFull, StorageError, ...), or None if unknown."""
    for candidate in _chain(exc):
        if isinstance(candidate, Resolve311Error):
            return candidate
        text = str(candidate).lower()
        if "could not set lock on file" in text or "conflicting lock" in text:
            return LockBusy(f"the warehouse is in use by another process: {first_line(candidate)}")
        if (isinstance(candidate, OSError) and candidate.errno == errno.ENOSPC) or any(
            m in text for m in _DISK_FULL
        ):
            return DiskFull(f"disk full: {first_line(candidate)}")
    cause = root_cause(exc)
    text = str(cause).lower()
    if isinstance(cause, OSError) or "could not write" in text or "io error" in text:
        return StorageError(f"storage error: {first_line(cause)}")
    return None
