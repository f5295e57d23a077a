"""A user's sessions over real HTTP, on both stores: list them, end one or the others, cap."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import tornado.httpclient
import tornado.web
from tornado.testing import gen_test

import tornado_user_session as tus
from support import Browser, RedisTimedCase, TimedCase, redis_commands, run_on_two_servers
from tornado_user_session.stores.base import INDEX_GRACE, SEEN_EVERY

NAME = "tornado-user-session"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


class MySessions(tus.UserSessionMixin, tornado.web.RequestHandler):
    async def get(self) -> None:
        sessions = await self.list_user_sessions()
        self.write({"sessions": [_as_json(info) for info in sessions]})


class EndSession(tus.UserSessionMixin, tornado.web.RequestHandler):
    async def post(self) -> None:
        self.write({"ended": await self.end_user_session(self.get_argument("handle"))})


def _as_json(info: tus.SessionInfo) -> dict[str, Any]:
    fields = vars(info).copy()
    for name, value in fields.items():
        if hasattr(value, "isoformat"):
            fields[name] = value.timestamp()
    return fields


class SlowRegenerate(tus.UserSessionMixin, tornado.web.RequestHandler):
    """A new id for the same user (a change of privileges), then work until the test says."""

    gate: asyncio.Event | None = None
    entered: asyncio.Event | None = None

    async def post(self) -> None:
        assert self.gate is not None
        assert self.entered is not None
        await self.session_manager.regenerate(self.session)
        self.entered.set()
        await self.gate.wait()
        self.write({"ok": True})


class ByHand(tus.UserSessionMixin, tornado.web.RequestHandler):
    """Takes the session user off by hand, without a logout."""

    def post(self) -> None:
        del self.session["user"]
        self.write({"ok": True})


class SlowLister(tus.UserSessionMixin, tornado.web.RequestHandler):
    """Waits for the test, then lists and ends the user's other sessions."""

    gate: asyncio.Event | None = None
    entered: asyncio.Event | None = None

    async def post(self) -> None:
        assert self.gate is not None
        assert self.entered is not None
        self.entered.set()
        await self.gate.wait()
        listed = await self.list_user_sessions()
        self.write({"listed": len(listed), "ended": await self.end_other_user_sessions()})


HANDLERS = (
    (r"/slow-lister", SlowLister),
    (r"/by-hand", ByHand),
    (r"/my-sessions", MySessions),
    (r"/end-session", EndSession),
    (r"/slow-regenerate", SlowRegenerate),
)


class UserSessionsCase(TimedCase):
    handlers = HANDLERS

    async def device(self, user_id: Any = 42, agent: str = AGENT, **fields: Any) -> Browser:
        """A browser of its own, logged in as the user *user_id*."""
        browser = self.browser()
        body = json.dumps({"id": user_id, **fields})
        response = await browser.fetch(
            "/user-sessions/login", "POST", body, headers={"User-Agent": agent}
        )
        assert response.code == 200, response.body
        return browser

    async def sessions(self, browser: Browser) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = (await browser.json("/my-sessions"))["sessions"]
        return listed


