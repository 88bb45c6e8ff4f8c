"""Which tests read ../shared: conftest.py marks them ``shared`` (``pytest -m "not shared"`` leaves them out)."""
from __future__ import annotations

import types
from pathlib import Path

import pytest

from _support.paths import SHARED

# the names through which a test (or a fixture or module function it calls) reaches ../shared
SHARED_NAMES = frozenset({"shared_path", "SHARED", "vid4_example", "vid4_walk_example", "vid4_example_runs"})

__all__ = ["SHARED_NAMES", "reaches_shared", "uses_shared"]


def reaches_shared(code: types.CodeType, namespace: dict, seen: set[int] | None = None) -> bool:
    """Whether ``code`` names one of :data:`SHARED_NAMES` or a path inside ../shared held by ``namespace``
    (its module's globals), itself, in a nested function, or in a function of the same module it names."""
    seen = set() if seen is None else seen
    if id(code) in seen:
        return False
    seen.add(id(code))
    for name in code.co_names:
        if name in SHARED_NAMES:
            return True
        value = namespace.get(name)
        if isinstance(value, Path) and value.is_relative_to(SHARED):
            return True
        if (isinstance(value, types.FunctionType) and value.__module__ == namespace.get("__name__")
                and reaches_shared(value.__code__, namespace, seen)):
            return True
    return any(reaches_shared(c, namespace, seen) for c in code.co_consts if isinstance(c, types.CodeType))


def uses_shared(item: pytest.Item) -> bool:
    """Whether the test ``item`` reads ../shared: it asks for a fixture of :data:`SHARED_NAMES`, or its function
    or a fixture of its own module reaches one (:func:`reaches_shared`)."""
    if SHARED_NAMES & set(getattr(item, "fixturenames", ())):
        return True
    function = getattr(item, "function", None)
    if function is None:
        return False
    funcs = [function]
    for defs in item._fixtureinfo.name2fixturedefs.values():
        funcs += [d.func for d in defs if getattr(d.func, "__module__", None) == function.__module__]
    seen: set[int] = set()
    return any(reaches_shared(f.__code__, f.__globals__, seen) for f in funcs if hasattr(f, "__code__"))
