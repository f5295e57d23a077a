"""Session lifetimes over real HTTP, on both stores: idle and absolute timeouts, set_expiry,
expire-at-browser-close, fresh login, and the bookkeeping that keeps them."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from collections.abc import Collection
from typing import Any

import pytest
import tornado.web
from tornado.testing import gen_test

import tornado_user_session as tus
from support import SECRET, RedisTimedCase, TimedCase, redis_commands, set_cookies
from tornado_user_session.bookkeeping import META_KEY
from tornado_user_session.stores.base import Record

NAME = "tornado-user-session"
DAY = 86400.0


class Sensitive(tus.UserSessionMixin, tornado.web.RequestHandler):
    """A page that needs a login from the last 10 minutes."""

    @tus.fresh_login_required
    def get(self) -> None:
        self.write({"ok": True})

    @tus.fresh_login_required
    def post(self) -> None:
        self.write({"ok": True})


class SensitiveWithin(tus.UserSessionMixin, tornado.web.RequestHandler):
    @tus.fresh_login_required(within=datetime.timedelta(minutes=5))
    async def get(self) -> None:
        self.write({"ok": True})


class LoggedInAt(tus.UserSessionMixin, tornado.web.RequestHandler):
    def get(self) -> None:
        at = self.authenticated_at
        self.write({"at": None if at is None else at.isoformat()})


class ClearAll(tus.UserSessionMixin, tornado.web.RequestHandler):
    def post(self) -> None:
        self.session.clear()
        self.session["n"] = 1
        self.write({"keys": list(self.session)})


class SwapUser(tus.UserSessionMixin, tornado.web.RequestHandler):
    """Replaces the session user by hand, without start_user_session()."""

    def post(self) -> None:
        del self.session["user"]
        self.session["user"] = {"_id": "not-logged-in", "name": "mallory"}
        self.write({"ok": True})


class Regenerate(tus.UserSessionMixin, tornado.web.RequestHandler):
    """A new session id for the same user, as after a change of privileges."""

    async def post(self) -> None:
        await self.session_manager.regenerate(self.session)
        self.write({"ok": True})


class GatedLogin(tus.UserSessionMixin, tornado.web.RequestHandler):
    """Chooses a browser-length cookie, waits for the test, then logs in."""

    gates: dict[str, asyncio.Event] = {}  # noqa: RUF012

    async def post(self, name: str) -> None:
        self.session.set_expiry(0)
        await self.gates[name].wait()
        await self.start_user_session(name=name)
        self.write({"ok": True})


HANDLERS = (
    (r"/swap-user", SwapUser),
    (r"/regenerate", Regenerate),
    (r"/gated-login/(\w+)", GatedLogin),
    (r"/sensitive", Sensitive),
    (r"/sensitive-5", SensitiveWithin),
    (r"/logged-in-at", LoggedInAt),
    (r"/clear-all", ClearAll),
)


class LifetimeCase(TimedCase):
    """The rules, run on the in-memory store; :class:`OnRedis` runs them again on Redis."""

    handlers = HANDLERS


class IdleRules:
    """idle_timeout: an unused session ends; every read counts as use."""

    options = {"idle_timeout": 60}  # noqa: RUF012

    @gen_test
    async def test_reads_extend_an_idle_session_and_idleness_ends_it(
        self: Any,
    ) -> None:
        browser = self.browser()
        await self.login(browser)
        for _ in range(3):
            await self.advance(50)
            response = await browser.fetch("/session")  # a read, no write
            assert json.loads(response.body)["session"]["user"]
            assert NAME not in set_cookies(response)  # reading re-sends no cookie
        await self.advance(61)
        assert not await self.logged_in(browser)

    @gen_test
    async def test_a_session_used_by_writes_lives_on(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        for _ in range(3):
            await self.advance(59)
            assert await self.logged_in(browser)  # the dashboard counts visits: a write


class AbsoluteRules:
    """absolute_timeout: nothing moves the end of a session past its login plus this."""

    options = {"absolute_timeout": 1000, "idle_timeout": 300, "rolling": True}  # noqa: RUF012

    @gen_test
    async def test_no_activity_passes_the_absolute_end(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        await browser.fetch("/expiry", "POST", f"seconds={30 * DAY}")  # remember me
        for elapsed in range(100, 1000, 100):
            await self.advance(100)
            response = await browser.fetch("/dashboard")  # read, write, rolling
            assert response.code == 200, elapsed
            max_age = int(set_cookies(response)[NAME]["max-age"])
            assert max_age <= 1000 - elapsed
            assert await self.store_ttl(browser) <= 1000 - elapsed + 0.01
            await browser.json("/session")  # an idle extension, by a read
        await self.advance(100)
        assert not await self.logged_in(browser)

    @gen_test
    async def test_a_new_login_starts_a_new_absolute_lifetime(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        for _ in range(9):
            await self.advance(100)
            assert await self.logged_in(browser)
        await self.login(browser)  # at 900 s: its own 1000 s start now
        for _ in range(9):
            await self.advance(100)
            assert await self.logged_in(browser)


class LegacyRules:
    """Sessions stored before the library kept bookkeeping."""

    options = {"absolute_timeout": 600}  # noqa: RUF012

    @gen_test
    async def test_a_session_stored_without_bookkeeping_gets_an_absolute_end_from_its_next_save(
        self: Any,
    ) -> None:
        await self.store.create("legacy", {"user": '{"_id":"u1"}'}, 3600)
        browser = self.browser()
        browser.cookies[NAME] = self.manager.signer.sign("legacy")
        assert (await browser.json("/expiry", "POST", "seconds=3600")) == {"expiry": 3600}
        await self.advance(601)
        assert (await browser.json("/session"))["session"] == {}


class RegenerationRules:
    options = {"absolute_timeout": 3600}  # noqa: RUF012

    @gen_test
    async def test_a_new_id_for_the_same_user_keeps_the_absolute_end(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        for _ in range(3):
            await self.advance(1000)
            assert (await browser.fetch("/regenerate", "POST")).code == 200
            assert await self.logged_in(browser)
        await self.advance(601)  # 3601 s after the login
        assert not await self.logged_in(browser)

    @gen_test
    async def test_two_logins_at_once_keep_the_lifetime_each_chose(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        GatedLogin.gates.update(a=asyncio.Event(), b=asyncio.Event())
        first = asyncio.ensure_future(browser.fetch("/gated-login/a", "POST"))
        second = asyncio.ensure_future(browser.fetch("/gated-login/b", "POST"))
        await asyncio.sleep(0.05)  # both have loaded the session
        GatedLogin.gates["a"].set()
        assert (await first).code == 200
        GatedLogin.gates["b"].set()
        response = await second  # its old record was gone: it kept only its own choice
        assert response.code == 200
        assert set_cookies(response)[NAME]["max-age"] == ""


class ExpiryRules:
    """set_expiry and expire_at_browser_close: a lifetime per session, kept with it."""

    options = {"expire_at_browser_close": True}  # noqa: RUF012

    @gen_test
    async def test_expire_at_browser_close_gives_a_cookie_without_max_age(self: Any) -> None:
        response = await self.browser().fetch("/user-session/start", "POST")
        cookie = set_cookies(response)[NAME]
        assert cookie.value
        assert cookie["max-age"] == ""
        assert cookie["expires"] == ""

    @gen_test
    async def test_set_expiry_is_kept_on_every_later_save(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        answer = await browser.json("/expiry", "POST", f"seconds={30 * DAY}")
        assert answer == {"expiry": 30 * DAY}
        for _ in range(2):
            response = await browser.fetch("/dashboard")  # a later save
            assert set_cookies(response)[NAME]["max-age"] == str(int(30 * DAY))
        await self.advance(3 * DAY)  # past max_age (48 h): the chosen lifetime holds
        assert await self.logged_in(browser)
        await browser.fetch("/expiry", "POST", "seconds=")  # back to the app's options
        response = await browser.fetch("/dashboard")
        assert set_cookies(response)[NAME]["max-age"] == ""

    @gen_test
    async def test_set_expiry_zero_ends_the_cookie_with_the_browser_but_not_the_server_bound(
        self: Any,
    ) -> None:
        browser = self.browser()
        await self.login(browser)
        await browser.fetch("/expiry", "POST", "seconds=0")
        response = await browser.fetch("/dashboard")
        assert set_cookies(response)[NAME]["max-age"] == ""
        await self.advance(2 * DAY + 1)  # the server still ends it after max_age
        assert not await self.logged_in(browser)

    @gen_test
    async def test_a_lifetime_chosen_before_login_survives_it(self: Any) -> None:
        browser = self.browser()
        await browser.json("/session", "POST", {"cart": [1]})
        await browser.fetch("/expiry", "POST", f"seconds={7 * DAY}")
        response = await browser.fetch("/user-session/start", "POST")
        assert set_cookies(response)[NAME]["max-age"] == str(int(7 * DAY))


class FreshRules:
    """fresh_login_required: a recent login for sensitive pages."""

    @gen_test
    async def test_a_fresh_login_passes_a_stale_one_is_sent_to_log_in_again(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        assert (await browser.fetch("/sensitive")).code == 200
        await self.advance(601)
        response = await browser.fetch("/sensitive?tab=2")
        assert response.code == 302
        assert response.headers["Location"] == "/login?next=%2Fsensitive%3Ftab%3D2"
        assert (await browser.fetch("/sensitive", "POST")).code == 403
        await self.login(browser)  # logging in again makes it fresh
        assert (await browser.fetch("/sensitive")).code == 200
        assert (await browser.fetch("/sensitive", "POST")).code == 200

    @gen_test
    async def test_the_window_can_be_chosen(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        await self.advance(299)
        assert (await browser.fetch("/sensitive-5")).code == 200
        await self.advance(2)
        assert (await browser.fetch("/sensitive-5")).code == 302

    @gen_test
    async def test_an_anonymous_visitor_is_treated_as_authenticated_does(self: Any) -> None:
        response = await self.browser().fetch("/sensitive")
        assert response.code == 302
        assert response.headers["Location"] == "/login?next=%2Fsensitive"
        assert (await self.browser().fetch("/sensitive", "POST")).code == 403

    @gen_test
    async def test_a_user_put_on_the_session_by_hand_is_not_a_fresh_login(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        await browser.json("/swap-user", "POST")
        assert await browser.json("/logged-in-at") == {"at": None}
        assert (await browser.fetch("/sensitive")).code == 302

    @gen_test
    async def test_authenticated_at_is_the_login_time_in_utc(self: Any) -> None:
        browser = self.browser()
        assert await browser.json("/logged-in-at") == {"at": None}
        await self.login(browser)
        at = datetime.datetime.fromtimestamp(self.clock(), datetime.UTC)
        await self.advance(30)
        assert await browser.json("/logged-in-at") == {"at": at.isoformat()}


class BookkeepingRules:
    @gen_test
    async def test_the_bookkeeping_is_not_a_key_and_clear_cannot_touch_it(self: Any) -> None:
        browser = self.browser()
        await self.login(browser)
        await browser.fetch("/expiry", "POST", f"seconds={DAY}")
        assert "user" in (await browser.json("/session"))["session"]
        assert await browser.json("/clear-all", "POST") == {"keys": ["n"]}
        assert (await browser.json("/session"))["session"] == {"n": 1}
        response = await browser.fetch("/session", "POST", {"m": 2})
        assert set_cookies(response)[NAME]["max-age"] == str(int(DAY))  # the choice stayed


class TestIdleOnMemory(IdleRules, LifetimeCase):
    @gen_test
    async def test_a_read_is_one_store_call(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.store.calls.clear()
        await browser.json("/session")
        assert self.store.calls == ["load"]


class TestAbsoluteOnMemory(AbsoluteRules, LifetimeCase):
    pass


class TestExpiryOnMemory(ExpiryRules, LifetimeCase):
    pass


class TestLegacyOnMemory(LegacyRules, LifetimeCase):
    pass


class TestRegenerationOnMemory(RegenerationRules, LifetimeCase):
    pass


class TestFreshOnMemory(FreshRules, LifetimeCase):
    pass


class TestBookkeepingOnMemory(BookkeepingRules, LifetimeCase):
    pass


class TestFreshLoginSettings(LifetimeCase):
    settings = {"fresh_login_url": "/confirm", "fresh_login_within": 120}  # noqa: RUF012

    @gen_test
    async def test_a_stale_login_goes_to_the_fresh_login_url_after_the_apps_window(
        self,
    ) -> None:
        browser = self.browser()
        await self.login(browser)
        await self.advance(121)
        assert (await browser.fetch("/sensitive-5")).code == 200  # its own window: 5 minutes
        response = await browser.fetch("/sensitive")
        assert response.headers["Location"] == "/confirm?next=%2Fsensitive"
        assert (await self.browser().fetch("/sensitive")).headers["Location"].startswith("/login?")


class OnRedis(RedisTimedCase, LifetimeCase):
    pass


class TestIdleOnRedis(IdleRules, OnRedis):
    @gen_test
    async def test_a_read_is_one_round_trip(self) -> None:
        browser = self.browser()
        await self.login(browser)
        await browser.json("/session")  # the first read loads the script into Redis
        calls = await redis_commands(self.store.client, browser.json("/session"))
        # One EVALSHA, whose script reads and extends; and the INFO that asked.
        assert calls == {"evalsha": 1, "info": 1, "hgetall": 1, "time": 1, "pexpireat": 1}


class TestIdleOnRedisCluster(IdleRules, OnRedis):
    cluster = True


class TestAbsoluteOnRedis(AbsoluteRules, OnRedis):
    pass


class TestExpiryOnRedis(ExpiryRules, OnRedis):
    pass


class TestLegacyOnRedis(LegacyRules, OnRedis):
    pass


class TestRegenerationOnRedis(RegenerationRules, OnRedis):
    pass


class TestFreshOnRedis(FreshRules, OnRedis):
    pass


class TestBookkeepingOnRedis(BookkeepingRules, OnRedis):
    @gen_test
    async def test_the_bookkeeping_is_stored_beside_the_keys(self) -> None:
        browser = self.browser()
        await self.login(browser)
        record = await self.store.load(str(self.session_id(browser)))
        assert record is not None
        assert json.loads(record[META_KEY])[1] == self.clock()


class OldStore(tus.Store):
    """A store written for 0.1: no idle_ttl anywhere."""

    async def load(self, session_id: str) -> dict[str, str] | None:  # type: ignore[override]
        return None

    async def create(self, session_id: str, record: Record, ttl: float) -> None:  # type: ignore[override]
        pass

    async def update(  # type: ignore[override]
        self, session_id: str, changed: Record, removed: Collection[str], ttl: float
    ) -> bool:
        return False

    async def delete(self, session_id: str) -> bool:
        return False


def test_a_store_written_for_0_1_is_refused_only_for_what_it_cannot_do() -> None:
    app = tornado.web.Application()
    with pytest.raises(tus.ConfigError, match="idle_timeout: OldStore cannot extend"):
        tus.init(app, secret=SECRET, store=OldStore(), idle_timeout=60, user_id_key=None)
    with pytest.raises(tus.ConfigError, match="user_id_key: OldStore keeps no index"):
        tus.init(app, secret=SECRET, store=OldStore())
    tus.init(app, secret=SECRET, store=OldStore(), absolute_timeout=60, user_id_key=None)


def test_an_idle_timeout_as_long_as_the_absolute_one_is_refused() -> None:
    with pytest.raises(tus.ConfigError, match="idle_timeout: must be shorter"):
        tus.init(tornado.web.Application(), secret=SECRET, idle_timeout=60, absolute_timeout=60)


def test_session_keys_beginning_with_nul_are_the_librarys() -> None:
    session = tus.Session()
    with pytest.raises(ValueError, match="the library's"):
        session[META_KEY] = "x"
    with pytest.raises(ValueError, match="400 days"):
        session.set_expiry(401 * DAY)
    with pytest.raises(ValueError, match="400 days"):
        session.set_expiry(-1)
    session.set_expiry(datetime.timedelta(days=1))
    assert session.expiry == DAY
    assert dict(session) == {}


def test_bookkeeping_that_is_not_ours_is_no_session(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    store = tus.MemoryStore()
    manager = tus.SessionManager(tus.Config(secret=SECRET, store=store))

    async def main() -> None:
        await store.create("sid", {META_KEY: '"junk"', "user": "{}"}, 100)
        with caplog.at_level(logging.WARNING, "tornado_user_session"):
            session = await manager.load(manager.signer.sign("sid"))
        assert session.id is None

    asyncio.run(main())
