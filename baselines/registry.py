"""The model registry: every built-in model is declared here by name, with its known checkpoints.

A model module registers a :class:`ModelSpec` with :func:`register_model`; users call
:func:`vsrbench.baselines.load_model`. Known checkpoints are data (file name, sha256, where
the authors publish it and its download URL, licence, and which rows of vsrbench's database of
published results are its numbers), in the spirit of torchvision's weights API.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from vsrbench.core.errors import InputError, Registry
from vsrbench.core.frames import check_frame


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
    # its published numbers: (method, "BI"/"BD") pairs naming rows of vsrbench's published-results
    # database (vsrbench/data/published.csv; `vsrbench published --method METHOD`), e.g.
    # (("PyTorch TecoGAN", "BD"),); `vsrbench models` lists those rows
    published: tuple[tuple[str, str], ...] = ()
    note: str = ""
    # the direct download URL its authors publish (None: no direct link, e.g. Google Drive); a
    # ".zip" holds ``filename`` and ``companions``. Only ``vsrbench weights download`` uses it.
    url: str | None = None
    # the name it is saved under in the vsrbench weights folder, when ``filename`` is too generic
    local_name: str | None = None


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
    Use :func:`vsrbench.core.frames.to_uint8` to save them (rounded, clipped).
    """

    name: str = "model"
    scale: int = 4

    def upscale(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError


def frame_to_tensor(frame: np.ndarray, index: int, size: tuple[int, int] | None = None) -> torch.Tensor:
    """An LR frame (H, W, 3), uint8 or float in [0, 1], as a float32 (3, H, W) tensor in [0, 1].

    ``size`` (H, W), when given, is the size every frame of the sequence must have.
    """
    a = check_frame(frame, f"frame {index}")
    if size is not None and a.shape[:2] != tuple(size):
        raise InputError(f"frame {index}: expected size {size[0]}x{size[1]} (H x W) like frame 0, "
                         f"got {a.shape[0]}x{a.shape[1]}")
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / np.float32(255.0)
    elif not np.issubdtype(a.dtype, np.floating):
        raise InputError(f"frame {index}: expected uint8 or float in [0, 1], got dtype {a.dtype}")
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)


def full_fp32():
    """A context in which cuDNN convolutions run in IEEE fp32 (by default they may use TF32)."""
    cudnn = torch.backends.cudnn
    return cudnn.flags(enabled=cudnn.enabled, benchmark=cudnn.benchmark, deterministic=cudnn.deterministic,
                       allow_tf32=False)


def batched(items: Iterable[torch.Tensor], size: int) -> Iterator[torch.Tensor]:
    """Stack consecutive tensors of one shape ``size`` at a time (the last batch may be smaller)."""
    batch: list[torch.Tensor] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield torch.stack(batch)
            batch = []
    if batch:
        yield torch.stack(batch)
