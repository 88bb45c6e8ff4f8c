"""The layers of the code base hold: each imports only the layers below it, and nothing imports in a circle.

Bottom up (docs/architecture.md draws them):

- ``vsrbench/core`` imports nothing else of vsrbench;
- ``metrics/`` imports only the core (and itself); ``baselines/`` the core, the metrics and itself;
- the harness packages: ``vsrbench/execution`` (executors) the core only, never the results;
  ``vsrbench/results`` (store, locks, loading, the results frame) the core and the metrics, never the
  analysis, the pictures or the runner; ``vsrbench/catalog`` (benchmark files, suites, published data)
  the core, metrics and baselines; ``vsrbench/analysis`` those and the results and catalog;
  ``vsrbench/visual`` those and the analysis;
- the verbs at the top of ``vsrbench/`` (runner, evaluate, explain, drift, the CLI, ...) import anything,
  but the metric internals (``metrics.spatial`` / ``metrics.temporal`` and any ``_private`` name)
  only through the declared ``vsrbench.metrics._kernels``, and never the re-export modules kept for
  old deep imports (``vsrbench.io``, ``vsrbench.store``, ``vsrbench.tables``, ``vsrbench.plots``).

Every import counts, also one inside a function (a function-level import that closes a circle is
still a circle); imports under ``if TYPE_CHECKING:`` do not run and are left out. Read from the
source with ``ast``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks (they never run)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every ``import``/``from ... import`` in a file."""
    out = []
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return [(m, names) for m, names in out if m == "vsrbench" or m.startswith("vsrbench.")]


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _allowed(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


_BELOW_HARNESS = ("vsrbench.core", "vsrbench.metrics", "vsrbench.baselines")
LAYERS = {
    "vsrbench/core": ("vsrbench.core",),
    "metrics": ("vsrbench.core", "vsrbench.metrics"),
    "baselines": _BELOW_HARNESS,
    "vsrbench/execution": ("vsrbench.core", "vsrbench.execution"),
    "vsrbench/results": ("vsrbench.core", "vsrbench.metrics", "vsrbench.results"),
    "vsrbench/catalog": (*_BELOW_HARNESS, "vsrbench.catalog"),
    "vsrbench/analysis": (*_BELOW_HARNESS, "vsrbench.results", "vsrbench.catalog", "vsrbench.analysis"),
    "vsrbench/visual": (*_BELOW_HARNESS, "vsrbench.results", "vsrbench.catalog", "vsrbench.analysis",
                        "vsrbench.visual"),
}
#: the package itself (``from vsrbench import __version__``): its ``__init__`` imports only the core
_TOP = "vsrbench"
#: re-export modules kept for one release for old deep imports; nothing inside vsrbench uses them
SHIMS = ("vsrbench.io", "vsrbench.store", "vsrbench.tables", "vsrbench.plots")


@pytest.mark.parametrize("folder", sorted(LAYERS))
def test_a_layer_imports_only_the_layers_below(folder):
    bad = [f"{p.relative_to(ROOT)}: {m}" for p in _files(folder) for m, _ in _imports(p)
           if not _allowed(m, LAYERS[folder]) and m != _TOP]
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


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] in ("metrics", "baselines"):
        parts = ["vsrbench", *parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """module -> the modules of ours it imports (``from PKG import submodule`` is an edge to the submodule)."""
    files = {_module_name(p): p for folder in ("vsrbench", "metrics", "baselines") for p in _files(folder)}
    graph = {}
    for name, path in files.items():
        edges = set()
        for module, names in _imports(path):
            subs = {f"{module}.{n}" for n in names if f"{module}.{n}" in files}
            edges |= subs or ({module} if module in files else set())
            if subs and len(subs) < len(names) and module in files:
                edges.add(module)
        graph[name] = edges - {name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle():
    graph = _graph()
    assert len(graph) > 60 and graph["vsrbench.analysis.tables"]  # not vacuous: the modules and edges are read
    assert _circles(graph) == []


def test_the_circle_finder_finds_circles():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_nothing_inside_uses_the_re_export_modules():
    shim_files = {ROOT / "vsrbench" / f"{s.rsplit('.', 1)[1]}.py" for s in SHIMS}
    bad = [f"{p.relative_to(ROOT)}: {m}" for folder in ("vsrbench", "metrics", "baselines") for p in _files(folder)
           if p not in shim_files for m, _ in _imports(p) if m in SHIMS]
    assert not bad, bad


def test_the_package_init_imports_only_the_core():
    assert all(_allowed(m, ("vsrbench.core",)) for m, _ in _imports(ROOT / "vsrbench" / "__init__.py"))
