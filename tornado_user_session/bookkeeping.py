"""The library's own record of a session: its times, its lifetime, its user and device.

It is kept with the session's keys, under :data:`META_KEY` in the stored record, but it is
not one of them: ``self.session`` never shows it, and ``self.session.clear()`` cannot touch it.
The time of the session's last use is kept apart, under :data:`SEEN_KEY`, since the store
writes it as it reads the session (at most once a minute).
"""

from __future__ import annotations

import json
import math
from typing import NamedTuple

from ._bounded import BoundedDict
from .stores.base import SEEN_KEY

__all__ = ["MAX_DURATION", "META_KEY", "SEEN_KEY", "Bookkeeping"]

#: The record key under which a session's bookkeeping is stored. Session keys may not
#: begin with a NUL character, so no key of the application's can take its place.
META_KEY = "\x00meta"

#: The longest duration any lifetime may have, in seconds: 400 days, the longest cookie
#: lifetime browsers keep (RFC 6265bis), and well within what every store can expire.
MAX_DURATION = 400 * 24 * 3600

_VERSION = 1

#: How many bookkeeping texts are remembered decoded: a session's bookkeeping changes only
#: at login and set_expiry, so a read then costs a dictionary lookup, not a JSON parse.
DECODED_CACHE_SIZE = 10_000

_NUMBERS = ("created_at", "authenticated_at", "expiry")
_TEXTS = ("authenticated_user", "owner", "handle", "ip", "user_agent")


class Bookkeeping(NamedTuple):
    """What the library knows of a session beyond its keys. Times are seconds since the epoch.

    :param created_at: when the session was first stored (a login stores a new one), or
        None for a session not stored yet.
    :param authenticated_at: when its user logged in, or None for an anonymous session.
    :param expiry: the lifetime chosen with
        :meth:`~tornado_user_session.Session.set_expiry`: seconds, ``0`` for a cookie
        that ends with the browser, or None for the application's options.
    :param authenticated_user: the ``_id`` of the session user who logged in then: a user
        put on the session otherwise is not the one who logged in.
    :param owner: the user id (the ``user_id_key`` field of the session user, as text)
        whose sessions this one is listed among, or None.
    :param handle: the session's public name among its user's sessions.
    :param ip: the address the login came from, when devices are tracked.
    :param user_agent: the browser's User-Agent at login (256 characters at most).
    """

    created_at: float | None = None
    authenticated_at: float | None = None
    expiry: float | None = None
    authenticated_user: str | None = None
    owner: str | None = None
    handle: str | None = None
    ip: str | None = None
    user_agent: str | None = None

    @property
    def started_at(self) -> float | None:
        """When the absolute timeout starts counting: the login, else the creation."""
        return self.created_at if self.authenticated_at is None else self.authenticated_at

    def encode(self) -> str:
        """Return this bookkeeping as the text stored under :data:`META_KEY`."""
        text = json.dumps([_VERSION, *self], separators=(",", ":"), ensure_ascii=False)
        _decoded[text] = self  # the next request reads it back as it is
        return text

    @classmethod
    def decode(cls, text: str) -> Bookkeeping:
        """Read bookkeeping back from its text.

        :raises ValueError: if *text* is not bookkeeping this version wrote.
        """
        bookkeeping = _decoded.get(text)
        if bookkeeping is not None:
            return bookkeeping
        try:
            version, *fields = json.loads(text)
        except (TypeError, ValueError, RecursionError) as exc:
            raise ValueError(f"not session bookkeeping: {text[:40]!r}") from exc
        if version != _VERSION or len(fields) != len(cls._fields):
            raise ValueError(f"not session bookkeeping: {text[:40]!r}")
        values = dict(zip(cls._fields, fields, strict=True))
        for name in _NUMBERS:
            value = values[name]
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                raise ValueError(f"not session bookkeeping: {name} is {value!r}")
        for name in _TEXTS:
            if values[name] is not None and not isinstance(values[name], str):
                raise ValueError(f"not session bookkeeping: {name} is {values[name]!r}")
        bookkeeping = _decoded[text] = cls(**values)
        return bookkeeping


_decoded: BoundedDict[str, Bookkeeping] = BoundedDict(DECODED_CACHE_SIZE)
