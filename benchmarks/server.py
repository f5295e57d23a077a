"""The servers under load, in one process pinned to one core.

``python -m benchmarks.server BARE_PORT MEMORY_PORT REDIS_PORT REDIS_URL`` serves the same tiny
handler three ways: bare Tornado, and with the library on MemoryStore and on RedisStore. It
prints ``ready`` once all three listen.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

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


def session_app(store: tus.Store) -> tornado.web.Application:
    app = tornado.web.Application([(r"/read", Read), (r"/change", Change), *tus.routes()])
    tus.init(app, secret=SECRET, store=store)
    return app


async def main(bare_port: int, memory_port: int, redis_port: int, redis_url: str) -> None:
    apps: list[tuple[int, Any]] = [
        (bare_port, tornado.web.Application([(r"/read", Bare)])),
        (memory_port, session_app(tus.MemoryStore(max_sessions=1_000_000))),
        (redis_port, session_app(tus.RedisStore.from_url(redis_url, prefix="bench:"))),
    ]
    for port, app in apps:
        app.listen(port, "127.0.0.1", xheaders=False)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    bare, memory, redis_port, url = sys.argv[1:5]
    asyncio.run(main(int(bare), int(memory), int(redis_port), url))
