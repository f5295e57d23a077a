"""Real servers for the tests: a throwaway redis-server, and the rule for missing ones.

Tests that need a server the machine lacks are skipped with a message saying how
to get it, unless ``TUS_REQUIRE_<NAME>=1`` is set (as CI does): then they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import NoReturn

import pytest

#: What Chromium needs to run headless here, as root, with no network but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: Where the reports of a test's phases are kept on its item, so a fixture can tell if it failed.
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def missing(name: str, how: str) -> NoReturn:
    """Skip the test for want of *name*, or fail it where it is required."""
    message = f"{name} is not available: {how}"
    if os.environ.get(f"TUS_REQUIRE_{name.upper()}") == "1":
        pytest.fail(message + f" (TUS_REQUIRE_{name.upper()}=1 makes this a failure)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class RedisServer:
    """A redis-server of the tests' own on a free loopback port, with nothing saved to disk."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            missing(
                "redis", "install redis-server (apt-get install -y redis-server) or set REDIS_URL"
            )
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="tus-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", self._dir.name,
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)

    @property
    def pid(self) -> int:
        assert self._process is not None, "the server is not running"
        return self._process.pid

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None

    def pause(self) -> None:
        """Freeze the server: it accepts connections but answers nothing, as a hung one."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self._process is not None:
            self.resume()
        self.stop()
        self._dir.cleanup()
