"""PSNR and SSIM, and the shared frame preparation (quantisation, size rule, crop, luma).

All arithmetic runs in torch float64 on the device the inputs live on, so the same code
serves NumPy arrays (CPU) and CUDA tensors.

Input conventions (every metric in :mod:`vsrbench.metrics`):

- argument order is ``(pred, gt)``: the model's output first, the ground truth second;
- NumPy arrays are ``(H, W, 3)`` or ``(N, H, W, 3)``; torch tensors are ``(3, H, W)`` or
  ``(N, 3, H, W)``; RGB;
- ``uint8`` values are 0..255; float values are in ``[0, value_range]`` (default 1.0);
  both published protocols quantise to the 8-bit grid first (round, clip), so a float
  output scores exactly as the PNG it would be saved as.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from vsrbench.core.errors import InputError, VsrbenchWarning
from vsrbench.core.frames import check_values, quantize255
from vsrbench.metrics.protocol import Protocol, get_protocol

# BT.601 studio-range luma (MATLAB rgb2ycbcr), on 0..255 values
Y_COEFFS = (0.256788235294118, 0.504129411764706, 0.097905882352941)
# BasicSR writes the same transform as dot(img/255, [65.481, 128.553, 24.966]) + 16 (on RGB order)
Y_COEFFS_BASICSR = (65.481, 128.553, 24.966)


# ----------------------------------------------------------------- input handling

def as_batch(x, what: str = "frame") -> tuple[torch.Tensor, bool]:
    """Any supported frame(s) -> (N, 3, H, W) tensor (dtype kept), and whether it was batched."""
    if isinstance(x, torch.Tensor):
        t = x
        if t.ndim == 3:
            t, batched = t.unsqueeze(0), False
        elif t.ndim == 4:
            batched = True
        else:
            raise InputError(f"{what}: expected a tensor of shape (3, H, W) or (N, 3, H, W), got {tuple(t.shape)}")
        if t.shape[1] != 3:
            raise InputError(f"{what}: expected 3 channels (RGB), shape (3, H, W) or (N, 3, H, W), got {tuple(x.shape)}")
    else:
        a = np.asarray(x)
        if a.ndim == 3:
            a, batched = a[None], False
        elif a.ndim == 4:
            batched = True
        else:
            raise InputError(f"{what}: expected an array of shape (H, W, 3) or (N, H, W, 3), got {a.shape}")
        if a.shape[-1] != 3:
            raise InputError(f"{what}: expected RGB arrays of shape (H, W, 3), got {np.shape(x)}")
        check_values(a, what)
        t = torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2)
        return t, batched
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise InputError(f"{what}: contains NaN or inf values")
    return t, batched


def size_rule_note(pred_hw: tuple[int, int], gt_hw: tuple[int, int], rule: str) -> str | None:
    """The warning for sizes that differ but that the size rule cuts to match (sizes are W x H), or None."""
    (ph, pw), (gh, gw) = pred_hw, gt_hw
    if (ph, pw) == (gh, gw) or rule not in ("crop-pred", "crop-both"):
        return None
    if ph >= gh and pw >= gw:
        kept = f"the output's top-left {gw}x{gh} is scored (TecoGAN's size rule)"
    elif rule == "crop-both":
        kept = f"the common top-left {min(pw, gw)}x{min(ph, gh)} of both is scored (size rule crop-both)"
    else:
        return None  # an error
    return f"output frames are {pw}x{ph} but GT is {gw}x{gh}; {kept}; is the output at the wrong scale?"


def match_sizes(pred: torch.Tensor, gt: torch.Tensor, rule: str, what: str = "frame", *,
                warn: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply the protocol's size rule to (N, C, H, W) tensors.

    A cut is silent in the published code; here it warns (:func:`size_rule_note`, a
    :class:`~vsrbench.core.errors.VsrbenchWarning` that Python shows once per distinct text)
    unless ``warn=False`` (the evaluation pipeline warns once per sequence itself).
    """
    (ph, pw), (gh, gw) = pred.shape[-2:], gt.shape[-2:]
    if (ph, pw) == (gh, gw):
        return pred, gt
    note = size_rule_note((ph, pw), (gh, gw), rule) if warn else None
    if note:
        warnings.warn(note, VsrbenchWarning, stacklevel=3)
    if rule in ("crop-pred", "crop-both") and ph >= gh and pw >= gw:
        return pred[..., :gh, :gw], gt
    if rule == "crop-both":
        h, w = min(ph, gh), min(pw, gw)
        return pred[..., :h, :w], gt[..., :h, :w]
    allowed = {"crop-pred": " (only an output larger than GT is cut, keeping its top-left corner)",
               "error": ""}.get(rule, "")
    raise InputError(f"{what}: output is {pw}x{ph} but GT is {gw}x{gh}{allowed}")


