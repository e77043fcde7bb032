"""The list of sinks, in publish order: the serving file first, then each optional one.

Adding a sink is a module with its class (``name``, ``required``, ``from_settings``,
``publish``; see :class:`resolve311.publish.base.Sink`), one line here, its setting in
``settings.py`` and docs/configuration.md, and a section in docs/consumers.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from resolve311.publish.base import Sink
from resolve311.publish.lake import LakeSink
from resolve311.publish.postgres import PostgresSink
from resolve311.publish.serving import ServingFile
from resolve311.settings import Settings

#: Each sink's ``from_settings``: the sink, or None when its settings leave it off.
SINKS: Final[tuple[Callable[[Settings], Sink | None], ...]] = (
    ServingFile.from_settings,
    LakeSink.from_settings,
    PostgresSink.from_settings,
)


def configured_sinks(settings: Settings) -> list[Sink]:
    """The sinks ``settings`` enables, in publish order."""
    return [sink for make in SINKS if (sink := make(settings)) is not None]
