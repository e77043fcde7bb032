"""SQL expressions that read coordinates out of the five shapes of ``location``.

1. GeoJSON point ``{"type":"Point","coordinates":[lon,lat]}``
2. legacy object ``{"latitude":"40.6","longitude":"-73.9","human_address":"{...}"}``
3. SODA CSV cell of three lines ``"\\n,  \\n(40.67, -73.73)"`` (address lines, then ``(lat, lon)``)
4. WKT ``POINT (lon lat)``
5. ``(lat, lon)`` in portal exports

and, in legacy ``rows.json`` exports, the array ``[human_address, lat, lon, machine_address, flag]``.

The ``latitude``/``longitude`` columns win when both are present; ``location``
is only the fallback. The source's bounding box (its catalog's ``bbox``) flags
coordinates outside the city.
"""

from __future__ import annotations

from resolve311.sources.city import BBox

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_WKT_POINT = rf"(?i)^\s*POINT\s*\(\s*{_NUMBER}\s+{_NUMBER}\s*\)"
_PAREN_PAIR = rf"\(\s*{_NUMBER}\s*,\s*{_NUMBER}\s*\)"


def finite_number_sql(text: str) -> str:
    """A DOUBLE read from a text expression; NULL when unreadable, NaN or infinite."""
    value = f"try_cast(nullif(trim({text}), '') AS DOUBLE)"
    return f"CASE WHEN isfinite({value}) THEN {value} END"


def location_coordinate_sql(location: str, axis: str) -> str:
    """Latitude (``axis='lat'``) or longitude (``'lon'``) parsed from a ``location`` text expression."""
    # per shape, where this axis sits: object key, GeoJSON index, WKT group, (a, b) group, legacy array index
    json_key, geojson_index, wkt_group, paren_group, array_index = (
        ("latitude", 1, 2, 1, 1) if axis == "lat" else ("longitude", 0, 1, 2, 2)
    )
    json_value = finite_number_sql(f"json_extract_string({location}, '$.{json_key}')")
    geojson_value = finite_number_sql(f"json_extract_string({location}, '$.coordinates[{geojson_index}]')")
    wkt_value = finite_number_sql(f"regexp_extract({location}, '{_WKT_POINT}', {wkt_group})")
    paren_value = finite_number_sql(f"regexp_extract({location}, '{_PAREN_PAIR}', {paren_group})")
    array_value = finite_number_sql(f"json_extract_string({location}, '$[{array_index}]')")
    return (
        f"CASE WHEN {location} IS NULL THEN NULL "
        f"WHEN starts_with(ltrim({location}), '{{') AND json_valid({location}) "
        f"THEN coalesce({json_value}, {geojson_value}) "
        f"WHEN starts_with(ltrim({location}), '[') AND json_valid({location}) THEN {array_value} "
        f"WHEN regexp_matches({location}, '{_WKT_POINT}') THEN {wkt_value} "
        f"ELSE {paren_value} END"
    )


def inside_bbox_sql(lat: str, lon: str, bbox: BBox | None) -> str:
    """True when both coordinates fall inside ``bbox`` (any present pair when there is no box)."""
    if bbox is None:
        return f"({lat} IS NOT NULL AND {lon} IS NOT NULL)"
    south, north, west, east = (float(v) for v in bbox)
    return f"({lat} BETWEEN {south} AND {north} AND {lon} BETWEEN {west} AND {east})"


def outside_city_sql(lat: str, lon: str, bbox: BBox | None) -> str:
    """True when both coordinates are present and fall outside the city's ``bbox`` (never without one)."""
    if bbox is None:
        return "false"
    return f"({lat} IS NOT NULL AND {lon} IS NOT NULL AND NOT {inside_bbox_sql(lat, lon, bbox)})"
