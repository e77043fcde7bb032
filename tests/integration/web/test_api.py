"""The JSON API: every endpoint, filters, bad parameters, unknown agencies, no snapshot yet."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from e2e.snapshot_factory import HOSTILE_TYPE


def get_json(client: FlaskClient, url: str, status: int = 200) -> dict:  # type: ignore[type-arg]
    response = client.get(url)
    assert response.status_code == status, response.data[:300]
    assert response.content_type.startswith("application/json")
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def test_status_reports_as_of_last_run_and_source_state(client: FlaskClient) -> None:
    body = get_json(client, "/api/status")
    assert body["as_of"] == "2026-11-27T23:58:12-05:00"  # local wall clock, with its offset
    assert body["timezone"] == "America/New_York"
    assert body["source_state"] == "available"
    assert body["unavailable_since"] is None
    assert body["last_run"]["status"] == "success"
    for stamp in (body["generated_at"], body["last_success_at"], body["last_run"]["started_at"]):
        assert stamp is None or stamp.endswith("Z")  # UTC instants say so


def test_agencies_lists_every_agency_most_moved_first_small_samples_last(client: FlaskClient) -> None:
    body = get_json(client, "/api/agencies?window=7d&baseline=8w")
    codes = [a["agency"] for a in body["agencies"]]
    assert set(codes) == {"NYPD", "HPD", "DSNY", "DOT", "DEP", "DPR", "DOB", "TLC", "EVIL"}
    assert codes[0] == "HPD" and body["agencies"][0]["anomaly"] is True
    assert codes[-1] == "TLC" and body["agencies"][-1]["small_sample"] is True
    assert set(body["agencies"][0]["headline"]) >= {"created_per_day", "ttc_median_h", "closed_within_1d"}


def test_agencies_say_who_is_flagged_in_one_line_and_how_many_chance_would_flag(client: FlaskClient) -> None:
    body = get_json(client, "/api/agencies?window=7d&baseline=8w")
    flagged = [a for a in body["agencies"] if a["flags"]]
    assert flagged and flagged[0]["agency"] == body["agencies"][0]["agency"]
    assert all(a["evidence"] > 1 for a in flagged)
    assert " vs " in flagged[0]["flags"][0]["line"] and "n = " in flagged[0]["flags"][0]["line"]
    assert body["summary"].startswith(f"{sum(len(a['flags']) for a in flagged)} flagged value")
    assert body["values_tested"] > 0 and 0 < body["flags_expected_by_chance"] < body["values_tested"]
    assert 0 < body["false_alarm_rates"]["created_per_day"] < 0.01


def test_status_publishes_the_measured_false_alarm_rates(client: FlaskClient) -> None:
    body = get_json(client, "/api/status")
    assert body["anomaly_target_rate"] == 0.01
    rates = body["false_alarm_rates"]
    assert set(rates) == {"1d", "7d", "28d"} and 0 < rates["7d"]["ttc_median_h"] < 0.01


def test_scorecard_has_every_metric_and_the_drivers(client: FlaskClient) -> None:
    body = get_json(client, "/api/agencies/HPD/scorecard?window=28d&baseline=1y")
    metrics = {m["metric"]: m for m in body["metrics"]}
    assert len(metrics) == 16
    created = metrics["created_per_day"]
    assert created["diff_abs"] == pytest.approx(created["recent"] - created["historical"])
    assert metrics["on_time_share"]["recent"] is None
    assert next(d["complaint_type"] for d in body["drivers"]) == "HEAT/HOT WATER"
    assert body["filters"] == {
        "complaint_type": None,
        "area": None,
        "area_label": "Borough",
        "borough": None,  # the older name of `area`, kept for existing clients
        "window": "28d",
        "baseline": "1y",
    }


def test_scorecard_of_one_complaint_type_and_of_one_borough(client: FlaskClient) -> None:
    by_type = get_json(client, "/api/agencies/HPD/scorecard?complaint_type=PLUMBING")
    by_borough = get_json(client, "/api/agencies/HPD/scorecard?borough=BRONX")
    whole = get_json(client, "/api/agencies/HPD/scorecard")

    def created(body: dict) -> float:  # type: ignore[type-arg]
        return next(m["historical"] for m in body["metrics"] if m["metric"] == "created_per_day")

    assert created(by_type) < created(whole) and created(by_borough) < created(whole)
    assert by_type["drivers"] == []


@pytest.mark.parametrize("kind,cells", [("when", 7 * 24), ("where", None)])
@pytest.mark.parametrize("variant", ["recent", "historical", "difference"])
def test_heatmap_kinds_and_variants(client: FlaskClient, kind: str, cells: int | None, variant: str) -> None:
    body = get_json(client, f"/api/agencies/DSNY/heatmap?kind={kind}&variant={variant}")
    assert body["kind"] == kind and body["variant"] == variant
    if cells:
        assert len(body["cells"]) == cells
        assert {c["weekday"] for c in body["cells"]} == set(range(7))
    else:
        assert len(body["cells"]) > 50 and body["grid_deg"] == pytest.approx(0.02)
    if variant == "difference":
        assert any(c["value"] < 0 for c in body["cells"])  # DSNY's volume fell


def test_series_by_day_with_band_and_by_week_without(client: FlaskClient) -> None:
    day = get_json(client, "/api/agencies/NYPD/series?window=7d")
    week = get_json(client, "/api/agencies/NYPD/series?period=week")
    assert len(day["points"]) == 400 and day["points"][-1]["date"] == "2026-11-27"
    assert day["recent_start"] == "2026-11-21" and day["recent_end"] == "2026-11-27"
    assert day["points"][0]["baseline_low"] <= day["points"][0]["baseline_high"]
    assert week["period"] == "week" and week["points"][0]["baseline_mid"] is None


@pytest.mark.parametrize(
    "url,param",
    [
        ("/api/agencies?window=2d", "window"),
        ("/api/agencies?baseline=2y", "baseline"),
        ("/api/agencies/HPD/scorecard?window=", None),
        ("/api/agencies/HPD/heatmap?kind=why", "kind"),
        ("/api/agencies/HPD/heatmap?variant=future", "variant"),
        ("/api/agencies/HPD/series?period=month", "period"),
        ("/api/agencies/HPD/scorecard?complaint_type=Nope", "complaint_type"),
        ("/api/agencies/HPD/scorecard?borough=ATLANTIS", "borough"),
        ("/api/agencies/HPD/scorecard?borough=BRONX&complaint_type=PLUMBING", "borough"),
        ("/api/agencies/HPD/scorecard?complaint_type=%00bad", "complaint_type"),
        ("/api/agencies/HPD/scorecard?borough=" + "x" * 300, "borough"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    client: FlaskClient, url: str, param: str | None
) -> None:
    if param is None:  # an empty value means "the default"
        get_json(client, url)
        return
    body = get_json(client, url, 400)
    assert body["parameter"] == param and param in body["error"]


@pytest.mark.parametrize("endpoint", ["scorecard", "heatmap", "series"])
def test_unknown_agency_is_404(client: FlaskClient, endpoint: str) -> None:
    body = get_json(client, f"/api/agencies/NOPE/{endpoint}", 404)
    assert "NOPE" in body["error"]


def test_unknown_api_path_is_a_json_404(client: FlaskClient) -> None:
    assert "openapi" in get_json(client, "/api/agencies/HPD/scorecard/extra", 404)["error"]


def test_hostile_text_comes_back_as_plain_json_strings(client: FlaskClient) -> None:
    body = get_json(client, "/api/agencies/EVIL/scorecard")
    assert HOSTILE_TYPE in [d["complaint_type"] for d in body["drivers"]]
    assert "<img" in body["agency_name"]  # data, not markup: JSON consumers must escape it
    raw = get_json(client, "/api/agencies/EVIL/scorecard?complaint_type=" + HOSTILE_TYPE.replace("=", "%3D"))
    assert len(raw["metrics"]) == 16


def test_openapi_document_lists_every_endpoint(client: FlaskClient) -> None:
    doc = get_json(client, "/api/openapi.json")
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/api/status",
        "/api/metrics",
        "/api/agencies",
        "/api/agencies/{code}/scorecard",
        "/api/agencies/{code}/heatmap",
        "/api/agencies/{code}/series",
        "/api/cities",
        "/api/compare",
    }


def test_a_single_city_home_lists_its_one_city_and_compares_it(client: FlaskClient) -> None:
    body = get_json(client, "/api/cities")
    assert body["several"] is False
    assert [(c["city"], c["api"], c["dashboard"], c["area_label"]) for c in body["cities"]] == [
        ("nyc", "/api", "/", "Borough")
    ]
    (nyc,) = get_json(client, "/api/compare")["cities"]
    assert nyc["available"] and nyc["population"] == 8_258_035


def test_metrics_endpoint_is_the_registry_and_scorecard_rows_carry_it(client: FlaskClient) -> None:
    body = get_json(client, "/api/metrics")
    names = [m["metric"] for m in body["metrics"]]
    assert names[0] == "created_per_day" and "closed_within_7d" in names
    cohort = next(m for m in body["metrics"] if m["metric"] == "closed_within_7d")
    assert cohort["unit"] == "share" and cohort["population"] == "cohort_7d"
    rows = get_json(client, "/api/agencies/NYPD/scorecard")["metrics"]
    ttc = next(r for r in rows if r["metric"] == "ttc_median_h")
    assert ttc["unit"] == "hours" and ttc["population"] == "closed" and ttc["direction"] == "up_bad"


def test_without_a_snapshot_status_says_so_and_data_endpoints_are_503(empty_client: FlaskClient) -> None:
    assert get_json(empty_client, "/api/status")["snapshot"] is False
    assert "no data yet" in get_json(empty_client, "/api/agencies", 503)["error"]
    get_json(empty_client, "/api/agencies/HPD/series", 503)


@pytest.mark.parametrize("path", ["/", "/agency?agency=HPD", "/health", "/agency?agency=HPD&window=zz"])
def test_pages_answer_with_and_without_a_snapshot(
    client: FlaskClient, empty_client: FlaskClient, path: str
) -> None:
    for c in (client, empty_client):
        response = c.get(path)
        assert response.status_code == 200
        assert b"/_dash-component-suites/" in response.data  # assets served locally, no CDN
        assert b"cdn.plot.ly" not in response.data and b"unpkg.com" not in response.data
