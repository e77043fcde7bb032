"""Must show: a token with surrounding whitespace (a CRLF env file, a secret with a trailing newline)
is stripped and works; an unusable one is refused in one line; no representation of either ever
reaches stdout, stderr, the log, the ledger, the landing log, the snapshot or ``/api/status``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import duckdb
import pytest

from resolve311.cli.exit_codes import EXIT_OK, EXIT_USAGE

SIM_ARGS = ("--seed", "4", "--today", "2025-05-01", "--history-days", "3", "--scale", "0.01")
FAST = {"RESOLVE311_RETRY_BASE_S": "0.01", "RESOLVE311_RETRY_MAX_S": "0.05", "RESOLVE311_RETRY_BUDGET_S": "5"}


def forms(token: str) -> set[str]:
    """Every way a token could be written out, for the raw and the stripped value."""
    out: set[str] = set()
    for t in (token, token.strip()):
        out |= {t, repr(t)[1:-1], repr(t.encode())[2:-1], json.dumps(t)[1:-1], quote(t, safe=""),
                quote_plus(t, safe=""), t.encode().decode("latin-1")}  # fmt: skip
    core = token.strip()
    out.add(core[2:-2])  # a long inner piece of the secret
    return {f for f in out if len(f) >= 6}


def every_output(home: Path, texts: list[str]) -> str:
    """All text the test saw, plus every file under home (decompressed) and every ledger table."""
    import gzip

    parts = list(texts)
    for path in home.rglob("*"):
        if path.is_file() and path.name != ".disk-reserve":
            data = path.read_bytes()
            parts.append(data.decode("latin-1"))
            if path.suffix == ".gz":
                parts.append(gzip.decompress(data).decode("utf-8", "replace"))
    if (home / "warehouse.duckdb").exists():
        con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        try:
            for table in ("runs", "run_stages", "source_state"):
                parts.append(json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str))
        finally:
            con.close()
    if (home / "serving.duckdb").exists():
        con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
        try:
            for table in ("status", "runs", "meta"):
                parts.append(json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str))
        finally:
            con.close()
    return "\n".join(parts)


def api_status(home: Path) -> str:
    from resolve311.settings import Settings
    from resolve311.web.app import create_app

    client = create_app(Settings(home=home)).server.test_client()
    response = client.get("/api/status")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_token_with_surrounding_whitespace_is_stripped_sent_and_never_written(
    cli: Any, home: Path, simulator_factory: Any, tmp_path: Path
) -> None:
    # every kind of surrounding whitespace at once (a CRLF env file, a pasted secret with spaces and
    # a tab), in one run end to end; tests/unit/pipeline/test_redaction.py redacts CR and CRLF tokens
    token = "  tokMIXED-Secr3t-aaaaBBBB \t\r\n"
    sim = simulator_factory(*SIM_ARGS, "--faults", "503:0.2,html:0.1", "--data-dir", str(tmp_path / "s"))
    env = {
        "RESOLVE311_SOCRATA_URL": sim.url,
        "RESOLVE311_SODA_VERSION": "3",  # answered only with a token: proof the stripped one was sent
        "SOCRATA_APP_TOKEN": token,
        "RESOLVE311_LOG_LEVEL": "DEBUG",
        **FAST,
    }
    run = cli("update", "--json", env=env)
    assert run.returncode == EXIT_OK, run.stderr
    assert json.loads(run.stdout)["rows_new"] > 0
    status = cli("status", "--json", env=env)
    config = cli("config", "--format", "json", env=env)
    assert json.loads(config.stdout)["app_token"]["value"] == "***"
    texts = [
        run.stdout,
        run.stderr,
        status.stdout,
        status.stderr,
        config.stdout,
        config.stderr,
        api_status(home),
    ]
    everything = every_output(home, texts)
    assert "retry" in everything  # the faults were logged, with their URLs and headers around ...
    leaked = [f for f in forms(token) if f in everything]
    assert leaked == []  # ... and no form of the token


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("tøken-Secr3t-gggg", "non-ASCII"),
        ("tok\x07en-Secr3t-hhhh", "control characters"),
        ("tok-Secr3t\r\n-iiii", "control characters"),
    ],
    ids=["non-ascii", "bell", "inner-crlf"],
)
def test_an_unusable_token_is_refused_in_one_line_and_never_shown(
    cli: Any, home: Path, token: str, problem: str
) -> None:
    env = {"SOCRATA_APP_TOKEN": token, "RESOLVE311_SOCRATA_URL": "http://127.0.0.1:9"}
    run = cli("update", "--json", env=env)
    assert run.returncode == EXIT_USAGE
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]  # one line
    assert run.stderr.startswith("error: SOCRATA_APP_TOKEN contains") and problem in run.stderr
    assert "Traceback" not in run.stderr
    leaked = [f for f in forms(token) if f in every_output(home, [run.stdout, run.stderr])]
    assert leaked == []
