"""Shared test helpers: where ../shared is, and skips that say why."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VSRBENCH_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared; skips the calling test (with the reason) when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the team's shared test data, next to the repository); not present here")
    return p


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
