"""Every read of the serving snapshot; each one touches a small pre-aggregated table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from resolve311.web.crosscity import COUNTS
from resolve311.web.filters import ALL, Filters, Kind, Period, Variant
from resolve311.web.snapshot import Row, SnapshotReader

_GROUP = "agency = ? AND complaint_type = ? AND borough = ?"
_VIEW = _GROUP + ' AND "window" = ? AND baseline = ?'


@dataclass(frozen=True)
class Freshness:
    """What the freshness banner says."""

    as_of: str | None
    as_of_date: str | None
    generated_at: str | None
    source: str | None
    last_success_at: str | None
    unavailable_since: str | None
    last_run_id: str | None
    last_run_status: str | None
    last_run_started_at: str | None
    last_run_ended_at: str | None
    watermark: str | None
    last_error: str | None


def text(value: object) -> str | None:
    """A snapshot value as ISO-ish text (timestamps and dates included)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    iso = getattr(value, "isoformat", None)
    return str(iso()) if callable(iso) else str(value)


def meta(reader: SnapshotReader) -> dict[str, str]:
    return {r["key"]: r["value"] for r in reader.rows("SELECT key, value FROM meta")}


def metrics_state(reader: SnapshotReader) -> tuple[str | None, str | None]:
    """(meta.metrics_status, meta.metrics_note): why metrics may be missing or old (None, None if fine)."""
    info = meta(reader)
    state = info.get("metrics_status")
    return (state, info.get("metrics_note")) if state and state != "published" else (state, None)


def freshness(reader: SnapshotReader) -> Freshness:
    info = meta(reader)
    rows = reader.rows("SELECT * FROM status LIMIT 1")
    status = rows[0] if rows else {}
    return Freshness(
        as_of=info.get("as_of") or text(status.get("as_of")),
        as_of_date=info.get("as_of_date"),
        generated_at=info.get("generated_at"),
        source=info.get("source") or text(status.get("source")),
        **{
            k: text(status.get(k))
            for k in (
                "last_success_at",
                "unavailable_since",
                "last_run_id",
                "last_run_status",
                "last_run_started_at",
                "last_run_ended_at",
                "watermark",
                "last_error",
            )
        },
    )


def agencies(reader: SnapshotReader) -> list[Row]:
    return reader.rows(
        "SELECT agency, agency_name, requests_total, first_created, last_created FROM agencies ORDER BY agency"
    )


def agency_exists(reader: SnapshotReader, code: str) -> bool:
    return bool(reader.rows("SELECT 1 FROM agencies WHERE agency = ?", [code]))


def agency_name(reader: SnapshotReader, code: str) -> str:
    rows = reader.rows("SELECT agency_name FROM agencies WHERE agency = ?", [code])
    return str(rows[0]["agency_name"]) if rows and rows[0]["agency_name"] else code


def slices(reader: SnapshotReader, code: str, column: str) -> list[str]:
    """The complaint types (or areas: the ``borough`` column) the snapshot has a breakdown for."""
    if column not in ("complaint_type", "borough"):
        raise ValueError(column)
    other = "borough" if column == "complaint_type" else "complaint_type"
    sql = (
        f"SELECT DISTINCT {column} AS v FROM scorecard WHERE agency = ? AND {column} <> '*' "
        f"AND {other} = '*' ORDER BY v"
    )
    return [str(r["v"]) for r in reader.rows(sql, [code])]


def scorecard(reader: SnapshotReader, f: Filters) -> list[Row]:
    """Every metric of one group, window and baseline."""
    sql = f"SELECT * FROM scorecard WHERE {_VIEW} ORDER BY metric"
    return reader.rows(sql, [*f.group(), f.window, f.baseline])


def overview(reader: SnapshotReader, f: Filters, metrics: tuple[str, ...]) -> list[Row]:
    """The headline metrics of every agency (agency level), for one window and baseline."""
    marks = ", ".join("?" for _ in metrics)
    sql = (
        "SELECT s.*, a.agency_name FROM scorecard s JOIN agencies a USING (agency) "
        "WHERE s.complaint_type = '*' AND s.borough = '*' AND s.\"window\" = ? AND s.baseline = ? "
        f"AND s.metric IN ({marks}) ORDER BY s.agency"
    )
    return reader.rows(sql, [f.window, f.baseline, *metrics])


def drivers(reader: SnapshotReader, f: Filters, metric: str = "created_per_day") -> list[Row]:
    """One metric for every complaint type of the agency: what drives the change."""
    sql = (
        "SELECT complaint_type, recent, historical, diff_abs, diff_rel, score, anomaly, small_sample, "
        "n_recent, n_historical FROM scorecard WHERE agency = ? AND complaint_type <> '*' "
        "AND borough = '*' AND \"window\" = ? AND baseline = ? AND metric = ? "
        "ORDER BY abs(diff_abs) DESC NULLS LAST"
    )
    return reader.rows(sql, [f.agency or ALL, f.window, f.baseline, metric])


