"""The model registry: every built-in model is declared here by name, with its known checkpoints.

A model module registers a :class:`ModelSpec` with :func:`register_model`; users call
:func:`vsrbench.baselines.load_model`. Known checkpoints are data (file name, sha256, where
the authors publish it, licence, the numbers they reported), in the spirit of torchvision's
weights API.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

from vsrbench.errors import Registry


@dataclass(frozen=True)
class Checkpoint:
    """A released weights file of a model."""

    filename: str
    format: str  # e.g. "tf-v2", "tf-v1", "torch-state-dict", "hdf5"
    source: str  # where the authors publish it
    licence: str = "unknown"
    sha256: str | None = None
    # extra files that belong to the checkpoint (e.g. TF ".index" next to ".data-...")
    companions: tuple[str, ...] = ()
    reported: dict = field(default_factory=dict)  # e.g. {"Vid4 BD": {"psnr": 25.57, ...}}
    note: str = ""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    builder: Callable[..., "SRModel"]  # builder(weights=..., device=..., **options) -> SRModel
    scale: int = 4
    kind: str = "vsr"  # "vsr" (multi-frame / recurrent) or "sisr" (frame by frame)
    checkpoints: tuple[Checkpoint, ...] = ()
    needs_weights: bool = True
    degradation: str | None = None  # the degradation its released weights expect, if known


MODELS: Registry = Registry("model")


def register_model(spec: ModelSpec) -> ModelSpec:
    return MODELS.register(spec.name, spec)


class SRModel:
    """One interface for every built-in model.

    ``upscale(frames)`` takes an iterable of LR RGB uint8 (H, W, 3) frames (or float arrays in
    [0, 1]) and yields HR float32 RGB frames in [0, 1] units, **unclipped**, one per input
    frame, in order. Recurrent models carry their state across the frames of one call;
    window models (DUF) buffer what their window needs; SISR models go frame by frame.
    Use :func:`vsrbench.io.to_uint8` to save them (rounded, clipped).
    """

    name: str = "model"
    scale: int = 4

    def upscale(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError
