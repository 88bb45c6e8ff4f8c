"""vsrbench: video super-resolution evaluation with exact, named protocols."""
from __future__ import annotations

__version__ = "0.1.0"

from vsrbench.core.errors import VsrbenchError  # noqa: E402

__all__ = ["__version__", "VsrbenchError"]
