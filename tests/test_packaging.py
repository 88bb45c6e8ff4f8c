"""The built wheel holds every module: ``metrics/`` and ``baselines/`` are mapped to
``vsrbench.metrics`` / ``vsrbench.baselines`` by pyproject's package-dir, and setup.py discovers
the packages (a sub-package it missed would still import in editable mode but be left out of the
wheel). This builds a wheel offline (``pip wheel --no-deps --no-build-isolation``) from a
copy of the sources (the checkout stays free of ``build/`` folders) and compares file lists.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAPPING = {"vsrbench": "vsrbench", "metrics": "vsrbench/metrics", "baselines": "vsrbench/baselines"}


def source_modules() -> set[str]:
    """Every .py of the three source folders, named as it must appear in the wheel."""
    out = set()
    for folder, target in MAPPING.items():
        for p in (REPO / folder).rglob("*.py"):
            if "__pycache__" not in p.parts:
                out.add(f"{target}/{p.relative_to(REPO / folder).as_posix()}")
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed in this environment: cannot build a wheel offline")
    src = tmp_path_factory.mktemp("pkg_src")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for folder in MAPPING:
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = src / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                           "--no-index", "-q", "-w", str(dist)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = dist.glob("vsrbench-*.whl")
    with zipfile.ZipFile(whl) as z:
        yield z


def test_every_module_is_in_the_wheel(wheel):
    names = set(wheel.namelist())
    missing = sorted(source_modules() - names)
    assert not missing, f"not in the wheel (a package setup.py did not discover?): {missing}"
    assert {"vsrbench/metrics/__init__.py", "vsrbench/baselines/__init__.py", "vsrbench/commands/__init__.py"} <= names


def test_nothing_else_is_packaged(wheel):
    tops = {n.split("/")[0] for n in wheel.namelist()}
    assert tops == {"vsrbench", next(t for t in tops if t.endswith(".dist-info"))}  # no tests/, metrics/, ...


def test_console_script(wheel):
    ep = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    assert "vsrbench = vsrbench.cli:main" in wheel.read(ep).decode()


def test_published_results_database_is_in_the_wheel(wheel):
    """`vsrbench published` and `table --published` read vsrbench/data/published.csv (package data)."""
    assert "vsrbench/data/published.csv" in wheel.namelist()
    assert wheel.read("vsrbench/data/published.csv") == (REPO / "vsrbench" / "data" / "published.csv").read_bytes()


def test_suite_data_is_in_the_wheel(wheel):
    """vsrbench.catalog.suites reads vsrbench/data/suites.toml and the Vimeo-90K-T clip list (package data)."""
    for name in ("suites.toml", "vimeo90k_test_clips.txt.gz"):
        assert wheel.read(f"vsrbench/data/{name}") == (REPO / "vsrbench" / "data" / name).read_bytes()


def test_report_assets_are_in_the_wheel(wheel):
    """`vsrbench report` copies vsrbench/report_assets/report.js and report.css into the site (package data)."""
    for name in ("report.js", "report.css"):
        assert wheel.read(f"vsrbench/report_assets/{name}") == (REPO / "vsrbench" / "report_assets" / name).read_bytes()
