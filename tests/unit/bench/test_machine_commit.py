"""The commit a benchmark reports: marked when the code changed, not when earlier results did."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bench.machine import git_commit


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for path in ("src/app.py", "bench/run.py", "bench/results/extract.md"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("v1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_clean_tree_is_the_commit(repo: Path) -> None:
    assert "uncommitted" not in git_commit() and len(git_commit()) >= 7


def test_results_written_by_an_earlier_section_do_not_mark_the_code(repo: Path) -> None:
    (repo / "bench/results/extract.md").write_text("v2\n")
    assert "uncommitted" not in git_commit()


@pytest.mark.parametrize("changed", ["src/app.py", "bench/run.py"])
def test_changed_code_is_marked(repo: Path, changed: str) -> None:
    (repo / changed).write_text("v2\n")
    assert git_commit().endswith("(with uncommitted changes in src/ or bench/)")
