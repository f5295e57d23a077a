"""A bounded in-memory store: the default, for a single process."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection

from ..errors import ConfigError
from .base import Record, Store


class _Entry:
    __slots__ = ("expires", "record")

    def __init__(self, record: dict[str, str], expires: float) -> None:
        self.record = record
        self.expires = expires


class MemoryStore(Store):
    """Keeps sessions in this process's memory.

    Sessions die with the process and are not shared with other processes: a
    deployment with several processes or hosts needs a shared store such as
    :class:`~tornado_user_session.RedisStore`.

    :param max_sessions: how many sessions it holds at most (default 100,000,
        a few hundred bytes each plus their data: tens of megabytes for small
        sessions, enough for any one process). When a new session would go over
        it, the least recently used session is evicted.
    :param clock: the time source, in seconds; inject a fake one in tests.
    :raises ConfigError: if *max_sessions* is not a positive integer.

    Expired sessions are never served, and :func:`~tornado_user_session.init`
    purges them every ``store_check_period`` seconds. The purge walks sessions
    in the order they were last saved, which is expiry order because every save
    made by the library uses the same lifetime, so its cost is proportional to
    what expired, not to what is stored.
    """

    needs_purge = True

    def __init__(
        self, max_sessions: int = 100_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(max_sessions, bool) or not isinstance(max_sessions, int) or max_sessions < 1:
            raise ConfigError("max_sessions", f"must be a positive integer, not {max_sessions!r}")
        self.max_sessions = max_sessions
        self._clock = clock
        # The same entries twice: least recently used first, and least recently saved first.
        self._by_use: OrderedDict[str, _Entry] = OrderedDict()
        self._by_save: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        """The number of sessions held, expired ones not yet purged included."""
        return len(self._by_use)

    async def load(self, session_id: str) -> dict[str, str] | None:
        entry = self._by_use.get(session_id)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            self._remove(session_id)
            return None
        self._by_use.move_to_end(session_id)
        return dict(entry.record)

    async def create(self, session_id: str, record: Record, ttl: float) -> None:
        self._remove(session_id)
        while len(self._by_use) >= self.max_sessions:
            evicted, _ = self._by_use.popitem(last=False)
            del self._by_save[evicted]
        entry = _Entry(dict(record), self._clock() + ttl)
        self._by_use[session_id] = entry
        self._by_save[session_id] = entry

    async def update(
        self, session_id: str, changed: Record, removed: Collection[str], ttl: float
    ) -> bool:
        entry = self._by_use.get(session_id)
        now = self._clock()
        if entry is None or entry.expires <= now:
            self._remove(session_id)
            return False
        entry.record.update(changed)
        for key in removed:
            entry.record.pop(key, None)
        entry.expires = now + ttl
        self._by_use.move_to_end(session_id)
        self._by_save.move_to_end(session_id)
        return True

    async def delete(self, session_id: str) -> None:
        self._remove(session_id)

    def purge(self, limit: int) -> int:
        now = self._clock()
        removed = 0
        while removed < limit and self._by_save:
            session_id, entry = next(iter(self._by_save.items()))
            if entry.expires > now:
                break
            self._remove(session_id)
            removed += 1
        return removed

    def _remove(self, session_id: str) -> None:
        if self._by_use.pop(session_id, None) is not None:
            del self._by_save[session_id]
