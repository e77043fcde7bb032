"""Bad arguments are usage errors: exit 2 with the parser's message, never an "unexpected error".

Typer 0.26 vendors Click, so its parse errors are no longer ``click.ClickException``s; catching
the wrong family turned every one of them into exit 1 and "rerun with --debug".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from resolve311.cli import main
from resolve311.cli.exit_codes import EXIT_USAGE


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "--table", "nope", "--format", "csv", "--out", "x.csv"], "'nope' is not one of"),
        (["export", "--table", "requests", "--format", "csv"], "Missing option '--out'"),
        (["simulate", "--city", "atlantis"], "No such option: --city"),
        (["serve", "--port", "abc"], "Invalid value for '--port'"),
        (["backfill", "--since"], "Option '--since' requires an argument"),
        (["nosuch"], "No such command 'nosuch'"),
    ],
)
def test_a_bad_argument_exits_2_with_the_parsers_message(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RESOLVE311_HOME", str(tmp_path))
    monkeypatch.setenv("RESOLVE311_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(SystemExit) as done:
        main(argv)
    err = " ".join(capsys.readouterr().err.split())  # the panel wraps long messages
    assert done.value.code == EXIT_USAGE
    assert message in err
    assert "rerun with" not in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [[], ["digest"]])
def test_a_group_without_a_command_shows_its_help(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    assert done.value.code == EXIT_USAGE
    assert "Usage:" in out and "Commands" in out
    assert "error" not in err
