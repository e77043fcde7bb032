"""Build a synthetic serving snapshot that follows docs/snapshot.md exactly.

Deterministic (seeded) and plausible: several agencies of different sizes, one
that slipped sharply (anomaly), one too small to rank, complaint types and
boroughs per agency, every table of the contract. Written under a temporary
name and renamed into place, like the real publisher does.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

import resolve311.metrics
from e2e.snapshot_shapes import (
    BASELINES,
    BOROUGHS,
    DEFAULT_AGENCIES,
    GRID_DEG,
    HOSTILE_NAME,
    HOSTILE_TYPE,
    WINDOWS,
    AgencySpec,
    Group,
    SnapshotSpec,
    heatmap_when,
    heatmap_where,
    km,
    series,
    type_days,
)

#: The publisher's DDL: the factory fills exactly the tables and types it defines.
DDL = Path(resolve311.metrics.__file__).parent / "snapshot_schema.sql"


def build_snapshot(path: Path, spec: SnapshotSpec | None = None) -> Path:
    """Write a complete snapshot to ``path`` (temp file + rename) and return it."""
    spec = spec or SnapshotSpec()
    if spec.hostile_text:
        spec = _with_hostile_agency(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    rng = np.random.default_rng(spec.seed)
    groups = _groups(spec)
    tables = {
        "meta": _meta(spec),
        "status": _status(spec),
        "runs": _runs(spec),
        "quarantine_summary": _quarantine(spec),
        "agencies": _agencies(spec),
        "scorecard": _scorecard(spec, groups, rng),
        "heatmap_when": heatmap_when(spec, groups, rng),
        "heatmap_where": heatmap_where(spec, groups, rng),
        "series": series(spec, groups, rng),
        "km_curve": km(spec, groups),
        "type_days": type_days(spec, rng),
        "areas": _areas(spec),
    }
    tables["calibration"] = _calibration(tables["scorecard"])
    con = duckdb.connect(str(tmp))
    try:
        con.execute(DDL.read_text(encoding="utf-8"))
        for name, frame in tables.items():
            con.register("frame", _typed_nulls(frame))
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
            con.unregister("frame")
    finally:
        con.close()
    os.replace(tmp, path)
    return path


def _typed_nulls(frame: pd.DataFrame) -> pd.DataFrame:
    """Give all-NULL columns a real type (timestamps for *_since/*_at, else text)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].isna().all() and out[col].dtype == object:
            timestamp = col.endswith(("_since", "_at"))
            out[col] = pd.Series(
                [pd.NaT if timestamp else None] * len(out), dtype="datetime64[us]" if timestamp else "string"
            )
    return out


def _with_hostile_agency(spec: SnapshotSpec) -> SnapshotSpec:
    hostile = AgencySpec("EVIL", HOSTILE_NAME, 90, 0.3, 50.0, (HOSTILE_TYPE, "Plain Type"))
    return replace(spec, agencies=(*spec.agencies, hostile), hostile_text=False)


def _area_shares(spec: SnapshotSpec) -> list[float]:
    if list(spec.areas) == list(BOROUGHS):
        return [0.3, 0.28, 0.24, 0.12, 0.06]
    weights = [r * r for _, _, r in spec.areas.values()]
    return [w / sum(weights) for w in weights]


def _groups(spec: SnapshotSpec) -> list[Group]:
    out: list[Group] = []
    names, shares = tuple(spec.areas), _area_shares(spec)
    for a in spec.agencies:
        out.append(Group(a.code, "*", "*", 1.0, a, names))
        for i, t in enumerate(a.types):
            out.append(Group(a.code, t, "*", 0.5 / (i + 1), a, names))
        for j, b in enumerate(names):
            out.append(Group(a.code, "*", b, shares[j], a, (b,)))
    return out


def _areas(spec: SnapshotSpec) -> pd.DataFrame:
    total = sum(a.per_day for a in spec.agencies) * 400
    rows = [
        {
            "area": name,
            "requests": int(total * share),
            "located": int(total * share * 0.97),
            "lat": lat,
            "lon": lon,
        }
        for (name, (lat, lon, _)), share in zip(spec.areas.items(), _area_shares(spec), strict=True)
    ]
    return pd.DataFrame(rows)


def _now(spec: SnapshotSpec) -> datetime:
    return datetime.combine(spec.as_of_date + timedelta(days=1), datetime.min.time()) + timedelta(hours=11)


def _meta(spec: SnapshotSpec) -> pd.DataFrame:
    rows = {
        "as_of": f"{spec.as_of_date.isoformat()}T23:58:12",
        "as_of_date": spec.as_of_date.isoformat(),
        "generated_at": _now(spec).isoformat() + "Z",
        "source": spec.source,
        "min_group_size": "30",
        "windows": ",".join(spec.windows),
        "default_window": "7d",
        "grid_deg": str(GRID_DEG),
        "schema_version": "2",
        "anomaly_target_rate": "0.01",
        "timezone": spec.timezone,
    }
    return pd.DataFrame({"key": list(rows), "value": list(rows.values())})


def _status(spec: SnapshotSpec) -> pd.DataFrame:
    now = _now(spec)
    down = spec.unavailable_since
    row = {
        "source": spec.source,
        "as_of": f"{spec.as_of_date.isoformat()}T23:58:12",
        "last_run_id": "run-0042",
        "last_run_kind": "update",
        "last_run_status": "source_unavailable" if down else "success",
        "last_run_started_at": now,
        "last_run_ended_at": now + timedelta(minutes=2),
        "last_success_at": (down - timedelta(hours=1)) if down else now + timedelta(minutes=2),
        "unavailable_since": down,
        "watermark": now - timedelta(hours=5),
        "requests_total": sum(int(a.per_day * 1100) for a in spec.agencies),
        "quarantine_total": 57,
        "last_error": "HTTP 503 from source" if down else None,
    }
    return pd.DataFrame([row])


def _runs(spec: SnapshotSpec) -> pd.DataFrame:
    now = _now(spec)
    rows = []
    for i in range(6):
        start = now - timedelta(days=i)
        failed = i == 0 and spec.unavailable_since is not None
        rows.append(
            {
                "run_id": f"run-{42 - i:04d}",
                "source": spec.source,
                "kind": "backfill" if i == 5 else "update",
                "started_at": start,
                "ended_at": start + timedelta(minutes=2),
                "status": "source_unavailable" if failed else "success",
                "rows_new": 0 if failed else 9000 - i * 120,
                "rows_changed": 0 if failed else 3100 + i * 40,
                "rows_unchanged": 0 if failed else 500,
                "rows_quarantined": 0 if failed else 7 + i,
                "watermark_before": start - timedelta(days=1, hours=5),
                "watermark_after": start - timedelta(hours=5),
                "full_replace": False,
                "error": "HTTP 503 from source" if failed else None,
            }
        )
    return pd.DataFrame(rows)


def _quarantine(spec: SnapshotSpec) -> pd.DataFrame:
    seen = _now(spec)
    return pd.DataFrame(
        {
            "reason": ["closed_before_created", "missing_created_date", "bad_coordinates"],
            "rows": [41, 3, 13],
            "last_seen": [seen, seen - timedelta(days=3), seen - timedelta(days=1)],
        }
    )


def _agencies(spec: SnapshotSpec) -> pd.DataFrame:
    first = datetime(2010, 1, 1, 0, 5)
    last = datetime.combine(spec.as_of_date, datetime.min.time()) + timedelta(hours=23, minutes=58)
    return pd.DataFrame(
        [
            {
                "agency": a.code,
                "agency_name": a.name,
                "requests_total": int(a.per_day * 1100),
                "first_created": first,
                "last_created": last,
            }
            for a in spec.agencies
        ]
    )


def _metric_values(
    g: Group, days: int, rng: np.random.Generator
) -> list[tuple[str, float | None, float | None]]:
    a = g.spec
    hist_created = a.per_day * g.share
    shift = a.shift * (1.4 if g.complaint_type == a.types[0] else 0.7 if g.complaint_type != "*" else 1.0)
    noise = rng.normal(0, 0.03 / math.sqrt(days))
    rec_created = hist_created * (1 + shift + noise)
    slow = 1 + max(shift, 0) * 0.8
    hist_closed, rec_closed = hist_created * 0.97, hist_created * (0.97 - shift * 0.3)
    tau_h, tau_r = a.ttc_h, a.ttc_h * slow

    def within(tau: float, hours: float) -> float:
        return 1 - math.exp(-hours / (tau * 1.44))

    pairs: list[tuple[str, float | None, float | None]] = [
        ("created_per_day", rec_created, hist_created),
        ("closed_per_day", rec_closed, hist_closed),
        ("net_backlog_change_per_day", rec_created - rec_closed, hist_created - hist_closed),
        ("backlog_end", hist_created * 4 * slow, hist_created * 4),
        ("backlog_age_median_h", tau_r * 1.5, tau_h * 1.5),
        ("backlog_age_p90_h", tau_r * 6, tau_h * 6),
        ("ttc_median_h", tau_r, tau_h),
        ("ttc_p90_h", tau_r * 3.3, tau_h * 3.3),
        ("closed_within_1d", within(tau_r, 24), within(tau_h, 24)),
        ("closed_within_3d", within(tau_r, 72), within(tau_h, 72)),
        ("closed_within_7d", within(tau_r, 168), within(tau_h, 168)),
        ("closed_within_30d", None if days == 28 else within(tau_r, 720), within(tau_h, 720)),
        ("km_median_h", tau_r * 1.05, tau_h * 1.05),
        ("on_time_share", None, None),
        ("admin_close_share", 0.04, 0.035),
        ("dirty_share", 0.012, 0.011),
    ]
    return pairs


def _scorecard(spec: SnapshotSpec, groups: list[Group], rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for g in groups:
        for w in spec.windows:
            days = WINDOWS[w]
            for b in BASELINES:
                n_rec = round(g.spec.per_day * g.share * days)
                n_hist = n_rec * (8 if b == "8w" else 1)
                small = n_rec < 20 or n_hist < 20
                for metric, rec, hist in _metric_values(g, days, rng):
                    diff = None if rec is None or hist is None else rec - hist
                    rel = None if diff is None or not hist else diff / hist
                    score = None if rel is None else rel / 0.06 * math.sqrt(days) / 2
                    rows.append(
                        {
                            "agency": g.agency,
                            "complaint_type": g.complaint_type,
                            "borough": g.borough,
                            "window": w,
                            "baseline": b,
                            "metric": metric,
                            "recent": rec,
                            "historical": hist,
                            "diff_abs": diff,
                            "diff_rel": rel,
                            "score": score,
                            "anomaly": bool(score is not None and abs(score) > 3.5 and not small),
                            "small_sample": small,
                            "n_recent": n_rec,
                            "n_historical": n_hist,
                        }
                    )
    return _calibrated(_city_rows(pd.DataFrame(rows)))


#: Calibrated thresholds of the factory: per metric, as a real year of history would give (5–8).
THRESHOLDS = {"created_per_day": 3.6, "ttc_median_h": 5.0, "backlog_end": 6.0}
NOT_CALIBRATED = ("backlog_age_median_h", "backlog_age_p90_h", "km_median_h", "on_time_share")


def _calibrated(frame: pd.DataFrame) -> pd.DataFrame:
    """Thresholds, p-values and flags as the calibration would publish them (8w only)."""
    frame = frame.copy()
    eight = frame["baseline"] == "8w"
    calibrated = ~frame["metric"].isin(NOT_CALIBRATED)
    frame["threshold"] = frame["metric"].map(THRESHOLDS).fillna(4.0).where(eight & calibrated)
    z = frame["score"].abs()
    frame["p_value"] = (np.exp(-z.astype(float) / 1.5)).clip(upper=1.0).where(eight & frame["score"].notna())
    flagged = (z > frame["threshold"]).fillna(False)
    frame["anomaly"] = flagged.astype(bool) & ~frame["small_sample"].astype(bool)
    return frame


def _calibration(scorecard: pd.DataFrame) -> pd.DataFrame:
    """One calibration row per agency × window × metric with a threshold (rate 0.4–0.8%)."""
    rows = scorecard[
        (scorecard["complaint_type"] == "*") & (scorecard["borough"] == "*") & scorecard["threshold"].notna()
    ]
    out = rows[["agency", "window", "metric", "threshold"]].drop_duplicates(["agency", "window", "metric"])
    out = out.assign(days_evaluated=365, fixed_rule_rate=0.05, mean_score=0.02)
    out["false_alarms"] = (out["metric"].str.len() % 3 + 1).astype("int64")  # 1..3 of 365
    out["false_alarm_rate"] = out["false_alarms"] / out["days_evaluated"]
    return out


def _city_rows(frame: pd.DataFrame) -> pd.DataFrame:
    agency_level = frame[(frame.complaint_type == "*") & (frame.borough == "*")]
    keys = ["window", "baseline", "metric"]
    city = agency_level.groupby(keys, as_index=False)[
        ["recent", "historical", "n_recent", "n_historical"]
    ].sum(min_count=1)
    city = city.assign(agency="*", complaint_type="*", borough="*")
    city["diff_abs"] = city.recent - city.historical
    city["diff_rel"] = city.diff_abs / city.historical.replace(0, np.nan)
    city["score"] = city.diff_rel / 0.06
    city["anomaly"] = city.score.abs() > 3.5
    city["small_sample"] = False
    return pd.concat([frame, city[frame.columns]], ignore_index=True)


__all__ = ["DEFAULT_AGENCIES", "HOSTILE_NAME", "HOSTILE_TYPE", "AgencySpec", "SnapshotSpec", "build_snapshot"]
