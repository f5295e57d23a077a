"""StartHandler, DestroyHandler, routes() and the local-path check for ``next``."""

from __future__ import annotations

import json
from typing import Any

import pytest
import tornado.web
from tornado.testing import gen_test

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
    async def test_anybody_may_start_a_session_by_default(self) -> None:
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
