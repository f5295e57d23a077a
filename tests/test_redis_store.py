"""RedisStore against a real redis-server: the contract, TTLs, atomic saves, outages."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
import traceback
import uuid
from pathlib import Path

import pytest
import redis.asyncio
import tornado.httpclient
import tornado.web
import trustme
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from tornado.testing import gen_test

import tornado_user_session as tus
from servers import RedisServer, free_port, wait_for_port
from support import Browser, RedisCase, SessionTestCase, run_on_two_servers, set_cookies
from tornado_user_session.bookkeeping import META_KEY
from tornado_user_session.testing import TTL, StoreContract

pytestmark = pytest.mark.timeout(60)


@pytest.mark.usefixtures("redis_for_case")
class TestRedisStoreContract(RedisCase, StoreContract):
    pass


class TestRedisClusterStoreContract(RedisCase, StoreContract):
    cluster = True


@pytest.mark.usefixtures("redis_for_case")
class TestRedisStore(RedisCase):
    @gen_test
    async def test_redis_expires_a_session_by_itself(self) -> None:
        await self.store.create("s1", {"a": "1"}, 0.2)
        assert await self.store.load("s1") == {"a": "1"}
        deadline = asyncio.get_running_loop().time() + 3
        while await self.store.load("s1") is not None:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)

    @gen_test
    async def test_no_key_is_ever_left_without_a_ttl(self) -> None:
        key = self.prefix + "s1"
        client = self.client
        await self.store.create("s1", {}, TTL)
        assert 0 < await client.pttl(key) <= TTL * 1000
        await self.store.update("s1", {"a": "1", "b": "2"}, (), TTL)
        assert 0 < await client.pttl(key) <= TTL * 1000
        await self.store.update("s1", {}, ["a", "b"], TTL)
        assert 0 < await client.pttl(key) <= TTL * 1000
        assert await self.store.update("gone", {"a": "1"}, (), TTL) is False
        assert await client.exists(self.prefix + "gone") == 0

    @gen_test
    async def test_a_session_is_one_hash_of_json_text_under_the_prefix(self) -> None:
        await self.store.create("s1", {"user": '{"_id":"u"}'}, TTL)
        client = self.client
        assert await client.type(self.prefix + "s1") == "hash"
        assert await client.hget(self.prefix + "s1", "user") == '{"_id":"u"}'
        assert [key async for key in client.scan_iter(match=self.prefix + "*")] == [
            self.prefix + "s1"
        ]

    @gen_test
    async def test_the_reserved_field_is_refused_by_name(self) -> None:
        with pytest.raises(tus.UnstorableValueError, match="reserves"):
            await self.store.create("s1", {"\x00": "1"}, TTL)

    @gen_test
    async def test_a_client_of_the_applications_own_is_left_open(self) -> None:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(self.redis_url)  # bytes, not decoded
        store = tus.RedisStore(client, prefix=self.prefix)
        await store.create("s1", {"user": '{"name":"Zoë"}'}, TTL)
        assert await store.load("s1") == {"user": '{"name":"Zoë"}'}
        await store.close()
        assert await client.ping()
        await client.aclose()

    @gen_test
    async def test_a_stored_value_that_is_not_json_is_no_session(self) -> None:
        manager = tus.SessionManager(tus.Config(secret="k" * 32, store=self.store))
        await self.client.hset(self.prefix + "s1", mapping={"\x00": "", "user": "{oops"})
        with self.assertLogs("tornado_user_session", logging.WARNING):
            session = await manager.load(manager.signer.sign("s1"))
        assert session.id is None


@pytest.mark.usefixtures("redis_for_case")
class TestOverHttpOnRedis(SessionTestCase):
    redis_url: str

    def make_store(self) -> tus.RedisStore:
        return tus.RedisStore.from_url(self.redis_url, prefix=f"test:{uuid.uuid4().hex}:")

    @gen_test
    async def test_login_counts_visits_and_logout_on_redis(self) -> None:
        browser = self.browser()
        await self.login(browser)
        assert await browser.json("/dashboard") == {"visits": 1}
        assert await browser.json("/dashboard") == {"visits": 2}
        await browser.fetch("/user-session/destroy", "POST")
        assert (await browser.fetch("/dashboard")).code == 302

    @gen_test
    async def test_init_starts_no_purge_timer_for_redis(self) -> None:
        await self.browser().fetch("/untouched")
        assert not self.manager.purging


@pytest.mark.usefixtures("redis_for_case")
class TestSaveUninitializedOnRedis(TestOverHttpOnRedis):
    options = {"save_uninitialized": True}  # noqa: RUF012

    @gen_test
    async def test_an_empty_session_is_kept(self) -> None:
        browser = self.browser()
        await browser.fetch("/untouched")
        session_id = self.session_id(browser)
        assert session_id is not None
        assert set(await self.store.load(session_id) or {"missing": ""}) == {META_KEY}


@pytest.mark.usefixtures("own_redis_for_case")
class TestRedisOutage(SessionTestCase):
    redis: RedisServer

    def make_store(self) -> tus.RedisStore:
        return tus.RedisStore.from_url(self.redis.url)

    async def timed(self, browser: object, path: str, method: str = "GET") -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await browser.fetch(path, method)  # type: ignore[attr-defined]
        return response.code, loop.time() - started

    @gen_test(timeout=30)
    async def test_redis_down_gives_a_fast_503_and_sessions_come_back_with_it(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.redis.stop()
        with self.assertLogs("tornado_user_session", logging.WARNING) as logs:
            for path, method in (("/dashboard", "GET"), ("/session", "GET")):
                code, seconds = await self.timed(browser, path, method)
                assert code == 503
                assert seconds < 2
            code, _ = await self.timed(browser, "/user-session/destroy", "POST")
            assert code == 503  # the session could not be deleted: say so
            assert (await self.browser().fetch("/untouched")).code == 200
            self.redis.start()  # empty: nothing is saved to disk
            assert (await browser.fetch("/dashboard")).code == 302
            await self.login(browser)
            assert await browser.json("/dashboard") == {"visits": 1}
        unavailable = [line for line in logs.output if "unavailable" in line]
        assert len(unavailable) == 1  # once per outage, not once per request
        assert any("available again" in line for line in logs.output)

    @gen_test(timeout=30)
    async def test_a_hung_redis_gives_a_503_within_2_seconds(self) -> None:
        browser = self.browser()
        await self.login(browser)
        self.redis.pause()
        try:
            with self.assertLogs("tornado_user_session", logging.WARNING):
                code, seconds = await self.timed(browser, "/dashboard")
        finally:
            self.redis.resume()
        assert code == 503
        assert seconds < 2
        assert await browser.json("/dashboard") == {"visits": 1}

    @gen_test(timeout=30)
    async def test_redis_hung_between_the_read_and_the_save_gives_a_503_within_2_seconds(
        self,
    ) -> None:
        browser = self.browser()
        await self.login(browser)
        WriteLater.loaded, WriteLater.go = asyncio.Event(), asyncio.Event()
        request = asyncio.ensure_future(self.timed(browser, "/write-later", "POST"))
        await WriteLater.loaded.wait()  # the session is read; now Redis hangs
        self.redis.pause()
        try:
            with self.assertLogs("tornado_user_session", logging.WARNING):
                started = asyncio.get_running_loop().time()
                WriteLater.go.set()
                code, _ = await asyncio.wait_for(request, 10)
                seconds = asyncio.get_running_loop().time() - started
        finally:
            self.redis.resume()
        assert code == 503
        assert seconds < 2


class WriteLater(tus.UserSessionMixin, tornado.web.RequestHandler):
    """Reads the session, waits for the test, then changes it."""

    loaded: asyncio.Event | None = None
    go: asyncio.Event | None = None

    async def post(self) -> None:
        assert self.loaded is not None
        assert self.go is not None
        self.loaded.set()
        await self.go.wait()
        self.session["later"] = True
        self.write({"ok": True})


TestRedisOutage.handlers = ((r"/write-later", WriteLater),)


async def two_processes_flow(urls: list[str]) -> None:
    """One browser served by two processes in turn: a session, a lifetime, a logout."""
    client = tornado.httpclient.AsyncHTTPClient()
    a, b = Browser(client, urls[0]), Browser(client, urls[1])
    await a.json("/user-session/start", "POST")
    assert await a.json("/dashboard") == {"visits": 1}
    b.cookies = a.cookies  # one browser, two servers
    assert await b.json("/dashboard") == {"visits": 2}
    # A lifetime chosen in one process holds for the saves of the other.
    assert await a.json("/expiry", "POST", "seconds=2592000") == {"expiry": 2592000}
    response = await b.fetch("/dashboard")
    assert set_cookies(response)["tornado-user-session"]["max-age"] == "2592000"
    assert await b.json("/user-session/destroy", "POST") == {"ok": True}
    assert (await a.fetch("/dashboard")).code == 302
    client.close()


def test_two_server_processes_share_sessions_and_their_lifetimes_through_redis(
    redis_url: str,
) -> None:
    run_on_two_servers(redis_url, two_processes_flow)


def test_two_server_processes_share_sessions_and_their_lifetimes_through_a_cluster(
    redis_cluster_url: str,
) -> None:
    run_on_two_servers(redis_cluster_url, two_processes_flow, cluster=True)


@pytest.mark.usefixtures("own_redis_for_case")
class TestMaxmemory(SessionTestCase):
    redis: RedisServer

    def make_store(self) -> tus.RedisStore:
        return tus.RedisStore.from_url(self.redis.url)

    @gen_test
    async def test_noeviction_refuses_new_sessions_once_redis_is_full(self) -> None:
        client = self.store.client
        used = int((await client.info("memory"))["used_memory"])
        await client.config_set("maxmemory", used + 2_000_000)
        await client.config_set("maxmemory-policy", "noeviction")
        cart = {"cart": "x" * 50_000}
        with self.assertLogs("tornado_user_session", logging.WARNING):
            codes = [(await self.browser().fetch("/session", "POST", cart)).code for _ in range(80)]
        assert codes.count(503) > 30, codes
        memory = await client.info("memory")
        assert int(memory["used_memory"]) < int(memory["maxmemory"]) + 200_000


@pytest.mark.usefixtures("redis_for_case")
class TestRecordsEditedByAnotherWriter(RedisCase):
    """Whatever another writer leaves under a session's key is no session, never a 500."""

    async def load_through_manager(self, session_id: str) -> tus.Session:
        manager = tus.SessionManager(tus.Config(secret="k" * 32, store=self.store))
        return await manager.load(manager.signer.sign(session_id))

    @gen_test
    async def test_each_foreign_record_is_no_session_and_logged_not_an_outage(self) -> None:
        key = self.prefix
        raw = redis.asyncio.Redis.from_url(self.redis_url)
        try:
            await raw.hset(key + "nomarker", mapping={"user": '{"_id":"u"}'})
            await raw.hset(key + "badutf8", mapping={"\x00": "", "user": b'"\xff\xfe"'})
            await raw.hset(key + "deep", mapping={"\x00": "", "user": "[" * 100_000})
            await raw.set(key + "string", "not a hash")
            await raw.rpush(key + "list", "a", "b")
        finally:
            await raw.aclose()
        for session_id in ("nomarker", "badutf8", "deep", "string", "list"):
            with self.assertLogs("tornado_user_session", logging.WARNING) as logs:
                session = await self.load_through_manager(session_id)
            assert session.id is None, session_id
            assert dict(session) == {}
            assert not any("unavailable" in line for line in logs.output), logs.output
            assert len(logs.output) == 1, logs.output

    @gen_test
    async def test_a_key_of_another_type_is_not_reported_as_an_outage(self) -> None:
        await self.client.set(self.prefix + "s1", "not a hash")
        with pytest.raises(tus.StoreDataError, match="WRONGTYPE"):
            await self.store.update("s1", {"a": "1"}, (), TTL)
        manager = tus.SessionManager(tus.Config(secret="k" * 32, store=self.store))
        with self.assertLogs("tornado_user_session", logging.WARNING) as logs:
            manager.store_failed(tus.StoreDataError("WRONGTYPE"))
            manager.store_failed(tus.StoreDataError("WRONGTYPE"))
        assert not any("unavailable" in line for line in logs.output)
        assert len(logs.output) == 2


