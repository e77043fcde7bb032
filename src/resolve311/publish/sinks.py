"""The configured sinks, in publish order: the serving file first, then each optional one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from resolve311.publish.base import Sink
from resolve311.settings import Settings


def _serving(settings: Settings) -> Sink | None:
    from resolve311.publish.serving import ServingFile

    return ServingFile()


def _lake(settings: Settings) -> Sink | None:
    if not settings.lake_url:
        return None
    from resolve311.publish.lake import LakeSink

    return LakeSink(settings.lake_url)


def _postgres(settings: Settings) -> Sink | None:
    if settings.publish_url is None:
        return None
    from resolve311.publish.postgres import PostgresSink

    return PostgresSink(settings.publish_url.get_secret_value(), settings.publish_schema)


#: One factory per sink; each returns None when its setting is unset.
FACTORIES: Final[tuple[Callable[[Settings], Sink | None], ...]] = (_serving, _lake, _postgres)


def configured_sinks(settings: Settings) -> list[Sink]:
    """The sinks ``settings`` enables."""
    return [sink for make in FACTORIES if (sink := make(settings)) is not None]
