"""A setting or command that is not documented fails the build."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from resolve311.cli import _register_commands, app
from resolve311.settings import Settings

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _commands() -> list[str]:
    _register_commands()
    group = get_command(app)
    return sorted(group.commands)  # type: ignore[attr-defined]


def test_every_setting_is_in_configuration_md() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [name for name in Settings.model_fields if f"`{name}`" not in text]
    assert missing == []


def test_every_command_is_documented_with_an_example() -> None:
    text = (DOCS / "configuration.md").read_text()
    commands = _commands()
    group = get_command(app)
    assert {"update", "serve", "simulate", "up", "demo"} <= set(commands)
    missing = [name for name in commands if f"`resolve311 {name}`" not in text]
    assert missing == []
    no_example = [
        name
        for name in commands
        if "Example:" not in (group.commands[name].help or "")  # type: ignore[attr-defined]
    ]
    assert no_example == []
