"""What every command does with its flags: settings with logging set up, dates parsed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from resolve311.errors import ConfigError
from resolve311.settings import Settings, load_settings

CityOpt = Annotated[
    str | None,
    typer.Option("--city", help="Only this city of a several-city home (setting `cities`)."),
]


def cli_settings(**flags: Any) -> Settings:
    """Settings from the flags (None = not given), with logging configured and every secret redacted
    (the app token; the PostgreSQL publish URL and the password inside it)."""
    from urllib.parse import urlsplit

    from resolve311.logs import configure_logging

    settings = load_settings(**flags)
    secrets = [settings.token()]
    if settings.publish_url is not None:
        url = settings.publish_url.get_secret_value()
        secrets += [url, urlsplit(url).password]
    configure_logging(fmt=settings.log_format, level=settings.log_level, secrets=[s for s in secrets if s])
    return settings


def writer_settings(**flags: Any) -> Settings:
    """:func:`cli_settings` for a data command (it writes the warehouse or the snapshot): the process
    first lowers its CPU priority to ``background_nice``, so a dashboard on the same machine answers first."""
    from resolve311.processes import lower_priority

    settings = cli_settings(**flags)
    lower_priority(settings.background_nice)
    return settings


def parse_date(value: str | None, option: str) -> date | None:
    """An ISO date flag (None stays None); a one-line ConfigError naming the flag otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option}: not a date (YYYY-MM-DD): {value!r}") from None
