"""The model registry: every built-in model is declared here by name, with its known checkpoints.

A model module registers a :class:`ModelSpec` with :func:`register_model`; users call
:func:`vsrbench.baselines.load_model`. Known checkpoints are data (file name, sha256, where
the authors publish it and its download URL, licence, and which rows of vsrbench's database of
published results are its numbers), in the spirit of torchvision's weights API.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from vsrbench.core.errors import InputError, Registry, WeightsError
from vsrbench.core.frames import check_frame
from vsrbench.core.weights import find_weights, search_dirs, vsrbench_home

__all__ = [
    "Checkpoint", "tf_checkpoint_prefix", "locate_checkpoint", "ModelSpec", "MODELS", "register_model", "SRModel",
    "frame_to_tensor", "full_fp32", "batched",
]


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
    # other file names the same weights are published under (looked up after ``filename``)
    aliases: tuple[str, ...] = ()
    # the names looked up under the vsrbench weights folders instead of ``filename``, when that is too
    # generic to be searched on its own (ENet's 'weights'); a folder given explicitly may hold any of them
    search_names: tuple[str, ...] = ()


_TF_SHARD = re.compile(r"\.data-\d{5}-of-\d{5}$")


def tf_checkpoint_prefix(path: str | os.PathLike) -> Path | None:
    """The TF checkpoint prefix ``path`` names (``X``, ``X.index`` or ``X.data-...``), or None."""
    p = Path(path)
    if p.name.endswith(".index"):
        return p.with_name(p.name[: -len(".index")])
    if _TF_SHARD.search(p.name):
        return p.with_name(_TF_SHARD.sub("", p.name))
    if p.with_name(p.name + ".index").is_file():
        return p
    return None


def locate_checkpoint(ckpt: Checkpoint, weights: str | os.PathLike | None = None, *, model: str = "") -> Path:
    """The local file (or TF prefix) of ``ckpt``. Never downloads.

    ``weights``, when given, is the file itself (any name), a folder holding it, or a TF checkpoint
    prefix; otherwise the vsrbench weights folders are searched. The names tried are
    ``ckpt.filename`` and then ``ckpt.aliases``, or, when set, ``ckpt.search_names`` (also as TF prefixes;
    ``model`` names the model in their messages). The file found under ``ckpt.filename`` is checked
    against ``ckpt.sha256`` when that is known, except for a checkpoint looked up by ``search_names``
    (ENet's loader checks its file itself, with its own message and option).
    Raises :class:`~vsrbench.core.errors.WeightsError` saying where it looked and where to get the file.
    """
    if weights is not None and not Path(weights).expanduser().exists():
        prefix = tf_checkpoint_prefix(Path(weights).expanduser())
        if prefix is not None and prefix.with_name(prefix.name + ".index").is_file():
            return prefix  # TF style: the checkpoint prefix "model/TecoGAN"
    if ckpt.search_names:
        return _locate_by_search_names(ckpt, weights, model)
    try:
        return find_weights(ckpt.filename, path=weights, source=ckpt.source, sha256=ckpt.sha256)
    except WeightsError as first:
        for alias in ckpt.aliases:
            try:
                return find_weights(alias, path=weights, source=ckpt.source)
            except WeightsError:
                continue
        raise first from None


def _locate_by_search_names(ckpt: Checkpoint, weights: str | os.PathLike | None, model: str) -> Path:
    """:func:`locate_checkpoint` for a checkpoint whose published name is too generic to be searched."""
    if weights is not None:
        p = Path(weights).expanduser()
        if p.is_file():
            return p
        for candidate in (p / ckpt.filename, *(p / n for n in ckpt.search_names)):
            if candidate.is_file():
                return candidate
        raise WeightsError(
            f"{model} weights not found at the given path {str(p)!r} (expected the file itself, a folder holding "
            f"'{ckpt.filename}', or a TF checkpoint prefix); the authors publish it at {ckpt.source}"
        )
    searched = [d / n for d in search_dirs() for n in ckpt.search_names]
    for candidate in searched:
        if candidate.is_file() or Path(f"{candidate}.index").is_file():
            return candidate
    raise WeightsError(
        f"{model} weights not found (searched: {', '.join(str(s) for s in searched)}); get the file "
        f"'{ckpt.filename}' from {ckpt.source} and place it as "
        f"{vsrbench_home() / ckpt.search_names[0]} (or set VSRBENCH_HOME), or pass its path explicitly"
    )


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
