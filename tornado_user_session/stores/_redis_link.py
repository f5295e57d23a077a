"""How :class:`~tornado_user_session.stores.redis.RedisStore` talks to Redis.

A session store sends one command per request, so what a client does around each command
is most of its cost. redis-py's general path (``execute_command``) takes the pool's lock
twice, runs a retry wrapper and metrics hooks, and with a socket timeout starts a timer
for every socket operation. For a plain ``redis.asyncio.Redis`` client, :class:`Direct`
does only what a store needs: it sends each command straight on a connection of the
client's pool (kept by the store, when the client is its own), undecoded, with no retry. The
deadline is the store's, one per store call (:func:`guarded`). Any other client (a
``RedisCluster``, a single-connection client) goes through its own ``execute_command``
and pipelines (:class:`Routed`), under the same deadline.

Answers are undecoded (bytes), so that text another writer left that is not UTF-8 is
caught by the store; their shapes follow the client's protocol (a hash is a flat list in
RESP2, a mapping in RESP3 or after redis-py's callbacks).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import redis.asyncio
from redis.asyncio.connection import AbstractConnection
from redis.client import NEVER_DECODE
from redis.exceptions import (
    AskError,
    NoScriptError,
    RedisClusterException,
    RedisError,
    ResponseError,
)

from ..errors import StoreDataError, StoreError

#: hiredis (in the [redis] extra) packs a command in C; redis-py's own packer is Python.
_hiredis_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover - the tests install the extra
    _hiredis_pack = None

P = ParamSpec("P")
T = TypeVar("T")

#: A command: its name and arguments, as redis-py packs them.
Command = Sequence[str | bytes | int | float]


class Script:
    """A Lua script, run by its SHA1 and sent whole only when Redis does not know it yet."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.sha = hashlib.sha1(body.encode()).hexdigest()


