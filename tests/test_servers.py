"""The rule for tests whose server is missing (skipped, or failed where CI requires it), and
the event loop they run on."""

from __future__ import annotations

import asyncio

import pytest
from tornado.testing import AsyncTestCase, gen_test

from servers import EVENT_LOOP, missing


def test_a_missing_server_skips_the_test_with_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TUS_REQUIRE_REDIS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        missing("redis", "apt-get install -y redis-server")


def test_a_missing_server_fails_the_test_where_it_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUS_REQUIRE_REDIS", "1")
    with pytest.raises(pytest.fail.Exception, match="TUS_REQUIRE_REDIS=1"):
        missing("redis", "apt-get install -y redis-server")


class TestEventLoop(AsyncTestCase):
    @gen_test
    async def test_the_tests_run_on_the_event_loop_asked_for(self) -> None:
        loop = asyncio.get_running_loop()
        assert type(loop).__module__.split(".")[0] == EVENT_LOOP
