"""The README's quick start runs as written."""

from __future__ import annotations

import asyncio
import json
import re
import unittest
from pathlib import Path
from typing import Any

import tornado.httpclient
import tornado.web
import tornado.websocket
from tornado.testing import AsyncHTTPTestCase, gen_test

import tornado_user_session as tus
from support import SECRET, Browser, DictStore, set_cookies
from tornado_user_session.testing import login_cookie, session_of

README = Path(__file__).parent.parent / "README.md"


class ExampleCase(AsyncHTTPTestCase):
    """A README example's application over a real socket, its sessions closed after."""

    def tearDown(self) -> None:
        self.io_loop.run_sync(self._app.settings["user_session"].close)
        super().tearDown()


def quick_start() -> dict[str, Any]:
    """Run the quick start's code up to the point where it would serve forever; return what
    it defined."""
    code = re.search(r"## Quick start\s+```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    setup = code.group(1).split("async def main")[0]
    namespace: dict[str, Any] = {}
    exec(compile(setup, str(README), "exec"), namespace)
    return namespace


def quick_start_app() -> tornado.web.Application:
    app: tornado.web.Application = quick_start()["app"]
    return app


class TestQuickStart(ExampleCase):
    def get_app(self) -> tornado.web.Application:
        return quick_start_app()

    @gen_test
    async def test_the_quick_start_checks_the_password_counts_visits_and_logs_out(self) -> None:
        browser = Browser(self.http_client, self.get_url(""))
        anonymous = await browser.fetch("/dashboard")
        assert anonymous.code == 302
        assert anonymous.headers["Location"] == "/?next=%2Fdashboard"
        form = await browser.fetch("/?next=%2Fdashboard")
        assert b'action="/user-session/start?next=%2Fdashboard"' in form.body
        wrong = await browser.fetch("/user-session/start", "POST", "name=ada&password=guess")
        assert wrong.code == 401
        assert not browser.cookies
        login = await browser.fetch(
            "/user-session/start?next=%2Fdashboard", "POST", "name=ada&password=change+me"
        )
        assert login.code == 303
        assert login.headers["Location"] == "/dashboard"
        assert await browser.json("/dashboard") == {"name": "ada", "visits": 1}
        assert await browser.json("/dashboard") == {"name": "ada", "visits": 2}
        assert await browser.json("/user-session/destroy", "POST") == {"ok": True}
        assert (await browser.fetch("/dashboard")).code == 302


def lifetimes_app() -> tornado.web.Application:
    """Run the "Lifetimes" section's example as written."""
    code = re.search(r"## Lifetimes.*?```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    app: tornado.web.Application = namespace["app"]
    return app


class TestLifetimesExample(ExampleCase):
    def get_app(self) -> tornado.web.Application:
        return lifetimes_app()

    @gen_test
    async def test_remember_me_and_the_fresh_login_work_as_written(self) -> None:
        browser = Browser(self.http_client, self.get_url(""))
        response = await browser.fetch("/account/email")
        assert response.headers["Location"] == "/login?next=%2Faccount%2Femail"
        remembered = await browser.fetch(
            "/user-session/start", "POST", "name=ada&password=change+me&remember=1"
        )
        max_age = int(set_cookies(remembered)["tornado-user-session"]["max-age"])
        assert 30 * 86400 - 1 <= max_age <= 30 * 86400  # cut at the absolute end, to the second
        answer = await browser.json("/account/email")
        assert answer["user"]["name"] == "ada"
        assert answer["since"].endswith("+00:00")
        other = Browser(self.http_client, self.get_url(""))
        session = await other.fetch("/user-session/start", "POST", "name=bo&password=change+me")
        assert set_cookies(session)["tornado-user-session"]["max-age"] == ""


def user_record_app() -> tornado.web.Application:
    """Run the "The user record" section's example, with the routes around it."""
    code = re.search(r"## The user record.*?```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    login = type("Login", (tus.StartHandler,), {"authenticate": lambda self: {"login": "ada"}})
    app = tornado.web.Application(
        [(r"/profile", namespace["Profile"]), *tus.routes(start=login)], login_url="/login"
    )
    tus.init(app, secret=SECRET)
    app.settings["accounts"] = namespace["ACCOUNTS"]
    return app


class TestUserRecord(ExampleCase):
    def get_app(self) -> tornado.web.Application:
        return user_record_app()

    @gen_test
    async def test_the_user_record_example_loads_the_account_and_logs_out_a_disabled_one(
        self,
    ) -> None:
        browser = Browser(self.http_client, self.get_url(""))
        await browser.json("/user-session/start", "POST")
        assert await browser.json("/profile") == {"name": "Ada Lovelace", "views": 1}
        assert await browser.json("/profile") == {"name": "Ada Lovelace", "views": 2}
        self._app.settings["accounts"]["ada"]["active"] = False
        assert (await browser.fetch("/profile")).code == 302
        self._app.settings["accounts"]["ada"]["active"] = True
        assert (await browser.fetch("/profile")).code == 302  # the session ended


def test_the_testing_example_passes_as_written() -> None:
    namespace = quick_start()
    code = re.search(r"## Testing your handlers.*?```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    exec(compile(code.group(1), str(README), "exec"), namespace)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(namespace["DashboardTest"])
    result = unittest.TestResult()
    suite.run(result)
    assert result.testsRun == 2
    assert result.wasSuccessful(), result.failures + result.errors
    manager: tus.SessionManager = namespace["app"].settings["user_session"]
    asyncio.run(manager.close())


def section_code(title: str) -> dict[str, Any]:
    """Run the first Python block of the README's section *title*; return what it defined."""
    code = re.search(rf"## {title}.*?```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    return namespace


class TestFlashMessagesExample(ExampleCase):
    def get_app(self) -> tornado.web.Application:
        code = section_code("Flash messages")
        app = tornado.web.Application(
            [
                (r"/my-profile", code["Profile"]),
                *tus.routes(start=tus.GuestStartHandler, destroy=code["Logout"]),
            ],
            login_url="/login",
        )
        tus.init(app, secret=SECRET)
        return app

    @gen_test
    async def test_the_flash_example_says_saved_then_signed_out_once_each(self) -> None:
        browser = Browser(self.http_client, self.get_url(""))
        await browser.json("/user-session/start", "POST")
        saved = await browser.fetch("/my-profile", "POST", "display_name=Ada")
        assert saved.code == 303
        assert await browser.json("/my-profile") == {"messages": ["Profile saved."]}
        assert await browser.json("/my-profile") == {"messages": []}
        logout = await browser.fetch("/user-session/destroy?next=/my-profile", "POST")
        assert logout.code == 303
        assert await browser.json("/my-profile") == {"messages": ["Signed out."]}
        assert await browser.json("/my-profile") == {"messages": []}


class TestWebSocketsExample(ExampleCase):
    def get_app(self) -> tornado.web.Application:
        app = tornado.web.Application([(r"/live", section_code("WebSockets")["LiveCounter"])])
        tus.init(app, secret=SECRET)
        return app

    @gen_test
    async def test_the_websocket_example_counts_and_saves(self) -> None:
        cookie = await login_cookie(self._app, name="ada")
        url = self.get_url("/live").replace("http://", "ws://")
        request = tornado.httpclient.HTTPRequest(url, headers={"Cookie": cookie})
        socket = await tornado.websocket.websocket_connect(request)
        for count in (1, 2):
            socket.write_message("+1")
            assert json.loads(str(await socket.read_message())) == {"count": count}
        socket.close()
        session = await session_of(self._app, cookie)
        assert session is not None
        assert session["user"]["live"] == 2


def test_the_store_contract_example_runs_a_store_of_ones_own() -> None:
    code = re.search(r"## Writing a store.*?```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    namespace: dict[str, Any] = {"MyStore": DictStore}  # the store the example stands for
    exec(compile(code.group(1), str(README), "exec"), namespace)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(namespace["TestMyStore"])
    result = unittest.TestResult()
    suite.run(result)
    assert result.wasSuccessful(), result.failures + result.errors
    assert result.testsRun - len(result.skipped) >= 10  # the core of the contract ran
