"""The purge timer of a store that cannot expire records by itself, such as the in-memory one."""

from __future__ import annotations

import asyncio

from tornado.ioloop import PeriodicCallback

from .errors import SessionError
from .stores.base import Store

#: How many expired sessions one purge step removes before it lets other work run.
PURGE_BATCH = 1000


class Purger:
    """Calls a store's :meth:`~tornado_user_session.Store.purge` every *period* seconds.

    Its timer runs on the loop that serves the application. Such a store lives in
    one process and one loop: a new loop takes over once the previous one is
    closed (``asyncio.run`` twice), but a second loop running at the same time
    (IOLoops on several threads) is refused, since the store is not thread-safe.
    """

    def __init__(self, store: Store, period: float) -> None:
        self.store = store
        self.period = period
        self._timer: PeriodicCallback | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def ensure_running(self) -> None:
        """Start the timer on the running loop, unless it runs there already.

        :raises SessionError: if it runs on another loop that is still open.
        """
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        if self._loop is not None and not self._loop.is_closed():
            raise SessionError(
                f"{type(self.store).__name__} serves one IOLoop per process, and this "
                "application is already served by another loop that is still open: serve "
                "it from one loop, or keep sessions in a shared store such as RedisStore"
            )
        self.stop()
        self._loop = loop
        self._timer = PeriodicCallback(self.purge, self.period * 1000)
        self._timer.start()

    @property
    def running(self) -> bool:
        """Whether the timer runs."""
        return self._timer is not None and self._timer.is_running()

    async def purge(self) -> int:
        """Remove every expired session, a batch at a time, and return how many.

        Between batches it lets the IOLoop serve requests.
        """
        total = 0
        while True:
            removed = self.store.purge(PURGE_BATCH)
            total += removed
            if removed < PURGE_BATCH:
                return total
            await asyncio.sleep(0)

    def stop(self) -> None:
        """Stop the timer, if it runs."""
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._loop = None
