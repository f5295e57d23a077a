"""A store on Redis (or Valkey), shared by every process and host of a deployment.

Needs the ``redis`` package: ``pip install tornado_user_session[redis]``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

from ..bookkeeping import MAX_DURATION
from ..errors import MissingDependencyError, StoreDataError, StoreError, UnstorableValueError
from .base import INDEX_GRACE, SEEN_EVERY, IndexedSession, Record, Store

try:
    import redis.asyncio
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.client import NEVER_DECODE
    from redis.exceptions import NoScriptError, RedisError, ResponseError
except ImportError as exc:  # pragma: no cover - tested in a subprocess without redis
    raise MissingDependencyError(
        "RedisStore needs the redis package: pip install tornado_user_session[redis]"
    ) from exc

T = TypeVar("T")

log = logging.getLogger("tornado_user_session")

#: A hash field that keeps an empty session's hash in existence (Redis drops empty hashes).
#: It is the one name a session key cannot have in this store.
PRESENT = "\x00"

# Every script starts with this: Redis 5 and 6 need it before a script that reads the
# clock may write (Redis 7 always replicates a script's effects).
_EFFECTS = "if redis.replicate_commands then redis.replicate_commands() end\n"

# Saves a session. KEYS[1] the session; ARGV: 'c' to create it anew or 'u' to update it,
# its lifetime and idle timeout in ms (0: none), the number of changed fields, those
# fields and values, then the fields removed. An update applies to an existing session
# only: a session deleted (logout) or expired meanwhile stays gone. Creating writes nothing
# before its HSET, so that Redis's maxmemory refuses it (a script may go past maxmemory once
# it has written). The marker field
# holds the end this save gives the session (ms, Redis's clock), which a read's idle
# extension never passes. Lua's unpack() takes at most about 8,000 values, so fields go
# 1,000 at a time: any number of keys works.
_SAVE = (
    _EFFECTS
    + """
if ARGV[1] == 'u' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[1])  -- a fresh id is never there: no write before the HSET below
end
local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)
local ends = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], '\\0', string.format('%d', ends))
local last_set = 4 + 2 * tonumber(ARGV[4])
for i = 5, last_set, 2000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 1999, last_set)))
end
for i = last_set + 1, #ARGV, 1000 do
  redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
local idle = tonumber(ARGV[3])
if idle > 0 and now + idle < ends then ends = now + idle end
redis.call('PEXPIREAT', KEYS[1], ends)
return 1
"""
)

# Reads a session, and does in the same round trip what the read owes the session's
# bookkeeping. ARGV: the idle timeout in ms (0: none), the time of this use (seconds since
# the epoch, '' for none), and how stale the last use may grow (seconds). With an idle
# timeout, the session is extended that long from now, never past the end its last save
# gave it (the marker field). A logged-in session's last use (its SEEN field) is written
# when it has grown stale; a session without that field is not written.
_LOAD_TOUCHING = (
    _EFFECTS
    + """
local fields = redis.call('HGETALL', KEYS[1])
local ends, seen
for i = 1, #fields, 2 do
  if fields[i] == '\\0' then ends = tonumber(fields[i + 1])
  elseif fields[i] == '\\0seen' then seen = tonumber(fields[i + 1]) end
end
local idle = tonumber(ARGV[1])
if ends and idle > 0 then
  local time = redis.call('TIME')
  local at = time[1] * 1000 + math.floor(time[2] / 1000) + idle
  if ends < at then at = ends end
  redis.call('PEXPIREAT', KEYS[1], at)
