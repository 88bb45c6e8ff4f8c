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

import threading
import warnings

import numpy as np
import torch

from vsrbench.core.errors import InputError, VsrbenchWarning
from vsrbench.core.frames import check_values, quantize255, quantize255_np
from vsrbench.core.kernels import gaussian_taps
from vsrbench.metrics.protocol import Protocol, get_protocol

__all__ = [
    "Y_COEFFS", "Y_COEFFS_BASICSR", "as_batch", "size_rule_note", "match_sizes", "center32_window", "crop",
    "crop_hw", "rgb_to_y", "prepare", "color_planes", "pyiqa_luma", "pyiqa_window", "ssim_input", "psnr_planes", "psnr", "valid_filter", "ssim_window",
    "ssim_planes", "ssim_data_range", "ssim", "STRIP_PIXELS", "strip_rows", "scores_u8", "ssim_plane",
    "ssim_map_sum",
]

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


#: the Y row of pyiqa's RGB -> YIQ matrix (pyiqa/utils/color_util.py ``rgb2yiq``), with its other two rows:
#: the luma is taken from the same float32 matrix product pyiqa computes
_YIQ = ((0.299, 0.587, 0.114), (0.5959, -0.2746, -0.3213), (0.2115, -0.5227, 0.3112))


def pyiqa_luma(t: torch.Tensor) -> torch.Tensor:
    """pyiqa's SSIM input from (N, 3, h, w) 0..255 frames: the frame as pyiqa loads it (float32 ``x / 255``),
    its YIQ luma by the same float32 product, times 255, rounded (half to even); (N, 1, h, w) float64."""
    x = t.to(torch.float32).div(255.0)
    yiq = torch.matmul(x.permute(0, 2, 3, 1), torch.tensor(_YIQ, dtype=torch.float32, device=t.device).t())
    return (yiq[..., :1] * 255.0).round().permute(0, 3, 1, 2).to(torch.float64)


