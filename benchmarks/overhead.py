"""Request overhead: the same tiny handler with and without the library, under the same load."""

from __future__ import annotations

import http.client
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from servers import RedisCluster, RedisServer

from . import load
from .server import SERVERS

ROOT = Path(__file__).parent.parent

SERVER_CPU, LOAD_CPU = 0, 1

#: The best ratios to bare Tornado that the abandoned Tornado session libraries reached on Redis
#: (pycket, torndsession, tornado-session, with a connection pool); ours aims at twice theirs.
PEERS_READ, PEERS_CHANGE = 0.38, 0.30


@dataclass(frozen=True)
class Variant:
    name: str
    server: str  # one of server.SERVERS
    path: str
    cookie: bool  # whether the request carries a session cookie
    target: float | None  # the least acceptable ratio to bare Tornado (None: none set)
    sessions: int = 1  # how many live sessions the session's user has


#: Bare Tornado answers each request twice, without and with the same Cookie header the
#: logged-in requests carry: each variant is compared with bare Tornado answering the same
#: bytes, so the ratio is what the library costs, not what the client sends.
BARE, BARE_WITH_COOKIE = (
    Variant("bare Tornado", "bare", "/read", False, None),
    Variant("bare Tornado + cookie", "bare", "/read", True, None),
)
VARIANTS = [
    BARE,
    BARE_WITH_COOKIE,
    Variant("memory: no cookie", "memory", "/read", False, 0.97),
    Variant("memory: read user", "memory", "/read", True, 0.92),
    Variant("memory: change user", "memory", "/change", True, 0.88),
    Variant("redis: no cookie", "redis", "/read", False, 0.97),
    Variant("redis: read user", "redis", "/read", True, max(0.70, 2 * PEERS_READ)),
    Variant("redis: change user", "redis", "/change", True, max(0.60, 2 * PEERS_CHANGE)),
    Variant("memory+idle: read user", "memory+idle", "/read", True, 0.92),
    Variant("memory+idle: change user", "memory+idle", "/change", True, 0.88),
    Variant("redis+idle: read user", "redis+idle", "/read", True, max(0.70, 2 * PEERS_READ)),
    Variant("redis+idle: change user", "redis+idle", "/change", True, 0.60),
    Variant("memory: read, user of 50", "memory", "/read", True, 0.92, sessions=50),
    Variant(
        "redis: read, user of 50", "redis", "/read", True, max(0.70, 2 * PEERS_READ), sessions=50
    ),
    Variant("redis-cluster: read user", "redis-cluster", "/read", True, None),
    Variant("redis-cluster: change user", "redis-cluster", "/change", True, None),
]


@dataclass
class Row:
    variant: Variant
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    ratio: float


def log_in(port: int, sessions: int = 1) -> str:
    """Log a user of its own in *sessions* times on the server at *port*; return the Cookie
    header that carries the last of those sessions."""
    user = f"user-{port}-{sessions}"
    cookie = ""
    for _ in range(sessions):
        connection = http.client.HTTPConnection("127.0.0.1", port)
        connection.request("POST", f"/user-session/start?user={user}", body=b"")
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        cookie = response.getheader("Set-Cookie") or ""
        assert cookie, "no session cookie"
        connection.close()
    return cookie.split(";")[0]


def pin(pid: int, cpu: int) -> None:
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(pid, {cpu})


def run(
    rounds: int,
    seconds: float,
    connections: int,
    client: str,
    only: str = "",
    loop: str = "asyncio",
) -> list[Row]:
    """Load every variant *rounds* times, round by round, with the servers on *loop*, and
    return the medians.

    *only* keeps bare Tornado and the variants whose name contains it.
    """
    variants = [v for v in VARIANTS if v in (BARE, BARE_WITH_COOKIE) or only in v.name]
    redis = RedisServer()
    redis.start()
    cluster = RedisCluster() if any(v.server == "redis-cluster" for v in variants) else None
    if cluster:
        cluster.start()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "benchmarks.server", redis.url,
            *([cluster.url] if cluster else []), "--loop", loop,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        ready = server.stdout.readline().split() if server.stdout else []
        if len(ready) != 1 + len(SERVERS) or ready[0] != "ready":
            raise RuntimeError("the benchmark server did not start")
        ports = dict(zip(SERVERS, map(int, ready[1:]), strict=True))
        pin(server.pid, SERVER_CPU)
        for redis_server in [redis, *(cluster.nodes if cluster else [])]:
            pin(redis_server.pid, LOAD_CPU)
        cookies = {
            (variant.server, variant.sessions): log_in(ports[variant.server], variant.sessions)
            for variant in variants
            if variant.server != "bare"
        }
        # Bare Tornado gets the same Cookie header as the logged-in requests.
        cookies["bare", 1] = next(iter(cookies.values()), "")
        cpu = LOAD_CPU if (os.cpu_count() or 1) > 1 else 0

        def measure(variant: Variant, duration: float) -> load.Result:
            cookie = cookies[variant.server, variant.sessions] if variant.cookie else ""
            port = ports[variant.server]
            return load.run(port, variant.path, cookie, duration, connections, client, cpu)

        for variant in variants:  # warm up
            measure(variant, min(seconds, 1.0))
        results: dict[str, list[load.Result]] = {variant.name: [] for variant in variants}
        ratios: dict[str, list[float]] = {variant.name: [] for variant in variants}
        for _ in range(rounds):
            # Each variant runs right after bare Tornado answering the same requests, and
            # its ratio is to that run: the machine's speed drifts over seconds.
            for variant in variants:
                baseline = BARE_WITH_COOKIE if variant.cookie else BARE
                bare = measure(baseline, seconds)
                results[baseline.name].append(bare)
                run = bare if variant is baseline else measure(variant, seconds)
                if variant is not baseline:
                    results[variant.name].append(run)
                ratios[variant.name].append(run.requests_per_second / bare.requests_per_second)
    finally:
        server.terminate()
        server.wait(10)
        redis.close()
        if cluster:
            cluster.close()
    rows = []
    for variant in variants:
        runs = results[variant.name]
        rows.append(
            Row(
                variant,
                statistics.median(r.requests_per_second for r in runs),
                statistics.median(r.p50_ms for r in runs),
                statistics.median(r.p99_ms for r in runs),
                statistics.median(ratios[variant.name]),
            )
        )
    return rows


def default_client() -> str:
    return "wrk" if shutil.which("wrk") else "python"
