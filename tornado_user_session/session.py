"""The session object a handler sees, and how its values become JSON text."""

from __future__ import annotations

import datetime
import json
import json.encoder
import json.scanner
import math
import reprlib
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from .bookkeeping import MAX_DURATION, META_KEY, SEEN_KEY, Bookkeeping
from .errors import UnstorableValueError
from .stores.base import Record

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))

# JSONEncoder.encode() builds a new C encoder on every call; one built once does the same
# work at half the cost. Without markers, a circular value raises RecursionError.
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_iterencode: Any = _make_encoder and _make_encoder(
    None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
)

# The decoder's scanner, without the two whitespace searches that decode() wraps it in.
_scan: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]
)


def _encode(value: Any) -> str:
    if _iterencode is None or isinstance(value, str):  # encode() has a fast path for str
        return _ENCODER.encode(value)
    return "".join(_iterencode(value, 0))


def _decode(text: str) -> Any:
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        end = -1
    if end != len(text):
        # Surrounding whitespace, or not JSON at all: json.loads says which.
        return json.loads(text)
    return value


def check_size(record: Record, limit: int) -> None:
    """Refuse a record bigger than *limit* bytes of JSON text, keys included.

    :raises UnstorableValueError: naming the limit and the biggest key.
    """
    size = sum(map(len, record)) + sum(map(len, record.values()))
    if size * 4 <= limit:  # a character is at most 4 bytes of UTF-8
        return
    size = sum(len(key.encode()) + len(text.encode()) for key, text in record.items())
    if size > limit:
        biggest = max(record, key=lambda key: len(record[key]))
        raise UnstorableValueError(
            biggest,
            record[biggest],
            f"the session would be {size} bytes of JSON text, over "
            f"max_session_bytes={limit} (its biggest key is {biggest!r})",
        )


# The record keys that hold the library's bookkeeping, not the session's values.
_LIBRARY_KEYS = frozenset((META_KEY, SEEN_KEY))


# What JSON holds as it is; containers are checked item by item.
_SCALARS = (str, int, bool, type(None))


def encode(key: str, value: Any) -> str:
    """Return *value* as JSON text.

    :raises UnstorableValueError: naming the key path of the first value JSON
        cannot hold (a set, an object, NaN, a circular reference...).
    """
    try:
        text = _encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        path, culprit = _find_unstorable(value, key, set()) or (key, value)
        raise UnstorableValueError(path, culprit) from exc
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError as exc:  # a lone surrogate: no store can keep it
            raise UnstorableValueError(
                key, value, "it holds text that is not valid Unicode"
            ) from exc
    return text


def _find_unstorable(value: Any, path: str, seen: set[int]) -> tuple[str, Any] | None:
    """Return the key path and value of the first thing in *value* that JSON cannot hold."""
    if isinstance(value, _SCALARS):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if not isinstance(value, (dict, list, tuple)) or id(value) in seen:
        return path, value
    seen.add(id(value))
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if not isinstance(key, (*_SCALARS, float)):
            return f"{path}.{reprlib.repr(key)}", key
        found = _find_unstorable(item, f"{path}.{key}", seen)
        if found:
            return found
    seen.discard(id(value))  # only a value inside itself is circular, not one used twice
    return None


