"""The straightforward evaluation loop, for comparison.

This is the TecoGAN protocol written the plain way its published code runs it: frames one
after another, two Farneback flows in sequence, scikit-image's SSIM, and three LPIPS
evaluations per frame (six backbone passes). :mod:`vsrbench.evaluate` must give identical
numbers; ``vsrbench speed`` and the benchmark tests time the two side by side.

Only the ``tecogan`` protocol family (centre-32 crop, float64 luma, uniform SSIM) is
covered here: it is the one whose speed matters.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from vsrbench.core.errors import InputError
from vsrbench.metrics.protocol import Protocol, get_protocol
from vsrbench.metrics._kernels import Y_COEFFS, center32_window

__all__ = ["LpipsFn", "reference_evaluate"]

LpipsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _crop(img: np.ndarray) -> np.ndarray:
    (oy, h), (ox, w) = center32_window(img.shape[0]), center32_window(img.shape[1])
    return img[oy:oy + h, ox:ox + w]


def _luma(img_u8: np.ndarray) -> np.ndarray:
    flat = img_u8.reshape(-1, 3).astype(np.float32)
    y = flat @ np.asarray(Y_COEFFS, dtype=np.float64) + 16.0
    return y.reshape(img_u8.shape[:2])


def _to_lpips(img_u8: np.ndarray) -> torch.Tensor:
    return torch.from_numpy((img_u8 / 127.5 - 1.0)[None].transpose(0, 3, 1, 2).copy()).float()


def reference_evaluate(
    gt_frames: Sequence,
    pred_frames: Sequence,
    *,
    protocol: "str | Protocol" = "tecogan",
    metrics: Sequence[str] = ("psnr", "ssim", "lpips", "tof", "tlp"),
    lpips_fn: LpipsFn | None = None,
) -> list[tuple[int, str, float]]:
    """Rows ``(frame, metric, value)`` computed the straightforward way.

    ``gt_frames`` / ``pred_frames`` are indexable sequences of RGB uint8 (H, W, 3) frames
    (a :class:`~vsrbench.core.io.FrameSequence` decodes lazily, as the original loop does).
    ``lpips_fn(a, b)`` takes two (1, 3, H, W) tensors in [-1, 1] and returns the distance.
    """
    import cv2
    from skimage.metrics import structural_similarity

    proto = get_protocol(protocol)
    if proto.crop != "center32" or proto.ssim != "uniform7" or proto.frames_scored != "all":
        raise InputError(f"the reference loop covers the tecogan protocol only, not {proto.name!r}")
    if set(metrics) & {"lpips", "tlp"} and lpips_fn is None:
        raise InputError("lpips/tlp need an lpips_fn")
    params = proto.flow_params
    rows: list[tuple[int, str, float]] = []
    cut, n = proto.cut_frames, len(gt_frames)
    pre_tar_g = pre_out_g = pre_img0 = pre_img1 = None  # the previous scored frame's grey images / tensors
    for i in range(cut, n - cut):
        out, tar = np.asarray(pred_frames[i]), np.asarray(gt_frames[i])
        if tar.shape[0] < out.shape[0] or tar.shape[1] < out.shape[1]:
            out = out[:tar.shape[0], :tar.shape[1]]
        out_g = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)
        tar_g = cv2.cvtColor(tar, cv2.COLOR_RGB2GRAY)
        if "tof" in metrics and i > cut:
            f_t = cv2.calcOpticalFlowFarneback(pre_tar_g, tar_g, None, *params)
            f_o = cv2.calcOpticalFlowFarneback(pre_out_g, out_g, None, *params)
            d = np.abs(_crop(f_t) - _crop(f_o))
            rows.append((i, "tof", float(np.sqrt(np.sum(d * d, axis=-1)).mean())))
        pre_tar_g, pre_out_g = tar_g, out_g
        tar_c, out_c = _crop(tar), _crop(out)
        y_t, y_o = _luma(tar_c), _luma(out_c)
        if "psnr" in metrics:
            rmse = np.sqrt(np.mean((y_t - y_o) ** 2))
            rows.append((i, "psnr", float(20 * np.log10(255.0 / rmse)) if rmse > 0 else float("inf")))
        if "ssim" in metrics:
            rows.append((i, "ssim", float(structural_similarity(y_t, y_o, data_range=y_o.max() - y_o.min()))))
        if set(metrics) & {"lpips", "tlp"}:
            img0, img1 = _to_lpips(tar_c), _to_lpips(out_c)
            if "lpips" in metrics:
                rows.append((i, "lpips", float(lpips_fn(img0, img1).flatten()[0])))
            if "tlp" in metrics and i > cut:
                d0 = float(lpips_fn(pre_img0, img0).flatten()[0])
                d1 = float(lpips_fn(pre_img1, img1).flatten()[0])
                rows.append((i, "tlp", proto.tlp_scale * abs(d0 - d1)))
            pre_img0, pre_img1 = img0, img1
    return rows
