"""Send every subscriber's digest for the snapshot's as-of date, exactly once per target.

The order for each target (one e-mail address or one webhook) is: look the target up in the
ledger; if it is not done, record ``sending`` (committed), hand the message to the transport,
record ``sent`` (committed). The whole run holds the update lock: the warehouse has one writer
at a time (warehouse/lock.py), and two digest runs never interleave. Each target's failure is
recorded and the run goes on with the next target.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb

from resolve311.digest import ledger
from resolve311.digest.email_render import email_message, message_id_for
from resolve311.digest.model import Digest, build_digest, digest_id
from resolve311.digest.signals import SnapshotTables, known_metrics, read_tables
from resolve311.digest.transport import DeliveryError, post_webhook, redact, send_email, webhook_host
from resolve311.digest.webhook_render import payload
from resolve311.errors import ConfigError, LockBusy
from resolve311.settings import DigestSettings, Settings, Subscriber
from resolve311.warehouse.connection import connect
from resolve311.warehouse.lock import update_lock
from resolve311.web.snapshot import SnapshotReader

log = logging.getLogger(__name__)

#: Test-only hook: "POINT:FILE" pauses once at POINT ("delivered" or "sent"), writing FILE.paused
#: and waiting until FILE exists, so a test can SIGKILL the sender at a known moment.
PAUSE_ENV = "RESOLVE311_DIGEST_TEST_PAUSE"
STATUS_ROWS = 500


@dataclass(frozen=True)
class Target:
    subscriber: str
    channel: Literal["email", "webhook"]
    address: str  # the e-mail address, or the full webhook URL (a secret)
    shown: str  # what may be printed and stored
    key: str


@dataclass(frozen=True)
class Outcome:
    subscriber: str
    channel: str
    target: str
    state: str  # sent | already sent | skipped | failed | rejected | gave up | resent
    error: str | None = None


@dataclass
class SendReport:
    as_of_date: str | None
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False

    @property
    def failed(self) -> list[Outcome]:
        """This run's failures (a target given up or refused in an earlier run is not one)."""
        return [o for o in self.outcomes if o.state in ("failed", "rejected")]


def targets(sub: Subscriber) -> list[Target]:
    out = [Target(sub.name, "email", a, a, f"email:{a.lower()}") for a in sub.emails]
    if sub.webhook_url:
        digest = hashlib.sha256(sub.webhook_url.encode()).hexdigest()[:16]
        out.append(
            Target(sub.name, "webhook", sub.webhook_url, webhook_host(sub.webhook_url), f"webhook:{digest}")
        )
    return out


def load_tables(snapshot: Path) -> SnapshotTables:
    """Read what the digest needs from the serving snapshot (SnapshotMissing when there is none)."""
    reader = SnapshotReader(snapshot)
    try:
        return read_tables(reader)
    finally:
        reader.close()


def check_metrics(subs: list[Subscriber]) -> None:
    known = known_metrics()
    for sub in subs:
        unknown = [m for m in sub.metrics if m not in known]
        if unknown:
            raise ConfigError(
                f"digest subscriber {sub.name!r} follows unknown metric(s): {', '.join(unknown)}"
            )


def chosen(cfg: DigestSettings, name: str | None, city: str | None = None) -> list[Subscriber]:
    """The subscriber ``name`` (all when None) among those following ``city`` (all when None)."""
    subs = [cfg.subscriber(name)] if name else list(cfg.subscribers)
    return [s for s in subs if city is None or not s.cities or city in s.cities]


