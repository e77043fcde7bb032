"""Turn generated code arrays into an Arrow table of requests (strings as dictionaries).

The table holds every static SODA column plus the lifecycle columns the store
needs to show a request as it was at any moment (see ``store.CURRENT_ROWS_SQL``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from resolve311.simulator import calibration as cal
from resolve311.simulator.generator import NA, Columns
from resolve311.simulator.places import Places, load_places
from resolve311.simulator.vocabulary import Vocabulary, build_vocabulary

Renames = tuple[tuple[str, str, str], ...]
_ALPHABET = np.frombuffer(b"23456789abcdefghijkmnpqrstuvwxyz", dtype=np.uint8)
_MIX = np.uint64(0x9E3779B97F4A7C15)

#: Per-type values of the rarely-filled vehicle / bridge columns.
TYPE_EXTRAS: dict[str, dict[str, str]] = {
    "vehicle_type": {"For Hire Vehicle Complaint": "Car Service", "Abandoned Vehicle": "Car"},
    "taxi_pick_up_location": {"Taxi Complaint": "Other"},
    "bridge_highway_name": {"Highway Condition": "BQE/Gowanus Expwy"},
    "bridge_highway_direction": {"Highway Condition": "Queens Bound"},
    "road_ramp": {"Highway Condition": "Roadway"},
    "bridge_highway_segment": {"Highway Condition": "Exit 25 (N) Tillary St - Exit 26 (N) Brooklyn Bridge"},
}


def socrata_row_ids(keys: np.ndarray) -> pa.Array:
    """Stable, unique ``:id`` values (``row-xxxx~xxxx_xxxx``), a bijection of the key."""
    mixed = (keys.astype(np.uint64) * _MIX) & np.uint64((1 << 60) - 1)
    shifts = np.uint64(5) * np.arange(11, -1, -1, dtype=np.uint64)
    digits = _ALPHABET[((mixed[:, None] >> shifts) & np.uint64(31)).astype(np.int64)]
    out = np.empty((len(keys), 18), dtype=np.uint8)
    out[:, :4] = np.frombuffer(b"row-", dtype=np.uint8)
    out[:, 4:8], out[:, 9:13], out[:, 14:18] = digits[:, 0:4], digits[:, 4:8], digits[:, 8:12]
    out[:, 8], out[:, 13] = ord("~"), ord("_")
    return pa.array(out.view("S18").ravel(), type=pa.binary(18)).cast(pa.string())


def _dict(indices: np.ndarray, values: Sequence[str | None], mask: np.ndarray | None = None) -> pa.Array:
    """Strings by index; a None value or a True in ``mask`` gives null. The dictionary has no duplicates."""
    none = np.array([v is None for v in values], dtype=bool)
    null = none[indices] if mask is None else none[indices] | mask
    texts = [v or "" for v in values]
    unique = list(dict.fromkeys(texts))
    position = {text: i for i, text in enumerate(unique)}
    remap = np.array([position[t] for t in texts], dtype=np.int32)
    codes = pa.array(remap[indices] if len(texts) else indices.astype(np.int32), type=pa.int32(), mask=null)
    return pa.DictionaryArray.from_arrays(codes, pa.array(unique, type=pa.string()))


def _ts(seconds: np.ndarray) -> pa.Array:
    """Microsecond timestamps (DuckDB's TIMESTAMP; year 3027 fits, unlike nanoseconds)."""
    missing = seconds == NA
    return pa.array(np.where(missing, 0, seconds) * 1_000_000, type=pa.timestamp("us"), mask=missing)


def _int_text(values: np.ndarray, mask: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values.astype(np.int64), mask=mask), pa.string())


def _join(left: pa.Array, right: pa.Array, mask: np.ndarray) -> pa.Array:
    joined = pc.binary_join_element_wise(left, right, " ")
    return pc.if_else(pa.array(mask), pa.nulls(len(mask), pa.string()), joined)


def _renamed(index: np.ndarray, created: np.ndarray, labels: list[str], renames: Renames) -> np.ndarray:
    """Indices pointing at a label's old spelling for rows created before the rename (extends ``labels``)."""
    for new, old, since in renames:
        labels.append(old)
        start = (date.fromisoformat(since) - date(1970, 1, 1)).days * 86_400
        index = np.where((index == labels.index(new)) & (created < start), len(labels) - 1, index)
    return index


def _agency_codes(cols: Columns, voc: Vocabulary) -> tuple[pa.Array, pa.Array]:
    codes = list(voc.agencies)
    index = _renamed(cols["agency"], cols["created"], codes, cal.AGENCY_RENAMES)
    names = [*voc.agency_names, *(cal.OLD_AGENCY_NAMES[old] for _, old, _ in cal.AGENCY_RENAMES)]
    return _dict(index, list(codes)), _dict(index, names)


def _complaint_types(cols: Columns, voc: Vocabulary) -> pa.Array:
    labels = list(voc.type_names)
    return _dict(_renamed(cols["type_name"], cols["created"], labels, cal.TYPE_RENAMES), list(labels))


