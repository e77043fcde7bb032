"""One redaction function at every boundary, for every representation of a secret."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest

from resolve311.logs import REDACTED, redact, register_secret
from resolve311.pipeline import ledger
from resolve311.warehouse.connection import connect

SECRETS = ["SEKRET-token-0001\r", " SEKRET-token-0002\r\n", "SEKRET-tøken-0003", "SEKRET token/0004+"]


@pytest.mark.parametrize("secret", SECRETS)
def test_every_representation_is_redacted(secret: str) -> None:
    for form in (
        secret, secret.strip(), repr(secret), repr(secret.encode()), json.dumps(secret),
        quote(secret), quote_plus(secret), secret.encode().decode("latin-1"),
    ):  # fmt: skip
        text = redact(f"before {form} after", [secret])
        assert "SEKRET" not in text, form
        assert text.startswith("before ") and text.endswith(" after") and REDACTED in text


def test_the_real_httpx_error_of_a_header_with_a_line_break_is_redacted() -> None:
    secret = "SEKRET-token-0005\r"
    register_secret(secret)
    with socket.socket() as listener, pytest.raises(httpx.LocalProtocolError) as caught:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # the connection is accepted by the backlog; the header never leaves
        port = listener.getsockname()[1]
        httpx.get(f"http://127.0.0.1:{port}/", headers={"X-App-Token": secret}, timeout=10)
    assert "SEKRET" in str(caught.value)  # httpx shows the bytes: b'SEKRET-token-0005\r'
    assert "SEKRET" not in redact(str(caught.value))


def test_the_ledger_stores_errors_redacted(tmp_path: Path) -> None:
    register_secret("SEKRET-token-0006\n")
    con = connect(tmp_path / "warehouse.duckdb")
    ledger.start_run(con, run_id="r1", source="nyc", kind="update", started_at=ledger.utcnow(),
                     watermark_before=None)  # fmt: skip
    ledger.finish_run(con, run_id="r1", status="failed", counts=ledger.RunCounts(), watermark_after=None,
                      full_replace=False, error="Illegal header value b'SEKRET-token-0006\\n'")  # fmt: skip
    ledger.finish_stage(con, "r1", "metrics", "failed", error="url ?t=SEKRET-token-0006%0A")
    stored = json.dumps(con.execute("SELECT * FROM runs").fetchall() + con.execute(
        "SELECT * FROM run_stages").fetchall(), default=str)  # fmt: skip
    con.close()
    assert "SEKRET" not in stored and REDACTED in stored
