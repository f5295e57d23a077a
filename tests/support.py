"""What the tests share: a cookie-keeping client, test handlers and instrumented stores."""

from __future__ import annotations

import asyncio
import http.cookies
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Coroutine
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient
import tornado.testing
import tornado.web

import tornado_user_session as tus
from servers import free_port, wait_for_port
from tornado_user_session.stores.base import Record

SECRET = "s" * 32


class FakeClock:
    """A clock the tests move by hand, in seconds."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def advance_redis(client: Any, prefix: str, seconds: float) -> None:
    """Make *seconds* pass for the Redis keys under *prefix*: shorten their TTLs, and move
    the end each session's last save gave it (its marker field, in ms) as much earlier."""
    shift = round(seconds * 1000)
    async for key in client.scan_iter(match=prefix + "*"):
        left = await client.pttl(key) - shift
        if left <= 0:
            await client.delete(key)
            continue
        await client.pexpire(key, left)
        if await client.type(key) == "hash":
            end = await client.hget(key, "\x00")
            if end:
                await client.hset(key, "\x00", str(int(end) - shift))


class HookedStore(tus.MemoryStore):
    """A real MemoryStore that calls :meth:`before` ahead of each operation."""

    async def before(self, operation: str) -> None:
        """Called with "load", "create", "update" or "delete" before the store does it."""

    async def load(
        self, session_id: str, *, idle_ttl: float | None = None, seen_at: float | None = None
    ) -> dict[str, str] | None:
        await self.before("load")
        return await super().load(session_id, idle_ttl=idle_ttl, seen_at=seen_at)

    async def create(
        self, session_id: str, record: Record, ttl: float, *, idle_ttl: float | None = None
    ) -> None:
        await self.before("create")
        await super().create(session_id, record, ttl, idle_ttl=idle_ttl)

    async def update(
        self,
        session_id: str,
        changed: Record,
        removed: Collection[str],
        ttl: float,
        *,
        idle_ttl: float | None = None,
    ) -> bool:
        await self.before("update")
        return await super().update(session_id, changed, removed, ttl, idle_ttl=idle_ttl)

    async def delete(self, session_id: str) -> bool:
        await self.before("delete")
        return await super().delete(session_id)


class DictStore(tus.Store):
    """A store as an application might write one: a dict, and nothing optional."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.now = clock
        self.records: dict[str, tuple[float, dict[str, str]]] = {}

    async def load(
        self, session_id: str, *, idle_ttl: float | None = None, seen_at: float | None = None
    ) -> dict[str, str] | None:
        ends, record = self.records.get(session_id, (0.0, {}))
        return dict(record) if ends > self.now() else None

    async def create(
        self, session_id: str, record: Record, ttl: float, *, idle_ttl: float | None = None
    ) -> None:
        self.records[session_id] = (self.now() + ttl, dict(record))

    async def update(
        self,
        session_id: str,
        changed: Record,
        removed: Collection[str],
        ttl: float,
        *,
        idle_ttl: float | None = None,
    ) -> bool:
        record = await self.load(session_id)
        if record is None:
            return False
        record.update(changed)
        for key in removed:
            record.pop(key, None)
        self.records[session_id] = (self.now() + ttl, record)
        return True

    async def delete(self, session_id: str) -> bool:
        return self.records.pop(session_id, None) is not None


class CountingStore(HookedStore):
    """A real MemoryStore that counts the calls made to it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[str] = []

    async def before(self, operation: str) -> None:
        self.calls.append(operation)


class SlowStore(HookedStore):
    """A MemoryStore whose writes take a while, as a networked store's do."""

    delay = 0.05

    async def before(self, operation: str) -> None:
        if operation in ("create", "update"):
            await asyncio.sleep(self.delay)


class DownStore(HookedStore):
    """A MemoryStore that can be switched off, failing as an unreachable server does."""

    down = False

    async def before(self, operation: str) -> None:
        if self.down:
            raise tus.StoreError("store is down") from ConnectionRefusedError(111, "refused")


class Dashboard(tus.UserSessionMixin, tornado.web.RequestHandler):
    """The quick start's protected page: counts visits on the session user."""

    @tornado.web.authenticated
    def get(self) -> None:
        user = self.current_user
        user["visits"] = user.get("visits", 0) + 1
        self.write({"visits": user["visits"]})


