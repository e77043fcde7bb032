"""SMTP auth and STARTTLS against a real server; the password and webhook URL appear in no output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from integration.digest.conftest import PASSWORD, DigestEnv, make_home, write_config
from integration.digest.digest_servers import USER, SmtpServer, self_signed, start_smtp, start_webhook
from resolve311.digest.send import send_digests
from resolve311.settings import load_settings

HOOK_SECRET = "hook-secret-xyz"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def auth_env(tmp_path: Path, template_snapshot: Path) -> Iterator[DigestEnv]:
    home = make_home(tmp_path / "home", template_snapshot)
    smtp, hook = start_smtp(password=PASSWORD), start_webhook()
    config = write_config(tmp_path / "r.toml", home, smtp.port, hook.url, smtp_username=USER)
    yield DigestEnv(home, config, smtp, hook)
    smtp.controller.stop()
    hook.stop()


def run(env: DigestEnv, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    extra = {"RESOLVE311_SMTP_PASSWORD": password, "RESOLVE311_LOG_LEVEL": "DEBUG"}
    cmd = [sys.executable, "-m", "resolve311", *args]
    return subprocess.run(cmd, env=env.env(**extra), capture_output=True, text=True, timeout=120)


def ledger_text(env: DigestEnv) -> str:
    with duckdb.connect(str(env.home / "warehouse.duckdb"), read_only=True) as con:
        return repr(con.execute("SELECT * FROM digest_deliveries").fetchall())


def test_auth_works_and_no_output_shows_a_secret(auth_env: DigestEnv) -> None:
    outputs = [
        run(auth_env, "digest", "send"),
        run(auth_env, "digest", "preview", "--subscriber", "hpd-ops", "--format", "eml"),
        run(auth_env, "digest", "preview", "--subscriber", "hpd-ops", "--format", "webhook"),
        run(auth_env, "digest", "status"),
        run(auth_env, "config", "--format", "json"),
    ]
    assert [p.returncode for p in outputs] == [1, 0, 0, 0, 0]  # 1: bad@x.example is refused
    assert len(auth_env.smtp.sink.messages) == 4  # authenticated with the password from the environment
    texts = [p.stdout + p.stderr for p in outputs]
    texts += [ledger_text(auth_env), *(m.as_string() for m in auth_env.smtp.sink.messages)]
    texts.append((auth_env.home / "serving.duckdb").read_bytes().decode("latin-1"))
    for text in texts:
        assert PASSWORD not in text
        assert HOOK_SECRET not in text
    assert "sent" in outputs[3].stdout


def test_a_wrong_password_fails_each_address_without_printing_it(auth_env: DigestEnv) -> None:
    wrong = "not-the-" + PASSWORD
    result = run(auth_env, "digest", "send", password=wrong)
    assert result.returncode == 1
    assert "authentication failed" in result.stdout
    assert wrong not in result.stdout + result.stderr + ledger_text(auth_env)
    assert auth_env.smtp.sink.messages == []
    assert len(auth_env.webhook.posts) == 1  # the webhook does not depend on SMTP


def test_password_in_the_config_file_is_refused(auth_env: DigestEnv) -> None:
    text = auth_env.config.read_text().replace("[digest]\n", f'[digest]\nsmtp_password = "{PASSWORD}"\n')
    auth_env.config.write_text(text)
    result = run(auth_env, "digest", "send")
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid setting digest")
    assert "RESOLVE311_SMTP_PASSWORD" in result.stderr and PASSWORD not in result.stderr


@pytest.mark.skipif(
    shutil.which("openssl") is None, reason="needs the openssl command for a test certificate"
)
def test_starttls_with_auth_and_a_private_ca(
    tmp_path: Path, template_snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, server_tls = self_signed(tmp_path)
    smtp: SmtpServer = start_smtp(password=PASSWORD, tls=server_tls)
    hook = start_webhook()
    try:
        home = make_home(tmp_path / "home", template_snapshot)
        config = write_config(
            tmp_path / "r.toml",
            home,
            smtp.port,
            hook.url,
            smtp_security="starttls",
            smtp_username=USER,
            smtp_ca_file=str(cert),
        )
        monkeypatch.setenv("RESOLVE311_CONFIG", str(config))
        monkeypatch.setenv("RESOLVE311_SMTP_PASSWORD", PASSWORD)
        report = send_digests(load_settings(), subscriber="city")
        assert [o.state for o in report.outcomes] == ["sent"]
        assert [m["To"] for m in smtp.sink.messages] == ["analyst@city.example"]
    finally:
        smtp.controller.stop()
        hook.stop()
