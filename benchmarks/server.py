"""The servers under load, in one process pinned to one core.

``python -m benchmarks.server REDIS_URL [CLUSTER_URL] [--loop uvloop]`` serves the same tiny
handler six ways: bare Tornado, with the library on MemoryStore and on RedisStore, without and
with ``idle_timeout``, and on a Redis Cluster (when its URL is given), each on a free loopback
port, on asyncio's event loop or uvloop's. Once all listen it prints ``ready`` and their ports,
in the order of :data:`SERVERS` (0 for a server not started).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import tornado.httpserver
import tornado.testing
import tornado.web

import tornado_user_session as tus

SECRET = "benchmark secret, 32 characters or more"

#: The event loops the servers can run on.
LOOPS = ("asyncio", "uvloop")


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
SERVERS = ("bare", "memory", "redis", "memory+idle", "redis+idle", "redis-cluster")


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


async def main(redis_url: str, cluster_url: str | None) -> None:
    idle = {"idle_timeout": 1800}
    apps = [
        tornado.web.Application([(r"/read", Bare)]),
        session_app(tus.MemoryStore(max_sessions=1_000_000)),
        session_app(tus.RedisStore.from_url(redis_url, prefix="bench:")),
        session_app(tus.MemoryStore(max_sessions=1_000_000), **idle),
        session_app(tus.RedisStore.from_url(redis_url, prefix="bench-idle:"), **idle),
        cluster_url
        and session_app(tus.RedisStore.from_url(cluster_url, cluster=True, prefix="bench:")),
    ]
    ports = []
    for app in apps:
        if not app:
            ports.append("0")
            continue
        sock, port = tornado.testing.bind_unused_port()
        tornado.httpserver.HTTPServer(app).add_sockets([sock])
        ports.append(str(port))
    print("ready", *ports, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server")
    parser.add_argument("redis_url")
    parser.add_argument("cluster_url", nargs="?")
    parser.add_argument("--loop", choices=LOOPS, default="asyncio", help="event loop (asyncio)")
    args = parser.parse_args()
    serving = main(args.redis_url, args.cluster_url)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serving)
    else:
        asyncio.run(serving)
