"""Synthetic test data: frame pairs, moving sequences, dataset folders and a random AlexNet file."""
from __future__ import annotations

import importlib
from pathlib import Path

import cv2
import numpy as np
import torch

from vsrbench.core.io import write_frame

ALEX = "alexnet-owt-7be5be79.pth"

__all__ = ["ALEX", "moving_sequence", "noisy_outputs", "random_alex", "slow_scoring", "stripe_sequence",
           "synthetic_pair", "write_dataset"]


def synthetic_pair(rng, n: int | None = None, shape=(96, 128)):
    """A smooth textured GT and a blurred, noisy output, RGB uint8 (optionally n frames)."""

    def one():
        base = cv2.GaussianBlur(rng.uniform(0, 255, shape + (3,)), (0, 0), 2.0)
        gt = np.clip(np.round((base - base.min()) * 255 / np.ptp(base)), 0, 255).astype(np.uint8)
        out = cv2.GaussianBlur(gt.astype(np.float64), (0, 0), 0.8) + rng.normal(0, 6, gt.shape)
        return np.clip(np.round(out), 0, 255).astype(np.uint8), gt

    if n is None:
        return one()
    pairs = [one() for _ in range(n)]
    return np.stack([p for p, _ in pairs]), np.stack([g for _, g in pairs])


def moving_sequence(rng, n: int = 7, shape=(96, 128), step=(0.6, 1.3), noise: float = 0.0) -> list[np.ndarray]:
    """A blurred random texture translating by ``step`` px per frame (optionally with noise)."""
    h, w = shape
    base = cv2.GaussianBlur(rng.uniform(0, 255, (h + 40, w + 40, 3)).astype(np.float32), (0, 0), 2.0)
    base = cv2.normalize(base, None, 0, 255, cv2.NORM_MINMAX)
    frames = []
    for t in range(n):
        m = np.float32([[1, 0, -step[1] * t], [0, 1, -step[0] * t]])
        f = cv2.warpAffine(base, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        f = f + rng.normal(0, noise, f.shape) if noise else f
        frames.append(np.clip(np.round(f), 0, 255).astype(np.uint8))
    return frames


def stripe_sequence(n: int = 8, shape=(40, 60), row=(23, 27)) -> list[np.ndarray]:
    """A static background with a bright vertical stripe moving right, only in rows row[0]..row[1]-1."""
    frames = []
    for t in range(n):
        f = np.full(shape + (3,), 60, np.uint8)
        f[:, ::7] = 90  # static texture everywhere
        f[row[0]:row[1], 5 + 4 * t:8 + 4 * t] = 250
        frames.append(f)
    return frames


def write_dataset(root: Path, seqs: dict[str, list[np.ndarray]], pattern: str = "Frame {:03d}.png") -> Path:
    """One folder per sequence under ``root``, its frames named by ``pattern`` (numbered from 1)."""
    for name, frames in seqs.items():
        for i, f in enumerate(frames):
            write_frame(root / name / pattern.format(i + 1), f)
    return root


def random_alex(path: Path, seed: int = 0) -> Path:
    """AlexNet's features with random weights, in torchvision's key layout: right layout, not the published file."""
    lpips_mod = importlib.import_module("vsrbench.metrics.lpips")  # the module (the package's attribute is the function)
    torch.manual_seed(seed)
    feats, _, _ = lpips_mod._backbone("alex")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({f"features.{k}": v for k, v in feats.state_dict().items()}, path)
    return path


def noisy_outputs(root: Path, seqs, *, seed: int, frames: int = 4, shape=(48, 64), sigma: float = 8.0) -> None:
    """GT frames of random pixels in ``root/data/GT/SEQ`` and an output of each with Gaussian noise
    (``sigma`` 8-bit levels, rounded and clipped) in ``root/data/X/SEQ``, ``000.png`` onwards."""
    rng = np.random.default_rng(seed)
    for s in seqs:
        for i in range(frames):
            gt = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
            write_frame(root / "data" / "GT" / s / f"{i:03d}.png", gt)
            out = np.clip(gt + rng.normal(0, sigma, gt.shape), 0, 255).round().astype(np.uint8)
            write_frame(root / "data" / "X" / s / f"{i:03d}.png", out)


def slow_scoring(folder: Path, seconds: float) -> Path:
    """A ``sitecustomize.py`` in ``folder`` that makes every ``evaluate_many`` call of a process that has
    ``folder`` on its PYTHONPATH (workers too) sleep ``seconds`` first: slow enough to stop a run mid-way."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "import time\nimport vsrbench.evaluate as ev\n\n_real = ev.evaluate_many\n\n\n"
        f"def _slow(*a, **k):\n    time.sleep({seconds!r})\n    return _real(*a, **k)\n\n\nev.evaluate_many = _slow\n")
    return folder
