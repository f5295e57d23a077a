"""StartHandler, DestroyHandler, routes() and the local-path check for ``next``."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import tornado.web
from tornado.testing import AsyncHTTPTestCase, gen_test

import tornado_user_session as tus
from support import SessionTestCase, set_cookies

NAME = "tornado-user-session"


@pytest.mark.parametrize(
    "url",
    ["/", "/dashboard", "/dashboard?tab=1", "/a/b?x=1&y=%2F#top", "/caf%C3%A9", "/caf\u00e9"],
)
def test_local_paths_are_kept(url: str) -> None:
    assert tus.local_path(url) == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "dashboard",
        " /dashboard",
        "/\tevil",
        "/da\nsh",
        "/x\x00",
        "/x\x7f",
        "%2F%2Fevil.example",
        "/%2Fevil.example",
        "/%5Cevil.example",
        "/%0d%0aSet-Cookie:x=1",
        "/%09/evil.example",
    ],
)
def test_paths_that_could_leave_the_site_are_refused(url: str | None) -> None:
    assert tus.local_path(url) is None


class PasswordStart(tus.StartHandler):
    def authenticate(self) -> dict[str, Any] | None:
        if self.get_argument("password", "") != "open sesame":
            return None
        return {"name": self.get_argument("name")}


class AsyncStart(tus.StartHandler):
    async def authenticate(self) -> dict[str, Any] | None:
        return {"via": "coroutine"}


class FormStart(tus.StartHandler):
    def authenticate(self) -> None:
        return None

    def refuse(self) -> None:
        self.set_status(401)
        self.finish("<p>Wrong password</p>")


class TestStartHandler(SessionTestCase):
    handlers = (
        (r"/login", PasswordStart),
        (r"/login-async", AsyncStart),
        (r"/login-form", FormStart),
    )

    @gen_test
    async def test_a_guest_start_handler_logs_anybody_in_when_asked_for_by_name(self) -> None:
        answer = await self.browser().json("/user-session/start", "POST")
        assert answer["ok"] is True
        assert set(answer["user"]) == {"_id"}
        assert len(answer["user"]["_id"]) == 32

    @gen_test
    async def test_a_safe_next_redirects_with_303(self) -> None:
        browser = self.browser()
        response = await browser.fetch("/user-session/start?next=%2Fdashboard%3Ftab%3D1", "POST")
        assert response.code == 303
        assert response.headers["Location"] == "/dashboard?tab=1"
        assert NAME in browser.cookies

    @gen_test
    async def test_an_unsafe_next_is_ignored(self) -> None:
        response = await self.browser().fetch(
            "/user-session/start", "POST", "next=%2F%2Fevil.example"
        )
        assert response.code == 200
        assert "Location" not in response.headers

    @gen_test
    async def test_authenticate_returning_none_refuses_with_401_and_starts_nothing(self) -> None:
        browser = self.browser()
        response = await browser.fetch("/login", "POST", "name=ada&password=wrong")
        assert response.code == 401
        assert "Set-Cookie" not in response.headers
        assert len(self.store) == 0

    @gen_test
    async def test_authenticate_fields_go_on_the_user(self) -> None:
        browser = self.browser()
        response = await browser.fetch("/login", "POST", "name=ada&password=open+sesame")
        assert json.loads(response.body)["user"]["name"] == "ada"
        assert (await browser.json("/session"))["session"]["user"]["name"] == "ada"

    @gen_test
    async def test_authenticate_may_be_a_coroutine(self) -> None:
        answer = await self.browser().json("/login-async", "POST")
        assert answer["user"]["via"] == "coroutine"

    @gen_test
    async def test_refuse_can_be_overridden_to_show_a_page(self) -> None:
        response = await self.browser().fetch("/login-form", "POST")
        assert response.code == 401
        assert response.body == b"<p>Wrong password</p>"


class TestDestroyHandler(SessionTestCase):
    @gen_test
    async def test_destroy_answers_ok_and_clears_the_cookie(self) -> None:
        browser = self.browser()
        await self.login(browser)
        response = await browser.fetch("/user-session/destroy", "POST")
        assert json.loads(response.body) == {"ok": True}
        assert set_cookies(response)[NAME].value == ""
        assert len(self.store) == 0

    @gen_test
    async def test_destroy_redirects_to_a_safe_next(self) -> None:
        browser = self.browser()
        await self.login(browser)
        response = await browser.fetch("/user-session/destroy?next=/", "POST")
        assert response.code == 303
        assert response.headers["Location"] == "/"

    @gen_test
    async def test_destroy_without_a_session_is_fine(self) -> None:
        response = await self.browser().fetch("/user-session/destroy", "POST")
        assert response.code == 200


class TestXsrf(SessionTestCase):
    settings = {"xsrf_cookies": True}  # noqa: RUF012

    @gen_test
    async def test_the_routes_honour_xsrf_cookies(self) -> None:
        browser = self.browser()
        for path in ("/user-session/start", "/user-session/destroy"):
            assert (await browser.fetch(path, "POST")).code == 403
        assert len(self.store) == 0
        token = "2|abcd1234|" + "0" * 40 + "|1"
        browser.cookies["_xsrf"] = token
        response = await browser.fetch("/user-session/start", "POST", f"_xsrf={token}")
        assert response.code == 200
        assert NAME in browser.cookies


def test_routes_are_named_and_take_a_prefix_and_handler_subclasses() -> None:
    start, destroy = tus.routes("/auth", start=PasswordStart)
    assert (start.regex.pattern, start.handler_class, start.name) == (
        "/auth/start$",
        PasswordStart,
        "user-session-start",
    )
    assert (destroy.regex.pattern, destroy.handler_class, destroy.name) == (
        "/auth/destroy$",
        tus.DestroyHandler,
        "user-session-destroy",
    )
    app = tornado.web.Application(tus.routes())
    assert app.reverse_url("user-session-start") == "/user-session/start"


class Unconfigured(tus.StartHandler):
    """A start handler that forgot to override authenticate()."""


class NotAMapping(tus.StartHandler):
    def authenticate(self) -> Any:
        return ["ada"]


class TestTheDefaultStartRouteIsSafe(SessionTestCase):
    handlers = (
        (r"/unconfigured", Unconfigured),
        (r"/not-a-mapping", NotAMapping),
        (r"/bare/start", tus.StartHandler),
    )

    @gen_test
    async def test_without_a_credential_check_logins_are_refused_and_logged_once(self) -> None:
        browser = self.browser()
        with self.assertLogs("tornado_user_session", logging.WARNING) as logs:
            for _ in range(3):
                response = await browser.fetch("/unconfigured", "POST")
                assert response.code == 401
                assert "Set-Cookie" not in response.headers
        assert len(self.store) == 0
        advice = [line for line in logs.output if "authenticate()" in line]
        assert len(advice) == 1, logs.output
        assert "Unconfigured" in advice[0]
        assert "GuestStartHandler" in advice[0]

    @gen_test
    async def test_the_start_handler_itself_refuses_everybody(self) -> None:
        response = await self.browser().fetch("/bare/start", "POST")
        assert response.code == 401
        assert len(self.store) == 0

    @gen_test
    async def test_authenticate_returning_a_non_mapping_is_a_type_error_naming_it(self) -> None:
        with self.assertLogs("tornado.application", logging.ERROR) as logs:
            response = await self.browser().fetch("/not-a-mapping", "POST")
        assert response.code == 500
        assert "NotAMapping.authenticate() must return a mapping or None" in "\n".join(logs.output)


class TestRoutesWithoutAStartHandler(AsyncHTTPTestCase):
    def get_app(self) -> tornado.web.Application:
        app = tornado.web.Application(tus.routes())
        tus.init(app, secret="g" * 32)
        return app

    @gen_test
    async def test_a_copied_routes_call_cannot_log_anybody_in(self) -> None:
        response = await self.http_client.fetch(
            self.get_url("/user-session/start"), method="POST", body="", raise_error=False
        )
        assert response.code == 401
        assert "Set-Cookie" not in response.headers


class TestCrossOrigin(SessionTestCase):
    FORGED = (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://sub.example"},
        {"Sec-Fetch-Site": "cross-site"},
    )

    @gen_test
    async def test_a_cross_site_post_can_neither_log_in_nor_log_out(self) -> None:
        for headers in self.FORGED:
            victim = self.browser()
            response = await victim.fetch("/user-session/start", "POST", headers=headers)
            assert response.code == 403, headers
            assert NAME not in victim.cookies
        assert len(self.store) == 0
        victim = self.browser()
        await self.login(victim)
        for headers in self.FORGED:
            response = await victim.fetch("/user-session/destroy", "POST", headers=headers)
            assert response.code == 403, headers
            assert (await victim.fetch("/dashboard")).code == 200

    @gen_test
    async def test_same_origin_posts_and_clients_without_those_headers_still_work(self) -> None:
        origin = self.get_url("").rstrip("/")
        for headers in (
            {},
            {"Origin": origin},
            {"Sec-Fetch-Site": "same-origin", "Origin": origin},
            {"Sec-Fetch-Site": "none"},
        ):
            browser = self.browser()
            await browser.json("/user-session/start", "POST")
            response = await browser.fetch("/user-session/destroy", "POST", headers=headers)
            assert response.code == 200, headers
            response = await browser.fetch("/user-session/start", "POST", headers=headers)
            assert response.code == 200, headers


class TestTrustedOrigins(SessionTestCase):
    settings = {"trusted_origins": ["https://app.example"]}  # noqa: RUF012

    @gen_test
    async def test_an_origin_the_application_trusts_may_post(self) -> None:
        headers = {"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example"}
        response = await self.browser().fetch("/user-session/start", "POST", headers=headers)
        assert response.code == 200
