"""The options of :func:`~tornado_user_session.init`, validated once at start-up."""

from __future__ import annotations

import datetime
import http.cookies
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from .bookkeeping import MAX_DURATION
from .errors import ConfigError
from .stores.base import Store
from .stores.memory import MemoryStore

log = logging.getLogger("tornado_user_session")

#: The shortest secret that does not log a warning, in characters (or bytes).
MIN_SECRET_LENGTH = 32

Seconds = float | datetime.timedelta
Secret = str | bytes | Sequence[str | bytes]

# A cookie name is an RFC 6265 token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SAMESITE = ("Lax", "Strict", "None")


class Config:
    """Every option of the library, checked and normalised.

    :func:`~tornado_user_session.init` builds one from its keyword arguments;
    each raises :class:`~tornado_user_session.ConfigError` naming the option
    when it is invalid. Durations are seconds (a float, or a
    :class:`datetime.timedelta`).

    :param name: the session cookie's name.
    :param secret: the key that signs the cookie, or a list of keys ordered
        oldest to newest: the last signs, all verify, so a key can be rotated
        without logging anybody out. ``init`` falls back on the application's
        ``cookie_secret``, then on 32 random bytes with a logged warning:
        sessions then die with the process and are not shared between processes.
        A key shorter than 32 characters logs a warning.
    :param max_age: how long a session lives after its last save, in seconds
        (default 48 hours). Every save re-sends the cookie with this Max-Age, so
        the cookie and the stored session expire together.
        :meth:`Session.set_expiry <tornado_user_session.Session.set_expiry>` chooses
        another lifetime for one session.
    :param idle_timeout: end a session that no request has loaded or saved for this
        long, in seconds (default None: off). The store extends it on each read in
        the same round trip; reading re-sends no cookie. Needs a store that
        supports it (both of the library's do).
    :param absolute_timeout: end a session this long after its login, or after its
        creation for a session that never logged in, whatever happens in between
        (default None: off). The store's lifetime and the cookie's Max-Age never
        reach past it.
    :param expire_at_browser_close: send the cookie without Max-Age, so that it ends
        when the browser closes (default False), unless the session chose a duration
        with ``set_expiry``. The server still ends the session after its lifetime.
    :param clock: the wall-clock time, in seconds since the epoch, that session
        times are kept in (default :func:`time.time`); inject a fake one in tests.
    :param user_id_key: the field of the session user that names the user whose
        sessions it is among (default ``"id"``): ``start_user_session(id=42)`` lists
        the session under user ``"42"`` (the value as text), for
        ``list_user_sessions`` and ``end_user_sessions``. A session user without that
        field belongs to no user. None turns the index off (needed for a store without
        ``supports_user_index``).
    :param max_sessions_per_user: at login, end the user's least recently used
        sessions beyond this many (default None: no cap). The new one is never ended.
    :param track_devices: keep the IP address (``request.remote_ip``, so ``xheaders``
        applies) and the User-Agent (256 characters at most) seen at login, for the
        list of a user's sessions (default True).
    :param resave: write the whole session back to the store after every
        request that loaded it, changed or not (default False: only what changed
        is written, which is also what keeps concurrent requests from undoing
        each other's changes).
    :param save_uninitialized: give every visitor a stored session and a
        cookie, even one who never logs in or writes to the session (default
        False: no cookie, no store entry, no cost).
    :param rolling: extend the session (and re-send the cookie) on every
        response, not only when it changed (default False).
    :param store_check_period: how often expired sessions are purged from a
        store that needs it, such as the in-memory one, in seconds (default 120).
    :param store: where sessions live (default a new
        :class:`~tornado_user_session.MemoryStore`).
    :param path: the cookie's Path attribute (default ``"/"``).
    :param domain: the cookie's Domain attribute (default None: this host only).
    :param httponly: the cookie's HttpOnly flag (default True: scripts cannot read it).
    :param samesite: the cookie's SameSite attribute, ``"Lax"`` (default),
        ``"Strict"``, ``"None"`` (which needs ``secure``) or None to leave it out.
    :param secure: the cookie's Secure flag: ``"auto"`` (default) sets it when
        the request came over https, which behind a proxy Tornado knows only
        when the server runs with ``xheaders=True``; True always, False never.
    :param cache_headers: keep shared caches from storing one visitor's page for
        another (default True): a response that sets or clears the session cookie
        gets ``Cache-Control: private, no-store`` unless its handler set a
        Cache-Control of its own, and a response whose handler read the session
        gets ``Vary: Cookie``.
    :param max_session_bytes: the largest session that is stored, in bytes of JSON
        text over all its keys and values (default 64 KiB). A bigger one fails the
        save with :class:`~tornado_user_session.UnstorableValueError`, and the
        stored session stays as it was.
    """

    def __init__(
        self,
        *,
        name: str = "tornado-user-session",
        secret: Secret | None = None,
        max_age: Seconds = 48 * 3600,
        idle_timeout: Seconds | None = None,
        absolute_timeout: Seconds | None = None,
        expire_at_browser_close: bool = False,
        resave: bool = False,
        save_uninitialized: bool = False,
        rolling: bool = False,
        store_check_period: Seconds = 120,
        store: Store | None = None,
        path: str = "/",
        domain: str | None = None,
        httponly: bool = True,
        samesite: Literal["Lax", "Strict", "None"] | None = "Lax",
        secure: bool | Literal["auto"] = "auto",
        cache_headers: bool = True,
        max_session_bytes: int = 64 * 1024,
        clock: Callable[[], float] = time.time,
        user_id_key: str | None = "id",
        max_sessions_per_user: int | None = None,
        track_devices: bool = True,
    ) -> None:
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ConfigError("name", f"must be a cookie name (letters, digits, -_.), not {name!r}")
        self.name = name
        self.secrets = _secrets(secret)
        self.max_age = seconds("max_age", max_age)
        self.idle_timeout = None if idle_timeout is None else seconds("idle_timeout", idle_timeout)
        self.absolute_timeout = (
            None if absolute_timeout is None else seconds("absolute_timeout", absolute_timeout)
        )
        if (
            self.idle_timeout is not None
            and self.absolute_timeout is not None
            and self.idle_timeout >= self.absolute_timeout
        ):
            raise ConfigError(
                "idle_timeout", "must be shorter than absolute_timeout, or it can never apply"
            )
        self.expire_at_browser_close = _flag("expire_at_browser_close", expire_at_browser_close)
        self.resave = _flag("resave", resave)
        self.save_uninitialized = _flag("save_uninitialized", save_uninitialized)
        self.rolling = _flag("rolling", rolling)
        self.store_check_period = seconds("store_check_period", store_check_period)
        if store is None:
            store = MemoryStore()
        elif not isinstance(store, Store):
            raise ConfigError("store", f"must be a Store, not {type(store).__name__}")
        if self.idle_timeout is not None and not store.supports_idle_timeout:
            raise ConfigError(
                "idle_timeout",
                f"{type(store).__name__} cannot extend a session when it is read "
                "(see 'Writing a store'): turn idle_timeout off or use a store that can",
            )
        self.store = store
        if not isinstance(path, str) or not path.startswith("/") or ";" in path:
            raise ConfigError("path", f"must be a URL path starting with '/', not {path!r}")
        self.path = path
        if domain is not None and (not isinstance(domain, str) or not domain or ";" in domain):
            raise ConfigError("domain", f"must be a host name or None, not {domain!r}")
        self.domain = domain
        self.httponly = _flag("httponly", httponly)
        if samesite is not None and samesite not in _SAMESITE:
            raise ConfigError("samesite", f"must be one of {_SAMESITE} or None, not {samesite!r}")
        self.samesite = samesite
        if secure != "auto" and not isinstance(secure, bool):
            raise ConfigError("secure", f"must be True, False or 'auto', not {secure!r}")
        if samesite == "None" and secure is False:
            raise ConfigError(
                "samesite", "'None' needs a Secure cookie: browsers drop it otherwise"
            )
        self.secure = secure
        self.cache_headers = _flag("cache_headers", cache_headers)
        if (
            isinstance(max_session_bytes, bool)
            or not isinstance(max_session_bytes, int)
            or max_session_bytes < 1
        ):
            raise ConfigError(
                "max_session_bytes", f"must be a positive integer, not {max_session_bytes!r}"
            )
        self.max_session_bytes = max_session_bytes
        if not callable(clock):
            raise ConfigError("clock", f"must be a function returning seconds, not {clock!r}")
        self.clock = clock
        if user_id_key is not None:
            if not isinstance(user_id_key, str) or not user_id_key or user_id_key == "_id":
                raise ConfigError(
                    "user_id_key",
                    f"must be a field name other than '_id', or None, not {user_id_key!r}",
                )
            if not store.supports_user_index:
                raise ConfigError(
                    "user_id_key",
                    f"{type(store).__name__} keeps no index of a user's sessions (see 'Writing "
                    "a store'): pass user_id_key=None to use it without one",
                )
        self.user_id_key = user_id_key
        if max_sessions_per_user is not None and (
            isinstance(max_sessions_per_user, bool)
            or not isinstance(max_sessions_per_user, int)
            or max_sessions_per_user < 1
        ):
            raise ConfigError(
                "max_sessions_per_user",
                f"must be a positive integer or None, not {max_sessions_per_user!r}",
            )
        if max_sessions_per_user is not None and user_id_key is None:
            raise ConfigError("max_sessions_per_user", "needs user_id_key")
        self.max_sessions_per_user = max_sessions_per_user
        self.track_devices = _flag("track_devices", track_devices)

    def cookie_header(self, value: str | None, *, https: bool, max_age: int | None) -> str:
        """The ``Set-Cookie`` header that sets the session cookie to *value*, or clears it (None).

        Formatted by :mod:`http.cookies`, as Tornado's ``set_cookie`` does, with this
        configuration's attributes; the same attributes set and clear it. A set cookie
        lives *max_age* seconds (Max-Age, which every browser in use honours), or until
        the browser closes when that is None; a cleared one has Max-Age=0 and an
        Expires in the past.
        """
        cookies: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        cookies[self.name] = value or ""
        morsel = cookies[self.name]
        morsel["path"] = self.path
        if self.domain:
            morsel["domain"] = self.domain
        if value is None:
            morsel["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
            morsel["max-age"] = "0"
        elif max_age is not None:
            morsel["max-age"] = str(max_age)
        if self.httponly:
            morsel["httponly"] = True
        if https if self.secure == "auto" else self.secure:
            morsel["secure"] = True
        if self.samesite:
            morsel["samesite"] = self.samesite
        return morsel.OutputString()


def option_names() -> frozenset[str]:
    """The names :class:`Config` accepts."""
    code = Config.__init__.__code__
    return frozenset(code.co_varnames[1 : 1 + code.co_kwonlyargcount])


def _flag(option: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(option, f"must be True or False, not {value!r}")
    return value


def seconds(option: str, value: object) -> float:
    """Return a positive duration (seconds or a timedelta) as seconds.

    :raises ConfigError: naming *option* if it is not one.
    """
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(option, f"must be a number of seconds or a timedelta, not {value!r}")
    if not 0 < value <= MAX_DURATION:
        raise ConfigError(
            option, f"must be a positive number of seconds, 400 days at most, not {value!r}"
        )
    return float(value)


def _secrets(secret: object) -> tuple[bytes, ...]:
    if secret is None:
        log.warning(
            "tornado_user_session: no secret and no cookie_secret given; using a random one. "
            "Sessions will end when this process ends and are not shared between processes."
        )
        return (secrets.token_bytes(32),)
    if isinstance(secret, Mapping):
        # Tornado's versioned cookie_secret: {version: key}, the newest version highest.
        secret = [secret[version] for version in sorted(secret)]
    keys = [secret] if isinstance(secret, (str, bytes)) else secret
    if not isinstance(keys, Sequence) or not keys:
        raise ConfigError(
            "secret", "must be a non-empty string or bytes, or a non-empty list of those"
        )
    for key in keys:
        if not isinstance(key, (str, bytes)) or not key:
            raise ConfigError(
                "secret", f"every key must be a non-empty string or bytes, not {key!r}"
            )
        if len(key) < MIN_SECRET_LENGTH:
            log.warning(
                "tornado_user_session: a secret is shorter than %d characters; use a longer one",
                MIN_SECRET_LENGTH,
            )
    return tuple(key.encode() if isinstance(key, str) else key for key in keys)