def ssim_input(t: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """The planes SSIM is computed on: :func:`color_planes`, or pyiqa's rounded luma for ``ssim="pyiqa"``."""
    return pyiqa_luma(t) if protocol.ssim == "pyiqa" else color_planes(t, protocol)


# ----------------------------------------------------------------- PSNR

def psnr_planes(p: torch.Tensor, g: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """Per-image PSNR (dB, peak 255) over all pixels and planes; ``inf`` for identical images, unless
    ``eps`` (the protocol's ``psnr_eps``, on the MSE of [0, 1] values) is added to the MSE."""
    mse = ((p - g) ** 2).flatten(1).mean(dim=1)
    if eps:
        mse = mse + eps * 255.0 * 255.0
    return 10.0 * torch.log10((255.0 * 255.0) / mse)  # mse == 0 -> +inf (kept out of means)


def psnr(pred, gt, *, protocol: "str | Protocol" = "tecogan", value_range: float = 1.0,
         **overrides) -> "float | np.ndarray":
    """PSNR in dB under a protocol. ``inf`` when the frames are identical.

    Returns a ``float`` for one frame (``(H, W, 3)`` / ``(3, H, W)``) and a float64 array of shape
    ``(N,)`` for a batch (``(N, H, W, 3)`` / ``(N, 3, H, W)``); :func:`ssim` and :func:`lpips` alike.

    To reproduce the TecoGAN paper use ``protocol="tecogan"`` (centre crop, float64 luma);
    for most VSR papers since 2019 use ``"basicsr-y"`` with their ``crop_border``.

    Parameters
    ----------
    pred, gt : numpy.ndarray or torch.Tensor
        The output and the ground truth: one frame ``(H, W, 3)`` / ``(3, H, W)`` or a batch
        ``(N, H, W, 3)`` / ``(N, 3, H, W)``, RGB, ``uint8`` or float in ``[0, value_range]``.
    protocol : str or Protocol
        A preset name (``"tecogan"``, ``"basicsr-y"``, ...) or a :class:`~vsrbench.metrics.protocol.Protocol`.
    value_range : float
        The white level of float frames (default 1).
    **overrides
        Protocol fields to override by name, e.g. ``crop_border=8``.

    Returns
    -------
    float or numpy.ndarray
        dB; ``inf`` for identical frames.

    Raises
    ------
    vsrbench.core.errors.InputError
        Frames of another shape, type or range than described, or sizes the protocol's size rule refuses.
    vsrbench.core.errors.UnknownNameError
        An unknown protocol name or protocol field.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.full((64, 64, 3), 100, np.uint8); out = gt.copy(); out[..., 1] += 10
    >>> round(psnr(out, gt, protocol="basicsr-rgb"), 4)  # MSE = 100/3 over RGB: 10 log10(255^2 / 33.33)
    32.902
    """
    proto = get_protocol(protocol, **overrides)
    cpu = _prepare_cpu(pred, gt, proto, value_range)
    if cpu is not None:  # NumPy/OpenCV, frame by frame (a batch costs what its frames cost)
        return _unbatch_values([_psnr_u8(p, g, proto) for p, g in zip(*cpu)], pred)
    p, g = prepare(pred, gt, proto, value_range)
    return _unbatch(psnr_planes(color_planes(p, proto), color_planes(g, proto), proto.psnr_eps), pred)


# ----------------------------------------------------------------- SSIM

def valid_filter(plane: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Valid-region separable filtering of one 2-D float64 plane with OpenCV (running sums in double
    precision; ~40x faster than a float64 convolution on CPU): the output is smaller by the window."""
    import cv2

    r = (len(taps) - 1) // 2
    return cv2.sepFilter2D(plane, cv2.CV_64F, taps, taps, borderType=cv2.BORDER_REFLECT)[r:-r, r:-r]


def ssim_window(variant: str) -> tuple[np.ndarray, float]:
    """The separable window taps of an SSIM variant and its covariance normalisation:
    ``uniform7`` 7x7 mean, sample covariance N/(N-1); ``gaussian11`` and ``pyiqa`` 11x11 Gaussian sigma 1.5, 1."""
    if variant == "uniform7":
        return np.full(7, 1.0 / 7), 49.0 / 48.0
    return gaussian_taps(11, 1.5), 1.0


def pyiqa_window() -> np.ndarray:
    """pyiqa's SSIM window (``fspecial(11, 1.5)`` in pyiqa/matlab_utils): the 11x11 Gaussian (sigma 1.5)
    normalised in float64, stored as float32 and used as float64 - not the outer product of two float64
    tap vectors, which differs in the 8th digit (~2e-7 of SSIM on Vid4)."""
    y, x = np.ogrid[-5.0:6.0, -5.0:6.0]
    h = np.exp(-(x * x + y * y) / (2.0 * 1.5 * 1.5))
    h[h < np.finfo(h.dtype).eps * h.max()] = 0
    return (h / h.sum()).astype(np.float32).astype(np.float64)


def _window_valid(x: torch.Tensor, window: np.ndarray) -> torch.Tensor:
    """The 'valid' correlation of every (h, w) plane of ``x`` with a 2-D window (pyiqa's SSIM on a GPU)."""
    n, c, h, w = x.shape
    k = torch.as_tensor(window, dtype=x.dtype, device=x.device)[None, None]
    out = torch.nn.functional.conv2d(x.reshape(n * c, 1, h, w), k)
    return out.reshape(n, c, *out.shape[-2:])


def _separable_valid(x: torch.Tensor, taps: np.ndarray) -> torch.Tensor:
    """:func:`valid_filter` for (N, C, H, W) tensors on a GPU (the torch path of :func:`ssim_planes`), as
    shifted multiply-adds (rows, then columns): memory-bound element-wise kernels, ~10x faster than a
    float64 cuDNN convolution."""
    k = len(taps)
    h, w = x.shape[-2:]
    out = x[..., :, 0:w - k + 1] * float(taps[0])
    for i in range(1, k):
        out = out.add_(x[..., :, i:i + w - k + 1], alpha=float(taps[i]))
    res = out[..., 0:h - k + 1, :] * float(taps[0])
    for i in range(1, k):
        res = res.add_(out[..., i:i + h - k + 1, :], alpha=float(taps[i]))
    return res


def ssim_planes(p: torch.Tensor, g: torch.Tensor, variant: str, data_range: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM over (N, C, H, W) float64 planes, averaged over channels.

    ``uniform7`` = scikit-image ``structural_similarity`` defaults (7x7 mean filter, sample
    covariance N/(N-1), map border of 3 px discarded): the valid-region filter output is exactly
    that cropped map. ``gaussian11`` = Wang et al. / BasicSR (11x11 Gaussian sigma 1.5,
    population covariance, 5 px border discarded). ``data_range`` is per image, shape (N,).
    """
    if p.device.type == "cpu":  # NumPy/OpenCV, plane by plane (the same arithmetic, in place)
        ranges = data_range.detach().to(torch.float64).cpu().numpy()
        return torch.tensor([np.mean([ssim_plane(_np_plane(p[n, c]), _np_plane(g[n, c]), variant, float(ranges[n]))
                                      for c in range(p.shape[1])]) for n in range(p.shape[0])], dtype=torch.float64)
    taps, cov_norm = ssim_window(variant)
    size = len(taps)
    if variant == "pyiqa":
        window = pyiqa_window()
        mean = lambda x: _window_valid(x, window)  # noqa: E731
    else:
        mean = lambda x: _separable_valid(x, taps)  # noqa: E731
    if min(p.shape[-2:]) < size:
        raise InputError(f"SSIM needs frames of at least {size}x{size} px after cropping, got {tuple(p.shape[-2:])}")
    mp, mg = mean(p), mean(g)
    vp = cov_norm * (mean(p * p) - mp * mp)
    vg = cov_norm * (mean(g * g) - mg * mg)
    cpg = cov_norm * (mean(p * g) - mp * mg)
    r = data_range.to(p.dtype).view(-1, 1, 1, 1)
    c1, c2 = (0.01 * r) ** 2, (0.03 * r) ** 2
    smap = ((2 * mp * mg + c1) * (2 * cpg + c2)) / ((mp * mp + mg * mg + c1) * (vp + vg + c2))
    if variant == "pyiqa":  # pyiqa sets the negative contrast-structure term (so the map) to 0
        smap = smap.clamp(min=0.0)
    return smap.flatten(2).mean(dim=2).mean(dim=1)


def _np_plane(t: torch.Tensor) -> np.ndarray:
    """A 2-D CPU tensor as a float64 array OpenCV can filter (rows of contiguous values)."""
    a = t.detach().to(torch.float64).numpy()
    return a if a.strides[-1] == a.itemsize else np.ascontiguousarray(a)


def ssim_data_range(p: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    if protocol.ssim_data_range == "pred":  # TecoGAN: range of the *output's* luma/planes
        flat = p.flatten(1)
        return flat.max(dim=1).values - flat.min(dim=1).values
    return torch.full((p.shape[0],), 255.0, dtype=torch.float64, device=p.device)


def ssim(pred, gt, *, protocol: "str | Protocol" = "tecogan", value_range: float = 1.0,
         **overrides) -> "float | np.ndarray":
    """SSIM under a protocol (``tecogan``: scikit-image defaults on float64 luma with
    ``data_range`` = the output's luma range; ``basicsr-*``: Gaussian 11x11 window, range 255).

    Parameters
    ----------
    pred, gt : numpy.ndarray or torch.Tensor
        As for :func:`psnr`: one frame or a batch, RGB, ``uint8`` or float in ``[0, value_range]``.
    protocol : str or Protocol
        A preset name (``"tecogan"``, ``"basicsr-y"``, ...) or a :class:`~vsrbench.metrics.protocol.Protocol`.
    **overrides
        Protocol fields to override by name, e.g. ``crop_border=8``.
    value_range : float
        The white level of float frames (default 1).

    Returns
    -------
    float or numpy.ndarray
        A float for one frame, an ``(N,)`` float64 array for a batch.

    Raises
    ------
    vsrbench.core.errors.InputError
        Frames of another shape, type or range, or sizes the protocol's size rule refuses.
    vsrbench.core.errors.UnknownNameError
        An unknown protocol name or protocol field.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    >>> ssim(f, f, protocol="basicsr-y")
    1.0
    """
    proto = get_protocol(protocol, **overrides)
    cpu = _prepare_cpu(pred, gt, proto, value_range)
    if cpu is not None:  # NumPy/OpenCV, frame by frame (a batch costs what its frames cost)
        return _unbatch_values([_ssim_u8(p, g, proto) for p, g in zip(*cpu)], pred)
    p, g = prepare(pred, gt, proto, value_range)
    pp, gg = ssim_input(p, proto), ssim_input(g, proto)
    return _unbatch(ssim_planes(pp, gg, proto.ssim, ssim_data_range(pp, proto)), pred)


def _unbatch(values: torch.Tensor, like):
    v = values.detach().cpu().numpy().astype(np.float64)
    single = (isinstance(like, torch.Tensor) and like.ndim == 3) or (not isinstance(like, torch.Tensor) and np.ndim(like) == 3)
    return float(v[0]) if single else v


def _unbatch_values(values: list[float], like):
    return _unbatch(torch.from_numpy(np.asarray(values, dtype=np.float64)), like)


# ----------------------------------------------------------------- the CPU path: NumPy/OpenCV on 8-bit frames
#
# On CPU the public functions score one frame at a time from its uint8 (H, W, 3) array, with the same
# arithmetic as the torch code above (the same operations in the same order, so the same luma values
# bit for bit; sums may differ in the last bits): no float64 copies of a whole batch, no strided
# channel-first views, OpenCV's filters and norms where they apply.

# tecogan luma: the exact products c * v for every 8-bit value v (cv2.LUT), summed left to right, + 16
_Y64_PRODUCTS = np.ascontiguousarray((np.arange(256.0)[:, None] * np.array(Y_COEFFS)).reshape(1, 256, 3))
_SUM3_PLUS16 = np.array([[1.0, 1.0, 1.0, 16.0]])
# BasicSR luma: x = float32(v) / 255 (float32), then x . coefficients + 16 in float64
_Y32_MATRIX = np.array([[*Y_COEFFS_BASICSR, 16.0]])
_WORK = threading.local()


def _prepare_cpu(pred, gt, protocol: Protocol, value_range: float = 1.0, what: str = "frame"):
    """:func:`prepare` for CPU inputs: (pred, gt) as (N, h, w, 3) uint8 NumPy arrays on the 8-bit grid,
    size-matched and cropped (views of the inputs where they are uint8 arrays); None when ``pred`` is a
    tensor on another device (the torch path)."""
    if isinstance(pred, torch.Tensor) and pred.device.type != "cpu":
        return None
    p, _ = as_batch(_u8_array(pred, value_range, f"{what} (pred)"), f"{what} (pred)")
    g, _ = as_batch(_u8_array(gt, value_range, f"{what} (gt)"), f"{what} (gt)")
    if p.shape[0] != g.shape[0]:
        raise InputError(f"{what}: {p.shape[0]} predicted frames but {g.shape[0]} GT frames")
    p = _grid_u8(p, value_range, f"{what} (pred)")
    g = _grid_u8(g.cpu(), value_range, f"{what} (gt)")
    p, g = match_sizes(p, g, protocol.size_rule, what)
    return _hwc(crop(p, protocol)), _hwc(crop(g, protocol))


def _u8_array(x, value_range: float, what: str):
    """A float NumPy frame (or batch, or list of frames) put on the 8-bit grid in NumPy, channels last
    (:func:`~vsrbench.core.frames.quantize255_np`); anything else is returned as it is."""
    if isinstance(x, torch.Tensor):
        return x
    a = np.asarray(x)
    if a.dtype == np.uint8 or a.dtype.kind != "f" or a.ndim not in (3, 4) or a.shape[-1] != 3:
        return x  # uint8 already, or refused by as_batch with its message
    check_values(a, what)
    return quantize255_np(a, value_range, what)


def _grid_u8(t: torch.Tensor, value_range: float, what: str) -> torch.Tensor:
    """The 8-bit rule (:func:`quantize255`) with a uint8 result: its values are integers 0..255."""
    return t if t.dtype == torch.uint8 else quantize255(t, value_range, what).to(torch.uint8)


def _hwc(t: torch.Tensor) -> list[np.ndarray]:
    """(N, 3, h, w) uint8 CPU tensor -> N (h, w, 3) arrays OpenCV can read (channels innermost)."""
    a = t.permute(0, 2, 3, 1).numpy()
    if a.strides[-1] != 1 or a.strides[-2] != 3:
        a = np.ascontiguousarray(a)
    return list(a)


def _work(key: str, shape: tuple, dtype=np.float64) -> np.ndarray:
    """A scratch array of this thread, reused from call to call: fresh multi-megabyte arrays cost more
    in page faults than the arithmetic done in them (a kept array with as many or more rows serves as
    the view of its first rows). Arrays over 32 MB are not kept."""
    cache = getattr(_WORK, "arrays", None)
    if cache is None:
        cache = _WORK.arrays = {}
    a = cache.get(key)
    if a is not None and a.dtype == dtype and a.shape[1:] == shape[1:] and a.shape[0] >= shape[0]:
        return a[:shape[0]]
    if a is None or a.shape != shape or a.dtype != dtype:
        a = np.empty(shape, dtype)
        if a.nbytes <= 32 << 20:
            cache[key] = a
        else:
            cache.pop(key, None)
    return a


_ROWS = 64  # luma is computed in strips of rows: its temporaries stay in the CPU's cache


def _luma_rows(a: np.ndarray, precision: str, y: np.ndarray) -> np.ndarray:
    """(n, w, 3) uint8 RGB rows (n <= ``_ROWS``) -> their luma, written into ``y`` (n, w) float64: the
    values of :func:`rgb_to_y` (``float64``: the exact products of each 8-bit value, summed left to
    right; ``float32``: BasicSR's float32 steps)."""
    import cv2

    n, w = a.shape[:2]
    x64 = _work("x64", (_ROWS, w, 3))[:n]
    if precision == "float64":
        cv2.LUT(a, _Y64_PRODUCTS, dst=x64)
        cv2.transform(x64, _SUM3_PLUS16, dst=y)
        return y
    # each step one pass; dtype=float32 runs the ufunc in float32 (the casts are BasicSR's)
    np.divide(a, np.float32(255.0), out=x64, dtype=np.float32, casting="unsafe")  # float32(v) / 255
    s = _work("s", (_ROWS, w))[:n]
    cv2.transform(x64, _Y32_MATRIX, dst=s)  # x . coefficients + 16, float64
    np.divide(s, 255.0, out=s)
    np.multiply(s, np.float32(255.0), out=y, dtype=np.float32, casting="unsafe")  # float32(s) * 255
    return y


def _planes_u8(a: np.ndarray, protocol: Protocol, outs: list[np.ndarray]) -> list[np.ndarray]:
    """The 2-D float64 planes PSNR/SSIM use (as :func:`color_planes`), [luma] or [R, G, B], written into
    ``outs`` (as many (h, w) float64 arrays)."""
    if protocol.color == "y":
        y = outs[0]
        for y0 in range(0, a.shape[0], _ROWS):
            _luma_rows(a[y0:y0 + _ROWS], protocol.y_precision, y[y0:y0 + _ROWS])
        return [y]
    for c, plane in enumerate(outs):
        np.copyto(plane, a[..., c])
    return outs


_HELPER: list = [None, None]  # (pid, executor): one helper thread per process (a forked child makes its own)


def _both(fn, p_args: tuple, g_args: tuple):
    """``(fn(*p_args), fn(*g_args))``, the second on a helper thread while this one computes the first
    (NumPy and OpenCV release the GIL), when the machine has more than one core. ``fn`` writes only into
    arrays it is given and uses the helper thread's own scratch arrays."""
    import os

    if (os.cpu_count() or 1) < 2:
        return fn(*p_args), fn(*g_args)
    if _HELPER[0] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor

        _HELPER[:] = [os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="vsrbench-planes")]
    other = _HELPER[1].submit(fn, *g_args)
    return fn(*p_args), other.result()


def _frame_planes(p: np.ndarray, g: np.ndarray, protocol: Protocol, cap: int | None = None) -> tuple[list, list]:
    """Both frames' planes (:func:`_planes_u8`), in this thread's scratch arrays (of ``cap`` rows, the
    first rows used; default the frames' rows), computed side by side."""
    n = 1 if protocol.color == "y" else 3
    h, w = p.shape[:2]
    shape = (cap or h, w)
    outs_p = [_work(f"pp{c}", shape)[:h] for c in range(n)]
    outs_g = [_work(f"gg{c}", shape)[:h] for c in range(n)]
    return _both(_planes_u8, (p, protocol, outs_p), (g, protocol, outs_g))


def _psnr_u8(p: np.ndarray, g: np.ndarray, protocol: Protocol) -> float:
    """One frame's PSNR from (h, w, 3) uint8 arrays; RGB in exact integer arithmetic."""
    return scores_u8(p, g, protocol, ("psnr",))["psnr"]


def _ssim_u8(p: np.ndarray, g: np.ndarray, protocol: Protocol) -> float:
    """One frame's SSIM from (h, w, 3) uint8 arrays (the mean over its planes)."""
    return scores_u8(p, g, protocol, ("ssim",))["ssim"]


STRIP_PIXELS = 1 << 21  # frames up to 2 Mpixels (1080p) are scored whole, larger ones in strips of rows


def strip_rows(h: int, w: int) -> int:
    """The rows of a strip for an (h, w) frame: all of them up to :data:`STRIP_PIXELS` pixels, else
    about 1 Mpixel (8 MB per float64 plane, whatever the frame's size)."""
    return h if h * w <= STRIP_PIXELS else max(64, (1 << 20) // w)


def scores_u8(p: np.ndarray, g: np.ndarray, protocol: Protocol, want, rows: int | None = None) -> dict[str, float]:
    """PSNR and/or SSIM (``want``) of one frame from cropped (h, w, 3) uint8 arrays, in strips of ``rows``
    rows (default :func:`strip_rows`), so that memory stays bounded however large the frame.

    A strip's planes are computed with SSIM's window overlap (the window's radius of rows above and
    below), and every value of the SSIM map is the one the whole frame gives, bit for bit (the same
    filter on the same rows); only the sums over the strips are added in another order (a difference
    in the last bits, ~1e-15 relative). The PSNR of RGB planes is exact integer arithmetic on the
    whole frame.
    """
    import cv2

    h, w = p.shape[:2]
    out: dict[str, float] = {}
    if "ssim" in want and protocol.ssim == "pyiqa":  # its own luma, not the protocol's planes; the whole frame
        luma = [pyiqa_luma(torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None])[0, 0].numpy()
                for x in (p, g)]
        out["ssim"] = ssim_plane(luma[0], luma[1], "pyiqa", 255.0)
        want = tuple(m for m in want if m != "ssim")
    step = max(1, min(h, rows or strip_rows(h, w)))
    r, data_range = 0, 255.0
    if "ssim" in want:
        taps, _ = ssim_window(protocol.ssim)
        r = (len(taps) - 1) // 2
        if min(h, w) < len(taps):
            raise InputError(f"SSIM needs frames of at least {len(taps)}x{len(taps)} px after cropping, "
                             f"got {(h, w)}")
        if protocol.ssim_data_range == "pred":
            data_range = _pred_range_u8(p, protocol, step)
    psnr_rgb = "psnr" in want and protocol.color == "rgb"
    if psnr_rgb:  # a sum of integer squares, exact in float64
        out["psnr"] = _psnr_value(cv2.norm(p, g, cv2.NORM_L2SQR), p.size, protocol.psnr_eps)
    if step >= h:  # the whole frame at once
        pp, gg = _frame_planes(p, g, protocol)
        if "psnr" in want and not psnr_rgb:  # not np.dot: BLAS threads stall on a busy machine
            out["psnr"] = _psnr_value(cv2.norm(pp[0], gg[0], cv2.NORM_L2SQR), pp[0].size, protocol.psnr_eps)
        if "ssim" in want:
            out["ssim"] = float(np.mean([ssim_plane(a, b, protocol.ssim, data_range) for a, b in zip(pp, gg)]))
        return out
    sse, sums = 0.0, None
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        a0, a1 = max(0, y0 - r), min(h, y1 + r)  # the strip's rows and the window's overlap
        pp, gg = _frame_planes(p[a0:a1], g[a0:a1], protocol, cap=step + 2 * r)
        if "psnr" in want and not psnr_rgb:
            sse += cv2.norm(pp[0][y0 - a0:y1 - a0], gg[0][y0 - a0:y1 - a0], cv2.NORM_L2SQR)
        lo, hi = max(y0, r), min(y1, h - r)  # the SSIM map's rows this strip holds (the map drops r at each side)
        if "ssim" in want and lo < hi:
            part = [ssim_map_sum(a, b, protocol.ssim, data_range, lo - a0, hi - a0) for a, b in zip(pp, gg)]
            sums = part if sums is None else [s + x for s, x in zip(sums, part)]
    if "psnr" in want and not psnr_rgb:
        out["psnr"] = _psnr_value(sse, h * w, protocol.psnr_eps)
    if "ssim" in want:
        n = (h - 2 * r) * (w - 2 * r)
        out["ssim"] = float(np.mean([s / n for s in sums]))
    return out


def _psnr_value(sse: float, n: int, eps: float = 0.0) -> float:
    mse = sse / n + eps * 255.0 * 255.0
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10((255.0 * 255.0) / mse))


def _pred_range_u8(p: np.ndarray, protocol: Protocol, step: int) -> float:
    """TecoGAN's SSIM data range: max - min of the output's planes (luma computed strip by strip)."""
    if protocol.color == "rgb":
        return float(int(p.max()) - int(p.min()))
    lo, hi = np.inf, -np.inf
    for y0 in range(0, p.shape[0], step):
        y = _planes_u8(p[y0:y0 + step], protocol, [_work("range", (step, p.shape[1]))[:len(p[y0:y0 + step])]])[0]
        lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
    return hi - lo


def ssim_plane(p: np.ndarray, g: np.ndarray, variant: str, data_range: float) -> float:
    """Mean SSIM of two 2-D float64 planes: the arithmetic of :func:`ssim_planes` (the same filter,
    the same operations in the same order) in NumPy, in place in this thread's scratch arrays."""
    smap, r = _ssim_map(p, g, variant, data_range)
    return float(smap[r:-r, r:-r].mean())


def ssim_map_sum(p: np.ndarray, g: np.ndarray, variant: str, data_range: float, lo: int, hi: int) -> float:
    """The sum of rows ``lo:hi`` of the SSIM map of two 2-D float64 planes (rows of ``p``; the window's
    radius of rows above and below them must be in ``p``), columns without the window's border: one
    strip's share of :func:`ssim_plane`'s mean."""
    smap, r = _ssim_map(p, g, variant, data_range)
    return float(smap[lo:hi, r:-r].sum())


def _ssim_map(p: np.ndarray, g: np.ndarray, variant: str, data_range: float) -> tuple[np.ndarray, int]:
    """The SSIM map of two 2-D float64 planes (in a scratch array; its border of the window's radius
    ``r`` is not valid) and ``r``."""
    import cv2

    taps, cov_norm = ssim_window(variant)
    size = len(taps)
    if min(p.shape) < size:
        raise InputError(f"SSIM needs frames of at least {size}x{size} px after cropping, got {tuple(p.shape)}")
    r = (size - 1) // 2
    q, mp, mg, vp, vg, cpg = (_work(f"ssim{i}", p.shape) for i in range(6))

    window = pyiqa_window() if variant == "pyiqa" else None

    def mean(x, dst):  # valid_filter's filter; its border rows/columns are dropped at the end
        if window is not None:
            cv2.filter2D(x, cv2.CV_64F, window, dst=dst, borderType=cv2.BORDER_REFLECT)
        else:
            cv2.sepFilter2D(x, cv2.CV_64F, taps, taps, dst=dst, borderType=cv2.BORDER_REFLECT)

    mean(p, mp)
    mean(g, mg)
    mean(np.multiply(p, p, out=q), vp)
    mean(np.multiply(g, g, out=q), vg)
    mean(np.multiply(p, g, out=q), cpg)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mp2 = np.multiply(mp, mp, out=q)
    mpg = np.multiply(mp, mg, out=mp)
    mg2 = np.multiply(mg, mg, out=mg)
    with np.errstate(divide="ignore", invalid="ignore"):  # as torch: a zero data range gives NaN, silently
        for v, m in ((vp, mp2), (vg, mg2), (cpg, mpg)):
            v -= m
            if cov_norm != 1.0:  # x * 1.0 == x: a pass saved
                v *= cov_norm
        mpg *= 2.0          # 2 mp mg + c1
        mpg += c1
        cpg *= 2.0          # 2 cov + c2
        cpg += c2
        mpg *= cpg
        mp2 += mg2          # mp^2 + mg^2 + c1
        mp2 += c1
        vp += vg            # vp + vg + c2
        vp += c2
        mp2 *= vp
        mpg /= mp2
    if variant == "pyiqa":  # pyiqa sets the negative contrast-structure term (so the map) to 0
        np.maximum(mpg, 0.0, out=mpg)
    return mpg, r
