"""A bounded in-memory store: the default, for a single process."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import Any

from ..errors import ConfigError
from .base import Record, Store

# A session as held here: its expiry time, then its keys and texts, alternating. A flat
# tuple of strings is about a third the size of an object holding a dict, and the cyclic
# garbage collector stops tracking it, so a million sessions cost neither much memory
# nor long collections.
_Entry = tuple[Any, ...]


def _pack(expires: float, record: Record) -> _Entry:
    return (expires, *itertools.chain.from_iterable(record.items()))


def _unpack(entry: _Entry) -> dict[str, str]:
    fields = iter(entry)
    next(fields)
    return dict(zip(fields, fields, strict=False))


class MemoryStore(Store):
    """Keeps sessions in this process's memory.

    Sessions die with the process and are not shared with other processes: a
    deployment with several processes or hosts needs a shared store such as
    :class:`~tornado_user_session.RedisStore`.

    :param max_sessions: how many sessions it holds at most (default 100,000:
        about 350 bytes each plus their data, tens of megabytes for small sessions,
        enough for any one process). When a new session would go over it, the least
        recently used session (read or saved) is evicted.
    :param clock: the time source, in seconds; inject a fake one in tests.
    :raises ConfigError: if *max_sessions* is not a positive integer.

    An expired session is never served. :func:`~tornado_user_session.init` calls
    :meth:`purge` every ``store_check_period`` seconds; it removes expired sessions
    from the least recently used end and stops at the first one that has not
    expired, so it costs what it removes, never a scan of every session. A session
    read after its last save may expire behind one used less recently; it is
    removed once it reaches that end, at most ``max_age`` later.
    """

    needs_purge = True

    def __init__(
        self, max_sessions: int = 100_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(max_sessions, bool) or not isinstance(max_sessions, int) or max_sessions < 1:
            raise ConfigError("max_sessions", f"must be a positive integer, not {max_sessions!r}")
        self.max_sessions = max_sessions
        self._clock = clock
        self._sessions: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first

    def __len__(self) -> int:
        """The number of sessions held, expired ones not yet purged included."""
        return len(self._sessions)

    async def load(self, session_id: str) -> dict[str, str] | None:
        entry = self._sessions.get(session_id)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._sessions[session_id]
            return None
        self._sessions.move_to_end(session_id)
        return _unpack(entry)

    async def create(self, session_id: str, record: Record, ttl: float) -> None:
        sessions = self._sessions
        sessions.pop(session_id, None)
        while len(sessions) >= self.max_sessions:
            sessions.popitem(last=False)
        sessions[session_id] = _pack(self._clock() + ttl, record)

    async def update(
        self, session_id: str, changed: Record, removed: Collection[str], ttl: float
    ) -> bool:
        sessions = self._sessions
        entry = sessions.get(session_id)
        now = self._clock()
        if entry is None or entry[0] <= now:
            sessions.pop(session_id, None)
            return False
        record = _unpack(entry)
        record.update(changed)
        for key in removed:
            record.pop(key, None)
        sessions[session_id] = _pack(now + ttl, record)
        sessions.move_to_end(session_id)
        return True

    async def delete(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def purge(self, limit: int) -> int:
        sessions = self._sessions
        now = self._clock()
        removed = 0
        while removed < limit and sessions:
            session_id, entry = next(iter(sessions.items()))
            if entry[0] > now:
                break
            del sessions[session_id]
            removed += 1
        return removed
