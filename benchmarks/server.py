"""The servers under load, in one process pinned to one core.

``python -m benchmarks.server REDIS_URL`` serves the same tiny handler five ways: bare Tornado,
and with the library on MemoryStore and on RedisStore, without and with ``idle_timeout``, each on
a free loopback port. Once all listen it prints ``ready`` and their ports, in the order of
:data:`SERVERS`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import tornado.httpserver
import tornado.testing
import tornado.web

import tornado_user_session as tus

SECRET = "benchmark secret, 32 characters or more"


class Bare(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("hello")


class Read(tus.UserSessionMixin, tornado.web.RequestHandler):
    """Reads the session user; without a cookie, this is the no-cookie case."""

    def get(self) -> None:
        self.write("hello" if self.current_user else "guest")


class Change(tus.UserSessionMixin, tornado.web.RequestHandler):
    """Changes the session user on every request."""

    def get(self) -> None:
        user = self.current_user
        user["n"] = user.get("n", 0) + 1
        self.write("hello")


#: The servers, in the order their ports are printed.
SERVERS = ("bare", "memory", "redis", "memory+idle", "redis+idle")


class Start(tus.StartHandler):
    """Logs in anybody, as the user named by the ``user`` argument."""

    def authenticate(self) -> dict[str, Any]:
        return {"id": self.get_argument("user")}


def session_app(store: tus.Store, **options: Any) -> tornado.web.Application:
    app = tornado.web.Application(
        [(r"/read", Read), (r"/change", Change), *tus.routes(start=Start)]
    )
    tus.init(app, secret=SECRET, store=store, **options)
    return app


async def main(redis_url: str) -> None:
    idle = {"idle_timeout": 1800}
    apps = [
        tornado.web.Application([(r"/read", Bare)]),
        session_app(tus.MemoryStore(max_sessions=1_000_000)),
        session_app(tus.RedisStore.from_url(redis_url, prefix="bench:")),
        session_app(tus.MemoryStore(max_sessions=1_000_000), **idle),
        session_app(tus.RedisStore.from_url(redis_url, prefix="bench-idle:"), **idle),
    ]
    ports = []
    for app in apps:
        sock, port = tornado.testing.bind_unused_port()
        tornado.httpserver.HTTPServer(app).add_sockets([sock])
        ports.append(str(port))
    print("ready", *ports, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
