"""The mixin, over real HTTP: cookies, lazy loading, saving, expiry, concurrency, failures."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
import tornado.web
from tornado.testing import gen_test

import tornado_user_session as tus
from support import SECRET, DownStore, SessionTestCase, SlowStore, set_cookies

NAME = "tornado-user-session"


class TestCookie(SessionTestCase):
    @gen_test
    async def test_login_sets_a_signed_httponly_lax_cookie_for_48_hours(self) -> None:
        browser = self.browser()
        response = await browser.fetch("/user-session/start", "POST")
        cookie = set_cookies(response)[NAME]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"
        assert cookie["max-age"] == str(48 * 3600)
        assert not cookie["secure"]
        session_id = self.manager.signer.unsign(cookie.value)
        assert session_id is not None
        assert len(session_id) >= 22  # at least 128 bits in URL-safe base64
        assert cookie.value != session_id

    @gen_test
    async def test_each_session_gets_a_different_id(self) -> None:
        ids = set()
        for _ in range(5):
            browser = self.browser()
            await self.login(browser)
            ids.add(self.session_id(browser))
        assert len(ids) == 5

    @gen_test
    async def test_bad_cookies_mean_no_session_never_a_500(self) -> None:
        browser = self.browser()
        await self.login(browser)
        good = browser.cookies[NAME]
        session_id = self.session_id(browser)
        bad_values = [
            session_id,  # unsigned
            # A changed signature (not its last character: base64 ignores its low bits).
            good[:-10] + ("A" if good[-10] != "A" else "B") + good[-9:],
            "x" + good[1:],  # tampered id
            "garbage",
            "...",
            "%00%ff",
            good + "A" * 5000,  # oversized
            tus.SessionManager(tus.Config(secret="other" * 8)).signer.sign(str(session_id)),
        ]
        for value in bad_values:
            other = self.browser()
            other.cookies[NAME] = str(value)
            response = await other.fetch("/dashboard")
            assert response.code == 302, value
            response = await other.fetch("/session")
            assert response.code == 200
            assert json.loads(response.body) == {"id": None, "session": {}}

    @gen_test
    async def test_a_signed_id_the_store_does_not_know_is_not_adopted(self) -> None:
        browser = self.browser()
        browser.cookies[NAME] = self.manager.signer.sign("attacker-chosen-id")
        await browser.json("/session", "POST", {"cart": [1]})
        assert self.session_id(browser) != "attacker-chosen-id"
        assert await self.store.load("attacker-chosen-id") is None

    @gen_test
    async def test_secure_auto_follows_the_request_scheme(self) -> None:
        browser = self.browser()
        response = await browser.fetch("/user-session/start", "POST")
        assert not set_cookies(response)[NAME]["secure"]


class TestSecureBehindProxy(SessionTestCase):
    def get_httpserver_options(self) -> dict[str, Any]:
        return {"xheaders": True}

    @gen_test
    async def test_secure_auto_trusts_x_forwarded_proto_with_xheaders(self) -> None:
        https = await self.browser().fetch(
            "/user-session/start", "POST", headers={"X-Forwarded-Proto": "https"}
        )
        assert set_cookies(https)[NAME]["secure"] is True
        http = await self.browser().fetch(
            "/user-session/start", "POST", headers={"X-Forwarded-Proto": "http"}
        )
        assert not set_cookies(http)[NAME]["secure"]


class TestSecureWithoutXheaders(SessionTestCase):
    @gen_test
    async def test_x_forwarded_proto_is_ignored_without_xheaders(self) -> None:
        response = await self.browser().fetch(
            "/user-session/start", "POST", headers={"X-Forwarded-Proto": "https"}
        )
        assert not set_cookies(response)[NAME]["secure"]


class TestSecureAlways(SessionTestCase):
    options = {"secure": True, "name": "sid", "path": "/app", "domain": "example.test"}  # noqa: RUF012

    @gen_test
    async def test_secure_true_and_the_cookie_attributes_are_used_as_given(self) -> None:
        response = await self.browser().fetch("/user-session/start", "POST")
        cookie = set_cookies(response)["sid"]
        assert cookie["secure"] is True
        assert cookie["path"] == "/app"
        assert cookie["domain"] == "example.test"


class TestLazy(SessionTestCase):
    @gen_test
    async def test_a_request_without_cookie_calls_no_store_and_sets_no_cookie(self) -> None:
        browser = self.browser()
        for path in ("/untouched", "/session", "/dashboard"):
            response = await browser.fetch(path)
            assert "Set-Cookie" not in response.headers
        assert self.store.calls == []
        assert len(self.store) == 0

    @gen_test
    async def test_a_flood_of_cookieless_requests_stores_nothing(self) -> None:
        await asyncio.gather(*(self.browser().fetch("/session") for _ in range(50)))
        assert len(self.store) == 0

    @gen_test
    async def test_reading_the_session_is_one_store_read_and_no_write(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.store.calls.clear()
        response = await browser.fetch("/session")
        assert self.store.calls == ["load"]
        assert "Set-Cookie" not in response.headers

    @gen_test
    async def test_a_change_is_one_read_and_one_write_with_a_fresh_cookie(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.store.calls.clear()
        response = await browser.fetch("/session", "POST", {"theme": "dark"})
        assert self.store.calls == ["load", "update"]
        assert set_cookies(response)[NAME]["max-age"] == str(48 * 3600)

    @gen_test
    async def test_an_anonymous_write_starts_a_session(self) -> None:
        browser = self.browser()
        await browser.json("/session", "POST", {"cart": ["apple"]})
        assert NAME in browser.cookies
        answer = await browser.json("/session")
        assert answer["session"] == {"cart": ["apple"]}
        assert answer["id"] == self.session_id(browser)


class TestSaving(SessionTestCase):
    @gen_test
    async def test_the_quick_start_dashboard_counts_visits(self) -> None:
        browser = self.browser()
        user = await self.login(browser)
        assert user["_id"]
        for visits in (1, 2, 3):
            assert await browser.json("/dashboard") == {"visits": visits}

    @gen_test
    async def test_nested_changes_are_saved(self) -> None:
        browser = self.browser()
        await browser.json("/session", "POST", {"user": {"cart": []}})
        await browser.json("/cart?item=apple", "POST")
        await browser.json("/cart?item=pear", "POST")
        answer = await browser.json("/session")
        assert answer["session"]["user"]["cart"] == ["apple", "pear"]

    @gen_test
    async def test_removing_a_key_is_saved(self) -> None:
        browser = self.browser()
        await browser.json("/session", "POST", {"a": 1, "b": 2})
        await browser.json("/session?key=a", "DELETE")
        assert (await browser.json("/session"))["session"] == {"b": 2}

    @gen_test
    async def test_an_untouched_session_is_never_rewritten(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.store.calls.clear()
        for path in ("/session", "/untouched", "/session"):
            await browser.fetch(path)
        assert "update" not in self.store.calls
        assert "create" not in self.store.calls

    @gen_test
    async def test_a_5xx_response_saves_nothing(self) -> None:
        browser = self.browser()
        await browser.json("/session", "POST", {"n": 1})
        response = await browser.fetch("/explode", "POST")
        assert response.code == 500
        assert (await browser.json("/session"))["session"] == {"n": 1}

    @gen_test
    async def test_a_value_json_cannot_hold_is_a_500_naming_the_key_and_loses_nothing(
        self,
    ) -> None:
        browser = self.browser()
        await browser.json("/session", "POST", {"user": {"cart": [1]}})
        with self.assertLogs("tornado.application", logging.ERROR) as logs:
            response = await browser.fetch("/unstorable", "POST")
        assert response.code == 500
        assert "'user.cart'" in "\n".join(logs.output)
        assert (await browser.json("/session"))["session"] == {"user": {"cart": [1]}}
        assert (await browser.fetch("/untouched")).code == 200

    @gen_test
    async def test_save_session_stores_before_the_response_finishes(self) -> None:
        browser = self.browser()
        response = await browser.fetch("/stream")
        assert response.code == 200
        assert NAME in browser.cookies
        assert (await browser.json("/session"))["session"] == {"streamed": True}


class Cart(tus.UserSessionMixin, tornado.web.RequestHandler):
    def post(self) -> None:
        self.session["user"]["cart"].append(self.get_argument("item"))
        self.write({"ok": True})


class Explode(tus.UserSessionMixin, tornado.web.RequestHandler):
    def post(self) -> None:
        self.session["n"] = 2
        raise RuntimeError("handler bug")


class Unstorable(tus.UserSessionMixin, tornado.web.RequestHandler):
    def post(self) -> None:
        self.session["user"]["cart"] = {1, 2}
        self.write({"ok": True})


class Stream(tus.UserSessionMixin, tornado.web.RequestHandler):
    async def get(self) -> None:
        self.session["streamed"] = True
        await self.save_session()
        self.write("part one ")
        await self.flush()
        self.write("part two")


TestSaving.handlers = (
    (r"/cart", Cart),
    (r"/explode", Explode),
    (r"/unstorable", Unstorable),
    (r"/stream", Stream),
)


class TestResave(SessionTestCase):
    options = {"resave": True}  # noqa: RUF012

    @gen_test
    async def test_resave_writes_the_session_even_when_unchanged(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.store.calls.clear()
        response = await browser.fetch("/session")
        assert self.store.calls == ["load", "update"]
        assert NAME in set_cookies(response)


class TestSaveUninitialized(SessionTestCase):
    options = {"save_uninitialized": True}  # noqa: RUF012

    @gen_test
    async def test_every_visitor_gets_a_stored_session_and_a_cookie(self) -> None:
        browser = self.browser()
        response = await browser.fetch("/untouched")
        assert NAME in set_cookies(response)
        assert len(self.store) == 1
        self.store.calls.clear()
        await browser.fetch("/untouched")
        assert self.store.calls == ["load"]


class TestExpiry(SessionTestCase):
    options = {"max_age": 100}  # noqa: RUF012

    @gen_test
    async def test_an_expired_session_is_not_served_before_the_purge(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.clock.advance(100)
        assert len(self.store) == 1
        assert (await browser.fetch("/dashboard")).code == 302

    @gen_test
    async def test_a_session_lives_max_age_after_its_last_write_reads_extend_nothing(
        self,
    ) -> None:
        browser = self.browser()
        await self.login(browser)
        self.clock.advance(60)
        await browser.json("/session")  # a read
        self.clock.advance(39)
        await browser.json("/dashboard")  # a write, at 99 s
        self.clock.advance(99)
        assert (await browser.json("/session"))["session"]["user"]["visits"] == 1
        self.clock.advance(1)
        assert (await browser.fetch("/dashboard")).code == 302


class TestRolling(SessionTestCase):
    options = {"max_age": 100, "rolling": True}  # noqa: RUF012

    @gen_test
    async def test_rolling_extends_the_session_and_cookie_on_every_response(self) -> None:
        browser = self.browser()
        await self.login(browser)
        for _ in range(3):
            self.clock.advance(90)
            response = await browser.fetch("/session")
            assert response.code == 200
            assert set_cookies(response)[NAME]["max-age"] == "100"
        assert (await browser.json("/session"))["session"]["user"]


class TestLoginLogout(SessionTestCase):
    @gen_test
    async def test_login_gives_a_new_id_deletes_the_old_one_and_keeps_other_keys(self) -> None:
        browser = self.browser()
        await browser.json("/session", "POST", {"cart": ["apple"]})
        before = self.session_id(browser)
        assert before is not None
        await self.login(browser)
        after = self.session_id(browser)
        assert after != before
        assert await self.store.load(before) is None
        session = (await browser.json("/session"))["session"]
        assert session["cart"] == ["apple"]
        assert set(session["user"]) == {"_id"}

    @gen_test
    async def test_a_fixed_id_is_worthless_after_the_victims_login(self) -> None:
        attacker = self.browser()
        await attacker.json("/session", "POST", {"x": 1})
        victim = self.browser()
        victim.cookies = dict(attacker.cookies)  # planted cookie
        await self.login(victim)
        assert (await attacker.fetch("/dashboard")).code == 302
        assert (await victim.fetch("/dashboard")).code == 200

    @gen_test
    async def test_current_user_is_the_new_user_in_the_login_request(self) -> None:
        answer = await self.browser().json("/login-and-show", "POST")
        assert answer["current_user"]["name"] == "ada"
        assert answer["current_user"] == answer["returned"]

    @gen_test
    async def test_a_field_named_id_is_refused(self) -> None:
        browser = self.browser()
        with self.assertLogs("tornado.application", logging.ERROR) as logs:
            response = await browser.fetch("/login-with-id", "POST")
        assert response.code == 500
        assert "_id" in "\n".join(logs.output)
        assert NAME not in browser.cookies

    @gen_test
    async def test_logout_deletes_the_record_and_clears_the_cookie_as_it_was_set(self) -> None:
        browser = self.browser()
        await self.login(browser)
        session_id = self.session_id(browser)
        assert session_id is not None
        response = await browser.fetch("/user-session/destroy", "POST")
        assert json.loads(response.body) == {"ok": True}
        cleared = set_cookies(response)[NAME]
        assert cleared.value == ""
        assert cleared["path"] == "/"
        assert cleared["httponly"] is True
        assert cleared["samesite"] == "Lax"
        assert email.utils.parsedate_to_datetime(cleared["expires"]) < datetime.now(UTC)
        assert await self.store.load(session_id) is None
        assert (await browser.fetch("/dashboard")).code == 302

    @gen_test
    async def test_a_logout_then_a_login_in_one_response_leaves_the_new_session(self) -> None:
        browser = self.browser()
        await self.login(browser, name="ada")
        old = self.session_id(browser)
        response = await browser.fetch("/switch-user", "POST")
        headers = response.headers.get_list("Set-Cookie")
        assert [h.startswith(f'{NAME}="";') for h in headers] == [True, False]  # clear, then set
        assert self.session_id(browser) not in (None, old)
        assert (await browser.json("/session"))["session"]["user"]["name"] == "grace"

    @gen_test
    async def test_the_login_redirect_of_authenticated_keeps_next(self) -> None:
        response = await self.browser().fetch("/dashboard?tab=1")
        assert response.code == 302
        assert response.headers["Location"] == "/login?next=%2Fdashboard%3Ftab%3D1"


class SwitchUser(tus.UserSessionMixin, tornado.web.RequestHandler):
    async def post(self) -> None:
        await self.destroy_user_session()
        await self.start_user_session(name="grace")
        self.write({"ok": True})


class LoginAndShow(tus.UserSessionMixin, tornado.web.RequestHandler):
    async def post(self) -> None:
        returned = await self.start_user_session(name="ada")
        self.write({"current_user": self.current_user, "returned": returned})


class LoginWithId(tus.UserSessionMixin, tornado.web.RequestHandler):
    async def post(self) -> None:
        await self.start_user_session(_id="chosen")


TestLoginLogout.handlers = (
    (r"/login-and-show", LoginAndShow),
    (r"/login-with-id", LoginWithId),
    (r"/switch-user", SwitchUser),
)


class Gate(tus.UserSessionMixin, tornado.web.RequestHandler):
    """Sets a key on the session, but only once the test opens the gate."""

    gates: dict[str, asyncio.Event] = {}  # noqa: RUF012
    entered: dict[str, asyncio.Event] = {}  # noqa: RUF012

    async def post(self, name: str) -> None:
        self.entered[name].set()
        await self.gates[name].wait()
        self.session[name] = True
        self.write({"ok": True})


class TestConcurrency(SessionTestCase):
    handlers = ((r"/gate/(\w+)", Gate),)

    def gate(self, name: str) -> asyncio.Event:
        Gate.gates[name] = asyncio.Event()
        Gate.entered[name] = asyncio.Event()
        return Gate.gates[name]

    @gen_test
    async def test_overlapping_requests_changing_different_keys_both_keep_their_change(
        self,
    ) -> None:
        browser = self.browser()
        await self.login(browser)
        a, b = self.gate("a"), self.gate("b")
        first = asyncio.ensure_future(browser.fetch("/gate/a", "POST"))
        second = asyncio.ensure_future(browser.fetch("/gate/b", "POST"))
        await Gate.entered["a"].wait()
        await Gate.entered["b"].wait()  # both have loaded the session
        b.set()
        assert (await second).code == 200
        a.set()
        assert (await first).code == 200
        session = (await browser.json("/session"))["session"]
        assert session["a"] is True
        assert session["b"] is True
        assert "user" in session

    @gen_test
    async def test_no_request_in_flight_can_bring_back_a_destroyed_session(self) -> None:
        browser = self.browser()
        await self.login(browser)
        session_id = self.session_id(browser)
        assert session_id is not None
        slow_gate = self.gate("slow")
        slow = asyncio.ensure_future(browser.fetch("/gate/slow", "POST"))
        await Gate.entered["slow"].wait()
        await browser.fetch("/user-session/destroy", "POST")
        slow_gate.set()
        response = await slow
        assert response.code == 200
        assert NAME not in set_cookies(response)
        assert await self.store.load(session_id) is None
        assert len(self.store) == 0


class TestReadYourWrites(SessionTestCase):
    def make_store(self) -> tus.MemoryStore:
        return SlowStore(clock=self.clock)

    @gen_test
    async def test_a_slow_store_has_the_change_before_the_response_arrives(self) -> None:
        browser = self.browser()
        for n in range(3):
            await browser.json("/session", "POST", {"n": n})
            assert (await browser.json("/session"))["session"] == {"n": n}


class TestStoreDown(SessionTestCase):
    def make_store(self) -> tus.MemoryStore:
        self.down = DownStore(clock=self.clock)
        return self.down

    @gen_test
    async def test_a_store_that_is_down_gives_503_and_the_server_keeps_serving(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.down.down = True
        with self.assertLogs("tornado_user_session", logging.WARNING):
            for path, method in (("/session", "GET"), ("/user-session/destroy", "POST")):
                response = await browser.fetch(path, method)
                assert response.code == 503
                assert b"Traceback" not in response.body
        assert (await self.browser().fetch("/untouched")).code == 200
        assert (await self.browser().fetch("/user-session/start", "POST")).code == 503
        self.down.down = False
        assert (await browser.json("/session"))["session"]["user"]

    @gen_test
    async def test_a_failed_save_is_a_503(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.down.down = True
        with self.assertLogs("tornado_user_session", logging.WARNING):
            response = await self.browser().fetch("/session", "POST", {"a": 1})
        assert response.code == 503


class ForgetsSuper(tus.UserSessionMixin, tornado.web.RequestHandler):
    def prepare(self) -> None:  # type: ignore[override]
        pass

    def get(self) -> None:
        self.write({"user": self.session.get("user")})


class TestPrepareOverride(SessionTestCase):
    handlers = ((r"/forgets", ForgetsSuper),)

    @gen_test
    async def test_a_prepare_without_super_fails_with_a_message_that_says_so(self) -> None:
        with self.assertLogs("tornado.application", logging.ERROR) as logs:
            response = await self.browser().fetch("/forgets")
        assert response.code == 500
        assert "await super().prepare()" in "\n".join(logs.output)


def test_a_handler_in_an_app_without_init_says_to_call_init() -> None:
    app = tornado.web.Application()
    handler = tus.StartHandler.__new__(tus.StartHandler)
    handler.application = app
    with pytest.raises(RuntimeError, match=r"tus\.init\(app\)"):
        _ = handler.session_manager


PLANTED_XSRF = "2|abcd1234|" + "0" * 40 + "|1"


class TestXsrfRotation(SessionTestCase):
    settings = {"xsrf_cookies": True}  # noqa: RUF012

    @gen_test
    async def test_login_and_logout_replace_a_planted_xsrf_token(self) -> None:
        browser = self.browser()
        browser.cookies["_xsrf"] = PLANTED_XSRF  # tossed in from a sibling subdomain
        response = await browser.fetch("/user-session/start", "POST", f"_xsrf={PLANTED_XSRF}")
        assert response.code == 200
        after_login = browser.cookies["_xsrf"]
        assert after_login != PLANTED_XSRF
        assert set_cookies(response)["_xsrf"]["path"] == "/"
        # The planted token no longer passes for the logged-in visitor; the new one does.
        for token, code in ((PLANTED_XSRF, 403), (after_login, 200)):
            response = await browser.fetch(
                "/session", "POST", {"a": 1}, headers={"X-Xsrftoken": token}
            )
            assert response.code == code
        response = await browser.fetch(
            "/user-session/destroy", "POST", headers={"X-Xsrftoken": after_login}
        )
        assert response.code == 200
        assert browser.cookies["_xsrf"] not in (after_login, PLANTED_XSRF)


class OwnCacheControl(tus.UserSessionMixin, tornado.web.RequestHandler):
    def post(self) -> None:
        self.set_header("Cache-Control", "private, max-age=60")
        self.session["n"] = 1
        self.write("ok")


class TestCacheHeaders(SessionTestCase):
    handlers = ((r"/own-cache-control", OwnCacheControl),)

    @gen_test
    async def test_responses_that_set_or_clear_the_cookie_are_private_and_not_stored(
        self,
    ) -> None:
        browser = self.browser()
        for path in ("/user-session/start", "/user-session/destroy"):
            response = await browser.fetch(path, "POST")
            assert NAME in set_cookies(response)
            assert response.headers["Cache-Control"] == "private, no-store"

    @gen_test
    async def test_a_response_that_read_the_session_varies_on_cookie(self) -> None:
        browser = self.browser()
        await self.login(browser)
        for path in ("/session", "/dashboard"):
            response = await browser.fetch(path)
            assert "Cookie" in response.headers.get_list("Vary"), path
        anonymous = await self.browser().fetch("/session")
        assert "Cookie" in anonymous.headers.get_list("Vary")

    @gen_test
    async def test_a_response_that_never_touched_the_session_gets_neither(self) -> None:
        browser = self.browser()
        await self.login(browser)
        response = await browser.fetch("/untouched")
        assert "Vary" not in response.headers
        assert "Cache-Control" not in response.headers

    @gen_test
    async def test_a_handlers_own_cache_control_is_kept(self) -> None:
        response = await self.browser().fetch("/own-cache-control", "POST")
        assert NAME in set_cookies(response)
        assert response.headers["Cache-Control"] == "private, max-age=60"
        assert "Cookie" in response.headers.get_list("Vary")


class TestCacheHeadersOff(SessionTestCase):
    options = {"cache_headers": False}  # noqa: RUF012

    @gen_test
    async def test_the_cache_headers_can_be_turned_off(self) -> None:
        browser = self.browser()
        response = await browser.fetch("/user-session/start", "POST")
        assert "Cache-Control" not in response.headers
        response = await browser.fetch("/session")
        assert "Vary" not in response.headers


class GatedLogin(tus.UserSessionMixin, tornado.web.RequestHandler):
    async def post(self) -> None:
        Gate.entered["login"].set()
        await Gate.gates["login"].wait()
        await self.start_user_session(name="late")
        self.write({"ok": True})


class CleanLogin(tus.UserSessionMixin, tornado.web.RequestHandler):
    async def post(self) -> None:
        self.session.clear()  # the documented way to leave the anonymous keys behind
        await self.start_user_session(name="ada")
        self.write({"ok": True})


class TestLoginRaces(SessionTestCase):
    handlers = ((r"/gated-login", GatedLogin), (r"/clean-login", CleanLogin))

    @gen_test
    async def test_a_login_racing_a_logout_does_not_bring_back_the_logged_out_data(
        self,
    ) -> None:
        browser = self.browser()
        await self.login(browser)
        await browser.json("/session", "POST", {"secret": "before logout"})
        Gate.gates["login"] = asyncio.Event()
        Gate.entered["login"] = asyncio.Event()
        slow = asyncio.ensure_future(browser.fetch("/gated-login", "POST"))
        await Gate.entered["login"].wait()  # it has loaded the session with the secret
        await self.browser_with(browser.cookies).fetch("/user-session/destroy", "POST")
        Gate.gates["login"].set()
        response = await slow
        assert response.code == 200
        session = (await browser.json("/session"))["session"]
        assert session["user"]["name"] == "late"
        assert "secret" not in session

    @gen_test
    async def test_clearing_the_session_before_login_leaves_planted_keys_behind(self) -> None:
        attacker = self.browser()
        await attacker.json("/session", "POST", {"shipping_address": "attacker's"})
        victim = self.browser_with(attacker.cookies)  # planted cookie
        await victim.json("/clean-login", "POST")
        session = (await victim.json("/session"))["session"]
        assert set(session) == {"user"}

    def browser_with(self, cookies: dict[str, str]) -> Any:
        other = self.browser()
        other.cookies = dict(cookies)
        return other


class TestCookieShape(SessionTestCase):
    @gen_test
    async def test_only_the_exact_cookie_text_is_accepted(self) -> None:
        browser = self.browser()
        await self.login(browser)
        good = browser.cookies[NAME]
        assert (await browser.fetch("/dashboard")).code == 200
        for header in (f'{NAME}="{good}"', f"{NAME}={good}=", f"{NAME}={good[:50]}!{good[50:]}"):
            response = await self.browser().fetch("/dashboard", headers={"Cookie": header})
            assert response.code == 302, header

    @gen_test
    async def test_two_apps_sharing_a_secret_and_store_do_not_accept_each_others_cookies(
        self,
    ) -> None:
        browser = self.browser()
        await self.login(browser)
        other = tus.SessionManager(tus.Config(name="other-app", secret=SECRET, store=self.store))
        session = await other.load(browser.cookies[NAME])
        assert session.id is None
        assert dict(session) == {}


class TestMaxSessionBytes(SessionTestCase):
    options = {"max_session_bytes": 1000}  # noqa: RUF012

    @gen_test
    async def test_a_session_over_the_limit_is_refused_naming_the_limit_and_loses_nothing(
        self,
    ) -> None:
        browser = self.browser()
        await self.login(browser, name="ada")
        before = (await browser.json("/session"))["session"]
        with self.assertLogs("tornado.application", logging.ERROR) as logs:
            response = await browser.fetch("/session", "POST", {"big": "x" * 2000})
        assert response.code == 500
        assert "max_session_bytes" in "\n".join(logs.output)
        assert "1000" in "\n".join(logs.output)
        assert (await browser.json("/session"))["session"] == before
        assert (await browser.fetch("/session", "POST", {"small": "x" * 100})).code == 200


def test_the_mixin_after_request_handler_is_a_type_error_at_class_creation() -> None:
    with pytest.raises(TypeError, match=r"put UserSessionMixin first"):

        class Wrong(tornado.web.RequestHandler, tus.UserSessionMixin):  # type: ignore[misc]
            pass


class TestAnonymousFlood(SessionTestCase):
    def make_store(self) -> tus.MemoryStore:
        return tus.MemoryStore(max_sessions=1000, clock=self.clock)

    @gen_test(timeout=60)
    async def test_a_flood_of_anonymous_sessions_leaves_a_logged_in_user_logged_in(
        self,
    ) -> None:
        user = self.browser()
        await self.login(user, name="ada")
        with self.assertNoLogs("tornado_user_session", logging.WARNING):
            for _ in range(50):
                responses = await asyncio.gather(
                    *(self.browser().fetch("/session", "POST", {"cart": [1]}) for _ in range(100))
                )
                assert {response.code for response in responses} == {200}
        assert len(self.store) <= 1000
        assert (await user.fetch("/dashboard")).code == 200


class PublicCacheControl(tus.UserSessionMixin, tornado.web.RequestHandler):
    def post(self) -> None:
        self.set_header("Cache-Control", "public, max-age=600")
        self.set_header("Vary", "X-Cookie-Consent")
        self.session["n"] = 1
        self.write("ok")


class TestCacheHeadersAgainstSharedCaching(SessionTestCase):
    handlers = ((r"/public", PublicCacheControl),)

    @gen_test
    async def test_a_shared_cacheable_response_never_carries_the_session_cookie(self) -> None:
        with self.assertLogs("tornado_user_session", logging.WARNING) as logs:
            response = await self.browser().fetch("/public", "POST")
        assert NAME in set_cookies(response)
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "PublicCacheControl" in "\n".join(logs.output)
        assert response.headers["Vary"] == "X-Cookie-Consent, Cookie"


class TestCookieDecoys(SessionTestCase):
    @gen_test
    async def test_a_quoted_value_is_refused_even_beside_a_decoy_of_its_exact_text(self) -> None:
        browser = self.browser()
        await self.login(browser)
        good = browser.cookies[NAME]
        for header in (
            f'x{NAME}={good}; {NAME}="{good}"',
            f'other="a; {NAME}={good}"; {NAME}="{good}"',
        ):
            response = await self.browser().fetch("/dashboard", headers={"Cookie": header})
            assert response.code == 302, header
        response = await self.browser().fetch(
            "/dashboard", headers={"Cookie": f"a=1;  {NAME}={good} ; b=2"}
        )
        assert response.code == 200


class TestTextThatIsNotUnicode(SessionTestCase):
    @gen_test
    async def test_a_lone_surrogate_is_refused_naming_its_key(self) -> None:
        browser = self.browser()
        await browser.json("/session", "POST", {"kept": 1})
        with self.assertLogs("tornado.application", logging.ERROR) as logs:
            response = await browser.fetch("/session", "POST", '{"bad": "\\ud800"}')
        assert response.code == 500
        assert "session value at 'bad' cannot be stored" in "\n".join(logs.output)
        assert (await browser.json("/session"))["session"] == {"kept": 1}


class TestLoginFlood(SessionTestCase):
    def make_store(self) -> tus.MemoryStore:
        return tus.MemoryStore(max_sessions=100, clock=self.clock)

    @gen_test(timeout=60)
    async def test_a_flood_of_logins_never_used_again_leaves_a_returning_user_in(self) -> None:
        user = self.browser()
        await self.login(user, name="ada")
        assert (await user.fetch("/dashboard")).code == 200  # back after logging in
        with self.assertLogs("tornado_user_session", logging.WARNING):
            for _ in range(3):
                responses = await asyncio.gather(
                    *(self.browser().fetch("/user-session/start", "POST") for _ in range(100))
                )
                assert {response.code for response in responses} == {200}
        assert (await user.fetch("/dashboard")).code == 200


class Member:
    """An application's own user record, as load_user() returns it."""

    def __init__(self, name: str) -> None:
        self.name = name


