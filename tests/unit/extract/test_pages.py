"""The fast page reader gives exactly what read_records gives for the same bytes."""

from __future__ import annotations

import json

import pytest

from helpers import REAL_DATA
from resolve311.errors import ParseError
from resolve311.extract.pages import _fast_table, read_api_page
from resolve311.warehouse.formats import read_records

SOCRATA_ROWS = [
    {":id": "row-1", "unique_key": "1", "status": "Closed", "location": {"latitude": "40.7", "longitude": "-73.9",
     "human_address": json.dumps({"address": "", "city": ""})}},
    {":id": "row-2", "unique_key": "2", "descriptor": "", "agency": "caf\u00e9 \u2028 \"q\" \\ \n\t"},
    {"unique_key": "3", "status": "Open", "late_field": "x", "location": {"latitude": "40.8", "longitude": "-74"}},
]  # fmt: skip


def socrata_body(rows: list[dict[str, object]]) -> bytes:
    """A body as the portal writes it: one object a row, rows separated by a newline and a comma."""
    return (
        "[" + "\n,".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows) + "]\n"
    ).encode()


def test_a_socrata_shaped_body_takes_the_fast_path_and_matches_read_records() -> None:
    body = socrata_body(SOCRATA_ROWS)
    fast = _fast_table(body)
    assert fast is not None
    assert fast.equals(read_records(body, "json"))
    assert fast.column("descriptor").to_pylist()[1] is None  # "" is null, as everywhere
    assert fast.column("location").to_pylist()[2] == '{"latitude":"40.8","longitude":"-74"}'


@pytest.mark.parametrize("path", sorted(REAL_DATA.glob("soda-json*.json")), ids=lambda p: p.name)
def test_every_real_json_page_reads_the_same(path: object) -> None:
    data = path.read_bytes()  # type: ignore[attr-defined]
    assert read_api_page(data).equals(read_records(data, "json"))


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'[{"unique_key":"1","n":5}\n,{"unique_key":"2","n":6}]',  # a number: json.dumps text, by read_records
        b'[{"unique_key":"1"},{"unique_key":"2"}]',  # another separator
        b'[{"unique_key":"1","location":{"coordinates":[1.5,2]}}]',  # GeoJSON-like: not strings
        b'{"unique_key":"1"}',
        b'[{"Unique Key":"1"}\n,{"Unique Key":"2"}]',  # display names are renamed by read_records
    ],
)
def test_other_shapes_fall_back_to_read_records(body: bytes) -> None:
    assert read_api_page(body).equals(read_records(body, "json"))


def test_only_a_newline_comma_brace_between_rows_is_a_separator() -> None:
    """An escaped newline followed by ",{" inside a value is text, not a row boundary."""
    body = b'[{"unique_key":"1","descriptor":"a\\n,{b"}\n,{"unique_key":"2","descriptor":"\\n,{"}]\n'
    fast = _fast_table(body)
    assert fast is not None
    assert fast.column("descriptor").to_pylist() == ["a\n,{b", "\n,{"]
    assert fast.equals(read_records(body, "json"))


@pytest.mark.parametrize(
    "body",
    [
        b'[{"unique_key":"1"}\n,{"unique_key":"2"},{"unique_key":"3"}]',  # separators of two kinds
        b'[{"unique_key":"1"}\n{"unique_key":"2"}]',  # a newline without the comma: not JSON
    ],
)
def test_a_body_not_separated_as_socrata_does_is_not_read_fast(body: bytes) -> None:
    assert _fast_table(body) is None


def test_a_cut_body_is_an_error_not_fewer_rows() -> None:
    body = socrata_body(SOCRATA_ROWS)
    cut = body[: body.index(b"Clos")]  # the connection dropped in the middle of a value
    with pytest.raises(ParseError):
        read_api_page(cut)
    with pytest.raises(ParseError):  # a cut that happens to end like a page is still not valid JSON
        read_api_page(cut + b"}]")


@pytest.mark.parametrize(
    "locations",
    [
        [{"latitude": "40.7", "human_address": 'a "quoted" \\ back\\slash, caf\u00e9 \u2028'}, {}, None],
        [{"latitude": "40.7", "longitude": "line\nbreak"}, {"longitude": "-74"}],  # escapes: row by row
        [None, {"latitude": "1"}, {"human_address": ""}],  # "" stays "" inside an object
        [{"latitude": "back\\slash only"}, {"longitude": 'quote " only'}, {"human_address": "\u0001"}],
        [{"latitude": "40.7", "longitude": "-74"}, {"latitude": "\u001f"}],  # the last byte below 0x20
    ],
    ids=["quotes-and-backslashes", "control-characters", "null-and-empty", "one-escape-each", "last-control"],
)
def test_objects_are_written_as_json_dumps_writes_them(locations: list[dict[str, str] | None]) -> None:
    rows = [
        {"unique_key": str(n)} | ({} if loc is None else {"location": loc}) for n, loc in enumerate(locations)
    ]
    body = socrata_body(rows)
    fast = _fast_table(body)
    assert fast is not None
    assert fast.equals(read_records(body, "json"))


def test_a_page_read_in_many_blocks_matches_read_records(monkeypatch: pytest.MonkeyPatch) -> None:
    from resolve311.extract import pages

    monkeypatch.setattr(pages, "BLOCK_BYTES", 256)  # a few rows a block
    rows: list[dict[str, object]] = [{"unique_key": str(n), "status": "Open"} for n in range(40)]
    rows[30] |= {"late_field": "x", "location": {"latitude": "40.8"}}  # a field first seen in a later block
    rows[35] |= {"location": {"latitude": "40.9", "human_address": "{}"}}  # an object that grew a member
    body = socrata_body(rows)
    fast = _fast_table(body)
    assert fast is not None
    assert fast.equals(read_records(body, "json"))


@pytest.mark.parametrize("scan_bytes", [1, 2, 3, 5, 64])
def test_separators_across_the_search_slices_are_all_found(
    scan_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The separator search looks at the body in slices: a separator on a slice's edge still counts."""
    monkeypatch.setattr("resolve311.extract.pages.SCAN_BYTES", scan_bytes)
    body = socrata_body(SOCRATA_ROWS)
    fast = _fast_table(body)
    assert fast is not None
    assert fast.equals(read_records(body, "json"))


BODIES = [
    socrata_body(SOCRATA_ROWS),
    b'  [{"unique_key":"1"}\n,{"unique_key":"2","descriptor":"a\\n,{b"}]\n ',
    b'[{"unique_key":"1","n":5}\n,{"unique_key":"2","n":6}]',  # read fast until the number: put back
    b'[{"unique_key":"1"}\n,{"unique_key":"2"},{"unique_key":"3"}]',  # a row count that disagrees
    b'[{"unique_key":"1"}\n,{"unique_key":"2"',  # cut
    b"[]",
]


@pytest.mark.parametrize("body", BODIES)
def test_a_bytearray_body_is_read_in_place_as_bytes_are_and_given_back_unchanged(body: bytes) -> None:
    received = bytearray(body)
    try:
        expected = read_api_page(body)
    except ParseError:
        with pytest.raises(ParseError):
            read_api_page(received)
    else:
        assert read_api_page(received).equals(expected)
    assert received == body  # every separator put back, whichever way the read went


def test_the_table_read_in_place_does_not_share_the_body() -> None:
    received = bytearray(socrata_body(SOCRATA_ROWS))
    table = read_api_page(received)
    received[:] = b" " * len(received)  # the caller may reuse or free its buffer
    assert table.equals(read_records(socrata_body(SOCRATA_ROWS), "json"))
