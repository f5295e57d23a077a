"""The rule for tests whose server is missing: skipped, or failed where CI requires it."""

from __future__ import annotations

import pytest

from servers import missing


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
