"""What :func:`init` attaches to an application: options, signer, store and purge timer."""

from __future__ import annotations

import difflib
import logging
import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

import tornado.web

from . import lifetimes
from ._bounded import BoundedDict
from .bookkeeping import Bookkeeping
from .config import Config, option_names
from .errors import ConfigError, StoreError
from .health import StoreHealth
from .purging import Purger
from .session import Session, check_size
from .signing import CookieSigner
from .stores.base import SEEN_KEY
from .user_sessions import SessionInfo, UserSessions

log = logging.getLogger("tornado_user_session")


#: The key under which the manager sits in ``Application.settings``.
SETTINGS_KEY = "user_session"

#: How many sessions' Set-Cookie headers a manager remembers.
COOKIE_HEADER_CACHE_SIZE = 10_000


class PendingSave(NamedTuple):
    """What saving a session will write: a whole new record, or the changes to one."""

    create: bool
    changed: dict[str, str]
    removed: list[str]


class SessionManager:
    """Loads and saves the sessions of one application.

    Built by :func:`init`; handlers reach it through
    ``self.settings["user_session"]``. Everything here speaks in session ids and
    :class:`Session` objects; cookies and status codes are the mixin's.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = config.store
        self.signer = CookieSigner(config.secrets, cookie_name=config.name)
        self.purger = Purger(self.store, config.store_check_period)
        self.user_sessions = UserSessions(self.store, config, self.now)
        self.health = StoreHealth()
        self._cookie_headers: BoundedDict[tuple[str | None, bool, float | None], str] = BoundedDict(
            COOKIE_HEADER_CACHE_SIZE
        )

    def now(self) -> float:
        """The time, in seconds since the epoch, from the configured ``clock``."""
        return self.config.clock()

    def new_session_id(self) -> str:
        """Return a new session id: 256 random bits from :mod:`secrets`, URL-safe.

        An override must return URL-safe base64 characters (``A-Z a-z 0-9 - _``) only,
        at most 84 of them: the cookie accepts no other text.
        """
        return secrets.token_urlsafe(32)

    async def load(self, cookie: str | None, *, use: bool = True) -> Session:
        """Return the session a cookie value names, or a new empty one.

        A missing, unsigned, tampered or oversized cookie, an id the store does
        not know, an expired session and a record that is not valid JSON all
        give a new session: its id is made on its first save, never taken from
        the request.

        :param use: whether the read counts as a use of the session, as a request's
            does (default): it then extends an idle session and keeps its last use.
            False only looks.
        :raises StoreError: if the store fails.
        """
        session_id = self.signer.unsign(cookie) if cookie else None
        if session_id is None:
            return Session()
        return await self._load_stored(session_id, use)

    async def still_stored(self, session: Session) -> bool:
        """Whether *session*'s record is stored and live, asked of the store as a request's
        read is (it counts as a use).

        :raises StoreError: if the store fails.
        """
        if session.id is None:
            return False
        return (await self._load_stored(session.id, True)).id is not None

    async def _load_stored(self, session_id: str, use: bool) -> Session:
        # What the read also does, in the same store call: the idle extension, and the
        # time of use that the list of a user's sessions shows.
        config, store = self.config, self.store
        idle = config.idle_timeout
        now = self.now()
        if not use:
            record = await store.load(session_id)
        elif config.user_id_key is not None:
            record = await store.load(session_id, idle_ttl=idle, seen_at=now)
        elif idle is not None:
            record = await store.load(session_id, idle_ttl=idle)
        else:
            record = await store.load(session_id)
        self.health.answered()
        if record is None:
            return Session()
        try:
            session = Session(session_id, record)
        except (ValueError, RecursionError):  # nested too deep for the parser: not ours
            log.warning("tornado_user_session: a stored session is not valid JSON; ignoring it")
            return Session()
        if session.has_bookkeeping and lifetimes.is_over(config, session.bookkeeping, now):
            return Session()  # a store whose clock runs behind ours has not dropped it yet
        return session

    def pending_save(self, session: Session) -> PendingSave | None:
        """Return what saving *session* would write, or None when nothing needs writing.

        :raises UnstorableValueError: if a value cannot be stored as JSON.
        """
        config = self.config
        if session.id is None:
            if not session and not config.save_uninitialized:
                return None
            bookkeeping = session.bookkeeping
            if bookkeeping is None or bookkeeping.created_at is None:
                session.bookkeeping = (bookkeeping or Bookkeeping())._replace(created_at=self.now())
            record = session.record()
            check_size(record, self.config.max_session_bytes)
            return PendingSave(True, record, [])
        bookkeeping = session.bookkeeping
        if bookkeeping is None or bookkeeping.created_at is None:  # stored before 0.2
            session.bookkeeping = (bookkeeping or Bookkeeping())._replace(created_at=self.now())
        record = session.record()
        changed, removed = session.changes(record)
        if config.resave:  # all but the last use, which the store keeps more recent
            changed = {key: text for key, text in record.items() if key != SEEN_KEY}
        elif not (changed or removed or config.rolling):
            return None
        if changed:
            check_size(record, self.config.max_session_bytes)
        return PendingSave(False, changed, removed)

    async def save(self, session: Session, pending: PendingSave) -> bool:
        """Write *pending* to the store.

        :returns: whether the session is stored (and its cookie should be sent):
            False when it was deleted or expired meanwhile, which it stays.
        :raises StoreError: if the store fails.
        """
        config = self.config
        ttl = lifetimes.remaining(config, session.bookkeeping, self.now())
        if ttl <= 0:
            return False  # past its absolute end: the session is over
        idle = config.idle_timeout
        store = self.store
        if pending.create:
            session_id = self.new_session_id()
            bookkeeping = session.bookkeeping
            owner = handle = None
            if (
                bookkeeping is not None
                and bookkeeping.owner is not None
                and bookkeeping.handle is not None
            ):
                owner, handle = bookkeeping.owner, bookkeeping.handle
                # Listed before it is stored: no session of a user is ever unlisted.
                await store.index_add(owner, handle, session_id)
            if idle is None:
                await store.create(session_id, pending.changed, ttl)
            else:
                await store.create(session_id, pending.changed, ttl, idle_ttl=idle)
            stored = True
            replaced = session.replaces
            if replaced is not None:
                old_id, old_handle = replaced
                ended = await store.delete(old_id) is False
                if ended:  # the session ended while this request ran: it stays ended
                    await store.delete(session_id)
                    old_handle = handle
                if owner is not None and old_handle is not None:
                    # Only now that the old record is gone: it stays listed until then.
                    await store.index_remove(owner, [old_handle])
                if ended:
                    self.health.answered()
                    return False
            limit = config.max_sessions_per_user
            if owner is not None and handle is not None and limit is not None:
                await self.user_sessions.cap(owner, handle, limit)
        else:
            assert session.id is not None
            session_id = session.id
            changed, removed = pending.changed, pending.removed
            if idle is None:
                stored = await store.update(session_id, changed, removed, ttl)
            else:
                stored = await store.update(session_id, changed, removed, ttl, idle_ttl=idle)
        self.health.answered()
        if not stored:
            return False
        session.saved(session_id, pending.changed, pending.removed)
        return True

    def cookie_header(self, session: Session | None, *, https: bool) -> str:
        """The ``Set-Cookie`` header for a stored *session* (None clears the cookie), remembered.

        A session's header is the same on every save while its chosen lifetime is (its
        lifetime is a Max-Age), so it is made once rather than on every response; with
        ``absolute_timeout``, the Max-Age shrinks towards the end and is worked out on
        each save.
        """
        if session is None:
            session_id = expiry = None
        else:
            session_id = session.id
            expiry = session.expiry
        absolute = self.config.absolute_timeout is not None and session is not None
        key = (session_id, https, expiry)
        header = None if absolute else self._cookie_headers.get(key)
        if header is None:
            value = max_age = None
            if session is not None:
                assert session_id is not None
                value = self.signer.sign(session_id)
                max_age = lifetimes.cookie_max_age(self.config, session.bookkeeping, self.now())
            header = self.config.cookie_header(value, https=https, max_age=max_age)
            if not absolute:
                self._cookie_headers[key] = header
        return header

    def logged_in(
        self,
        session: Session,
        user: Mapping[str, Any],
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Start *session*'s bookkeeping anew for the login of the session user *user* now.

        It is fresh, and its absolute timeout starts counting; its chosen lifetime stays.
        It is listed among the sessions of the user its ``user_id_key`` field names,
        under a new handle, with the device given (when devices are tracked).
        """
        now = self.now()
        owner = self.user_sessions.owner_of(user)
        devices = self.config.track_devices
        session.bookkeeping = Bookkeeping(
            created_at=now,
            authenticated_at=now,
            expiry=session.expiry,
            authenticated_user=user["_id"],
            owner=owner,
            handle=None if owner is None else self.user_sessions.new_handle(),
            ip=ip if devices else None,
            user_agent=user_agent[:256] if devices and user_agent is not None else None,
        )
        session.seen_at = now if owner is not None else None

    async def list_user_sessions(self, user_id: object) -> list[SessionInfo]:
        """Return the live sessions of the user *user_id*, most recently used first.

        Usable outside any request (an admin page, a background job).

        :raises StoreError: if the store fails.
        """
        return await self.user_sessions.of(str(user_id))

    async def end_user_sessions(self, user_id: object, *, keep: str | None = None) -> int:
        """End every session of the user *user_id* except the one whose handle is *keep*.

        Takes effect on each ended session's very next request, in every process.
        Usable outside any request (a password reset, an admin page).

        :returns: how many sessions ended.
        :raises StoreError: if the store fails.
        """
        return await self.user_sessions.end_all(str(user_id), keep=keep)

    async def regenerate(self, session: Session) -> None:
        """Give *session* a new id, for the same user (after a change of privileges).

        Its values and times stay, so its absolute end does not move. The save stores
        it under the new id, then deletes the old record; if that record was already
        gone (the session was ended or logged out meanwhile), the new one is deleted
        too: a session ended while this request ran stays ended. A session with no
        values is deleted at once.

        :raises StoreError: if the store fails.
        """
        if session.id is not None and session:
            bookkeeping = session.bookkeeping
            old_handle = None if bookkeeping is None else bookkeeping.handle
            session.forget(keep_values=True, replaces=(session.id, old_handle))
            if bookkeeping is not None and old_handle is not None:
                # Listed under a handle of its own until the old record is gone.
                session.bookkeeping = bookkeeping._replace(handle=self.user_sessions.new_handle())
        else:
            await self.begin_login(session)

    async def begin_login(self, session: Session) -> None:
        """Delete *session*'s stored record at once, for a login; its values are stored anew
        under a new id on save, so an id known before the login is worthless after it.

        If the record was already gone (a logout landed meanwhile), the values go
        with it: what a logout deleted never comes back; only a lifetime chosen in
        this request stays.

        :raises StoreError: if the store fails.
        """
        expiry = session.expiry
        if await self._delete(session) is not False:
            session.forget(keep_values=True)
            return
        session.forget(keep_values=False)
        if expiry is not None:
            session.set_expiry(expiry)

    async def destroy(self, session: Session) -> None:
        """Delete *session*'s stored record and empty it.

        :raises StoreError: if the store fails.
        """
        await self._delete(session)
        session.forget(keep_values=False)

    async def _delete(self, session: Session) -> bool | None:
        """Delete the stored record: whether there was one, None for a session never stored."""
        if session.id is None:
            return None
        existed = await self.store.delete(session.id)
        self.health.answered()
        return existed

    def store_failed(self, error: StoreError) -> None:
        """Note that the store failed (see :class:`~.health.StoreHealth`)."""
        self.health.failed(error)

    def ensure_purging(self) -> None:
        """Run the store's purge on the running loop (see :class:`~.purging.Purger`).

        Called by the mixin on each request: :func:`init` may run before the loop
        that serves requests exists.

        :raises SessionError: when a second loop serves the application while the
            first still runs.
        """
        if self.store.needs_purge:
            self.purger.ensure_running()

    @property
    def purging(self) -> bool:
        """Whether a purge timer runs (for a store that needs one, once requests are served)."""
        return self.purger.running

    async def purge(self) -> int:
        """Remove every expired session from the store now, and return how many."""
        return await self.purger.purge()

    async def close(self) -> None:
        """Stop the purge and close the store."""
        self.purger.stop()
        await self.store.close()


def init(app: tornado.web.Application, **options: Any) -> SessionManager:
    """Give *app* user sessions.

    Call once, before the application serves requests (it may run before the
    IOLoop starts). The options are those of
    :class:`~tornado_user_session.config.Config`, every one optional; ``secret``
    defaults to the application's ``cookie_secret``.

    :returns: the manager, also stored as ``app.settings["user_session"]``.
    :raises ConfigError: naming the first unknown or invalid option, or if *app*
        already has user sessions (a second manager would leave the first one's
        store and timer running, unused).
    """
    if SETTINGS_KEY in app.settings:
        raise ConfigError("app", "tus.init() was already called for this application")
    known = option_names()
    for option in options:
        if option not in known:
            close = difflib.get_close_matches(option, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(option, f"unknown option{hint}")
    if options.get("secret") is None:
        options["secret"] = app.settings.get("cookie_secret")
    manager = SessionManager(Config(**options))
    app.settings[SETTINGS_KEY] = manager
    return manager
