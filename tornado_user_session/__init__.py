"""A logged-in user session for any Tornado application, in a few lines.

::

    import tornado_user_session as tus

    app = tornado.web.Application([(r"/dashboard", Dashboard), *tus.routes()], login_url="/")
    tus.init(app, secret="...")
"""

from importlib.metadata import version as _version

from .config import Config
from .errors import (
    ConfigError,
    MissingDependencyError,
    SessionError,
    StoreError,
    UnstorableValueError,
)
from .handlers import DestroyHandler, StartHandler, local_path, routes
from .manager import SessionManager, init
from .mixin import UserSessionMixin
from .session import Session
from .stores import MemoryStore, Store

__version__ = _version("tornado_user_session")

__all__ = [
    "Config",
    "ConfigError",
    "DestroyHandler",
    "MemoryStore",
    "MissingDependencyError",
    "Session",
    "SessionError",
    "SessionManager",
    "StartHandler",
    "Store",
    "StoreError",
    "UnstorableValueError",
    "UserSessionMixin",
    "init",
    "local_path",
    "routes",
]
