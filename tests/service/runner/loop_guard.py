"""Event-loop guards for tests of hostile inputs: a lag probe and a deadline that interrupts code
holding the loop (which no asyncio timeout can)."""

from __future__ import annotations

import asyncio
import gc
import signal
from contextlib import asynccontextmanager, contextmanager

from kilat.platform.runtime import freeze_startup_heap


@asynccontextmanager
async def loop_lag_probe(interval: float = 0.01):
    """Sleeps ``interval`` over and over; yields a function giving the worst overshoot so far.

    The heap is frozen first, as every Kilat process does once started (``freeze_startup_heap``):
    a full collection of a test process's heap is itself a 100 ms stall, unrelated to the inputs.
    """
    freeze_startup_heap()
    loop = asyncio.get_running_loop()
    worst = 0.0

    async def probe() -> None:
        nonlocal worst
        while True:
            started = loop.time()
            await asyncio.sleep(interval)
            worst = max(worst, loop.time() - started - interval)

    task = asyncio.create_task(probe())
    await asyncio.sleep(interval)
    try:
        yield lambda: worst
    finally:
        task.cancel()
        gc.unfreeze()


class LoopFrozen(Exception):
    pass


@contextmanager
def deadline(seconds: float):
    """Interrupt a request that holds the event loop for ``seconds`` (it would never return)."""
    def expire(_signum, _frame):
        raise LoopFrozen(f"event loop blocked for more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