class Link:
    """Sends commands to Redis and returns undecoded answers; raises the client's errors."""

    async def call(self, *command: str | bytes | int | float) -> Any:
        raise NotImplementedError

    async def calls(self, commands: Sequence[Command]) -> list[Any]:
        """Send *commands* in one round trip; an error answer is returned in its place."""
        raise NotImplementedError

    async def run(self, script: Script, keys: Sequence[str], args: Command) -> Any:
        """Run *script* by its SHA1, sending it whole if Redis does not have it."""
        try:
            return await self.call("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self.call("EVAL", script.body, len(keys), *keys, *args)


class Direct(Link):
    """Commands sent straight on connections of the client's pool.

    With *keep* (a client the store made, whose pool is its own), the connections it has
    used are kept rather than returned after each call: as many as its calls ever ran at
    once, all closed with the client. Without it (an application's client, whose pool and
    its bound the application shares), each call takes a connection from the pool and gives
    it back.
    """

    def __init__(self, client: redis.asyncio.Redis, *, keep: bool) -> None:
        self._pool = client.connection_pool
        self._keep = keep
        self._idle: list[AbstractConnection] = []
        self._checked = False
        self._refusal: str | None = None

    async def _connection(self) -> AbstractConnection:
        if self._refusal is not None:
            raise StoreDataError(self._refusal)  # a new one each time: no traceback grows
        if self._keep and self._idle:
            kept = self._idle.pop()
            if _closed_by_server(kept):
                # Redis restarted, or closed it for idling: connect again before sending,
                # which is safe (nothing was sent), rather than fail a call Redis could take.
                await kept.disconnect(nowait=True)
            return kept
        connection: AbstractConnection = await self._pool.get_connection()  # type: ignore[no-untyped-call]
        if not self._checked:
            await self._check(connection)
        return connection

    async def _check(self, connection: AbstractConnection) -> None:
        """Refuse a node of a Redis Cluster: it would answer MOVED for most keys."""
        try:
            await connection.send_command("INFO", "cluster")
            info = await connection.read_response(disable_decoding=True)
        except ResponseError:  # INFO not allowed to this user: a MOVED answer will tell
            info = b""
        except BaseException:
            await self._broken(connection)
            raise
        if b"cluster_enabled:1" in info:
            await self._release(connection)
            where = self._pool.connection_kwargs
            self._refusal = _cluster_node(
                where.get("path") or f"{where.get('host')}:{where.get('port')}"
            )
            raise StoreDataError(self._refusal)
        self._checked = True

    async def call(self, *command: str | bytes | int | float) -> Any:
        connection = await self._connection()
        try:
            pack = _hiredis_pack
            packed = pack(command) if pack is not None else connection.pack_command(*command)
            await connection.send_packed_command(packed)
            answer = await connection.read_response(disable_decoding=True)
        except ResponseError as exc:
            await self._release(connection)  # the answer was read whole: the connection is fine
            if isinstance(exc, AskError):  # a cluster node that INFO could not reveal
                self._refusal = _cluster_node(str(exc).split(" ")[-1])
            raise
        except BaseException:
            await self._broken(connection)
            raise
        await self._release(connection)
        return answer

    async def calls(self, commands: Sequence[Command]) -> list[Any]:
        connection = await self._connection()
        answers: list[Any] = []
        try:
            await connection.send_packed_command(connection.pack_commands(commands))
            for _ in commands:
                try:
                    answers.append(await connection.read_response(disable_decoding=True))
                except ResponseError as exc:
                    answers.append(exc)
        except BaseException:
            await self._broken(connection)
            raise
        await self._release(connection)
        return answers

    async def _release(self, connection: AbstractConnection) -> None:
        if self._keep:
            self._idle.append(connection)
        else:
            await self._pool.release(connection)

    async def _broken(self, connection: AbstractConnection) -> None:
        """Give back, closed, a connection that failed or was cut off mid-answer: it
        connects again when next used, so a Redis that comes back is used again at once."""
        try:
            await connection.disconnect(nowait=True)
        finally:
            await self._release(connection)


def _closed_by_server(connection: AbstractConnection) -> bool:
    """Whether Redis has closed this connection (it sent end of file) while it was idle."""
    reader = getattr(connection, "_reader", None)  # redis-py's stream, None when not connected
    return reader is not None and reader.at_eof()


def _cluster_node(address: str) -> str:
    return (
        f"the Redis at {address} is a node of a Redis Cluster: "
        "use RedisStore.from_url(url, cluster=True), or a redis.asyncio.RedisCluster client"
    )


class _Client(Protocol):
    def execute_command(self, *args: Any, **options: Any) -> Awaitable[Any]: ...
    def pipeline(self, transaction: bool) -> Any: ...


class Routed(Link):
    """Commands through the client's own ``execute_command``: for a ``RedisCluster``,
    which routes each key to its node, and for any client :class:`Direct` cannot drive."""

    def __init__(self, client: _Client) -> None:
        self._client = client

    async def call(self, *command: str | bytes | int | float) -> Any:
        return await self._client.execute_command(*command, **{NEVER_DECODE: True})

    async def calls(self, commands: Sequence[Command]) -> list[Any]:
        async with self._client.pipeline(transaction=False) as pipe:
            for command in commands:
                pipe.execute_command(*command, **{NEVER_DECODE: True})
            answers: list[Any] = await pipe.execute(raise_on_error=False)
            return answers


def link_for(client: object, *, owned: bool) -> Link:
    """How to talk to *client*: straight on its connections where it is a plain client,
    keeping them where the store made it (*owned*); through the client otherwise."""
    if isinstance(client, redis.asyncio.Redis) and client.single_connection_client is False:
        return Direct(client, keep=owned)
    return Routed(client)  # type: ignore[arg-type]


class Guarded(Protocol):
    timeout: float


S = TypeVar("S", bound=Guarded)


def guarded(
    method: Callable[Concatenate[S, P], Awaitable[T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Run a store call within the store's ``timeout`` and raise its failures as StoreError.

    An error answer (a key of another type, a script error) is a StoreDataError: Redis is
    up, so it is not an outage.
    """

    async def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            async with asyncio.timeout(self.timeout):
                return await method(self, *args, **kwargs)
        except ResponseError as exc:
            if isinstance(exc, AskError):  # MOVED or ASK: a cluster node the check missed
                raise StoreDataError(_cluster_node(str(exc).split(" ")[-1])) from exc
            raise StoreDataError(f"Redis refused the operation: {exc}") from exc
        except UnicodeEncodeError as exc:  # text that is not valid Unicode (a lone surrogate)
            raise StoreDataError(
                f"Redis cannot store text that is not valid Unicode: {exc}"
            ) from exc
        except TimeoutError as exc:
            raise StoreError(f"Redis did not answer within {self.timeout:g} s") from exc
        except (RedisError, RedisClusterException, OSError) as exc:
            raise StoreError(f"Redis failed: {exc}") from exc

    functools.update_wrapper(call, method)
    return call
