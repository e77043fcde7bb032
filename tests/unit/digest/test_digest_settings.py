"""The [digest] settings: TOML and environment, the password only from its variable, redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resolve311.errors import ConfigError
from resolve311.settings import load_settings
from resolve311.supervisor import child_env

TOML = """
[digest]
dashboard_url = "https://311.example.org"
smtp_host = "smtp.example.org"
smtp_username = "bot"

[[digest.subscribers]]
name = "hpd-ops"
emails = ["ops@hpd.example"]
webhook_url = "https://hooks.slack.com/services/T0/B0/SECRETPATH"
agencies = ["HPD"]
metrics = ["ttc_median_h"]
sensitivity = "summary"
when_quiet = "skip"
"""


@pytest.fixture
def config(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "r.toml"
    path.write_text(TOML)
    monkeypatch.setenv("RESOLVE311_CONFIG", str(path))
    monkeypatch.delenv("RESOLVE311_SMTP_PASSWORD", raising=False)
    return path


def test_digest_table_from_toml(config: Path) -> None:
    d = load_settings().digest
    (sub,) = d.subscribers
    assert (d.dashboard_url, d.smtp_host, d.smtp_port, d.smtp_security) == (
        "https://311.example.org",
        "smtp.example.org",
        587,
        "starttls",
    )
    assert (sub.name, sub.agencies, sub.sensitivity, sub.when_quiet) == (
        "hpd-ops",
        ["HPD"],
        "summary",
        "skip",
    )


def test_environment_overrides_one_key(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVE311_DIGEST__SMTP_PORT", "2525")
    d = load_settings().digest
    assert d.smtp_port == 2525 and d.smtp_host == "smtp.example.org"


def test_password_only_from_its_variable_and_never_dumped(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOLVE311_SMTP_PASSWORD", "pw-123456")
    s = load_settings()
    assert s.digest.password() == "pw-123456"
    assert "pw-123456" not in repr(s) + json.dumps(s.redacted()) + json.dumps(
        child_env(s).get("RESOLVE311_DIGEST")
    )
    monkeypatch.setenv("RESOLVE311_DIGEST__SMTP_PASSWORD", "x")
    with pytest.raises(ConfigError, match="RESOLVE311_SMTP_PASSWORD"):
        load_settings()


def test_webhook_url_is_redacted_in_config_output(config: Path) -> None:
    assert "SECRETPATH" not in json.dumps(load_settings().redacted())


def test_child_processes_get_the_same_digest_settings(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    env = child_env(s)
    monkeypatch.setenv("RESOLVE311_CONFIG", str(config.with_name("absent.toml")))
    monkeypatch.setenv("RESOLVE311_DIGEST", env["RESOLVE311_DIGEST"])
    assert load_settings().digest == s.digest


@pytest.mark.parametrize(
    "line,message",
    [
        ('emails = ["not-an-address"]', "not an e-mail address"),
        ('webhook_url = "ftp://x"', "webhook_url"),
        ('sensitivity = "loud"', "sensitivity"),
    ],
)
def test_bad_subscriber_is_a_one_line_config_error(config: Path, line: str, message: str) -> None:
    key = line.split(" =")[0]
    lines = [ln for ln in TOML.splitlines() if not ln.startswith(key + " ")]
    config.write_text("\n".join(lines) + "\n" + line + "\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_settings()
    assert "\n" not in str(info.value)


def test_a_subscriber_needs_a_channel_and_a_unique_name(config: Path) -> None:
    config.write_text('[[digest.subscribers]]\nname = "a"\n')
    with pytest.raises(ConfigError, match="neither emails nor a webhook_url"):
        load_settings()
    twice = '[[digest.subscribers]]\nname = "a"\nemails = ["a@x.example"]\n'
    config.write_text(twice * 2)
    with pytest.raises(ConfigError, match="unique"):
        load_settings()


def test_a_subscriber_follows_only_its_cities(tmp_path: Path) -> None:
    from resolve311.digest.send import chosen
    from resolve311.settings import DigestSettings, Subscriber

    cfg = DigestSettings(
        subscribers=[
            Subscriber(name="all", emails=["a@x.example"]),
            Subscriber(name="windy", emails=["w@x.example"], cities=["chicago"]),
        ]
    )
    assert [s.name for s in chosen(cfg, None, "chicago")] == ["all", "windy"]
    assert [s.name for s in chosen(cfg, None, "nyc")] == ["all"]
    assert chosen(cfg, "windy", "sf") == []
    assert [s.name for s in chosen(cfg, None)] == ["all", "windy"]