@pytest.mark.usefixtures("redis_for_case")
class TestForeignRecordsOverHttp(SessionTestCase):
    redis_url: str

    def make_store(self) -> tus.RedisStore:
        self.prefix = f"test:{uuid.uuid4().hex}:"
        return tus.RedisStore.from_url(self.redis_url, prefix=self.prefix)

    @gen_test
    async def test_a_foreign_record_gives_a_fresh_session_not_a_500_or_503(self) -> None:
        browser = self.browser()
        await self.login(browser)
        session_id = self.session_id(browser)
        client = self.store.client
        await client.delete(self.prefix + str(session_id))
        await client.set(self.prefix + str(session_id), "another app's value")
        with self.assertLogs("tornado_user_session", logging.WARNING):
            response = await browser.fetch("/session")
        assert response.code == 200
        assert json.loads(response.body) == {"id": None, "session": {}}
        assert (await browser.fetch("/session", "POST", {"a": 1})).code == 200


class TestConnections:
    """Every way of reaching Redis that redis-py offers works through the store's own calls."""

    @staticmethod
    async def round_trip(store: tus.RedisStore) -> None:
        try:
            await store.create("s1", {"user": '{"id":"u"}'}, TTL)
            assert await store.load("s1") == {"user": '{"id":"u"}'}
            assert await store.update("s1", {"a": "1"}, (), TTL)
            assert await store.delete("s1")
        finally:
            await store.close()

    def test_tls_with_a_password(self, tmp_path: Path) -> None:
        authority = trustme.CA()
        certificate = authority.issue_cert("127.0.0.1")
        certificate.private_key_pem.write_to_path(tmp_path / "key.pem")
        certificate.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
        authority.cert_pem.write_to_path(tmp_path / "ca.pem")
        port = free_port()
        server = RedisServer(
            "--port", "0", "--tls-port", str(port),
            "--tls-cert-file", str(tmp_path / "cert.pem"),
            "--tls-key-file", str(tmp_path / "key.pem"),
            "--tls-ca-cert-file", str(tmp_path / "ca.pem"),
            "--tls-auth-clients", "no", "--requirepass", "s3cret",
            port=port,
        )  # fmt: skip
        server.start()
        try:
            url = f"rediss://:s3cret@127.0.0.1:{port}/0"
            trusting = tus.RedisStore.from_url(url, ssl_ca_certs=str(tmp_path / "ca.pem"))
            asyncio.run(self.round_trip(trusting))

            async def untrusted() -> None:  # a server whose certificate is not trusted
                store = tus.RedisStore.from_url(url)
                try:
                    with pytest.raises(tus.StoreError, match="certificate verify failed"):
                        await store.load("s1")
                finally:
                    await store.close()

            asyncio.run(untrusted())
        finally:
            server.close()

    def test_a_unix_socket_and_a_wrong_password(self, tmp_path: Path) -> None:
        socket_path = tmp_path / "redis.sock"
        server = RedisServer("--unixsocket", str(socket_path), "--requirepass", "s3cret")
        server.start()
        try:
            deadline = time.monotonic() + 10
            while not socket_path.exists():
                assert time.monotonic() < deadline
                time.sleep(0.02)
            url = f"unix://{socket_path}?db=0&password=s3cret"
            asyncio.run(self.round_trip(tus.RedisStore.from_url(url)))

            async def wrong_password() -> None:
                store = tus.RedisStore.from_url(f"redis://:wrong@127.0.0.1:{server.port}/0")
                try:
                    with pytest.raises(tus.StoreError, match="invalid username-password"):
                        await store.load("s1")
                finally:
                    await store.close()

            asyncio.run(wrong_password())
        finally:
            server.close()

    def test_a_client_managed_by_redis_sentinel(
        self, redis_server: RedisServer, tmp_path: Path
    ) -> None:
        port = free_port()
        (tmp_path / "sentinel.conf").write_text(
            f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
            f"sentinel monitor main 127.0.0.1 {redis_server.port} 1\n"
        )
        sentinel_server = subprocess.Popen(
            ["redis-server", str(tmp_path / "sentinel.conf"), "--sentinel"],
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port)

            async def flow() -> None:
                sentinels = [("127.0.0.1", port)]
                sentinel = Sentinel(sentinels, socket_connect_timeout=1)  # type: ignore[no-untyped-call]
                client = sentinel.master_for("main", protocol=2, retry=Retry(NoBackoff(), 0))
                await self.round_trip(tus.RedisStore(client))
                await client.aclose()
                for connection in sentinel.sentinels:
                    await connection.aclose()

            asyncio.run(flow())
        finally:
            sentinel_server.terminate()
            sentinel_server.wait(10)

    def test_an_applications_client_without_timeouts_still_fails_within_the_deadline(
        self, redis_server: RedisServer
    ) -> None:
        async def flow() -> None:
            client = redis.asyncio.Redis.from_url(redis_server.url)  # no timeouts, retries
            store = tus.RedisStore(client, timeout=0.5)
            await store.create("s1", {}, TTL)
            redis_server.pause()
            try:
                started = time.monotonic()
                with pytest.raises(tus.StoreError, match=r"within 0\.5 s"):
                    await store.load("s1")
                assert time.monotonic() - started < 1
            finally:
                redis_server.resume()
            assert await store.load("s1") == {}  # the next call connects again
            await client.aclose()

        asyncio.run(flow())


