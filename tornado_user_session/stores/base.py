"""The contract every session store fulfils."""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping
from typing import ClassVar

#: What a store keeps for one session: each top-level key of the session mapped to the
#: JSON text of its value. Stores never parse the text, they only keep it.
Record = Mapping[str, str]

#: The key under which a logged-in session holds its user. A store that must evict
#: sessions to stay within a bound evicts the others (anonymous visitors') first.
USER_KEY = "user"


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

    @abc.abstractmethod
    async def load(
        self, session_id: str, *, idle_ttl: float | None = None
    ) -> dict[str, str] | None:
        """Return a copy of the session's record, or None if it is unknown or expired.

        With *idle_ttl* (only passed to a store that sets
        :attr:`supports_idle_timeout`), the read also extends the record to expire
        *idle_ttl* seconds from now, but never past the end its last save gave it,
        in the same operation (one round trip for a networked store).
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

    def purge(self, limit: int) -> int:
        """Remove at most *limit* expired records and return how many were removed.

        Called from the IOLoop only for stores that set :attr:`needs_purge`; it must
        do work in proportion to what it removes, never scan every record. The
        default does nothing.
        """
        return 0

    async def close(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Release what the store holds (connections). The default does nothing."""
