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

#: modules whose import needs an optional extra (skipped with the install line when it is missing)
OPTIONAL = {"vsrbench.execution.ray_executor": ("ray", "pip install 'vsrbench[ray]'")}


def _modules() -> list[str]:
    """Every module of the package and of all its sub-packages (the harness packages included).

    ``vsrbench.metrics`` and ``vsrbench.baselines`` live in other folders (metrics/, baselines/), so
    walking ``vsrbench``'s folder does not reach them: they are walked from their own paths.
    """
    names = set()
    for pkg in ("vsrbench", "vsrbench.metrics", "vsrbench.baselines"):
        names.add(pkg)
        for info in pkgutil.walk_packages(importlib.import_module(pkg).__path__, pkg + "."):
            if not info.name.endswith(".__main__"):  # running it would run the CLI
                names.add(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    if name in OPTIONAL:
        package, install = OPTIONAL[name]
        pytest.importorskip(package, reason=f"{name} needs {package}: {install}")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed (see the output)"


def test_the_doctests_are_found():
    """The collection above is not vacuous: modules with examples are among them."""
    finder = doctest.DocTestFinder()
    with_examples = [n for n in _modules() if any(t.examples for t in finder.find(importlib.import_module(n)))]
    assert {"vsrbench.core.frames", "vsrbench.core.errors", "vsrbench.metrics.spatial",
            "vsrbench.visual.figures", "vsrbench.analysis.table_model"} <= set(with_examples)
