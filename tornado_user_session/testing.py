"""Helpers for testing an application that uses tornado_user_session, and a store.

- :func:`login_cookie` logs a test client in without going through a form: it stores a new
  session whose user has the given fields and returns the ``Cookie`` header that carries it.
- :func:`session_of` reads back the session a response set (or a ``Cookie`` header names).
- :class:`StoreContract` is the suite every store passes: mix it into a test case of a store
  of your own.

They work in ``tornado.testing`` test cases (``AsyncHTTPTestCase`` with ``@gen_test``, or
``self.io_loop.run_sync(...)``) and under pytest alike::

    cookie = await login_cookie(self._app, name="ada")
    response = await self.http_client.fetch(self.get_url("/dashboard"),
                                            headers={"Cookie": cookie})
    assert (await session_of(self._app, response))["user"]["name"] == "ada"
"""

from __future__ import annotations

import secrets
import unittest
from typing import Any

import tornado.httpclient
import tornado.web
from tornado.testing import gen_test

from .manager import SETTINGS_KEY, SessionManager
from .mixin import session_cookie
from .session import Session
from .stores.base import INDEX_GRACE, SEEN_EVERY, SEEN_KEY, USER_KEY, Store

#: The lifetime the contract's records are stored with, in seconds.
TTL = 100.0


async def login_cookie(app: tornado.web.Application, **fields: Any) -> str:
    """Store a new logged-in session for a session user of these *fields* and return the
    ``Cookie`` header value that carries it (``"<name>=<signed id>"``).

    The session is what :meth:`~tornado_user_session.UserSessionMixin.start_user_session`
    makes: ``session["user"] == {"_id": <random id>, **fields}``, fresh, listed among its
    user's sessions. Join it to other cookies with ``"; "``.

    :raises TypeError: if a field is named ``_id``, which is the library's.
    :raises tornado_user_session.StoreError: if the application's store fails.
    """
    if "_id" in fields:
        raise TypeError("login_cookie(): '_id' is set by the library, not a field")
    manager = _manager(app)
    session = Session()
    user = {"_id": secrets.token_hex(16), **fields}
    manager.logged_in(session, user, user_agent="tornado_user_session.testing")
    session[USER_KEY] = user
    pending = manager.pending_save(session)
    assert pending is not None, "a session with a user always needs saving"
    await manager.save(session, pending)
    assert session.id is not None
    return f"{manager.config.name}={manager.signer.sign(session.id)}"


async def session_of(
    app: tornado.web.Application, source: tornado.httpclient.HTTPResponse | str
) -> dict[str, Any] | None:
    """Return the session (its keys and values) that *source* names, or None if there is none.

    It takes the cookie as the server does (only the exact text the library set), and reads
    the store without counting as a use: an idle session is not kept alive by looking at it.

    :param source: a response, whose ``Set-Cookie`` headers give the session cookie (None
        if the response cleared it or set none), or a ``Cookie`` header value.
    """
    manager = _manager(app)
    name = manager.config.name
    if isinstance(source, str):
        value = session_cookie(source, name)
    else:
        value = None
        for header in source.headers.get_list("Set-Cookie"):
            value = session_cookie(header.split(";")[0], name) or value
    session = await manager.load(value, use=False)
    return dict(session) if session.id is not None else None


def _manager(app: tornado.web.Application) -> SessionManager:
    manager = app.settings.get(SETTINGS_KEY)
    if not isinstance(manager, SessionManager):
        raise TypeError("this application has no user sessions: call tus.init(app) first")
    return manager


