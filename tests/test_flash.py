"""Flash messages over real HTTP: shown once, across a redirect and a logout."""

from __future__ import annotations

import asyncio

import pytest
import tornado.web
from tornado.testing import gen_test

import tornado_user_session as tus
from support import SessionTestCase
from tornado_user_session import flash
from tornado_user_session.flash import MAX_FLASHES


class Save(tus.UserSessionMixin, tornado.web.RequestHandler):
    """POST flashes ``text`` (in ``category``) and redirects to the page that shows messages."""

    def post(self) -> None:
        self.flash(self.get_argument("text"), self.get_argument("category", "info"))
        self.redirect(self.get_argument("to", "/messages"), status=303)


class Messages(tus.UserSessionMixin, tornado.web.RequestHandler):
    """GET shows the waiting messages, of the ``only`` categories if given."""

    def get(self) -> None:
        only = self.get_arguments("only")
        self.write({"messages": [list(m) for m in self.get_flashed_messages(*only)]})


class Logout(tus.DestroyHandler):
    def destroyed(self) -> None:
        self.flash("Signed out")


class AsyncLogout(tus.DestroyHandler):
    async def destroyed(self) -> None:
        await asyncio.sleep(0)
        self.flash("Signed out, asynchronously")


class FlashThenLogout(tus.UserSessionMixin, tornado.web.RequestHandler):
    async def post(self) -> None:
        self.flash("Goodbye")
        await self.destroy_user_session()
        self.write({"ok": True})


class SlowMessages(tus.UserSessionMixin, tornado.web.RequestHandler):
    """Takes the messages, then waits for the test before its response (and save)."""

    go: asyncio.Event | None = None

    async def get(self) -> None:
        taken = [list(m) for m in self.get_flashed_messages()]
        assert self.go is not None
        await self.go.wait()
        self.write({"messages": taken})


class TestFlash(SessionTestCase):
    handlers = (
        (r"/save", Save),
        (r"/messages", Messages),
        (r"/logout", Logout),
        (r"/async-logout", AsyncLogout),
        (r"/flash-then-logout", FlashThenLogout),
        (r"/slow-messages", SlowMessages),
    )

    @gen_test
    async def test_a_message_is_shown_once_on_the_page_after_the_redirect(self) -> None:
        browser = self.browser()
        await self.login(browser)
        response = await browser.fetch("/save", "POST", "text=Profile+saved")
        assert response.code == 303
        assert await browser.json("/messages") == {"messages": [["Profile saved", "info"]]}
        assert await browser.json("/messages") == {"messages": []}

    @gen_test
    async def test_messages_wait_in_order_and_by_category(self) -> None:
        browser = self.browser()
        await self.login(browser)
        for text, category in (("one", "info"), ("two", "error"), ("three", "info")):
            await browser.fetch("/save", "POST", f"text={text}&category={category}&to=/dashboard")
        assert await browser.json("/messages?only=error") == {"messages": [["two", "error"]]}
        assert await browser.json("/messages") == {"messages": [["one", "info"], ["three", "info"]]}

    @gen_test
    async def test_the_message_of_a_logout_is_shown_on_the_page_it_redirects_to(self) -> None:
        browser = self.browser()
        await self.login(browser)
        old_id = self.session_id(browser)
        response = await browser.fetch("/logout?next=/messages", "POST")
        assert response.code == 303
        assert await self.store.load(str(old_id)) is None  # the logout is real
        assert await browser.json("/messages") == {"messages": [["Signed out", "info"]]}
        assert (await browser.fetch("/dashboard")).code == 302  # and nobody is logged in
        assert await browser.json("/messages") == {"messages": []}

    @gen_test
    async def test_a_page_that_shows_no_messages_does_not_touch_the_session(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.store.calls.clear()
        assert await browser.json("/messages") == {"messages": []}
        assert self.store.calls == ["load"]  # nothing was written

    @gen_test
    async def test_at_most_twenty_messages_wait_the_oldest_going_first(self) -> None:
        browser = self.browser()
        for number in range(MAX_FLASHES + 5):
            await browser.fetch("/save", "POST", f"text={number}&to=/untouched")
        messages = (await browser.json("/messages"))["messages"]
        assert [text for text, _ in messages] == [str(n) for n in range(5, MAX_FLASHES + 5)]

    def test_a_message_must_be_text(self) -> None:
        session = tus.Session()
        with pytest.raises(TypeError, match="flash\\(\\) takes text: message int"):
            flash.add(session, 1, "info")  # type: ignore[arg-type]

    @gen_test
    async def test_an_async_destroyed_hook_is_awaited(self) -> None:
        browser = self.browser()
        await self.login(browser)
        await browser.fetch("/async-logout", "POST")
        assert await browser.json("/messages") == {
            "messages": [["Signed out, asynchronously", "info"]]
        }

    @gen_test
    async def test_a_message_flashed_before_a_logout_in_the_same_request_survives_it(
        self,
    ) -> None:
        browser = self.browser()
        await self.login(browser)
        await browser.fetch("/flash-then-logout", "POST")
        assert await browser.json("/messages") == {"messages": [["Goodbye", "info"]]}

    @gen_test
    async def test_a_message_flashed_while_another_tab_shows_messages_is_not_lost(self) -> None:
        browser = self.browser()
        await self.login(browser)
        await browser.fetch("/save", "POST", "text=first&to=/untouched")
        SlowMessages.go = asyncio.Event()
        slow = asyncio.ensure_future(browser.json("/slow-messages"))  # tab 1 takes "first"
        await asyncio.sleep(0.05)
        await browser.fetch("/save", "POST", "text=second&to=/untouched")  # tab 2 flashes
        SlowMessages.go.set()
        assert await slow == {"messages": [["first", "info"]]}
        assert await browser.json("/messages") == {"messages": [["second", "info"]]}
