"""One writer at a time, and a refusal that names the holder."""

import os
import threading
from pathlib import Path

from resolve311.errors import LockBusy
from resolve311.warehouse.lock import is_held, read_holder, update_lock


def _try_in_another_thread(lock: Path) -> BaseException | None:
    caught: list[BaseException] = []

    def attempt() -> None:
        try:
            with update_lock(lock, command="metrics"):
                pass
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join()
    return caught[0] if caught else None


def test_a_second_holder_is_refused_at_once_with_the_holder_named(tmp_path: Path) -> None:
    lock = tmp_path / "update.lock"
    with update_lock(lock, command="update"):
        refused = _try_in_another_thread(lock)
    assert isinstance(refused, LockBusy)
    assert f"pid {os.getpid()}, `update`, since 20" in str(refused)


def test_the_lock_is_reentrant_in_its_thread_and_free_again_after_the_block(tmp_path: Path) -> None:
    lock = tmp_path / "update.lock"
    with update_lock(lock, command="update"):
        with update_lock(lock, command="metrics"):  # a run refreshing its metrics
            assert is_held(lock)
        assert is_held(lock)  # the inner block did not release the outer one
        assert read_holder(lock).startswith(f"pid {os.getpid()}, `update`")
    assert not is_held(lock)
    assert _try_in_another_thread(lock) is None


def test_an_old_lock_file_with_only_a_pid_still_names_it(tmp_path: Path) -> None:
    lock = tmp_path / "update.lock"
    lock.write_text("4242\n")
    assert read_holder(lock) == "pid 4242"