class Rules:
    """What a user's sessions guarantee, on every store."""

    @gen_test
    async def test_the_list_shows_each_device_most_recent_first(self: Any) -> None:
        start = self.clock()
        laptop = await self.device(agent="laptop browser")
        await self.advance(120)
        phone = await self.device(agent="phone browser")
        await self.device(user_id=7)  # another user
        await self.advance(30)
        listed = await self.sessions(laptop)
        assert [s["user_agent"] for s in listed] == ["laptop browser", "phone browser"]
        assert [s["current"] for s in listed] == [True, False]  # the laptop was used last
        assert [s["ip"] for s in listed] == ["127.0.0.1", "127.0.0.1"]
        laptop_info = listed[0]
        assert laptop_info["created_at"] == start
        assert laptop_info["authenticated_at"] == start
        assert laptop_info["last_seen_at"] == start + 150  # this read, over a minute stale
        assert laptop_info["expires_at"] == pytest.approx(start + 150 - 150 + 48 * 3600, abs=2)
        handle = laptop_info["handle"]
        cookie_value = laptop.cookies[NAME]
        session_id = str(self.session_id(laptop))
        assert handle not in cookie_value
        assert handle not in session_id
        assert session_id not in json.dumps(listed)
        assert len(await self.sessions(phone)) == 2

    @gen_test
    async def test_last_seen_is_written_at_most_once_a_minute(self: Any) -> None:
        start = self.clock()
        laptop = await self.device()
        phone = await self.device()
        for _ in range(3):
            await self.advance(15)
            await phone.json("/session")
        seen = {s["current"]: s["last_seen_at"] for s in await self.sessions(laptop)}
        assert seen[False] == start  # 45 s of reads: nothing written
        await self.advance(20)
        await phone.json("/session")  # 65 s after its login
        seen = {s["current"]: s["last_seen_at"] for s in await self.sessions(laptop)}
        assert seen[False] == start + 65

    @gen_test
    async def test_ending_a_session_takes_effect_on_its_next_request(self: Any) -> None:
        laptop = await self.device()
        phone = await self.device()
        other_user = await self.device(user_id=7)
        phone_handle = next(s["handle"] for s in await self.sessions(laptop) if not s["current"])
        stranger_handle = (await self.sessions(other_user))[0]["handle"]
        assert await other_user.json("/end-session", "POST", f"handle={phone_handle}") == {
            "ended": False
        }
        assert await laptop.json("/end-session", "POST", f"handle={stranger_handle}") == {
            "ended": False
        }
        assert await laptop.json("/end-session", "POST", "handle=unknown") == {"ended": False}
        assert await laptop.json("/end-session", "POST", f"handle={phone_handle}") == {
            "ended": True
        }
        assert not await self.logged_in(phone)
        assert await self.logged_in(laptop)
        assert await self.logged_in(other_user)
        assert [s["current"] for s in await self.sessions(laptop)] == [True]

    @gen_test
    async def test_ending_the_current_session_is_a_logout(self: Any) -> None:
        laptop = await self.device()
        handle = (await self.sessions(laptop))[0]["handle"]
        response = await laptop.fetch("/end-session", "POST", f"handle={handle}")
        assert json.loads(response.body) == {"ended": True}
        assert NAME not in laptop.cookies
        assert not await self.logged_in(laptop)

    @gen_test
    async def test_sign_out_everywhere_else(self: Any) -> None:
        laptop = await self.device()
        others = [await self.device() for _ in range(3)]
        assert await laptop.json("/user-sessions/end-others", "POST") == {"ended": 3}
        for other in others:
            assert not await self.logged_in(other)
        assert await self.logged_in(laptop)
        assert await laptop.json("/user-sessions/end-others", "POST") == {"ended": 0}

    @gen_test
    async def test_the_manager_ends_a_users_sessions_outside_any_request(self: Any) -> None:
        laptop = await self.device()
        phone = await self.device()
        keep = next(s["handle"] for s in await self.sessions(laptop) if s["current"])
        infos = await self.manager.list_user_sessions(42)
        assert {info.handle for info in infos} >= {keep}
        assert not any(info.current for info in infos)
        assert await self.manager.end_user_sessions(42, keep=keep) == 1
        assert await self.logged_in(laptop)
        assert not await self.logged_in(phone)
        assert await self.manager.end_user_sessions("42") == 1
        assert not await self.logged_in(laptop)
        assert await self.manager.list_user_sessions(42) == []

    @gen_test
    async def test_the_list_never_shows_what_ended(self: Any) -> None:
        stays = await self.device()
        logged_out = await self.device()
        replaced = await self.device()
        expiring = await self.device()
        await logged_out.fetch("/user-session/destroy", "POST")
        await replaced.fetch("/user-sessions/login", "POST", json.dumps({"id": 42, "again": True}))
        assert len(await self.sessions(stays)) == 3  # stays, replaced's new one, expiring
        await self.advance(47 * 3600)
        await stays.json("/dashboard")  # a save: stays lives on
        await replaced.json("/dashboard")
        await self.advance(3600 + INDEX_GRACE)  # expiring's 48 hours are over
        assert len(await self.sessions(stays)) == 2
        assert await self.index_size("42") == 2  # the index dropped the rest too
        assert not await self.logged_in(expiring)

    @gen_test
    async def test_a_session_user_without_the_id_field_belongs_to_no_user(self: Any) -> None:
        browser = self.browser()
        await browser.json("/user-sessions/login", "POST", json.dumps({"name": "guest"}))
        assert await self.sessions(browser) == []
        assert await browser.json("/user-sessions/end-others", "POST") == {"ended": 0}
        assert await self.logged_in(browser)

    @gen_test
    async def test_a_login_racing_the_end_of_every_session_stays_listed(self: Any) -> None:
        laptop = await self.device()
        ending = asyncio.ensure_future(self.manager.end_user_sessions(42))
        late = asyncio.ensure_future(self.device())
        await asyncio.gather(ending, late)
        phone = late.result()
        listed = await self.manager.list_user_sessions(42)
        assert not await self.logged_in(laptop)
        # The racing login either ended with the others or is listed, so it can be ended.
        if await self.logged_in(phone):
            assert len(listed) == 1
            assert await self.manager.end_user_sessions(42) == 1
            assert not await self.logged_in(phone)
        else:
            assert listed == []


