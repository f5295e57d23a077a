"""Run the demo: ``python -m demo [--port 8888] [--password tornado] [--redis-url URL] [--uvloop]``.

The demo user is ``demo``, with the password ``tornado`` unless --password says otherwise.
Sessions end after 30 minutes unused and 7 days at most; the password page needs a login
from the last 5 minutes (--idle-timeout, --absolute-timeout, --fresh-login-within change them).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import tornado.log

import tornado_user_session as tus

from .app import (
    ABSOLUTE_TIMEOUT,
    DEFAULT_PASSWORD,
    FRESH_LOGIN_WITHIN,
    IDLE_TIMEOUT,
    REMEMBER,
    USERNAME,
    make_app,
)


def main() -> None:
    args = parse_arguments()
    if not args.uvloop:
        asyncio.run(serve(args))
        return
    try:
        import uvloop
    except ImportError:
        sys.exit("--uvloop needs uvloop: pip install tornado_user_session[uvloop]")
    uvloop.run(serve(args))


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8888, help="port to listen on (8888)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="the demo user's password")
    parser.add_argument(
        "--redis-url", help="keep sessions in Redis (redis://host:6379/0), not in memory"
    )
    for flag, default, what in (
        ("--idle-timeout", IDLE_TIMEOUT, "end a session unused for this long"),
        ("--absolute-timeout", ABSOLUTE_TIMEOUT, "end a session this long after its login"),
        ("--fresh-login-within", FRESH_LOGIN_WITHIN, "the password page needs a login this recent"),
    ):
        parser.add_argument(flag, type=float, default=default, help=f"{what}, seconds ({default})")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop's event loop")
    return parser.parse_args()


async def serve(args: argparse.Namespace) -> None:
    tornado.log.enable_pretty_logging()
    store = tus.RedisStore.from_url(args.redis_url) if args.redis_url else tus.MemoryStore()
    app = make_app(
        password=args.password,
        store=store,
        idle_timeout=args.idle_timeout,
        absolute_timeout=args.absolute_timeout,
        fresh_login_within=args.fresh_login_within,
    )
    app.listen(args.port, args.host)
    address = f"http://{args.host}:{args.port}/"
    print(f"Demo on {address} - log in as {USERNAME!r} with password {args.password!r}", flush=True)
    print(
        f"Sessions end after {args.idle_timeout:g} s unused and {args.absolute_timeout:g} s "
        f"after login; 'Remember me' keeps a login {REMEMBER.days} days (within those), "
        f"and the password page needs a login from the last {args.fresh_login_within:g} s",
        flush=True,
    )
    print(f"Event loop: {type(asyncio.get_running_loop()).__module__.split('.')[0]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    main()
