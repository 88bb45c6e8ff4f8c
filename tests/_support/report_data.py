"""The report tests' data: three methods evaluated into one results folder on two tiny sequences."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from vsrbench.cli import main
from vsrbench.core.io import write_frame

SEQS = ("city", "walk")
N_FRAMES = 7
# run order B, A, C: B worst, A best, C between (so sorting by a metric changes the row order)
NOISE = {"B": 20, "A": 4, "C": 10}

__all__ = ["NOISE", "N_FRAMES", "SEQS", "make_results"]


def make_results(root: Path) -> Path:
    """GT and three methods' outputs of two 7-frame sequences, evaluated into root/res; returns it."""
    rng = np.random.default_rng(7)
    for seq in SEQS:
        base = rng.integers(0, 256, (48, 80, 3)).astype(np.int16)
        for i in range(N_FRAMES):
            gt = np.roll(base, i, axis=1)[:, :64].astype(np.uint8)
            write_frame(root / "GT" / seq / f"{i:03d}.png", gt)
            for method, amp in NOISE.items():
                noisy = gt.astype(int) + rng.integers(-amp, amp + 1, gt.shape)
                write_frame(root / method / seq / f"{i:03d}.png", np.clip(noisy, 0, 255).astype(np.uint8))
    res = root / "res"
    for method in NOISE:
        code = main(["evaluate", "--gt", str(root / "GT"), "--pred", str(root / method), "--method", method,
                     "--out", str(res), "--metrics", "psnr,ssim,tof"])
        assert code == 0
    return res
