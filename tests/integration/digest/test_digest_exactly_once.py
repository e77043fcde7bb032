"""SIGKILL the real `resolve311 digest send` between sends, rerun it: one message per target and day.

The sender is paused by the test-only hook ``RESOLVE311_DIGEST_TEST_PAUSE=POINT:FILE`` at a
known moment (it writes FILE.paused and waits for FILE), then killed with SIGKILL.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from helpers import wait_for
from integration.digest.conftest import DigestEnv

ALL_TARGETS = {"ops@hpd.example", "chief@hpd.example", "analyst@city.example", "good@x.example"}


def send_cmd(env: DigestEnv, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "resolve311", "digest", "send"],
        env=env.env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_at(env: DigestEnv, point: str, tmp: Path) -> None:
    gate = tmp / f"gate-{point}"
    proc = send_cmd(env, RESOLVE311_DIGEST_TEST_PAUSE=f"{point}:{gate}")
    try:
        wait_for(lambda: Path(f"{gate}.paused").exists() or proc.poll() is not None, timeout=120)
        assert proc.poll() is None, proc.communicate()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def rerun(env: DigestEnv, code: int = 1) -> str:
    proc = send_cmd(env)
    out, err = proc.communicate(timeout=120)
    # exit 1: this run had bad@x.example refused (a permanent per-address failure), the rest went out
    assert proc.returncode == code, err
    return out


def test_sigkill_after_a_send_then_rerun_sends_each_message_exactly_once(
    digest_env: DigestEnv, tmp_path: Path
) -> None:
    kill_at(digest_env, "sent", tmp_path)
    assert len(digest_env.smtp.sink.messages) == 1  # killed right after the first recorded send

    out = rerun(digest_env)
    per_address = Counter(m["To"] for m in digest_env.smtp.sink.messages)
    assert per_address == dict.fromkeys(ALL_TARGETS, 1)
    assert len(digest_env.webhook.posts) == 1
    assert "already sent" in out

    assert "already rejected" in rerun(digest_env, 0)  # a third run changes nothing and succeeds
    assert Counter(m["To"] for m in digest_env.smtp.sink.messages) == per_address
    assert len(digest_env.webhook.posts) == 1


def test_sigkill_between_handover_and_record_resends_with_the_same_message_id(
    digest_env: DigestEnv, tmp_path: Path
) -> None:
    """The one window SMTP cannot close: accepted by the server, not yet recorded. We choose
    at-least-once there (never skip), with the same Message-ID so receivers can deduplicate."""
    kill_at(digest_env, "delivered", tmp_path)
    (first,) = digest_env.smtp.sink.messages
    rerun(digest_env)
    copies = digest_env.smtp.sink.to(first["To"])
    assert len(copies) == 2
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"]
    others = Counter(m["To"] for m in digest_env.smtp.sink.messages if m["To"] != first["To"])
    assert others == dict.fromkeys(ALL_TARGETS - {first["To"]}, 1)


def test_sigterm_finishes_the_target_in_hand_then_stops(digest_env: DigestEnv, tmp_path: Path) -> None:
    """How `up` stops its children: the message in flight is recorded, nothing is left ambiguous."""
    gate = tmp_path / "gate"
    proc = send_cmd(digest_env, RESOLVE311_DIGEST_TEST_PAUSE=f"delivered:{gate}")
    wait_for(lambda: Path(f"{gate}.paused").exists() or proc.poll() is not None, timeout=120)
    proc.send_signal(signal.SIGTERM)
    gate.touch()  # let it record the send it has in hand
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert out.strip() == "2026-11-27 hpd-ops -> ops@hpd.example: sent"  # recorded, not left "sending"
    assert len(digest_env.smtp.sink.messages) == 1
    rerun(digest_env)
    assert Counter(m["To"] for m in digest_env.smtp.sink.messages) == dict.fromkeys(ALL_TARGETS, 1)
