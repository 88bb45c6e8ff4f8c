"""A Vid4 look-alike whose "DUF-like" outputs have a broken border (the outer 8 px are garbage, as in the
DUF authors' Vid4 outputs), beside a clean method; and BasicSR's Y PSNR written from its formula."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vsrbench.core.io import write_frame

__all__ = ["SIZE", "FRAMES", "BORDER", "lookalike_suite", "write_lookalike", "y_basicsr", "psnr_y"]

SIZE = (48, 64)
FRAMES = 6
BORDER = 8


def lookalike_suite():
    """The vid4 suite with 6 frames of 48 x 64 per clip (install it with monkeypatch.setitem(SUITES, ...))."""
    from vsrbench.catalog import suites

    return suites.get_suite("vid4").lookalike(frames=FRAMES, size=SIZE)


def _smooth(rng) -> np.ndarray:
    base = cv2.GaussianBlur(rng.uniform(0, 255, SIZE + (3,)), (0, 0), 2.0)
    return np.clip(np.round((base - base.min()) * 235 / np.ptp(base) + 10), 0, 255).astype(np.uint8)


def write_lookalike(root: Path, rng, suite, *, broken: float = 3.0, clean: float = 6.0) -> dict:
    """GT, ``Broken`` (noise ``broken``, border replaced by noise in [0, 255]) and ``Clean`` (noise ``clean``)
    under ``root``; returns ``{(method, clip): (outputs, gts)}``."""
    layout = suite.layouts[0]
    out = {}
    for clip in suite.names:
        gts, broken_frames, clean_frames = [], [], []
        for i in range(FRAMES):
            g = _smooth(rng)
            b = np.clip(np.round(g + rng.normal(0, broken, g.shape)), 0, 255).astype(np.uint8)
            garbage = rng.integers(0, 256, g.shape).astype(np.uint8)
            mask = np.ones(SIZE, bool)
            mask[BORDER:-BORDER, BORDER:-BORDER] = False
            b[mask] = garbage[mask]
            c = np.clip(np.round(g + rng.normal(0, clean, g.shape)), 0, 255).astype(np.uint8)
            name = layout.frame_name(i)
            for sub, frame in (("GT", g), ("Broken", b), ("Clean", c)):
                write_frame(root / sub / clip / name, frame)
            gts.append(g)
            broken_frames.append(b)
            clean_frames.append(c)
        out[("Broken", clip)] = (broken_frames, gts)
        out[("Clean", clip)] = (clean_frames, gts)
    return out


def y_basicsr(img: np.ndarray) -> np.ndarray:
    """BasicSR's to_y_channel: float32 on [0, 1], 65.481/128.553/24.966, + 16 (in 0..255)."""
    x = img.astype(np.float32) / 255.0
    return (x @ np.array([65.481, 128.553, 24.966], np.float32) + 16.0).astype(np.float64)


def psnr_y(out: np.ndarray, gt: np.ndarray, crop: int = 0) -> float:
    """BasicSR's Y PSNR of one frame with ``crop`` px cut at each side."""
    a, b = y_basicsr(out), y_basicsr(gt)
    if crop:
        a, b = a[crop:-crop, crop:-crop], b[crop:-crop, crop:-crop]
    return float(10 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2)))