class MoreRules:
    @gen_test
    async def test_a_request_whose_session_ended_meanwhile_cannot_act_as_the_user(
        self: Any,
    ) -> None:
        attacker = await self.device()
        victim = await self.device()
        SlowLister.gate, SlowLister.entered = asyncio.Event(), asyncio.Event()
        slow = asyncio.ensure_future(attacker.fetch("/slow-lister", "POST"))
        await SlowLister.entered.wait()
        await victim.json("/user-sessions/end-others", "POST")  # ends the attacker's
        SlowLister.gate.set()
        assert json.loads((await slow).body) == {"listed": 0, "ended": 0}
        assert await self.logged_in(victim)

    @gen_test
    async def test_a_session_whose_user_was_taken_off_by_hand_is_not_listed(self: Any) -> None:
        laptop = await self.device()
        phone = await self.device()
        await phone.json("/by-hand", "POST")
        assert [s["current"] for s in await self.sessions(laptop)] == [True]

    @gen_test
    async def test_an_empty_user_id_is_a_user_too(self: Any) -> None:
        device = await self.device(user_id="")
        assert len(await self.sessions(device)) == 1
        assert await self.manager.end_user_sessions("") == 1
        assert not await self.logged_in(device)

    @gen_test
    async def test_a_listed_session_ends_400_days_after_its_login_whatever_its_use(
        self: Any,
    ) -> None:
        device = await self.device()
        await device.json("/expiry", "POST", f"seconds={60 * 86400}")
        for _ in range(8):  # in use every 45 days: each save gives it 60 days more
            await self.advance(45 * 86400)
            assert await self.logged_in(device)
        await self.advance(400 * 86400 - 8 * 45 * 86400)
        assert not await self.logged_in(device)


class RegenerationRules:
    @gen_test
    async def test_a_new_id_given_while_every_session_ends_does_not_survive(
        self: Any,
    ) -> None:
        laptop = await self.device()
        SlowRegenerate.gate, SlowRegenerate.entered = asyncio.Event(), asyncio.Event()
        slow = asyncio.ensure_future(laptop.fetch("/slow-regenerate", "POST"))
        await SlowRegenerate.entered.wait()
        assert await self.manager.end_user_sessions(42) == 1
        SlowRegenerate.gate.set()
        assert (await slow).code == 200
        assert not await self.logged_in(laptop)
        assert await self.manager.list_user_sessions(42) == []

    @gen_test
    async def test_a_new_id_keeps_the_session_and_drops_the_old_id(self: Any) -> None:
        laptop = await self.device()
        old = self.session_id(laptop)
        SlowRegenerate.gate, SlowRegenerate.entered = asyncio.Event(), asyncio.Event()
        SlowRegenerate.gate.set()
        assert (await laptop.fetch("/slow-regenerate", "POST")).code == 200
        assert self.session_id(laptop) != old
        assert await self.store.load(str(old)) is None
        assert await self.logged_in(laptop)
        assert len(await self.manager.list_user_sessions(42)) == 1


