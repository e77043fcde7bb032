"""Issue 9, defect 8: ``resolve311 serve`` is a production server (a real process on a free port).

gunicorn with two workers: security headers, gzip, ETag/304, 413 at once on a huge
announced body, 408 on a stalled one, 404 on unknown paths and traversal, 400 on bad
callback values, every worker following a new snapshot, a graceful stop on SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.snapshot_factory import SnapshotSpec, build_snapshot
from helpers import free_port, stop_process, wait_for

CALLBACK = "/_dash-update-component"


@dataclass
class Served:
    url: str
    port: int
    home: Path
    process: subprocess.Popen[bytes]


def start(home: Path, **env: str) -> Served:
    port = free_port()
    environ = {
        **os.environ,
        "RESOLVE311_HOME": str(home),
        "RESOLVE311_CONFIG": str(home / "none.toml"),
        **env,
    }
    environ.pop("SOCRATA_APP_TOKEN", None)
    cmd = [
        sys.executable,
        "-m",
        "resolve311",
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
        "--threads",
        "4",
    ]
    proc = subprocess.Popen(cmd, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    served = Served(f"http://127.0.0.1:{port}", port, home, proc)

    def answers() -> bool:
        assert proc.poll() is None, "server exited"
        return httpx.get(served.url + "/api/status", timeout=5).status_code == 200

    try:
        wait_for(answers, timeout=90)
    except BaseException:
        stop_process(proc)
        raise
    return served


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("prod-home")
    build_snapshot(home / "serving.duckdb", SnapshotSpec())
    srv = start(home, RESOLVE311_WEB_TIMEOUT_S="2", RESOLVE311_WEB_MAX_BODY_KB="64")
    yield srv
    assert stop_process(srv.process) == 0  # SIGTERM: a graceful stop


def raw_request(port: int, head: str, body: bytes = b"", timeout: float = 30) -> tuple[int, bytes]:
    """Send ``head`` (and ``body``) on a raw socket; the status and the whole response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode() + body)
        received = b""
        while not _complete(received) and (chunk := sock.recv(65536)):
            received += chunk
    status = int(received.split(b" ", 2)[1])
    return status, received


def _complete(received: bytes) -> bool:
    head, sep, rest = received.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(rest) >= int(value)
    return False  # no length: read until the server closes


def callback_body(client: httpx.Client, first_input: str, values: dict[str, Any]) -> dict[str, Any]:
    deps = client.get("/_dash-dependencies").json()
    dep = next(d for d in deps if d["inputs"][0]["id"] == first_input)
    parts = dep["output"].strip(".").split("...")
    return {
        "output": dep["output"],
        "outputs": [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts],
        "inputs": [i | {"value": values[i["id"]]} for i in dep["inputs"]],
        "changedPropIds": [f"{first_input}.value"],
        "state": [s | {"value": values.get(s["id"])} for s in dep.get("state", [])],  # the page's city
    }


OVERVIEW = {"overview-window": "7d", "overview-baseline": "8w"}


def test_it_is_gunicorn_with_security_headers(served: Served) -> None:
    for path in ("/", "/api/status", "/agency"):
        response = httpx.get(served.url + path)
        assert response.headers["server"].startswith("gunicorn")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    page_csp = httpx.get(served.url + "/").headers["content-security-policy"]
    assert "'sha256-" in page_csp.split("script-src")[1]


