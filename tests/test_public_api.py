import importlib.metadata

import tornado_user_session as tus


def test_all_lists_exactly_the_public_names_sorted() -> None:
    public = {name for name in vars(tus) if not name.startswith("_")}
    modules = {"config", "errors", "handlers", "manager", "mixin", "session", "signing", "stores"}
    assert sorted(tus.__all__) == tus.__all__
    assert set(tus.__all__) == public - modules


def test_version_comes_from_the_installed_metadata() -> None:
    assert tus.__version__ == importlib.metadata.version("tornado_user_session")


def test_every_error_is_a_session_error() -> None:
    for error in (tus.ConfigError, tus.UnstorableValueError, tus.StoreError):
        assert issubclass(error, tus.SessionError)
    assert issubclass(tus.ConfigError, ValueError)
    assert issubclass(tus.UnstorableValueError, TypeError)
    assert issubclass(tus.MissingDependencyError, ImportError)
