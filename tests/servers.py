"""Real servers for the tests: a throwaway redis-server or Redis Cluster, the event loop they
all run on, and the rule for missing ones.

Tests that need a server the machine lacks are skipped with a message saying how
to get it, unless ``TUS_REQUIRE_<NAME>=1`` is set (as CI does): then they fail.

``TUS_EVENT_LOOP=uvloop`` runs every test, and every server process the tests start, on
uvloop instead of asyncio's own loop.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Coroutine
from typing import Any, NoReturn

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


#: The event loop the tests run on: "asyncio" or "uvloop".
EVENT_LOOP = os.environ.get("TUS_EVENT_LOOP", "asyncio")


def use_event_loop() -> None:
    """Make new event loops of this process the ones :data:`EVENT_LOOP` names."""
    if EVENT_LOOP == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    elif EVENT_LOOP != "asyncio":
        raise ValueError(f"TUS_EVENT_LOOP must be asyncio or uvloop, not {EVENT_LOOP!r}")


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run a server process's *main* on the tests' event loop."""
    use_event_loop()
    asyncio.run(main)


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


def free_cluster_port() -> int:
    """A free port whose cluster bus port (10,000 above) is free too."""
    while True:
        port = free_port()
        if port + 10000 < 65536:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port


class RedisServer:
    """A redis-server of the tests' own on a free loopback port, with nothing saved to disk.

    With *options*, more ``--name value`` arguments for it.
    """

    def __init__(self, *options: str, port: int | None = None) -> None:
        if shutil.which("redis-server") is None:
            missing(
                "redis", "install redis-server (apt-get install -y redis-server) or set REDIS_URL"
            )
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.options = list(options)
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
                *self.options,
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


#: How each node of the tests' cluster runs: a failed node is noticed after 2 s.
CLUSTER_NODE = [
    "--cluster-enabled", "yes",
    "--cluster-config-file", "nodes.conf",
    "--cluster-node-timeout", "2000",
    "--cluster-require-full-coverage", "no",
]  # fmt: skip


class RedisCluster:
    """A Redis Cluster of the tests' own: three masters on loopback ports, no replicas.

    Each master keeps serving its slots while another is down
    (``cluster-require-full-coverage no``), as the README advises.
    """

    def __init__(self, masters: int = 3) -> None:
        if shutil.which("redis-cli") is None:
            missing("redis_cluster", "install redis-server, which brings redis-cli")
        self.nodes = [RedisServer(*CLUSTER_NODE, port=free_cluster_port()) for _ in range(masters)]
        self.url = self.nodes[0].url

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        subprocess.run(
            [
                "redis-cli", "--cluster", "create",
                *(f"127.0.0.1:{node.port}" for node in self.nodes),
                "--cluster-replicas", "0", "--cluster-yes",
            ],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        for node in self.nodes:
            while b"cluster_state:ok" not in subprocess.run(
                ["redis-cli", "-p", str(node.port), "cluster", "info"],
                capture_output=True, check=True, timeout=10,
            ).stdout:  # fmt: skip
                if time.monotonic() > deadline:
                    raise RuntimeError("the Redis Cluster did not come up")
                time.sleep(0.1)

    def close(self) -> None:
        for node in self.nodes:
            node.close()
