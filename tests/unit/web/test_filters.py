"""Filters: parsing, validation, group keys and shareable query strings."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from resolve311.web.filters import BadParameter, Filters, parse_filters


def test_defaults_and_group_of_the_city() -> None:
    f = parse_filters({}, default_window="1d")
    assert (f.window, f.baseline) == ("1d", "8w")
    assert f.group() == ("*", "*", "*")


def test_complaint_type_takes_precedence_over_borough_in_the_group() -> None:
    f = Filters(agency="HPD", complaint_type="PLUMBING", area="BRONX")
    assert f.group() == ("HPD", "PLUMBING", "*")
    assert Filters(agency="HPD", area="BRONX").group() == ("HPD", "*", "BRONX")


@pytest.mark.parametrize(
    "params,name",
    [
        ({"window": "2d"}, "window"),
        ({"baseline": "5y"}, "baseline"),
        ({"borough": "B\x00X"}, "borough"),
        ({"complaint_type": "x" * 201}, "complaint_type"),
    ],
)
def test_bad_values_name_the_parameter(params: dict[str, str], name: str) -> None:
    with pytest.raises(BadParameter) as info:
        parse_filters(params)
    assert info.value.param == name and str(info.value).startswith(name)


def test_query_string_round_trips_through_the_parser() -> None:
    f = Filters(agency="DOT", complaint_type="Street Light Condition", window="28d", baseline="1y")
    parsed = {k: v[0] for k, v in parse_qs(f.query_string()[1:]).items()}
    assert parse_filters(parsed) == f


def test_star_and_empty_mean_all() -> None:
    assert parse_filters({"agency": "*", "borough": ""}).group() == ("*", "*", "*")
