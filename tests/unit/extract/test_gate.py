"""The priority gate: at most `slots` threads inside at once, the lowest rank waiting enters first."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time

import pytest

from resolve311.extract.gate import PriorityGate


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_waiting_threads_enter_by_rank_then_by_arrival() -> None:
    gate = PriorityGate(1)
    order: list[str] = []
    release = threading.Event()

    def holder() -> None:
        with gate():
            release.wait(10)

    def waiter(name: str, rank: int | None) -> None:
        with gate.ranked(rank) if rank is not None else contextlib.nullcontext(), gate():
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    wait_until(lambda: gate._free == 0, "the holder")
    threads = []
    for name, rank in (("late-window", 5), ("unranked", None), ("early-window", 1), ("early-again", 1)):
        threads.append(threading.Thread(target=waiter, args=(name, rank)))
        threads[-1].start()
        wait_until(lambda n=len(threads): len(gate._waiting) == n, "the waiter to queue")
    release.set()
    for thread in [first, *threads]:
        thread.join(10)
    assert order == ["early-window", "early-again", "late-window", "unranked"]


def test_never_more_than_slots_inside_at_once() -> None:
    gate = PriorityGate(2)
    inside, high = 0, 0
    lock = threading.Lock()

    def work(rank: int) -> None:
        nonlocal inside, high
        with gate.ranked(rank):
            for _ in range(50):
                with gate():
                    with lock:
                        inside += 1
                        high = max(high, inside)
                    time.sleep(0.0005)
                    with lock:
                        inside -= 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert high == 2
    assert inside == 0 and gate._free == 2 and not gate._waiting


def test_the_rank_follows_a_copied_context_into_a_helper_thread() -> None:
    gate = PriorityGate(1)
    seen: list[int] = []
    with gate.ranked(7):
        context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(lambda: seen.append(gate._rank.get()),))
    thread.start()
    thread.join(10)
    assert seen == [7]
    assert gate._rank.get() > 7  # outside the block: unranked again


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        PriorityGate(0)