def send_digests(
    settings: Settings,
    *,
    subscriber: str | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> SendReport:
    """Build and deliver the digests of the snapshot's as-of date; return what happened per target.

    ``stop()`` is asked between targets (SIGTERM sets it): the target in hand is finished and
    recorded, the rest waits for the next run (``report.interrupted``).
    """
    cfg = settings.digest
    subs = chosen(cfg, subscriber, settings.source)
    check_metrics(subs)
    if not subs:
        return SendReport(None)
    tables = load_tables(settings.snapshot_path)
    if not tables.as_of_date:
        return SendReport(None)
    report = SendReport(tables.as_of_date)
    digests = {s.name: build_digest(s, tables, cfg.dashboard_url) for s in subs}
    secrets = [cfg.password(), *(s.webhook_url for s in cfg.subscribers)]
    pause = _Pause.from_env()
    with update_lock(settings.lock_path, command="digest send"), _ledger(settings.warehouse_path) as con:
        for sub, target in ((s, t) for s in subs for t in targets(s)):
            if stop():
                report.interrupted = True
                break
            outcome = _deliver(con, cfg, digests[sub.name], target, secrets, pause)
            log.info("digest %s -> %s: %s", sub.name, target.shown, outcome.state)
            report.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        publish_deliveries(con, settings.snapshot_path)
    return report


@contextmanager
def _ledger(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    try:
        con = connect(path)
    except duckdb.IOException as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LockBusy(f"the warehouse is in use by another process: {first}") from None
    try:
        yield con
    finally:
        con.close()


def _deliver(
    con: duckdb.DuckDBPyConnection,
    cfg: DigestSettings,
    d: Digest,
    t: Target,
    secrets: list[str | None],
    pause: _Pause,
) -> Outcome:
    key = ledger.Key(date.fromisoformat(d.as_of_date), d.subscriber, t.key)
    existing = ledger.get(con, key)
    action = ledger.decide(existing, cfg.max_attempts)
    done = Outcome(d.subscriber, t.channel, t.shown, "")
    if action == "done" and existing is not None:  # settled by an earlier run: not this run's failure
        return _replace(done, existing.state if existing.state == "skipped" else "already " + existing.state)
    if action == "give_up":
        return _replace(done, "gave up", existing.error if existing else None)
    message_id = message_id_for(digest_id(d.subscriber, d.as_of_date, t.key), cfg.from_address)
    if d.skip:
        ledger.mark_skipped(con, key, channel=t.channel, target=t.shown, message_id=message_id)
        return _replace(done, "skipped")
    if action == "resend":
        log.warning(
            "digest %s -> %s: a previous run stopped between handing it over and recording it; "
            "sending again with the same Message-ID %s",
            d.subscriber,
            t.shown,
            message_id,
        )
    return _attempts(con, cfg, d, t, key, message_id, secrets, pause)


def _attempts(
    con: duckdb.DuckDBPyConnection,
    cfg: DigestSettings,
    d: Digest,
    t: Target,
    key: ledger.Key,
    message_id: str,
    secrets: list[str | None],
    pause: _Pause,
) -> Outcome:
    error = ""
    for attempt in range(cfg.attempts):
        ledger.mark_sending(con, key, channel=t.channel, target=t.shown, message_id=message_id)
        try:
            _transmit(cfg, d, t, message_id)
        except Exception as exc:  # one target's failure never stops the others
            permanent = isinstance(exc, DeliveryError) and exc.permanent
            error = redact(
                str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}", secrets
            )
            ledger.mark(con, key, "rejected" if permanent else "failed", error[:500])
            if permanent:
                return Outcome(d.subscriber, t.channel, t.shown, "rejected", error)
            if attempt + 1 < cfg.attempts:
                time.sleep(cfg.retry_base_s * 2**attempt)
            continue
        pause.at("delivered")
        ledger.mark(con, key, "sent")
        pause.at("sent")
        return Outcome(d.subscriber, t.channel, t.shown, "sent")
    return Outcome(d.subscriber, t.channel, t.shown, "failed", error)


def _transmit(cfg: DigestSettings, d: Digest, t: Target, message_id: str) -> None:
    if t.channel == "email":
        send_email(cfg, email_message(d, to=t.address, sender=cfg.from_address, message_id=message_id))
    else:
        post_webhook(t.address, payload(d, message_id.strip("<>")), cfg.timeout_s)


def _replace(o: Outcome, state: str, error: str | None = None) -> Outcome:
    return Outcome(o.subscriber, o.channel, o.target, state, error)


def publish_deliveries(con: duckdb.DuckDBPyConnection, snapshot: Path) -> bool:
    """Copy the newest ledger rows into the serving snapshot (copy, add the table, rename).

    The health page reads them there; the web layer never opens the warehouse. Every later
    publish carries the table over into its new file (``publish/release.py``) until the
    digest runs again. Should a publish replace the file
    while we copy it, we start again from the new one rather than put the old one back.
    """
    for _ in range(3):
        if not snapshot.exists():
            return False
        before = _stamp(snapshot)
        tmp = snapshot.with_name(snapshot.name + ".digest.tmp")
        try:
            shutil.copyfile(snapshot, tmp)
            _add_ledger(con, tmp)
            if _stamp(snapshot) == before:
                os.replace(tmp, snapshot)
                return True
        finally:
            tmp.unlink(missing_ok=True)
    return False


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _add_ledger(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    con.execute("ATTACH ? AS snap", [str(target)])
    try:
        con.execute(
            "CREATE OR REPLACE TABLE snap.digest_deliveries AS SELECT * FROM digest_deliveries "
            "ORDER BY as_of_date DESC, subscriber, target LIMIT ?",
            [STATUS_ROWS],
        )
    finally:
        con.execute("DETACH snap")


@dataclass
class _Pause:
    point: str | None = None
    file: Path | None = None
    done: bool = False

    @classmethod
    def from_env(cls) -> _Pause:
        value = os.environ.get(PAUSE_ENV, "")
        point, _, file = value.partition(":")
        return cls(point, Path(file)) if point and file else cls()

    def at(self, point: str) -> None:
        if self.done or self.file is None or point != self.point:
            return
        self.done = True
        Path(f"{self.file}.paused").write_text(str(os.getpid()))
        while not self.file.exists():
            time.sleep(0.02)
