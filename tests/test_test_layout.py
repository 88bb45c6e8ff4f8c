"""The test suite's own layout: no test module imports another one (shared helpers live in tests/_support/),
and the ``shared`` marker reaches the tests that read ../shared."""
from __future__ import annotations

import ast
from pathlib import Path

from _support.markers import SHARED_NAMES, reaches_shared
from _support.paths import SHARED, shared_path

TESTS = Path(__file__).resolve().parent
TEST_MODULES = {p.stem for p in TESTS.glob("test_*.py")} | {"conftest"}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (function-level imports count)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
            if node.module in ("tests", "_support"):
                names |= {alias.name for alias in node.names}
    return names


def test_the_checker_sees_imports_anywhere(tmp_path):
    src = tmp_path / "test_x.py"
    src.write_text("import os\ndef f():\n    from test_y import z\n    import conftest\n")
    assert imported_modules(src) == {"os", "test_y", "conftest"}


def test_no_test_module_imports_another():
    files = sorted(TESTS.glob("test_*.py")) + [TESTS / "conftest.py"] + sorted((TESTS / "_support").glob("*.py"))
    offenders = {f"{p.relative_to(TESTS)} imports {name}" for p in files
                 for name in imported_modules(p) & (TEST_MODULES | {"tests"}) if name != p.stem}
    assert not offenders, "move the shared helpers into tests/_support/: " + "; ".join(sorted(offenders))


def _reads_shared_through_a_helper():
    return _helper_path()


def _helper_path():
    return shared_path("data")


def _reads_nothing_shared():
    return TESTS / "data"


SHARED_FOLDER = SHARED / "data"


def test_tests_reading_shared_are_found():
    """A function that names shared_path, SHARED, a module path inside ../shared, or calls such a function."""
    assert reaches_shared(_reads_shared_through_a_helper.__code__, globals())
    assert reaches_shared((lambda: SHARED_FOLDER.exists()).__code__, globals())
    assert reaches_shared((lambda: [SHARED for _ in range(2)]).__code__, globals())  # a nested code object
    assert not reaches_shared(_reads_nothing_shared.__code__, globals())
    assert not reaches_shared(test_the_checker_sees_imports_anywhere.__code__, globals())


def test_a_test_naming_nothing_shared_is_not_marked(request):
    assert request.node.get_closest_marker("shared") is None
    assert "vid4_example" in SHARED_NAMES and "shared_path" in SHARED_NAMES


def test_a_test_asking_for_shared_path_is_marked(request, shared_path):
    """Asks for the ``shared_path`` fixture (and reads nothing): conftest marks it ``shared``."""
    assert request.node.get_closest_marker("shared") is not None
