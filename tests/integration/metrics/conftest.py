"""Fixtures for metric tests: a real warehouse file filled row by row."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from resolve311.settings import Settings, load_settings
from resolve311.warehouse.connection import connect

NYC = ZoneInfo("America/New_York")


def utc(local: datetime) -> datetime:
    """Naive UTC instant of a naive NYC wall-clock time."""
    return local.replace(tzinfo=NYC).astimezone(UTC).replace(tzinfo=None)


class WarehouseBuilder:
    """Insert requests (current row + a version) straight into a real warehouse file.

    Each :meth:`commit` is one load: as with the loader (each landing batch has a newer sequence
    number), rows added without an explicit ``batch_seq`` get the next batch after it.
    """

    def __init__(self, path: Path, source: str = "nyc", *, record_days: bool = True) -> None:
        self.path = path
        self.source = source
        self.record_days = record_days  # as the loader does: load_touched_days (migration 007)
        self.con: duckdb.DuckDBPyConnection = connect(path)
        self.batch_seq = 1
        self.pending: dict[str, dict[str, object]] = {}

    def add(
        self,
        key: str,
        created: datetime,
        closed: datetime | None = None,
        *,
        agency: str = "NYPD",
        complaint_type: str = "Noise",
        borough: str = "BROOKLYN",
        lat: float | None = None,
        lon: float | None = None,
        dirty: Sequence[str] = (),
        status: str | None = None,
        updated_at: datetime | None = None,
        batch_seq: int | None = None,
    ) -> None:
        """Buffer the current row of ``key`` (and its version) until :meth:`commit`."""
        seq = self.batch_seq if batch_seq is None else batch_seq
        c_utc, k_utc = utc(created), (utc(closed) if closed else None)
        hours = (k_utc - c_utc).total_seconds() / 3600 if k_utc else None
        status = status or ("Closed" if closed else "Open")
        row_hash = hashlib.sha1(
            f"{key}|{created}|{closed}|{status}|{agency}|{complaint_type}".encode()
        ).hexdigest()
        values = {
            "unique_key": key, "created_date": created, "closed_date": closed, "agency": agency,
            "agency_name": f"{agency} name", "complaint_type": complaint_type, "borough": borough,
            "status": status, "latitude": lat, "longitude": lon, "source": self.source,
            "created_utc": c_utc, "closed_utc": k_utc, "hours_to_close": hours,
            "is_closed": closed is not None or status.startswith("Closed"), "dirty_flags": list(dirty),
            "source_updated_at": updated_at, "row_hash": row_hash, "batch_seq": seq,
            "loaded_at": datetime(2030, 1, 1),
        }  # fmt: skip
        self.pending[key] = values

    def commit(self) -> None:
        """Write the buffered rows: replace current rows, add new versions."""
        if not self.pending:
            return
        frame = pd.DataFrame(list(self.pending.values()))
        frame["dirty_flags"] = frame["dirty_flags"].map(list)
        self.pending = {}
        self.con.register("pending_rows", frame)
        if self.record_days:
            self.con.execute(
                """INSERT INTO load_touched_days
                   SELECT DISTINCT source, batch_seq, d FROM (
                       SELECT p.source, p.batch_seq,
                              unnest([p.created_date, p.closed_date, r.created_date, r.closed_date])::DATE AS d
                       FROM pending_rows p LEFT JOIN requests r USING (unique_key)
                   ) WHERE d IS NOT NULL
                   UNION SELECT DISTINCT source, batch_seq, NULL FROM pending_rows"""
            )
        # as the loader does: a replaced current row becomes history, a version made current again
        # leaves it, so request_versions (a view over both tables) shows each version once
        self.con.execute(
            "INSERT INTO request_history BY NAME SELECT r.* FROM requests r JOIN pending_rows p "
            "USING (unique_key) WHERE r.row_hash <> p.row_hash"
        )
        self.con.execute(
            "DELETE FROM request_history h USING pending_rows p "
            "WHERE h.unique_key = p.unique_key AND h.row_hash = p.row_hash"
        )
        self.con.execute("DELETE FROM requests WHERE unique_key IN (SELECT unique_key FROM pending_rows)")
        self.con.execute("INSERT INTO requests BY NAME SELECT * FROM pending_rows")
        self.con.unregister("pending_rows")
        self.batch_seq = max(self.batch_seq, int(frame["batch_seq"].max())) + 1

    def add_sla(self, complaint_type: str, hours: float, agency: str | None = None) -> None:
        self.con.execute("INSERT INTO sla_targets VALUES (?, ?, ?)", [agency, complaint_type, hours])

    def close(self) -> None:
        self.commit()
        self.con.close()


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings(home=home)


@pytest.fixture
def warehouse(settings: Settings) -> Iterator[WarehouseBuilder]:
    builder = WarehouseBuilder(settings.warehouse_path)
    yield builder
    builder.close()


class SnapshotReader:
    """Read the published snapshot of ``settings``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()

    def frame(self, table: str) -> pd.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(f'SELECT * FROM "{table}" ORDER BY ALL').df()

    def score(
        self,
        metric: str,
        *,
        group: tuple[str, str, str] = ("*", "*", "*"),
        window: str = "1d",
        baseline: str = "8w",
    ) -> dict[str, object]:
        """One scorecard row as a dict (KeyError when absent)."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            frame = con.execute(
                "SELECT * FROM scorecard WHERE agency = ? AND complaint_type = ? AND borough = ?"
                ' AND "window" = ? AND baseline = ? AND metric = ?',
                [*group, window, baseline, metric],
            ).df()
        if frame.empty:
            raise KeyError((metric, group, window, baseline))
        assert len(frame) == 1
        return dict(frame.iloc[0])


@pytest.fixture
def snap(settings: Settings) -> SnapshotReader:
    return SnapshotReader(settings.snapshot_path)


@dataclass
class MetricsEnv:
    """A home of its own (settings, a warehouse builder, a snapshot reader), shared by a module."""

    settings: Settings
    warehouse: WarehouseBuilder
    snap: SnapshotReader


def make_env(home: Path, *, record_days: bool = True, **overrides: object) -> MetricsEnv:
    settings = load_settings(home=home, **overrides)
    builder = WarehouseBuilder(settings.warehouse_path, record_days=record_days)
    return MetricsEnv(settings, builder, SnapshotReader(settings.snapshot_path))


@pytest.fixture(scope="module")
def module_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetricsEnv]:
    env = make_env(tmp_path_factory.mktemp("metrics") / "home")
    yield env
    env.warehouse.close()


@pytest.fixture
def env_factory(tmp_path: Path) -> Iterator[Callable[..., MetricsEnv]]:
    """Make extra homes in one test (e.g. an incremental and a full-rebuild twin)."""
    made: list[MetricsEnv] = []

    def factory(name: str, *, record_days: bool = True, **overrides: object) -> MetricsEnv:
        env = make_env(tmp_path / name, record_days=record_days, **overrides)
        made.append(env)
        return env

    yield factory
    for env in made:
        env.warehouse.close()
