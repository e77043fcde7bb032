"""Issue 9, defect 5: bad callback posts answer 400 (never 500), unknown paths 404; caching by generation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from e2e.snapshot_factory import SnapshotSpec, build_snapshot
from resolve311.web.caching import Cached, ResponseCache
from resolve311.web.callback_guard import CONTROLS
from resolve311.web.hardening import content_security_policy, inline_scripts

CALLBACK = "/_dash-update-component"
HOSTILE: list[Any] = ["NOPE", 123, 1.5, True, ["x"], {"a": 1}, "x" * 5000, "a\x00b", ""]
CLIENTSIDE_ONLY = {("_pages_store", "data")}


def dependencies(client: FlaskClient) -> list[dict[str, Any]]:
    deps = client.get("/_dash-dependencies").get_json()
    return [d for d in deps if not d.get("clientside_function")]


def outputs(dep: dict[str, Any]) -> list[dict[str, str]] | dict[str, str]:
    output = dep["output"]
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    refs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]
    return refs if output.startswith("..") else refs[0]


GOOD: dict[tuple[str, str], Any] = {
    ("_pages_location", "pathname"): "/agency",
    ("_pages_location", "search"): "?agency=NYPD",
    ("overview-window", "value"): "7d",
    ("overview-baseline", "value"): "8w",
    ("agency-select", "value"): "NYPD",
    ("complaint-type-select", "value"): None,
    ("borough-select", "value"): None,
    ("window-select", "value"): "28d",
    ("baseline-select", "value"): "1y",
    ("period-select", "value"): "week",
    ("page-city", "data"): "nyc",
}


def body(dep: dict[str, Any], values: dict[tuple[str, str], Any]) -> dict[str, Any]:
    first = dep["inputs"][0]
    return {
        "output": dep["output"],
        "outputs": outputs(dep),
        "inputs": [i | {"value": values[(i["id"], i["property"])]} for i in dep["inputs"]],
        "changedPropIds": [f"{first['id']}.{first['property']}"],
        "state": [s | {"value": values[(s["id"], s["property"])]} for s in dep.get("state", [])],
    }


def test_every_callback_input_is_declared_with_its_options(client: FlaskClient) -> None:
    declared = set(CONTROLS)
    used = {(i["id"], i["property"]) for d in dependencies(client) for i in d["inputs"] + d.get("state", [])}
    missing = used - declared - CLIENTSIDE_ONLY
    assert missing == set(), "declare these controls in resolve311.web.callback_guard.CONTROLS"


def test_the_values_a_page_offers_are_accepted(client: FlaskClient) -> None:
    for dep in dependencies(client):
        response = client.post(CALLBACK, json=body(dep, GOOD))
        assert response.status_code == 200, (dep["output"], response.data[:300])


@pytest.mark.parametrize(
    ("control", "value", "message"),
    [
        ("overview-window", "NOPE", "overview-window: must be one of 1d, 7d, 28d, not 'NOPE'"),
        ("agency-select", 123, "agency-select: must be a string or null, not 123"),
        ("agency-select", "x" * 201, "agency-select: must be at most 200 characters, without NUL"),
        ("period-select", "month", "period-select: must be one of day, week, not 'month'"),
    ],
)
def test_a_value_outside_the_options_is_a_400_naming_it(
    client: FlaskClient, control: str, value: object, message: str
) -> None:
    dep = next(d for d in dependencies(client) if any(i["id"] == control for i in d["inputs"]))
    response = client.post(CALLBACK, json=body(dep, GOOD | {(control, "value"): value}))
    assert response.status_code == 400
    assert response.get_json() == {"error": message, "parameter": control}


def test_an_agency_missing_from_the_snapshot_gets_the_views_own_answer(client: FlaskClient) -> None:
    dep = next(
        d for d in dependencies(client) if d["inputs"][0]["id"] == "agency-select" and len(d["inputs"]) > 1
    )
    response = client.post(CALLBACK, json=body(dep, GOOD | {("agency-select", "value"): "NOPE"}))
    assert response.status_code == 200
    assert "Unknown agency 'NOPE'" in response.get_data(as_text=True)


def test_no_hostile_value_of_any_input_is_a_500(client: FlaskClient) -> None:
    statuses = []
    for dep in dependencies(client):
        for item in dep["inputs"]:
            key = (item["id"], item["property"])
            for value in HOSTILE:
                response = client.post(CALLBACK, json=body(dep, GOOD | {key: value}))
                statuses.append(response.status_code)
                assert response.status_code in (200, 204, 400), (key, value, response.data[:300])
                if response.status_code == 400:
                    assert response.is_json and "error" in response.get_json()
    assert 400 in statuses and 200 in statuses


@pytest.mark.parametrize(
    "raw",
    [
        b"garbage",
        b"[]",
        b'{"output": "nope.children", "outputs": {"id": "nope", "property": "children"}, "inputs": []}',
        b'{"output": "..overview-scorecard.children...overview-url.search..", "inputs": "x"}',
        b'{"output": "..overview-scorecard.children...overview-url.search..", "outputs": [1], "inputs": []}',
    ],
)
def test_malformed_callback_bodies_are_a_400(client: FlaskClient, raw: bytes) -> None:
    response = client.post(CALLBACK, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.get_json()


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/agency/x",
        "/wp-admin/",
        "/_dash-component-suites/..",
        "/_dash-component-suites/dash/../../etc/passwd",
        "/_dash-component-suites/dash/..%2f..%2fsetup.py",
        "/_dash-component-suites/nope/x.js",
        "/_dash-component-suites/dash/not-there.js",
    ],
)
def test_unknown_paths_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/", "/agency", "/health", "/agency/", "/agency?agency=NYPD"])
def test_page_paths_still_serve_the_app(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert b"_dash-config" in response.data


def test_api_and_callback_answers_are_cached_per_snapshot_generation(tmp_path: Path) -> None:
    from resolve311.settings import load_settings
    from resolve311.web.app import create_app

    snapshot = tmp_path / "serving.duckdb"
    build_snapshot(snapshot, SnapshotSpec())
    client = create_app(load_settings(home=tmp_path, recent="7d")).server.test_client()
    first = client.get("/api/status")
    tag = first.headers["ETag"]
    assert client.get("/api/status", headers={"If-None-Match": tag}).status_code == 304
    dep = next(d for d in dependencies(client) if d["inputs"][0]["id"] == "overview-window")
    answer = client.post(CALLBACK, json=body(dep, GOOD))
    assert (
        client.post(
            CALLBACK, json=body(dep, GOOD), headers={"If-None-Match": answer.headers["ETag"]}
        ).status_code
        == 304
    )
    other = client.post(CALLBACK, json=body(dep, GOOD | {("overview-window", "value"): "28d"}))
    assert other.headers["ETag"] != answer.headers["ETag"]

    build_snapshot(snapshot, SnapshotSpec(as_of_date=SnapshotSpec().as_of_date.replace(day=28)))
    fresh = client.get("/api/status", headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] != tag
    assert fresh.get_json()["as_of_date"] == "2026-11-28"


def test_the_csp_allows_exactly_the_inline_scripts_of_the_page(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    scripts = inline_scripts(page)
    assert any("DashRenderer" in s for s in scripts)
    policy = content_security_policy(page)
    assert policy.count("'sha256-") == len(set(scripts))
    assert "'unsafe-inline'" not in policy.split("script-src")[1]
    assert "frame-ancestors 'none'" in policy
    assert (
        inline_scripts(
            '<!--[if IE]><script>alert(1)</script><![endif]--><script type="application/json">{}</script>'
        )
        == []
    )


def test_the_response_cache_is_bounded_and_follows_the_generation() -> None:
    cache = ResponseCache(max_bytes=1000)
    cache.put("g1", "a", Cached(b"x" * 200, "application/json"))
    cache.put("g1", "b", Cached(b"y" * 200, "application/json"))
    assert cache.get("g1", "a") is not None
    for n in range(10):
        cache.put("g1", f"k{n}", Cached(b"z" * 200, "application/json"))
    assert len(cache) <= 5
    assert cache.get("g2", "k9") is None and len(cache) == 0
    cache.put("g2", "big", Cached(b"x" * 600, "application/json"))
    assert cache.get("g2", "big") is None  # over a quarter of the budget: not kept
