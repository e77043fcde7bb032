"""Must show: the app token never appears in logs, errors, the ledger or the landing log."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx

from resolve311.cli.exit_codes import EXIT_OK, EXIT_UNAVAILABLE

TOKEN = "tok-Secr3t-aaaaBBBBccccDDDD"
SIM_ARGS = ("--seed", "4", "--today", "2025-05-01", "--history-days", "3", "--scale", "0.01")


def every_stored_text(home: Path) -> str:
    """Everything the pipeline wrote: landing batches (decompressed), manifests, the ledger, other files."""
    import duckdb

    parts = []
    for path in home.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        parts.append(gzip.decompress(data).decode("utf-8", "replace") if path.suffix == ".gz" else "")
        parts.append(data.decode("latin-1"))
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        parts.append(json.dumps(con.execute("SELECT * FROM runs").fetchall(), default=str))
    finally:
        con.close()
    return "\n".join(parts)


def test_the_token_is_sent_but_never_written_anywhere(
    cli: Any, home: Path, simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(
        *SIM_ARGS,
        "--down",
        "2025-05-02..2025-05-02",
        "--faults",
        "503:0.2,html:0.1",
        "--data-dir",
        str(tmp_path / "s"),
    )
    env = {
        "RESOLVE311_SOCRATA_URL": sim.url,
        "RESOLVE311_SODA_VERSION": "3",  # the simulator answers SODA 3 only with a token: proof it was sent
        "SOCRATA_APP_TOKEN": TOKEN,
        "RESOLVE311_LOG_LEVEL": "DEBUG",
        "RESOLVE311_RETRY_BASE_S": "0.01",
        "RESOLVE311_RETRY_MAX_S": "0.05",
        "RESOLVE311_RETRY_BUDGET_S": "1",
    }
    outputs = []
    ok = cli("update", "--json", env=env)  # metrics on: their logs are checked too
    outputs += [ok.stdout, ok.stderr]
    assert ok.returncode == EXIT_OK, ok.stderr
    assert json.loads(ok.stdout)["rows_new"] > 0

    httpx.post(f"{sim.url}/_sim/advance", params={"days": 1}, timeout=60).raise_for_status()
    down = cli("update", "--json", "--skip-metrics", env=env)
    outputs += [down.stdout, down.stderr]
    assert down.returncode == EXIT_UNAVAILABLE
    status = cli("status", "--json", env=env)
    config = cli("config", env=env)
    outputs += [status.stdout, status.stderr, config.stdout, config.stderr]

    everything = "\n".join(outputs) + every_stored_text(home)
    assert "retry" in everything  # the failures were logged ...
    assert TOKEN not in everything  # ... and the token never was
    assert TOKEN[4:16] not in everything