end
if seen and ARGV[2] ~= '' and tonumber(ARGV[2]) - seen >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], '\\0seen', ARGV[2])
end
return fields
"""
)


class RedisStore(Store):
    """Keeps each session in a Redis hash, one field per top-level key, JSON text.

    A save writes only the fields that changed, in one atomic round trip, and never
    recreates a session that was deleted meanwhile. Expiry is Redis's own (every key
    has a TTL), so no purge runs. A session is one key, so Redis Cluster works too.

    A key under the prefix that is not a session this store wrote (another type, a
    hash without the store's marker field, text that is not UTF-8) loads as no
    session and is logged; each application needs a prefix of its own. Run Redis
    with ``maxmemory-policy`` ``noeviction`` or ``volatile-ttl``, so that memory
    pressure fails writes or drops the sessions nearest their end rather than
    arbitrary ones.

    :param client: a ``redis.asyncio.Redis`` client that the application owns and
        closes. Give it short timeouts and no retries, as :meth:`from_url` does, so
        that a request fails fast with a 503 when Redis is unreachable.
    :param prefix: put before each session id to make its key (default ``"tus:"``).
        A user's index of sessions is the hash ``<prefix>user:<user id>``.
    :param clock: the wall-clock time of the index's entries, in seconds since the
        epoch (default :func:`time.time`); inject a fake one in tests.
    """

    supports_idle_timeout = True
    supports_user_index = True

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = "tus:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._now = clock
        self.client = client
        self.prefix = prefix
        self._owns_client = False
        self._save = client.register_script(_SAVE)
        self._load_touching = client.register_script(_LOAD_TOUCHING)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "tus:",
        connect_timeout: float = 1.0,
        timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
        **client_options: Any,
    ) -> RedisStore:
        """Build a store with a client of its own, closed by :meth:`close`.

        :param url: such as ``"redis://localhost:6379/0"`` (``rediss://`` for TLS,
            ``unix://`` for a socket).
        :param connect_timeout: seconds to wait for a connection (default 1).
        :param timeout: seconds to wait for an answer (default 1). With these
            defaults a request fails within 2 seconds when Redis is down or hung.
        :param client_options: passed on to ``redis.asyncio.Redis.from_url``.
        """
        options: dict[str, Any] = {
            "socket_connect_timeout": connect_timeout,
            "socket_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
            "decode_responses": True,
            **client_options,
        }
        store = cls(redis.asyncio.Redis.from_url(url, **options), prefix=prefix, clock=clock)
        store._owns_client = True
        return store

    async def load(
        self, session_id: str, *, idle_ttl: float | None = None, seen_at: float | None = None
    ) -> dict[str, str] | None:
        key = self.prefix + session_id
        try:
            fields = await _redis(self._read(key, idle_ttl, seen_at))
        except StoreDataError as exc:
            _not_a_session(key, exc)
            return None
        if not fields:
            return None
        try:
            record = {_text(field): _text(value) for field, value in fields.items()}
        except UnicodeDecodeError as exc:
            _not_a_session(key, exc)
            return None
        if record.pop(PRESENT, None) is None:
            _not_a_session(key, "no marker field")
            return None
        return record

    async def _read(
        self, key: str, idle_ttl: float | None, seen_at: float | None
    ) -> dict[bytes, bytes]:
        """HGETALL, or the script that also does the read's bookkeeping; undecoded, so that
        text another writer left that is not UTF-8 is caught by load()."""
        client: Any = self.client  # execute_command is untyped
        raw = {NEVER_DECODE: True}
        if idle_ttl is None and seen_at is None:
            fields: dict[bytes, bytes] = await client.execute_command(
                "HGETALL", key, keys=[key], **raw
            )
            return fields
        idle = 0 if idle_ttl is None else _ms(idle_ttl)
        seen = "" if seen_at is None else repr(float(seen_at))
        args = (1, key, idle, seen, SEEN_EVERY)
        try:
            flat = await client.execute_command("EVALSHA", self._load_touching.sha, *args, **raw)
        except NoScriptError:
            flat = await client.execute_command("EVAL", _LOAD_TOUCHING, *args, **raw)
        pairs = iter(flat)
        return dict(zip(pairs, pairs, strict=False))

    def _index_key(self, owner: str) -> str:
        return f"{self.prefix}user:{owner}"

    async def index_add(self, owner: str, handle: str, session_id: str) -> None:
        key = self._index_key(owner)
        client: Any = self.client  # decoded answers: text, not bytes
        entries: dict[str, str] = await _redis(client.hgetall(key))
        gone = await self._gone(entries)
        async with self.client.pipeline(transaction=False) as pipe:
            if gone:
                pipe.hdel(key, *gone)
            pipe.hset(key, handle, _entry(session_id, self._now()))
            pipe.pexpire(key, MAX_DURATION * 1000)
            await _redis(pipe.execute())

    async def index_read(self, owner: str) -> list[IndexedSession]:
        key = self._index_key(owner)
        client: Any = self.client  # decoded answers: text, not bytes
        entries: dict[str, str] = await _redis(client.hgetall(key))
        if not entries:
            return []
        handles = list(entries)
        ids = [_entry_session(entries[handle]) for handle in handles]
        async with client.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.execute_command("HGETALL", self.prefix + session_id, **{NEVER_DECODE: True})
                pipe.pttl(self.prefix + session_id)
            answers = await _redis(pipe.execute(raise_on_error=False))
        found, gone = [], []
        now = self._now()
        for handle, session_id, fields, ttl in zip(
            handles, ids, answers[::2], answers[1::2], strict=True
        ):
            record = _session_record(fields) if isinstance(ttl, int) and ttl > 0 else None
            if record is not None:
                found.append(IndexedSession(handle, session_id, record, ttl / 1000))
            elif _past_grace(entries[handle], now):
                gone.append(handle)
        async with self.client.pipeline(transaction=False) as pipe:
            if gone:
                pipe.hdel(key, *gone)
            pipe.pexpire(key, MAX_DURATION * 1000)
            await _redis(pipe.execute())
        return found

    async def index_remove(self, owner: str, handles: Collection[str]) -> None:
        if handles:
            await _redis(self.client.hdel(self._index_key(owner), *handles))

    async def _gone(self, entries: dict[str, str]) -> list[str]:
        """The handles of *entries* whose sessions are gone (past the grace of a new one)."""
        if not entries:
            return []
        handles = list(entries)
        async with self.client.pipeline(transaction=False) as pipe:
            for handle in handles:
                pipe.exists(self.prefix + _entry_session(entries[handle]))
            exists = await _redis(pipe.execute())
        now = self._now()
        return [
            handle
            for handle, there in zip(handles, exists, strict=True)
            if not there and _past_grace(entries[handle], now)
        ]

    async def create(
        self, session_id: str, record: Record, ttl: float, *, idle_ttl: float | None = None
    ) -> None:
        await self._write("c", session_id, record, (), ttl, idle_ttl)

    async def update(
        self,
        session_id: str,
        changed: Record,
        removed: Collection[str],
        ttl: float,
        *,
        idle_ttl: float | None = None,
    ) -> bool:
        return await self._write("u", session_id, changed, removed, ttl, idle_ttl)

    async def _write(
        self,
        mode: str,
        session_id: str,
        changed: Record,
        removed: Collection[str],
        ttl: float,
        idle_ttl: float | None,
    ) -> bool:
        _check_keys(changed)
        args: list[str | int] = [mode, _ms(ttl), 0 if idle_ttl is None else _ms(idle_ttl)]
        args.append(len(changed))
        for field, text in changed.items():
            args += (field, text)
        args += [field for field in removed if field != PRESENT]
        return bool(await _redis(self._save(keys=[self.prefix + session_id], args=args)))

    async def delete(self, session_id: str) -> bool:
        return bool(await _redis(self.client.delete(self.prefix + session_id)))

    async def close(self) -> None:
        """Close the client if this store made it (:meth:`from_url`)."""
        if self._owns_client:
            await self.client.aclose()


async def _redis(call: Awaitable[T]) -> T:
    """Await a Redis call, raising its failure as a StoreError.

    An error answer (a key of another type, a script error) is a StoreDataError: Redis is
    up, so it is not an outage.
    """
    try:
        return await call
    except ResponseError as exc:
        raise StoreDataError(f"Redis refused the operation: {exc}") from exc
    except (RedisError, OSError, asyncio.TimeoutError) as exc:
        raise StoreError(f"Redis failed: {exc}") from exc


# A user's index maps each handle to an entry: the session id and when it was added.


def _entry(session_id: str, added: float) -> str:
    return f"{session_id} {added}"


def _entry_session(entry: str) -> str:
    return entry.split(" ")[0]


def _past_grace(entry: str, now: float) -> bool:
    """Whether an entry is old enough that its session, if missing, is gone for good."""
    return now - float(entry.split(" ")[1]) >= INDEX_GRACE


def _session_record(fields: object) -> dict[str, str] | None:
    """The record in an undecoded HGETALL answer, or None if it is not a session's."""
    if not isinstance(fields, dict) or not fields:
        return None
    try:
        record = {_text(field): _text(value) for field, value in fields.items()}
    except UnicodeDecodeError:
        return None
    return None if record.pop(PRESENT, None) is None else record


def _not_a_session(key: str, reason: object) -> None:
    log.warning("tornado_user_session: %r is not a session (%s); treating it as none", key, reason)


def _check_keys(record: Record) -> None:
    if PRESENT in record:
        raise UnstorableValueError(PRESENT, record[PRESENT], "RedisStore reserves this key")


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value  # strict UTF-8


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
