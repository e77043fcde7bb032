"""The publish settings: the PostgreSQL URL is a secret; the schema name is checked."""

from __future__ import annotations

import json

import pytest

from resolve311.errors import ConfigError
from resolve311.publish.run import one_line
from resolve311.settings import load_settings


def test_the_postgres_url_never_shows_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVE311_PUBLISH_URL", "postgresql://bi:topsecret@db:5432/city")
    settings = load_settings()
    assert "topsecret" not in json.dumps(settings.redacted())
    assert "topsecret" not in repr(settings)
    assert settings.publish_url is not None
    assert settings.publish_url.get_secret_value().endswith("@db:5432/city")


def test_errors_are_one_line_with_url_passwords_masked() -> None:
    error = RuntimeError("could not reach postgresql://bi:topsecret@db:5432/city\nDETAIL: more")
    assert one_line(error) == "could not reach postgresql://bi:***@db:5432/city"


def test_a_bad_schema_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid setting publish_schema"):
        load_settings(publish_schema='x"; DROP TABLE y; --')
