"""A logged-in user session for any Tornado application, in a few lines.

::

    import tornado_user_session as tus

    app = tornado.web.Application(
        [(r"/dashboard", Dashboard), *tus.routes(start=Login)], login_url="/"
    )
    tus.init(app, secret="...")
"""

import typing as _typing
from importlib.metadata import version as _version

from .config import Config
from .errors import (
    ConfigError,
    MissingDependencyError,
    SessionError,
    StoreDataError,
    StoreError,
    UnstorableValueError,
)
from .fresh import fresh_login_required
from .handlers import DestroyHandler, GuestStartHandler, StartHandler, local_path, routes
from .manager import SessionManager, init
from .mixin import UserSessionMixin
from .session import Session
from .stores import MemoryStore, Store
from .user_sessions import SessionInfo

if _typing.TYPE_CHECKING:
    from .stores.redis import RedisStore

__version__ = _version("tornado_user_session")


def __getattr__(name: str) -> _typing.Any:
    # RedisStore imports redis, an optional dependency: only when it is used.
    if name == "RedisStore":
        from .stores.redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Config",
    "ConfigError",
    "DestroyHandler",
    "GuestStartHandler",
    "MemoryStore",
    "MissingDependencyError",
    "RedisStore",
    "Session",
    "SessionError",
    "SessionInfo",
    "SessionManager",
    "StartHandler",
    "Store",
    "StoreDataError",
    "StoreError",
    "UnstorableValueError",
    "UserSessionMixin",
    "fresh_login_required",
    "init",
    "local_path",
    "routes",
]