#: The application's users, by the name the session user carries; False: disabled.
MEMBERS: dict[str, bool] = {}


class MemberPage(tus.UserSessionMixin, tornado.web.RequestHandler):
    loads = 0

    async def load_user(self, session_user: dict[str, Any]) -> Member | None:
        MemberPage.loads += 1
        await asyncio.sleep(0)  # as a database query would
        name = session_user.get("name", "")
        return Member(name) if MEMBERS.get(name) else None

    @tornado.web.authenticated
    def get(self) -> None:
        user = self.current_user
        assert isinstance(user, Member)
        fresh = self.authenticated_at is not None
        self.write(
            {"member": user.name, "visits": self.session["user"].get("visits", 0), "fresh": fresh}
        )

    @tornado.web.authenticated
    def post(self) -> None:
        self.session["user"]["visits"] = self.session["user"].get("visits", 0) + 1  # saved
        self.write({"ok": True})


class PlainMemberPage(MemberPage):
    def load_user(self, session_user: dict[str, Any]) -> Member | None:  # type: ignore[override]
        PlainMemberPage.loads += 1
        return Member(session_user["name"]) if MEMBERS.get(session_user["name"]) else None


class MemberLogin(MemberPage):
    async def post(self) -> None:
        await self.start_user_session(name="ada")
        user = self.current_user
        self.write({"current_user": f"{type(user).__name__} {user.name}"})


