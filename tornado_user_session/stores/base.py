"""The contract every session store fulfils."""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping
from typing import ClassVar, NamedTuple

#: What a store keeps for one session: each top-level key of the session mapped to the
#: JSON text of its value. Stores never parse the text, they only keep it.
Record = Mapping[str, str]

#: The key under which a logged-in session holds its user. A store that must evict
#: sessions to stay within a bound evicts the others (anonymous visitors') first.
USER_KEY = "user"

#: The record key of a logged-in session's last use (seconds since the epoch, as text),
#: which a store's :meth:`Store.load` updates, at most every :data:`SEEN_EVERY` seconds.
SEEN_KEY = "\x00seen"

#: How stale a session's last use may grow before a read writes it again, in seconds.
SEEN_EVERY = 60.0

#: How long an index entry whose session is not stored yet is kept, in seconds: a login
#: adds its entry just before it stores the session.
INDEX_GRACE = 60.0


class IndexedSession(NamedTuple):
    """A live session of a user's index, as :meth:`Store.index_read` returns it."""

    handle: str
    session_id: str
    record: dict[str, str]
    ttl: float  #: seconds until it expires


class Store(abc.ABC):
    """Keeps session records between requests, keyed by session id.

    A store never sees HTTP: session ids and records go in, records come out.
    Every method is a coroutine, so a store may talk to a server without blocking
    the IOLoop. A store whose backend fails raises
    :class:`~tornado_user_session.errors.StoreError` from the backend's error; the
    mixin answers that with a 503; one that finds data it cannot use under a
    session's key (written by something else) treats it as no session in
    :meth:`load`, and raises :class:`~tornado_user_session.errors.StoreDataError`
    from a write.

    Lifetimes are in seconds. A record is never served once its lifetime has run
    out, whether or not it has been purged yet, and reading a record does not
    extend its lifetime (unless asked to, for an idle timeout): only :meth:`create`
    and :meth:`update` do. A record holds the library's bookkeeping under a key of its
    own, which a store keeps as any other.

    Saves apply what changed rather than the whole session, so two overlapping
    requests that change different keys both keep their change, and a save never
    brings back a record that was deleted meanwhile (a logout is final).
    """

    #: True for stores that cannot expire records by themselves:
    #: :func:`~tornado_user_session.init` then calls :meth:`purge` every
    #: ``store_check_period`` seconds on the IOLoop.
    needs_purge: ClassVar[bool] = False

    #: True for stores whose :meth:`load`, :meth:`create` and :meth:`update` take
    #: ``idle_ttl``, which ``idle_timeout`` needs: :func:`~tornado_user_session.init`
    #: refuses that option for a store without it. A store written for 0.1 works
    #: unchanged with every other option.
    supports_idle_timeout: ClassVar[bool] = False

    #: True for stores whose coroutines finish without waiting on anything (in memory):
    #: the mixin then saves within ``finish()`` itself, with no task. A store that
    #: waits on a server leaves it False, so its saves run in a task of their own,
    #: where its timeouts apply.
    answers_at_once: ClassVar[bool] = False

    #: True for stores that keep an index of each user's sessions (:meth:`index_add`,
    #: :meth:`index_read`, :meth:`index_remove`) and take ``seen_at`` in :meth:`load`,
    #: which listing and ending a user's sessions need: :func:`~tornado_user_session.init`
    #: refuses ``user_id_key`` for a store without it.
    supports_user_index: ClassVar[bool] = False

    @abc.abstractmethod
    async def load(
        self, session_id: str, *, idle_ttl: float | None = None, seen_at: float | None = None
    ) -> dict[str, str] | None:
        """Return a copy of the session's record, or None if it is unknown or expired.

        With *idle_ttl* (only passed to a store that sets
        :attr:`supports_idle_timeout`), the read also extends the record to expire
        *idle_ttl* seconds from now, but never past the end its last save gave it,
        in the same operation (one round trip for a networked store).

        With *seen_at* (only passed to a store that sets :attr:`supports_user_index`),
        a record that has a :data:`SEEN_KEY` older than :data:`SEEN_EVERY` seconds
        before *seen_at* gets *seen_at* there, without any change to its lifetime: in
        the same operation, or in one more that runs only then (at most once a
        :data:`SEEN_EVERY`). The record returned may hold the older value. A record
        without that key is not written.
        """

    @abc.abstractmethod
    async def create(
        self, session_id: str, record: Record, ttl: float, *, idle_ttl: float | None = None
    ) -> None:
        """Store a new record that lives *ttl* seconds, replacing any under that id.

        With *idle_ttl*, it expires sooner if no :meth:`load` extends it within that time.
        """

    @abc.abstractmethod
    async def update(
        self,
        session_id: str,
        changed: Record,
        removed: Collection[str],
        ttl: float,
        *,
        idle_ttl: float | None = None,
    ) -> bool:
        """Apply a change to an existing record, atomically, and let it live *ttl* more seconds.

        Keys in *changed* are set, keys in *removed* are deleted, and every other key
        is left as it is. With nothing changed and nothing removed, this only
        extends the lifetime. *idle_ttl* is as in :meth:`create`.

        :returns: False, storing nothing, if the record does not exist (deleted or
            expired), so that a late save cannot bring a session back.
        """

    @abc.abstractmethod
    async def delete(self, session_id: str) -> bool:
        """Remove the record and return whether there was one (False if unknown or expired).

        A login uses the answer: when its old record is already gone (a logout
        landed meanwhile), it does not carry the old values into the new session.
        """

    async def index_add(self, owner: str, handle: str, session_id: str) -> None:
        """List the session *session_id* among *owner*'s sessions, under *handle*.

        Called before the session is stored. Drops the entries of *owner*'s sessions
        that are gone (except those added in the last :data:`INDEX_GRACE` seconds),
        so an index holds the user's live sessions and what ended since its last
        :meth:`index_add` or :meth:`index_read`. The index itself may expire, but no
        sooner than any session can (400 days after its last add or read).
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no index of users' sessions")

    async def index_read(self, owner: str) -> list[IndexedSession]:
        """Return *owner*'s sessions that are still stored, with their records and lifetimes.

        Drops the entries of sessions that are gone, as :meth:`index_add` does. Costs
        in proportion to *owner*'s entries, never a scan of the store.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no index of users' sessions")

    async def index_remove(self, owner: str, handles: Collection[str]) -> None:
        """Remove these entries from *owner*'s index (their sessions are deleted apart)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no index of users' sessions")

    def purge(self, limit: int) -> int:
        """Remove at most *limit* expired records and return how many were removed.

        Called from the IOLoop only for stores that set :attr:`needs_purge`; it must
        do work in proportion to what it removes, never scan every record. The
        default does nothing.
        """
        return 0

    async def close(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Release what the store holds (connections). The default does nothing."""
