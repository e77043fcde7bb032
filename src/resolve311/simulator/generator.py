"""Generate one day of NYC 311 requests as arrays of codes (vectorised with numpy).

A day's rows depend only on (seed, date, count, first key). Times are int64
seconds since 1970 in NYC wall-clock time ("floating"); ``NA`` marks a missing
time. Each request carries its whole future: when it is assigned, closed and
edited late; the store decides which of those a reader sees at the simulated
"now".
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

from resolve311.simulator import calibration as cal
from resolve311.simulator.places import Places, load_places
from resolve311.simulator.vocabulary import Vocabulary, build_vocabulary
from resolve311.simulator.volume import REKEY_ORIGIN, day_index

NA = np.iinfo(np.int64).min
DAY_S = 86_400
NYC_BOX = (40.4957, 40.9155, -74.2557, -73.7004)  # lat min, lat max, lon min, lon max
SENTINELS = (
    int((datetime(1900, 1, 1) - datetime(1970, 1, 1)).total_seconds()),
    int((datetime(1899, 12, 31, 19) - datetime(1970, 1, 1)).total_seconds()),
)
Columns = dict[str, np.ndarray]


def _day_start(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_S


def _pick(rng: np.random.Generator, weighted: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    p = np.array([w for _, w in weighted])
    return rng.choice(len(weighted), size=n, p=p / p.sum())


def _types(rng: np.random.Generator, day: date, n: int) -> np.ndarray:
    p = cal.type_shares() * cal.season_matrix()[:, day.month - 1]
    if day.year < 2020:
        p = p * cal.pre_2020_factors()
    counts = rng.multinomial(n, p / p.sum())
    return np.repeat(np.arange(len(p)), counts)


def _created(rng: np.random.Generator, day: date, type_idx: np.ndarray, voc: Vocabulary) -> np.ndarray:
    cdf = cal.hour_cdf_matrix()[type_idx]
    hour = np.minimum((cdf < rng.random(len(type_idx))[:, None]).sum(axis=1), 23)
    seconds = hour * 3600 + rng.integers(0, 3600, len(type_idx))
    date_only = rng.random(len(type_idx)) < cal.DIRTY["created_at_midnight"]
    return _day_start(day) + np.where(date_only, 0, seconds)


def _keys(rng: np.random.Generator, day: date, created: np.ndarray, key_start: int) -> np.ndarray:
    jittered = created + rng.integers(0, 600, len(created))
    keys = key_start + np.argsort(np.argsort(jittered, kind="stable"), kind="stable")
    rekeyed = np.flatnonzero(rng.random(len(created)) < cal.DIRTY["rekeyed"])[:1000]
    keys[rekeyed] = REKEY_ORIGIN + day_index(day) * 1000 + np.arange(len(rekeyed))
    return keys.astype(np.int64)


def _where(rng: np.random.Generator, cols: Columns, pl: Places, voc: Vocabulary) -> None:
    n = len(cols["type"])
    place = rng.choice(len(pl), size=n, p=pl.weight / pl.weight.sum())
    lat = pl.lat[place] + rng.normal(0, 1, n) * pl.lat_sd[place]
    lon = pl.lon[place] + rng.normal(0, 1, n) * pl.lon_sd[place]
    cols["lat"] = np.clip(lat, NYC_BOX[0], NYC_BOX[1])
    cols["lon"] = np.clip(lon, NYC_BOX[2], NYC_BOX[3])
    helicopter = voc.type_agency[cols["type"]] == voc.agencies.index("EDC")
    unspecified_p = np.where(helicopter, 0.6, cal.DIRTY["unspecified_borough"] * 0.95)
    cols["unspecified"] = rng.random(n) < unspecified_p
    cols["no_coords"] = cols["unspecified"] | (rng.random(n) < cal.DIRTY["missing_coordinates"] - 0.05)
    cols["place"] = place
    cols["street"] = pl.street_offset[place] + rng.integers(0, 1 << 30, n) % pl.street_count[place]
    cols["cross1"] = pl.street_offset[place] + rng.integers(0, 1 << 30, n) % pl.street_count[place]
    cols["cross2"] = pl.street_offset[place] + rng.integers(0, 1 << 30, n) % pl.street_count[place]
    cols["house"] = rng.integers(1, 3000, n)
    cols["address_type"] = _pick(rng, cal.ADDRESS_TYPES, n)
    cols["channel"] = _pick(rng, cal.CHANNELS, n)
    cols["bbl_block"] = rng.integers(1, 9999, n)
    cols["bbl_lot"] = rng.integers(1, 200, n)
    cols["junk_zip"] = np.where(
        rng.random(n) < cal.DIRTY["junk_zip"], rng.integers(0, len(cal.JUNK_ZIPS), n), -1
    )


def _what(rng: np.random.Generator, cols: Columns, voc: Vocabulary) -> None:
    type_idx = cols["type"]
    n = len(type_idx)
    cols["descriptor"] = (
        voc.descriptor_offset[type_idx] + rng.integers(0, 1 << 30, n) % voc.descriptor_count[type_idx]
    )
    junk = rng.random(n) < cal.DIRTY["junk_type"]
    junk_names = voc.junk_offset + rng.integers(0, len(cal.JUNK_TYPES), n)
    cols["type_name"] = np.where(junk, junk_names, type_idx)
    cols["agency"] = voc.type_agency[type_idx]


def _long_tail(tail_rng: np.random.Generator, cols: Columns, voc: Vocabulary) -> None:
    """Relabel TAIL_RELABEL of the requests of agencies with tail labels (own generator)."""
    agency = cols["agency"]
    n = len(agency)
    count = voc.tail_count[agency]
    relabel = (tail_rng.random(n) < cal.TAIL_RELABEL) & (count > 0) & (cols["type_name"] < voc.junk_offset)
    pick = voc.tail_offset[agency] + tail_rng.integers(0, 1 << 30, n) % np.maximum(count, 1)
    cols["type_name"] = np.where(relabel, pick, cols["type_name"])
    cols["descriptor"] = np.where(relabel, voc.na_descriptor, cols["descriptor"])


def _lifecycle(rng: np.random.Generator, cols: Columns, voc: Vocabulary) -> None:
    """Assignment, closing and late edits (event times), with the dirty variants."""
    type_idx, created, agency = cols["type"], cols["created"], cols["agency"]
    n = len(type_idx)
    ttc = np.exp(np.log(voc.ttc_median_s[type_idx]) + voc.ttc_sigma[type_idx] * rng.normal(0, 1, n))
    ttc = np.where(rng.random(n) < cal.DIRTY["closed_same_second"], 0, ttc).astype(np.int64)
    close = created + ttc
    midnight_agencies = np.isin(agency, [voc.agencies.index(a) for a in ("DSNY", "DOB", "DPR")])
    to_midnight = midnight_agencies & (rng.random(n) < cal.DIRTY["midnight_close_share_dsny_dob_dpr"])
    close = np.where(to_midnight & (ttc > 0), (close // DAY_S + 1) * DAY_S, close)
    never = rng.random(n) < cal.DIRTY["never_closed"]
    cols["close_at"] = np.where(never, NA, close)
    cols["closed_value"] = _closed_values(rng, cols["close_at"], created)
    final = _pick(rng, cal.ODD_FINAL_STATUSES, n) + voc.status_index("Closed")
    open_with_date = rng.random(n) < cal.DIRTY["open_with_closed_date"]
    cols["final_status"] = np.where(open_with_date, voc.status_index("In Progress"), final)
    without_date = rng.random(n) < cal.DIRTY["closed_without_date"]
    cols["closed_value"] = np.where(without_date, NA, cols["closed_value"])
    nypd = agency == voc.agencies.index("NYPD")
    cols["open_status"] = np.where(nypd & (rng.random(n) < 0.5), voc.status_index("In Progress"), 0)
    assigned = ~nypd & (rng.random(n) < 0.6) & (ttc > 600)
    assign_delay = (np.minimum(ttc, 30 * DAY_S) * rng.uniform(0.05, 0.5, n)).astype(np.int64)
    cols["assign_at"] = np.where(assigned, created + assign_delay, NA)
    work = rng.choice(len(cal.IN_WORK_STATUSES), size=n, p=[0.7, 0.2, 0.07, 0.03]) + 1
    cols["work_status"] = work
    _edits(rng, cols, voc)


def _closed_values(rng: np.random.Generator, close_at: np.ndarray, created: np.ndarray) -> np.ndarray:
    n = len(created)
    values = close_at.copy()
    before = (rng.random(n) < cal.DIRTY["closed_before_created"]) & (close_at != NA)
    back = (rng.exponential(119, n) * DAY_S).astype(np.int64) + 1
    values = np.where(before, created - back, values)
    sentinel = before & (rng.random(n) < cal.DIRTY["sentinel_share_of_before"])
    values = np.where(sentinel, np.array(SENTINELS)[rng.integers(0, 2, n)], values)
    future = (rng.random(n) < cal.DIRTY["far_future_close"]) & (close_at != NA)
    return np.where(future, close_at + 1001 * 365 * DAY_S, values)


def _edits(rng: np.random.Generator, cols: Columns, voc: Vocabulary) -> None:
    n = len(cols["created"])
    agency, close_at = cols["agency"], cols["close_at"]
    delay = np.exp(np.log(DAY_S) + 1.5 * rng.normal(0, 1, n)).astype(np.int64) + 1
    very_late = rng.random(n) < cal.DIRTY["very_late_edit"]
    delay = np.where(very_late, rng.integers(365, 1100, n) * DAY_S, delay)
    edited = (close_at != NA) & ((rng.random(n) < cal.DIRTY["late_edit"]) | very_late)
    cols["edit_at"] = np.where(edited, close_at + delay, NA)
    back = rng.integers(60, 30 * DAY_S, n)
    dirty = rng.random(n) < cal.DIRTY["resolution_before_created"]
    cols["res_shift_s"] = np.where(dirty, back, 0)
    pick = rng.integers(0, 1 << 30, n) % voc.close_text_count[agency]
    close_text = voc.close_text_offset[agency] + pick
    dpr_first = (agency == voc.agencies.index("DPR")) & (pick == 0)
    mojibake = dpr_first & (rng.random(n) < cal.DIRTY["mojibake_dpr"] * 2)
    cols["close_text"] = np.where(mojibake, voc.mojibake_text, close_text)
    due = rng.random(n) < cal.DIRTY["due_date_present"]
    cols["due_at"] = np.where(due, cols["created"] + rng.integers(8 * 3600, 10 * DAY_S, n), NA)


def generate_day(seed: int, day: date, n: int, key_start: int) -> Columns:
    """All rows created on ``day`` (``n`` of them, keys from ``key_start``), sorted by creation time."""
    rng = np.random.default_rng([seed, day.toordinal()])
    voc, pl = build_vocabulary(), load_places()
    type_idx = _types(rng, day, n)
    created = _created(rng, day, type_idx, voc)
    order = np.argsort(created, kind="stable")
    cols: Columns = {"type": type_idx[order], "created": created[order]}
    cols["key"] = _keys(rng, day, cols["created"], key_start)
    _what(rng, cols, voc)
    _where(rng, cols, pl, voc)
    _lifecycle(rng, cols, voc)
    _long_tail(np.random.default_rng([seed, day.toordinal(), 1]), cols, voc)
    return cols
