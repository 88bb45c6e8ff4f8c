"""Every docstring example of the package runs and shows what it says.

The modules are imported by their package names (``vsrbench.metrics...``), never by file path:
``metrics/`` and ``baselines/`` are mapped into ``vsrbench`` by setuptools, so collecting them by
path (pytest's ``--doctest-modules``) would import a second copy that registers its models twice.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("vsrbench", "vsrbench.core", "vsrbench.metrics", "vsrbench.baselines", "vsrbench.commands")


def _modules() -> list[str]:
    names = set(PACKAGES)
    for pkg in PACKAGES:
        for info in pkgutil.iter_modules(importlib.import_module(pkg).__path__):
            if info.name != "__main__":  # running it would run the CLI
                names.add(f"{pkg}.{info.name}")
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed (see the output)"


def test_the_doctests_are_found():
    """The collection above is not vacuous: modules with examples are among them."""
    finder = doctest.DocTestFinder()
    with_examples = [n for n in _modules() if any(t.examples for t in finder.find(importlib.import_module(n)))]
    assert {"vsrbench.core.frames", "vsrbench.core.errors", "vsrbench.metrics.spatial"} <= set(with_examples)
