"""A store on Redis (or Valkey), shared by every process and host of a deployment.

Needs the ``redis`` package: ``pip install tornado_user_session[redis]``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any, NamedTuple

from ..bookkeeping import MAX_DURATION
from ..errors import MissingDependencyError, UnstorableValueError
from .base import INDEX_GRACE, SEEN_EVERY, SEEN_KEY, IndexedSession, Record, Store

try:
    import redis.asyncio
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ResponseError

    from ._redis_link import Script, guarded, link_for
except ImportError as exc:  # pragma: no cover - tested in a subprocess without redis
    raise MissingDependencyError(
        "RedisStore needs the redis package: pip install tornado_user_session[redis]"
    ) from exc

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
_SAVE = Script(
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

# Reads a session with an idle timeout, and does in the same round trip what the read owes
# the session's bookkeeping. ARGV: the idle timeout in ms, the time of this use (seconds
# since the epoch, '' for none), and how stale the last use may grow (seconds). The
# session is extended that long from now, never past the end its last save gave it (the
# marker field). A logged-in session's last use (its SEEN field) is written when it has
# grown stale; a session without that field is not written.
_LOAD_TOUCHING = Script(
    _EFFECTS
    + """
local fields = redis.call('HGETALL', KEYS[1])
local ends, seen
for i = 1, #fields, 2 do
  if fields[i] == '\\0' then ends = tonumber(fields[i + 1])
  elseif fields[i] == '\\0seen' then seen = tonumber(fields[i + 1]) end
end
if ends then
  local time = redis.call('TIME')
  local at = time[1] * 1000 + math.floor(time[2] / 1000) + tonumber(ARGV[1])
  if ends < at then at = ends end
  redis.call('PEXPIREAT', KEYS[1], at)
end
if seen and ARGV[2] ~= '' and tonumber(ARGV[2]) - seen >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], '\\0seen', ARGV[2])
end
return fields
"""
)

# Writes a session's last use (ARGV[1]) when a plain read found it stale; a session deleted
# meanwhile is not brought back.
_SEEN = Script(
    """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], '\\0seen', ARGV[1]) end
