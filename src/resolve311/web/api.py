"""The JSON API under /api: Flask routes on the Dash server, reading only the snapshot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request

from resolve311.errors import SnapshotMissing
from resolve311.metrics import registry
from resolve311.sources.categories import Category
from resolve311.web import jsonable, queries, signals
from resolve311.web.cities import CityWeb
from resolve311.web.compare_data import comparison
from resolve311.web.context import WebContext
from resolve311.web.figures import recent_range
from resolve311.web.filters import (
    KINDS,
    PERIODS,
    VARIANTS,
    BadParameter,
    Filters,
    Kind,
    Period,
    Variant,
    area_param,
    choice,
    parse_filters,
)
from resolve311.web.openapi import openapi_document
from resolve311.web.scorecard import HEADLINE, rank_agencies
from resolve311.web.snapshot import SnapshotReader

GROUP_COLUMNS = ("agency", "complaint_type", "borough", "window", "baseline")  # snapshot columns


class NotFound(Exception):
    """An unknown agency (or API path): answered with 404."""


def _error(status: int, message: str, parameter: str | None = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": message}
    if parameter:
        body["parameter"] = parameter
    return jsonify(body), status


def create_api(city: CityWeb, default_window: str, name: str = "api") -> Blueprint:
    """One city's API (``/api`` in a single-city home, else ``/api/<city>``) over its snapshot."""
    api = Blueprint(name, __name__, url_prefix=city.api_prefix)
    reader = city.reader

    def filters_for(code: str | None = None) -> Filters:
        f = parse_filters(request.args, default_window=default_window)
        if code is None:
            return f
        if not queries.agency_exists(reader, code):
            raise NotFound(f"unknown agency {code[:40]!r}")
        f = f.with_(agency=code)
        _check_slices(reader, f, city.area_label)
        return f

    @api.errorhandler(BadParameter)
    def bad_parameter(exc: BadParameter) -> tuple[Response, int]:
        return _error(400, str(exc), exc.param)

    @api.errorhandler(NotFound)
    def not_found(exc: NotFound) -> tuple[Response, int]:
        return _error(404, str(exc), "code")

    @api.errorhandler(SnapshotMissing)
    def missing(exc: SnapshotMissing) -> tuple[Response, int]:
        return _error(503, "no data yet: the serving snapshot has not been published")

    label = city.area_label
    routes: dict[str, Callable[..., Any]] = {
        "/status": lambda: status(reader) | _city_json(city),
        "/agencies": lambda: agencies(reader, filters_for()),
        "/agencies/<code>/scorecard": lambda code: scorecard(reader, filters_for(code), label),
        "/agencies/<code>/heatmap": lambda code: heatmap(reader, filters_for(code), label),
        "/agencies/<code>/series": lambda code: series(reader, filters_for(code), label),
    }
    _add_routes(api, routes)
    return api


def _add_routes(api: Blueprint, routes: dict[str, Callable[..., Any]]) -> None:
    for rule, view in routes.items():
        endpoint = rule.strip("/").replace("/", "_").replace("<", "").replace(">", "").replace(".", "_")
        api.add_url_rule(rule, endpoint, _as_json(view), methods=["GET"])


def _city_json(city: CityWeb) -> dict[str, Any]:
    src = city.source
    return {
        "city": city.name,
        "title": city.title,
        "area_label": city.area_label,
        "areas": [{"name": a.name, "label": a.label} for a in src.areas] if src else [],
        "population": src.population if src else None,
        "api": city.api_prefix,
        "dashboard": city.path(),
    }


