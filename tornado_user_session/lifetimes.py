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

from .bookkeeping import Bookkeeping
from .config import Config


def lifetime(config: Config, bookkeeping: Bookkeeping | None) -> float:
    """The session's lifetime after each save, in seconds: its own choice, else ``max_age``."""
    expiry = None if bookkeeping is None else bookkeeping.expiry
    return expiry if expiry else config.max_age  # 0 (browser close) keeps max_age on the server


def remaining(config: Config, bookkeeping: Bookkeeping | None, now: float) -> float:
    """How long a save at *now* lets the session live: its lifetime, cut at its absolute end.

    Zero or less means the session is over and must not be saved.
    """
    seconds = lifetime(config, bookkeeping)
    absolute = config.absolute_timeout
    if absolute is not None and bookkeeping is not None:
        started = bookkeeping.started_at
        if started is not None:
            seconds = min(seconds, started + absolute - now)
    return seconds


def is_over(config: Config, bookkeeping: Bookkeeping | None, now: float) -> bool:
    """Whether the session has passed its absolute end (its store should have dropped it)."""
    absolute = config.absolute_timeout
    if absolute is None or bookkeeping is None or bookkeeping.started_at is None:
        return False
    return bookkeeping.started_at + absolute <= now


def cookie_max_age(config: Config, bookkeeping: Bookkeeping | None, now: float) -> int | None:
    """The cookie's Max-Age for a save at *now*, or None for a cookie that ends with the browser."""
    expiry = None if bookkeeping is None else bookkeeping.expiry
    if expiry == 0 or (expiry is None and config.expire_at_browser_close):
        return None
    return max(1, int(remaining(config, bookkeeping, now)))
