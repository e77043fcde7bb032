"""Digests go out over a real SMTP server and a real webhook receiver, once per target and day."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage

import duckdb
import plotly.utils

from integration.digest.conftest import DigestEnv
from resolve311.digest.email_render import plain_text
from resolve311.digest.model import build_digest
from resolve311.digest.send import load_tables, send_digests
from resolve311.settings import load_settings
from resolve311.web.app import create_app
from resolve311.web.pages import health

EXPECTED_TO = {"ops@hpd.example", "chief@hpd.example", "analyst@city.example", "good@x.example"}


def ledger(env: DigestEnv) -> dict[tuple[str, str], tuple[str, int]]:
    with duckdb.connect(str(env.home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT subscriber, target, state, attempts FROM digest_deliveries").fetchall()
    return {(s, t): (state, n) for s, t, state, n in rows}


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def test_each_target_gets_one_message_and_a_rerun_sends_nothing(digest_env: DigestEnv) -> None:
    first = send_digests(load_settings())
    assert first.as_of_date == "2026-11-27"
    received = [m["To"] for m in digest_env.smtp.sink.messages]
    assert sorted(received) == sorted(EXPECTED_TO)
    assert len(digest_env.webhook.posts) == 1

    again = send_digests(load_settings())
    assert len(digest_env.smtp.sink.messages) == len(EXPECTED_TO)
    assert len(digest_env.webhook.posts) == 1
    assert {o.state for o in again.outcomes} == {"already sent", "already rejected", "skipped"}
    states = ledger(digest_env)
    assert states[("mixed", "bad@x.example")][0] == "rejected"
    assert states[("nypd-quiet", "quiet@nypd.example")] == ("skipped", 0)


def test_email_is_multipart_with_an_inline_chart_and_deep_links(digest_env: DigestEnv) -> None:
    send_digests(load_settings(), subscriber="hpd-ops")
    msg = digest_env.smtp.sink.to("ops@hpd.example")[0]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None and "Time to close, median" in str(text.get_content())
    body = html_of(msg)
    cids = re.findall(r'src="cid:([^"]+)"', body)
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert cids and len(images) == len(cids)
    assert {str(p["Content-ID"]).strip("<>") for p in images} == set(cids)
    assert all(p.get_content()[:8] == b"\x89PNG\r\n\x1a\n" for p in images)
    # no external assets: every src is a cid:, links go to the dashboard's own views
    assert re.findall(r'src="(?!cid:)', body) == []
    assert "https://dash.example.org/agency?agency=HPD&amp;window=7d&amp;baseline=8w" in body
    # what moved, by how much, against which baseline, with its n and the flag's false-alarm rate
    assert "vs the 8-week baseline" in str(text.get_content())
    assert "n = 9,800 requests validly closed in the window (baseline 78,400)" in body  # registry wording
    assert "score +6.7 beyond its calibrated threshold 5.0, p = 0.011" in body
    assert "this flag fires on 0.3% of ordinary days (measured for this agency, metric and window" in body
    assert "4.5%" not in body  # the legacy fixed-rule rate in meta is never quoted
    assert "5 flagged values at 2 agencies in the 7d window; an ordinary day would flag about" in body
    assert msg["Message-ID"].startswith("<digest-") and msg["Message-ID"].endswith("@resolve311.example>")


def test_webhook_body_has_text_blocks_and_facts(digest_env: DigestEnv) -> None:
    send_digests(load_settings(), subscriber="hpd-ops")
    (post,) = digest_env.webhook.posts
    body = post["json"]
    assert post["path"] == "/services/T0/B0/hook-secret-xyz"
    assert "HPD" in body["text"] and "<https://dash.example.org/agency?agency=HPD" in body["text"]
    assert body["blocks"][0]["type"] == "header" and len(body["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"] if b["type"] == "section")
    facts = body["metadata"]["event_payload"]
    assert body["metadata"]["event_type"] == "resolve311_digest"
    assert {f["agency"] for f in facts["flags"]} == {"HPD", "DSNY"}
    with duckdb.connect(str(digest_env.home / "serving.duckdb"), read_only=True) as con:
        rates = con.execute(
            "SELECT agency, metric, false_alarm_rate FROM calibration WHERE \"window\" = '7d'"
        ).fetchall()
    measured = {(a, m): r for a, m, r in rates}
    assert len({f["false_alarm_rate"] for f in facts["flags"]}) > 1  # one rate per agency × metric
    for f in facts["flags"]:
        assert f["false_alarm_rate"] == measured[(f["agency"], f["metric"])]
        assert f["n"] > 0 and f["threshold"] > 0 and 0 < f["p_value"] <= 1
    assert facts["values_tested"] == 8 and 0 < facts["expected_by_chance"] < 1


def test_a_bad_address_is_refused_and_the_others_still_go(digest_env: DigestEnv) -> None:
    report = send_digests(load_settings(), subscriber="mixed")
    states = {o.target: o.state for o in report.outcomes}
    assert states == {"bad@x.example": "rejected", "good@x.example": "sent"}
    assert "550" in (report.failed[0].error or "")
    assert [m["To"] for m in digest_env.smtp.sink.messages] == ["good@x.example"]


def test_a_failing_webhook_is_retried_with_backoff(digest_env: DigestEnv) -> None:
    digest_env.webhook.fail_first = 2
    report = send_digests(load_settings(), subscriber="hpd-ops")
    assert {o.state for o in report.outcomes} == {"sent"}
    assert len(digest_env.webhook.posts) == 1
    hook_rows = [v for (s, t), v in ledger(digest_env).items() if t.startswith("http")]
    assert hook_rows == [("sent", 3)]


def test_a_webhook_down_for_the_whole_run_is_failed_then_sent_by_the_next_run(digest_env: DigestEnv) -> None:
    digest_env.webhook.fail_first = 3  # every attempt of the first run (attempts = 3)
    first = send_digests(load_settings(), subscriber="hpd-ops")
    assert [o.state for o in first.outcomes if o.channel == "webhook"] == ["failed"]
    second = send_digests(load_settings(), subscriber="hpd-ops")
    assert [o.state for o in second.outcomes if o.channel == "webhook"] == ["sent"]
    assert len(digest_env.webhook.posts) == 1
    assert len(digest_env.smtp.sink.to("ops@hpd.example")) == 1


def test_quiet_days_say_one_line_unless_the_subscriber_skips_them(digest_env: DigestEnv) -> None:
    text = (
        digest_env.config.read_text().replace('"when_quiet" = "skip"', "").replace('when_quiet = "skip"', "")
    )
    digest_env.config.write_text(text)
    send_digests(load_settings(), subscriber="nypd-quiet")
    (msg,) = digest_env.smtp.sink.to("quiet@nypd.example")
    assert msg["Subject"].startswith("resolve311 digest: Nothing unusual")
    plain = msg.get_body(preferencelist=("plain",))
    assert (
        plain is not None
        and "Nothing unusual in the 7d window: no agency moved beyond what its own history makes ordinary (an ordinary day would flag about 0.0 of these 1 values by chance)."
        in str(plain.get_content())
    )


def test_health_page_lists_the_deliveries(digest_env: DigestEnv) -> None:
    send_digests(load_settings())
    app = create_app(load_settings())
    with app.server.test_request_context():
        layout = health.layout()
    text = json.dumps(layout.to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder)
    assert "Morning digest deliveries" in text
    assert "bad@x.example" in text and "rejected" in text and "hpd-ops" in text
    assert "hook-secret-xyz" not in text


def test_a_snapshot_without_the_calibration_table_says_the_rate_is_not_measured(
    digest_env: DigestEnv,
) -> None:
    with duckdb.connect(str(digest_env.home / "serving.duckdb")) as con:
        con.execute("DROP TABLE calibration")
    tables = load_tables(digest_env.home / "serving.duckdb")
    assert tables.calibration == {}
    sub = load_settings().digest.subscriber("hpd-ops")
    text = plain_text(build_digest(sub, tables, "https://dash.example.org"))
    assert "false-alarm rate not measured yet" in text and "4.5%" not in text
