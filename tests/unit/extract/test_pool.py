"""The window pool: items come out in plan order, memory stays bounded, failures come in their place."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from resolve311.extract.pool import WindowPool


def test_items_come_out_in_plan_order_whatever_order_the_workers_finish() -> None:
    rng = random.Random(3)
    delays = {w: [rng.uniform(0, 0.01) for _ in range(w % 4)] for w in range(30)}

    def pull(window: int) -> Iterator[tuple[int, int]]:
        for page, delay in enumerate(delays[window]):
            time.sleep(delay)  # workers finish out of order
            yield window, page

    with WindowPool(list(range(30)), pull, workers=5, ahead=1) as pool:
        seen = [(window, list(items)) for window, items in pool.results()]
    assert [w for w, _ in seen] == list(range(30))
    assert all(items == [(w, p) for p in range(w % 4)] for w, items in seen)


def test_at_most_two_queues_per_worker_and_one_more_item_are_held() -> None:
    made, taken = 0, 0
    high = 0
    lock = threading.Lock()

    def pull(window: int) -> Iterator[int]:
        nonlocal made, high
        for page in range(20):
            with lock:
                made += 1
                high = max(high, made - taken)
            yield page

    with WindowPool(list(range(6)), pull, workers=3, ahead=2) as pool:
        for _window, items in pool.results():
            for _ in items:
                time.sleep(0.001)  # a slow writer: the workers run ahead as far as they may
                with lock:
                    taken += 1
    assert taken == 120
    # a worker holds at most the rest of its finished window's queue (ahead, the end marker
    # included) and its current window's queue plus the item in hand; the writer one more
    assert high <= 3 * (2 * 2) + 1


def test_a_failure_comes_after_every_item_of_the_windows_before_it() -> None:
    def pull(window: int) -> Iterator[int]:
        if window == 3:
            raise ValueError("window 3 broke")
        yield from range(2)

    got: list[int] = []
    with (
        WindowPool(list(range(8)), pull, workers=4, ahead=1) as pool,
        pytest.raises(ValueError, match="3 broke"),
    ):
        for window, items in pool.results():
            for _ in items:
                got.append(window)
    assert got == [0, 0, 1, 1, 2, 2]


def test_closing_early_stops_workers_blocked_on_a_full_queue() -> None:
    def pull(window: int) -> Iterator[int]:
        yield from range(1000)

    pool = WindowPool(list(range(4)), pull, workers=4, ahead=1)
    with pool:
        for _window, items in pool.results():
            next(iter(items))
            break
    assert not any(t.is_alive() for t in pool._threads)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        WindowPool([1], lambda w: [w], workers=0)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_the_consumer_is_told_when_it_would_wait_once_every_window_is_taken() -> None:
    gates = {w: threading.Event() for w in range(4)}
    taken: list[int] = []
    consumed: list[int] = []
    calls: list[tuple[int, int]] = []

    def pull(window: int) -> Iterator[int]:
        taken.append(window)
        assert gates[window].wait(10)  # window 2's and 3's items come only once the consumer is told
        yield window

    def tail_wait() -> None:
        calls.append((len(taken), len(consumed)))
        if len(consumed) < 4:
            gates[len(consumed)].set()

    gates[0].set()
    gates[1].set()
    with WindowPool(list(range(4)), pull, workers=4, ahead=1, on_tail_wait=tail_wait) as pool:
        wait_until(lambda: len(taken) == 4)
        for _window, items in pool.results():
            consumed.extend(items)
    assert consumed == [0, 1, 2, 3]
    assert {2, 3} <= {index for _, index in calls}  # told each time its next item was not there
    assert all(started == 4 for started, _ in calls)


def test_the_consumer_is_not_told_while_windows_wait_for_a_worker() -> None:
    taken: list[int] = []
    calls: list[int] = []
    release = threading.Event()

    def pull(window: int) -> Iterator[int]:
        taken.append(window)
        assert release.wait(10)
        yield window

    def releaser() -> None:
        wait_until(lambda: taken == [0])
        release.set()

    helper = threading.Thread(target=releaser)
    helper.start()
    with WindowPool([0, 1], pull, workers=1, ahead=1, on_tail_wait=lambda: calls.append(len(taken))) as pool:
        assert [item for _window, items in pool.results() for item in items] == [0, 1]
    helper.join(10)
    assert all(started == 2 for started in calls)  # never while window 1 waited for the worker
