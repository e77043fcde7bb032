"""The view filters shared by the dashboard URL, the JSON API and the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Final, Literal, cast
from urllib.parse import urlencode

from resolve311.errors import ConfigError

Window = Literal["1d", "7d", "28d"]
Baseline = Literal["8w", "1y"]
Period = Literal["day", "week"]
Kind = Literal["when", "where"]
Variant = Literal["recent", "historical", "difference"]

WINDOWS: Final[tuple[Window, ...]] = ("1d", "7d", "28d")
BASELINES: Final[tuple[Baseline, ...]] = ("8w", "1y")
PERIODS: Final[tuple[Period, ...]] = ("day", "week")
KINDS: Final[tuple[Kind, ...]] = ("when", "where")
VARIANTS: Final[tuple[Variant, ...]] = ("recent", "historical", "difference")
ALL: Final = "*"
MAX_TEXT: Final = 200


class BadParameter(ConfigError):
    """A query parameter has an invalid value; ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


@dataclass(frozen=True)
class Filters:
    """What a view shows: an agency (or the city), one slice, the window and baseline."""

    agency: str | None = None
    complaint_type: str | None = None
    area: str | None = None  # a value of the city's main area dimension (NYC: a borough)
    window: Window = "7d"
    baseline: Baseline = "8w"

    def group(self) -> tuple[str, str, str]:
        """The snapshot group key; a complaint type takes precedence over an area."""
        area = ALL if self.complaint_type else (self.area or ALL)
        return (self.agency or ALL, self.complaint_type or ALL, area)

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)  # type: ignore[arg-type]

    def query_string(self) -> str:
        """``?agency=…&window=…`` with the set filters, for links and the URL bar."""
        pairs = {k: v for k, v in asdict(self).items() if v}
        return "?" + urlencode(pairs)


def from_controls(
    agency: str | None, complaint_type: str | None, area: str | None, window: str, baseline: str
) -> Filters:
    """Filters from the dashboard's own controls (values come from the snapshot, so no text checks)."""
    return Filters(
        agency=agency or None,
        complaint_type=complaint_type or None,
        area=area or None,
        window=window if window in WINDOWS else "7d",
        baseline=baseline if baseline in BASELINES else "8w",
    )


def choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    """The value of ``name`` if it is one of ``allowed`` (else :class:`BadParameter`)."""
    value = params.get(name) or default
    if value not in allowed:
        raise BadParameter(name, f"must be one of {', '.join(allowed)}, not {value[:40]!r}")
    return value


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None or value in ("", ALL):
        return None
    if len(value) > MAX_TEXT or "\x00" in value:
        raise BadParameter(name, "must be at most 200 characters, without NUL")
    return value


#: The query parameter of the area dimension, and its older name (still accepted).
AREA_PARAM: Final = "area"
LEGACY_AREA_PARAM: Final = "borough"


def area_param(params: Mapping[str, str]) -> str:
    """Which parameter names the area: ``area``, or the older ``borough`` when only it is given."""
    return LEGACY_AREA_PARAM if params.get(LEGACY_AREA_PARAM) and not params.get(AREA_PARAM) else AREA_PARAM


def parse_filters(params: Mapping[str, str], *, default_window: str = "7d") -> Filters:
    """Read and validate the filters from query parameters; unknown parameters are ignored."""
    window = choice(params, "window", WINDOWS, default_window if default_window in WINDOWS else "7d")
    baseline = choice(params, "baseline", BASELINES, "8w")
    return Filters(
        agency=_text(params, "agency"),
        complaint_type=_text(params, "complaint_type"),
        area=_text(params, area_param(params)),
        window=cast(Window, window),
        baseline=cast(Baseline, baseline),
    )
