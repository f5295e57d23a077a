"""The errors this library raises.

Every error descends from :class:`SessionError`::

    SessionError
    ├── ConfigError            (also ValueError)  a bad option given to init()
    ├── UnstorableValueError   (also TypeError)   a session value that JSON cannot hold
    ├── StoreError                                the store failed; raised from its own error
    │   └── StoreDataError                        it answered, but refused the data (not an outage)
    └── MissingDependencyError (also ImportError) an optional store's package is not installed

A missing, tampered or expired session cookie is not an error: it means "no session".
"""

from __future__ import annotations


class SessionError(Exception):
    """Base class of every error raised by tornado_user_session."""


class ConfigError(SessionError, ValueError):
    """An option given to :func:`~tornado_user_session.init` is unknown or invalid.

    :param option: the name of the offending option.
    """

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


class UnstorableValueError(SessionError, TypeError):
    """A session value cannot be stored as JSON.

    Raised when the session is saved. The stored session is left as it was.

    :param path: the dotted key path of the value, such as ``"user.cart"``.
    :param value: the value itself.
    :param reason: why it cannot be stored, when it is not its type.
    """

    def __init__(self, path: str, value: object, reason: str | None = None) -> None:
        reason = reason or f"{type(value).__name__} is not JSON-serialisable"
        super().__init__(f"session value at {path!r} cannot be stored: {reason}")
        self.path = path
        self.value = value


class StoreError(SessionError):
    """The session store could not be reached or failed.

    Raised ``from`` the store's own exception. The mixin answers it with a 503.
    """


class StoreDataError(StoreError):
    """The store answered, but refused an operation on the data it holds.

    For example a key of another type where a session should be (another
    application sharing the key prefix). The mixin answers it with a 503 as any
    store failure, but it is logged as an error each time, never as an outage.
    """


class MissingDependencyError(SessionError, ImportError):
    """An optional store was used without its package installed.

    The message names the ``pip install`` command that fixes it.
    """
