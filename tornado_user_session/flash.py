"""Flash messages: a word for the next page a visitor sees ("Signed out", "Profile saved").

A message is kept in the session, under :data:`FLASHES_KEY`, until a page shows it, once: so it
survives the redirect that follows a POST, in any process, as any session key does. One set
once the session is destroyed (by :class:`~tornado_user_session.DestroyHandler`'s
:meth:`~tornado_user_session.DestroyHandler.destroyed`, say) lives in a new anonymous session,
so the page a logout redirects to shows it. The mixin's ``flash()`` and
``get_flashed_messages()`` call into this module.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, NamedTuple

#: The session key the messages wait under: a list of ``[message, category]`` pairs.
FLASHES_KEY = "_flashes"

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
    waiting = [*session.get(FLASHES_KEY, ()), [message, category]]
    session[FLASHES_KEY] = waiting[-MAX_FLASHES:]


def take(session: MutableMapping[str, Any], categories: tuple[str, ...]) -> list[Message]:
    """Return the waiting messages (those of *categories*, or all), oldest first, and forget
    them; the others keep waiting."""
    waiting = session.get(FLASHES_KEY)
    if not waiting:
        return []
    taken, kept = [], []
    for message, category in waiting:
        if not categories or category in categories:
            taken.append(Message(message, category))
        else:
            kept.append([message, category])
    if kept:
        session[FLASHES_KEY] = kept
    else:
        del session[FLASHES_KEY]
    return taken
