"""Built-in VSR/SISR models and the degradations that make their LR inputs.

``load_model(name, weights=PATH, device=...)`` returns an :class:`SRModel`.
"""
from __future__ import annotations

import importlib

from vsrbench.baselines.registry import MODELS, Checkpoint, ModelSpec, SRModel, register_model

# Model modules register themselves on import.
# TODO(lead): turn into plain imports once all four modules have landed.
for _name in ("bicubic", "enet", "frvsr", "duf"):
    try:
        importlib.import_module(f"vsrbench.baselines.{_name}")
    except ModuleNotFoundError as _e:
        if _e.name != f"vsrbench.baselines.{_name}":
            raise


def load_model(name: str, weights=None, device="cpu", **options) -> SRModel:
    """Build model ``name`` and load its weights (a path; looked up locally when None)."""
    spec = MODELS[name]
    return spec.builder(weights=weights, device=device, **options)


__all__ = ["MODELS", "Checkpoint", "ModelSpec", "SRModel", "register_model", "load_model"]