class SessionPage(tus.UserSessionMixin, tornado.web.RequestHandler):
    """GET shows the session; POST sets the JSON body's keys on it; DELETE removes a key."""

    def get(self) -> None:
        self.write({"id": self.session.id, "session": dict(self.session)})

    def post(self) -> None:
        self.session.update(json.loads(self.request.body or b"{}"))
        self.write({"ok": True})

    def delete(self) -> None:
        del self.session[self.get_argument("key")]
        self.write({"ok": True})


class Expiry(tus.UserSessionMixin, tornado.web.RequestHandler):
    """POST ``seconds=N`` chooses the session's lifetime (``seconds=`` for the app's options)."""

    def post(self) -> None:
        seconds = self.get_argument("seconds")
        self.session.set_expiry(float(seconds) if seconds else None)
        self.write({"expiry": self.session.expiry})


class LoginAs(tus.UserSessionMixin, tornado.web.RequestHandler):
    """POST a JSON object: logs in a session user with those fields."""

    async def post(self) -> None:
        user = await self.start_user_session(**json.loads(self.request.body))
        self.write({"user": user})


class EndOthers(tus.UserSessionMixin, tornado.web.RequestHandler):
    """POST ends every other session of the current user."""

    async def post(self) -> None:
        self.write({"ended": await self.end_other_user_sessions()})


