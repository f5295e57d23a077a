"""init() and its options: defaults, validation at start-up, the secret."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest
import tornado.web

import tornado_user_session as tus
from support import SECRET


def init(**options: Any) -> tus.SessionManager:
    return tus.init(tornado.web.Application(), **options)


def test_defaults_are_those_of_the_seed_library_and_secure() -> None:
    config = init(secret=SECRET).config
    assert config.name == "tornado-user-session"
    assert config.max_age == 48 * 3600
    assert config.store_check_period == 120
    assert (config.resave, config.save_uninitialized, config.rolling) == (False, False, False)
    assert (config.path, config.domain) == ("/", None)
    assert (config.httponly, config.samesite, config.secure) == (True, "Lax", "auto")
    assert isinstance(config.store, tus.MemoryStore)


def test_init_attaches_the_manager_to_the_application_settings() -> None:
    app = tornado.web.Application()
    manager = tus.init(app, secret=SECRET)
    assert app.settings["user_session"] is manager


def test_durations_accept_a_timedelta() -> None:
    config = init(
        secret=SECRET,
        max_age=datetime.timedelta(hours=1),
        store_check_period=datetime.timedelta(seconds=30),
    ).config
    assert (config.max_age, config.store_check_period) == (3600.0, 30.0)


def test_an_unknown_option_is_named_with_a_suggestion() -> None:
    with pytest.raises(tus.ConfigError, match="maxage: unknown option; did you mean 'max_age'"):
        init(secret=SECRET, maxage=10)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_age", 0),
        ("max_age", -5),
        ("max_age", "3600"),
        ("max_age", float("nan")),
        ("max_age", float("inf")),
        ("max_age", True),
        ("store_check_period", 0),
        ("store_check_period", datetime.timedelta(0)),
        ("resave", "yes"),
        ("save_uninitialized", 1),
        ("rolling", None),
        ("httponly", "true"),
        ("samesite", "lax"),
        ("secure", "always"),
        ("name", ""),
        ("name", "my session"),
        ("name", "a;b"),
        ("path", "app"),
        ("path", "/a;b"),
        ("domain", ""),
        ("store", object()),
        ("secret", ""),
        ("secret", b""),
        ("secret", []),
        ("secret", ["", SECRET]),
        ("secret", 42),
        ("secret", [42]),
    ],
)
def test_a_bad_option_fails_at_init_naming_it(option: str, value: Any) -> None:
    options = {"secret": SECRET, option: value}
    with pytest.raises(tus.ConfigError) as raised:
        init(**options)
    assert raised.value.option == option
    assert str(raised.value).startswith(f"{option}: ")


def test_samesite_none_needs_secure() -> None:
    with pytest.raises(tus.ConfigError, match="samesite"):
        init(secret=SECRET, samesite="None", secure=False)
    assert init(secret=SECRET, samesite="None", secure=True).config.samesite == "None"


def test_the_secret_defaults_to_the_cookie_secret() -> None:
    app = tornado.web.Application(cookie_secret="c" * 32)
    assert tus.init(app).config.secrets == (b"c" * 32,)


def test_a_versioned_cookie_secret_signs_with_the_newest_version() -> None:
    app = tornado.web.Application(cookie_secret={2: "new" * 11, 1: "old" * 11})
    assert tus.init(app).config.secrets == (b"old" * 11, b"new" * 11)


def test_without_any_secret_a_random_one_is_used_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "tornado_user_session"):
        first = init().config.secrets
        second = init().config.secrets
    assert first != second
    assert len(first[0]) == 32
    assert "die with the process" in caplog.text or "end when this process ends" in caplog.text


def test_a_short_secret_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "tornado_user_session"):
        init(secret="short")
    assert "shorter than 32" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, "tornado_user_session"):
        init(secret=SECRET)
    assert caplog.text == ""


def test_the_cookie_header_sets_and_clears_with_the_same_attributes() -> None:
    config = init(secret=SECRET, domain="example.test", samesite="Strict").config
    assert config.cookie_header("abc.def", https=False, max_age=172800) == (
        "tornado-user-session=abc.def; Domain=example.test; HttpOnly; Max-Age=172800; "
        "Path=/; SameSite=Strict"
    )
    assert config.cookie_header(None, https=False, max_age=None) == (
        'tornado-user-session=""; Domain=example.test; expires=Thu, 01 Jan 1970 00:00:00 GMT; '
        "HttpOnly; Max-Age=0; Path=/; SameSite=Strict"
    )


def test_secure_auto_follows_the_request_and_true_is_always() -> None:
    config = init(secret=SECRET).config
    assert "; Secure" in config.cookie_header("v", https=True, max_age=1)
    assert "Secure" not in config.cookie_header("v", https=False, max_age=1)
    always = init(secret=SECRET, secure=True, httponly=False, samesite=None).config
    header = always.cookie_header("v", https=False, max_age=1)
    assert "; Secure" in header
    assert "HttpOnly" not in header
    assert "SameSite" not in header


def test_no_lifetime_may_pass_400_days() -> None:
    for option in ("max_age", "idle_timeout", "absolute_timeout"):
        with pytest.raises(tus.ConfigError, match=option):
            init(secret=SECRET, **{option: 400 * 86400 + 1})
    assert init(secret=SECRET, max_age=400 * 86400).config.max_age == 400 * 86400
