import importlib.metadata
import subprocess
import sys

import pytest

import tornado_user_session as tus

MODULES = {
    "bookkeeping",
    "config",
    "errors",
    "flash",
    "fresh",
    "health",
    "handlers",
    "lifetimes",
    "manager",
    "mixin",
    "protection",
    "purging",
    "saving",
    "session",
    "signing",
    "stores",
    "testing",
    "user_sessions",
}
LAZY = {"RedisStore"}  # imported on first use: it needs an optional package


def test_all_lists_exactly_the_public_names_sorted() -> None:
    public = {name for name in vars(tus) if not name.startswith("_")} - MODULES
    assert sorted(tus.__all__) == tus.__all__
    assert set(tus.__all__) == public | LAZY
    for name in tus.__all__:
        assert getattr(tus, name) is not None


def test_importing_the_package_does_not_import_redis() -> None:
    code = "import sys, tornado_user_session; assert 'redis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_redis_store_without_redis_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.delitem(sys.modules, "tornado_user_session.stores.redis", raising=False)
    with pytest.raises(
        tus.MissingDependencyError, match=r"pip install tornado_user_session\[redis\]"
    ):
        _ = tus.RedisStore


def test_unknown_attributes_are_still_attribute_errors() -> None:
    with pytest.raises(AttributeError):
        _ = tus.NoSuchThing


def test_version_comes_from_the_installed_metadata() -> None:
    assert tus.__version__ == importlib.metadata.version("tornado_user_session")


def test_every_error_is_a_session_error() -> None:
    for error in (tus.ConfigError, tus.UnstorableValueError, tus.StoreError):
        assert issubclass(error, tus.SessionError)
    assert issubclass(tus.ConfigError, ValueError)
    assert issubclass(tus.UnstorableValueError, TypeError)
    assert issubclass(tus.MissingDependencyError, ImportError)
