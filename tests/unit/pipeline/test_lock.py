"""One update at a time."""

from pathlib import Path

import pytest

from resolve311.errors import LockBusy
from resolve311.extract.lock import update_lock


def test_a_second_holder_is_refused_at_once_with_the_holder_named(tmp_path: Path) -> None:
    lock = tmp_path / "update.lock"
    with (
        update_lock(lock),
        pytest.raises(LockBusy, match=r"another update is running \(pid \d+"),
        update_lock(lock),
    ):
        pass


def test_the_lock_is_free_again_after_the_block(tmp_path: Path) -> None:
    lock = tmp_path / "update.lock"
    with update_lock(lock):
        pass
    with update_lock(lock):
        assert lock.exists()
