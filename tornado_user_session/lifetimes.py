"""How long a session lives: the one place that combines the lifetime options.

A session ends at the earliest of:

- its lifetime after its last save: ``max_age``, or the duration chosen with
  :meth:`~tornado_user_session.Session.set_expiry`;
- ``idle_timeout`` after the last request that loaded or saved it (the store extends
  it on each read, in the same round trip);
- ``absolute_timeout`` after its login, or its creation for a session that never
  logged in, whatever happens in between.

The store's lifetime and the cookie's Max-Age never reach past the absolute end.
The cookie has no Max-Age, and so ends with the browser, when ``set_expiry(0)`` was
chosen, or with ``expire_at_browser_close`` unless a duration was chosen.
"""

from __future__ import annotations

from .bookkeeping import MAX_DURATION, Bookkeeping
from .config import Config


def lifetime(config: Config, bookkeeping: Bookkeeping | None) -> float:
    """The session's lifetime after each save, in seconds: its own choice, else ``max_age``."""
    expiry = None if bookkeeping is None else bookkeeping.expiry
    return expiry if expiry else config.max_age  # 0 (browser close) keeps max_age on the server


def absolute_end(config: Config, bookkeeping: Bookkeeping | None) -> float | None:
    """When the session ends whatever happens, in seconds since the epoch, or None.

    ``absolute_timeout`` after its start; and a session listed among a user's ends
    400 days after its login at the latest, so that it never outlives the index that
    lets it be ended.
    """
    if bookkeeping is None or bookkeeping.started_at is None:
        return None
    end = None
    if config.absolute_timeout is not None:
        end = bookkeeping.started_at + config.absolute_timeout
    if bookkeeping.owner is not None and bookkeeping.authenticated_at is not None:
        listed_end = bookkeeping.authenticated_at + MAX_DURATION
        end = listed_end if end is None else min(end, listed_end)
    return end


def remaining(config: Config, bookkeeping: Bookkeeping | None, now: float) -> float:
    """How long a save at *now* lets the session live: its lifetime, cut at its absolute end.

    Zero or less means the session is over and must not be saved.
    """
    seconds = lifetime(config, bookkeeping)
    end = absolute_end(config, bookkeeping)
    return seconds if end is None else min(seconds, end - now)


def is_over(config: Config, bookkeeping: Bookkeeping | None, now: float) -> bool:
    """Whether the session has passed its absolute end (its store should have dropped it)."""
    end = absolute_end(config, bookkeeping)
    return end is not None and end <= now


def cookie_max_age(config: Config, bookkeeping: Bookkeeping | None, now: float) -> int | None:
    """The cookie's Max-Age for a save at *now*, or None for a cookie that ends with the browser."""
    expiry = None if bookkeeping is None else bookkeeping.expiry
    if expiry == 0 or (expiry is None and config.expire_at_browser_close):
        return None
    return max(1, int(remaining(config, bookkeeping, now)))
