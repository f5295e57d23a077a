"""Driving a coroutine by hand: the mixin starts a save in finish() and, when the store
answers at once (the in-memory one), finishes the response in the same call, with no task."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


async def resume(coroutine: Coroutine[Any, Any, Any], waiting: Any) -> None:
    """Drive to its end a coroutine that was started by hand, as a task would have.

    *waiting* is what it last yielded: a future it waits for, or None to let the loop run.
    """
    while True:
        if waiting is None:
            await asyncio.sleep(0)
        else:
            await asyncio.wait((waiting,))
        try:
            waiting = coroutine.send(None)
        except StopIteration:
            return


def retrieve_exception(task: asyncio.Task[None]) -> None:
    # A response whose client went away fails to send; nobody awaits it, which is fine.
    if not task.cancelled():
        task.exception()
