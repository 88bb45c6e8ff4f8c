"""Seeded random weights and test clips for DOVER / FasterVQA (tests/test_dover.py, tests/golden/dover_*.json).

The goldens were made by running the original code (``VQAssessment/DOVER``, ``VQAssessment/FAST-VQA-and-
FasterVQA``) at development time on the weights :func:`random_state` makes (keys and shapes are the same in
both; the original's own ``relative_position_index`` buffers were checked equal to ours) and on the frames
:func:`clip_frames` makes, with the frame indices and fragment offsets its unseeded samplers draw after
``np.random.seed(s); torch.manual_seed(s)``. The golden files record the command.

Random weights are scaled so that every part matters: LayerNorm gains near 1, layer-scale ``gamma`` about
0.5 (the released files' 1e-6 initial value would make the ConvNeXt blocks vanish), bias tables of about 1
(so the fragment gate changes the scores), matrices at ``1/sqrt(fan_in)``.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from vsrbench.core.weights import accept_unverified

__all__ = ["random_state", "write_random_fastervqa", "clip_frames"]


def random_state(state: dict, seed: int = 0) -> dict:
    """A copy of ``state`` with every float tensor replaced by seeded random values (sorted key order; integer
    buffers such as ``relative_position_index`` kept)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k in sorted(state):
        v = state[k]
        if not v.is_floating_point():
            out[k] = v.clone()
            continue
        r = torch.randn(v.shape, generator=g, dtype=torch.float64).float()
        if k.endswith("gamma"):
            out[k] = 0.5 + 0.1 * r
        elif k.endswith("bias_table"):
            out[k] = r
        elif v.dim() == 1 and k.endswith("weight"):  # norms
            out[k] = 1.0 + 0.1 * r
        elif v.dim() == 1:  # biases
            out[k] = 0.05 * r
        else:
            out[k] = r / math.sqrt(max(1, v[0].numel()))
    return out


def write_random_fastervqa(path: str | Path, seed: int = 0) -> Path:
    """Write a FasterVQA file (``{"state_dict": ...}`` as released) of random weights, accepted unverified."""
    from vsrbench.metrics.fastervqa import FasterVQANet

    path = Path(path)
    torch.save({"state_dict": random_state(FasterVQANet().state_dict(), seed)}, path)
    accept_unverified(path)
    return path


def clip_frames(n: int, h: int, w: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` RGB uint8 frames: a moving integer pattern plus seeded noise (integer arithmetic only, so the same
    bytes on every machine)."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.int64)
    noise = rng.randint(0, 48, size=(n, h, w, 3))
    frames = []
    for t in range(n):
        base = np.stack([((xx + 3 * t) * (c + 2) + (yy - 2 * t) * (5 - c) + 60 * c) % 208 for c in range(3)], -1)
        frames.append((base + noise[t]).astype(np.uint8))
    return frames