class CapRules:
    options = {"max_sessions_per_user": 2}  # noqa: RUF012

    @gen_test
    async def test_two_logins_at_once_do_not_end_each_other(self: Any) -> None:
        await self.device()
        await self.advance(1)
        first, second = await asyncio.gather(self.device(), self.device())
        alive = [await self.logged_in(device) for device in (first, second)]
        assert alive == [True, True]

    @gen_test
    async def test_a_login_past_the_cap_ends_the_least_recently_used(self: Any) -> None:
        first = await self.device()
        await self.advance(70)
        second = await self.device()
        await self.advance(70)
        await first.json("/session")  # first is now used more recently than second
        await self.advance(70)
        third = await self.device()
        assert await self.logged_in(first)
        assert not await self.logged_in(second)
        assert await self.logged_in(third)
        assert len(await self.sessions(third)) == 2


class UntrackedRules:
    options = {"track_devices": False}  # noqa: RUF012

    @gen_test
    async def test_without_device_tracking_neither_ip_nor_agent_is_kept(self: Any) -> None:
        laptop = await self.device()
        [info] = await self.sessions(laptop)
        assert (info["ip"], info["user_agent"]) == (None, None)


class MemoryCase(UserSessionsCase):
    async def index_size(self, owner: str) -> int:
        return len(self.store._index.get(owner, {}))


class RedisCase(RedisTimedCase, UserSessionsCase):
    async def index_size(self, owner: str) -> int:
        size: int = await self.store.client.hlen(f"{self.prefix}user:{owner}")
        return size


class TestOnMemory(Rules, MemoryCase):
    pass


class TestMoreOnMemory(MoreRules, MemoryCase):
    pass


class TestRegenerationOnMemory(RegenerationRules, MemoryCase):
    pass


class TestCapOnMemory(CapRules, MemoryCase):
    pass


class TestUntrackedOnMemory(UntrackedRules, MemoryCase):
    pass


class TestOnRedis(Rules, RedisCase):
    @gen_test
    async def test_a_read_is_one_hgetall_and_every_key_has_a_ttl(self) -> None:
        laptop = await self.device()
        client = self.store.client
        calls = await redis_commands(client, laptop.json("/session"))
        assert calls == {"hgetall": 1, "info": 1}
        await self.device()
        await self.sessions(laptop)
        async for key in client.scan_iter(match=self.prefix + "*"):
            assert await client.pttl(key) > 0, key

    @gen_test
    async def test_a_read_a_minute_after_the_last_use_writes_it_in_one_more_command(
        self,
    ) -> None:
        laptop = await self.device()
        await self.advance(SEEN_EVERY)
        await laptop.json("/session")  # Redis may not know the script yet: EVALSHA, EVAL
        await self.advance(SEEN_EVERY)
        calls = await redis_commands(self.store.client, laptop.json("/session"))
        assert calls == {"hgetall": 1, "evalsha": 1, "exists": 1, "hset": 1, "info": 1}
        calls = await redis_commands(self.store.client, laptop.json("/session"))
        assert calls == {"hgetall": 1, "info": 1}


class TestOnRedisCluster(Rules, RedisCase):
    cluster = True


class TestMoreOnRedis(MoreRules, RedisCase):
    pass


class TestRegenerationOnRedis(RegenerationRules, RedisCase):
    pass


class TestCapOnRedis(CapRules, RedisCase):
    pass


class TestUntrackedOnRedis(UntrackedRules, RedisCase):
    pass


def test_a_user_ends_a_session_served_by_another_process(redis_url: str) -> None:
    async def flow(urls: list[str]) -> None:
        client = tornado.httpclient.AsyncHTTPClient()
        a, b = Browser(client, urls[0]), Browser(client, urls[1])
        for browser in (a, b):
            await browser.json("/user-sessions/login", "POST", '{"id": 5}')
        assert await b.json("/dashboard") == {"visits": 1}
        assert await a.json("/user-sessions/end-others", "POST") == {"ended": 1}
        assert (await b.fetch("/dashboard")).code == 302
        assert (await a.fetch("/dashboard")).code == 200
        client.close()

    run_on_two_servers(redis_url, flow)
