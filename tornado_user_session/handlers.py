"""The two POST routes: start a user session (log in) and destroy it (log out)."""

from __future__ import annotations

import inspect
import urllib.parse
from collections.abc import Awaitable
from typing import Any

import tornado.web
from tornado.routing import URLSpec

from .mixin import UserSessionMixin


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
    to check credentials. The application's ``xsrf_cookies`` setting applies as
    to any POST.
    """

    def authenticate(self) -> dict[str, Any] | Awaitable[dict[str, Any] | None] | None:
        """Return the fields of the user to log in, or None to refuse; may be a coroutine.

        The default accepts anybody with no fields, as a bare session starter.
        Override it to check a password or a token from the request.
        """
        return {}

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
        user = await self.start_user_session(**fields)
        self.answer({"ok": True, "user": user})


class DestroyHandler(_UserSessionHandler):
    """``POST`` destroys the user session (logs out).

    Answers ``{"ok": true}``, or a 303 redirect to a ``next`` argument that is a
    local path.
    """

    async def post(self) -> None:
        await self.destroy_user_session()
        self.answer({"ok": True})


def routes(
    prefix: str = "/user-session",
    *,
    start: type[StartHandler] = StartHandler,
    destroy: type[DestroyHandler] = DestroyHandler,
) -> list[URLSpec]:
    """Return the routes ``POST {prefix}/start`` and ``POST {prefix}/destroy``.

    Named ``user-session-start`` and ``user-session-destroy`` for
    ``reverse_url``. Pass a subclass as *start* to check credentials.
    """
    return [
        tornado.web.url(f"{prefix}/start", start, name="user-session-start"),
        tornado.web.url(f"{prefix}/destroy", destroy, name="user-session-destroy"),
    ]
