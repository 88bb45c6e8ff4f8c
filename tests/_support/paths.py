"""Where the repository and the team's shared test data are, and the skip that says why."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("VSRBENCH_SHARED", REPO.parent / "shared"))

__all__ = ["REPO", "SHARED", "shared_path"]


def shared_path(*parts: str) -> Path:
    """Path inside ../shared; skips the calling test (with the reason) when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the team's shared test data, next to the repository); not present here")
    return p
