"""A small seeded video and three distortions of it, in integer arithmetic only (the same uint8 frames on
every machine and NumPy version), for tests/test_vmaf.py and its libvmaf goldens.

``python tests/_support/vmaf_video.py DIR`` writes the yuv420p files the goldens in
tests/golden/vmaf_libvmaf.json were computed from (``ref.yuv``, ``blur.yuv``, ``sharp.yuv``, ``noise.yuv``,
written by :func:`vsrbench.metrics.vmaf.write_yuv420p`); the JSON names the libvmaf command.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SEED", "SHAPE", "FRAMES", "video", "box3", "distort"]

SEED = 19
SHAPE = (144, 176)  # QCIF
FRAMES = 6


def _box(x: np.ndarray, k: int) -> np.ndarray:
    """k x k mean (integer division) of ``(..., H, W, C)`` int64 with edge padding."""
    r = k // 2
    p = np.pad(x, [(0, 0)] * (x.ndim - 3) + [(r, r), (r, r), (0, 0)], mode="edge")
    h, w = x.shape[-3], x.shape[-2]
    s = sum(p[..., i:i + h, j:j + w, :] for i in range(k) for j in range(k))
    return s // (k * k)


def box3(frames: np.ndarray) -> np.ndarray:
    """3x3 box blur of uint8 frames (integer arithmetic)."""
    return _box(frames.astype(np.int64), 3).astype(np.uint8)


def video(n: int = FRAMES, shape: tuple[int, int] = SHAPE, seed: int = SEED) -> np.ndarray:
    """``(n, H, W, 3)`` uint8: a smooth random field with sharp rectangles and fine texture, panned by
    (1, 2) px per frame."""
    rng = np.random.default_rng(seed)
    h, w = shape[0] + 2 * n, shape[1] + 4 * n
    coarse = rng.integers(0, 256, size=(h // 8 + 2, w // 8 + 2, 3), dtype=np.int64)
    canvas = _box(np.repeat(np.repeat(coarse, 8, 0), 8, 1), 9)[:h, :w]
    for _ in range(12):
        y, x = rng.integers(0, h - 16), rng.integers(0, w - 16)
        canvas[y:y + rng.integers(6, 16), x:x + rng.integers(6, 16)] = rng.integers(0, 256, size=3)
    canvas = np.clip(canvas + rng.integers(-12, 13, size=canvas.shape), 0, 255)
    return np.stack([canvas[t:t + shape[0], 2 * t:2 * t + shape[1]] for t in range(n)]).astype(np.uint8)


def distort(frames: np.ndarray, kind: str, seed: int = SEED) -> np.ndarray:
    """``blur`` (3x3 box), ``sharp`` (over-sharpened: x + 2 (x - box3(x)), clipped) or ``noise`` (+-8 uniform)."""
    x = frames.astype(np.int64)
    if kind == "blur":
        return box3(frames)
    if kind == "sharp":
        return np.clip(x + 2 * (x - box3(frames).astype(np.int64)), 0, 255).astype(np.uint8)
    if kind == "noise":
        rng = np.random.default_rng(seed + 1)
        return np.clip(x + rng.integers(-8, 9, size=x.shape), 0, 255).astype(np.uint8)
    raise ValueError(kind)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    from vsrbench.metrics.vmaf import write_yuv420p

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    ref = video()
    write_yuv420p(out / "ref.yuv", ref)
    for kind in ("blur", "sharp", "noise"):
        write_yuv420p(out / f"{kind}.yuv", distort(ref, kind))
    print(f"{FRAMES} frames {SHAPE[1]}x{SHAPE[0]} yuv420p in {out}")
