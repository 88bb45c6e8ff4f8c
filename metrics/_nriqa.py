"""What the no-reference image metrics (MUSIQ, MANIQA, CLIP-IQA) share: frames to the float input
pyiqa takes, strict loading of a published state dict, and the per-frame rows of a scorer."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn as nn

from vsrbench.core.errors import InputError, WeightsError
from vsrbench.core.weights import load_problem

__all__ = ["unit_batch", "torch_load", "load_strict", "clip_rows", "Mlp"]


def unit_batch(frames, device="cpu") -> tuple[torch.Tensor, bool]:
    """``(x, single)``: RGB frames as the ``(N, 3, H, W)`` float32 tensor in [0, 1] pyiqa scores
    (``uint8 / 255``), and whether one frame was given.

    ``frames``: one ``(H, W, 3)`` or a batch ``(N, H, W, 3)`` uint8 array (or a list of such frames),
    or a float tensor ``(3, H, W)`` / ``(N, 3, H, W)`` already in [0, 1].
    """
    if isinstance(frames, torch.Tensor):
        x = frames
        if not x.is_floating_point():
            raise InputError(f"expected a float tensor in [0, 1], got dtype {x.dtype} (give uint8 frames as arrays)")
        single = x.ndim == 3
        x = x[None] if single else x
        if x.ndim != 4 or x.shape[1] != 3:
            raise InputError(f"expected RGB frames (N, 3, H, W) in [0, 1], got a tensor of shape {tuple(frames.shape)}")
        return x.to(device=device, dtype=torch.float32), single
    if isinstance(frames, (list, tuple)):
        shapes = {np.shape(f) for f in frames}
        if len(shapes) != 1:
            raise InputError(f"frames of different shapes cannot be scored as one stack: {sorted(shapes)}")
        frames = np.stack([np.asarray(f) for f in frames])
    a = np.asarray(frames)
    single = a.ndim == 3
    a = a[None] if single else a
    if a.ndim != 4 or a.shape[-1] != 3:
        raise InputError(f"expected RGB frames (H, W, 3) or (N, H, W, 3), got an array of shape {np.shape(frames)}")
    if a.dtype != np.uint8:
        raise InputError(f"expected uint8 RGB frames, got dtype {a.dtype} (give float frames as a torch tensor in [0, 1])")
    x = torch.from_numpy(np.ascontiguousarray(a)).to(device).permute(0, 3, 1, 2).to(torch.float32) / 255.0
    return x, single


def torch_load(path: Path) -> dict:
    """A weights file's tensors (``torch.load(..., weights_only=True)``), or a one-line :class:`WeightsError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # not a torch file, cut short, pickled code
        raise WeightsError(f"cannot read weights file {str(path)!r}: {load_problem(path, e)}") from None


def load_strict(model: nn.Module, state: dict, path, what: str, extra: tuple[str, ...] = ()) -> None:
    """Load ``state`` into ``model`` requiring exactly its keys and shapes (a ``module.`` prefix, as
    pyiqa's ``clean_state_dict`` drops it, is dropped); ``extra`` are keys the file must hold that
    the model does not use. Otherwise one :class:`WeightsError` line saying why the file at ``path``
    is not ``what``."""
    if not isinstance(state, dict):
        raise WeightsError(f"{str(path)!r} is not {what}: it holds a {type(state).__name__}, not a state dict")
    state = {(k[7:] if k.startswith("module.") else k): v for k, v in state.items()}
    own = model.state_dict()
    missing = [k for k in list(own) + list(extra) if k not in state]
    unexpected = [k for k in state if k not in own and k not in extra]
    if missing or unexpected:
        detail = (f"{len(missing)} keys missing (first {missing[0]!r})" if missing else
                  f"{len(unexpected)} unexpected keys (first {unexpected[0]!r})")
        raise WeightsError(f"{str(path)!r} is not {what}: {detail}")
    for k, v in own.items():
        got = state[k]
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(v.shape):
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            raise WeightsError(f"{str(path)!r} is not {what}: {k!r} has shape {shape}, expected {tuple(v.shape)}")
    model.load_state_dict({k: state[k] for k in own})


def clip_rows(clip, score: Callable[[np.ndarray], np.ndarray], batch: int) -> list[tuple[int, float]]:
    """``[(frame, value), ...]`` of ``clip.frames`` (the output frames), ``score`` called on stacks of up to
    ``batch`` frames of one size."""
    rows: list[tuple[int, float]] = []
    idx = list(clip.frames)
    i = 0
    while i < len(idx):
        chunk = [idx[i]]
        frames = [np.asarray(clip.frame(idx[i]))]
        while len(chunk) < batch and i + len(chunk) < len(idx):
            f = np.asarray(clip.frame(idx[i + len(chunk)]))
            if f.shape != frames[0].shape:
                break
            chunk.append(idx[i + len(chunk)])
            frames.append(f)
        values = np.atleast_1d(score(np.stack(frames)))
        rows += [(t, float(v)) for t, v in zip(chunk, values)]
        i += len(chunk)
    return rows


class Mlp(nn.Module):
    """The transformer blocks' feed-forward part of MUSIQ and MANIQA's ViT: Linear, GELU, Linear (keys fc1, fc2)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.nn.functional.gelu(self.fc1(x)))
