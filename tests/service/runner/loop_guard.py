"""Event-loop guards for tests of hostile inputs: a lag probe and a deadline that interrupts code
holding the loop (which no asyncio timeout can)."""

from __future__ import annotations

import asyncio
import signal
from contextlib import asynccontextmanager, contextmanager


@asynccontextmanager
async def loop_lag_probe(interval: float = 0.01):
    """Sleeps ``interval`` over and over; yields a function giving the worst overshoot so far."""
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
