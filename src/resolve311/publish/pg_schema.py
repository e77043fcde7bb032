"""What the PostgreSQL copy adds to the snapshot tables: keys, indexes, comments and views.

Pure data and SQL text; ``postgres.py`` applies it. The views are documented for
analysts in docs/consumers.md.
"""

from __future__ import annotations

from typing import Final

from resolve311.metrics.registry import BY_NAME as METRICS

_GROUP: Final = ("agency", "complaint_type", "borough")
_WB: Final = (*_GROUP, "window", "baseline")

#: Primary key of each table (a snapshot that broke one would fail in staging, before the swap).
PRIMARY_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "meta": ("key",),
    "status": ("source",),
    "runs": ("run_id",),
    "quarantine_summary": ("reason",),
    "agencies": ("agency",),
    "scorecard": (*_WB, "metric"),
    "calibration": ("agency", "window", "metric"),
    "heatmap_when": (*_WB, "weekday", "hour"),
    "heatmap_where": (*_WB, "cell_lat", "cell_lon"),
    "series": (*_GROUP, "period", "date"),
    "km_curve": (*_WB[:4], "cohort", "t_hours"),
    "metric_labels": ("metric",),
    "type_days": ("complaint_type", "date"),
    "areas": ("area",),
}

#: Extra indexes for the typical BI filters: one metric across agencies, a date range, flagged rows.
INDEXES: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "scorecard": (("metric", "window", "baseline"), ("anomaly",)),
    "series": (("period", "date"),),
    "heatmap_when": (("window", "baseline"),),
    "heatmap_where": (("window", "baseline"),),
}

TABLE_COMMENTS: Final[dict[str, str]] = {
    "meta": "Facts about this snapshot: as_of, as_of_date, generated_at (UTC), source, settings used.",
    "status": "Freshness: the last run, last success, whether the source is reachable.",
    "runs": "The newest 500 pipeline runs.",
    "quarantine_summary": "Rows that could not be loaded, by reason.",
    "agencies": "Every agency seen, with its name and request counts.",
    "scorecard": "One metric for one group, recent window vs baseline; '*' means all. See docs/metrics.md.",
    "heatmap_when": "Requests created per week by weekday (0 = Monday) and hour, recent vs baseline.",
    "heatmap_where": "Requests created per day by map cell, recent vs baseline.",
    "series": "Requests created and closed per day (last 400 days) and per week (all history).",
    "km_curve": "Kaplan-Meier curve: share of requests still open after t_hours.",
    "metric_labels": "Label and unit of every metric name used in scorecard.",
    "calibration": "The anomaly flag's threshold per agency, window and metric, measured on its own history.",
    "type_days": "Per complaint type and created day (last 400 days): created, closures by days to close, still open.",
    "areas": "Per value of the city's main area dimension: requests and the mean position of the located ones.",
}

