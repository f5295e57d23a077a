"""The half of the mixin that holds a handler's session and saves it with the response.

Changes to the session are saved when the response finishes, before it is sent, so the
client's next request sees them; a response with a 5xx status saves nothing. After the
response (a WebSocket after its handshake) only :meth:`SessionSaving.save_session` saves, no
cookie can follow, and a change left unsaved is logged when the connection closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import tornado.web

from . import protection
from ._driving import resume, retrieve_exception
from .errors import SessionError, StoreError
from .manager import SETTINGS_KEY, PendingSave, SessionManager
from .session import Session

log = logging.getLogger("tornado_user_session")

# What finish() passes for a save not started by hand: it runs whole in the task.
_IN_A_TASK = object()

if TYPE_CHECKING:
    from asyncio import Future

    _Handler = tornado.web.RequestHandler
else:
    _Handler = object


class SessionSaving(_Handler):
    """A handler's session, and its saving with the response: the base of
    :class:`~tornado_user_session.UserSessionMixin`, which loads it."""

    _user_session: Session | None = None
    _session_read = False
    _session_saving: asyncio.Task[None] | None = None
    _session_finishing = False
    _session_cookie_header: str | None = None
    _session_manager: SessionManager | None = None
    _session_saves: asyncio.Lock | None = None

    @property
    def session_manager(self) -> SessionManager:
        """The manager :func:`~tornado_user_session.init` attached to the application."""
        manager = self._session_manager
        if manager is None:
            try:
                manager = self._session_manager = self.settings[SETTINGS_KEY]
            except KeyError:
                raise RuntimeError(
                    "tornado_user_session is not set up: call tus.init(app) before serving requests"
                ) from None
        return manager

    @property
    def session(self) -> Session:
        """This request's session, a mutable mapping of JSON-able values.

        :raises RuntimeError: before :meth:`prepare` has run.
        """
        if self._user_session is None:
            raise RuntimeError(
                "self.session is ready once prepare() has run: "
                "a handler that overrides prepare() must call `await super().prepare()` first"
            )
        self._session_read = True  # the response depends on the cookie: Vary: Cookie
        return self._user_session

    async def save_session(self) -> bool:
        """Save the session now and set its cookie, rather than when the response finishes.

        After the response, as in a WebSocket after its handshake, this is the only
        way a change is saved (one left unsaved is logged when the connection
        closes); saves then run one at a time, each writing what changed since the
        last, and one with nothing to write asks the store whether the session is
        still there (a read, as a request's). No cookie can follow the response, so a
        session the store does not hold yet cannot be saved then.

        :returns: whether the session is stored: False when it has ended (a logout
            elsewhere, an expiry; ``current_user`` and the session are then empty)
            or was never stored.
        :raises UnstorableValueError: naming the key of a value JSON cannot hold.
        :raises tornado.web.HTTPError: 503 if the store fails, before the response;
            :class:`~tornado_user_session.errors.StoreError` after it.
        :raises SessionError: after the response, for a session not stored yet.
        """
        if not self._finished:
            pending = self.session_manager.pending_save(self.session)
            return await self._save(pending) if pending is not None else self.session.id is not None
        if self._session_saves is None:
            self._session_saves = asyncio.Lock()
        async with self._session_saves:  # saves of one connection land in their order
            return await self._save_after_response()

    async def _save_after_response(self) -> bool:
        session = self.session
        manager = self.session_manager
        pending = manager.pending_save(session)
        if pending is not None and pending.create and unsaved(session):
            raise SessionError(
                "the session is not stored yet and its cookie cannot be sent once the response "
                "is finished (a WebSocket's after its handshake): change it over HTTP first"
            )
        if pending is not None and not pending.create:
            stored = await manager.save(session, pending)
        elif session.id is not None:
            stored = await manager.still_stored(session)
        else:
            stored = False
        if not stored:  # ended (or never stored): nothing of it stays with this connection
            self._user_session = Session()
            self.current_user = None
        return stored

    def on_connection_close(self) -> None:
        """Log a change to the session left unsaved when a connection closes after its
        response (a WebSocket's), so that it is not lost silently."""
        super().on_connection_close()
        session = self._user_session
        if session is None or not self._finished:
            return
        keys = unsaved(session)
        if keys:
            log.warning(
                "tornado_user_session: %s closed with changes to its session left unsaved "
                "(keys %s): call `await self.save_session()` after changing the session of a "
                "WebSocket",
                type(self).__qualname__,
                keys,
            )

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> Future[None]:
        """Save the session if it needs it, then finish the response."""
        if self._session_saving is not None:
            # Tornado calls finish() after the handler returns if the response is not
            # finished yet, which it is not while the session is being saved.
            return self._session_saving
        session = self._user_session
        if (
            session is None
            or self._session_finishing
            or self.get_status() >= 500
            or self.get_status() == 101  # a WebSocket's handshake: save_session() saves after it
        ):
            return super().finish(chunk)
        self._session_finishing = True
        manager = self.session_manager
        if self._session_read and manager.config.cache_headers:
            protection.vary_on_cookie(self)
        pending = manager.pending_save(session)
        if pending is None:
            return super().finish(chunk)
        saving = self._save(pending)
        waiting: Any = _IN_A_TASK
        if manager.store.answers_at_once:
            # Run the save at once: a store that answers without waiting (the in-memory
            # one) is done here, and the response finishes in this call. What fails here
            # reaches Tornado as any exception of a handler does.
            try:
                waiting = saving.send(None)
            except StopIteration:
                return super().finish(chunk)
        # Otherwise the whole save runs in a task of its own, so that the store's timeouts
        # (asyncio.timeout, bound to the task that enters them) cancel the save itself.
        task = asyncio.ensure_future(self._finish_after_save(saving, waiting, chunk))
        task.add_done_callback(retrieve_exception)
        self._session_saving = task
        return task

    async def _finish_after_save(
        self,
        saving: Coroutine[Any, Any, bool],
        waiting: Any,
        chunk: str | bytes | dict[str, Any] | None,
    ) -> None:
        # Tornado does not await finish(), so whatever fails here is answered here,
        # the way Tornado answers an exception raised by a handler.
        try:
            if waiting is _IN_A_TASK:
                await saving
            else:
                await resume(saving, waiting)
            sent = super().finish(chunk)
        except Exception as exc:
            self._session_saving = None  # so that send_error() can finish the response
            self.log_exception(type(exc), exc, exc.__traceback__)
            status = exc.status_code if isinstance(exc, tornado.web.HTTPError) else 500
            self.send_error(status, exc_info=(type(exc), exc, exc.__traceback__))
            return
        await sent

    async def _save(self, pending: PendingSave) -> bool:
        manager = self.session_manager
        try:
            stored = await manager.save(self.session, pending)
        except StoreError as exc:
            raise self._store_unavailable(exc) from exc
        if stored:
            self._send_cookie(self.session)
        return stored

    def _send_cookie(self, session: Session | None) -> None:
        """Set the cookie of the stored *session*, or clear it (None).

        Sent as a header of its own, in order, so that of a logout and a login in one
        response the later one wins. Tornado's set_cookie() would build it anew on
        every save, at the cost of a tenth of a bare request.
        """
        manager = self.session_manager
        header = manager.cookie_header(session, https=self._https)
        if header != self._session_cookie_header:
            self.add_header("Set-Cookie", header)
            self._session_cookie_header = header
            if manager.config.cache_headers:
                protection.mark_private(self)

    def _cookie_still_possible(self, what: str) -> None:
        if self._finished:
            raise SessionError(
                f"{what} sets the session cookie, which cannot be sent once the response is "
                "finished (a WebSocket's after its handshake): log in and out over HTTP"
            )

    @property
    def _https(self) -> bool:
        return self.request.protocol == "https"

    def _store_unavailable(self, exc: StoreError) -> tornado.web.HTTPError:
        self.session_manager.store_failed(exc)  # logs an outage once, not every request
        return tornado.web.HTTPError(503, reason="Session Store Unavailable")


def unsaved(session: Session) -> list[str]:
    """The keys of *session* (of its mapping, not the library's bookkeeping) whose changes
    its store does not have."""
    if session.id is None:
        return sorted(session)
    changed, removed = session.changes(session.record())
    return sorted(key for key in {*changed, *removed} if not key.startswith("\x00"))
