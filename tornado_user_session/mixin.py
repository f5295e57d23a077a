"""The mixin that gives a RequestHandler its session and its user."""

from __future__ import annotations

import datetime
import inspect
import secrets
from collections.abc import Awaitable
from typing import Any, TypeVar

import tornado.web
from tornado import httputil

from . import flash as flashing
from . import protection
from .errors import StoreError
from .saving import SessionSaving
from .session import Session
from .stores.base import USER_KEY
from .user_sessions import SessionInfo

T = TypeVar("T")


class UserSessionMixin(SessionSaving):
    """Gives a :class:`~tornado.web.RequestHandler` a session and a session user.

    Put it before ``RequestHandler`` in the bases::

        class Dashboard(tus.UserSessionMixin, tornado.web.RequestHandler):
            @tornado.web.authenticated
            def get(self):
                self.write({"user": self.current_user})

    ``prepare()`` loads the session: a handler that overrides it must call
    ``await super().prepare()`` first. ``current_user`` is ``session["user"]``, or
    what :meth:`load_user` makes of it, so ``@tornado.web.authenticated`` and
    ``login_url`` work as usual.

    Changes to the session are saved when the response finishes, before it is
    sent, so the client's next request sees them. A response with a 5xx status
    saves nothing. A handler that flushes its headers early should call
    :meth:`save_session` first, since the cookie cannot be sent after them. A
    store that fails gives a 503. On a ``WebSocketHandler``, the session is loaded
    at the handshake and only :meth:`save_session` saves it after.

    :raises TypeError: when a class puts the mixin after ``RequestHandler`` in its
        bases, where its methods would never be called.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        mro = cls.__mro__
        handler = tornado.web.RequestHandler
        if handler in mro and mro.index(handler) < mro.index(UserSessionMixin):
            raise TypeError(
                f"{cls.__qualname__}: put UserSessionMixin first in the bases, before "
                "RequestHandler (class H(tus.UserSessionMixin, tornado.web.RequestHandler)); "
                "after it, its prepare() and get_current_user() are never called"
            )

    async def prepare(self) -> None:
        """Load the session named by the request's cookie (no store call without one)."""
        manager = self.session_manager
        manager.ensure_purging()
        header = self.request.headers.get("Cookie")
        if header is None:
            self._user_session = Session()
            return
        cookie = session_cookie(header, manager.config.name)
        try:
            self._user_session = await manager.load(cookie)
        except StoreError as exc:
            self._user_session = Session()
            raise self._store_unavailable(exc) from exc
        session_user = self._user_session.get(USER_KEY)
        if session_user is not None and self._loads_users():
            await self._load_user(session_user)

    def load_user(self, session_user: dict[str, Any]) -> Any:
        """Return the application's user for the session user, or None if there is none.

        Override it (as a plain method or a coroutine) to load the full user record
        once per request, in :meth:`prepare`, for a request whose session has a user:
        what it returns becomes ``current_user``, which templates and
        ``@tornado.web.authenticated`` see. None means the user no longer exists or is
        disabled: the session ends (as :meth:`destroy_user_session`) and the request
        is anonymous. It is called at login too, for the new user.

        The session user stays ``self.session["user"]``: change that dict, not the
        object this returns, for a change to be saved. The default returns the
        session user itself, without being called.
        """
        return session_user

    def _loads_users(self) -> bool:
        """Whether this handler overrides :meth:`load_user` (the default is not called)."""
        return type(self).load_user is not UserSessionMixin.load_user

    async def _load_user(self, session_user: dict[str, Any]) -> Any:
        """Make ``current_user`` what :meth:`load_user` returns; None (a user gone or
        disabled) ends the session, and the request is anonymous."""
        user = self.load_user(session_user)
        if inspect.isawaitable(user):
            user = await user
        if user is None:
            await self.destroy_user_session()
        self.current_user = user
        return user

    def get_current_user(self) -> Any:
        """Return ``session["user"]``, or None when nobody is logged in."""
        return self.session.get(USER_KEY)

    @property
    def authenticated_at(self) -> datetime.datetime | None:
        """When this session's user logged in (an aware UTC datetime), or None if nobody is.

        None too for a user put on the session other than by :meth:`start_user_session`.
        """
        bookkeeping = self.session.bookkeeping
        user = self.session.get(USER_KEY)
        if (
            bookkeeping is None
            or bookkeeping.authenticated_at is None
            or not isinstance(user, dict)
            or user.get("_id") != bookkeeping.authenticated_user
        ):
            return None
        return datetime.datetime.fromtimestamp(bookkeeping.authenticated_at, datetime.UTC)

    def new_user_id(self) -> str:
        """Return the ``_id`` of a new session user: 128 random bits as 32 hex digits."""
        return secrets.token_hex(16)

    async def start_user_session(self, **fields: Any) -> dict[str, Any]:
        """Log a user in: a new session id, and ``session["user"] = {"_id": ..., **fields}``.

        The old session id is deleted from the store at once, so an id known
        before login (a fixation attack) is worthless after it. Other keys of the
        session are kept, unless the old record was already gone (a logout that
        landed while this login ran: its data stays gone); call
        ``self.session.clear()`` first to leave them all behind, so that nothing
        planted in an anonymous session follows the user into their account.
        ``current_user`` is the new user from here on, and the XSRF token is new.

        :returns: the new session user.
        :raises TypeError: if a field is named ``_id``, which is the library's.
        """
        if "_id" in fields:
            raise TypeError("start_user_session(): '_id' is set by the library, not a field")
        self._cookie_still_possible("start_user_session()")
        session = self.session
        manager = self.session_manager
        try:
            await manager.begin_login(session)
        except StoreError as exc:
            raise self._store_unavailable(exc) from exc
        user = {"_id": self.new_user_id(), **fields}
        request = self.request
        manager.logged_in(
            session, user, ip=request.remote_ip, user_agent=request.headers.get("User-Agent")
        )
        session[USER_KEY] = user
        self.current_user = user
        if self._loads_users() and await self._load_user(user) is None:
            raise tornado.web.HTTPError(403, "load_user() found no user for this login")
        protection.rotate_xsrf_token(self)
        return user

    async def destroy_user_session(self) -> None:
        """Log out: delete the session from the store, empty it and clear its cookie.

        A request still in flight on the same session cannot bring it back. The
        XSRF token is replaced too.
        """
        self._cookie_still_possible("destroy_user_session()")
        manager = self.session_manager
        session = self.session
        messages = {key: session[key] for key in flashing.waiting(session)}
        try:
            await manager.destroy(session)
        except StoreError as exc:
            raise self._store_unavailable(exc) from exc
        session.update(messages)  # flash messages not shown yet outlive the logout
        self._send_cookie(None)
        self.current_user = None
        protection.rotate_xsrf_token(self)

    def flash(self, message: str, category: str = "info") -> None:
        """Keep *message* in the session for the next page that shows messages, once.

        It survives a redirect, and a logout in this request (it then starts a new
        anonymous session). At most 20 wait: the oldest go first.

        :raises TypeError: if *message* or *category* is not a string.
        """
        flashing.add(self.session, message, category)

    def get_flashed_messages(self, *categories: str) -> list[flashing.Message]:
        """Return the messages waiting (those of *categories*, or all), oldest first, each a
        ``(message, category)`` pair, and forget them: each is shown once. In a template:
        ``{% for message, category in handler.get_flashed_messages() %}``.
        """
        return flashing.take(self.session, categories)

    async def list_user_sessions(self) -> list[SessionInfo]:
        """Return the current user's sessions, most recently used first (this one ``current``).

        Empty when nobody is logged in, or the session user has no ``user_id_key`` field.

        :raises tornado.web.HTTPError: 503 if the store fails.
        """
        owner = self._owner()
        if owner is None:
            return []
        return await self._user_sessions(
            self.session_manager.user_sessions.of(owner, self.session.id)
        )

    async def end_user_session(self, handle: str) -> bool:
        """End one of the current user's sessions, everywhere; return whether it did.

        False for a handle that is unknown or not this user's. Ending the current
        session is a logout.

        :raises tornado.web.HTTPError: 503 if the store fails.
        """
        owner = self._owner()
        if owner is None:
            return False
        bookkeeping = self.session.bookkeeping
        if bookkeeping is not None and handle == bookkeeping.handle:
            await self.destroy_user_session()
            return True
        ending = self.session_manager.user_sessions.end(owner, handle, asker=self.session.id)
        return await self._user_sessions(ending)

    async def end_other_user_sessions(self) -> int:
        """End every other session of the current user ("sign out everywhere else").

        :returns: how many ended.
        :raises tornado.web.HTTPError: 503 if the store fails.
        """
        owner = self._owner()
        if owner is None:
            return 0
        bookkeeping = self.session.bookkeeping
        keep = None if bookkeeping is None else bookkeeping.handle
        ending = self.session_manager.user_sessions.end_all(owner, keep=keep, asker=self.session.id)
        return await self._user_sessions(ending)

    def _owner(self) -> str | None:
        """The user id whose sessions this one is among, if its user is the one who logged in."""
        bookkeeping = self.session.bookkeeping
        if bookkeeping is None or self.authenticated_at is None:
            return None
        return bookkeeping.owner

    async def _user_sessions(self, operation: Awaitable[T]) -> T:
        try:
            return await operation
        except StoreError as exc:
            raise self._store_unavailable(exc) from exc


def session_cookie(header: str, name: str) -> str | None:
    """The value of the cookie *name* in a ``Cookie`` header, taken only as the library set it.

    Tornado's own parser, without the Morsel objects get_cookie() builds for every cookie of
    the request: a tenth of the cost. It also unquotes a value: only the exact text the
    library set is taken.
    """
    cookie = httputil.parse_cookie(header).get(name)
    if cookie is not None and f"{name}={cookie}" not in _cookie_pairs(header):
        return None
    return cookie


def _cookie_pairs(header: str) -> list[str]:
    """The ``name=value`` pairs of a Cookie header, exactly as sent."""
    return [pair.strip() for pair in header.split(";")]
