"""Injected faults: each kind, the --down window, the oracle header, determinism by seed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date

import httpx
import pytest

from resolve311.simulator.config import parse_down, parse_faults

ORACLE = {"X-Sim-No-Faults": "1"}
DATA = "/resource/erm2-nwe9.json"


def always(make_sim: Callable[..., str], kind: str, **extra: object) -> str:
    return make_sim(faults=parse_faults(f"{kind}:1"), **extra)


@pytest.mark.parametrize(("kind", "status"), [("503", 503), ("500", 500), ("429", 429), ("202", 202)])
def test_status_faults(make_sim: Callable[..., str], kind: str, status: int) -> None:
    url = always(make_sim, kind)
    response = httpx.get(url + DATA)
    assert response.status_code == status
    if status == 429:
        assert int(response.headers["Retry-After"]) >= 0


def test_html_maintenance_page_with_status_200(make_sim: Callable[..., str]) -> None:
    response = httpx.get(always(make_sim, "html") + DATA)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_empty_page(make_sim: Callable[..., str]) -> None:
    url = always(make_sim, "empty")
    assert httpx.get(url + DATA).json() == []
    assert len(httpx.get(url + DATA, headers=ORACLE).json()) > 0
    csv_text = httpx.get(url + "/resource/erm2-nwe9.csv").text
    assert csv_text.count("\n") == 1 and csv_text.startswith('"unique_key"')


def test_timeout_stalls_past_the_client_timeout(make_sim: Callable[..., str]) -> None:
    url = always(make_sim, "timeout", stall_seconds=3.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url + DATA, timeout=httpx.Timeout(5.0, read=0.3))


def test_latency_holds_back_data_requests_only(make_sim: Callable[..., str]) -> None:
    url = make_sim(latency_seconds=30.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url + DATA, timeout=httpx.Timeout(5.0, read=0.3))
    with pytest.raises(httpx.ReadTimeout):  # SODA 3 queries wait too
        httpx.post(
            url + "/api/v3/views/erm2-nwe9/query.json",
            json={"query": "SELECT *"},
            timeout=httpx.Timeout(5.0, read=0.3),
        )
    assert httpx.get(url + "/api/views/erm2-nwe9.json", timeout=10).status_code == 200
    assert httpx.get(url + "/_sim/state", timeout=10).json()["latency_seconds"] == 30.0


def test_latency_answers_the_rows_after_the_wait(make_sim: Callable[..., str]) -> None:
    url = make_sim(latency_seconds=0.5)
    started = time.monotonic()
    response = httpx.get(url + DATA, headers=ORACLE, timeout=30)
    assert time.monotonic() - started >= 0.5  # an injected wait, not a performance bound
    assert response.status_code == 200 and len(response.json()) > 0


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_body_cut_short(make_sim: Callable[..., str], kind: str) -> None:
    url = always(make_sim, kind)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.get(url + DATA, params={"$limit": "5000"})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.get(url + "/api/views/erm2-nwe9.json")


def test_oracle_header_bypasses_faults_and_down(make_sim: Callable[..., str]) -> None:
    url = make_sim(faults=parse_faults("503:1"), down=parse_down("2024-04-01..2024-04-30"))
    assert httpx.get(url + DATA).status_code == 503
    assert httpx.get(url + DATA, headers=ORACLE).status_code == 200
    assert httpx.get(url + "/_sim/state").status_code == 200


def test_down_window_follows_the_simulated_clock(make_sim: Callable[..., str]) -> None:
    url = make_sim(down=parse_down("2024-04-17..2024-04-18"))
    with httpx.Client(base_url=url) as client:
        assert client.get(DATA).status_code == 200
        client.post("/_sim/advance", params={"days": 1})
        assert client.get(DATA).status_code == 503
        assert client.get("/api/views/erm2-nwe9.json").status_code == 503
        assert client.get("/_sim/state").json()["down"] is True
        client.post("/_sim/advance", params={"days": 2})
        assert client.get(DATA).status_code == 200


def test_fault_sequence_is_deterministic_by_seed(make_sim: Callable[..., str]) -> None:
    spec = parse_faults("503:0.2,429:0.2,202:0.1,empty:0.1")

    def statuses(url: str) -> list[tuple[int, int]]:
        with httpx.Client(base_url=url) as client:
            responses = [client.get(DATA, params={"$limit": "3"}) for _ in range(40)]
        return [(r.status_code, len(r.content)) for r in responses]

    first = statuses(make_sim(seed=11, faults=spec))
    again = statuses(make_sim(seed=11, faults=spec))
    other = statuses(make_sim(seed=12, faults=spec))
    assert first == again
    assert first != other
    assert {s for s, _ in first} >= {200, 503, 429}


def test_probabilities_are_roughly_honoured(make_sim: Callable[..., str]) -> None:
    url = make_sim(faults=parse_faults("503:0.3"))
    with httpx.Client(base_url=url) as client:
        codes = [client.get(DATA, params={"$limit": "1"}).status_code for _ in range(100)]
    assert 0.18 <= codes.count(503) / len(codes) <= 0.42


def test_bad_specs_are_config_errors() -> None:
    from resolve311.errors import ConfigError

    for spec in ("503", "teapot:0.1", "503:2", "503:0.6,429:0.6", "503:x"):
        with pytest.raises(ConfigError):
            parse_faults(spec)
    for window in ("2024-01-01", "2024-02-01..2024-01-01", "x..y"):
        with pytest.raises(ConfigError):
            parse_down(window)
    assert parse_down("2024-01-01..2024-01-02") == (date(2024, 1, 1), date(2024, 1, 2))
