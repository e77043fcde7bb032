"""The digest model and its renderings are pure functions of the snapshot tables."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

from resolve311.digest.chart import HEIGHT, WIDTH, render_png
from resolve311.digest.email_render import data_uri, email_message, html_body, plain_text
from resolve311.digest.model import MAX_MOVEMENTS, build_digest
from resolve311.digest.signals import DayPoint, SnapshotTables
from resolve311.digest.webhook_render import payload
from resolve311.settings import Subscriber

BASE = "https://dash.example"
HOSTILE = '<img src=x onerror="alert(1)">Evil & Co'


def row(agency: str, metric: str, score: float, **over: Any) -> dict[str, Any]:
    out = {
        "agency": agency,
        "metric": metric,
        "window": "7d",
        "baseline": "8w",
        "recent": 120.0,
        "historical": 100.0,
        "diff_abs": 20.0,
        "diff_rel": 0.2,
        "score": score,
        "threshold": 4.2,
        "p_value": 0.004,
        "anomaly": abs(score) > 4.2,
        "small_sample": False,
        "n_recent": 700,
        "n_historical": 5600,
    }
    return {**out, **over}


def tables(*rows: dict[str, Any], rate: float | None = 0.02) -> SnapshotTables:
    """Snapshot tables; each row's agency × window × metric measured at ``rate`` (HPD's TTC at 0.5%)."""
    series = {"HPD": [DayPoint(f"2026-11-{d:02d}", 50.0 + d, 40.0, 70.0) for d in range(1, 29)]}
    calibration = {
        (str(r["agency"]), str(r["window"]), str(r["metric"])): {
            "false_alarm_rate": 0.005 if (r["agency"], r["metric"]) == ("HPD", "ttc_median_h") else rate,
            "days_evaluated": 330,
        }
        for r in rows
        if rate is not None
    }
    return SnapshotTables(
        meta={"as_of_date": "2026-11-28", "anomaly_rate_history": "0.0445"},  # legacy: never quoted
        agency_names={"HPD": "Housing", "DSNY": "Sanitation", "EVIL": HOSTILE},
        scorecard=list(rows),
        series=series,
        calibration=calibration,
    )


def sub(**over: Any) -> Subscriber:
    return Subscriber(**{"name": "ops", "emails": ["ops@x.example"], **over})


def test_only_flags_that_are_not_small_samples_move_strongest_first() -> None:
    t = tables(
        row("HPD", "ttc_median_h", 5.0),
        row("DSNY", "backlog_end", 9.0),
        row("HPD", "created_per_day", 2.0),  # not flagged
        row("DSNY", "ttc_median_h", 12.0, small_sample=True, anomaly=True),  # small: never flagged
        row("DSNY", "closed_per_day", 9.0, threshold=None, anomaly=False),  # not calibrated: never flagged
        row("HPD", "ttc_median_h", 20.0, window="1d"),  # another window
    )
    d = build_digest(sub(), t, BASE)
    assert [(m.agency, m.signal.metric) for m in d.movements] == [
        ("DSNY", "backlog_end"),
        ("HPD", "ttc_median_h"),
    ]
    assert d.movements[1].link == f"{BASE}/agency?agency=HPD&window=7d&baseline=8w"
    assert d.title == "2 flags in 2 agencies — 2026-11-28"
    # flags ranked by |score| / the agency's own threshold, not by raw score
    assert d.movements[0].signal.strength == 9.0 / 4.2


def test_the_summary_line_says_how_many_flags_chance_alone_would_give() -> None:
    t = tables(
        row("HPD", "ttc_median_h", 5.0),  # measured at 0.5%
        row("DSNY", "backlog_end", 1.0),  # 2%
        row("DSNY", "ttc_median_h", 12.0, small_sample=True),  # small: not tested
        row("HPD", "km_median_h", 9.0, threshold=None, anomaly=False),  # not calibrated: not tested
    )
    d = build_digest(sub(), t, BASE)
    assert (d.tested, round(d.expected, 3)) == (2, 0.025)
    line = "1 flagged value at 1 agency in the 7d window; an ordinary day would flag about 0.0 of these 2 values by chance."
    assert d.headline == line and line in plain_text(d) and line in payload(d, "k")["text"]


def test_subscriber_follows_agencies_and_metrics() -> None:
    t = tables(
        row("HPD", "ttc_median_h", 5.0), row("DSNY", "ttc_median_h", 9.0), row("HPD", "backlog_end", 6.0)
    )
    d = build_digest(sub(agencies=["HPD"], metrics=["ttc_median_h"]), t, BASE)
    assert [(m.agency, m.signal.metric) for m in d.movements] == [("HPD", "ttc_median_h")]


def test_the_sentence_says_what_moved_how_much_against_what_with_n_and_alarm_rate() -> None:
    d = build_digest(sub(), tables(row("HPD", "ttc_median_h", 5.0)), BASE)
    text = plain_text(d)
    assert "Time to close, median 5.0 d vs 4.2 d (+20.0 h, +20%), worse than the 8-week baseline" in text
    assert "n = 700 requests validly closed in the window (baseline 5,600)" in text  # the registry's words
    assert "score +5.0 beyond its calibrated threshold 4.2, p = 0.004" in text
    # THIS agency × window × metric's measured rate, not the legacy meta rate (4.45%)
    assert "this flag fires on 0.5% of ordinary days (measured for this agency, metric and window" in text
    assert "4.5%" not in text and "agency-days" not in text
    (flag,) = payload(d, "k")["metadata"]["event_payload"]["flags"]
    assert (flag["false_alarm_rate"], flag["threshold"], flag["p_value"]) == (0.005, 4.2, 0.004)
    assert flag["n_counts"] == "requests validly closed in the window"


def test_direction_of_worse_follows_the_metric() -> None:
    t = tables(
        row("HPD", "closed_within_3d", -5.0, diff_abs=-0.1, recent=0.3, historical=0.4, diff_rel=-0.25)
    )
    (m,) = build_digest(sub(), t, BASE).movements
    assert m.verdict == "worse"
    t = tables(row("HPD", "created_per_day", 5.0))
    (m,) = build_digest(sub(), t, BASE).movements
    assert m.verdict == "up"  # more requests is neither better nor worse


def test_quiet_day_line_or_skip() -> None:
    quiet = tables(row("HPD", "ttc_median_h", 1.0))
    line = build_digest(sub(), quiet, BASE)
    assert line.quiet and not line.skip
    assert (
        "Nothing unusual in the 7d window: no agency moved beyond what its own history makes ordinary "
        "(an ordinary day would flag about 0.0 of these 1 values by chance)."
    ) in plain_text(line)
    assert build_digest(sub(when_quiet="skip"), quiet, BASE).skip
    # a summary subscriber always gets the summary
    summary = build_digest(sub(when_quiet="skip", sensitivity="summary"), quiet, BASE)
    assert not summary.skip and summary.summary[0].agency == "HPD"


def test_a_year_earlier_baseline_is_never_flagged_and_says_why() -> None:
    d = build_digest(
        sub(baseline="1y"), tables(row("HPD", "ttc_median_h", 5.0, baseline="1y", anomaly=False)), BASE
    )
    assert d.quiet and "8-week baseline only" in plain_text(d)


def test_unmeasured_false_alarm_rate_is_said_not_invented() -> None:
    d = build_digest(sub(), tables(row("HPD", "ttc_median_h", 5.0), rate=None), BASE)
    assert "false-alarm rate not measured yet" in plain_text(d)


def test_many_flags_are_capped_with_a_count_of_the_rest() -> None:
    rows = [row(f"A{i:02d}", "ttc_median_h", 5.0 + i) for i in range(MAX_MOVEMENTS + 3)]
    d = build_digest(sub(), tables(*rows), BASE)
    assert len(d.movements) == MAX_MOVEMENTS and d.more == 3
    assert "and 3 more flag(s)" in plain_text(d)


def test_hostile_names_are_escaped_in_html_and_slack_text() -> None:
    d = build_digest(sub(), tables(row("EVIL", "ttc_median_h", 5.0)), BASE)
    html = html_body(d, data_uri)
    assert "<img src=x" not in html and "&lt;img src=x" in html
    body = payload(d, "key")
    assert "<img" not in body["text"] and "&lt;img" in body["text"]
    assert "&amp; Co" in body["text"]


def test_webhook_payload_shape_and_teams_links() -> None:
    d = build_digest(
        sub(webhook_url="https://hooks.example/x"), tables(row("HPD", "ttc_median_h", 5.0)), BASE
    )
    body = payload(d, "key")
    assert set(body) == {"text", "blocks", "metadata"}
    assert json.loads(json.dumps(body)) == body
    assert f"<{BASE}/agency?agency=HPD&amp;window=7d&amp;baseline=8w|Housing>" in body["text"]
    teams = build_digest(
        sub(webhook_url="https://x.example/y", webhook_format="teams"),
        tables(row("HPD", "ttc_median_h", 5.0)),
        BASE,
    )
    assert f"[Housing]({BASE}/agency?agency=HPD&window=7d&baseline=8w)" in payload(teams, "k")["text"]


def test_chart_is_a_valid_png_of_the_declared_size() -> None:
    d = build_digest(sub(), tables(row("HPD", "ttc_median_h", 5.0)), BASE)
    (chart,) = d.charts
    png = render_png(chart)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (WIDTH, HEIGHT)
    idat = png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    assert len(raw) == HEIGHT * (1 + WIDTH * 3)
    assert len(set(raw[1 : 1 + WIDTH * 3])) > 1 or len(set(raw)) > 2  # not a blank image


def test_email_message_is_multipart_alternative_with_related_images() -> None:
    d = build_digest(sub(), tables(row("HPD", "ttc_median_h", 5.0)), BASE)
    msg = email_message(d, to="ops@x.example", sender="bot@r.example", message_id="<digest-k@r.example>")
    kinds = [p.get_content_type() for p in msg.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"]
    assert msg["Message-ID"] == "<digest-k@r.example>" and msg["Auto-Submitted"] == "auto-generated"