def create_home_api(ctx: WebContext, categories: tuple[Category, ...], min_group_size: int) -> Blueprint:
    """What is not one city's: the OpenAPI document, metric registry, city list, cross-city view."""
    api = Blueprint("api_home", __name__, url_prefix="/api")
    cities = list(ctx.cities.values())
    routes: dict[str, Callable[..., Any]] = {
        "/openapi.json": lambda: openapi_document([c.name for c in cities] if ctx.several else None),
        "/metrics": lambda: {"metrics": registry.as_json()},
        "/cities": lambda: {"several": ctx.several, "cities": [_city_json(c) for c in cities]},
        "/compare": lambda: comparison(cities, categories, min_group_size),
    }
    _add_routes(api, routes)
    api.add_url_rule("/<path:rest>", "unknown", _unknown_path)
    return api


def _as_json(view: Callable[..., Any]) -> Callable[..., Response]:
    def wrapped(**kwargs: Any) -> Response:
        return jsonify(view(**kwargs))

    return wrapped


def _unknown_path(rest: str) -> tuple[Response, int]:
    return _error(404, "no such API path (or city); see /api/openapi.json and /api/cities")


def _check_slices(reader: SnapshotReader, f: Filters, label: str) -> None:
    code = f.agency or "*"
    param = area_param(request.args)
    if f.complaint_type and f.area:
        raise BadParameter(param, "cannot be combined with complaint_type (choose one breakdown)")
    if f.complaint_type and f.complaint_type not in queries.slices(reader, code, "complaint_type"):
        raise BadParameter("complaint_type", f"no breakdown for this complaint type at {code}")
    if f.area and f.area not in queries.slices(reader, code, "borough"):
        raise BadParameter(param, f"no breakdown for this {label.lower()} at {code}")


def _filters_json(f: Filters, label: str) -> dict[str, Any]:
    """The filters of an answer: ``area`` (with its label) and, for older clients, ``borough``."""
    return {
        "complaint_type": f.complaint_type,
        "area": f.area,
        "area_label": label,
        "borough": f.area,
        "window": f.window,
        "baseline": f.baseline,
    }


def utc_text(value: str | None) -> str | None:
    """A stored UTC wall-clock ISO text with its zone: ``2026-11-27T23:58:12Z``."""
    if not value:
        return None
    return value if value.endswith("Z") or "+" in value[10:] else value + "Z"


def local_text(value: Any, tz: str) -> str | None:
    """A stored local wall-clock time with its UTC offset: ``2026-11-27T18:58:12-05:00``."""
    text = queries.text(value)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        return moment.isoformat()
    return moment.replace(tzinfo=ZoneInfo(tz)).isoformat()


def _tz(reader: SnapshotReader) -> str:
    zone = queries.meta(reader).get("timezone") or "UTC"
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError):
        return "UTC"
    return zone