class Session(MutableMapping[str, Any]):
    """The session of one request: a mutable mapping of JSON-able values.

    Changes are found when the session is saved, by comparing each value's JSON
    text with the text it was loaded with, so changes deep inside a value
    (``session["user"]["cart"].append(item)``) are saved too. Only the keys that
    changed are written.

    A handler gets its session as ``self.session``; it does not build one.

    Keys are strings that do not begin with a NUL character (``"\\x00"``), which
    the library keeps for its own bookkeeping.
    """

    __slots__ = (
        "_bookkeeping",
        "_data",
        "_id",
        "_meta_text",
        "_replaces",
        "_seen_text",
        "_stored",
    )

    def __init__(self, session_id: str | None = None, record: Record | None = None) -> None:
        """Build a session from its stored record.

        :raises ValueError: if a value of *record*, or its bookkeeping, is not valid.
        """
        self._id = session_id
        self._replaces: tuple[str, str | None] | None = None
        self._stored: dict[str, str] = dict(record) if record else {}
        stored = self._stored
        data = {key: _decode(text) for key, text in stored.items() if key not in _LIBRARY_KEYS}
        self._data: dict[str, Any] = data
        self._meta_text = meta_text = stored.get(META_KEY)
        self._bookkeeping = None if meta_text is None else Bookkeeping.decode(meta_text)
        self._seen_text = seen = stored.get(SEEN_KEY)
        if seen is not None:
            float(seen)  # ValueError for a last use that is not a time

    @property
    def id(self) -> str | None:
        """The session id, or None for a session that has never been stored."""
        return self._id

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"session keys are strings, not {type(key).__name__}")
        if key.startswith("\x00"):
            raise ValueError(f"session keys beginning with NUL are the library's: {key!r}")
        if not key.isascii():
            key.encode()  # UnicodeEncodeError (a ValueError) for a lone surrogate
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __repr__(self) -> str:
        return f"<Session {self._id!r} {self._data!r}>"

    @property
    def bookkeeping(self) -> Bookkeeping | None:
        """The library's record of this session (times, chosen lifetime), kept beside its keys.

        None for a session that has never been stored and has no chosen lifetime.
        """
        return self._bookkeeping

    @bookkeeping.setter
    def bookkeeping(self, value: Bookkeeping | None) -> None:
        self._bookkeeping = value
        self._meta_text = None if value is None else value.encode()

    @property
    def has_bookkeeping(self) -> bool:
        """Whether the session has bookkeeping, without decoding it."""
        return self._meta_text is not None

    @property
    def seen_at(self) -> float | None:
        """When a request last used this logged-in session (to a minute), or None."""
        return None if self._seen_text is None else float(self._seen_text)

    @seen_at.setter
    def seen_at(self, value: float | None) -> None:
        self._seen_text = None if value is None else repr(float(value))

    @property
    def expiry(self) -> float | None:
        """The lifetime chosen by :meth:`set_expiry`: seconds, 0, or None (the app's options)."""
        bookkeeping = self.bookkeeping
        return None if bookkeeping is None else bookkeeping.expiry

    def set_expiry(self, value: float | datetime.timedelta | None) -> None:
        """Choose this session's own lifetime, as Django's ``set_expiry``.

        :param value: a duration (seconds or a :class:`~datetime.timedelta`): the
            session lives that long after each save, and its cookie's Max-Age follows
            ("remember me"); ``0``: its cookie ends when the browser closes (the
            server still ends it after ``max_age``); None: back to the
            application's options.

        The choice is stored with the session, so it holds on every later request
        and in every process, and survives a login. ``absolute_timeout`` and
        ``idle_timeout`` still bound it.

        :raises ValueError: for a duration below 0 or over 400 days.
        """
        if isinstance(value, datetime.timedelta):
            value = value.total_seconds()
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"set_expiry() takes seconds, a timedelta or None, not {value!r}")
            if not 0 <= value <= MAX_DURATION:
                raise ValueError(
                    f"set_expiry() takes a duration from 0 to {MAX_DURATION} seconds (400 days), "
                    f"not {value!r}"
                )
        current = self.bookkeeping or Bookkeeping()
        self.bookkeeping = current._replace(expiry=value)

    def record(self) -> dict[str, str]:
        """Return every value as JSON text, and the bookkeeping under its own key.

        :raises UnstorableValueError: if a value cannot be stored as JSON.
        """
        record = {key: encode(key, value) for key, value in self._data.items()}
        if self._meta_text is not None:
            record[META_KEY] = self._meta_text
        if self._seen_text is not None:
            record[SEEN_KEY] = self._seen_text
        return record

    def changes(self, record: Record | None = None) -> tuple[dict[str, str], list[str]]:
        """Return what changed since the session was loaded or saved.

        :param record: this session's :meth:`record`, when the caller has it already.
        :returns: the JSON text of every key set or changed, and the keys removed.
        :raises UnstorableValueError: if a value cannot be stored as JSON.
        """
        if record is None:
            record = self.record()
        stored = self._stored
        changed = {key: text for key, text in record.items() if stored.get(key) != text}
        removed = [key for key in stored if key not in record]
        return changed, removed

    def saved(self, session_id: str, changed: Record, removed: list[str]) -> None:
        """Note that the store now holds this session under *session_id* with these changes."""
        self._id = session_id
        self._replaces = None
        self._stored.update(changed)
        for key in removed:
            self._stored.pop(key, None)

    @property
    def replaces(self) -> tuple[str, str | None] | None:
        """The id (and handle) of the record this session replaces once stored anew."""
        return self._replaces

    def forget(self, *, keep_values: bool, replaces: tuple[str, str | None] | None = None) -> None:
        """Detach the session from its record: its next save stores it anew, under a new id.

        With *keep_values*, the keys and the bookkeeping (times, chosen lifetime) stay;
        without, they go. *replaces* is the id and handle of a record that the save
        must delete.
        """
        self._replaces = replaces
        self._id = None
        self._stored = {}
        if not keep_values:
            self._data = {}
            self.bookkeeping = None
            self._seen_text = None
