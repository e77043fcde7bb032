"""The string tables the generator draws codes from (complaint types, statuses, texts)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from resolve311.simulator import calibration as cal

STATUSES: tuple[str, ...] = ("Open", *cal.IN_WORK_STATUSES, *(s for s, _ in cal.ODD_FINAL_STATUSES))


@dataclass(frozen=True)
class Vocabulary:
    """Every generated string lives in one of these lists; rows hold indices into them."""

    agencies: list[str]
    agency_names: list[str]
    type_names: list[str]  # complaint types, then the tail labels, then JUNK_TYPES
    type_agency: np.ndarray  # agency index of each calibrated type
    tail_offset: np.ndarray  # per agency: first tail label in type_names
    tail_count: np.ndarray  # per agency: number of tail labels (0: none)
    junk_offset: int  # first junk label in type_names
    descriptors: list[str]
    descriptor_offset: np.ndarray
    descriptor_count: np.ndarray
    na_descriptor: int  # "N/A", the descriptor of relabelled tail rows
    location_types: list[str | None]  # per type
    facility_types: list[str | None]  # per agency
    statuses: list[str]
    texts: list[str]
    open_text: np.ndarray  # per agency: index into texts
    work_text: np.ndarray
    edit_text: np.ndarray
    close_text_offset: np.ndarray  # per agency
    close_text_count: np.ndarray
    mojibake_text: int  # DPR close text written with mojibake (index into texts)
    ttc_median_s: np.ndarray  # per type
    ttc_sigma: np.ndarray  # per type

    def status_index(self, status: str) -> int:
        return self.statuses.index(status)


def _close_texts(agency: str, long_name: str) -> list[str]:
    templates = cal.CLOSE_TEXTS.get(agency, cal.CLOSE_TEXTS["*"])
    return [t.format(agency_long=long_name, apostrophe="'") for t in templates]


@lru_cache(maxsize=1)
def build_vocabulary() -> Vocabulary:
    """Build the tables from calibration (cached)."""
    types = cal.COMPLAINT_TYPES
    agencies = list(dict.fromkeys(t.agency for t in types))
    names = [cal.AGENCY_NAMES[a] for a in agencies]
    descriptors: list[str] = []
    d_offset, d_count = [], []
    for t in types:
        d_offset.append(len(descriptors))
        d_count.append(len(t.descriptors))
        descriptors.extend(t.descriptors)
    texts: list[str] = []
    open_t: list[int] = []
    work_t: list[int] = []
    edit_t: list[int] = []
    c_offset: list[int] = []
    c_count: list[int] = []
    for agency, long_name in zip(agencies, names, strict=True):
        for target, template in (
            (open_t, cal.OPEN_TEXT),
            (work_t, cal.ASSIGNED_TEXT),
            (edit_t, cal.LATE_EDIT_TEXT),
        ):
            target.append(len(texts))
            texts.append(template.format(agency_long=long_name))
        closes = _close_texts(agency, long_name)
        c_offset.append(len(texts))
        c_count.append(len(closes))
        texts.extend(closes)
    names_list = [t.name for t in types]
    tail_offset, tail_count = [], []
    for agency in agencies:
        labels = cal.TAIL_TYPES.get(agency, ())
        tail_offset.append(len(names_list))
        tail_count.append(len(labels))
        names_list.extend(labels)
    junk_offset = len(names_list)
    descriptors.append("N/A")
    dpr = agencies.index("DPR")
    mojibake = texts[c_offset[dpr]].replace("'", cal.MOJIBAKE_APOSTROPHE)
    texts.append(mojibake)
    return Vocabulary(
        agencies=agencies,
        agency_names=names,
        type_names=names_list + list(cal.JUNK_TYPES),
        tail_offset=np.array(tail_offset, dtype=np.int64),
        tail_count=np.array(tail_count, dtype=np.int64),
        junk_offset=junk_offset,
        na_descriptor=len(descriptors) - 1,
        type_agency=np.array([agencies.index(t.agency) for t in types], dtype=np.int64),
        descriptors=descriptors,
        descriptor_offset=np.array(d_offset, dtype=np.int64),
        descriptor_count=np.array(d_count, dtype=np.int64),
        location_types=[t.location_type for t in types],
        facility_types=[cal.FACILITY_BY_AGENCY.get(a) for a in agencies],
        statuses=list(STATUSES),
        texts=texts,
        open_text=np.array(open_t, dtype=np.int64),
        work_text=np.array(work_t, dtype=np.int64),
        edit_text=np.array(edit_t, dtype=np.int64),
        close_text_offset=np.array(c_offset, dtype=np.int64),
        close_text_count=np.array(c_count, dtype=np.int64),
        mojibake_text=len(texts) - 1,
        ttc_median_s=np.array([t.ttc_median_h * 3600 for t in types]),
        ttc_sigma=np.array([t.ttc_sigma for t in types]),
    )
