"""The two POST routes: start a user session (log in) and destroy it (log out)."""

from __future__ import annotations

import inspect
import logging
import urllib.parse
from collections.abc import Awaitable, Mapping
from typing import Any

import tornado.web
from tornado.routing import URLSpec

from . import protection
from .mixin import UserSessionMixin

log = logging.getLogger("tornado_user_session")

# The StartHandler classes whose missing authenticate() has been logged.
_warned: set[type] = set()


def local_path(url: str | None) -> str | None:
    """Return *url* if it is a path on this site (a query string is fine), else None.

    Refuses whatever a browser could take to another site: ``//host``,
    ``/\\host``, ``https://...``, ``javascript:``, control characters, and their
    percent-encoded forms.
    """
    if not url:
        return None
    for candidate in (url, urllib.parse.unquote(url)):
        if not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
            return None
        if "\\" in candidate or any(ord(char) < 0x20 or ord(char) == 0x7F for char in candidate):
            return None
        parts = urllib.parse.urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return url


class _UserSessionHandler(UserSessionMixin, tornado.web.RequestHandler):
    async def prepare(self) -> None:
        """Refuse a cross-origin POST with a 403 (login and logout CSRF), then load the session.

        Tornado's ``cross_origin_protection`` check runs here even where the
        application has not turned it on; ``trusted_origins`` and an overridden
        ``check_trusted_origin()`` apply as they do there.
        """
        protection.refuse_cross_origin(self)
        await super().prepare()

    def answer(self, body: dict[str, Any]) -> None:
        """Redirect (303) to a ``next`` argument that is a local path, else write *body* as JSON."""
        next_url = local_path(self.get_argument("next", None))
        if next_url is not None:
            self.redirect(next_url, status=303)
        else:
            self.finish(body)


class StartHandler(_UserSessionHandler):
    """``POST`` starts a user session (logs in) with the fields :meth:`authenticate` returns.

    Answers ``{"ok": true, "user": {...}}``, or a 303 redirect to a ``next``
    argument that is a local path. Subclass it and override :meth:`authenticate`
    to check credentials: until then it refuses everybody. A POST from another
    origin gets a 403, and the application's ``xsrf_cookies`` setting applies as
    to any POST.
    """

    def authenticate(self) -> Mapping[str, Any] | Awaitable[Mapping[str, Any] | None] | None:
        """Return the fields of the user to log in, or None to refuse; may be a coroutine.

        Override it to check a password or a token from the request. The default
        refuses everybody (and logs once how to fix that): a login route that
        nobody has given a credential check must not let anybody in. For
        sessions without credentials, use :class:`GuestStartHandler`.
        """
        cls = type(self)
        if cls not in _warned:
            _warned.add(cls)
            log.warning(
                "tornado_user_session: %s refuses every login: override its authenticate() "
                "to check credentials (see StartHandler), or use tus.GuestStartHandler to "
                "start sessions without any",
                cls.__qualname__,
            )
        return None

    def refuse(self) -> None:
        """Answer a refused login. The default raises a 401; override to show a form again."""
        raise tornado.web.HTTPError(401)

    async def post(self) -> None:
        fields = self.authenticate()
        if inspect.isawaitable(fields):
            fields = await fields
        if fields is None:
            self.refuse()
            return
        if not isinstance(fields, Mapping):
            raise TypeError(
                f"{type(self).__qualname__}.authenticate() must return a mapping or None, "
                f"not {type(fields).__name__}"
            )
        user = await self.start_user_session(**fields)
        self.answer({"ok": True, "user": user})


class GuestStartHandler(StartHandler):
    """``POST`` starts a user session for anybody who asks, with no credentials.

    For applications whose "user" is a guest (a cart, a game, a survey), where
    the session user is only an id. Use it by name:
    ``tus.routes(start=tus.GuestStartHandler)``; the cross-origin check applies.
    """

    def authenticate(self) -> Mapping[str, Any]:
        return {}


class DestroyHandler(_UserSessionHandler):
    """``POST`` destroys the user session (logs out).

    Answers ``{"ok": true}``, or a 303 redirect to a ``next`` argument that is a
    local path.
    """

    async def post(self) -> None:
        await self.destroy_user_session()
        done = self.destroyed()
        if done is not None:
            await done
        self.answer({"ok": True})

    def destroyed(self) -> Awaitable[None] | None:
        """Called once the session is destroyed, before the answer: override it (plain or
        ``async``) to flash a message for the page a logout redirects to
        (``self.flash("Signed out")``). The default does nothing."""
        return None


def routes(
    prefix: str = "/user-session",
    *,
    start: type[StartHandler] = StartHandler,
    destroy: type[DestroyHandler] = DestroyHandler,
) -> list[URLSpec]:
    """Return the routes ``POST {prefix}/start`` and ``POST {prefix}/destroy``.

    Named ``user-session-start`` and ``user-session-destroy`` for
    ``reverse_url``. Pass a :class:`StartHandler` subclass that checks credentials
    as *start*: the default one refuses every login (a 401, logged once).
    """
    return [
        tornado.web.url(f"{prefix}/start", start, name="user-session-start"),
        tornado.web.url(f"{prefix}/destroy", destroy, name="user-session-destroy"),
    ]