def center32_window(length: int) -> tuple[int, int]:
    """TecoGAN ``crop_8x8`` along one axis: (offset, size) of the kept window."""
    size = (length // 32) * 32
    while size > length - 16:
        size -= 32
    if size <= 0:
        raise InputError(f"frame side {length} px is too small for TecoGAN's crop (needs at least 48 px)")
    return (length - size) // 2, size


def crop(t: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """Crop (..., H, W) per the protocol."""
    h, w = t.shape[-2:]
    if protocol.crop == "center32":
        (oy, sh), (ox, sw) = center32_window(h), center32_window(w)
        return t[..., oy:oy + sh, ox:ox + sw]
    b = int(protocol.crop_border)
    if b == 0:
        return t
    if 2 * b >= min(h, w):
        raise InputError(f"crop_border={b} leaves nothing of a {h}x{w} frame")
    return t[..., b:h - b, b:w - b]


def crop_hw(arr: np.ndarray, protocol: Protocol) -> np.ndarray:
    """Crop a NumPy (H, W, ...) array per the protocol (used for optical-flow fields)."""
    h, w = arr.shape[:2]
    if protocol.crop == "center32":
        (oy, sh), (ox, sw) = center32_window(h), center32_window(w)
        return arr[oy:oy + sh, ox:ox + sw]
    b = int(protocol.crop_border)
    return arr[b:h - b, b:w - b] if b else arr


def rgb_to_y(t: torch.Tensor, precision: str = "float64") -> torch.Tensor:
    """(N, 3, H, W) RGB 0..255 -> (N, 1, H, W) BT.601 studio luma, not rounded."""
    if precision == "float64":
        t = t.to(torch.float64)
        r, g, b = t[:, 0:1], t[:, 1:2], t[:, 2:3]
        return 16.0 + (Y_COEFFS[0] * r + Y_COEFFS[1] * g + Y_COEFFS[2] * b)
    # BasicSR's to_y_channel: img.astype(float32) / 255, dot with the x255 coefficients (the
    # product is float64), + 16, / 255, cast to float32, then * 255 in float32
    x = (t.to(torch.float32) / 255.0).to(torch.float64)
    cr, cg, cb = Y_COEFFS_BASICSR
    y = (x[:, 0:1] * cr + x[:, 1:2] * cg + x[:, 2:3] * cb) + 16.0
    return ((y / 255.0).to(torch.float32) * 255.0).to(torch.float64)


def prepare(pred, gt, protocol: Protocol, value_range: float = 1.0, what: str = "frame"):
    """(pred, gt) -> quantised, size-matched, cropped float64 (N, 3, h, w) tensors on pred's device."""
    p, _ = as_batch(pred, f"{what} (pred)")
    g, _ = as_batch(gt, f"{what} (gt)")
    if p.shape[0] != g.shape[0]:
        raise InputError(f"{what}: {p.shape[0]} predicted frames but {g.shape[0]} GT frames")
    g = g.to(p.device)
    p = quantize255(p, value_range, f"{what} (pred)")
    g = quantize255(g, value_range, f"{what} (gt)")
    p, g = match_sizes(p, g, protocol.size_rule, what)
    return crop(p, protocol), crop(g, protocol)


def color_planes(t: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """The planes PSNR/SSIM are computed on: (N, 1, h, w) luma or (N, 3, h, w) RGB, float64."""
    return rgb_to_y(t, protocol.y_precision) if protocol.color == "y" else t.to(torch.float64)


# ----------------------------------------------------------------- PSNR

def psnr_planes(p: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB, peak 255) over all pixels and planes; ``inf`` for identical images."""
    mse = ((p - g) ** 2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10((255.0 * 255.0) / mse)  # mse == 0 -> +inf (kept out of means)


def psnr(pred, gt, *, protocol: "str | Protocol" = "tecogan", value_range: float = 1.0,
         **overrides) -> "float | np.ndarray":
    """PSNR in dB under a protocol. ``inf`` when the frames are identical.

    Returns a ``float`` for one frame (``(H, W, 3)`` / ``(3, H, W)``) and a float64 array of shape
    ``(N,)`` for a batch (``(N, H, W, 3)`` / ``(N, 3, H, W)``); :func:`ssim` and :func:`lpips` alike.

    To reproduce the TecoGAN paper use ``protocol="tecogan"`` (centre crop, float64 luma);
    for most VSR papers since 2019 use ``"basicsr-y"`` with their ``crop_border``.

    >>> import numpy as np
    >>> gt = np.full((64, 64, 3), 100, np.uint8); out = gt.copy(); out[..., 1] += 10
    >>> round(psnr(out, gt, protocol="basicsr-rgb"), 4)  # MSE = 100/3 over RGB: 10 log10(255^2 / 33.33)
    32.902
    """
    proto = get_protocol(protocol, **overrides)
    p, g = prepare(pred, gt, proto, value_range)
    return _unbatch(psnr_planes(color_planes(p, proto), color_planes(g, proto)), pred)


# ----------------------------------------------------------------- SSIM

def valid_filter(plane: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Valid-region separable filtering of one 2-D float64 plane with OpenCV (running sums in double
    precision; ~40x faster than a float64 convolution on CPU): the output is smaller by the window."""
    import cv2

    r = (len(taps) - 1) // 2
    return cv2.sepFilter2D(plane, cv2.CV_64F, taps, taps, borderType=cv2.BORDER_REFLECT)[r:-r, r:-r]


def ssim_window(variant: str) -> tuple[np.ndarray, float]:
    """The separable window taps of an SSIM variant and its covariance normalisation:
    ``uniform7`` 7x7 mean, sample covariance N/(N-1); ``gaussian11`` 11x11 Gaussian sigma 1.5, 1."""
    if variant == "uniform7":
        return np.full(7, 1.0 / 7), 49.0 / 48.0
    return gaussian_taps(11, 1.5), 1.0


def _cv2_valid(x: torch.Tensor, kernel_1d: np.ndarray) -> torch.Tensor:
    """:func:`valid_filter` over every plane of a CPU (N, C, H, W) float64 tensor."""
    r = (len(kernel_1d) - 1) // 2
    a = x.numpy()
    out = np.empty(a.shape[:2] + (a.shape[2] - 2 * r, a.shape[3] - 2 * r), dtype=np.float64)
    for n in range(a.shape[0]):
        for c in range(a.shape[1]):
            out[n, c] = valid_filter(a[n, c], kernel_1d)
    return torch.from_numpy(out)


def _box_mean(x: torch.Tensor, size: int) -> torch.Tensor:
    """Valid-region mean over size x size windows of (N, C, H, W)."""
    if x.device.type == "cpu":
        return _cv2_valid(x, np.full(size, 1.0 / size))
    c = x.shape[1]
    k = torch.full((c, 1, 1, size), 1.0 / size, dtype=x.dtype, device=x.device)
    x = F.conv2d(x, k, groups=c)
    return F.conv2d(x, k.transpose(2, 3), groups=c)


def gaussian_taps(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    r = (size - 1) / 2.0
    x = np.arange(size, dtype=np.float64) - r
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def _gauss_mean(x: torch.Tensor, size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    if x.device.type == "cpu":
        return _cv2_valid(x, gaussian_taps(size, sigma))
    c = x.shape[1]
    taps = torch.as_tensor(gaussian_taps(size, sigma), dtype=x.dtype, device=x.device)
    k = taps.view(1, 1, 1, size).repeat(c, 1, 1, 1)
    x = F.conv2d(x, k, groups=c)
    return F.conv2d(x, k.transpose(2, 3), groups=c)


def ssim_planes(p: torch.Tensor, g: torch.Tensor, variant: str, data_range: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM over (N, C, H, W) float64 planes, averaged over channels.

    ``uniform7`` = scikit-image ``structural_similarity`` defaults (7x7 mean filter, sample
    covariance N/(N-1), map border of 3 px discarded): the valid-region filter output is exactly
    that cropped map. ``gaussian11`` = Wang et al. / BasicSR (11x11 Gaussian sigma 1.5,
    population covariance, 5 px border discarded). ``data_range`` is per image, shape (N,).
    """
    taps, cov_norm = ssim_window(variant)
    size = len(taps)
    mean = (lambda x: _box_mean(x, 7)) if variant == "uniform7" else _gauss_mean
    if min(p.shape[-2:]) < size:
        raise InputError(f"SSIM needs frames of at least {size}x{size} px after cropping, got {tuple(p.shape[-2:])}")
    mp, mg = mean(p), mean(g)
    vp = cov_norm * (mean(p * p) - mp * mp)
    vg = cov_norm * (mean(g * g) - mg * mg)
    cpg = cov_norm * (mean(p * g) - mp * mg)
    r = data_range.to(p.dtype).view(-1, 1, 1, 1)
    c1, c2 = (0.01 * r) ** 2, (0.03 * r) ** 2
    smap = ((2 * mp * mg + c1) * (2 * cpg + c2)) / ((mp * mp + mg * mg + c1) * (vp + vg + c2))
    return smap.flatten(2).mean(dim=2).mean(dim=1)


def ssim_data_range(p: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    if protocol.ssim_data_range == "pred":  # TecoGAN: range of the *output's* luma/planes
        flat = p.flatten(1)
        return flat.max(dim=1).values - flat.min(dim=1).values
    return torch.full((p.shape[0],), 255.0, dtype=torch.float64, device=p.device)


def ssim(pred, gt, *, protocol: "str | Protocol" = "tecogan", value_range: float = 1.0,
         **overrides) -> "float | np.ndarray":
    """SSIM under a protocol (``tecogan``: scikit-image defaults on float64 luma with
    ``data_range`` = the output's luma range; ``basicsr-*``: Gaussian 11x11 window, range 255).

    >>> import numpy as np
    >>> f = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    >>> ssim(f, f, protocol="basicsr-y")
    1.0
    """
    proto = get_protocol(protocol, **overrides)
    p, g = prepare(pred, gt, proto, value_range)
    pp, gg = color_planes(p, proto), color_planes(g, proto)
    return _unbatch(ssim_planes(pp, gg, proto.ssim, ssim_data_range(pp, proto)), pred)


def _unbatch(values: torch.Tensor, like):
    v = values.detach().cpu().numpy().astype(np.float64)
    single = (isinstance(like, torch.Tensor) and like.ndim == 3) or (not isinstance(like, torch.Tensor) and np.ndim(like) == 3)
    return float(v[0]) if single else v
