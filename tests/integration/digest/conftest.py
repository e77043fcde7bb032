"""Fixtures for the digest tests: a home with a snapshot, real SMTP and webhook servers, a config file."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from e2e.snapshot_factory import build_snapshot
from integration.digest.digest_servers import SmtpServer, WebhookReceiver, start_smtp, start_webhook

PASSWORD = "s3cr3t-smtp-pa55word"
#: The legacy fixed-rule rate in meta: a decoy the digest must never quote (it quotes `calibration`).
LEGACY_RATE = "0.0445"


@dataclass
class DigestEnv:
    home: Path
    config: Path
    smtp: SmtpServer
    webhook: WebhookReceiver

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a `resolve311` subprocess using this home and config."""
        env = {**os.environ, "RESOLVE311_HOME": str(self.home), "RESOLVE311_CONFIG": str(self.config)}
        env.pop("SOCRATA_APP_TOKEN", None)
        env.pop("RESOLVE311_SMTP_PASSWORD", None)
        return {**env, **extra}


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot like the publisher's (calibration table included), plus the legacy meta rate (built once)."""
    path = build_snapshot(tmp_path_factory.mktemp("digest-template") / "serving.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('anomaly_rate_history', ?)", [LEGACY_RATE])
    return path


def make_home(home: Path, template: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, home / "serving.duckdb")
    return home


SUBSCRIBERS = [
    {
        "name": "hpd-ops",
        "emails": ["ops@hpd.example", "chief@hpd.example"],
        "agencies": ["HPD", "DSNY"],
        "metrics": ["ttc_median_h", "backlog_end", "created_per_day", "closed_within_3d"],
    },
    {"name": "city", "emails": ["analyst@city.example"], "sensitivity": "summary"},
    {
        "name": "nypd-quiet",
        "emails": ["quiet@nypd.example"],
        "agencies": ["NYPD"],
        "metrics": ["created_per_day"],
        "when_quiet": "skip",
    },
    {"name": "mixed", "emails": ["bad@x.example", "good@x.example"], "agencies": ["HPD"]},
]


def write_config(path: Path, home: Path, smtp_port: int, webhook_url: str, **digest: object) -> Path:
    subs = [dict(s) for s in SUBSCRIBERS]
    subs[0]["webhook_url"] = webhook_url
    table = {
        "dashboard_url": "https://dash.example.org",
        "from_address": "digest@resolve311.example",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "retry_base_s": 0,
        "timeout_s": 10,
        **digest,
    }
    lines = [f'home = "{home}"', "", "[digest]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    for sub in subs:
        lines += ["", "[[digest.subscribers]]", *(f"{k} = {json.dumps(v)}" for k, v in sub.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def digest_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template_snapshot: Path
) -> Iterator[DigestEnv]:
    """Home + snapshot + an SMTP server (no auth) + a webhook receiver + the config naming them."""
    home = make_home(tmp_path / "home", template_snapshot)
    smtp, hook = start_smtp(), start_webhook()
    config = write_config(tmp_path / "resolve311.toml", home, smtp.port, hook.url)
    monkeypatch.setenv("RESOLVE311_CONFIG", str(config))
    monkeypatch.delenv("RESOLVE311_HOME", raising=False)
    monkeypatch.delenv("RESOLVE311_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("SOCRATA_APP_TOKEN", raising=False)
    yield DigestEnv(home, config, smtp, hook)
    smtp.controller.stop()
    hook.stop()