class Untouched(tus.UserSessionMixin, tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("hello")


def make_app(*handlers: Any, settings: dict[str, Any] | None = None, **options: Any) -> Any:
    """An application with the quick start's routes plus *handlers*, set up with *options*."""
    app = tornado.web.Application(
        [
            (r"/dashboard", Dashboard),
            (r"/session", SessionPage),
            (r"/untouched", Untouched),
            (r"/expiry", Expiry),
            (r"/user-sessions/login", LoginAs),
            (r"/user-sessions/end-others", EndOthers),
            *handlers,
            *tus.routes(start=tus.GuestStartHandler),
        ],
        login_url="/login",
        **(settings or {}),
    )
    options.setdefault("secret", SECRET)
    tus.init(app, **options)
    return app


class Browser:
    """An HTTP client that keeps cookies, as a browser does, over real sockets."""

    def __init__(self, client: tornado.httpclient.AsyncHTTPClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url
        self.cookies: dict[str, str] = {}

    async def fetch(
        self, path: str, method: str = "GET", body: Any = None, **kwargs: Any
    ) -> tornado.httpclient.HTTPResponse:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if isinstance(body, dict):
            body = json.dumps(body)
        if method == "POST" and body is None:
            body = ""
        response = await self.client.fetch(
            self.base_url + path,
            method=method,
            body=body,
            headers=headers,
            follow_redirects=False,
            raise_error=False,
            allow_nonstandard_methods=True,
            **kwargs,
        )
        for header in response.headers.get_list("Set-Cookie"):
            for name, morsel in http.cookies.SimpleCookie(header).items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    async def json(self, path: str, method: str = "GET", body: Any = None) -> Any:
        response = await self.fetch(path, method, body)
        assert response.code == 200, (response.code, response.body)
        return json.loads(response.body)


def set_cookies(response: tornado.httpclient.HTTPResponse) -> dict[str, http.cookies.Morsel[str]]:
    """The cookies a response sets, by name."""
    cookies: dict[str, http.cookies.Morsel[str]] = {}
    for header in response.headers.get_list("Set-Cookie"):
        cookies.update(http.cookies.SimpleCookie(header))
    return cookies


class SessionTestCase(tornado.testing.AsyncHTTPTestCase):
    """A real server on a loopback port, serving :func:`make_app` with the case's options."""

    options: dict[str, Any] = {}  # noqa: RUF012 - read-only per subclass
    handlers: tuple[Any, ...] = ()
    settings: dict[str, Any] = {}  # noqa: RUF012 - read-only per subclass

    def setUp(self) -> None:
        self.clock = FakeClock()
        self.store = self.make_store()
        super().setUp()

    def make_store(self) -> Any:
        """The store the application uses; a counting MemoryStore on the fake clock."""
        return CountingStore(clock=self.clock)

    def get_app(self) -> tornado.web.Application:
        options = {"store": self.store, "clock": self.clock, **self.options}
        app: tornado.web.Application = make_app(*self.handlers, settings=self.settings, **options)
        self.manager: tus.SessionManager = app.settings["user_session"]
        return app

    def tearDown(self) -> None:
        self.io_loop.run_sync(self.manager.close)
        super().tearDown()

    def browser(self) -> Browser:
        return Browser(self.http_client, self.get_url(""))

    async def login(self, browser: Browser, **fields: Any) -> dict[str, Any]:
        answer = await browser.json("/user-session/start", "POST", fields or None)
        user: dict[str, Any] = answer["user"]
        return user

    def session_id(self, browser: Browser) -> str | None:
        return self.manager.signer.unsign(browser.cookies[self.manager.config.name])


class TimedCase(SessionTestCase):
    """A session test case whose time the test moves, on the in-memory store."""

    async def advance(self, seconds: float) -> None:
        """Make *seconds* pass for the application and its store."""
        self.clock.advance(seconds)

    async def store_ttl(self, browser: Browser) -> float:
        """How long the store will keep this browser's session, in seconds."""
        entry = self.store._find(self.session_id(browser))[1]
        assert entry is not None
        expires: float = entry[0]
        return expires - self.clock()

    async def logged_in(self, browser: Browser) -> bool:
        return (await browser.fetch("/dashboard")).code == 200


@pytest.mark.usefixtures("redis_for_case")
class RedisCase(tornado.testing.AsyncTestCase):
    """A RedisStore of the test's own prefix on the tests' Redis (or Redis Cluster)."""

    redis_url: str
    cluster = False  # True: on the tests' Redis Cluster
    store: tus.Store

    def setUp(self) -> None:
        super().setUp()
        self.prefix = f"test:{uuid.uuid4().hex}:"
        self.clock = FakeClock()
        self.redis_store = self.store = self.make_store()
        self.client = self.redis_store.client

    def tearDown(self) -> None:
        self.io_loop.run_sync(self.store.close)
        super().tearDown()

    def make_store(self) -> tus.RedisStore:
        return tus.RedisStore.from_url(
            self.redis_url, cluster=self.cluster, prefix=self.prefix, clock=self.clock
        )

    async def advance(self, seconds: float) -> None:
        """Make *seconds* pass for this test's keys and the store's clock."""
        self.clock.advance(seconds)
        await advance_redis(self.client, self.prefix, seconds)

    async def index_size(self, owner: str) -> int:
        size: int = await self.client.hlen(f"{self.prefix}user:{owner}")
        return size


@pytest.mark.usefixtures("redis_for_case")
class RedisTimedCase(TimedCase):
    """The same on Redis: the test's clock for the application and the store's index, and
    TTLs and save ends moved by :func:`advance_redis`."""

    redis_url: str
    cluster = False  # True: on the tests' Redis Cluster

    def make_store(self) -> tus.RedisStore:
        self.prefix = f"test:{uuid.uuid4().hex}:"
        return tus.RedisStore.from_url(
            self.redis_url, cluster=self.cluster, prefix=self.prefix, clock=self.clock
        )

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await advance_redis(self.store.client, self.prefix, seconds)

    async def store_ttl(self, browser: Browser) -> float:
        ttl_ms: int = await self.store.client.pttl(self.prefix + str(self.session_id(browser)))
        return ttl_ms / 1000


async def redis_commands(client: Any, action: Awaitable[Any]) -> dict[str, int]:
    """Run *action*; return the Redis commands it made (those a script ran included), by name,
    with the INFO that asked."""
    before = await client.info("commandstats")
    await action
    after = await client.info("commandstats")
    calls = {
        name.removeprefix("cmdstat_"): after[name]["calls"]
        - before.get(name, {"calls": 0})["calls"]
        for name in after
    }
    return {name: count for name, count in calls.items() if count}


def run_on_two_servers(
    redis_url: str, flow: Callable[[list[str]], Coroutine[Any, Any, None]], cluster: bool = False
) -> None:
    """Serve the tests' application from two processes sharing one Redis (or Redis Cluster),
    and run *flow* with their base URLs."""
    script = Path(__file__).with_name("serve_app.py")
    prefix = f"test:{uuid.uuid4().hex}:"
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, str(script), str(port), redis_url, prefix, *(["cluster"] * cluster)]
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_for_port(port)
        asyncio.run(flow([f"http://127.0.0.1:{port}" for port in ports]))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
