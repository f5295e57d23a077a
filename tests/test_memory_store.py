"""MemoryStore: the contract, its bound, and a purge that costs what expired."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from tornado.testing import AsyncTestCase

import tornado_user_session as tus
from support import FakeClock
from tornado_user_session.stores.base import INDEX_GRACE
from tornado_user_session.testing import TTL, StoreContract


class TestMemoryStoreContract(StoreContract, AsyncTestCase):
    store: tus.MemoryStore

    def setUp(self) -> None:
        super().setUp()
        self.clock = FakeClock()
        self.store = self.make_store()

    def make_store(self) -> tus.MemoryStore:
        return tus.MemoryStore(clock=self.clock)

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    async def index_size(self, owner: str) -> int:
        return len(self.store._index.get(owner, {}))


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def fill(
    store: tus.MemoryStore, count: int, ttl: float = TTL, start: int = 0, user: bool = False
) -> None:
    """Create sessions s<start>..., anonymous, or logged in (with a ``user`` key)."""
    for n in range(start, start + count):
        record = {"n": str(n), "user": "{}"} if user else {"n": str(n)}
        await store.create(f"s{n}", record, ttl)


def test_max_sessions_must_be_a_positive_integer() -> None:
    for bad in (0, -1, 1.5, "10", True):
        with pytest.raises(tus.ConfigError, match="max_sessions"):
            tus.MemoryStore(max_sessions=bad)  # type: ignore[arg-type]


def test_the_default_bound_is_100000_sessions() -> None:
    assert tus.MemoryStore().max_sessions == 100_000


def test_past_max_sessions_the_least_recently_used_is_evicted() -> None:
    async def scenario() -> None:
        store = tus.MemoryStore(max_sessions=4, max_anonymous_sessions=1, clock=FakeClock())
        await fill(store, 3, user=True)  # s0 s1 s2
        await store.load("s0")  # s0 is now the most recently used
        await store.update("s1", {"n": "x"}, (), TTL)  # and s1 after it
        await store.create("s3", {"user": "{}"}, TTL)
        assert len(store) == 3
        assert await store.load("s2") is None
        assert {n for n in ("s0", "s1", "s3") if await store.load(n) is not None} == {
            "s0",
            "s1",
            "s3",
        }

    run(scenario())


def test_purge_removes_only_what_expired_and_counts_it() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        store = tus.MemoryStore(clock=clock)
        await fill(store, 5, start=0)
        clock.advance(50)
        await fill(store, 3, start=5)
        await store.update("s0", {}, (), TTL)  # s0 saved again: lives on
        clock.advance(60)
        assert store.purge(1000) == 4  # s1..s4
        assert len(store) == 4
        assert await store.load("s0") is not None
        assert store.purge(1000) == 0

    run(scenario())


def test_purge_stops_at_its_limit() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        store = tus.MemoryStore(clock=clock)
        await fill(store, 25)
        clock.advance(TTL)
        assert store.purge(10) == 10
        assert store.purge(10) == 10
        assert store.purge(10) == 5
        assert len(store) == 0

    run(scenario())


def test_purge_cost_does_not_grow_with_what_is_stored() -> None:
    def purge_time(stored: int) -> float:
        clock = FakeClock()
        store = tus.MemoryStore(max_sessions=stored, clock=clock)
        asyncio.run(fill(store, stored))
        best = float("inf")
        for _ in range(20):
            started = time.perf_counter()
            store.purge(1000)  # nothing has expired
            best = min(best, time.perf_counter() - started)
        return best

    small, large = purge_time(100), purge_time(100_000)
    # A full scan would make the large store's purge about 1000 times slower.
    assert large < small * 20, (small, large)


def test_anonymous_sessions_cannot_push_out_logged_in_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        store = tus.MemoryStore(max_sessions=1000, clock=FakeClock())
        await store.create("user", {"user": '{"_id":"u"}'}, TTL)
        with caplog.at_level(logging.WARNING, "tornado_user_session"):
            await fill(store, 5000)  # anonymous sessions: no "user" key
        assert await store.load("user") == {"user": '{"_id":"u"}'}
        assert len(store) <= 1000
        assert caplog.records == []

    run(scenario())


def test_anonymous_sessions_have_their_own_smaller_budget() -> None:
    store = tus.MemoryStore(max_sessions=1000)
    assert store.max_anonymous_sessions == 100
    with pytest.raises(tus.ConfigError, match="max_anonymous_sessions"):
        tus.MemoryStore(max_sessions=10, max_anonymous_sessions=11)


def test_evicting_logged_in_sessions_is_logged_at_most_once_a_minute_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        store = tus.MemoryStore(max_sessions=10, max_anonymous_sessions=1, clock=clock)
        user = {"user": "{}"}
        with caplog.at_level(logging.WARNING, "tornado_user_session"):
            for n in range(9 + 5):
                await store.create(f"u{n}", user, TTL)
            assert len(caplog.records) == 1
            assert "evicted 1 logged-in session" in caplog.text
            clock.advance(61)
            await store.create("u-late", user, TTL)
        assert len(caplog.records) == 2
        assert "evicted 5 logged-in sessions" in caplog.records[1].getMessage()

    run(scenario())


def test_at_least_one_anonymous_session_and_two_in_all() -> None:
    for bad in (0, 10):
        with pytest.raises(tus.ConfigError, match="max_anonymous_sessions"):
            tus.MemoryStore(max_sessions=10, max_anonymous_sessions=bad)
    with pytest.raises(tus.ConfigError, match="max_sessions"):
        tus.MemoryStore(max_sessions=1)
    assert tus.MemoryStore(max_sessions=2).max_anonymous_sessions == 1


def test_the_index_holds_only_the_sessions_the_store_holds() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        store = tus.MemoryStore(max_sessions=100, max_anonymous_sessions=1, clock=clock)
        for n in range(500):  # more users than the store keeps sessions
            await store.index_add(f"user{n}", "h", f"s{n}")
            await store.create(f"s{n}", {"user": "{}"}, TTL)
        assert len(store) == 99

        def entries() -> int:
            return sum(len(entries) for entries in store._index.values())

        assert entries() == 99  # an evicted session takes its entry with it, at once
        assert len(store._indexed) == 99
        await store.delete("s499")
        assert entries() == 98
        clock.advance(INDEX_GRACE)
        while store.purge(1000) == 1000:
            pass
        assert entries() == 98
        clock.advance(TTL)
        store.purge(1000)
        assert store._index == {}

    run(scenario())
