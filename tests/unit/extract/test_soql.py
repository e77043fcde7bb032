"""The SoQL builders: predicates, keyset continuation, SODA 2.1 parameters and SODA 3 bodies."""

from datetime import date, datetime

from resolve311.extract import soql


def test_timestamps_are_iso_with_milliseconds_and_no_zone() -> None:
    assert soql.soql_timestamp(datetime(2024, 4, 16, 7, 3, 15)) == "2024-04-16T07:03:15.000"
    assert soql.soql_timestamp(date(2020, 1, 1)) == "2020-01-01T00:00:00.000"


def test_watermark_predicate_is_inclusive() -> None:
    assert soql.updated_since(datetime(2024, 1, 2, 3)) == ":updated_at >= '2024-01-02T03:00:00.000'"
    assert soql.updated_since(None) is None


def test_created_range_is_half_open_and_either_end_may_be_missing() -> None:
    both = soql.created_between("created_date", date(2020, 1, 1), date(2020, 2, 1))
    assert both == "created_date >= '2020-01-01T00:00:00.000' AND created_date < '2020-02-01T00:00:00.000'"
    assert soql.created_between("created_date", None, None) is None
    assert soql.created_between("x", None, date(2020, 1, 1)) == "x < '2020-01-01T00:00:00.000'"


def test_keyset_continuation_breaks_ties_on_id_and_quotes_values() -> None:
    cursor = soql.Cursor(updated_at="2024-04-16T07:03:15.000Z", row_id="row-a'b")
    assert soql.after(cursor) == (
        ":updated_at > '2024-04-16T07:03:15.000' OR "
        "(:updated_at = '2024-04-16T07:03:15.000' AND :id > 'row-a''b')"
    )
    assert soql.after(None) is None


def test_and_all_parenthesises_each_part_and_skips_empty_ones() -> None:
    assert soql.and_all([None, "a = 1"]) == "a = 1"
    assert soql.and_all(["a = 1", None, "b OR c"]) == "(a = 1) AND (b OR c)"
    assert soql.and_all([None, None]) is None


def test_page_parameters_ask_for_system_fields_in_a_total_order() -> None:
    params = soql.page_params("a = 1", 500)
    assert params == {"$select": ":*,*", "$order": ":updated_at,:id", "$limit": "500", "$where": "a = 1"}
    assert "$where" not in soql.page_params(None, 10)
    assert soql.count_params(None) == {"$select": "count(*)"}


def test_soda3_body_carries_the_same_query() -> None:
    body = soql.soda3_body(soql.page_params("a = 1", 50))
    assert body["query"] == "SELECT :*,* WHERE a = 1 ORDER BY :updated_at,:id"
    assert body["page"] == {"pageNumber": 1, "pageSize": 50}
    assert "page" not in soql.soda3_body(soql.count_params(None))