def _place_columns(cols: Columns, pl: Places) -> dict[str, pa.Array]:
    place, unspecified = cols["place"], cols["unspecified"]
    no_coords = cols["no_coords"]
    borough = _dict(np.where(unspecified, len(pl), place), [*pl.borough, "Unspecified"])
    zips = [*pl.zip, *cal.JUNK_ZIPS]
    zip_index = np.where(cols["junk_zip"] >= 0, len(pl.zip) + cols["junk_zip"], place)
    lat = np.where(no_coords, np.nan, cols["lat"])
    lon = np.where(no_coords, np.nan, cols["lon"])
    fit = cal.STATE_PLANE_FIT
    x = fit[0] + fit[1] * cols["lon"] + fit[2] * cols["lat"]
    y = fit[3] + fit[4] * cols["lon"] + fit[5] * cols["lat"]
    digit = np.array([cal.BOROUGH_DIGIT[b] for b in pl.borough])[place]
    has_bbl = (cols["address_type"] == 0) & ~unspecified
    bbl = digit * 1_000_000_000 + cols["bbl_block"] * 10_000 + cols["bbl_lot"]
    return {
        "incident_zip": _dict(zip_index, zips, unspecified),
        "city": _dict(place, list(pl.city), unspecified),
        "community_board": _dict(
            np.where(unspecified, len(pl), place), [*pl.community_board, "0 Unspecified"]
        ),
        "council_district": _dict(place, list(pl.council_district), unspecified),
        "police_precinct": _dict(place, list(pl.police_precinct), unspecified),
        "bbl": _int_text(bbl, ~has_bbl),
        "borough": borough,
        "x_coordinate_state_plane": _int_text(np.round(x), no_coords),
        "y_coordinate_state_plane": _int_text(np.round(y), no_coords),
        "park_borough": borough,
        "latitude": pa.array(lat, mask=no_coords),
        "longitude": pa.array(lon, mask=no_coords),
    }


def _address_columns(cols: Columns, pl: Places) -> dict[str, pa.Array]:
    kind, unspecified = cols["address_type"], cols["unspecified"]
    streets: list[str | None] = list(pl.streets)
    street = _dict(cols["street"], streets).cast(pa.string())
    is_address, is_intersection, is_blockface = kind == 0, kind == 1, kind == 2
    on_street = (is_address | is_blockface) & ~unspecified
    house = pc.cast(pa.array(cols["house"]), pa.string())
    return {
        "incident_address": _join(house, street, ~(is_address & ~unspecified)),
        "street_name": _dict(cols["street"], streets, ~on_street),
        "cross_street_1": _dict(cols["cross1"], streets, ~on_street),
        "cross_street_2": _dict(cols["cross2"], streets, ~on_street),
        "intersection_street_1": _dict(cols["street"], streets, ~is_intersection | unspecified),
        "intersection_street_2": _dict(cols["cross1"], streets, ~is_intersection | unspecified),
        "address_type": _dict(kind, [a for a, _ in cal.ADDRESS_TYPES], unspecified),
    }


def _type_extras(cols: Columns, voc: Vocabulary) -> dict[str, pa.Array]:
    out = {}
    names = voc.type_names[: len(cal.COMPLAINT_TYPES)]
    for column, mapping in TYPE_EXTRAS.items():
        out[column] = _dict(cols["type"], [mapping.get(name) for name in names])
    taxi = _dict(cols["type"], ["x" if n == "Taxi Complaint" else None for n in names])
    out["taxi_company_borough"] = pc.if_else(pc.is_null(taxi), pa.nulls(len(taxi), pa.string()), "BROOKLYN")
    return out


def requests_table(cols: Columns) -> pa.Table:
    """The Arrow table of one batch of generated requests."""
    voc, pl = build_vocabulary(), load_places()
    n = len(cols["key"])
    agency, agency_name = _agency_codes(cols, voc)
    statuses: list[str | None] = list(voc.statuses)
    texts: list[str | None] = list(voc.texts)
    agency_idx = cols["agency"]
    data: dict[str, pa.Array] = {
        "unique_key": pc.cast(pa.array(cols["key"]), pa.string()),
        "created_date": _ts(cols["created"]),
        "agency": agency,
        "agency_name": agency_name,
        "complaint_type": _complaint_types(cols, voc),
        "descriptor": _dict(cols["descriptor"], list(voc.descriptors)),
        "descriptor_2": pa.nulls(n, pa.string()),
        "location_type": _dict(cols["type"], voc.location_types),
        **_address_columns(cols, pl),
        "landmark": pa.nulls(n, pa.string()),
        "facility_type": _dict(agency_idx, voc.facility_types),
        "due_date": _ts(cols["due_at"]),
        **_place_columns(cols, pl),
        "open_data_channel_type": _dict(cols["channel"], [c for c, _ in cal.CHANNELS]),
        "park_facility_name": pa.array(["Unspecified"] * n, pa.string()).dictionary_encode(),
        **_type_extras(cols, voc),
        # lifecycle
        "sys_id": socrata_row_ids(cols["key"]),
        "open_status": _dict(cols["open_status"], statuses),
        "work_status": _dict(cols["work_status"], statuses),
        "final_status": _dict(cols["final_status"], statuses),
        "assign_at": _ts(cols["assign_at"]),
        "close_at": _ts(cols["close_at"]),
        "closed_value": _ts(cols["closed_value"]),
        "edit_at": _ts(cols["edit_at"]),
        "open_text": _dict(voc.open_text[agency_idx], texts),
        "work_text": _dict(voc.work_text[agency_idx], texts),
        "close_text": _dict(cols["close_text"], texts),
        "edit_text": _dict(voc.edit_text[agency_idx], texts),
        "res_shift_s": pa.array(cols["res_shift_s"].astype(np.int64)),
    }
    return pa.table(data)