class StoreContract:
    """The contract every store passes, as tests: mix it into a ``tornado.testing.AsyncTestCase``
    that provides ``make_store()`` (a store of its own, called in ``setUp``) and
    ``advance(seconds)`` (make that much time pass for the store)::

        class TestMyStore(StoreContract, tornado.testing.AsyncTestCase):
            def setUp(self):
                super().setUp()
                self.clock = FakeClock()
                self.store = self.make_store()

            def make_store(self):
                return MyStore(clock=self.clock)

            async def advance(self, seconds):
                self.clock.now += seconds

    The index tests run for a store that sets ``supports_user_index`` (the test case then
    also provides ``async index_size(owner)``: how many entries *owner*'s index holds, live
    or not), the idle tests for one that sets ``supports_idle_timeout``.
    """

    store: Store

    def needs(self, feature: str) -> None:
        """Skip a test of an optional part of the contract this store does not offer."""
        if not getattr(self.store, feature):
            raise unittest.SkipTest(f"{type(self.store).__name__} does not set {feature}")

    def make_store(self) -> Store:
        raise NotImplementedError

    async def advance(self, seconds: float) -> None:
        raise NotImplementedError

    @gen_test
    async def test_an_unknown_id_loads_nothing(self) -> None:
        assert await self.store.load("unknown") is None

    @gen_test
    async def test_a_created_record_loads_back_as_a_copy(self) -> None:
        record = {"user": '{"_id":"u","name":"Zoë"}', "n": "1"}
        await self.store.create("s1", record, TTL)
        loaded = await self.store.load("s1")
        assert loaded == record
        assert loaded is not None
        loaded["n"] = "2"
        assert await self.store.load("s1") == record

    @gen_test
    async def test_an_empty_record_is_a_session_too(self) -> None:
        await self.store.create("s1", {}, TTL)
        assert await self.store.load("s1") == {}
        await self.store.update("s1", {"a": "1"}, (), TTL)
        assert await self.store.update("s1", {}, ["a"], TTL) is True
        assert await self.store.load("s1") == {}

    @gen_test
    async def test_create_replaces_a_record_under_the_same_id(self) -> None:
        await self.store.create("s1", {"a": "1"}, TTL)
        await self.store.create("s1", {"b": "2"}, TTL)
        assert await self.store.load("s1") == {"b": "2"}

    @gen_test
    async def test_update_sets_and_removes_keys_and_keeps_the_rest(self) -> None:
        await self.store.create("s1", {"a": "1", "b": "2", "c": "3"}, TTL)
        assert await self.store.update("s1", {"b": "20", "d": "4"}, ["c", "never-there"], TTL)
        assert await self.store.load("s1") == {"a": "1", "b": "20", "d": "4"}

    @gen_test
    async def test_overlapping_saves_of_different_keys_both_stay(self) -> None:
        await self.store.create("s1", {"user": "{}"}, TTL)
        # Two requests loaded {"user": "{}"}; one set "a", the other "b".
        assert await self.store.update("s1", {"a": "1"}, (), TTL)
        assert await self.store.update("s1", {"b": "2"}, (), TTL)
        assert await self.store.load("s1") == {"user": "{}", "a": "1", "b": "2"}

    @gen_test
    async def test_update_never_brings_back_a_deleted_record(self) -> None:
        await self.store.create("s1", {"a": "1"}, TTL)
        await self.store.delete("s1")
        assert await self.store.update("s1", {"a": "2"}, (), TTL) is False
        assert await self.store.update("s1", {}, (), TTL) is False
        assert await self.store.load("s1") is None

    @gen_test
    async def test_update_of_an_unknown_id_stores_nothing(self) -> None:
        assert await self.store.update("nobody", {"a": "1"}, (), TTL) is False
        assert await self.store.load("nobody") is None

    @gen_test
    async def test_delete_of_an_unknown_id_is_fine(self) -> None:
        await self.store.delete("nobody")
        assert await self.store.load("nobody") is None

    @gen_test
    async def test_a_record_expires_after_its_ttl(self) -> None:
        await self.store.create("s1", {"a": "1"}, TTL)
        await self.advance(TTL - 1)
        assert await self.store.load("s1") == {"a": "1"}
        await self.advance(1)
        assert await self.store.load("s1") is None

    @gen_test
    async def test_an_expired_record_is_not_brought_back_by_update(self) -> None:
        await self.store.create("s1", {"a": "1"}, TTL)
        await self.advance(TTL)
        assert await self.store.update("s1", {"a": "2"}, (), TTL) is False
        assert await self.store.load("s1") is None

    @gen_test
    async def test_loading_extends_nothing_updating_extends_the_ttl(self) -> None:
        await self.store.create("s1", {"a": "1"}, TTL)
        await self.advance(60)
        assert await self.store.load("s1") is not None
        assert await self.store.update("s1", {}, (), TTL)  # a touch, at 60 s
        await self.advance(TTL - 1)
        assert await self.store.load("s1") == {"a": "1"}
        await self.advance(1)
        assert await self.store.load("s1") is None

    @gen_test
    async def test_delete_says_whether_there_was_a_record(self) -> None:
        await self.store.create("s1", {"a": "1"}, TTL)
        assert await self.store.delete("s1") is True
        assert await self.store.delete("s1") is False
        assert await self.store.delete("nobody") is False

    @gen_test
    async def test_a_save_of_thousands_of_keys_works(self) -> None:
        record = {f"k{n}": str(n) for n in range(5000)}
        await self.store.create("s1", record, TTL)
        changed = {f"k{n}": "x" for n in range(5000)}
        removed = [f"k{n}" for n in range(5000, 10000)]
        assert await self.store.update("s1", changed, removed, TTL)
        assert await self.store.update("s1", {}, list(record), TTL)
        assert await self.store.load("s1") == {}

    @gen_test
    async def test_a_read_with_idle_ttl_extends_the_record(self) -> None:
        self.needs("supports_idle_timeout")
        await self.store.create("s1", {"a": "1"}, TTL, idle_ttl=10)
        await self.advance(9)
        assert await self.store.load("s1", idle_ttl=10) == {"a": "1"}
        await self.advance(9)  # 18 s after the save, 9 after the read
        assert await self.store.load("s1", idle_ttl=10) == {"a": "1"}
        await self.advance(10)
        assert await self.store.load("s1", idle_ttl=10) is None

    @gen_test
    async def test_a_read_without_idle_ttl_does_not_extend_an_idle_record(self) -> None:
        self.needs("supports_idle_timeout")
        await self.store.create("s1", {"a": "1"}, TTL, idle_ttl=10)
        await self.advance(9)
        assert await self.store.load("s1") == {"a": "1"}
        await self.advance(1)
        assert await self.store.load("s1") is None

    @gen_test
    async def test_an_idle_extension_never_passes_the_end_of_the_last_save(self) -> None:
        self.needs("supports_idle_timeout")
        await self.store.create("s1", {"a": "1"}, 20, idle_ttl=10)
        for _ in range(2):
            await self.advance(8)
            assert await self.store.load("s1", idle_ttl=10) == {"a": "1"}
        await self.advance(4)  # 20 s after the save, 4 after the last read
        assert await self.store.load("s1", idle_ttl=10) is None

    @gen_test
    async def test_an_update_with_idle_ttl_restarts_both_clocks(self) -> None:
        self.needs("supports_idle_timeout")
        await self.store.create("s1", {"a": "1"}, 20, idle_ttl=10)
        await self.advance(8)
        assert await self.store.update("s1", {"a": "2"}, (), 20, idle_ttl=10)
        await self.advance(9)
        assert await self.store.load("s1", idle_ttl=10) == {"a": "2"}
        await self.advance(9)  # 18 s after the update
        assert await self.store.load("s1") == {"a": "2"}
        await self.advance(3)  # 21 s after the update: its end
        assert await self.store.load("s1") is None

    @gen_test
    async def test_an_index_lists_a_users_live_sessions_with_their_records(self) -> None:
        self.needs("supports_user_index")
        await self.store.index_add("u1", "h1", "s1")
        await self.store.create("s1", {"a": "1"}, TTL)
        await self.store.index_add("u1", "h2", "s2")
        await self.store.create("s2", {"b": "2"}, TTL)
        await self.store.index_add("u2", "h3", "s3")
        found = {entry.handle: entry for entry in await self.store.index_read("u1")}
        assert set(found) == {"h1", "h2"}
        assert (found["h1"].session_id, found["h1"].record) == ("s1", {"a": "1"})
        assert TTL - 2 < found["h2"].ttl <= TTL
        assert await self.store.index_read("nobody") == []

    @gen_test
    async def test_an_index_drops_what_ended_but_keeps_what_is_being_stored(self) -> None:
        self.needs("supports_user_index")
        await self.store.index_add("u1", "deleted", "s1")
        await self.store.create("s1", {}, TTL)
        await self.store.index_add("u1", "expiring", "s2")
        await self.store.create("s2", {}, 10)
        await self.store.index_add("u1", "not-yet", "s3")  # its login is still storing it
        listed = {entry.handle for entry in await self.store.index_read("u1")}
        assert listed == {"deleted", "expiring"}  # s3 not stored yet: not listed
        await self.store.delete("s1")
        await self.advance(INDEX_GRACE)
        await self.store.index_add("u1", "new", "s4")
        await self.store.create("s4", {}, TTL)
        assert [entry.handle for entry in await self.store.index_read("u1")] == ["new"]
        assert await self.index_size("u1") == 1  # the ended ones are gone from the index

    @gen_test
    async def test_index_remove_forgets_entries(self) -> None:
        self.needs("supports_user_index")
        await self.store.index_add("u1", "h1", "s1")
        await self.store.create("s1", {}, TTL)
        await self.store.index_remove("u1", ["h1", "unknown"])
        assert await self.store.index_read("u1") == []

    @gen_test
    async def test_a_read_writes_a_stale_last_use_and_only_that(self) -> None:
        self.needs("supports_user_index")
        await self.store.create("s1", {SEEN_KEY: "1000.0", "a": "1"}, 100)
        await self.store.create("anonymous", {"a": "1"}, 100)
        loaded = await self.store.load("s1", seen_at=1000.0 + SEEN_EVERY - 1)
        assert loaded == {SEEN_KEY: "1000.0", "a": "1"}
        assert (await self.store.load("s1"))[SEEN_KEY] == "1000.0"  # type: ignore[index]
        await self.store.load("s1", seen_at=1000.0 + SEEN_EVERY)
        assert (await self.store.load("s1"))[SEEN_KEY] == repr(1000.0 + SEEN_EVERY)  # type: ignore[index]
        await self.store.load("anonymous", seen_at=5000.0)
        assert await self.store.load("anonymous") == {"a": "1"}
        await self.advance(99)  # the writes did not extend the lifetime
        assert await self.store.load("s1") is not None
        await self.advance(1)
        assert await self.store.load("s1") is None

    async def index_size(self, owner: str) -> int:
        """How many entries *owner*'s index holds, live or not."""
        raise NotImplementedError

    @gen_test
    async def test_an_index_never_lists_an_expired_session(self) -> None:
        self.needs("supports_user_index")
        await self.store.index_add("u1", "short", "s1")
        await self.store.create("s1", {}, 5)
        await self.advance(6)  # expired, within the index's grace, not purged
        assert await self.store.index_read("u1") == []
