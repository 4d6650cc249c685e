"""`eventually`: wait for something another process, thread or task does, without a bare sleep.

A test that waits for a server to answer, a job to run or a stand-in to apply a call polls a
probe until its answer holds, up to a deadline; on time-out it fails saying what it awaited and
what the probe last answered (or raised), so a slow machine and a real defect read differently.
Each wait is bounded: a hung server fails the test, never the run.

    port_open = eventually(lambda: answers(url), what="the server answers /health")
    row = await eventually_async(lambda: fetch(sale_id), what="the job closes the sale",
                                 until=lambda row: row["status"] == "REQUEST_CLOSED")

A probe may raise one of `ignoring` (for instance `httpx.TransportError` while a server is still
starting) to mean "not yet"; anything else it raises ends the wait at once, which is how a probe
says the thing awaited can no longer happen (the process exited).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

_NOTHING = object()


def _holds(value: object) -> bool:
    return bool(value)


class _Wait:
    """The bookkeeping shared by the two forms: the deadline and the last answer."""

    def __init__(self, what: str, seconds: float) -> None:
        self.what = what
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.last: object = _NOTHING

    def over(self) -> bool:
        return time.monotonic() >= self.deadline

    def failure(self) -> AssertionError:
        if self.last is _NOTHING:
            seen = "the probe never answered"
        elif isinstance(self.last, BaseException):
            seen = f"the probe last raised {type(self.last).__name__}: {self.last}"
        else:
            seen = f"the probe last answered {self.last!r}"
        return AssertionError(f"not within {self.seconds:g} s: {self.what} ({seen})")


def eventually(
    probe: Callable[[], T],
    *,
    what: str,
    until: Callable[[T], bool] = _holds,
    seconds: float = 30,
    every: float = 0.1,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """What `probe` returns once `until` holds for it (truthy by default), polled every `every`
    seconds for up to `seconds`; else an AssertionError naming `what` and the last answer."""
    wait = _Wait(what, seconds)
    while True:
        try:
            value = probe()
        except ignoring as exc:
            wait.last = exc
        else:
            if until(value):
                return value
            wait.last = value
        if wait.over():
            raise wait.failure()
        time.sleep(every)


async def eventually_async(
    probe: Callable[[], Awaitable[T] | T],
    *,
    what: str,
    until: Callable[[T], bool] = _holds,
    seconds: float = 30,
    every: float = 0.1,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """`eventually` for a test on the event loop: the probe may be a coroutine function, and the
    pauses yield to the loop, so tasks and in-process servers on it keep running."""
    wait = _Wait(what, seconds)
    while True:
        try:
            answer = probe()
            value = await answer if inspect.isawaitable(answer) else answer
        except ignoring as exc:
            wait.last = exc
        else:
            if until(value):  # type: ignore[arg-type]
                return value  # type: ignore[return-value]
            wait.last = value
        if wait.over():
            raise wait.failure()
        await asyncio.sleep(every)
