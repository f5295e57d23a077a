"""A store on Redis (or Valkey), shared by every process and host of a deployment.

Needs the ``redis`` package: ``pip install tornado_user_session[redis]``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Collection
from typing import Any, TypeVar

from ..errors import MissingDependencyError, StoreDataError, StoreError, UnstorableValueError
from .base import Record, Store

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

# Reads a session and extends it ARGV[1] ms from now, never past the end its last save
# gave it: the idle timeout's bookkeeping rides on the read's round trip.
_LOAD_EXTENDING = (
    _EFFECTS
    + """
local fields = redis.call('HGETALL', KEYS[1])
local ends
for i = 1, #fields, 2 do
  if fields[i] == '\\0' then ends = tonumber(fields[i + 1]) break end
end
if ends then
  local time = redis.call('TIME')
  local at = time[1] * 1000 + math.floor(time[2] / 1000) + tonumber(ARGV[1])
  if ends < at then at = ends end
  redis.call('PEXPIREAT', KEYS[1], at)
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
    """

    supports_idle_timeout = True

    def __init__(self, client: redis.asyncio.Redis, *, prefix: str = "tus:") -> None:
        self.client = client
        self.prefix = prefix
        self._owns_client = False
        self._save = client.register_script(_SAVE)
        self._load_extending = client.register_script(_LOAD_EXTENDING)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "tus:",
        connect_timeout: float = 1.0,
        timeout: float = 1.0,
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
        store = cls(redis.asyncio.Redis.from_url(url, **options), prefix=prefix)
        store._owns_client = True
        return store

    async def load(
        self, session_id: str, *, idle_ttl: float | None = None
    ) -> dict[str, str] | None:
        key = self.prefix + session_id
        try:
            fields = await _redis(self._read(key, idle_ttl))
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

    async def _read(self, key: str, idle_ttl: float | None) -> dict[bytes, bytes]:
        """HGETALL, or the script that also extends the session; undecoded, so that text
        another writer left that is not UTF-8 is caught by load()."""
        client: Any = self.client  # execute_command is untyped
        raw = {NEVER_DECODE: True}
        if idle_ttl is None:
            fields: dict[bytes, bytes] = await client.execute_command(
                "HGETALL", key, keys=[key], **raw
            )
            return fields
        args = (1, key, _ms(idle_ttl))
        try:
            flat = await client.execute_command("EVALSHA", self._load_extending.sha, *args, **raw)
        except NoScriptError:
            flat = await client.execute_command("EVAL", _LOAD_EXTENDING, *args, **raw)
        pairs = iter(flat)
        return dict(zip(pairs, pairs, strict=False))

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


def _not_a_session(key: str, reason: object) -> None:
    log.warning("tornado_user_session: %r is not a session (%s); treating it as none", key, reason)


def _check_keys(record: Record) -> None:
    if PRESENT in record:
        raise UnstorableValueError(PRESENT, record[PRESENT], "RedisStore reserves this key")


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value  # strict UTF-8


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
