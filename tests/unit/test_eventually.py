"""`eventually` (tests/support/eventually.py): the waits of the live tests, themselves tested."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.support.eventually import eventually, eventually_async


def test_the_first_answer_that_holds_is_returned() -> None:
    answers = iter([None, 0, "", 7, 8])

    found = eventually(lambda: next(answers), what="a number", every=0)

    assert found == 7


def test_a_condition_other_than_truth_can_be_awaited() -> None:
    counter = itertools.count()

    found = eventually(lambda: next(counter), what="three", until=lambda n: n >= 3, every=0)

    assert found == 3


def test_a_time_out_names_what_was_awaited_and_the_last_answer() -> None:
    counter = itertools.count()

    with pytest.raises(AssertionError) as failed:
        eventually(lambda: -next(counter), what="a positive number", until=lambda n: n > 0,
                   seconds=0.05, every=0.01)  # fmt: skip

    message = str(failed.value)
    assert message.startswith("not within 0.05 s: a positive number")
    assert "the probe last answered -" in message


def test_ignored_errors_mean_not_yet_and_the_last_one_is_reported() -> None:
    def refused() -> int:
        raise ConnectionRefusedError("nobody listens on 127.0.0.1:9")

    with pytest.raises(AssertionError) as failed:
        eventually(refused, what="a server", seconds=0.03, every=0.01,
                   ignoring=(ConnectionError,))  # fmt: skip

    assert "last raised ConnectionRefusedError: nobody listens on 127.0.0.1:9" in str(failed.value)


def test_any_other_error_ends_the_wait_at_once() -> None:
    calls = itertools.count(1)

    def exited() -> int:
        next(calls)
        raise RuntimeError("the process exited")

    with pytest.raises(RuntimeError):
        eventually(exited, what="a server", seconds=5, ignoring=(ConnectionError,))

    assert next(calls) == 2  # asked once


async def test_the_async_form_lets_the_loop_run_what_it_waits_for() -> None:
    done: list[str] = []

    async def work() -> None:
        await asyncio.sleep(0.02)
        done.append("yes")

    task = asyncio.create_task(work())

    found = await eventually_async(lambda: done, what="the task's result", seconds=5, every=0.005)

    assert found == ["yes"]
    await task


async def test_the_async_form_awaits_a_coroutine_probe_and_times_out_clearly() -> None:
    async def status() -> str:
        return "PENDING"

    with pytest.raises(AssertionError) as failed:
        await eventually_async(status, what="the sync", until=lambda s: s == "SYNCED",
                               seconds=0.03, every=0.01)  # fmt: skip

    assert "the sync (the probe last answered 'PENDING')" in str(failed.value)
