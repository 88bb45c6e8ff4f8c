"""Shared fixtures: isolated weight caches, the random LPIPS backbone, the Vid4 example run once, and the
``shared`` marker on every test that reads ../shared.

Helpers that test modules import live in ``tests/_support/`` (no test module imports another one).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from _support.lpips_reference import random_backbone_home
from _support.markers import uses_shared
from _support.paths import REPO, shared_path

@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _isolated_weights_home(tmp_path_factory, monkeypatch):
    """No test sees the user's real weight caches unless it sets them itself."""
    home = tmp_path_factory.mktemp("vsrbench_home")
    monkeypatch.setenv("VSRBENCH_HOME", str(home))
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    # one worker (this process) unless a test asks for more: spawned workers cost seconds each to
    # start, and they would not see a test's monkeypatches (tests/test_workers.py covers them)
    monkeypatch.setenv("VSRBENCH_WORKERS", "1")


@pytest.fixture
def alexnet_home(tmp_path_factory, monkeypatch) -> Path:
    """Points ``TORCH_HOME`` at a folder with the seeded random torchvision AlexNet (written once per session)."""
    home = random_backbone_home(tmp_path_factory, "alex")
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch intra-op thread for a module (``pytestmark = pytest.mark.usefixtures("one_torch_thread")``):
    small networks and the many small ops of CPU flows gain nothing from a second thread, and on a busy shared
    2-core machine spinning threads wait on each other (measured 5-20x slower). Restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(name="shared_path")
def shared_path_fixture():
    """:func:`_support.paths.shared_path` as a fixture (a test that asks for it is marked ``shared``)."""
    return shared_path


# ------------------------------------------------------------------ the shipped Vid4 example, run once

@pytest.fixture(scope="session")
def vid4_example_runs(tmp_path_factory) -> dict[str, Path]:
    """``examples/vid4-duf.toml`` on ../shared (DUF-16L/52L outputs, both bicubics) run once per session with
    ``vsrbench run``, in two steps: the scene walk alone (that results folder is kept as ``"walk"``), then
    a copy of it resumed with the whole example (four scenes: ``"all"``; walk's rows are the stored ones).
    Read only: tests take copies through :func:`vid4_example` and :func:`vid4_walk_example`."""
    from vsrbench.cli import main

    vid4 = shared_path("data", "vid4")
    root = tmp_path_factory.mktemp("vid4_example")
    text = (REPO / "examples" / "vid4-duf.toml").read_text().replace("../../shared/data/vid4", str(vid4))
    (root / "all.toml").write_text(text)
    (root / "walk.toml").write_text(text.replace("scale = 4", 'scale = 4\nsequences = ["walk"]', 1))
    with pytest.MonkeyPatch.context() as mp:  # as _isolated_weights_home does for a test
        mp.setenv("VSRBENCH_HOME", str(root / "vsrbench_home"))
        mp.setenv("TORCH_HOME", str(root / "vsrbench_home" / "torch"))
        mp.setenv("VSRBENCH_WORKERS", "1")
        assert main(["run", str(root / "walk.toml"), "--out", str(root / "walk"), "--quiet"]) == 0
        shutil.copytree(root / "walk", root / "all")
        assert main(["run", str(root / "all.toml"), "--out", str(root / "all"), "--quiet"]) == 0
    return {"walk": root / "walk", "all": root / "all"}


@pytest.fixture
def vid4_example(vid4_example_runs, tmp_path) -> Path:
    """This test's copy of the session's results folder of the whole Vid4 example (see :func:`vid4_example_runs`)."""
    return Path(shutil.copytree(vid4_example_runs["all"], tmp_path / "vid4_example"))


@pytest.fixture
def vid4_walk_example(vid4_example_runs, tmp_path) -> Path:
    """This test's copy of the session's results folder of the Vid4 example limited to the scene walk."""
    return Path(shutil.copytree(vid4_example_runs["walk"], tmp_path / "vid4_walk_example"))


# ------------------------------------------------------------------ the shared marker

def pytest_collection_modifyitems(config, items):
    """Mark ``shared`` every test that reads ../shared: it asks for the ``shared_path`` or a Vid4 example
    fixture, or its code (its own, its module's fixtures and functions it calls) names ``shared_path``,
    ``SHARED`` or a module-level path inside ../shared."""
    for item in items:
        if item.get_closest_marker("shared") is None and uses_shared(item):
            item.add_marker(pytest.mark.shared)
