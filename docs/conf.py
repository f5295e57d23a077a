"""Sphinx configuration of the API reference (docs/README.md says how to build it).

The reference is written by hand in ``api.rst``: it names each public object and, with an
explicit ``:members:`` list, each public member, so nothing internal reaches it by accident.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import types
from pathlib import Path
from typing import Any, cast

from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.domains.python import PythonDomain
from sphinx.environment import BuildEnvironment

# Document the package of this checkout, whatever else the environment has installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

project = "tornado_user_session"
author = "tornado_user_session contributors"
release = importlib.metadata.version("tornado_user_session")
version = release

extensions: list[str] = ["sphinx.ext.autodoc"]
exclude_patterns: list[str] = ["_build"]
html_theme = "furo"
html_title = f"tornado_user_session {release}"

autodoc_member_order = "bysource"
autoclass_content = "class"
# Defaults as written in the source (``clock=time.time``), not as their repr.
autodoc_preserve_defaults = True
# A long signature (Config's) reads best with one parameter a line.
python_maximum_signature_line_length = 100

# Without intersphinx (the build needs no network), names from Python and from the
# libraries this one builds on cannot be linked; every name of this library must be.
nitpick_ignore_regex: list[tuple[str, str]] = [
    (r"py:.*", r"(asyncio|collections\.abc|datetime|time|typing|tornado|redis)(\..*)?"),
]
nitpick_ignore: list[tuple[str, str]] = [
    # UserSessionMixin.finish() returns an asyncio Future, imported for type checking only.
    ("py:class", "Future"),
    # fresh_login_required's type variable: the decorated method's own type.
    ("py:class", "tornado_user_session.fresh._Method"),
]


def _import(name: str) -> object:
    """The object a dotted name designates, or None."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute, None)
        return found
    return None


def _documented_classes(domain: PythonDomain) -> dict[type, str]:
    """Each class of the reference, with the name it is documented under."""
    classes: dict[type, str] = {}
    for name, entry in domain.objects.items():
        if entry.objtype in ("class", "exception") and not entry.aliased:
            found = _import(name)
            if isinstance(found, type):
                classes.setdefault(found, name)
    return classes


# The nodes are docutils' (contnode a TextElement, the answer a reference), and docutils ships
# no type information: Any stands for them.
def resolve_in_scope(app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Any) -> Any:
    """Resolve a reference of this library's docstrings as Python would read its name.

    The reference documents the public names (``tornado_user_session.Store``), while a
    docstring names things as its own module sees them: ``:data:`SEEN_KEY``` in a method
    of ``Store``, ``:meth:`Store.load``` in ``stores.base``, ``:meth:`purge``` in a
    subclass that inherits it. This looks such a name up in the classes the context
    class inherits from, then in the module that defines the context.
    """
    if node.get("refdomain") != "py":
        return None
    target: str = node["reftarget"]
    domain = cast(PythonDomain, env.get_domain("py"))
    context = _import(".".join(filter(None, (node.get("py:module"), node.get("py:class")))))
    classes = _documented_classes(domain)
    candidates: list[str] = []
    if isinstance(context, type):
        candidates += [f"{classes[base]}.{target}" for base in context.__mro__ if base in classes]
        context = sys.modules[context.__module__]
    if isinstance(context, types.ModuleType) and context.__name__.startswith(project):
        head, _, rest = target.partition(".")
        found = getattr(context, head, None)
        if rest and isinstance(found, type) and found in classes:
            candidates.append(f"{classes[found]}.{rest}")
        candidates.append(f"{context.__name__}.{target}")
    for candidate in candidates:
        if candidate in domain.objects:
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], candidate, node, contnode
            )
    return None


def setup(app: Sphinx) -> None:
    app.connect("missing-reference", resolve_in_scope)
