"""Instructions per request under callgrind: a measure that the machine's load cannot blur.

``python -m benchmarks.instructions [--requests 300]`` (needs valgrind) serves the benchmark's
applications under ``valgrind --tool=callgrind`` (Redis itself runs apart, uncounted), sends
each variant's requests one after another over a keep-alive connection with instrumentation
switched on only around them, and prints the instructions per request and the overhead over
bare Tornado answering the same requests. Kernel time is not counted: compare with the
wall-clock benchmark.
"""

from __future__ import annotations

import argparse
import glob
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from servers import RedisServer

from .overhead import ROOT, log_in
from .server import LOOPS, SERVERS

VARIANTS = [
    # name, server, path, cookie, compared with
    ("bare Tornado", "bare", "/read", False, None),
    ("bare Tornado + cookie", "bare", "/read", True, None),
    ("memory: no cookie", "memory", "/read", False, "bare Tornado"),
    ("memory: read user", "memory", "/read", True, "bare Tornado + cookie"),
    ("memory: change user", "memory", "/change", True, "bare Tornado + cookie"),
    ("memory+idle: read user", "memory+idle", "/read", True, "bare Tornado + cookie"),
    ("memory+idle: change user", "memory+idle", "/change", True, "bare Tornado + cookie"),
    ("memory: read, user of 50", "memory-50", "/read", True, "bare Tornado + cookie"),
    ("redis: no cookie", "redis", "/read", False, "bare Tornado"),
    ("redis: read user", "redis", "/read", True, "bare Tornado + cookie"),
    ("redis: change user", "redis", "/change", True, "bare Tornado + cookie"),
    ("redis+idle: read user", "redis+idle", "/read", True, "bare Tornado + cookie"),
    ("redis+idle: change user", "redis+idle", "/change", True, "bare Tornado + cookie"),
    ("redis: read, user of 50", "redis-50", "/read", True, "bare Tornado + cookie"),
]


def send(port: int, path: str, cookie: str, count: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Cookie": cookie} if cookie else {}
    for _ in range(count):
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
    connection.close()


def control(pid: int, *arguments: str) -> None:
    subprocess.run(["callgrind_control", *arguments, str(pid)], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    parser.add_argument("--requests", type=int, default=300, help="requests per variant (300)")
    parser.add_argument("--loop", choices=LOOPS, default="asyncio", help="event loop (asyncio)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed: apt-get install -y valgrind")
    out = tempfile.mkdtemp(prefix="tus-callgrind-")
    redis = RedisServer()
    redis.start()
    server = subprocess.Popen(
        [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out}/callgrind.out",
            sys.executable, "-m", "benchmarks.server", redis.url, "--loop", args.loop,
        ],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        ready = server.stdout.readline().split()
        ports = dict(zip(SERVERS, map(int, ready[1:]), strict=True))  # no cluster: port 0
        cookies = {kind: log_in(ports[kind]) for kind in ("memory", "memory+idle")}
        cookies |= {kind: log_in(ports[kind]) for kind in ("redis", "redis+idle")}
        for kind in ("memory", "redis"):  # the same server, a user with 50 sessions
            ports[f"{kind}-50"] = ports[kind]
            cookies[f"{kind}-50"] = log_in(ports[kind], 50)
        counts: dict[str, float] = {}
        for name, kind, path, with_cookie, _ in VARIANTS:
            cookie = cookies.get(kind, cookies["memory"]) if with_cookie else ""
            send(ports[kind], path, cookie, 50)  # warm up
            control(server.pid, "--zero")
            control(server.pid, "--instr=on")
            send(ports[kind], path, cookie, args.requests)
            control(server.pid, "--instr=off")
            control(server.pid, f"--dump={name.replace(' ', '_')}")
            time.sleep(0.5)
            newest = max(glob.glob(f"{out}/callgrind.out.*"), key=os.path.getmtime)
            totals = next(
                line for line in Path(newest).read_text().splitlines() if line.startswith("totals:")
            )
            counts[name] = int(totals.split()[1]) / args.requests
    finally:
        server.terminate()
        server.wait(60)
        redis.close()
        shutil.rmtree(out, ignore_errors=True)
    print(
        f"\nInstructions per request under callgrind on {args.loop} ({args.requests} requests each)"
    )
    print(f"{'variant':<26}{'instructions':>13}{'overhead':>10}")
    for name, _, _, _, baseline in VARIANTS:
        extra = f"{counts[name] / counts[baseline] - 1:+.1%}" if baseline else ""
        print(f"{name:<26}{counts[name]:>13,.0f}{extra:>10}")


if __name__ == "__main__":
    main()
