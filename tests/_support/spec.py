"""Independent references written from metrics-spec.md section 1 (and Keys' cubic kernel).

The centre-32 crop rule, BT.601 studio luma in NumPy float64, PSNR by the plain formula, SSIM by
``skimage.metrics.structural_similarity`` with its defaults and ``data_range = max(Y_out) - min(Y_out)``,
Farneback flow by OpenCV called with the spec's parameters, and tOF from it.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from skimage.metrics import structural_similarity

Y = np.array([0.256788235294118, 0.504129411764706, 0.097905882352941])

__all__ = ["Y", "keys_cubic_ref", "ref_psnr", "ref_ssim", "spec_crop", "spec_flow", "spec_luma", "spec_tof",
           "spec_window"]


def spec_window(length: int) -> tuple[int, int]:
    """metrics-spec.md: l = (L // 32) * 32; while l > L - 16: l -= 32; offset (L - l) // 2."""
    kept = (length // 32) * 32
    while kept > length - 16:
        kept -= 32
    return (length - kept) // 2, kept


def spec_crop(img: np.ndarray) -> np.ndarray:
    """The centre-32 crop of a frame (or flow field): :func:`spec_window` on both axes."""
    (oy, h), (ox, w) = spec_window(img.shape[0]), spec_window(img.shape[1])
    return img[oy:oy + h, ox:ox + w]


def spec_luma(rgb_u8: np.ndarray) -> np.ndarray:
    """BT.601 studio luma of RGB uint8 in float64: 16 + RGB . Y."""
    return 16.0 + rgb_u8.astype(np.float64) @ Y


def ref_psnr(out_u8: np.ndarray, gt_u8: np.ndarray) -> float:
    """PSNR of the cropped lumas: 20 log10(255 / rmse)."""
    y_o, y_g = spec_luma(spec_crop(out_u8)), spec_luma(spec_crop(gt_u8))
    return 20.0 * math.log10(255.0 / math.sqrt(np.mean((y_g - y_o) ** 2)))


def ref_ssim(out_u8: np.ndarray, gt_u8: np.ndarray) -> float:
    """scikit-image SSIM of the cropped lumas, data range of the output's luma."""
    y_o, y_g = spec_luma(spec_crop(out_u8)), spec_luma(spec_crop(gt_u8))
    return float(structural_similarity(y_g, y_o, data_range=y_o.max() - y_o.min()))


def spec_flow(prev_rgb: np.ndarray, cur_rgb: np.ndarray) -> np.ndarray:
    """OpenCV's Farneback flow prev -> cur of the grey frames, with the spec's parameters."""
    prev = cv2.cvtColor(prev_rgb, cv2.COLOR_RGB2GRAY)
    cur = cv2.cvtColor(cur_rgb, cv2.COLOR_RGB2GRAY)
    return cv2.calcOpticalFlowFarneback(prev, cur, None, 0.5, 3, 15, 3, 5, 1.2, 0)


def spec_tof(out: list, gt: list, t: int) -> float:
    """tOF of frame ``t``: mean Euclidean norm of the cropped flow difference (pair t-1, t)."""
    d = spec_crop(spec_flow(gt[t - 1], gt[t])).astype(np.float64) - spec_crop(spec_flow(out[t - 1], out[t]))
    return float(np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2).mean())


def keys_cubic_ref(d: float, a: float = -0.75) -> float:
    """Keys' cubic convolution kernel at distance ``d`` (TF1 uses a = -0.75, MATLAB a = -0.5)."""
    d = abs(d)
    if d <= 1:
        return (a + 2) * d**3 - (a + 3) * d**2 + 1
    if d < 2:
        return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
    return 0.0
