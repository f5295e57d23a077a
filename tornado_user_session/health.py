"""Whether the session store answers: an outage is logged when it starts and when it ends."""

from __future__ import annotations

import logging

from .errors import StoreDataError, StoreError

log = logging.getLogger("tornado_user_session")


class StoreHealth:
    """Follows the store's answers, so that an outage is logged twice, not on every request."""

    def __init__(self) -> None:
        self.down = False

    def failed(self, error: StoreError) -> None:
        """Note that the store failed: the first failure of an outage is logged at WARNING.

        A :class:`~tornado_user_session.StoreDataError` is no outage: it is logged
        at ERROR each time.
        """
        # Text, not the exception: a log record kept by a handler would keep the exception's
        # traceback alive, and with it the client's connections.
        if isinstance(error, StoreDataError):
            log.error(
                "tornado_user_session: the session store refused an operation: %s", str(error)
            )
            return
        if not self.down:
            self.down = True
            log.warning(
                "tornado_user_session: the session store is unavailable, answering 503: %s",
                str(error.__cause__ or error),
            )

    def answered(self) -> None:
        """Note that the store answered: the end of an outage is logged at WARNING."""
        if self.down:
            self.down = False
            log.warning("tornado_user_session: the session store is available again")
