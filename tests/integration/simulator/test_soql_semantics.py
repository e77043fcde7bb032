"""SoQL as the real API answers it: ordering, paging, where, system fields, formats."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable
from typing import Any

import httpx

ReadAll = Callable[..., list[dict[str, Any]]]

SYSTEM_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FLOATING_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")


def page(client: httpx.Client, **params: str) -> list[dict[str, str]]:
    response = client.get("/resource/erm2-nwe9.json", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, str]] = response.json()
    return rows


def test_default_limit_is_1000(client: httpx.Client) -> None:
    assert len(page(client)) == 1000


def test_system_fields_only_when_asked_and_in_utc_iso(client: httpx.Client) -> None:
    plain = page(client, **{"$limit": "5"})
    assert all(not any(k.startswith(":") and not k.startswith(":@") for k in row) for row in plain)
    rows = page(client, **{"$select": ":*,*", "$limit": "50"})
    for row in rows:
        assert row[":id"].startswith("row-")
        assert SYSTEM_TS.match(row[":created_at"]) and SYSTEM_TS.match(row[":updated_at"])
        assert row[":created_at"] <= row[":updated_at"]
        assert FLOATING_TS.match(row["created_date"])


def test_json_values_are_strings_and_nulls_omitted(client: httpx.Client) -> None:
    rows = page(client, **{"$limit": "500"})
    assert all(isinstance(v, str) for row in rows for k, v in row.items() if k != "location")
    assert any("closed_date" not in row for row in rows), "open rows must omit closed_date"
    located = [row for row in rows if "latitude" in row]
    assert located and all(
        set(row["location"]) == {"latitude", "longitude", "human_address"} for row in located
    )
    assert all(row["location"]["latitude"] == row["latitude"] for row in located)


def test_multi_key_order_asc_desc(client: httpx.Client) -> None:
    rows = page(client, **{"$order": "agency ASC, created_date DESC, unique_key", "$limit": "3000"})
    keys = [(r["agency"], r["created_date"]) for r in rows]
    for (a1, c1), (a2, c2) in itertools.pairwise(keys):
        assert a1 < a2 or (a1 == a2 and c1 >= c2)


def test_paging_with_total_order_neither_overlaps_nor_drops(client: httpx.Client, read_all: ReadAll) -> None:
    everything = read_all(client)
    seen: list[str] = []
    offset = 0
    while True:
        rows = page(
            client,
            **{"$select": ":*,*", "$order": ":updated_at,:id", "$limit": "777", "$offset": str(offset)},
        )
        seen.extend(r[":id"] for r in rows)
        if len(rows) < 777:
            break
        offset += 777
    assert len(seen) == len(set(seen)) == len(everything)
    assert set(seen) == {r[":id"] for r in everything}


def test_where_between_timestamps_is_inclusive(client: httpx.Client, read_all: ReadAll) -> None:
    low, high = "2024-04-10T00:00:00", "2024-04-10T12:00:00"
    where = f"created_date between '{low}' and '{high}'"
    rows = page(client, **{"$where": where, "$limit": "100000"})
    everything = read_all(client)
    expected = [r for r in everything if low <= r["created_date"][:19] <= high]
    assert rows and len(rows) == len(expected)


def test_where_on_updated_at_watermark(client: httpx.Client, read_all: ReadAll) -> None:
    everything = read_all(client)
    mark = sorted(r[":updated_at"] for r in everything)[len(everything) // 2]
    rows = page(client, **{"$select": ":*,*", "$where": f":updated_at >= '{mark}'", "$limit": "100000"})
    assert len(rows) == sum(r[":updated_at"] >= mark for r in everything)


def test_and_or_not_null_and_in(client: httpx.Client) -> None:
    where = "(agency = 'NYPD' OR agency = 'HPD') AND closed_date IS NOT NULL AND borough NOT IN ('QUEENS')"
    rows = page(client, **{"$where": where, "$limit": "100000"})
    assert rows
    assert all(
        r["agency"] in {"NYPD", "HPD"} and "closed_date" in r and r.get("borough") != "QUEENS" for r in rows
    )


def test_count_and_group(client: httpx.Client, read_all: ReadAll) -> None:
    total = int(page(client, **{"$select": "count(*)"})[0]["count"])
    groups = page(client, **{"$select": "agency, count(*) AS n", "$group": "agency", "$order": "n DESC"})
    assert sum(int(g["n"]) for g in groups) == total == len(read_all(client))
    assert groups[0]["agency"] == "NYPD"


def test_simple_field_filter_and_query_param(client: httpx.Client) -> None:
    rows = page(client, agency="DOT", **{"$limit": "100000"})
    assert rows and all(r["agency"] == "DOT" for r in rows)
    same = page(client, **{"$query": "SELECT * WHERE agency = 'DOT' LIMIT 100000"})
    assert len(same) == len(rows)


def test_csv_quotes_every_value_and_location_spans_three_lines(client: httpx.Client) -> None:
    response = client.get(
        "/resource/erm2-nwe9.csv", params={"$limit": "200", "$where": "latitude IS NOT NULL"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.text
    assert text.startswith('"unique_key","created_date"')
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == 200
    assert re.fullmatch(r"\n,  \n\(-?[\d.]+, -?[\d.]+\)", records[0]["location"])
    second_line = text.split("\n")[1]
    assert (second_line.startswith('"') and '",,"' in second_line) or '","' in second_line


def test_error_bodies_have_socrata_shapes(client: httpx.Client) -> None:
    response = client.get("/resource/erm2-nwe9.json", params={"$where": "no_such_field = 'x'"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] is True and body["code"] == "query.soql.no-such-column" and body["message"]
    malformed = client.get("/resource/erm2-nwe9.json", params={"$where": "agency = "})
    assert malformed.status_code == 400 and malformed.json()["code"] == "query.compiler.malformed"
    mismatch = client.get("/resource/erm2-nwe9.json", params={"$where": "created_date > 'yesterday'"})
    assert mismatch.status_code == 400 and mismatch.json()["code"] == "query.soql.type-mismatch"
    bad_limit = client.get("/resource/erm2-nwe9.json", params={"$limit": "-1"})
    assert bad_limit.status_code == 400


def test_unknown_dataset_is_404(client: httpx.Client) -> None:
    response = client.get("/resource/abcd-1234.json")
    assert response.status_code == 404
    assert response.json()["error"] is True


def test_datasets_split_by_created_date(make_sim: Callable[..., str], read_all: ReadAll) -> None:
    from datetime import date

    url = make_sim(today=date(2020, 1, 3), history_days=4)
    with httpx.Client(base_url=url) as c:
        old = read_all(c, "76ig-c548")
        new = read_all(c, "erm2-nwe9")
    assert old and new
    assert max(r["created_date"] for r in old) < "2020-01-01"
    assert min(r["created_date"] for r in new) >= "2020-01-01"


def test_metadata_lists_columns_and_rows_updated_at(client: httpx.Client) -> None:
    meta = client.get("/api/views/erm2-nwe9.json").json()
    fields = {c["fieldName"]: c["dataTypeName"] for c in meta["columns"]}
    assert fields["created_date"] == "calendar_date" and fields["latitude"] == "number"
    assert len(fields) == 44
    newest = page(client, **{"$select": ":updated_at", "$order": ":updated_at DESC", "$limit": "1"})[0]
    assert meta["rowsUpdatedAt"] > 0 and newest[":updated_at"].startswith("2024-04-16")


def test_soda3_needs_a_token_and_pages(client: httpx.Client) -> None:
    body = {"query": "SELECT unique_key ORDER BY unique_key", "page": {"pageNumber": 2, "pageSize": 10}}
    assert client.post("/api/v3/views/erm2-nwe9/query.json", json=body).status_code == 403
    response = client.post("/api/v3/views/erm2-nwe9/query.json", json=body, headers={"X-App-Token": "t"})
    assert response.status_code == 200
    rows = response.json()
    reference = page(
        client, **{"$select": "unique_key", "$order": "unique_key", "$limit": "10", "$offset": "10"}
    )
    assert rows == reference
    bad = client.post(
        "/api/v3/views/erm2-nwe9/query.json", json={"query": "SELECT nope"}, headers={"X-App-Token": "t"}
    )
    assert bad.status_code == 400 and bad.json()["errorCode"] == "query.soql.no-such-column"
