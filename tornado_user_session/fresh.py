"""Fresh login: pages that need a recent login, such as changing a password."""

from __future__ import annotations

import datetime
import functools
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

import tornado.web

from .config import Seconds, seconds

if TYPE_CHECKING:
    from .mixin import UserSessionMixin

#: How recent a login :func:`fresh_login_required` asks for by default, in seconds.
DEFAULT_WITHIN = 600.0

_Method = TypeVar("_Method", bound=Callable[..., Awaitable[None] | None])


@overload
def fresh_login_required(method: _Method) -> _Method: ...


@overload
def fresh_login_required(*, within: Seconds | None = None) -> Callable[[_Method], _Method]: ...


def fresh_login_required(
    method: _Method | None = None, *, within: Seconds | None = None
) -> _Method | Callable[[_Method], _Method]:
    """Decorate a handler method of a :class:`~tornado_user_session.UserSessionMixin`
    handler that needs a login from less than *within* ago.

    Use it bare (``@tus.fresh_login_required``) or with a window
    (``@tus.fresh_login_required(within=300)``, seconds or a timedelta). Without
    one, the window is the application setting ``fresh_login_within``, else 10
    minutes. An anonymous visitor is treated as ``@tornado.web.authenticated``
    treats them. A user whose login is older than the window is sent, for a GET or
    HEAD, to the application setting ``fresh_login_url`` (default ``login_url``)
    with ``next`` set to this page; any other method gets a 403. Logging in again
    (``start_user_session``) makes the session fresh.

    :raises ConfigError: if *within* (or ``fresh_login_within``, on the first
        request) is not a positive duration.
    """
    limit = None if within is None else seconds("within", within)

    def decorate(method: _Method) -> _Method:
        needs_user = tornado.web.authenticated(method)

        @functools.wraps(method)
        def wrapper(self: UserSessionMixin, *args: Any, **kwargs: Any) -> Any:
            if not self.current_user:
                return needs_user(self, *args, **kwargs)
            window = limit
            if window is None:
                window = seconds(
                    "fresh_login_within", self.settings.get("fresh_login_within", DEFAULT_WITHIN)
                )
            logged_in = self.authenticated_at
            now = datetime.datetime.fromtimestamp(self.session_manager.now(), datetime.UTC)
            if logged_in is None or (now - logged_in).total_seconds() > window:
                if self.request.method not in ("GET", "HEAD"):
                    raise tornado.web.HTTPError(403, "a fresh login is required")
                self.redirect(_login_url_with_next(self))
                return None
            return method(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate if method is None else decorate(method)


def _login_url_with_next(handler: UserSessionMixin) -> str:
    """``fresh_login_url`` (else ``login_url``) with ``next``, as ``@authenticated`` builds it."""
    url: str = handler.settings.get("fresh_login_url") or handler.get_login_url()
    if "?" in url:
        return url
    if urllib.parse.urlsplit(url).scheme:
        next_url = handler.request.full_url()
    else:
        assert handler.request.uri is not None
        next_url = handler.request.uri
    return url + "?" + urllib.parse.urlencode({"next": next_url})