class TestKeptConnections:
    """What the store does with the connections it uses, and with what Redis answers on them."""

    def test_connections_closed_while_idle_are_replaced_before_a_call_is_sent(
        self, redis_server: RedisServer
    ) -> None:
        async def burst(store: tus.RedisStore) -> None:
            await asyncio.gather(*(store.load(f"s{number}") for number in range(8)))

        async def flow() -> None:
            store = tus.RedisStore.from_url(redis_server.url)
            await burst(store)  # eight connections kept
            redis_server.stop()  # a restart with no call under way: each kept one is dead
            redis_server.start()
            await asyncio.sleep(0.2)
            await burst(store)  # no spurious 503: Redis is up
            await store.close()

        asyncio.run(flow())

    def test_an_applications_bounded_pool_is_shared_not_drained(
        self, redis_server: RedisServer
    ) -> None:
        async def flow() -> None:
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                redis_server.url, max_connections=2, timeout=1
            )
            client = redis.asyncio.Redis(connection_pool=pool)
            store = tus.RedisStore(client)
            await asyncio.gather(*(store.load(f"s{number}") for number in range(5)))
            assert await client.set("the-applications-own", "1", ex=10)
            await client.aclose()
            await pool.disconnect()  # the application's pool: its own to close

        asyncio.run(flow())

    def test_stores_dropped_over_an_applications_client_keep_none_of_its_connections(
        self, redis_server: RedisServer
    ) -> None:
        async def flow() -> None:
            client = redis.asyncio.Redis.from_url(redis_server.url, max_connections=20)
            for _ in range(30):
                assert await tus.RedisStore(client).load("s1") is None
            await client.aclose()

        asyncio.run(flow())

    def test_an_error_answer_on_a_read_is_a_503_not_a_logout(
        self, redis_server: RedisServer
    ) -> None:
        async def flow() -> None:
            primary = RedisServer()
            primary.start()
            store = tus.RedisStore.from_url(redis_server.url)
            try:
                await store.create("s1", {"user": "{}"}, TTL)
                replica = redis.asyncio.Redis.from_url(redis_server.url)
                await replica.replicaof("127.0.0.1", primary.port)  # read-only from now on
                await replica.aclose()
                with pytest.raises(tus.StoreDataError, match="read only replica"):
                    await store.load("s1", idle_ttl=60)  # a read that writes
            finally:
                await store.close()
                primary.close()

        asyncio.run(flow())

    def test_a_cluster_node_is_refused_even_without_the_right_to_ask_it(
        self, redis_cluster_url: str
    ) -> None:
        async def flow() -> None:
            admin = redis.asyncio.Redis.from_url(redis_cluster_url)
            await admin.acl_setuser(
                "sessions", enabled=True, passwords=["+pw"], keys=["*"],
                commands=["+@all", "-info"],
            )  # fmt: skip
            await admin.aclose()
            port = redis_cluster_url.split(":")[-1].split("/")[0]
            store = tus.RedisStore.from_url(f"redis://sessions:pw@127.0.0.1:{port}/0")
            try:
                # Without INFO, the first key that lives on another node tells: from then on,
                # every call is refused, those of this node's keys too.
                refused, reasons = [], set()
                for number in range(20):
                    try:
                        await store.load(f"s{number}")
                    except tus.StoreDataError as exc:
                        reasons.add("cluster=True" in str(exc))
                        refused.append(number)
                assert reasons == {True}
                assert refused
                assert refused == list(range(refused[0], 20))
            finally:
                await store.close()

        asyncio.run(flow())

    def test_the_refusal_of_a_cluster_node_holds_on_to_no_request(
        self, redis_cluster_url: str
    ) -> None:
        async def flow() -> None:
            store = tus.RedisStore.from_url(redis_cluster_url)
            depths = []
            for _ in range(20):
                try:
                    await store.load("s1")
                except tus.StoreDataError as exc:
                    depths.append(len(traceback.extract_tb(exc.__traceback__)))
            await store.close()
            assert len(depths) == 20
            assert depths[-1] == depths[1]

        asyncio.run(flow())

    def test_a_single_connection_client_lists_a_users_sessions(
        self, redis_server: RedisServer
    ) -> None:
        async def flow() -> None:
            client = redis.asyncio.Redis.from_url(redis_server.url, single_connection_client=True)
            store = tus.RedisStore(client)
            await store.index_add("u1", "h1", "s1")
            await store.create("s1", {"user": "{}"}, TTL)
            assert [entry.handle for entry in await store.index_read("u1")] == ["h1"]
            await client.aclose()

        asyncio.run(flow())

    def test_an_index_entry_another_writer_left_is_dropped_not_a_500(
        self, redis_server: RedisServer
    ) -> None:
        async def flow() -> None:
            store = tus.RedisStore.from_url(redis_server.url)
            raw = redis.asyncio.Redis.from_url(redis_server.url)
            for foreign in ("no-space", "s1 later", b"\xff\xfe 1.0"):
                await raw.delete("tus:user:u1")
                await raw.hset("tus:user:u1", mapping={"h0": foreign})
                assert await store.index_read("u1") == []
                await store.index_add("u1", "h1", "s1")
            await raw.aclose()
            await store.close()

        asyncio.run(flow())

    def test_a_user_id_that_is_not_valid_unicode_is_refused_as_a_503(
        self, redis_server: RedisServer
    ) -> None:
        async def flow() -> None:
            store = tus.RedisStore.from_url(redis_server.url)
            with pytest.raises(tus.StoreDataError, match="not valid Unicode"):
                await store.index_add("\ud800", "h1", "s1")
            await store.close()

        asyncio.run(flow())
