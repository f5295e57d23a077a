"""The mixin on a WebSocketHandler, over real sockets: the session and user loaded at the
handshake, changes saved by save_session() or refused, never lost silently."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import pytest
import tornado.gen
import tornado.httpclient
import tornado.websocket
from tornado.testing import gen_test

import tornado_user_session as tus
from support import SessionTestCase


class Counter(tus.UserSessionMixin, tornado.websocket.WebSocketHandler):
    """Says who is there on open; each message is a command: count, count-unsaved, login."""

    def open(self) -> None:
        user = self.current_user
        self.write_message({"user": user and user.get("name"), "n": self.session.get("n", 0)})

    async def on_message(self, message: str | bytes) -> None:
        if message == "count":
            count = self.session["n"] = self.session.get("n", 0) + 1
            try:
                stored = await self.save_session()
            except tus.SessionError as exc:
                self.write_message({"error": str(exc)})
                return
            self.write_message({"n": count, "stored": stored})
        elif message == "count-unsaved":
            self.session["n"] = self.session.get("n", 0) + 1
            self.close()
        elif message == "check":  # a socket that changes nothing asks whether it is still in
            stored = await self.save_session()
            self.write_message({"stored": stored, "user": bool(self.current_user)})
        elif message == "burst":  # overlapping saves, as a broadcast task and on_message make

            async def bump(number: int) -> bool:
                self.session["n"] = number
                return await self.save_session()

            saves = await asyncio.gather(*(bump(number) for number in range(1, 41)))
            self.write_message({"all": all(saves)})
        elif message == "login":
            try:
                await self.start_user_session(name="mallory")
            except tus.SessionError as exc:
                self.write_message({"error": str(exc)})


class WebSocketCase(SessionTestCase):
    handlers = ((r"/counter", Counter),)

    async def connect(self, cookie: str | None) -> tornado.websocket.WebSocketClientConnection:
        url = self.get_url("/counter").replace("http://", "ws://")
        headers = {"Cookie": cookie} if cookie else {}
        return await tornado.websocket.websocket_connect(
            tornado.httpclient.HTTPRequest(url, headers=headers)
        )

    async def receive(self, socket: tornado.websocket.WebSocketClientConnection) -> Any:
        message = await socket.read_message()
        assert isinstance(message, str), message
        return json.loads(message)

    async def logged_in_cookie(self) -> tuple[Any, str]:
        browser = self.browser()
        await browser.json("/user-sessions/login", "POST", '{"name": "ada"}')
        return browser, "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


class TestWebSocket(WebSocketCase):
    @gen_test
    async def test_the_session_and_user_are_loaded_at_the_handshake(self) -> None:
        _, cookie = await self.logged_in_cookie()
        socket = await self.connect(cookie)
        assert await self.receive(socket) == {"user": "ada", "n": 0}
        socket.close()

    @gen_test
    async def test_a_change_is_saved_by_save_session_and_seen_over_http(self) -> None:
        browser, cookie = await self.logged_in_cookie()
        socket = await self.connect(cookie)
        await self.receive(socket)
        for expected in (1, 2):
            socket.write_message("count")
            assert await self.receive(socket) == {"n": expected, "stored": True}
        socket.close()
        assert (await browser.json("/session"))["session"]["n"] == 2

    @gen_test
    async def test_a_change_left_unsaved_is_logged_when_the_socket_closes(self) -> None:
        _, cookie = await self.logged_in_cookie()
        socket = await self.connect(cookie)
        await self.receive(socket)
        with self.assertLogs("tornado_user_session", logging.WARNING) as logs:
            socket.write_message("count-unsaved")
            assert await socket.read_message() is None  # the server closed it
            for _ in range(100):  # the close reaches the handler on the next loop turns
                if logs.output:
                    break
                await tornado.gen.sleep(0.01)
        socket.close()
        assert "save_session()" in logs.output[0]
        assert "'n'" in logs.output[0]

    @gen_test
    async def test_a_session_not_stored_before_the_handshake_cannot_be_saved_after_it(
        self,
    ) -> None:
        socket = await self.connect(None)  # an anonymous visitor with no session yet
        await self.receive(socket)
        socket.write_message("count")
        answer = await self.receive(socket)
        assert "cookie" in answer["error"]
        assert "handshake" in answer["error"]
        socket.close()

    @gen_test
    async def test_a_logout_elsewhere_is_seen_by_the_next_save(self) -> None:
        browser, cookie = await self.logged_in_cookie()
        socket = await self.connect(cookie)
        await self.receive(socket)
        await browser.fetch("/user-session/destroy", "POST")
        socket.write_message("count")
        assert await self.receive(socket) == {"n": 1, "stored": False}
        socket.close()

    @gen_test
    async def test_a_login_over_a_websocket_is_refused(self) -> None:
        _, cookie = await self.logged_in_cookie()
        socket = await self.connect(cookie)
        await self.receive(socket)
        socket.write_message("login")
        answer = await self.receive(socket)
        assert "over HTTP" in answer["error"]
        socket.close()


class TestWebSocketEnd(WebSocketCase):
    """What a socket that changes nothing sees of its session's end, and logs."""

    @gen_test
    async def test_a_socket_that_changes_nothing_learns_of_a_logout_elsewhere(self) -> None:
        browser, cookie = await self.logged_in_cookie()
        socket = await self.connect(cookie)
        await self.receive(socket)
        socket.write_message("check")
        assert await self.receive(socket) == {"stored": True, "user": True}
        await browser.fetch("/user-session/destroy", "POST")
        with self.assertNoLogs("tornado_user_session", logging.WARNING):
            socket.write_message("check")
            assert await self.receive(socket) == {"stored": False, "user": False}
            socket.close()
            await tornado.gen.sleep(0.05)


class QuietClose:
    @gen_test
    async def test_a_socket_that_changes_nothing_logs_nothing_when_it_closes(self: Any) -> None:
        _, cookie = await self.logged_in_cookie()
        socket = await self.connect(cookie)
        await self.receive(socket)
        with self.assertNoLogs("tornado_user_session", logging.WARNING):
            socket.close()
            await tornado.gen.sleep(0.05)


class TestQuietCloseRolling(QuietClose, WebSocketCase):
    options = {"rolling": True}  # noqa: RUF012


class TestQuietCloseResave(QuietClose, WebSocketCase):
    options = {"resave": True}  # noqa: RUF012


@pytest.mark.usefixtures("redis_for_case")
class TestWebSocketOnRedis(WebSocketCase):
    redis_url: str

    def make_store(self) -> tus.RedisStore:
        return tus.RedisStore.from_url(self.redis_url, prefix=f"test:{uuid.uuid4().hex}:")

    @gen_test
    async def test_overlapping_saves_of_one_socket_leave_its_last_value(self) -> None:
        browser, cookie = await self.logged_in_cookie()
        socket = await self.connect(cookie)
        await self.receive(socket)
        socket.write_message("burst")
        assert await self.receive(socket) == {"all": True}
        socket.close()
        assert (await browser.json("/session"))["session"]["n"] == 40
