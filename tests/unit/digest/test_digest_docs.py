"""docs/digest.md stays true: every digest key documented, the webhook example has the real shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

from resolve311.digest.model import build_digest
from resolve311.digest.signals import SnapshotTables
from resolve311.digest.webhook_render import payload
from resolve311.settings import DigestSettings, Subscriber

DOC = (Path(__file__).resolve().parents[3] / "docs" / "digest.md").read_text()


def test_every_digest_and_subscriber_key_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOC, flags=re.MULTILINE))
    keys = (set(DigestSettings.model_fields) - {"smtp_password"}) | set(Subscriber.model_fields)
    assert keys - documented == set()
    assert "RESOLVE311_SMTP_PASSWORD" in DOC


def test_webhook_example_has_the_shape_the_code_sends() -> None:
    example = json.loads(DOC.split("```json\n", 1)[1].split("\n```", 1)[0])
    row = {
        "agency": "DSNY", "metric": "created_per_day", "window": "7d", "baseline": "8w", "recent": 542.0,
        "historical": 700.0, "diff_abs": -158.0, "diff_rel": -0.23, "score": -5.0, "anomaly": True,
        "small_sample": False, "n_recent": 4900, "n_historical": 39200, "threshold": 4.5, "p_value": 0.003,
    }  # fmt: skip
    calibration = {("DSNY", "7d", "created_per_day"): {"false_alarm_rate": 0.006, "days_evaluated": 330}}
    tables = SnapshotTables({"as_of_date": "2026-11-27"}, {"DSNY": "Sanitation"}, [row], {}, calibration)
    sub = Subscriber(name="s", webhook_url="https://hooks.example/x")
    body = payload(build_digest(sub, tables, "https://311.example.org"), "k")
    assert set(example) == set(body) == {"text", "blocks", "metadata"}
    assert [b["type"] for b in example["blocks"]] == [b["type"] for b in body["blocks"]]
    got, documented = body["metadata"]["event_payload"], example["metadata"]["event_payload"]
    assert set(documented) == set(got)
    assert set(documented["flags"][0]) == set(got["flags"][0])
