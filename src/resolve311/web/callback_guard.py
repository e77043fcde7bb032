"""Dash callback requests are checked before any callback runs: a bad one is a 400, never a 500.

Every control value a server callback reads is declared once, in :data:`CONTROLS`,
with the values it may take (the options the page offers, or the type and size of
a value that comes from the snapshot: an agency or complaint type the snapshot lacks
is answered by the view itself, "Unknown agency", as for a link naming one). A request whose shape is not the one Dash's
renderer sends, that names an unknown callback, or that carries a value outside
its control's options is refused with ``400 {"error": ..., "parameter": ...}``.
A new control must be added here (a test checks that every callback input is).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from resolve311.web import ids
from resolve311.web.filters import BASELINES, MAX_TEXT, PERIODS, WINDOWS
from resolve311.web.snapshot import SnapshotReader

#: A rule returns what is wrong with a value (None when it is fine).
Rule = Callable[[object, SnapshotReader], str | None]
MAX_URL: Final = 2000


class CallbackRejected(Exception):
    """A callback request that must not reach the callback; ``parameter`` names the culprit."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


def one_of(options: Sequence[str]) -> Rule:
    """The value must be one of ``options`` (a radio item or a fixed dropdown)."""

    def rule(value: object, reader: SnapshotReader) -> str | None:
        if value in options:
            return None
        return f"must be one of {', '.join(options)}, not {_show(value)}"

    return rule


def text(*, optional: bool = True, max_len: int = MAX_TEXT) -> Rule:
    """A string of at most ``max_len`` characters without NUL (or null when ``optional``)."""

    def rule(value: object, reader: SnapshotReader) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            return f"must be a string{' or null' if optional else ''}, not {_show(value)}"
        if len(value) > max_len or "\x00" in value:
            return f"must be at most {max_len} characters, without NUL"
        return None

    return rule


def url_part(prefix: str, *, optional: bool) -> Rule:
    """A part of the page URL as the browser reports it: it starts with ``prefix`` (or is empty)."""
    base = text(optional=optional, max_len=MAX_URL)

    def rule(value: object, reader: SnapshotReader) -> str | None:
        problem = base(value, reader)
        if problem or (optional and not value):
            return problem
        return None if str(value).startswith(prefix) else f"must start with {prefix!r}"

    return rule


CONTROLS: Final[dict[tuple[str, str], Rule]] = {
    ("_pages_location", "pathname"): url_part("/", optional=False),
    ("_pages_location", "search"): url_part("?", optional=True),
    (ids.OVERVIEW_WINDOW, "value"): one_of(WINDOWS),
    (ids.OVERVIEW_BASELINE, "value"): one_of(BASELINES),
    # an agency missing from the snapshot is the view's own "Unknown agency" state (as for a link)
    (ids.AGENCY, "value"): text(),
    (ids.COMPLAINT_TYPE, "value"): text(),
    (ids.AREA, "value"): text(),
    # the page's city (a dcc.Store); a city the home lacks is the view's own "Unknown city" state
    (ids.CITY, "data"): text(max_len=40),
    (ids.WINDOW, "value"): one_of(WINDOWS),
    (ids.BASELINE, "value"): one_of(BASELINES),
    (ids.PERIOD, "value"): one_of(PERIODS),
}


def _show(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def check_callback(
    body: object, callback_map: Mapping[str, Mapping[str, Any]], reader: SnapshotReader
) -> None:
    """Raise :class:`CallbackRejected` unless ``body`` is a well-formed call with allowed values."""
    if not isinstance(body, dict):
        raise CallbackRejected("the body must be a JSON object (a Dash callback request)")
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        raise CallbackRejected(f"no such callback output {_show(output)}", "output")
    spec = callback_map[output]
    _check_outputs(body.get("outputs"))
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise CallbackRejected("changedPropIds must be a list of strings", "changedPropIds")
    for part in ("inputs", "state"):
        _check_items(part, body.get(part, []), spec.get(part, []), reader)


def _check_outputs(outputs: object) -> None:
    items = outputs if isinstance(outputs, list) else [outputs]
    if not items or not all(_is_ref(item) for item in items):
        raise CallbackRejected("outputs must name each output's id and property", "outputs")


def _is_ref(item: object) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str | dict)
        and isinstance(item.get("property"), str)
    )


def _check_items(
    part: str, items: object, declared: Sequence[Mapping[str, Any]], reader: SnapshotReader
) -> None:
    if not isinstance(items, list) or len(items) != len(declared):
        raise CallbackRejected(f"{part} must list the callback's {len(declared)} {part}", part)
    for item, want in zip(items, declared, strict=True):
        if not _is_ref(item) or (item["id"], item["property"]) != (want["id"], want["property"]):
            raise CallbackRejected(f"{part} do not match the callback's {part}", part)
        rule = CONTROLS.get((str(want["id"]), str(want["property"])))
        problem = rule(item.get("value"), reader) if rule else None
        if problem:
            raise CallbackRejected(f"{want['id']}: {problem}", str(want["id"]))
