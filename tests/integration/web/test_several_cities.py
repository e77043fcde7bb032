"""A several-city home: every URL names its city, each city reads its own snapshot, old URLs redirect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from flask.testing import FlaskClient

from resolve311.web.report import build_report
from resolve311.web.snapshot import SnapshotReader

CALLBACK = "/_dash-update-component"
ROUTER = ".._pages_content.children..._pages_store.data.."
SANITATION = "Streets and Sanitation"


def route(client: FlaskClient, path: str, search: str = "") -> str:
    """What the Dash pages router renders for a browser at ``path`` + ``search`` (JSON text)."""
    body = {
        "output": ROUTER,
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    response = client.post(CALLBACK, json=body)
    assert response.status_code == 200, response.data[:300]
    return json.dumps(response.get_json(), ensure_ascii=False)


def get_json(client: FlaskClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, (url, response.data[:300])
    return response.get_json()


@pytest.mark.parametrize(
    ("old", "new", "status"),
    [
        ("/", "/city/nyc", 302),
        ("/agency?agency=HPD&window=28d", "/city/nyc/agency?agency=HPD&window=28d", 302),
        ("/health", "/city/nyc/health", 302),
        ("/api/status", "/api/nyc/status", 307),
        ("/api/agencies?window=1d", "/api/nyc/agencies?window=1d", 307),
        ("/api/agencies/HPD/scorecard?borough=BRONX", "/api/nyc/agencies/HPD/scorecard?borough=BRONX", 307),
    ],
)
def test_city_less_urls_redirect_to_the_first_city(
    several_client: FlaskClient, old: str, new: str, status: int
) -> None:
    response = several_client.get(old)
    assert response.status_code == status
    assert response.headers["Location"] == new


def test_the_city_list_names_each_citys_area_dimension_and_population(several_client: FlaskClient) -> None:
    body = get_json(several_client, "/api/cities")
    assert body["several"] is True
    cities = {c["city"]: c for c in body["cities"]}
    assert list(cities) == ["nyc", "chicago", "sf"]
    assert cities["chicago"]["area_label"] == "Community area"
    assert cities["chicago"]["population"] == 2_664_452
    assert cities["sf"]["area_label"] == "Supervisor district"
    assert (cities["nyc"]["api"], cities["nyc"]["dashboard"]) == ("/api/nyc", "/city/nyc")


def test_each_city_answers_from_its_own_snapshot(several_client: FlaskClient) -> None:
    chicago = {a["agency"] for a in get_json(several_client, "/api/chicago/agencies")["agencies"]}
    nyc = {a["agency"] for a in get_json(several_client, "/api/nyc/agencies")["agencies"]}
    assert SANITATION in chicago and "HPD" not in chicago
    assert "HPD" in nyc and SANITATION not in nyc
    status = get_json(several_client, "/api/chicago/status")
    assert (status["city"], status["source"], status["timezone"]) == ("chicago", "chicago", "America/Chicago")


def test_a_city_without_a_snapshot_is_a_503_and_an_unknown_city_a_404(several_client: FlaskClient) -> None:
    assert "no data yet" in get_json(several_client, "/api/sf/agencies", 503)["error"]
    assert "/api/cities" in get_json(several_client, "/api/paris/agencies", 404)["error"]
    assert several_client.get("/city/paris/agency").status_code == 404


def test_the_area_parameter_speaks_of_the_citys_area(several_client: FlaskClient) -> None:
    url = f"/api/chicago/agencies/{SANITATION}/scorecard"
    body = get_json(several_client, url + "?area=25")
    assert body["filters"]["area"] == body["filters"]["borough"] == "25"
    assert body["filters"]["area_label"] == "Community area"
    old_name = get_json(several_client, url + "?borough=25")
    assert old_name["metrics"] == body["metrics"]
    bad = get_json(several_client, url + "?area=999", 400)
    assert bad == {
        "error": "area: no breakdown for this community area at Streets and Sanitation",
        "parameter": "area",
    }
    assert get_json(several_client, url + "?borough=999", 400)["parameter"] == "borough"


def test_a_chicago_agency_page_has_community_area_labels_and_filter(several_client: FlaskClient) -> None:
    text = route(several_client, "/city/chicago/agency", f"?agency={SANITATION}&area=25")
    assert "all community areas" in text and "Community area 25" in text
    assert "community areas labelled" in text
    figure = json.loads(text)["response"]["_pages_content"]["children"]
    assert '"page-city"' in json.dumps(figure) and '"chicago"' in json.dumps(figure)
    assert "BROOKLYN" not in text  # no NYC place on Chicago's map


def components(node: Any) -> Iterator[dict[str, Any]]:
    """Every component of a rendered layout (JSON), depth first."""
    if isinstance(node, list):
        for item in node:
            yield from components(item)
    elif isinstance(node, dict):
        if "props" in node:
            yield node
            yield from components(node["props"].get("children"))
        else:
            for value in node.values():
                yield from components(value)


def test_the_city_switcher_links_the_same_page_in_every_city(several_client: FlaskClient) -> None:
    layout = json.loads(route(several_client, "/city/chicago/health"))["response"]["_pages_content"]
    switcher = next(c for c in components(layout) if c["props"].get("id") == "city-switcher")
    links = {c["props"]["children"]: c["props"]["href"] for c in components(switcher) if "href" in c["props"]}
    assert links == {"New York City": "/city/nyc/health", "Chicago": "/city/chicago/health",
                     "San Francisco": "/city/sf/health"}  # fmt: skip
    active = [
        c["props"]["children"] for c in components(switcher) if "active" in c["props"].get("className", "")
    ]
    assert active == ["Chicago"]
    nav = {c["props"]["children"]: c["props"].get("href") for c in components(layout) if "href" in c["props"]}
    assert nav["Compare cities"] == "/cities" and nav["Agency view"] == "/city/chicago/agency"


def test_callbacks_answer_for_the_city_of_the_page(several_client: FlaskClient) -> None:
    deps = several_client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if d["inputs"][0]["id"] == "agency-select" and len(d["inputs"]) > 1)
    values = {
        "agency-select": SANITATION, "complaint-type-select": None, "borough-select": "25",
        "window-select": "7d", "baseline-select": "8w", "period-select": "day",
    }  # fmt: skip

    def call(city: str) -> Any:
        return several_client.post(
            CALLBACK,
            json={
                "output": dep["output"],
                "outputs": [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True))
                            for o in dep["output"].strip(".").split("...")],
                "inputs": [i | {"value": values[i["id"]]} for i in dep["inputs"]],
                "changedPropIds": ["agency-select.value"],
                "state": [s | {"value": city} for s in dep["state"]],
            },
        )  # fmt: skip

    assert "Community area 25" in call("chicago").get_data(as_text=True)
    assert "Unknown agency" in call("nyc").get_data(as_text=True)  # NYC has no such department
    unknown = call("paris")
    assert unknown.status_code == 200 and "Unknown city" in unknown.get_data(as_text=True)


def test_the_etag_changes_when_any_city_publishes(several_home: Any, several_client: FlaskClient) -> None:
    first = several_client.get("/api/compare")
    assert first.status_code == 200 and first.headers["ETag"]
    again = several_client.get("/api/compare", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_comparison_is_computed_from_each_citys_own_snapshot(
    several_home: Any, several_client: FlaskClient
) -> None:
    body = get_json(several_client, "/api/compare")
    cities = {c["city"]: c for c in body["cities"]}
    assert cities["sf"]["available"] is False
    chicago = cities["chicago"]
    assert "Completed" in chicago["closed_means"] and "Canceled" in chicago["closed_means"]
    graffiti = next(r for r in chicago["rows"] if r["category"] == "graffiti")
    assert graffiti["types"] == ["Graffiti Removal Request"]
    with duckdb.connect(str(several_home / "cities" / "chicago" / "serving.duckdb"), read_only=True) as con:
        row = con.execute(
            "SELECT sum(created) FROM type_days WHERE complaint_type = 'Graffiti Removal Request' "
            "AND date > DATE '2026-11-27' - 28"
        ).fetchone()
    assert row is not None
    recent = graffiti["measures"]["volume_recent_per_100k"]
    assert recent["n"] == row[0]
    assert recent["value"] == pytest.approx(row[0] * 100_000 / 2_664_452, abs=0.01)
    noise = next(r for r in cities["nyc"]["rows"] if r["category"] == "noise")
    assert noise["types"] == ["Noise", "Noise - Residential"]  # "Noise - *" pools every noise type


def test_the_compare_page_shows_caveats_and_small_samples(several_client: FlaskClient) -> None:
    text = route(several_client, "/cities")
    assert "What “closed” means" in text and "Completed" in text
    assert "Requests /100k, last 28 days" in text and "cell-small" in text
    assert "San Francisco" in text and "no snapshot yet" in text


def test_the_openapi_document_names_the_city_in_every_city_path(several_client: FlaskClient) -> None:
    doc = get_json(several_client, "/api/openapi.json")
    city_paths = [p for p in doc["paths"] if p.startswith("/api/{city}/")]
    assert len(city_paths) == 5 and "/api/agencies" not in doc["paths"]
    param = doc["paths"]["/api/{city}/agencies"]["get"]["parameters"][0]
    assert param["name"] == "city" and param["schema"]["enum"] == ["nyc", "chicago", "sf"]


def test_the_daily_report_of_chicago_names_no_nyc_borough(several_home: Any) -> None:
    reader = SnapshotReader(several_home / "cities" / "chicago" / "serving.duckdb")
    try:
        text = build_report(reader)
    finally:
        reader.close()
    assert "Streets and Sanitation" in text
    assert "Staten Island" not in text and "Manhattan" not in text
