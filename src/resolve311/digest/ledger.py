"""The delivery ledger (warehouse table ``digest_deliveries``, migration 004).

Each delivery is recorded **before** it is handed to the transport (``sending``) and again
after (``sent`` / ``failed`` / ``rejected``); each write commits on its own, so a SIGKILL
leaves the ledger saying exactly how far it got. :func:`decide` turns a row into what a
(re)run does with that target; docs/digest.md explains the one ambiguous case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import duckdb
import pandas as pd

State = Literal["sending", "sent", "failed", "rejected", "skipped"]
Action = Literal["send", "resend", "done", "give_up"]


@dataclass(frozen=True)
class Key:
    as_of_date: date
    subscriber: str
    target_key: str


@dataclass(frozen=True)
class Delivery:
    state: State
    attempts: int
    message_id: str
    error: str | None


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def get(con: duckdb.DuckDBPyConnection, key: Key) -> Delivery | None:
    row = con.execute(
        "SELECT state, attempts, message_id, error FROM digest_deliveries "
        "WHERE as_of_date = ? AND subscriber = ? AND target_key = ?",
        [key.as_of_date, key.subscriber, key.target_key],
    ).fetchone()
    return None if row is None else Delivery(row[0], int(row[1]), str(row[2]), row[3])


def decide(delivery: Delivery | None, max_attempts: int) -> Action:
    """What to do with one target: send it, resend an ambiguous one, leave it, or give up."""
    if delivery is None:
        return "send"
    if delivery.state in ("sent", "rejected", "skipped"):
        return "done"
    if delivery.attempts >= max_attempts:
        return "give_up"
    return "resend" if delivery.state == "sending" else "send"


def mark_sending(
    con: duckdb.DuckDBPyConnection, key: Key, *, channel: str, target: str, message_id: str
) -> None:
    """Record the attempt before the transport is called (commits at once)."""
    now = utcnow()
    con.execute(
        "INSERT INTO digest_deliveries VALUES (?, ?, ?, ?, ?, ?, 'sending', 1, ?, ?, NULL, NULL) "
        "ON CONFLICT DO UPDATE SET state = 'sending', attempts = digest_deliveries.attempts + 1, "
        "last_attempt_at = excluded.last_attempt_at",
        [key.as_of_date, key.subscriber, key.target_key, channel, target, message_id, now, now],
    )


def mark(con: duckdb.DuckDBPyConnection, key: Key, state: State, error: str | None = None) -> None:
    """Record the outcome of the attempt."""
    sent_at = utcnow() if state == "sent" else None
    con.execute(
        "UPDATE digest_deliveries SET state = ?, error = ?, sent_at = coalesce(?, sent_at) "
        "WHERE as_of_date = ? AND subscriber = ? AND target_key = ?",
        [state, error, sent_at, key.as_of_date, key.subscriber, key.target_key],
    )


def mark_skipped(
    con: duckdb.DuckDBPyConnection, key: Key, *, channel: str, target: str, message_id: str
) -> None:
    """A quiet day the subscriber asked not to hear about: recorded, so it is visibly not a miss."""
    now = utcnow()
    con.execute(
        "INSERT INTO digest_deliveries VALUES (?, ?, ?, ?, ?, ?, 'skipped', 0, ?, ?, NULL, NULL) "
        "ON CONFLICT DO NOTHING",
        [key.as_of_date, key.subscriber, key.target_key, channel, target, message_id, now, now],
    )


def recent(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pd.DataFrame:
    """The newest ledger rows (for the health page and `digest status`)."""
    return con.execute(
        "SELECT * FROM digest_deliveries ORDER BY as_of_date DESC, subscriber, target LIMIT ?", [limit]
    ).df()


def counts(con: duckdb.DuckDBPyConnection, as_of_date: date) -> dict[str, Any]:
    rows = con.execute(
        "SELECT state, count(*) FROM digest_deliveries WHERE as_of_date = ? GROUP BY state", [as_of_date]
    ).fetchall()
    return {str(state): int(n) for state, n in rows}
