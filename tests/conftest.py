from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest

from servers import REPORTS, RedisCluster, RedisServer, use_event_loop


def pytest_configure(config: pytest.Config) -> None:
    use_event_loop()  # TUS_EVENT_LOOP=uvloop: every test's loop is uvloop's


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a Redis for the tests: ``REDIS_URL``, or a throwaway server of their own."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """The URL of one node of a Redis Cluster for the tests: ``REDIS_CLUSTER_URL``, or a
    throwaway cluster of their own (three masters)."""
    if os.environ.get("REDIS_CLUSTER_URL"):
        yield os.environ["REDIS_CLUSTER_URL"]
        return
    cluster = RedisCluster()
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.close()


@pytest.fixture
def redis_cluster() -> Iterator[RedisCluster]:
    """A Redis Cluster of the test's own, whose nodes it may stop, freeze and start again."""
    cluster = RedisCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis of the test's own, which it may stop, freeze and start again."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_for_case(request: pytest.FixtureRequest) -> None:
    """Give a unittest-style test case the Redis URL as ``self.redis_url``: a Redis Cluster
    node's when the case sets ``cluster = True``."""
    cluster = getattr(request.instance, "cluster", False)
    request.instance.redis_url = request.getfixturevalue(
        "redis_cluster_url" if cluster else "redis_url"
    )


@pytest.fixture
def own_redis_for_case(request: pytest.FixtureRequest, redis_server: RedisServer) -> None:
    """Give a unittest-style test case a Redis of its own as ``self.redis``."""
    request.instance.redis = redis_server


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report