def heatmap(reader: SnapshotReader, f: Filters, kind: Kind, variant: Variant) -> pd.DataFrame:
    keys = "weekday, hour" if kind == "when" else "cell_lat, cell_lon"
    sql = f"SELECT {keys}, {variant} AS value FROM heatmap_{kind} WHERE {_VIEW} ORDER BY {keys}"
    return reader.frame(sql, [*f.group(), f.window, f.baseline])


def heatmap_variants(reader: SnapshotReader, f: Filters, kind: Kind) -> pd.DataFrame:
    """One heat map kind with all three variants as columns (one scan instead of three)."""
    keys = "weekday, hour" if kind == "when" else "cell_lat, cell_lon"
    sql = f"SELECT {keys}, recent, historical, difference FROM heatmap_{kind} WHERE {_VIEW} ORDER BY {keys}"
    return reader.frame(sql, [*f.group(), f.window, f.baseline])


def series(reader: SnapshotReader, f: Filters, period: Period) -> pd.DataFrame:
    sql = (
        "SELECT CAST(date AS VARCHAR) AS date, created, closed, baseline_low, baseline_mid, baseline_high FROM series "
        f"WHERE {_GROUP} AND period = ? ORDER BY date"
    )
    return reader.frame(sql, [*f.group(), period])


def km_curve(reader: SnapshotReader, f: Filters) -> pd.DataFrame:
    sql = (
        "SELECT cohort, t_hours, survival, at_risk FROM km_curve "
        f'WHERE {_GROUP} AND "window" = ? ORDER BY cohort, t_hours'
    )
    return reader.frame(sql, [*f.group(), f.window])


def runs(reader: SnapshotReader, limit: int = 50) -> list[Row]:
    return reader.rows("SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", [limit])


def quarantine(reader: SnapshotReader) -> list[Row]:
    return reader.rows('SELECT reason, "rows", last_seen FROM quarantine_summary ORDER BY "rows" DESC')


def grid_deg(reader: SnapshotReader) -> float:
    try:
        return float(meta(reader).get("grid_deg", "0.01"))
    except ValueError:
        return 0.01


def false_alarm_rates(reader: SnapshotReader, window: str | None = None) -> dict[str, dict[str, float]]:
    """Measured false-alarm rate per window → metric, pooled over agencies (the calibration table).

    Σ false alarms / Σ days evaluated over every agency (the city row left out);
    empty for a snapshot without calibration.
    """
    try:
        rows = reader.rows(
            'SELECT "window", metric, sum(false_alarms) AS alarms, sum(days_evaluated) AS days '
            "FROM calibration WHERE agency <> '*' AND false_alarms IS NOT NULL "
            'GROUP BY ALL ORDER BY "window", metric'
        )
    except duckdb.CatalogException:  # a snapshot written before the calibration table existed
        return {}
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        if (window is None or r["window"] == window) and r["days"]:
            out.setdefault(str(r["window"]), {})[str(r["metric"])] = float(r["alarms"]) / float(r["days"])
    return out


#: At most this many areas are named on the "where" map (the busiest; Chicago has 77).
MAX_AREA_LABELS = 15


def area_positions(reader: SnapshotReader, limit: int = MAX_AREA_LABELS) -> dict[str, tuple[float, float]]:
    """Label positions of the city's busiest areas (mean located position; empty without the table)."""
    try:
        rows = reader.rows(
            "SELECT area, lat, lon FROM areas WHERE lat IS NOT NULL AND area <> 'Unspecified' "
            "ORDER BY requests DESC, area LIMIT ?",
            [limit],
        )
    except duckdb.CatalogException:  # a snapshot written before the areas table existed
        return {}
    return {str(r["area"]): (float(r["lat"]), float(r["lon"])) for r in rows}


def type_window_sums(reader: SnapshotReader, bounds: dict[str, tuple[date, date]]) -> list[Row]:
    """Per complaint type: every count of ``type_days`` summed per window (empty without the table)."""
    parts, params = [], []
    for window, (first, last) in bounds.items():
        for col in COUNTS:
            parts.append(f'sum({col}) FILTER (WHERE date BETWEEN ? AND ?) AS "{window}:{col}"')
            params += [first, last]
    sql = f"SELECT complaint_type, {', '.join(parts)}, sum(open_now) AS open_now FROM type_days GROUP BY ALL"
    try:
        return reader.rows(sql, params)
    except duckdb.CatalogException:  # a snapshot written before the table existed
        return []


def history_start(reader: SnapshotReader) -> date | None:
    """The first created day ``type_days`` holds (None: empty or absent)."""
    try:
        rows = reader.rows("SELECT min(date) AS first FROM type_days")
    except duckdb.CatalogException:
        return None
    first = rows[0]["first"] if rows else None
    return first if isinstance(first, date) else None
