"""Logging set-up: human-readable text or JSON lines, with secrets redacted.

:func:`redact` is the one function that removes secrets from text; it is called at
every boundary where text leaves the process or is stored (log records, the CLI's
``error:`` line, the ``runs`` ledger, the serving snapshot). It knows every secret
registered with :func:`register_secret` (the settings register the app token when
they are loaded) and replaces each *representation* of it: raw, ``repr``/escaped,
JSON-escaped, bytes ``repr`` and URL-encoded. The redaction filter sits on the root
handler, so no log record from any library (httpx logs request URLs) carries it out.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote, quote_plus

REDACTED = "***"
#: Secrets shorter than this are not redacted (they would blank out ordinary words).
MIN_SECRET_LENGTH = 4

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def representations(secret: str) -> set[str]:
    """Every way ``secret`` can appear in text: raw, stripped, escaped, repr'd, URL-encoded."""
    forms: set[str] = set()
    for value in {secret, secret.strip()}:
        if not value:
            continue
        encoded = value.encode("utf-8", "surrogatepass")
        forms |= {
            value,
            repr(value)[1:-1],
            repr(encoded)[2:-1],
            value.encode("unicode_escape").decode("ascii"),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            quote(value, safe=""),
            quote(value),
            quote_plus(value, safe=""),
            quote_plus(value),
            encoded.decode("latin-1"),
        }
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


def register_secret(secret: str | None) -> None:
    """Redact ``secret`` (in every representation) from everything :func:`redact` sees from now on."""
    if secret and len(secret.strip()) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.update(representations(secret))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and each of ``secrets``), in any representation, as ``***``."""
    forms = set(_secrets)
    for secret in secrets:
        if secret:
            forms |= representations(secret)
    for form in sorted(forms, key=len, reverse=True):  # longest first: an escaped form contains the raw one
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def redact_optional(text: str | None) -> str | None:
    """:func:`redact` for a value that may be None."""
    return None if text is None else redact(text)


class RedactingFilter(logging.Filter):
    """Replaces every occurrence of the given secrets in a record's final message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]
        for secret in self.secrets:
            register_secret(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), self.secrets), None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text, self.secrets), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message (+ exc)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text or record.exc_info:
            entry["exc"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    *, fmt: Literal["text", "json"] = "text", level: str = "INFO", secrets: list[str] | None = None
) -> None:
    """Send logs to stderr in ``fmt``, redacting ``secrets``; safe to call more than once."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonLineFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets or []))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
