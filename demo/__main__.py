"""Run the demo: ``python -m demo [--port 8888] [--password tornado] [--redis-url URL]``.

The demo user is ``demo``, with the password ``tornado`` unless --password says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio

import tornado.log

import tornado_user_session as tus

from .app import DEFAULT_PASSWORD, USERNAME, make_app


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8888, help="port to listen on (8888)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="the demo user's password")
    parser.add_argument(
        "--redis-url", help="keep sessions in Redis (redis://host:6379/0), not in memory"
    )
    args = parser.parse_args()
    tornado.log.enable_pretty_logging()
    store = tus.RedisStore.from_url(args.redis_url) if args.redis_url else tus.MemoryStore()
    app = make_app(password=args.password, store=store)
    app.listen(args.port, args.host)
    address = f"http://{args.host}:{args.port}/"
    print(f"Demo on {address} - log in as {USERNAME!r} with password {args.password!r}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
