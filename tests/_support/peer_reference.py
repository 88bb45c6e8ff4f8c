"""Straightforward NumPy implementations of the conventions vsrbench reproduces, always available.

Written for the peer benchmarks (tests/test_bench_peers.py) from the published conventions:

- BasicSR (``basicsr/metrics/psnr_ssim.py``, ``calculate_psnr`` / ``calculate_ssim``): images as OpenCV
  reads them (BGR, uint8, (H, W, 3)); ``test_y_channel`` takes the luma of ``to_y_channel``: the image
  as float32 divided by 255, the dot product with (24.966, 128.553, 65.481) (B, G, R order) plus 16,
  divided by 255 and cast to float32, then multiplied by 255; PSNR is ``10 log10(255^2 / mse)`` of the
  float64 planes (``inf`` when equal); SSIM is Wang et al.'s with an 11x11 Gaussian window (sigma 1.5,
  ``cv2.getGaussianKernel``, the outer product applied with ``cv2.filter2D``), the 5 px border of every
  filtered map dropped, ``C1 = (0.01 * 255)^2``, ``C2 = (0.03 * 255)^2``, averaged over channels.
- TecoGAN (``metrics.py`` of thunil/TecoGAN): the centred crop whose sides are multiples of 32 with at
  least 8 px removed per side, BT.601 studio luma in float64 (``16 + RGB . (0.2568, 0.5041, 0.0979)``),
  PSNR ``20 log10(255 / rmse)``, SSIM = scikit-image ``structural_similarity`` with its defaults and
  ``data_range`` = the output luma's max - min.

Every function takes RGB uint8 frames (H, W, 3) and returns a float, one frame at a time (as the
published code is called).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from _support.spec import spec_crop, spec_luma  # TecoGAN's crop and luma, written once from metrics-spec.md

BASICSR_Y_BGR = np.array([24.966, 128.553, 65.481])


# ------------------------------------------------------------------ BasicSR

def basicsr_y(rgb: np.ndarray) -> np.ndarray:
    """BasicSR's ``to_y_channel`` of an RGB uint8 frame: (H, W, 1) float32 luma on 0..255."""
    bgr = rgb[..., ::-1].astype(np.float32) / 255.0
    y = np.dot(bgr, BASICSR_Y_BGR) + 16.0
    y = (y / 255.0).astype(np.float32)
    return (y * 255.0)[..., None]


def _basicsr_planes(rgb: np.ndarray, test_y_channel: bool, crop_border: int) -> np.ndarray:
    img = basicsr_y(rgb) if test_y_channel else rgb[..., ::-1]
    if crop_border:
        img = img[crop_border:-crop_border, crop_border:-crop_border]
    return img.astype(np.float64)


def basicsr_psnr(out: np.ndarray, gt: np.ndarray, test_y_channel: bool = True, crop_border: int = 0) -> float:
    a = _basicsr_planes(out, test_y_channel, crop_border)
    b = _basicsr_planes(gt, test_y_channel, crop_border)
    mse = np.mean((a - b) ** 2)
    return math.inf if mse == 0 else float(10.0 * np.log10(255.0 * 255.0 / mse))


def basicsr_ssim_plane(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    k = cv2.getGaussianKernel(11, 1.5)
    window = np.outer(k, k.transpose())

    def filt(x):
        return cv2.filter2D(x, -1, window)[5:-5, 5:-5]

    mu1, mu2 = filt(a), filt(b)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 ** 2, mu2 ** 2, mu1 * mu2
    s1 = filt(a ** 2) - mu1_sq
    s2 = filt(b ** 2) - mu2_sq
    s12 = filt(a * b) - mu1_mu2
    smap = ((2 * mu1_mu2 + c1) * (2 * s12 + c2)) / ((mu1_sq + mu2_sq + c1) * (s1 + s2 + c2))
    return float(smap.mean())


def basicsr_ssim(out: np.ndarray, gt: np.ndarray, test_y_channel: bool = True, crop_border: int = 0) -> float:
    a = _basicsr_planes(out, test_y_channel, crop_border)
    b = _basicsr_planes(gt, test_y_channel, crop_border)
    return float(np.mean([basicsr_ssim_plane(a[..., c], b[..., c]) for c in range(a.shape[2])]))


# ------------------------------------------------------------------ TecoGAN

def tecogan_psnr(out: np.ndarray, gt: np.ndarray) -> float:
    y_o, y_g = spec_luma(spec_crop(out)), spec_luma(spec_crop(gt))
    mse = np.mean((y_g - y_o) ** 2)
    return math.inf if mse == 0 else 20.0 * math.log10(255.0 / math.sqrt(mse))


def tecogan_ssim(out: np.ndarray, gt: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    y_o, y_g = spec_luma(spec_crop(out)), spec_luma(spec_crop(gt))
    return float(structural_similarity(y_g, y_o, data_range=y_o.max() - y_o.min()))
