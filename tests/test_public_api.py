import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tornado_user_session as tus
import tornado_user_session.stores.base
import tornado_user_session.testing

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
    "testing",  # a public module, imported by name: not one of __all__
    "user_sessions",
}
LAZY = {"RedisStore"}  # imported on first use: it needs an optional package

API_REFERENCE = Path(__file__).parent.parent / "docs" / "api.rst"
# What else is public, beside __all__: the testing kit, and the names a store writer needs.
TESTING = {"login_cookie", "session_of", "StoreContract", "TTL"}
STORE_WRITING = {"Record", "IndexedSession", "USER_KEY", "SEEN_KEY", "SEEN_EVERY", "INDEX_GRACE"}
FLASH = {"Message", "FLASH_PREFIX", "MAX_FLASHES"}
# A directive of the reference and the name it documents: ".. autoclass:: Session()".
DIRECTIVE = re.compile(
    r"\.\. (?:py:)?(?P<kind>auto\w+|currentmodule|module|class|exception|function|decorator"
    r"|data|attribute|property|method):: *(?P<name>[\w.]+)"
)


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


def documented() -> tuple[set[str], set[tuple[str, str]]]:
    """The modules docs/api.rst documents, and every (module, dotted name) it documents in them:
    the objects of its directives, the members of their ``:members:`` lists and the attributes
    written out in a class's body."""
    modules: set[str] = set()
    names: set[tuple[str, str]] = set()
    module = owner = option = ""
    for line in API_REFERENCE.read_text().splitlines():
        text = line.strip()
        directive = DIRECTIVE.match(text)
        if directive:
            kind, name = directive["kind"], directive["name"]
            option = ""
            if kind in ("automodule", "module", "currentmodule"):
                module, owner = name, ""
                if kind != "currentmodule":
                    modules.add(name)
            elif line.startswith(" ") and owner:  # within a class: one of its attributes
                names.add((module, f"{owner}.{name}"))
            else:
                names.add((module, name))
                owner = name
        elif text.startswith(":"):
            option, _, value = text[1:].partition(":")
            if option == "members":
                names.update((module, f"{owner}.{member}") for member in _listed(value))
        elif text and option == "members":  # a :members: list continued on the next line
            names.update((module, f"{owner}.{member}") for member in _listed(text))
        elif not text:
            option = ""
    return modules, names


def _listed(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def test_the_api_reference_documents_exactly_the_public_names() -> None:
    modules, names = documented()
    assert modules == {
        "tornado_user_session",
        "tornado_user_session.testing",
        "tornado_user_session.stores.base",
        "tornado_user_session.flash",
    }

    def of(module: str) -> set[str]:
        return {name.split(".")[0] for where, name in names if where == module}

    assert of("tornado_user_session") == set(tus.__all__)
    assert of("tornado_user_session.testing") == TESTING
    assert of("tornado_user_session.stores.base") == STORE_WRITING
    assert of("tornado_user_session.flash") == FLASH
    for name in TESTING:
        assert getattr(tornado_user_session.testing, name) is not None
    for name in STORE_WRITING:
        assert getattr(tornado_user_session.stores.base, name) is not None


def test_the_api_reference_documents_no_internal_name() -> None:
    _, names = documented()
    assert len(names) > 50  # the members too
    for module, name in names:
        assert not any(part.startswith("_") for part in name.split(".")), (module, name)
