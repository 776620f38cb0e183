"""Background loops stop when cancelled, even when a library turns the cancellation into another
error, and a service's stop never waits forever for a task that does not."""

import asyncio

import pytest

from kilat.platform import runtime as runtime_module
from kilat.platform.tasks import stop_if_cancelled


async def cancel_turned_into_timeout() -> None:
    """What a client library does when a cancel races its own socket timeout."""
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        raise TimeoutError("socket timeout") from None


async def retrying_loop(guarded: bool, rounds: list[int], most: int = 50) -> None:
    """Retries its work on any error, like the services' background loops; an unguarded one
    gives up only after ``most`` rounds (so the test leaves nothing running)."""
    while len(rounds) < most:
        rounds.append(1)
        try:
            await cancel_turned_into_timeout()
        except Exception as exc:
            if guarded:
                stop_if_cancelled(exc)
        await asyncio.sleep(0.01)


async def test_a_guarded_loop_stops_when_its_cancellation_surfaces_as_another_error():
    rounds: list[int] = []
    task = asyncio.create_task(retrying_loop(True, rounds))
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)
    assert rounds == [1]


async def test_an_unguarded_loop_swallows_its_cancellation():
    rounds: list[int] = []
    task = asyncio.create_task(retrying_loop(False, rounds, most=3))
    await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done() and len(rounds) > 1  # the bug stop_if_cancelled prevents
    while not task.done():  # later cancels are swallowed too, until it gives up
        task.cancel()
        await asyncio.sleep(0.02)


async def test_a_service_stop_gives_up_on_a_task_that_ignores_cancellation(infra, monkeypatch):
    from tests.support.harness import running_service
    from tests.support.notes import descriptor

    monkeypatch.setattr(runtime_module, "STOP_TIMEOUT_SECONDS", 0.1)
    rounds: list[int] = []
    loop = asyncio.get_running_loop()
    async with running_service(descriptor, infra) as (runtime, _client):
        stubborn = runtime.spawn(retrying_loop(False, rounds, most=100), "stubborn")
        await asyncio.sleep(0.02)
        started = loop.time()
    assert loop.time() - started < 2  # stop returned after its timeout instead of waiting
    assert not stubborn.done()
    while not stubborn.done():
        stubborn.cancel()
        await asyncio.sleep(0.02)
