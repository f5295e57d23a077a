"""Run the demo: ``python -m demo [--port 8888] [--password tornado] [--redis-url URL]``."""

from __future__ import annotations

import argparse
import asyncio

import tornado.log

from .app import DEFAULT_PASSWORD, USERNAME, make_app


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8888, help="port to listen on (8888)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--password",
        default=DEFAULT_PASSWORD,
        help=f"the demo user's password ({DEFAULT_PASSWORD})",
    )
    args = parser.parse_args()
    tornado.log.enable_pretty_logging()
    app = make_app(password=args.password)
    app.listen(args.port, args.host)
    address = f"http://{args.host}:{args.port}/"
    print(f"Demo on {address} - log in as {USERNAME!r} with password {args.password!r}")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
