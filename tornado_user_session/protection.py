"""What the library adds around the cookie to keep sessions safe on the web.

Each function takes the handler of the request at hand: the cross-origin check of
the login and logout routes, the rotation of Tornado's XSRF token when a user
logs in or out, and the cache headers of responses that depend on the session.
"""

from __future__ import annotations

import logging
import os
import time

import tornado.web

log = logging.getLogger("tornado_user_session")

# The handler classes whose shared-cacheable Cache-Control has been logged.
_warned: set[type] = set()

#: Methods that change nothing, which the cross-origin check lets through, as Tornado's does.
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def refuse_cross_origin(handler: tornado.web.RequestHandler) -> None:
    """Refuse with a 403 a request that changes state and comes from another origin.

    This is Tornado's own check (its ``cross_origin_protection`` setting, 6.6 and
    later), run here even where the application has not turned it on: it trusts
    ``Sec-Fetch-Site: same-origin`` or ``none``, else an ``Origin`` equal to the
    request's host or accepted by the handler's ``check_trusted_origin()`` (the
    ``trusted_origins`` setting by default). A client that sends neither header,
    such as a script using an HTTP library, is let through: browsers send one.

    :raises tornado.web.HTTPError: 403, naming the headers that were refused.
    """
    if handler.request.method in SAFE_METHODS:
        return
    if handler.settings.get("cross_origin_protection"):
        return  # Tornado has run the same check before prepare()
    error = handler._check_cross_origin(handler.check_trusted_origin)
    if error is not None:
        raise tornado.web.HTTPError(403, error)


def rotate_xsrf_token(handler: tornado.web.RequestHandler) -> None:
    """Give the visitor a new XSRF token (the ``_xsrf`` cookie), as Django does at login.

    A token planted before login, for instance by a sibling subdomain that can set
    cookies for this one, is worthless afterwards. Does nothing for an application
    without ``xsrf_cookies`` whose visitor has no such cookie.
    """
    name = handler.settings.get("xsrf_cookie_name", "_xsrf")
    if not (handler.settings.get("xsrf_cookies") or handler.get_cookie(name)):
        return
    # Tornado keeps this request's token in these two attributes and has no public way
    # to replace it: a raw token with no version is one it made, which it sets as the
    # cookie when xsrf_token is next read (forms rendered later in this request get it).
    handler._raw_xsrf_token = (None, os.urandom(16), time.time())
    if hasattr(handler, "_xsrf_token"):
        del handler._xsrf_token
    handler.xsrf_token  # noqa: B018 - reading it sets the new cookie


# These two write the response's headers directly: the values are constants, or a header
# value already checked by set_header() with ", Cookie" added, so set_header()'s checks
# (a sixth of what these headers cost a request) would find nothing.


def mark_private(handler: tornado.web.RequestHandler) -> None:
    """``Cache-Control: private, no-store`` on a response that sets or clears the session
    cookie, unless the handler chose its own that already keeps shared caches out
    (``private`` or ``no-store``).

    A handler's Cache-Control that lets a shared cache keep the response (``public``,
    ``max-age`` alone) is replaced, with a warning logged once per handler class: a
    cached Set-Cookie would hand one visitor's session to the next.
    """
    headers = handler._headers
    own = headers.get("Cache-Control")
    if own is not None:
        directives = {directive.strip().split("=")[0].lower() for directive in own.split(",")}
        if directives & {"private", "no-store"}:
            return
        if type(handler) not in _warned:
            _warned.add(type(handler))
            log.warning(
                "tornado_user_session: %s sent Cache-Control %r with the session cookie; "
                "replaced with 'private, no-store' so that no shared cache keeps it",
                type(handler).__qualname__,
                own,
            )
    headers["Cache-Control"] = "private, no-store"


def vary_on_cookie(handler: tornado.web.RequestHandler) -> None:
    """Add ``Cookie`` to the ``Vary`` header of a response that depends on the session."""
    headers = handler._headers
    vary = headers.get("Vary")
    if vary is None:
        headers["Vary"] = "Cookie"
    elif not {"cookie", "*"} & {field.strip().lower() for field in vary.split(",")}:
        headers["Vary"] = f"{vary}, Cookie"
