"""`resolve311 digest preview/send/status` as a user runs them, and `up`'s digest step."""

from __future__ import annotations

import json
import subprocess
import sys
from email import message_from_string
from pathlib import Path

import pytest

from helpers import free_port
from integration.digest.conftest import DigestEnv
from resolve311.settings import load_settings
from resolve311.supervisor import Supervisor


def cli(env: DigestEnv, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "resolve311", "digest", *args]
    return subprocess.run(cmd, env=env.env(), capture_output=True, text=True, timeout=120)


def test_preview_prints_each_format_and_sends_nothing(digest_env: DigestEnv, tmp_path: Path) -> None:
    text = cli(digest_env, "preview", "--subscriber", "hpd-ops")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Subject: resolve311 digest: ") and "Time to close, median" in text.stdout
    hook = cli(digest_env, "preview", "--subscriber", "hpd-ops", "--format", "webhook")
    assert json.loads(hook.stdout)["metadata"]["event_type"] == "resolve311_digest"
    eml = cli(digest_env, "preview", "--subscriber", "hpd-ops", "--format", "eml")
    assert message_from_string(eml.stdout).get_content_type() == "multipart/alternative"
    out = tmp_path / "preview.html"
    written = cli(digest_env, "preview", "--subscriber", "hpd-ops", "--format", "html", "--out", str(out))
    assert written.stdout.strip() == str(out)
    assert 'src="data:image/png;base64,' in out.read_text() and "cid:" not in out.read_text()
    assert digest_env.smtp.sink.messages == [] and digest_env.webhook.posts == []
    quiet = cli(digest_env, "preview", "--subscriber", "nypd-quiet")
    assert "nothing would be sent" in quiet.stderr


def test_unknown_subscriber_and_missing_snapshot_are_one_line_errors(digest_env: DigestEnv) -> None:
    unknown = cli(digest_env, "preview", "--subscriber", "nobody")
    assert unknown.returncode == 2
    assert (
        unknown.stderr.strip()
        == "error: no digest subscriber 'nobody' (known: hpd-ops, city, nypd-quiet, mixed)"
    )
    (digest_env.home / "serving.duckdb").unlink()
    missing = cli(digest_env, "send")
    assert missing.returncode == 1 and missing.stderr.startswith("error: no serving snapshot")
    assert "Traceback" not in missing.stderr and len(missing.stderr.strip().splitlines()) == 1


def test_send_then_status_shows_the_ledger(digest_env: DigestEnv) -> None:
    sent = cli(digest_env, "send")
    assert sent.returncode == 1  # bad@x.example refused; everything else delivered
    assert "2026-11-27 hpd-ops -> ops@hpd.example: sent" in sent.stdout
    assert "mixed -> bad@x.example: rejected (recipient refused: bad@x.example: 550" in sent.stdout
    status = cli(digest_env, "status")
    assert "2026-11-27  hpd-ops  ops@hpd.example  sent  attempts=1" in status.stdout
    assert "nypd-quiet  quiet@nypd.example  skipped  attempts=0" in status.stdout


@pytest.mark.parametrize("command", ["send", "preview", "status"])
def test_every_digest_command_has_help_with_an_example(digest_env: DigestEnv, command: str) -> None:
    result = cli(digest_env, command, "--help")
    assert result.returncode == 0 and "Example: resolve311 digest " + command in " ".join(
        result.stdout.split()
    )


def test_up_sends_the_digest_as_a_child_and_schedules_a_retry_when_some_fail(digest_env: DigestEnv) -> None:
    sup = Supervisor(load_settings(), serve=False)
    sup._send_digest()  # what run_cycle does after a successful update
    assert {m["To"] for m in digest_env.smtp.sink.messages} == {
        "ops@hpd.example",
        "chief@hpd.example",
        "analyst@city.example",
        "good@x.example",
    }
    assert sup.state.digest_failures == 1  # bad@x.example was refused: exit 1, a retry is scheduled
    assert [job.id for job in sup._scheduler.get_jobs()] == ["digest"]
    sup._send_digest()  # the retry: nothing is sent twice, and the refusal is not retried
    assert len(digest_env.smtp.sink.messages) == 4 and len(digest_env.webhook.posts) == 1
    assert sup.state.digest_failures == 0


def test_up_restarted_after_a_publish_still_sends_that_digest_when_the_next_update_fails(
    digest_env: DigestEnv,
) -> None:
    """`up` stopped between a publish and its digest; on restart the source is down: the owed
    digest still goes out (never skipped), after the failed update in the same cycle."""
    down = f"http://127.0.0.1:{free_port()}"
    sup = Supervisor(load_settings(socrata_url=down, retry_budget_s=0, retry_base_s=0), serve=False)
    sup.state.backfilled = True
    sup.state.digest_pending = True  # what run() sets when it starts over an existing snapshot
    sup.run_cycle("test")
    assert sup.state.failures == 1  # the update failed (source unavailable) ...
    assert len(digest_env.smtp.sink.messages) == 4  # ... and the owed digest went out anyway
    assert sup.state.digest_pending is True  # bad@x.example was refused in this run: retried later