"""
)


class RedisStore(Store):
    """Keeps each session in a Redis hash, one field per top-level key, JSON text.

    A read is one command (HGETALL; a script when ``idle_timeout`` is on). A save writes
    only the fields that changed, in one atomic round trip, and never recreates a
    session that was deleted meanwhile. Expiry is Redis's own (every key has a TTL), so
    no purge runs. A session is one key, so it lives on one node of a Redis Cluster; a
    user's index is another key, written in steps of its own (see the README).

    Each store call, whatever its round trips, has one deadline (*timeout*): past it the
    call fails with a :class:`~tornado_user_session.errors.StoreError` (a 503), the
    connection it waited on is closed, and the next call connects again. Nothing is
    retried, so no write is applied twice. The store sends its commands straight on the
    connections of a plain ``redis.asyncio.Redis`` client (keeping those it has used when
    it made the client itself, :meth:`from_url`); a ``RedisCluster`` routes them itself.

    A key under the prefix that is not a session this store wrote (another type, a
    hash without the store's marker field, text that is not UTF-8) loads as no
    session and is logged; each application needs a prefix of its own. Run Redis
    with ``maxmemory-policy`` ``noeviction`` or ``volatile-ttl``, so that memory
    pressure fails writes or drops the sessions nearest their end rather than
    arbitrary ones.

    :param client: a ``redis.asyncio.Redis`` or ``redis.asyncio.RedisCluster`` client
        that the application owns and closes. Give it no retries, as :meth:`from_url`
        does: the store's deadline bounds each call. Each call takes a connection from
        its pool and gives it back. Like the client, the store belongs to one event loop.
    :param prefix: put before each session id to make its key (default ``"tus:"``).
        A user's index of sessions is the hash ``<prefix>user:<user id>``.
    :param timeout: seconds a store call may take, connecting included (default 1).
    :param clock: the wall-clock time of the index's entries, in seconds since the
        epoch (default :func:`time.time`); inject a fake one in tests.
    """

    supports_idle_timeout = True
    supports_user_index = True

    def __init__(
        self,
        client: redis.asyncio.Redis | redis.asyncio.RedisCluster,
        *,
        prefix: str = "tus:",
        timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._now = clock
        self.client = client
        self.prefix = prefix
        self.timeout = timeout
        self._owns_client = False
        self._link = link_for(client, owned=False)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        cluster: bool = False,
        prefix: str = "tus:",
        connect_timeout: float = 1.0,
        timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
        **client_options: Any,
    ) -> RedisStore:
        """Build a store with a client of its own, closed by :meth:`close`.

        :param url: such as ``"redis://localhost:6379/0"`` (``rediss://`` for TLS,
            ``unix://`` for a socket).
        :param cluster: True for a Redis Cluster, *url* naming any of its nodes (a
            ``redis.asyncio.RedisCluster`` client, which finds the others). A store
            built without it on a cluster node refuses every call, saying so.
        :param connect_timeout: seconds to wait for a connection (default 1).
        :param timeout: seconds a store call may take in all (default 1). With these
            defaults a request fails within 2 seconds when Redis is down or hung.
        :param client_options: passed on to the client's ``from_url``.
        """
        options: dict[str, Any] = {
            "socket_connect_timeout": connect_timeout,
            "socket_timeout": None,  # the store's deadline bounds each call
            "retry": Retry(NoBackoff(), 0),
            "protocol": 2,  # its answers are the cheapest to parse
            "decode_responses": True,
            **client_options,
        }
        client_class = redis.asyncio.RedisCluster if cluster else redis.asyncio.Redis
        client = client_class.from_url(url, **options)
        store = cls(client, prefix=prefix, timeout=timeout, clock=clock)
        store._owns_client = True
        store._link = link_for(client, owned=True)
        return store

    @guarded
    async def load(
        self, session_id: str, *, idle_ttl: float | None = None, seen_at: float | None = None
    ) -> dict[str, str] | None:
        key = self.prefix + session_id
        try:
            if idle_ttl is None:
                answer = await self._link.call("HGETALL", key)
            else:
                seen = "" if seen_at is None else repr(float(seen_at))
                touch = (_ms(idle_ttl), seen, SEEN_EVERY)
                answer = await self._link.run(_LOAD_TOUCHING, [key], touch)
        except ResponseError as exc:
            if not str(exc).startswith("WRONGTYPE"):
                raise  # Redis is busy, read-only, ...: a 503, not a logout
            _not_a_session(key, exc)
            return None
        try:
            record = _record(answer)
        except (UnicodeDecodeError, TypeError) as exc:
            _not_a_session(key, exc)
            return None
        if record is None:
            return None
        if record.pop(PRESENT, None) is None:
            _not_a_session(key, "no marker field")
            return None
        if idle_ttl is None and seen_at is not None and _stale(record.get(SEEN_KEY), seen_at):
            await self._link.run(_SEEN, [key], [repr(float(seen_at))])
        return record

    def _index_key(self, owner: str) -> str:
        return f"{self.prefix}user:{owner}"

    async def _index(self, key: str) -> tuple[dict[str, Entry], list[Any]]:
        """A user's index: each handle's entry, and the fields that are not entries this
        store wrote (dropped with the entries of sessions that are gone)."""
        entries: dict[str, Entry] = {}
        foreign = []
        for field, value in _pairs(await self._link.call("HGETALL", key)):
            try:
                entries[_text(field)] = Entry.parse(_text(value))
            except (UnicodeDecodeError, TypeError, ValueError):
                foreign.append(field)
        return entries, foreign

    @guarded
    async def index_add(self, owner: str, handle: str, session_id: str) -> None:
        key = self._index_key(owner)
        entries, foreign = await self._index(key)
        gone = [*foreign, *await self._gone(entries)]
        await self._link.calls(
            [
                *([("HDEL", key, *gone)] if gone else []),
                ("HSET", key, handle, Entry(session_id, self._now()).text()),
                ("PEXPIRE", key, MAX_DURATION * 1000),
            ]
        )

    @guarded
    async def index_read(self, owner: str) -> list[IndexedSession]:
        key = self._index_key(owner)
        entries, gone = await self._index(key)
        handles = list(entries)
        answers = await self._link.calls(
            [
                command
                for handle in handles
                for command in (
                    ("HGETALL", self.prefix + entries[handle].session_id),
                    ("PTTL", self.prefix + entries[handle].session_id),
                )
            ]
        )
        found = []
        now = self._now()
        for handle, fields, ttl in zip(handles, answers[::2], answers[1::2], strict=True):
            entry = entries[handle]
            record = _session_record(fields) if isinstance(ttl, int) and ttl > 0 else None
            if record is not None:
                found.append(IndexedSession(handle, entry.session_id, record, ttl / 1000))
            elif entry.past_grace(now):
                gone.append(handle)
        if entries or gone:
            await self._link.calls(
                [*([("HDEL", key, *gone)] if gone else []), ("PEXPIRE", key, MAX_DURATION * 1000)]
            )
        return found

    @guarded
    async def index_remove(self, owner: str, handles: Collection[str]) -> None:
        if handles:
            await self._link.call("HDEL", self._index_key(owner), *handles)

    async def _gone(self, entries: dict[str, Entry]) -> list[str]:
        """The handles of *entries* whose sessions are gone (past the grace of a new one)."""
        if not entries:
            return []
        handles = list(entries)
        exists = await self._link.calls(
            [("EXISTS", self.prefix + entries[handle].session_id) for handle in handles]
        )
        now = self._now()
        return [
            handle
            for handle, there in zip(handles, exists, strict=True)
            if not there and entries[handle].past_grace(now)
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

    @guarded
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
        return bool(await self._link.run(_SAVE, [self.prefix + session_id], args))

    @guarded
    async def delete(self, session_id: str) -> bool:
        return bool(await self._link.call("DEL", self.prefix + session_id))

    async def close(self) -> None:
        """Close the client if this store made it (:meth:`from_url`)."""
        if self._owns_client:
            await self.client.aclose()


class Entry(NamedTuple):
    """What a user's index keeps for a handle: the session id and when it was added."""

    session_id: str
    added: float

    @classmethod
    def parse(cls, text: str) -> Entry:
        """:raises ValueError: for text this store did not write."""
        session_id, added = text.split(" ")
        return cls(session_id, float(added))

    def text(self) -> str:
        return f"{self.session_id} {self.added}"

    def past_grace(self, now: float) -> bool:
        """Whether the entry is old enough that its session, if missing, is gone for good."""
        return now - self.added >= INDEX_GRACE


def _record(answer: object) -> dict[str, str] | None:
    """The fields of an undecoded HGETALL answer as text, or None for an empty one.

    :raises UnicodeDecodeError: for text that is not UTF-8.
    :raises TypeError: for an answer that is not a hash's.
    """
    try:
        return {field.decode(): value.decode() for field, value in _pairs(answer)} or None
    except AttributeError:  # an answer a client decoded already: text
        return {_text(field): _text(value) for field, value in _pairs(answer)} or None


def _pairs(answer: object) -> Iterable[tuple[Any, Any]]:
    """A hash's fields and values: a flat list in RESP2, a mapping in RESP3 or after a
    client's callback."""
    if isinstance(answer, list):
        fields = iter(answer)
        return zip(fields, fields, strict=False)
    if isinstance(answer, dict):
        return answer.items()
    raise TypeError(f"not a hash: {answer!r:.80}")


def _session_record(answer: object) -> dict[str, str] | None:
    """The record in an undecoded HGETALL answer, or None if it is not a session's."""
    try:
        record = _record(answer)
    except (UnicodeDecodeError, TypeError):
        return None
    if record is None:
        return None
    return None if record.pop(PRESENT, None) is None else record


def _stale(seen: str | None, now: float) -> bool:
    """Whether a session's last use (None for a session that keeps none) is due a write."""
    try:
        return seen is not None and now - float(seen) >= SEEN_EVERY
    except ValueError:
        return False


def _not_a_session(key: str, reason: object) -> None:
    log.warning("tornado_user_session: %r is not a session (%s); treating it as none", key, reason)


def _check_keys(record: Record) -> None:
    if PRESENT in record:
        raise UnstorableValueError(PRESENT, record[PRESENT], "RedisStore reserves this key")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()  # strict UTF-8
    if isinstance(value, str):
        return value
    raise TypeError(f"not text: {value!r:.80}")


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
