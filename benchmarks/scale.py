"""How MemoryStore scales: memory per session, cost per operation, and the purge.

Each measurement runs in a fresh process (``python -m benchmarks.scale memory N`` or
``python -m benchmarks.scale purge N FRACTION``), which prints its result as JSON, so that one
measurement's memory does not blur the next.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import secrets
import subprocess
import sys
import time
from typing import Any

import tornado_user_session as tus

TTL = 3600.0
#: A typical small session user.
USER = '{{"_id":"{}","name":"Ada Lovelace","email":"ada@example.com","visits":12}}'


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def record() -> dict[str, str]:
    return {"user": USER.format(secrets.token_hex(16))}


async def fill(store: tus.MemoryStore, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        session_id = secrets.token_urlsafe(32)
        await store.create(session_id, record(), TTL)
        ids.append(session_id)
    return ids


async def per_op(call: Any, arguments: list[Any]) -> float:
    started = time.perf_counter()
    for argument in arguments:
        await call(*argument)
    return (time.perf_counter() - started) / len(arguments) * 1e6


async def memory(count: int) -> dict[str, float]:
    """Bytes per session beyond its data, and microseconds per store operation."""
    store = tus.MemoryStore(max_sessions=2 * count)
    data = len(record()["user"])
    gc.collect()
    before = rss()
    ids = await fill(store, count)
    gc.collect()
    per_session = (rss() - before - sys.getsizeof(ids)) / count
    sample = [ids[n] for n in range(0, count, max(1, count // 100_000))]
    change = {"user": USER.format("changed")}
    return {
        "sessions": count,
        "bytes_beyond_data": per_session - data,
        "data_bytes": data,
        "load_us": await per_op(store.load, [(i,) for i in sample]),
        "update_us": await per_op(store.update, [(i, change, (), TTL) for i in sample]),
        "create_us": await per_op(
            store.create, [(secrets.token_urlsafe(32), record(), TTL) for _ in sample]
        ),
    }


async def purge(count: int, fraction: float) -> dict[str, float]:
    """The time of one purge with *fraction* of *count* sessions expired, and its longest pause."""
    clock = Clock()
    store = tus.MemoryStore(max_sessions=count + 1, max_anonymous_sessions=1, clock=clock)
    expired = int(count * fraction)
    await fill(store, expired)
    clock.now = TTL / 2
    await fill(store, count - expired)
    clock.now = TTL + 1
    manager = tus.SessionManager(tus.Config(secret="s" * 32, store=store))

    longest = 0.0
    done = False

    async def watch() -> None:
        nonlocal longest
        while not done:
            started = time.perf_counter()
            await asyncio.sleep(0)
            longest = max(longest, time.perf_counter() - started)

    watcher = asyncio.ensure_future(watch())
    started = time.perf_counter()
    removed = await manager.purge()
    elapsed = time.perf_counter() - started
    done = True
    await watcher
    if removed != expired or len(store) != count - expired:
        raise RuntimeError(f"purge removed {removed} of {expired} expired sessions")
    return {
        "sessions": count,
        "expired": expired,
        "purge_ms": elapsed * 1000,
        "longest_pause_ms": longest * 1000,
    }


def measure(*arguments: str) -> dict[str, float]:
    """Run one measurement in a fresh process."""
    command = [sys.executable, "-m", "benchmarks.scale", *arguments]
    result: dict[str, float] = json.loads(
        subprocess.run(command, capture_output=True, text=True, check=True).stdout
    )
    return result


if __name__ == "__main__":
    kind, count = sys.argv[1], int(sys.argv[2])
    if kind == "memory":
        print(json.dumps(asyncio.run(memory(count))))
    else:
        print(json.dumps(asyncio.run(purge(count, float(sys.argv[3])))))
