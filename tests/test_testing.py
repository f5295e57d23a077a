"""tornado_user_session.testing: logging a test client in, reading a session back, and the store
contract run by a store of someone else's."""

from __future__ import annotations

import pytest
import tornado.web
from tornado.testing import AsyncTestCase, gen_test

from support import DictStore, FakeClock, SessionTestCase
from tornado_user_session.testing import StoreContract, login_cookie, session_of


class TestAStoreOfOnesOwnRunsTheContract(StoreContract, AsyncTestCase):
    """The contract needs one import; the parts a store does not offer are skipped."""

    def setUp(self) -> None:
        super().setUp()
        self.clock = FakeClock()
        self.store = self.make_store()

    def make_store(self) -> DictStore:
        return DictStore(clock=self.clock)

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


def test_the_optional_parts_of_the_contract_are_skipped_for_a_store_without_them() -> None:
    case = TestAStoreOfOnesOwnRunsTheContract("test_index_remove_forgets_entries")
    result = case.defaultTestResult()
    case.run(result)
    assert [reason for _, reason in result.skipped] == [
        "DictStore does not set supports_user_index"
    ]


class TestLoggingATestClientIn(SessionTestCase):
    options = {"user_id_key": "name"}  # noqa: RUF012

    @gen_test
    async def test_a_login_cookie_is_a_logged_in_session_of_those_fields(self) -> None:
        cookie = await login_cookie(self._app, name="ada", role="admin")
        assert cookie.startswith("tornado-user-session=")
        response = await self.http_client.fetch(
            self.get_url("/dashboard"), headers={"Cookie": cookie}
        )
        assert response.code == 200
        session = await session_of(self._app, cookie)
        assert session is not None
        assert session["user"]["name"] == "ada"
        assert session["user"]["role"] == "admin"
        assert len(session["user"]["_id"]) == 32
        assert session["user"]["visits"] == 1  # the dashboard's change, saved
        listed = await self.manager.list_user_sessions("ada")
        assert len(listed) == 1  # as a real login is

    @gen_test
    async def test_session_of_reads_what_a_response_set_and_none_once_it_is_cleared(
        self,
    ) -> None:
        cookie = await login_cookie(self._app, name="ada")
        headers = {"Cookie": cookie}
        change = await self.http_client.fetch(
            self.get_url("/session"), method="POST", body='{"cart": 3}', headers=headers
        )
        changed = await session_of(self._app, change)
        assert changed is not None
        assert changed["cart"] == 3
        destroy = await self.http_client.fetch(
            self.get_url("/user-session/destroy"), method="POST", body="", headers=headers
        )
        assert await session_of(self._app, destroy) is None  # cleared
        assert await session_of(self._app, cookie) is None  # and gone from the store
        guest = await self.http_client.fetch(
            self.get_url("/user-session/start"), method="POST", body=""
        )
        started = await session_of(self._app, guest)
        assert started is not None
        assert set(started["user"]) == {"_id"}

    def test_an_application_without_sessions_is_told_to_call_init(self) -> None:
        with pytest.raises(TypeError, match=r"tus.init\(app\)"):
            self.io_loop.run_sync(lambda: login_cookie(tornado.web.Application(), name="ada"))


class TestTheHelpersSeeWhatTheServerSees(SessionTestCase):
    options = {"idle_timeout": 60}  # noqa: RUF012

    @gen_test
    async def test_session_of_reads_without_extending_the_session(self) -> None:
        cookie = await login_cookie(self._app, name="ada")
        self.clock.advance(40)
        assert await session_of(self._app, cookie) is not None
        self.clock.advance(40)  # 80 s unused, looking included: over
        assert await session_of(self._app, cookie) is None

    @gen_test
    async def test_session_of_takes_the_session_cookie_among_others_as_the_server_does(
        self,
    ) -> None:
        cookie = await login_cookie(self._app, name="ada")
        name, value = cookie.split("=", 1)
        assert await session_of(self._app, f'prefs={{"theme": "dark"}}; {cookie}') is not None
        assert await session_of(self._app, f'{name}="{value}"') is None  # quoted: refused

    def test_login_cookie_refuses_an_id_of_its_own(self) -> None:
        with pytest.raises(TypeError, match="_id"):
            self.io_loop.run_sync(lambda: login_cookie(self._app, _id="chosen"))
