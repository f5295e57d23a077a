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
    from redis.exceptions import RedisError, ResponseError
except ImportError as exc:  # pragma: no cover - tested in a subprocess without redis
    raise MissingDependencyError(
        "RedisStore needs the redis package: pip install tornado_user_session[redis]"
    ) from exc

T = TypeVar("T")

log = logging.getLogger("tornado_user_session")

#: A hash field that keeps an empty session's hash in existence (Redis drops empty hashes).
#: It is the one name a session key cannot have in this store.
PRESENT = "\x00"

# Applies a save to an existing session only: a session deleted (logout) or expired
# meanwhile stays gone. KEYS[1] the session; ARGV: lifetime in ms, the number of
# changed fields, those fields and values, then the fields removed. Lua's unpack() takes
# at most about 8,000 values, so fields go 1,000 at a time: any number of keys works.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last_set = 2 + 2 * tonumber(ARGV[2])
for i = 3, last_set, 2000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 1999, last_set)))
end
for i = last_set + 1, #ARGV, 1000 do
  redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""


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

    def __init__(self, client: redis.asyncio.Redis, *, prefix: str = "tus:") -> None:
        self.client = client
        self.prefix = prefix
        self._owns_client = False
        self._update = client.register_script(_UPDATE)

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

    async def load(self, session_id: str) -> dict[str, str] | None:
        key = self.prefix + session_id
        # Undecoded, so that text another writer left that is not UTF-8 is caught here.
        command: Awaitable[dict[Any, Any]] = self.client.execute_command(  # type: ignore[no-untyped-call]
            "HGETALL", key, keys=[key], **{NEVER_DECODE: True}
        )
        try:
            fields = await _redis(command)
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

    async def create(self, session_id: str, record: Record, ttl: float) -> None:
        _check_keys(record)
        await _redis(self._create(self.prefix + session_id, record, ttl))

    async def _create(self, key: str, record: Record, ttl: float) -> None:
        fields: dict[Any, Any] = {PRESENT: "", **record}
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=fields)
            pipe.pexpire(key, _ms(ttl))
            await pipe.execute()

    async def update(
        self, session_id: str, changed: Record, removed: Collection[str], ttl: float
    ) -> bool:
        _check_keys(changed)
        args: list[str | int] = [_ms(ttl), len(changed)]
        for field, text in changed.items():
            args += (field, text)
        args += [field for field in removed if field != PRESENT]
        return bool(await _redis(self._update(keys=[self.prefix + session_id], args=args)))

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
