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
  old deep imports (:data:`SHIMS`).

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
SHIMS = ("vsrbench.io", "vsrbench.store", "vsrbench.tables", "vsrbench.plots", "vsrbench.suites", "vsrbench.stats",
         "vsrbench.report", "vsrbench.figures")


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
    assert ("vsrbench.metrics._kernels", ["size_rule_note"]) in _imports(ROOT / "vsrbench" / "visual" / "profiles.py")


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


# ------------------------------------------------------------------ public names and function length

def _all_names(path: Path) -> list[str] | None:
    """The names of the module's top-level ``__all__`` (a list or tuple of strings), or None without one."""
    for node in ast.parse(path.read_text(), str(path)).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and node.value is not None:
            return [e.value for e in getattr(node.value, "elts", []) if isinstance(e, ast.Constant)]
    return None


def test_every_module_declares_all_and_every_name_in_it_exists():
    import importlib

    files = [p for folder in ("vsrbench", "metrics", "baselines") for p in _files(folder)]
    missing = [str(p.relative_to(ROOT)) for p in files if _all_names(p) is None]
    assert not missing, f"modules without __all__: {missing}"
    absent = []
    for path in files:
        if path.name == "__main__.py":  # importing it runs the CLI; it declares an empty __all__
            assert _all_names(path) == []
            continue
        try:
            module = importlib.import_module(_module_name(path))
        except ModuleNotFoundError as e:
            if e.name == "ray":  # the Ray plug-in without Ray installed: its names are read, not imported
                continue
            raise
        absent += [f"{module.__name__}.{n}" for n in module.__all__ if not hasattr(module, n)]
    assert not absent, f"names in __all__ that the module does not have: {absent}"


#: functions of the harness allowed over the limit (none: issue 17 split the last ones)
_LONG_ALLOWED: set[str] = set()
MAX_FUNCTION_LINES = 60


def _docstring_lines(node: ast.AST) -> int:
    body = getattr(node, "body", None)
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno - first.lineno + 1
    return 0


def _long_functions(path: Path, limit: int, root: Path = ROOT) -> list[str]:
    """``path:name`` of every function (methods and nested ones too) longer than ``limit`` lines.

    A function's length runs from its ``def`` to its last line, less its docstring: the numpy-style
    Parameters/Returns/Raises/Examples sections of the user-facing functions are documentation, not
    steps to split.
    """
    tree = ast.parse(path.read_text(), str(path))
    return [f"{path.relative_to(root)}:{node.name}" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 - _docstring_lines(node) > limit]


def test_no_function_in_the_harness_is_over_60_lines():
    """metrics/ and baselines/ are left out (numerical kernels written after their papers)."""
    long = [f for p in _files("vsrbench") for f in _long_functions(p, MAX_FUNCTION_LINES)]
    over, done = sorted(set(long) - _LONG_ALLOWED), sorted(_LONG_ALLOWED - set(long))
    assert not over, f"functions over {MAX_FUNCTION_LINES} lines (split them along their steps): {over}"
    assert not done, f"no longer over the limit, drop them from _LONG_ALLOWED: {done}"


def test_the_length_check_measures_from_def_to_last_line(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def short():\n" + "    x = 1\n" * 59 + "\n\ndef long():\n" + "    x = 1\n" * 60)
    assert _long_functions(src, 60, root=tmp_path) == ["m.py:long"]  # 61 lines; short() is exactly 60


def test_the_length_check_leaves_the_docstring_out(tmp_path):
    src = tmp_path / "m.py"
    doc = '    """Summary.\n\n' + "    Parameters: ...\n" * 20 + '    """\n'
    src.write_text("def documented():\n" + doc + "    x = 1\n" * 59 + "\n\ndef long():\n" + doc + "    x = 1\n" * 60)
    assert _long_functions(src, 60, root=tmp_path) == ["m.py:long"]