@pytest.mark.parametrize("path", ["/", "/api/agencies", "/_dash-dependencies"])
def test_gzip_is_negotiated(served: Served, path: str) -> None:
    zipped = httpx.get(served.url + path, headers={"Accept-Encoding": "gzip"})
    plain = httpx.get(served.url + path, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert len(zipped.content) == len(plain.content)  # httpx decodes the gzip body
    assert int(zipped.headers["content-length"]) < len(plain.content)


def test_every_worker_serves_every_bundle_of_the_page_gzipped(served: Served) -> None:
    page = httpx.get(served.url + "/").text
    bundles = [part.split('"')[0] for part in page.split('<script src="')[1:]]
    assert len(bundles) > 5

    def fetch(bundle: str) -> tuple[str, int, str, str]:
        r = httpx.get(served.url + bundle, headers={"Accept-Encoding": "gzip"})
        return bundle, r.status_code, r.headers.get("content-encoding", ""), r.headers.get("content-type", "")

    # many at once, like a browser: both workers answer (each must have registered the bundles)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(fetch, bundles * 6))
    assert [r for r in results if r[1:3] != (200, "gzip") or "javascript" not in r[3]] == []


def test_a_repeated_view_is_a_304(served: Served) -> None:
    with httpx.Client(base_url=served.url) as client:
        for _ in range(4):  # several times: two workers answer, every one agrees
            first = client.get("/api/agencies")
            again = client.get("/api/agencies", headers={"If-None-Match": first.headers["etag"]})
            assert again.status_code == 304
            assert again.content == b""
        body = callback_body(client, "overview-window", OVERVIEW)
        answer = client.post(CALLBACK, json=body)
        assert answer.status_code == 200
        repeat = client.post(CALLBACK, json=body, headers={"If-None-Match": answer.headers["etag"]})
        assert repeat.status_code == 304


def test_a_huge_announced_body_is_refused_at_once(served: Served) -> None:
    head = (
        f"POST {CALLBACK} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000000000\r\n\r\n"
    )
    status, received = raw_request(served.port, head, b'{"output": ')
    assert status == 413
    assert b"request body too large" in received
    assert b"nosniff" in received


def test_a_stalled_body_is_cut_off(served: Served) -> None:
    head = f"POST {CALLBACK} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    status, received = raw_request(served.port, head, b'{"output": "x", ')  # ...and nothing more
    assert status == 408
    assert b"not received within 2 s" in received


def test_a_chunked_body_over_the_limit_is_refused(served: Served) -> None:
    chunk = b"x" * 70_000
    head = f"POST {CALLBACK} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n"
    status, _ = raw_request(served.port, head + "", body)
    assert status == 413


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/agency/extra",
        "/_dash-component-suites/..",
        "/_dash-component-suites/dash/../../../../etc/passwd",
        "/_dash-component-suites/dash/..%2f..%2f..%2fsetup.py",
        "/_dash-component-suites/plotly/../../os.py",
    ],
)
def test_unknown_paths_and_traversal_are_404(served: Served, path: str) -> None:
    status, received = raw_request(
        served.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status in (400, 404)
    assert b"root:" not in received


@pytest.mark.parametrize(
    ("control", "value"), [("overview-window", "NOPE"), ("overview-baseline", 123), ("overview-window", None)]
)
def test_bad_callback_values_are_a_400_with_a_message(served: Served, control: str, value: object) -> None:
    with httpx.Client(base_url=served.url) as client:
        body = callback_body(client, "overview-window", OVERVIEW | {control: value})
        response = client.post(CALLBACK, json=body)
    assert response.status_code == 400
    assert response.json()["parameter"] == control
    assert control in response.json()["error"]


def test_not_json_at_all_is_a_400(served: Served) -> None:
    response = httpx.post(
        served.url + CALLBACK, content=b"\xff" * 100, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "error" in json.loads(response.content)


def test_every_worker_follows_a_new_snapshot(tmp_path: Path) -> None:
    build_snapshot(tmp_path / "serving.duckdb", SnapshotSpec())
    srv = start(tmp_path)
    try:
        with httpx.Client(base_url=srv.url) as client:
            tags = {client.get("/api/status").headers["etag"] for _ in range(6)}
            assert len(tags) == 1  # one generation, whichever worker answers
            newer = SnapshotSpec(as_of_date=SnapshotSpec().as_of_date.replace(day=28))
            build_snapshot(tmp_path / "serving.duckdb", newer)
            for _ in range(10):
                response = client.get("/api/status", headers={"If-None-Match": tags.pop() if tags else ""})
                assert response.status_code == 200
                assert response.json()["as_of_date"] == "2026-11-28"
        srv.process.send_signal(signal.SIGINT)  # Ctrl-C: a quick, clean stop
        assert srv.process.wait(timeout=60) == 0
    finally:
        stop_process(srv.process)


@pytest.mark.parametrize(
    ("args", "message"),
    [(("--workers", "0"), "web_workers"), (("--threads", "0"), "web_threads"), ((), "already in use")],
)
def test_bad_serve_arguments_give_one_line(served: Served, args: tuple[str, ...], message: str) -> None:
    env = {
        **os.environ,
        "RESOLVE311_HOME": str(served.home),
        "RESOLVE311_CONFIG": str(served.home / "none.toml"),
    }
    cmd = [
        sys.executable,
        "-m",
        "resolve311",
        "serve",
        "--port",
        str(served.port),
        *args,
    ]  # the port is taken
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert message in done.stderr and "error:" in done.stderr and "Traceback" not in done.stderr
