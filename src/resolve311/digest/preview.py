"""What `digest preview` and `digest status` show: a rendered digest, the ledger as lines."""

from __future__ import annotations

import json

import duckdb

from resolve311.digest import ledger
from resolve311.digest.email_render import (
    data_uri,
    email_message,
    html_body,
    message_id_for,
    plain_text,
    subject,
)
from resolve311.digest.model import Digest, build_digest, digest_id
from resolve311.digest.send import check_metrics, load_tables, targets
from resolve311.digest.webhook_render import payload
from resolve311.errors import ConfigError, LockBusy
from resolve311.settings import Settings
from resolve311.warehouse.connection import connect


def build_for(settings: Settings, name: str) -> Digest:
    """The digest subscriber ``name`` would get for the snapshot's as-of date."""
    sub = settings.digest.subscriber(name)
    check_metrics([sub])
    tables = load_tables(settings.snapshot_path)
    if not tables.as_of_date:
        raise ConfigError("the serving snapshot has no data yet; run `resolve311 update` first")
    return build_digest(sub, tables, settings.digest.dashboard_url)


def render_preview(settings: Settings, name: str, fmt: str) -> tuple[str, str | None]:
    """(the rendering, a note for stderr or None)."""
    d = build_for(settings, name)
    cfg = settings.digest
    note = (
        "note: nothing flagged and this subscriber skips quiet days: nothing would be sent"
        if d.skip
        else None
    )
    first = targets(cfg.subscriber(name))[0]
    message_id = message_id_for(digest_id(d.subscriber, d.as_of_date, first.key), cfg.from_address)
    if fmt == "html":
        return html_body(d, data_uri), note
    if fmt == "eml":
        to = first.address if first.channel == "email" else "preview@localhost"
        return email_message(d, to=to, sender=cfg.from_address, message_id=message_id).as_string(), note
    if fmt == "webhook":
        return json.dumps(payload(d, message_id.strip("<>")), indent=2, ensure_ascii=False) + "\n", note
    return f"Subject: {subject(d)}\n\n{plain_text(d)}", note


def ledger_lines(settings: Settings, limit: int) -> list[str]:
    """The newest ledger rows as text lines (the warehouse opened read-only)."""
    if not settings.warehouse_path.exists():
        return ["no warehouse yet: nothing has been sent"]
    try:
        con = connect(settings.warehouse_path, read_only=True)
    except duckdb.IOException:
        raise LockBusy(
            "the warehouse is in use by a running update; try again when it has finished"
        ) from None
    try:
        has = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'digest_deliveries'"
        ).fetchone()
        if not has or not has[0]:
            return ["no digest has been sent from this warehouse yet"]
        frame = ledger.recent(con, limit)
    finally:
        con.close()
    lines = []
    for r in frame.itertuples(index=False):
        error = f"  {r.error}" if isinstance(r.error, str) and r.error else ""
        lines.append(
            f"{r.as_of_date:%Y-%m-%d}  {r.subscriber}  {r.target}  {r.state}  attempts={r.attempts}{error}"
        )
    return lines or ["no deliveries recorded"]
