"""A bounded in-memory store: the default, for a single process."""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import Any

from ..errors import ConfigError
from .base import INDEX_GRACE, SEEN_EVERY, SEEN_KEY, USER_KEY, IndexedSession, Record, Store

log = logging.getLogger("tornado_user_session")

# A session as held here: its expiry time, the end its last save gave it (which an idle
# extension cannot pass; the same float when there is no idle timeout), then its keys and
# texts, alternating. A flat tuple of strings is about a third the size of an object
# holding a dict, and the cyclic garbage collector stops tracking it, so a million
# sessions cost neither much memory nor long collections.
_Entry = tuple[Any, ...]


def _pack(now: float, ttl: float, idle_ttl: float | None, record: Record) -> _Entry:
    end = now + ttl
    expires = end if idle_ttl is None or idle_ttl >= ttl else now + idle_ttl
    return (expires, end, *itertools.chain.from_iterable(record.items()))


def _unpack(entry: _Entry) -> dict[str, str]:
    fields = itertools.islice(entry, 2, None)
    return dict(zip(fields, fields, strict=False))


class MemoryStore(Store):
    """Keeps sessions in this process's memory.

    Sessions die with the process and are not shared with other processes: a
    deployment with several processes or hosts needs a shared store such as
    :class:`~tornado_user_session.RedisStore`. It is not thread-safe: serve it
    from one IOLoop per process, as Tornado applications usually are
    (:func:`~tornado_user_session.init` refuses a second loop running at once).

    :param max_sessions: how many sessions it holds at most (default 100,000, 2 at
        least: about 350 bytes each plus their data, tens of megabytes for small
        sessions, enough for any one process; at most ``max_session_bytes`` of data
        each).
    :param max_anonymous_sessions: how many of those may be anonymous, with no
        ``user`` key (default a tenth of *max_sessions*). Each kind evicts its own
        least recently used session (read or saved) when it is full, so a flood of
        requests that create anonymous sessions never pushes a logged-in user out.
        Among logged-in sessions, those not read since they were stored (logins
        whose visitor never came back) are evicted first. Evictions of logged-in
        sessions are logged at WARNING, at most once a minute, with their count.
    :param clock: the time source, in seconds; inject a fake one in tests.
    :raises ConfigError: if *max_sessions* is not an integer of 2 or more, or
        *max_anonymous_sessions* not an integer from 1 to ``max_sessions - 1``.

    An expired session is never served. :func:`~tornado_user_session.init` calls
    :meth:`purge` every ``store_check_period`` seconds; it removes expired sessions
    from the least recently used end and stops at the first one that has not
    expired, so it costs what it removes, never a scan of every session. A session
    read after its last save may expire behind one used less recently; it is
    removed once it reaches that end, at most ``max_age`` later.
    """

    needs_purge = True
    answers_at_once = True
    supports_idle_timeout = True
    supports_user_index = True

    def __init__(
        self,
        max_sessions: int = 100_000,
        *,
        max_anonymous_sessions: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_sessions, bool) or not isinstance(max_sessions, int) or max_sessions < 2:
            raise ConfigError(
                "max_sessions", f"must be an integer of 2 or more, not {max_sessions!r}"
            )
        if max_anonymous_sessions is None:
            max_anonymous_sessions = max(1, max_sessions // 10)
        if (
            isinstance(max_anonymous_sessions, bool)
            or not isinstance(max_anonymous_sessions, int)
            or not 1 <= max_anonymous_sessions < max_sessions
        ):
            raise ConfigError(
                "max_anonymous_sessions",
                f"must be an integer from 1 to max_sessions - 1 ({max_sessions - 1}), "
                f"not {max_anonymous_sessions!r}",
            )
        self.max_sessions = max_sessions
        self.max_anonymous_sessions = max_anonymous_sessions
        self._clock = clock
        # Least recently used first. Logged-in sessions that no request has read since they
        # were stored (a login whose visitor never came back) are on probation: they are
        # evicted before the ones in use, so a flood of logins, each used once, cannot push
        # out the users who came back.
        self._users: OrderedDict[str, _Entry] = OrderedDict()
        self._probation: OrderedDict[str, _Entry] = OrderedDict()
        self._anonymous: OrderedDict[str, _Entry] = OrderedDict()
        self._evicted_users = 0
        self._evictions_logged_at: float | None = None
        # Each user's index (handle -> session id, time added), least recently written first.
        self._index: OrderedDict[str, dict[str, tuple[str, float]]] = OrderedDict()
        # Which user and handle each indexed session is listed under, so that a session that
        # goes (deleted, expired, evicted) takes its entry with it: the index stays bounded.
        self._indexed: dict[str, tuple[str, str]] = {}

    def __len__(self) -> int:
        """The number of sessions held, expired ones not yet purged included."""
        return len(self._users) + len(self._probation) + len(self._anonymous)

    def _find(self, session_id: str) -> tuple[OrderedDict[str, _Entry], _Entry | None]:
        """The segment holding *session_id*, and its entry (None if it is in none)."""
        sessions = self._users
        entry = sessions.get(session_id)
        if entry is None:
            sessions = self._probation
            entry = sessions.get(session_id)
            if entry is None:
                sessions = self._anonymous
                entry = sessions.get(session_id)
        return sessions, entry

    async def load(
        self, session_id: str, *, idle_ttl: float | None = None, seen_at: float | None = None
    ) -> dict[str, str] | None:
        sessions, entry = self._find(session_id)
        if entry is None:
            return None
        now = self._clock()
        if entry[0] <= now:
            del sessions[session_id]
            self._unindex(session_id)
            return None
        record = _unpack(entry)
        if idle_ttl is not None:
            entry = (min(now + idle_ttl, entry[1]), *entry[1:])
        if seen_at is not None and SEEN_KEY in record:
            seen = record[SEEN_KEY]
            if seen_at - float(seen) >= SEEN_EVERY:
                at = entry.index(SEEN_KEY, 2) + 1  # a key, then its text
                entry = (*entry[:at], repr(float(seen_at)), *entry[at + 1 :])
        if sessions is self._probation:  # read again: in use
            del sessions[session_id]
            sessions = self._users
        sessions[session_id] = entry
        sessions.move_to_end(session_id)
        return record

    async def create(
        self, session_id: str, record: Record, ttl: float, *, idle_ttl: float | None = None
    ) -> None:
        sessions, entry = self._find(session_id)
        if entry is not None:
            del sessions[session_id]
        entry = _pack(self._clock(), ttl, idle_ttl, record)
        self._put(session_id, entry, self._probation, logged_in=USER_KEY in record)

    async def update(
        self,
        session_id: str,
        changed: Record,
        removed: Collection[str],
        ttl: float,
        *,
        idle_ttl: float | None = None,
    ) -> bool:
        sessions, entry = self._find(session_id)
        if entry is None:
            return False
        del sessions[session_id]
        now = self._clock()
        if entry[0] <= now:
            self._unindex(session_id)
            return False
        record = _unpack(entry)
        record.update(changed)
        for key in removed:
            record.pop(key, None)
        entry = _pack(now, ttl, idle_ttl, record)
        self._put(session_id, entry, sessions, logged_in=USER_KEY in record)
        return True

    async def delete(self, session_id: str) -> bool:
        sessions, entry = self._find(session_id)
        if entry is None:
            return False
        del sessions[session_id]
        self._unindex(session_id)
        expires: float = entry[0]
        return expires > self._clock()

    def purge(self, limit: int) -> int:
        now = self._clock()
        removed = 0
        for sessions in (self._users, self._probation, self._anonymous):
            while removed < limit and sessions:
                session_id, entry = next(iter(sessions.items()))
                if entry[0] > now:
                    break
                del sessions[session_id]
                self._unindex(session_id)
                removed += 1
        if self._evicted_users:
            self._log_evictions(now)  # the count of a burst that has ended
        self._sweep_index(limit, now)
        return removed

    async def index_add(self, owner: str, handle: str, session_id: str) -> None:
        now = self._clock()
        entries = self._index.pop(owner, None) or {}
        self._prune(entries, now)
        entries[handle] = (session_id, now)
        self._index[owner] = entries  # the most recently written owner
        self._indexed[session_id] = (owner, handle)

    async def index_read(self, owner: str) -> list[IndexedSession]:
        entries = self._index.get(owner)
        if entries is None:
            return []
        now = self._clock()
        self._prune(entries, now)
        if not entries:
            del self._index[owner]
        found = []
        for handle, (session_id, _) in entries.items():
            entry = self._find(session_id)[1]
            if entry is not None and entry[0] > now:
                found.append(IndexedSession(handle, session_id, _unpack(entry), entry[0] - now))
        return found

    async def index_remove(self, owner: str, handles: Collection[str]) -> None:
        entries = self._index.get(owner)
        if entries is not None:
            for handle in handles:
                removed = entries.pop(handle, None)
                if removed is not None:
                    self._indexed.pop(removed[0], None)
            if not entries:
                del self._index[owner]

    def _unindex(self, session_id: str) -> None:
        """Drop the index entry of a session that is gone (deleted, expired, evicted)."""
        indexed = self._indexed.pop(session_id, None)
        if indexed is None:
            return
        owner, handle = indexed
        entries = self._index.get(owner)
        if entries is not None and entries.get(handle, ("",))[0] == session_id:
            del entries[handle]
            if not entries:
                del self._index[owner]

    def _prune(self, entries: dict[str, tuple[str, float]], now: float) -> None:
        """Drop the entries whose sessions are gone, but for those added within the grace."""
        for handle, (session_id, added) in list(entries.items()):
            if now - added < INDEX_GRACE:
                continue
            entry = self._find(session_id)[1]
            if entry is None or entry[0] <= now:
                del entries[handle]
                self._indexed.pop(session_id, None)

    def _sweep_index(self, limit: int, now: float) -> None:
        """Prune the *limit* owners written least recently, so that the index of users who
        never come back does not outlive their sessions."""
        index = self._index
        for _ in range(min(limit, len(index))):
            owner, entries = index.popitem(last=False)
            self._prune(entries, now)
            if entries:
                index[owner] = entries

    def _put(
        self, session_id: str, entry: _Entry, segment: OrderedDict[str, _Entry], *, logged_in: bool
    ) -> None:
        """Add a session as the most recently used of *segment* (the one it was in), moved to
        the segment its kind belongs in, evicting the least recently used of its kind to stay
        within bounds."""
        if not logged_in:
            segment = self._anonymous
            while len(segment) >= self.max_anonymous_sessions:
                self._unindex(segment.popitem(last=False)[0])
        else:
            if segment is self._anonymous:
                segment = self._probation  # logged in by this change
            bound = self.max_sessions - self.max_anonymous_sessions
            while len(self._users) + len(self._probation) >= bound:
                self._unindex((self._probation or self._users).popitem(last=False)[0])
                self._evicted_user()
        segment[session_id] = entry

    def _evicted_user(self) -> None:
        self._evicted_users += 1
        self._log_evictions(self._clock())

    def _log_evictions(self, now: float) -> None:
        """Log the evictions of logged-in sessions counted so far, if none were this minute."""
        logged_at = self._evictions_logged_at
        if logged_at is None or now - logged_at >= 60:
            count, self._evicted_users, self._evictions_logged_at = self._evicted_users, 0, now
            log.warning(
                "tornado_user_session: MemoryStore evicted %d logged-in session%s to stay "
                "within max_sessions=%d; raise it, or keep sessions in Redis",
                count,
                "" if count == 1 else "s",
                self.max_sessions,
            )
