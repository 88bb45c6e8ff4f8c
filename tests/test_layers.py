"""The layers of the code base hold: each imports only the layers below it.

``vsrbench/core`` imports nothing else of vsrbench; ``metrics/`` imports only the core (and
itself); ``baselines/`` imports the core, the metrics and itself; the harness imports everything,
but the metric internals (``metrics.spatial`` / ``metrics.temporal`` and any ``_private`` name)
only through the declared ``vsrbench.metrics._kernels``. Read from the source with ``ast``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every ``import``/``from ... import`` in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return [(m, names) for m, names in out if m == "vsrbench" or m.startswith("vsrbench.")]


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _allowed(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


LAYERS = {
    "vsrbench/core": ("vsrbench.core",),
    "metrics": ("vsrbench.core", "vsrbench.metrics"),
    "baselines": ("vsrbench.core", "vsrbench.metrics", "vsrbench.baselines"),
}


@pytest.mark.parametrize("folder", sorted(LAYERS))
def test_a_layer_imports_only_the_layers_below(folder):
    bad = [f"{p.relative_to(ROOT)}: {m}" for p in _files(folder) for m, _ in _imports(p)
           if not _allowed(m, LAYERS[folder])]
    assert not bad, bad


def test_the_harness_reaches_metric_internals_only_through_kernels():
    harness = [p for p in _files("vsrbench") if "core" not in p.relative_to(ROOT / "vsrbench").parts]
    bad = []
    for p in harness:
        for module, names in _imports(p):
            if module in ("vsrbench.metrics.spatial", "vsrbench.metrics.temporal"):
                bad.append(f"{p.relative_to(ROOT)}: {module}")
            elif module.startswith(("vsrbench.metrics", "vsrbench.baselines")) and module != "vsrbench.metrics._kernels":
                bad += [f"{p.relative_to(ROOT)}: {module}.{n}" for n in names if n.startswith("_")]
    assert not bad, bad


def test_the_checks_see_the_code():
    """Not vacuous: the files are found and their imports are read."""
    assert len(_files("metrics")) >= 8 and len(_files("baselines")) >= 8
    assert ("vsrbench.metrics._kernels", ["size_rule_note"]) in _imports(ROOT / "vsrbench" / "commands" / "profile.py")
