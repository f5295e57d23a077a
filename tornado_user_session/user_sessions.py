"""A user's sessions: list them, end one, end all but one, and cap how many there are.

Which user a session belongs to is the ``user_id_key`` field of its session user at
login, kept in its bookkeeping as its *owner*. The store keeps an index of each owner's
sessions (handle -> session id): a login adds its entry before it stores the session, and
the index drops the entries of sessions that are gone whenever the owner logs in again or
lists them. Ending a session deletes its record, which is what ends it everywhere; its
index entry goes after. No step relies on the other having happened, so a step that fails
can leave a stale entry (dropped by the next listing) but never bring a session back.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from . import lifetimes
from .config import Config
from .session import Session
from .stores.base import USER_KEY, IndexedSession, Store


def _utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


@dataclasses.dataclass(frozen=True)
class SessionInfo:
    """One of a user's sessions, as ``list_user_sessions()`` shows it.

    Times are aware UTC datetimes.

    :param handle: the session's public name: stable while the session lives, safe in a
        page or a log, useless as a cookie and not derivable into the session id. Give it
        to ``end_user_session()``.
    :param current: whether it is the session of the request that asked.
    :param created_at: when the session was stored (its login, for a logged-in session).
    :param authenticated_at: when its user logged in.
    :param last_seen_at: when a request last used it, to a minute.
    :param expires_at: when it ends unless used or saved again.
    :param ip: the address its login came from, or None when devices are not tracked.
    :param user_agent: the browser's User-Agent at login, or None.
    """

    handle: str
    current: bool
    created_at: datetime.datetime
    authenticated_at: datetime.datetime | None
    last_seen_at: datetime.datetime
    expires_at: datetime.datetime
    ip: str | None
    user_agent: str | None


class UserSessions:
    """The operations on a user's sessions, for a manager's store and options."""

    def __init__(self, store: Store, config: Config, now: Callable[[], float]) -> None:
        self.store = store
        self.config = config
        self.now = now

    def owner_of(self, user: Mapping[str, Any]) -> str | None:
        """The user id a session user's sessions are listed under: its ``user_id_key`` field
        as text, or None (no such field, or the index is off)."""
        key = self.config.user_id_key
        value = None if key is None else user.get(key)
        return None if value is None else str(value)

    def new_handle(self) -> str:
        """A new session handle: 96 random bits, URL-safe, unrelated to the session id."""
        return secrets.token_urlsafe(12)

    async def of(self, owner: str, current: str | None = None) -> list[SessionInfo]:
        """Return *owner*'s live sessions, most recently used first.

        :param current: the id of the session asking, marked ``current``; if it is not
            live (ended while its request ran), the answer is empty.
        :raises StoreError: if the store fails.
        """
        live = await self._live(owner, current)
        if current is not None and all(session_id != current for _, session_id in live):
            return []
        return [info for info, _ in live]

    async def end(self, owner: str, handle: str, *, asker: str | None = None) -> bool:
        """End *owner*'s session named *handle*; return whether there was one.

        :param asker: the id of the session asking: nothing ends if it is not live.
        :raises StoreError: if the store fails.
        """
        return await self._end(owner, [handle], asker=asker) == 1

    async def end_all(
        self, owner: str, keep: str | None = None, *, asker: str | None = None
    ) -> int:
        """End every session of *owner* but the one named *keep*; return how many ended.

        :param asker: the id of the session asking: nothing ends if it is not live.
        :raises StoreError: if the store fails.
        """
        return await self._end(owner, None, keep=keep, asker=asker)

    async def cap(self, owner: str, keep: str, limit: int) -> int:
        """End *owner*'s least recently used sessions beyond *limit*, never *keep*.

        :returns: how many ended.
        :raises StoreError: if the store fails.
        """
        live = await self._live(owner)
        extra = len(live) - limit
        if extra <= 0:
            return 0
        new = next((info for info, _ in live if info.handle == keep), None)
        # Only sessions older than the new one: two logins at once do not end each other.
        older = [
            info.handle
            for info, _ in reversed(live)
            if new is not None and info.handle != keep and info.created_at < new.created_at
        ]
        return await self._end(owner, older[:extra], live=live)

    async def _end(
        self,
        owner: str,
        handles: list[str] | None,
        *,
        keep: str | None = None,
        live: list[tuple[SessionInfo, str]] | None = None,
        asker: str | None = None,
    ) -> int:
        """End the sessions named *handles* (None: all but *keep*); return how many ended."""
        if live is None:
            live = await self._live(owner)
        if asker is not None and all(session_id != asker for _, session_id in live):
            return 0  # the asking session was ended while its request ran
        ended = []
        for info, session_id in live:
            chosen = info.handle in handles if handles is not None else info.handle != keep
            if chosen and await self.store.delete(session_id) is not False:
                ended.append(info.handle)
        if ended:
            await self.store.index_remove(owner, ended)
        return len(ended)

    async def _live(self, owner: str, current: str | None = None) -> list[tuple[SessionInfo, str]]:
        """*owner*'s live sessions and their ids, most recently used first."""
        now = self.now()
        live = []
        for entry in await self.store.index_read(owner):
            info = self._info(owner, entry, now, current)
            if info is not None:
                live.append((info, entry.session_id))
        live.sort(key=lambda pair: pair[0].last_seen_at, reverse=True)
        return live

    def _info(
        self, owner: str, entry: IndexedSession, now: float, current: str | None
    ) -> SessionInfo | None:
        try:
            session = Session(entry.session_id, entry.record)
        except (ValueError, RecursionError):
            return None
        bookkeeping = session.bookkeeping
        user = session.get(USER_KEY)
        if (
            bookkeeping is None
            or not isinstance(user, dict)
            or user.get("_id") != bookkeeping.authenticated_user  # logged out by hand
            or bookkeeping.owner != owner
            or bookkeeping.handle != entry.handle
            or bookkeeping.created_at is None
            or lifetimes.is_over(self.config, bookkeeping, now)
        ):
            return None
        started = bookkeeping.authenticated_at or bookkeeping.created_at
        return SessionInfo(
            handle=entry.handle,
            current=entry.session_id == current,
            created_at=_utc(bookkeeping.created_at),
            authenticated_at=None
            if bookkeeping.authenticated_at is None
            else _utc(bookkeeping.authenticated_at),
            last_seen_at=_utc(max(session.seen_at or started, started)),
            expires_at=_utc(now + entry.ttl),
            ip=bookkeeping.ip,
            user_agent=bookkeeping.user_agent,
        )
