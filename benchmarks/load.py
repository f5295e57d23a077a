"""Load generators: wrk when it is installed, otherwise a small keep-alive asyncio client.

``python -m benchmarks.load PORT PATH COOKIE SECONDS CONNECTIONS`` runs the asyncio client and
prints its result as JSON.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def run(
    port: int, path: str, cookie: str, seconds: float, connections: int, client: str, cpu: int
) -> Result:
    """Load ``http://127.0.0.1:PORT/PATH`` for *seconds* from a process pinned to core *cpu*."""
    pin = ["taskset", "-c", str(cpu)] if shutil.which("taskset") else []
    if client == "wrk":
        command = [
            *pin, "wrk", "--latency", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            *(["-H", f"Cookie: {cookie}"] if cookie else []),
            f"http://127.0.0.1:{port}{path}",
        ]  # fmt: skip
        return parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    command = [
        *pin, sys.executable, "-m", "benchmarks.load",
        str(port), path, cookie, str(seconds), str(connections),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return Result(**json.loads(output))


def parse_wrk(output: str) -> Result:
    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        assert match, output
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
        return float(match.group(1)) * scale

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    assert errors is None, output
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert rate, output
    return Result(float(rate.group(1)), ms("50%"), ms("99%"))


async def _connection(port: int, request: bytes, deadline: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (started := time.perf_counter()) < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            length = re.search(rb"content-length:\s*(\d+)", head, re.I)
            assert length is not None
            await reader.readexactly(int(length.group(1)))
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def load(port: int, path: str, cookie: str, seconds: float, connections: int) -> Result:
    headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if cookie:
        headers += f"Cookie: {cookie}\r\n"
    request = (headers + "\r\n").encode()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    await asyncio.gather(
        *(_connection(port, request, deadline, latencies) for _ in range(connections))
    )
    cuts = statistics.quantiles(latencies, n=100)
    return Result(len(latencies) / seconds, cuts[49] * 1000, cuts[98] * 1000)


if __name__ == "__main__":
    port, path, cookie, seconds, connections = sys.argv[1:6]
    result = asyncio.run(load(int(port), path, cookie, float(seconds), int(connections)))
    print(json.dumps(asdict(result)))