def status(reader: SnapshotReader) -> dict[str, Any]:
    try:
        fresh = queries.freshness(reader)
    except SnapshotMissing:
        return {"snapshot": False, "as_of": None, "source_state": "unknown", "last_run": None}
    tz = _tz(reader)
    info = queries.meta(reader)
    return {
        "snapshot": True,
        "timezone": tz,
        "as_of": local_text(fresh.as_of, tz),
        "as_of_date": fresh.as_of_date,
        "generated_at": utc_text(fresh.generated_at),
        "source": fresh.source,
        "source_state": "unavailable" if fresh.unavailable_since else "available",
        "unavailable_since": utc_text(fresh.unavailable_since),
        "last_success_at": utc_text(fresh.last_success_at),
        "watermark": utc_text(fresh.watermark),
        "last_error": fresh.last_error,
        "metrics": dict(zip(("status", "note"), queries.metrics_state(reader), strict=True)),
        "last_run": {
            "run_id": fresh.last_run_id,
            "status": fresh.last_run_status,
            "started_at": utc_text(fresh.last_run_started_at),
            "ended_at": utc_text(fresh.last_run_ended_at),
        },
        "anomaly_target_rate": jsonable.value(_float(info.get("anomaly_target_rate"))),
        "false_alarm_rates": queries.false_alarm_rates(reader),
    }


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def agencies(reader: SnapshotReader, f: Filters) -> dict[str, Any]:
    info = {r["agency"]: r for r in queries.agencies(reader)}
    rows = queries.overview(reader, f, tuple(m for m, _ in HEADLINE))
    ranked = rank_agencies(rows)
    rates = queries.false_alarm_rates(reader, f.window).get(f.window, {})
    summary = signals.summarize(rows, rates, f.baseline, f.window)
    flags = signals.flags_by_agency(summary)
    listed = [s.agency for s in ranked] + sorted(set(info) - {s.agency for s in ranked})
    scores = {s.agency: s for s in ranked}
    tz = _tz(reader)
    out = []
    for code in listed:
        s = scores.get(code)
        base = jsonable.row(info.get(code, {"agency": code}))
        for key in ("first_created", "last_created"):
            base[key] = local_text(info.get(code, {}).get(key), tz)
        base.update(
            movement=jsonable.value(s.movement) if s else None,
            evidence=jsonable.value(s.evidence) if s else None,
            p_value=jsonable.value(s.p_value) if s else None,
            anomaly=bool(s and s.anomaly),
            small_sample=bool(s and s.small_sample),
            flags=[
                {"metric": fl.metric, "strength": fl.strength, "line": fl.line} for fl in flags.get(code, [])
            ],
            headline={
                m: jsonable.row(r, drop=(*GROUP_COLUMNS, "metric", "agency_name"))
                for m, r in s.metrics.items()
            }
            if s
            else {},
        )
        out.append(base)
    return {
        "as_of": local_text(queries.meta(reader).get("as_of"), tz),
        "window": f.window,
        "baseline": f.baseline,
        "summary": summary.headline,
        "flags_expected_by_chance": summary.expected,
        "values_tested": summary.tested,
        "false_alarm_rates": rates,
        "agencies": out,
    }


def scorecard(reader: SnapshotReader, f: Filters, label: str) -> dict[str, Any]:
    rows = [_with_spec(jsonable.row(r, drop=GROUP_COLUMNS)) for r in queries.scorecard(reader, f)]
    drivers = (
        [jsonable.row(r) for r in queries.drivers(reader, f)] if not (f.complaint_type or f.area) else []
    )
    return {
        "agency": f.agency,
        "agency_name": queries.agency_name(reader, f.agency or "*"),
        "filters": _filters_json(f, label),
        "metrics": rows,
        "drivers": drivers,
    }


def _with_spec(row: dict[str, Any]) -> dict[str, Any]:
    """A scorecard row with its registry entry (label, unit, population, direction)."""
    info = registry.spec(str(row.get("metric")))
    if info is not None:
        row.update(label=info.label, unit=info.unit, population=info.population, direction=info.direction)
    return row


def heatmap(reader: SnapshotReader, f: Filters, label: str) -> dict[str, Any]:
    kind = cast(Kind, choice(request.args, "kind", KINDS, "when"))
    variant = cast(Variant, choice(request.args, "variant", VARIANTS, "recent"))
    frame = queries.heatmap(reader, f, kind, variant)
    return {
        "agency": f.agency,
        "kind": kind,
        "variant": variant,
        "unit": "requests per week" if kind == "when" else "requests per day",
        "grid_deg": queries.grid_deg(reader) if kind == "where" else None,
        "filters": _filters_json(f, label),
        "cells": jsonable.records(frame),
    }


def series(reader: SnapshotReader, f: Filters, label: str) -> dict[str, Any]:
    period = cast(Period, choice(request.args, "period", PERIODS, "day"))
    recent = recent_range(queries.meta(reader).get("as_of_date"), f.window)
    return {
        "agency": f.agency,
        "period": period,
        "recent_start": recent[0].isoformat() if recent else None,
        "recent_end": recent[1].isoformat() if recent else None,
        "filters": _filters_json(f, label),
        "points": jsonable.records(queries.series(reader, f, period)),
    }
