"""The manager: loading by cookie, the purge timer and its lifecycle."""

from __future__ import annotations

import asyncio
import logging

import pytest
import tornado.httpclient
import tornado.httpserver
import tornado.testing
import tornado.web

import tornado_user_session as tus
from support import SECRET, CountingStore, FakeClock, Untouched

PERIOD = 0.02


async def until(condition: object, seconds: float = 3.0) -> bool:
    """Wait for *condition()* to hold, a real timer being what is tested."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(PERIOD / 2)
    return True


async def serve_one_request(app: tornado.web.Application) -> None:
    sock, port = tornado.testing.bind_unused_port()
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets([sock])
    client = tornado.httpclient.AsyncHTTPClient()
    try:
        response = await client.fetch(f"http://127.0.0.1:{port}/", raise_error=False)
        assert response.code == 200
    finally:
        client.close()
        server.stop()
        await server.close_all_connections()


async def expired_sessions(store: tus.MemoryStore, clock: FakeClock, count: int) -> None:
    for n in range(count):
        await store.create(f"s{n}", {}, 10)
    clock.advance(10)


def purging_app() -> tuple[FakeClock, tus.MemoryStore, tornado.web.Application]:
    """An application set up outside any loop, as the quick start does, purging every PERIOD."""
    clock = FakeClock()
    store = tus.MemoryStore(clock=clock)
    app = tornado.web.Application([(r"/", Untouched)])
    tus.init(app, secret=SECRET, store=store, store_check_period=PERIOD)
    return clock, store, app


def test_init_before_the_loop_runs_purges_on_the_loop_that_serves() -> None:
    clock, store, app = purging_app()
    manager: tus.SessionManager = app.settings["user_session"]

    async def main() -> None:
        await expired_sessions(store, clock, 3)
        await serve_one_request(app)
        assert await until(lambda: len(store) == 0)
        await manager.close()
        await expired_sessions(store, clock, 3)
        await asyncio.sleep(PERIOD * 5)
        assert len(store) == 3  # closed: no more purges

    asyncio.run(main())


def test_a_second_loop_gets_its_own_purge_timer() -> None:
    clock, store, app = purging_app()
    manager: tus.SessionManager = app.settings["user_session"]

    async def main() -> None:
        await expired_sessions(store, clock, 2)
        await serve_one_request(app)
        assert await until(lambda: len(store) == 0)

    asyncio.run(main())
    asyncio.run(main())
    asyncio.run(manager.close())


def test_a_store_that_expires_records_itself_gets_no_purge_timer() -> None:
    class SelfExpiring(tus.MemoryStore):
        needs_purge = False

    clock = FakeClock()
    store = SelfExpiring(clock=clock)
    app = tornado.web.Application([(r"/", Untouched)])
    tus.init(app, secret=SECRET, store=store, store_check_period=PERIOD)

    async def main() -> None:
        await expired_sessions(store, clock, 3)
        await serve_one_request(app)
        await asyncio.sleep(PERIOD * 5)
        assert len(store) == 3

    asyncio.run(main())


def test_purge_lets_the_loop_run_between_batches() -> None:
    clock = FakeClock()
    store = tus.MemoryStore(clock=clock)
    manager = tus.SessionManager(tus.Config(secret=SECRET, store=store))

    async def main() -> None:
        await expired_sessions(store, clock, 2500)
        seen: list[int] = []

        async def meanwhile() -> None:
            seen.append(len(store))

        other = asyncio.ensure_future(meanwhile())
        assert await manager.purge() == 2500
        await other
        assert seen == [1500]  # it ran after the first batch of 1000
        assert len(store) == 0

    asyncio.run(main())


def test_loading_a_bad_cookie_makes_no_store_call() -> None:
    store = CountingStore()
    manager = tus.SessionManager(tus.Config(secret=SECRET, store=store))

    async def main() -> None:
        for cookie in (None, "", "junk", "a" * 5000, "abc.def"):
            session = await manager.load(cookie)
            assert session.id is None
            assert dict(session) == {}
        assert store.calls == []

    asyncio.run(main())


def test_a_record_that_is_not_json_is_no_session_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = tus.MemoryStore()
    manager = tus.SessionManager(tus.Config(secret=SECRET, store=store))

    async def main() -> None:
        await store.create("sid", {"user": "{broken"}, 100)
        with caplog.at_level(logging.WARNING, "tornado_user_session"):
            session = await manager.load(manager.signer.sign("sid"))
        assert session.id is None
        assert "not valid JSON" in caplog.text

    asyncio.run(main())


def test_set_cookie_headers_are_made_once_per_session_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tornado_user_session.manager.COOKIE_HEADER_CACHE_SIZE", 2)
    manager = tus.SessionManager(tus.Config(secret=SECRET))
    s1, s2 = tus.Session("s1"), tus.Session("s2")
    first = manager.cookie_header(s1, https=False)
    assert manager.cookie_header(s1, https=False) is first
    assert manager.cookie_header(s1, https=True).endswith("; SameSite=Lax; Secure")
    manager.cookie_header(s2, https=False)
    assert len(manager._cookie_headers) == 2
    assert manager.cookie_header(s1, https=False) == first  # made again, the same
    assert manager.signer.unsign(first.split(";")[0].split("=", 1)[1]) == "s1"


def test_init_twice_on_one_application_is_refused() -> None:
    app = tornado.web.Application()
    first = tus.init(app, secret=SECRET)
    with pytest.raises(tus.ConfigError, match=r"init\(\) was already called"):
        tus.init(app, secret=SECRET)
    assert app.settings["user_session"] is first


def test_a_memory_store_served_from_two_live_loops_is_refused_clearly() -> None:
    _clock, _store, app = purging_app()
    manager: tus.SessionManager = app.settings["user_session"]
    first = asyncio.new_event_loop()
    second = asyncio.new_event_loop()

    async def ensure() -> None:
        manager.ensure_purging()

    try:
        first.run_until_complete(ensure())
        timer = manager.purger._timer
        with pytest.raises(tus.SessionError, match="one IOLoop"):
            second.run_until_complete(ensure())
        first.run_until_complete(ensure())
        assert manager.purger._timer is timer  # no new timer for the loop that has one
        first.run_until_complete(manager.close())
    finally:
        first.close()
    second.run_until_complete(ensure())  # the first loop is gone: the second may take over
    assert manager.purging
    second.run_until_complete(manager.close())
    second.close()
