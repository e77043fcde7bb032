"""Schemathesis over /api/openapi.json: generated requests never get a server error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from resolve311.settings import load_settings
from resolve311.web.app import create_app


def with_known_agency(case: Any) -> Any:
    """Half the cases use a real agency code, so the data paths are fuzzed too, not just the 404."""
    if case.path_parameters:
        case.path_parameters = {"code": "HPD"}
    return case


@pytest.mark.slow
def test_api_never_answers_with_a_server_error(snapshot_home: Path) -> None:
    app = create_app(load_settings(home=snapshot_home))
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app.server)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8  # the city's 5 paths, metrics, cities, compare

    for operation in operations:
        fuzzed = operation.as_strategy()

        @given(case=st.one_of(fuzzed, fuzzed.map(with_known_agency)))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            case.call_and_validate(checks=[not_a_server_error, status_code_conformance])

        check()
