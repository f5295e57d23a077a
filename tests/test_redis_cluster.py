"""RedisStore on a real Redis Cluster (three masters): what is the cluster's own. The store
contract, the two-process test, lifetimes and a user's sessions run on the cluster beside their
standalone Redis runs, in their own modules."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings

import pytest
import redis.asyncio
from redis.asyncio.cluster import ClusterNode
from tornado.testing import gen_test

import tornado_user_session as tus
from servers import RedisCluster, RedisServer
from support import Browser, RedisCase, SessionTestCase
from tornado_user_session.testing import TTL

pytestmark = pytest.mark.timeout(90)


class TestClusterStore(RedisCase):
    cluster = True

    @gen_test
    async def test_sessions_spread_over_every_master(self) -> None:
        for number in range(30):
            await self.store.create(f"s{number}", {"n": str(number)}, TTL)
        client = self.client
        assert isinstance(client, redis.asyncio.RedisCluster)
        masters = client.get_primaries()
        assert len(masters) == 3
        holding = set()
        for number in range(30):
            key = f"{self.prefix}s{number}"
            node = client.get_node_from_key(key)
            assert node is not None
            holding.add(node.name)
            assert await self.store.load(f"s{number}") == {"n": str(number)}
        assert holding == {node.name for node in masters}

    @gen_test
    async def test_a_plain_store_on_a_cluster_node_refuses_every_key_saying_what_to_use(
        self,
    ) -> None:
        plain = tus.RedisStore.from_url(self.redis_url, prefix=self.prefix)
        try:
            for number in range(10):  # a third of them live on the node it asks
                with pytest.raises(tus.StoreDataError, match=r"from_url\(url, cluster=True\)"):
                    await plain.load(f"s{number}")
            with pytest.raises(tus.StoreDataError, match="Redis Cluster"):
                await plain.create("s1", {}, TTL)
        finally:
            await plain.close()


class TestMasterFailure(SessionTestCase):
    """One master stops or hangs: its sessions get a 503 within 2 s, the others go on."""

    redis_cluster: RedisCluster

    @pytest.fixture(autouse=True)
    def own_cluster(self, redis_cluster: RedisCluster) -> None:
        self.redis_cluster = redis_cluster

    def make_store(self) -> tus.RedisStore:
        return tus.RedisStore.from_url(self.redis_cluster.url, cluster=True)

    def tearDown(self) -> None:
        super().tearDown()
        collect_dropped_nodes()

    async def close_client(self) -> None:
        """Close the cluster client while the test's loop runs, with the node objects it
        dropped when it rebuilt its view of the cluster (redis-py 8.1 leaves their connections
        open): whatever still holds them, their sockets are closed now, not in a later test."""
        await self.store.close()
        ports = {node.port for node in self.redis_cluster.nodes}
        for node in [obj for obj in gc.get_objects() if isinstance(obj, ClusterNode)]:
            if node.port in ports:
                await node.disconnect()
        collect_dropped_nodes()

    async def browsers_by_node(self) -> dict[int, Browser]:
        """A logged-in browser whose session lives on each master, by the master's port."""
        client = self.store.client
        assert isinstance(client, redis.asyncio.RedisCluster)
        found: dict[int, Browser] = {}
        while len(found) < 3:
            browser = self.browser()
            await self.login(browser)
            node = client.get_node_from_key(f"tus:{self.session_id(browser)}")
            assert node is not None
            found.setdefault(int(node.port), browser)
        return found

    async def timed(self, browser: Browser, path: str) -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await browser.fetch(path)
        return response.code, loop.time() - started

    async def check_failure_of(self, failed: RedisServer, browsers: dict[int, Browser]) -> None:
        for port, browser in browsers.items():
            for _ in range(3):
                code, seconds = await self.timed(browser, "/dashboard")
                assert seconds < 2, (port, seconds)
                assert code == (503 if port == failed.port else 200), port

    @gen_test(timeout=60)
    async def test_a_stopped_master_fails_its_sessions_fast_and_only_those(self) -> None:
        browsers = await self.browsers_by_node()
        failed = self.redis_cluster.nodes[1]
        failed.stop()
        try:
            with self.assertLogs("tornado_user_session", logging.WARNING):
                await self.check_failure_of(failed, browsers)
        finally:
            await self.close_client()

    @gen_test(timeout=60)
    async def test_a_hung_master_fails_its_sessions_within_2_seconds_and_only_those(self) -> None:
        browsers = await self.browsers_by_node()
        failed = self.redis_cluster.nodes[2]
        failed.pause()
        try:
            with self.assertLogs("tornado_user_session", logging.WARNING):
                await self.check_failure_of(failed, browsers)
        finally:
            failed.resume()
        try:
            for browser in browsers.values():  # back without a restart
                assert (await browser.fetch("/dashboard")).code == 200
        finally:
            await self.close_client()


def collect_dropped_nodes() -> None:
    """After a node fails, redis-py's RedisCluster (8.1) rebuilds its view of the nodes and
    drops node objects without closing their connections: collect them now, so that their
    ResourceWarnings do not land in whichever test runs next."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_a_cluster_client_error_is_a_store_error_not_a_500() -> None:
    """A RedisCluster that can reach none of its nodes raises RedisClusterException, which is
    not a RedisError: the store still answers with a StoreError (a 503)."""

    async def flow() -> None:
        store = tus.RedisStore.from_url("redis://127.0.0.1:1/0", cluster=True)
        try:
            with pytest.raises(tus.StoreError):
                await store.load("s1")
        finally:
            await store.close()

    asyncio.run(flow())
