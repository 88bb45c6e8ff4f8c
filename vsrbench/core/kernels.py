"""Filter taps shared by the metrics and the degradations."""
from __future__ import annotations

import numpy as np

__all__ = ["gaussian_taps"]


def gaussian_taps(size: int, sigma: float, radius: float | None = None) -> np.ndarray:
    """Normalised 1-D Gaussian ``exp(-x^2 / (2 sigma^2))`` at the ``size`` offsets centred on 0.

    Offsets are ``i - (size - 1) / 2`` (half-integers for an even ``size``); taps farther than
    ``radius`` from the centre are zero. SSIM's window is ``gaussian_taps(11, 1.5)``; the
    degradations of :mod:`vsrbench.baselines.degrade` build their kernels from it.
    """
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    if radius is not None:
        g[np.abs(x) > radius] = 0.0
    return g / g.sum()