class TestLoadUser(SessionTestCase):
    handlers = (
        (r"/member", MemberPage),
        (r"/plain-member", PlainMemberPage),
        (r"/member-login", MemberLogin),
    )

    def setUp(self) -> None:
        super().setUp()
        MEMBERS.clear()
        MEMBERS["ada"] = True
        MemberPage.loads = PlainMemberPage.loads = 0

    async def log_in(self, browser: Any) -> None:
        """Log Ada in, through a handler that does not override load_user()."""
        await browser.json("/user-sessions/login", "POST", '{"name": "ada"}')

    @gen_test
    async def test_a_login_in_a_handler_with_load_user_sees_the_application_user(self) -> None:
        browser = self.browser()
        assert await browser.json("/member-login", "POST") == {"current_user": "Member ada"}
        assert MemberPage.loads == 1

    @gen_test
    async def test_current_user_is_what_load_user_returns_and_the_session_user_stays(self) -> None:
        browser = self.browser()
        await self.log_in(browser)
        assert await browser.json("/member") == {"member": "ada", "visits": 0, "fresh": True}
        assert await browser.json("/member", "POST") == {"ok": True}
        assert await browser.json("/member") == {"member": "ada", "visits": 1, "fresh": True}
        assert MemberPage.loads == 3  # once per request

    @gen_test
    async def test_a_plain_load_user_works_too(self) -> None:
        browser = self.browser()
        await self.log_in(browser)
        assert (await browser.json("/plain-member"))["member"] == "ada"
        assert PlainMemberPage.loads == 1

    @gen_test
    async def test_a_user_load_user_no_longer_finds_is_logged_out(self) -> None:
        browser = self.browser()
        await self.log_in(browser)
        session_id = self.session_id(browser)
        assert session_id is not None
        MEMBERS["ada"] = False  # disabled
        response = await browser.fetch("/member")
        assert response.code == 302
        assert response.headers["Location"].startswith("/login")
        assert NAME not in browser.cookies  # the cookie is cleared
        assert await self.store.load(session_id) is None  # and the session ended
        MEMBERS["ada"] = True
        assert (await browser.fetch("/member")).code == 302  # for good
        assert MemberPage.loads == 1

    @gen_test
    async def test_load_user_is_not_called_without_a_session_user(self) -> None:
        browser = self.browser()
        assert (await browser.fetch("/member")).code == 302
        await browser.fetch("/session", "POST", {"cart": 1})  # an anonymous session
        assert (await browser.fetch("/member")).code == 302
        assert MemberPage.loads == 0

    @gen_test
    async def test_a_login_load_user_refuses_is_refused(self) -> None:
        MEMBERS["ada"] = False  # disabled, though authenticate() let it in
        browser = self.browser()
        response = await browser.fetch("/member-login", "POST")
        assert response.code == 403
        assert NAME not in browser.cookies
        assert (await browser.fetch("/member")).code == 302
