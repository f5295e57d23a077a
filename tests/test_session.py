"""The Session mapping: change detection, JSON encoding, unstorable values."""

from __future__ import annotations

import json
from typing import Any

import pytest

import tornado_user_session as tus
from tornado_user_session.session import encode


def loaded(**values: Any) -> tus.Session:
    return tus.Session("sid", {key: encode(key, value) for key, value in values.items()})


def test_a_session_is_a_mutable_mapping_of_its_values() -> None:
    session = loaded(user={"_id": "u"}, n=1)
    assert session.id == "sid"
    assert dict(session) == {"user": {"_id": "u"}, "n": 1}
    assert session.get("missing", 5) == 5
    assert "n" in session
    assert len(session) == 2
    del session["n"]
    assert list(session) == ["user"]


def test_keys_are_strings() -> None:
    with pytest.raises(TypeError, match="strings"):
        tus.Session()[1] = "x"  # type: ignore[index]


def test_an_unchanged_session_has_no_changes() -> None:
    session = loaded(user={"_id": "u", "cart": [1, 2.5, "é"]}, flag=True, nothing=None)
    _ = session["user"]["cart"][0]
    assert session.changes() == ({}, [])


def test_nested_changes_are_found() -> None:
    session = loaded(user={"cart": []}, other=1)
    session["user"]["cart"].append("apple")
    changed, removed = session.changes()
    assert changed == {"user": '{"cart":["apple"]}'}
    assert removed == []


def test_set_and_removed_keys_are_found() -> None:
    session = loaded(a=1, b=2)
    session["c"] = 3
    del session["a"]
    assert session.changes() == ({"c": "3"}, ["a"])


def test_saved_makes_the_changes_the_new_baseline() -> None:
    session = loaded(a=1)
    session["a"] = 2
    changed, removed = session.changes()
    session.saved("new-id", changed, removed)
    assert session.id == "new-id"
    assert session.changes() == ({}, [])


def test_forget_detaches_the_session_from_its_record() -> None:
    session = loaded(a=1)
    session.forget(keep_values=True)
    assert session.id is None
    assert session.changes() == ({"a": "1"}, [])
    session.forget(keep_values=False)
    assert dict(session) == {}


@pytest.mark.parametrize("text", ["{not json", '{"a":1} trailing', "", "[1,", "nan"])
def test_a_record_that_is_not_json_is_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - json's own error
        tus.Session("sid", {"user": text})


def test_json_written_elsewhere_with_spaces_is_read() -> None:
    session = tus.Session("sid", {"user": ' { "a" : [1, 2] } ', "n": "3"})
    assert dict(session) == {"user": {"a": [1, 2]}, "n": 3}


class Thing:
    pass


circular: list[Any] = []
circular.append(circular)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"cart": {1, 2}}, "user.cart"),
        ({"cart": [1, Thing()]}, "user.cart.1"),
        ({"score": float("nan")}, "user.score"),
        ({"a": {"b": [0, {"c": float("inf")}]}}, "user.a.b.1.c"),
        ({(1, 2): "tuple key"}, "user.(1, 2)"),
        ({"loop": circular}, "user.loop.0"),
        (b"bytes", "user"),
    ],
)
def test_an_unstorable_value_names_its_key_path(value: Any, path: str) -> None:
    session = tus.Session()
    session["user"] = value
    with pytest.raises(tus.UnstorableValueError) as raised:
        session.changes()
    assert raised.value.path == path
    assert f"{path!r}" in str(raised.value)


def test_a_value_used_twice_is_not_mistaken_for_a_circular_one() -> None:
    shared = [1]
    assert encode("k", {"a": shared, "b": shared}) == '{"a":[1],"b":[1]}'


def test_encoding_is_compact_and_keeps_unicode() -> None:
    assert encode("k", {"name": "Zoë", "n": [1, 2]}) == '{"name":"Zoë","n":[1,2]}'


@pytest.mark.parametrize(
    "value",
    ['Zoë "quoted"\n', 1.5, 10**20, -0.0, True, None, [], {}, {"1": [None, 2.25]}, "\u2028"],
)
def test_encoding_matches_the_json_module(value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    assert encode("k", value) == expected
    assert tus.Session("sid", {"k": expected})["k"] == value
