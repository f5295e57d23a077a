"""Flash messages: a word for the next page a visitor sees ("Signed out", "Profile saved").

A message is kept in the session until a page shows it, once: so it survives the redirect
that follows a POST, in any process, as any session key does. Each message is a session key of
its own (:data:`FLASH_PREFIX` and the time it was flashed), so that two requests of one
visitor, one flashing while the other shows messages, do not lose each other's: a save writes
only the keys that changed. One flashed before or after a logout in the same request (in
:meth:`~tornado_user_session.DestroyHandler.destroyed`, say) lives in a new anonymous session,
so the page the logout redirects to shows it. The mixin's ``flash()`` and
``get_flashed_messages()`` call into this module.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import MutableMapping
from typing import Any, NamedTuple

#: What the session key of a waiting message starts with; the rest orders them in time.
FLASH_PREFIX = "_flash:"

#: At most this many messages wait; the oldest go first (a client that never shows a page, an
#: API client, must not grow its session).
MAX_FLASHES = 20


class Message(NamedTuple):
    """A flash message, as :meth:`~tornado_user_session.UserSessionMixin.get_flashed_messages`
    returns it: ``for message, category in ...`` works too."""

    message: str
    category: str


def add(session: MutableMapping[str, Any], message: str, category: str) -> None:
    """Keep *message* for the next page that shows messages.

    :raises TypeError: if *message* or *category* is not a string.
    """
    if not isinstance(message, str) or not isinstance(category, str):
        raise TypeError(
            f"flash() takes text: message {type(message).__name__}, "
            f"category {type(category).__name__}"
        )
    session[f"{FLASH_PREFIX}{time.time_ns():020d}{secrets.token_hex(4)}"] = [message, category]
    for key in waiting(session)[:-MAX_FLASHES]:
        del session[key]


def take(session: MutableMapping[str, Any], categories: tuple[str, ...]) -> list[Message]:
    """Return the waiting messages (those of *categories*, or all), oldest first, and forget
    them; the others keep waiting."""
    taken = []
    for key in waiting(session):
        message, category = session[key]
        if not categories or category in categories:
            taken.append(Message(message, category))
            del session[key]
    return taken


def waiting(session: MutableMapping[str, Any]) -> list[str]:
    """The keys of the waiting messages, oldest first."""
    return sorted(key for key in session if key.startswith(FLASH_PREFIX))
