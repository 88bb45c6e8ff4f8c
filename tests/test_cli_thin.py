"""The command modules stay thin (issue 17 §3): each parses, builds a typed request and calls one library function.

Read from the source with ``ast``. For every module of ``vsrbench/commands`` (``_options`` aside):

- ``run`` is at most 25 lines;
- ``run`` calls exactly one function of the library (a name imported from ``vsrbench.*`` outside
  ``vsrbench.commands``; a ``...Request`` class is the request, not a call of the library), and that
  call is handed the request: ``_request(args)``, a ``...Request(...)``, or a name bound to one of them;
- the request is a frozen dataclass;
- every other function of the module but ``add_arguments`` (the parser) is at most 25 lines, so the
  work cannot move into a helper of the command instead.

``drift`` is being reworked on the run session (issue 17 §1); it is listed in :data:`NOT_YET_THIN`
until it passes, and the test says when one can leave the list.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ROOT / "vsrbench" / "commands"
MAX_RUN_LINES = 25
#: commands still to be made thin by the run-session work; empty this set
NOT_YET_THIN: set[str] = set()


def _command_files() -> list[Path]:
    return sorted(p for p in COMMANDS.glob("*.py") if not p.name.startswith("_"))


def _imported(tree: ast.AST) -> dict[str, str]:
    """name -> the vsrbench module it is imported from (module level, in functions and under TYPE_CHECKING)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vsrbench"):
            for a in node.names:
                names[a.asname or a.name] = node.module
    return names


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _lines(fn: ast.FunctionDef) -> int:
    return fn.end_lineno - fn.lineno + 1


def _callee(call: ast.Call) -> str | None:
    """``f`` of ``f(...)``, ``m.f`` of ``m.f(...)`` (a function of an imported module); else None."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        return f"{call.func.value.id}.{call.func.attr}"
    return None


def _is_request(node: ast.AST, bound: set[str]) -> bool:
    """``_request(...)``, ``XRequest(...)`` or a name bound to one of them."""
    if isinstance(node, ast.Name):
        return node.id in bound
    if isinstance(node, ast.Call):
        name = _callee(node)
        return name is not None and (name == "_request" or name.endswith("Request"))
    return False


def problems(source: str, name: str = "module") -> list[str]:
    """What keeps the command module ``source`` from being thin (empty: it is)."""
    tree = ast.parse(source)
    functions = _functions(tree)
    run = functions.get("run")
    if run is None:
        return [f"{name}: no run()"]
    found = []
    if _lines(run) > MAX_RUN_LINES:
        found.append(f"{name}.run: {_lines(run)} lines (at most {MAX_RUN_LINES})")
    library = {n for n, module in _imported(tree).items()
               if not module.startswith("vsrbench.commands") and not n.endswith("Request")}
    bound = set()
    for node in ast.walk(run):
        if isinstance(node, ast.Assign) and _is_request(node.value, set()):
            bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    calls = [c for c in ast.walk(run) if isinstance(c, ast.Call) and (_callee(c) or ".").split(".")[0] in library]
    if len(calls) != 1:
        found.append(f"{name}.run: calls {len(calls)} library functions "
                     f"({', '.join(sorted({_callee(c) for c in calls})) or 'none'}); expected one")
    elif not any(_is_request(a, bound) for a in calls[0].args):
        found.append(f"{name}.run: {_callee(calls[0])}() is not handed the request")
    found += [f"{name}.{f}: {_lines(fn)} lines (at most {MAX_RUN_LINES}; move the work into the library)"
              for f, fn in functions.items() if f not in ("add_arguments", "run") and _lines(fn) > MAX_RUN_LINES]
    return found


def _request_classes(source: str) -> dict[str, str]:
    """``XRequest`` -> the module it is imported from."""
    return {n: m for n, m in _imported(ast.parse(source)).items() if n.endswith("Request")}


def test_the_checks_see_every_command():
    names = {p.stem for p in _command_files()}
    assert len(names) >= 20 and {"table", "compare", "profile", "run", "evaluate", "drift"} <= names


def test_every_command_module_is_thin():
    offenders = {p.stem: problems(p.read_text(), p.stem) for p in _command_files()}
    offenders = {k: v for k, v in offenders.items() if v}
    late = sorted(set(offenders) - NOT_YET_THIN)
    assert not late, "command modules that do more than parse, build a request and call the library: " + "; ".join(
        line for k in late for line in offenders[k])
    done = sorted(NOT_YET_THIN - set(offenders))
    assert not done, f"thin now, drop them from NOT_YET_THIN: {done}"


@pytest.mark.parametrize("path", _command_files(), ids=lambda p: p.stem)
def test_the_request_is_a_frozen_dataclass(path):
    if path.stem in NOT_YET_THIN:
        pytest.skip(f"{path.stem}: being reworked on the run session (NOT_YET_THIN)")
    classes = _request_classes(path.read_text())
    assert classes, f"{path.stem}: imports no ...Request class"
    for name, module in classes.items():
        cls = getattr(importlib.import_module(module), name)
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, f"{module}.{name}"


def test_the_check_tells_thin_from_fat():
    thin = (
        "from vsrbench.analysis.leaderboard import TableRequest\n"
        "def _request(args):\n    return TableRequest(results=args.results)\n"
        "def run(args):\n    from vsrbench.analysis.leaderboard import make_table\n"
        "    req = _request(args)\n    print(make_table(req))\n    return 0\n")
    assert problems(thin) == []
    two_calls = thin.replace("    print(make_table(req))\n", "    find_results_dir(req.results)\n    print(make_table(req))\n")
    two_calls = "from vsrbench.results.store import find_results_dir\n" + two_calls
    assert problems(two_calls) == ["module.run: calls 2 library functions (find_results_dir, make_table); expected one"]
    by_module = ("from vsrbench.analysis import stats\n"
                 + thin.replace("    print(make_table(req))\n", "    stats.compare_methods(req)\n    print(make_table(req))\n"))
    assert problems(by_module) == ["module.run: calls 2 library functions (make_table, stats.compare_methods); "
                                   "expected one"]
    not_handed = thin.replace("make_table(req)", "make_table(args)")
    assert problems(not_handed) == ["module.run: make_table() is not handed the request"]
    long_run = thin.replace("    return 0\n", "    x = 1\n" * 25 + "    return 0\n")
    assert problems(long_run) == [f"module.run: {5 + 25} lines (at most 25)"]
    helper = thin + "def _work(args):\n" + "    x = 1\n" * 25
    assert problems(helper) == ["module._work: 26 lines (at most 25; move the work into the library)"]
