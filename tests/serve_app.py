"""Serve the tests' application on a Redis store, in a process of its own.

``python tests/serve_app.py PORT REDIS_URL PREFIX [cluster]``
"""

from __future__ import annotations

import asyncio
import sys

import tornado_user_session as tus
from servers import run
from support import make_app


async def main(port: int, redis_url: str, prefix: str, cluster: bool) -> None:
    app = make_app(store=tus.RedisStore.from_url(redis_url, cluster=cluster, prefix=prefix))
    app.listen(port, "127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:] == ["cluster"]))
