"""The OpenAPI 3 document describing /api (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from resolve311 import __version__
from resolve311.web.filters import BASELINES, KINDS, PERIODS, VARIANTS, WINDOWS


def _enum(name: str, values: tuple[str, ...], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "enum": list(values)},
    }


def _text(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "maxLength": 200},
    }


WINDOW = _enum(
    "window", WINDOWS, "Recent window: the last 1, 7 or 28 days (default: the server's `recent` setting)."
)
BASELINE = _enum(
    "baseline", BASELINES, "Historical baseline: same weekdays over 8 weeks, or one year earlier."
)
SLICE = [
    _text("complaint_type", "Only this complaint type of the agency (not with area)."),
    _text(
        "area",
        "Only this value of the city's main area dimension — NYC borough, Chicago community area, "
        "SF supervisor district (`area_label` in answers names it; not with complaint_type).",
    ),
    _text("borough", "The older name of `area`, still accepted (deprecated).") | {"deprecated": True},
]
CODE = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": "Agency code, e.g. NYPD.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 40},
}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


ERROR = {"$ref": "#/components/schemas/Error"}
ERRORS = {
    "400": _json("A bad query parameter, named in `parameter`.", ERROR),
    "404": _json("Unknown agency.", ERROR),
    "503": _json("No snapshot has been published yet.", ERROR),
}


def _city(names: list[str]) -> dict[str, Any]:
    return {
        "name": "city",
        "in": "path",
        "required": True,
        "description": "The city (see /api/cities).",
        "schema": {"type": "string", "enum": names},
    }


def _get(
    summary: str, params: list[dict[str, Any]], ok: str, *, agency: bool = True, city: list[str] | None = None
) -> dict[str, Any]:
    responses = {"200": _json(ok), **ERRORS}
    if not agency and not city:
        responses.pop("404")
    path_params = ([_city(city)] if city else []) + ([CODE] if agency else [])
    return {"get": {"summary": summary, "parameters": path_params + params, "responses": responses}}


DESCRIPTION = (
    "Read-only JSON over the serving snapshots: the daily review of 311 resolution. A home that "
    "keeps several cities serves each city's paths under /api/{city}/ (the city-less paths redirect "
    "to the first city); /api/cities lists the cities and /api/compare compares them."
)


def openapi_document(cities: list[str] | None = None) -> dict[str, Any]:
    """The whole document as a dict (``cities``: the names of a several-city home, else None)."""
    prefix = "/api/{city}" if cities else "/api"
    city_paths = {prefix + path: spec for path, spec in _city_paths(cities).items()}
    return {
        "openapi": "3.0.3",
        "info": {"title": "resolve311 API", "version": __version__, "description": DESCRIPTION},
        "paths": {**city_paths, **_home_paths()},
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}, "parameter": {"type": "string"}},
                }
            }
        },
    }


def _home_paths() -> dict[str, Any]:
    return {
        "/api/metrics": {
            "get": {
                "summary": "The metric registry: name, label, unit, population (what n counts), direction.",
                "responses": {"200": _json("Metrics.", {"type": "object", "required": ["metrics"]})},
            }
        },
        "/api/cities": {
            "get": {
                "summary": "The cities served: name, title, area dimensions with display names, population, "
                "their API and dashboard paths.",
                "responses": {"200": _json("Cities.", {"type": "object", "required": ["cities"]})},
            }
        },
        "/api/compare": {
            "get": {
                "summary": "Each city × shared service category (categories.toml): requests per 100k "
                "residents (last 28 days, historical), median days to close and share closed within "
                "7 days by creation cohort, open backlog per 100k — each with its n and small-sample "
                "mark — and what 'closed' means in each city.",
                "responses": {
                    "200": _json("Comparison.", {"type": "object", "required": ["categories", "cities"]})
                },
            }
        },
    }


def _city_paths(cities: list[str] | None) -> dict[str, Any]:
    view = [*SLICE, WINDOW, BASELINE]
    status_responses: dict[str, Any] = {
        "200": _json("Status.", {"type": "object", "required": ["as_of", "source_state"]})
    }
    if cities:
        status_responses["404"] = ERRORS["404"]
    city = cities or None
    return {
        "/status": {
            "get": {
                "summary": "Freshness: data as-of time, last run, source state; the city and its area label.",
                "parameters": [_city(cities)] if cities else [],
                "responses": status_responses,
            }
        },
        "/agencies": _get(
            "Every agency with its headline metrics and flags, strongest calibrated evidence first.",
            [WINDOW, BASELINE],
            "Agencies.",
            agency=False,
            city=city,
        ),
        "/agencies/{code}/scorecard": _get(
            "Every metric of one agency (or slice): recent, historical, difference.",
            view,
            "Scorecard.",
            city=city,
        ),
        "/agencies/{code}/heatmap": _get(
            "When (weekday × hour, per week) or where (grid cell, per day) requests were created.",
            [
                _enum("kind", KINDS, "when or where (default when)."),
                _enum("variant", VARIANTS, "recent, historical or difference (default recent)."),
                *view,
            ],
            "Heat map cells.",
            city=city,
        ),
        "/agencies/{code}/series": _get(
            "Created and closed per day (400 days) or week, with the baseline band.",
            [_enum("period", PERIODS, "day or week (default day)."), *view],
            "Series points.",
            city=city,
        ),
    }
