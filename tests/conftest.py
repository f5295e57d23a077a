from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest

from servers import REPORTS, RedisServer


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
def redis_for_case(request: pytest.FixtureRequest, redis_url: str) -> None:
    """Give a unittest-style test case the Redis URL as ``self.redis_url``."""
    request.instance.redis_url = redis_url


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
