"""What the library adds around the cookie to keep sessions safe on the web.

Each function takes the handler of the request at hand: the cross-origin check of
the login and logout routes, the rotation of Tornado's XSRF token when a user
logs in or out, and the cache headers of responses that depend on the session.
"""

from __future__ import annotations

import os
import time

import tornado.web

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
    cookie, unless the handler chose its own Cache-Control."""
    headers = handler._headers
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "private, no-store"


def vary_on_cookie(handler: tornado.web.RequestHandler) -> None:
    """Add ``Cookie`` to the ``Vary`` header of a response that depends on the session."""
    headers = handler._headers
    vary = headers.get("Vary")
    if vary is None:
        headers["Vary"] = "Cookie"
    elif "cookie" not in vary.lower():
        headers["Vary"] = f"{vary}, Cookie"
