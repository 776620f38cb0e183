"""Background loops that survive their work's failures but never their own cancellation."""

from __future__ import annotations

import asyncio


def stop_if_cancelled(error: BaseException) -> None:
    """Re-raise as ``CancelledError`` when the current task is being cancelled.

    A loop that logs and retries on ``Exception`` must still stop when cancelled, even when the
    cancellation surfaced as another error: a client library may turn it into a timeout or a
    connection error (redis-py's socket timeout racing the cancel, for one). Without this, such a
    loop swallows the one cancellation it gets and a service's stop waits for it forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError() from error