COLUMN_COMMENTS: Final[dict[str, str]] = {
    "agency": "Agency acronym; '*' = all agencies.",
    "complaint_type": "Complaint type; '*' = all types.",
    "borough": "The city's main area (NYC borough, Chicago community area, SF supervisor district); '*' = all.",
    "window": "Recent window: 1d, 7d or 28d complete days up to as_of_date.",
    "baseline": "8w = same weekdays over the previous 8 weeks; 1y = same window 364 days earlier.",
    "metric": "Metric name; label and unit in metric_labels.",
    "recent": "Value in the recent window.",
    "historical": "Value in the baseline.",
    "diff_abs": "recent - historical.",
    "diff_rel": "(recent - historical) / historical; NULL when historical is 0 or NULL.",
    "score": "Robust score against the 8 baseline units (docs/metrics.md: Difference, robust score, anomaly).",
    "anomaly": "True when |score| is above the calibrated threshold and the sample is not small.",
    "small_sample": "The metric's own n is below min_group_size in the recent window or baseline.",
    "n_recent": "Size of the metric's own population in the recent window (closures, cohort, open requests...).",
    "n_historical": "Size of the metric's own population in the baseline.",
    "threshold": "Calibrated |score| threshold of the agency, window and metric; NULL = not calibrated.",
    "p_value": "Share of the agency's last-year scores at least this extreme.",
    "days_evaluated": "Last-year days with a score (small samples excluded).",
    "false_alarms": "Out-of-sample exceedances of the threshold on those days.",
    "false_alarm_rate": "false_alarms / days_evaluated: the flag's measured false-alarm rate.",
    "fixed_rule_rate": "Share of those days with |score| above the fixed anomaly_threshold.",
    "mean_score": "Mean score over those days (about 0 on ordinary history).",
    "weekday": "0 = Monday ... 6 = Sunday.",
    "hour": "Hour of day, 0-23, city time.",
    "difference": "recent - historical.",
    "cell_lat": "Latitude of the map cell centre.",
    "cell_lon": "Longitude of the map cell centre.",
    "period": "day or week (weeks start on Monday).",
    "date": "The day, or the Monday of the week.",
    "agency_name": "Agency name as last published by the city.",
    "requests_total": "Requests of this agency in the warehouse.",
    "first_created": "Created date (city time) of its first request.",
    "last_created": "Created date (city time) of its newest request.",
    "created": "Requests created.",
    "closed": "Requests closed.",
    "baseline_low": "p10 of the 8-week same-weekday baseline of created.",
    "baseline_mid": "Median of the 8-week same-weekday baseline of created.",
    "baseline_high": "p90 of the 8-week same-weekday baseline of created.",
    "cohort": "recent or historical (the pooled 8w baseline).",
    "t_hours": "Hours since creation.",
    "survival": "Share of the cohort still open at t_hours.",
    "at_risk": "Requests still open and observed at t_hours.",
    "label": "Human-readable metric name.",
    "unit": "count (per day), hours or share (0-1).",
    **{f"closed_d{k}": f"Requests closed {k - 1} to {k} days after creation." for k in range(1, 8)},
    "closed_d14": "Requests closed 7 to 14 days after creation.",
    "closed_d30": "Requests closed 14 to 30 days after creation.",
    "closed_d60": "Requests closed 30 to 60 days after creation.",
    "closed_d90": "Requests closed 60 to 90 days after creation.",
    "closed_later": "Requests closed 90 days or more after creation.",
    "closed_untimed": "Requests closed without a usable close time.",
    "open_now": "Requests still open when the snapshot was published.",
    "area": "A value of the city's main area dimension.",
    "requests": "Requests created in the last 400 days.",
    "located": "Of those, requests with a position inside the city.",
    "lat": "Mean latitude of the located requests.",
    "lon": "Mean longitude of the located requests.",
}


def metric_labels() -> list[tuple[str, str, str]]:
    """(metric, label, unit) for every scorecard metric, from the dashboard's metric table."""
    return [(name, info.label, info.unit) for name, info in METRICS.items()]


def views(schema: str) -> dict[str, str]:
    """Friendly views for analysts: name -> SELECT over the schema's tables."""
    s = f'"{schema}"'
    labelled = f"""SELECT sc.*, ml.label AS metric_label, ml.unit,
               (SELECT value FROM {s}.meta WHERE key = 'as_of_date')::date AS as_of_date
        FROM {s}.scorecard sc LEFT JOIN {s}.metric_labels ml USING (metric)"""
    return {
        "agency_scorecard": f"""SELECT l.agency, a.agency_name, l."window", l.baseline, l.metric,
               l.metric_label, l.unit, l.recent, l.historical, l.diff_abs, l.diff_rel, l.score,
               l.anomaly, l.threshold, l.p_value, l.small_sample, l.n_recent, l.n_historical, l.as_of_date
        FROM ({labelled}) l LEFT JOIN {s}.agencies a USING (agency)
        WHERE l.complaint_type = '*' AND l.borough = '*' AND l.agency <> '*'""",
        "city_scorecard": f"""SELECT "window", baseline, metric, metric_label, unit, recent, historical,
               diff_abs, diff_rel, score, anomaly, n_recent, n_historical, as_of_date
        FROM ({labelled}) l WHERE agency = '*' AND complaint_type = '*' AND borough = '*'""",
        "anomalies": f"""SELECT agency, complaint_type, borough, "window", baseline, metric, metric_label,
               unit, recent, historical, score, as_of_date
        FROM ({labelled}) l WHERE anomaly""",
        "daily_requests": f"""SELECT agency, complaint_type, borough, date, created, closed,
               baseline_low, baseline_mid, baseline_high
        FROM {s}.series WHERE period = 'day'""",
        "heatmap_when_named": f"""SELECT agency, complaint_type, borough, "window", baseline, weekday,
               (ARRAY['Monday','Tuesday','Wednesday','Thursday','Friday','Saturday','Sunday'])[weekday + 1]
                 AS weekday_name, hour, recent, historical, difference
        FROM {s}.heatmap_when""",
    }
