"""The demo app over HTTP (the browser tests drive it in Chromium)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tornado.web
from tornado.testing import AsyncHTTPTestCase, gen_test

from demo.app import make_app
from servers import free_port, wait_for_port
from support import Browser

ROOT = Path(__file__).parent.parent


class TestDemo(AsyncHTTPTestCase):
    def get_app(self) -> tornado.web.Application:
        return make_app(password="secret-pw")

    def tearDown(self) -> None:
        self.io_loop.run_sync(self._app.settings["user_session"].close)
        super().tearDown()

    async def login(self, browser: Browser, password: str) -> tuple[int, str]:
        page = await browser.fetch("/")
        token = re.search(rb'name="_xsrf" value="([^"]+)"', page.body)
        assert token is not None
        body = f"_xsrf={token.group(1).decode()}&username=demo&password={password}&next=/dashboard"
        response = await browser.fetch("/user-session/start", "POST", body)
        return response.code, response.body.decode()

    @gen_test
    async def test_a_wrong_password_shows_the_form_again_with_an_error(self) -> None:
        code, body = await self.login(Browser(self.http_client, self.get_url("")), "nope")
        assert code == 401
        assert "Wrong username or password." in body

    @gen_test
    async def test_login_counts_visits_and_pages_are_not_cached(self) -> None:
        browser = Browser(self.http_client, self.get_url(""))
        assert (await self.login(browser, "secret-pw"))[0] == 303
        first = await browser.fetch("/dashboard")
        second = await browser.fetch("/dashboard")
        assert b'id="visits">1<' in first.body
        assert b'id="visits">2<' in second.body
        assert second.headers["Cache-Control"] == "no-store"

    @gen_test
    async def test_a_new_password_signs_out_every_other_device(self) -> None:
        laptop = Browser(self.http_client, self.get_url(""))
        phone = Browser(self.http_client, self.get_url(""))
        for device in (laptop, phone):
            assert (await self.login(device, "secret-pw"))[0] == 303
        page = await laptop.fetch("/my-profile/password")
        token = re.search(rb'name="_xsrf" value="([^"]+)"', page.body)
        assert token is not None
        body = f"_xsrf={token.group(1).decode()}&new_password=a+new+password"
        response = await laptop.fetch("/my-profile/password", "POST", body)
        assert response.code == 303
        assert (await phone.fetch("/dashboard")).code == 302
        assert (await laptop.fetch("/dashboard")).code == 200


@pytest.mark.parametrize("flags", [(), ("--uvloop",)], ids=["asyncio", "uvloop"])
def test_the_demo_runs_on_the_loop_asked_for(flags: tuple[str, ...]) -> None:
    port = free_port()
    command = [sys.executable, "-m", "demo", "--port", str(port), *flags]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as server:
        try:
            wait_for_port(port)
            assert server.stdout is not None
            lines = [server.stdout.readline() for _ in range(3)]
            assert lines[2] == f"Event loop: {'uvloop' if flags else 'asyncio'}\n", lines
        finally:
            server.terminate()
