"""The library's own record of a session: when it began, when its user logged in, its lifetime.

It is kept with the session's keys, under :data:`META_KEY` in the stored record, but it is
not one of them: ``self.session`` never shows it, and ``self.session.clear()`` cannot touch it.
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from ._bounded import BoundedDict

#: The record key under which a session's bookkeeping is stored. Session keys may not
#: begin with a NUL character, so no key of the application's can take its place.
META_KEY = "\x00meta"

#: The longest duration any lifetime may have, in seconds: 400 days, the longest cookie
#: lifetime browsers keep (RFC 6265bis), and well within what every store can expire.
MAX_DURATION = 400 * 24 * 3600

_VERSION = 1

# The text encode() makes, read back without the JSON parser. A session's bookkeeping
# changes only at login and set_expiry, so the texts read lately are remembered decoded: a
# read then costs a dictionary lookup.
_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_STRING = r'"(?:[^"\\\x00-\x1f]|\\.)*"'
_TEXT = re.compile(
    rf"\[{_VERSION},({_NUMBER}|null),({_NUMBER}|null),({_NUMBER}|null),({_STRING}|null)\]"
)

#: How many bookkeeping texts are remembered decoded.
DECODED_CACHE_SIZE = 10_000


class Bookkeeping(NamedTuple):
    """What the library knows of a session beyond its keys. Times are seconds since the epoch.

    :param created_at: when the session was first stored (a login stores a new one), or
        None for a session not stored yet.
    :param authenticated_at: when its user logged in, or None for an anonymous session.
    :param authenticated_user: the ``_id`` of the session user who logged in then: a user
        put on the session otherwise is not the one who logged in.
    :param expiry: the lifetime chosen with
        :meth:`~tornado_user_session.Session.set_expiry`: seconds, ``0`` for a cookie
        that ends with the browser, or None for the application's options.
    """

    created_at: float | None = None
    authenticated_at: float | None = None
    expiry: float | None = None
    authenticated_user: str | None = None

    @property
    def started_at(self) -> float | None:
        """When the absolute timeout starts counting: the login, else the creation."""
        return self.created_at if self.authenticated_at is None else self.authenticated_at

    def encode(self) -> str:
        """Return this bookkeeping as the text stored under :data:`META_KEY`."""
        text = json.dumps(
            [
                _VERSION,
                self.created_at,
                self.authenticated_at,
                self.expiry,
                self.authenticated_user,
            ],
            separators=(",", ":"),
        )
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
        match = _TEXT.fullmatch(text)
        if match is None:
            raise ValueError(f"not session bookkeeping: {text[:40]!r}")
        *times, user = match.groups()
        created_at, authenticated_at, expiry = (
            None if part == "null" else float(part) for part in times
        )
        authenticated_user = None if user == "null" else json.loads(user)
        bookkeeping = cls(created_at, authenticated_at, expiry, authenticated_user)
        _decoded[text] = bookkeeping
        return bookkeeping


_decoded: BoundedDict[str, Bookkeeping] = BoundedDict(DECODED_CACHE_SIZE)
