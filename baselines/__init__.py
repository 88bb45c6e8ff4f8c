"""Built-in VSR/SISR models and the degradations that make their LR inputs.

``load_model(name, weights=PATH, device=...)`` returns an :class:`SRModel`.
"""
from __future__ import annotations

from vsrbench.baselines.registry import MODELS, Checkpoint, ModelSpec, SRModel, register_model

# model modules register themselves on import
from vsrbench.baselines import bicubic, duf, enet, frvsr  # noqa: E402,F401  isort: skip


def load_model(name: str, weights=None, device="cpu", **options) -> SRModel:
    """Build model ``name`` and load its weights (a path; looked up locally when None)."""
    spec = MODELS[name]
    return spec.builder(weights=weights, device=device, **options)


__all__ = ["MODELS", "Checkpoint", "ModelSpec", "SRModel", "register_model", "load_model"]
