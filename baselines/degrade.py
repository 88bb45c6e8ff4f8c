"""Named degradations that turn ground-truth frames into low-resolution inputs.

"BD" (blur + down-sample) is not one operation: the published pipelines differ in the Gaussian's
width and size, the border rule and which pixels are kept, and numbers made from different
variants are not comparable (metrics-spec.md section 4, models-spec.md section 4). Each variant
is registered here under its own name; a run records the name.

=====================  =========================================  ===========  ======================
name                   kernel                                     border       kept pixels (0-based)
=====================  =========================================  ===========  ======================
``bd-tecogan``         Gaussian sigma 1.5, 13 taps (OpenCV auto)  reflect-101  0, s, 2s, ...
``bd-tecogan-train``   Gaussian sigma 1.5, 9 taps                 reflect-101  0, s, 2s, ...
``bd-duf``             Gaussian sigma 0.4*s, 13x13                reflect-101  0, s, 2s, ...
``bd-basicvsr``        MATLAB fspecial('gaussian', 12, 1.6)       replicate    s/2-1, s/2-1+s, ...
``bi-matlab``          MATLAB imresize(img, 1/s, 'bicubic')       mirror       (antialiased resize)
``bi-pil``             PIL resize to (W//s, H//s), LANCZOS        (PIL)        (antialiased resize)
=====================  =========================================  ===========  ======================

:func:`degrade` returns float64 frames in the input's units (0..255 for uint8 frames), not
rounded; :func:`degrade_uint8` rounds and clips the way the source pipeline saved its PNGs.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from vsrbench.baselines.resize import check_image, imresize_matlab, round_like_matlab
from vsrbench.core.errors import InputError, Registry, VsrbenchWarning
from vsrbench.core.frames import to_uint8
from vsrbench.core.kernels import gaussian_taps

__all__ = [
    "Degradation",
    "DEGRADATIONS",
    "degrade",
    "degrade_uint8",
    "check_lr_size",
    "MIN_LR_SIDE",
    "gaussian_taps",
    "tecogan_train_taps",
    "duf_taps",
    "fspecial_gaussian_taps",
    "round_like_numpy",
]


# ----------------------------------------------------------------------------- kernels
def tecogan_train_taps(sigma: float = 1.5) -> np.ndarray:
    """TecoGAN's training / TecoGAN-PyTorch's ``create_kernel``: ``1 + 2*int(3 sigma)`` taps (9 at 1.5).

    The 2-D kernel is the normalised outer product of ``scipy.signal.windows.gaussian(k, sigma)``,
    i.e. the outer product of these normalised taps.
    """
    return gaussian_taps(1 + 2 * int(sigma * 3.0), sigma)


def duf_taps(scale: int) -> np.ndarray:
    """DUF's ``gkern(13, 0.4*scale)``: ``scipy.ndimage.gaussian_filter`` of a 13x13 delta, as 1-D taps.

    scipy truncates its Gaussian at ``int(4 sigma + 0.5)`` pixels, so the 13-tap window holds
    7 non-zero taps at x2 (sigma 0.8), 11 at x3 and all 13 at x4 (sigma 1.6).
    """
    sigma = 0.4 * scale
    return gaussian_taps(13, sigma, radius=int(4.0 * sigma + 0.5))


def fspecial_gaussian_taps(size: int = 12, sigma: float = 1.6) -> np.ndarray:
    """MATLAB ``fspecial('gaussian', size, sigma)`` as 1-D taps (the 2-D kernel is their outer product).

    fspecial samples at offsets ``-(size-1)/2 .. (size-1)/2`` (half-integers for the even size 12
    that mmagic's ``BD_degradation.m`` uses) and zeroes values below ``eps * max``; for
    size 12, sigma 1.6 the smallest 2-D value is ~7.5e-6, so nothing is zeroed and the kernel
    is exactly separable.
    """
    return gaussian_taps(size, sigma)


# ----------------------------------------------------------------------------- blur + sample
def _blur_sample_axis(a: np.ndarray, axis: int, taps: np.ndarray, origin: int, first: int, step: int,
                      count: int, mode: str) -> np.ndarray:
    """Correlate one axis with ``taps`` and keep ``count`` samples ``first, first+step, ...``.

    Sample ``j`` is ``sum_k taps[k] * ext[first + step*j + k - origin]`` where ``ext`` extends
    ``a`` along ``axis`` with ``np.pad(mode=mode)`` as far as the taps reach.
    """
    length = a.shape[axis]
    last = first + step * (count - 1)
    before = max(0, origin - first)
    after = max(0, last + (len(taps) - 1 - origin) - (length - 1))
    widths = [(0, 0)] * a.ndim
    widths[axis] = (before, after)
    ext = np.pad(a, widths, mode=mode)
    start = first + before - origin
    out = 0.0
    for k, w in enumerate(taps):
        index = [slice(None)] * a.ndim
        index[axis] = slice(start + k, start + k + step * (count - 1) + 1, step)
        out = out + w * ext[tuple(index)]
    return out


def _blur_sample(a: np.ndarray, taps: np.ndarray, origin: int, first: int, step: int,
                 counts: tuple[int, int], mode: str) -> np.ndarray:
    """Separable :func:`_blur_sample_axis` over rows, then columns."""
    rows = _blur_sample_axis(a, 0, taps, origin, first, step, counts[0], mode)
    return _blur_sample_axis(rows, 1, taps, origin, first, step, counts[1], mode)


def _bd_tecogan(a: np.ndarray, scale: int) -> np.ndarray:
    """TecoGAN ``inference_data_loader`` with ``--input_dir_HR`` (official TF, test LR from HR).

    ``cv2.GaussianBlur(float32 image, (0, 0), sigmaX=1.5)``: OpenCV's automatic size for a
    non-uint8 image is ``round(sigma*4*2 + 1) | 1 = 13`` taps, border BORDER_REFLECT_101
    (its default); then ``[::4, ::4]``. Computed in float32 as TecoGAN did.
    """
    import cv2

    blurred = cv2.GaussianBlur(np.ascontiguousarray(a, dtype=np.float32), (0, 0), sigmaX=1.5)
    return blurred.reshape(a.shape)[::scale, ::scale].astype(np.float64)


def _bd_tecogan_train(a: np.ndarray, scale: int) -> np.ndarray:
    """TecoGAN-PyTorch ``downsample_bd(pad_data=True)`` / ``scripts/resize_bd.py`` (= TF training kernel).

    9-tap sigma-1.5 normalised Gaussian (:func:`tecogan_train_taps`), ``F.pad(..., 'reflect')``
    by 4 px (reflect-101), convolution with stride 4: LR pixel i sits on HR pixel 4i.
    """
    counts = (math.ceil(a.shape[0] / scale), math.ceil(a.shape[1] / scale))
    taps = tecogan_train_taps()
    return _blur_sample(a, taps, len(taps) // 2, 0, scale, counts, "reflect")


def _bd_duf(a: np.ndarray, scale: int) -> np.ndarray:
    """DUF ``test.py`` (yhjo09/VSR-DUF) = BasicSR ``duf_downsample``.

    13x13 Gaussian, sigma 0.4*scale (:func:`duf_taps`); the HR frame is padded by 2*scale px
    (``np.pad`` 'reflect'), then by 6 px (TF 'REFLECT'), convolved VALID with stride scale and
    the LR cropped by 2 px per side: LR pixel i sits on HR pixel scale*i.
    """
    pre = 2 * scale
    widths = [(pre, pre), (pre, pre)] + [(0, 0)] * (a.ndim - 2)
    padded = np.pad(a, widths, mode="reflect")
    counts = (math.ceil(a.shape[0] / scale), math.ceil(a.shape[1] / scale))
    return _blur_sample(padded, duf_taps(scale), 6, pre, scale, counts, "reflect")


def _bd_basicvsr(a: np.ndarray, scale: int) -> np.ndarray:
    """mmagic/mmediting ``BD_degradation.m`` (the BD inputs of BasicVSR, IconVSR, TTVSR, ...).

    ``imfilter(img, fspecial('gaussian', 12, 1.6), 'replicate')`` (correlation; for the even
    size 12 MATLAB's kernel centre is tap 6 of 12, so output pixel i weights input pixels
    i-5 .. i+6), then ``img(scale/2:scale:end-scale/2, ...)`` (1-based rows 2, 6, 10, ... at x4,
    i.e. 0-based 1, 5, 9, ...). The blurred sample kept at 0-based 4j+1 is centred on HR
    coordinate 4j+1.5, the centre of the 4x4 block, like the bicubic "BI" sampling.
    The script reads frames with ``im2double`` after cropping them to a multiple of ``scale``
    (modcrop) and ``imwrite`` rounds half away from zero; the LR size here, ``floor(H/scale)``,
    is the same with or without that crop (crop GT yourself to also match the bottom/right border).
    """
    if scale % 2:
        raise InputError(f"scale: bd-basicvsr keeps rows scale/2:scale:end-scale/2 (MATLAB), which needs an "
                         f"even scale, got {scale}")
    half = scale // 2
    counts = tuple(len(range(half, n - half + 1, scale)) for n in a.shape[:2])
    if min(counts) < 1:
        raise InputError(f"frame: bd-basicvsr at scale {scale} needs at least {scale} x {scale} pixels, "
                         f"got {a.shape[0]} x {a.shape[1]}")
    return _blur_sample(a, fspecial_gaussian_taps(), 5, half - 1, scale, counts, "edge")


def _bi_matlab(a: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB ``imresize(img, 1/scale, 'bicubic')`` with antialiasing (TecoGAN-PyTorch ``generate_lr_bi.m``).

    On a uint8 frame this is MATLAB's uint8 ``imresize`` (each axis pass rounded), which is what
    the script saved; :func:`degrade` passes float64 frames (MATLAB on ``im2double`` input).

    That script first crops the HR frame to a multiple of ``scale`` (modcrop); crop GT the same
    way when sizes are not multiples of ``scale`` (then the output size ``ceil(H/scale)`` agrees).
    """
    return imresize_matlab(a, scale=1.0 / scale)


def _bi_pil(a: np.ndarray, scale: int) -> np.ndarray:
    """PIL ``Image.resize((W // scale, H // scale), LANCZOS)`` (``Image.ANTIALIAS`` in old PIL).

    This is how EnhanceNet's demo makes the LR input its released ENet-PAT weights expect. On a
    uint8 RGB frame it is PIL's 8-bit resampling, as the demo ran it; other frames are resized
    channel by channel in PIL's 32-bit float mode. Output size is floored, as ``//`` does.
    """
    from PIL import Image

    h, w = a.shape[:2]
    size = (w // scale, h // scale)
    if min(size) < 1:
        raise InputError(f"frame: bi-pil at scale {scale} needs at least {scale} x {scale} pixels, got {h} x {w}")
    if a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3:
        return np.asarray(Image.fromarray(a).resize(size, Image.LANCZOS))
    planes = a[..., None] if a.ndim == 2 else a
    out = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., c], dtype=np.float32), mode="F")
                               .resize(size, Image.LANCZOS), dtype=np.float64) for c in range(planes.shape[2])], axis=-1)
    return out[..., 0] if a.ndim == 2 else out


# ----------------------------------------------------------------------------- registry
def round_like_numpy(x: np.ndarray) -> np.ndarray:
    """``np.round`` (half to even) then clip to uint8, as the Python pipelines save PNGs."""
    return to_uint8(x, unit=255.0)


@dataclass(frozen=True)
class Degradation:
    """A named LR-making operator: ``apply(float64 frame, scale) -> float64 LR`` plus how it saves uint8.

    The facts (kernel, border, kept pixels, source) are in the docstring of ``apply``.
    """

    name: str
    apply: Callable[[np.ndarray, int], np.ndarray]
    round: Callable[[np.ndarray], np.ndarray] = round_like_numpy
    # True when the source ran on uint8 images and ``apply`` reproduces that on uint8 input
    # (MATLAB imresize rounds after each axis pass), instead of round(apply(float frame))
    native_uint8: bool = False


DEGRADATIONS: Registry = Registry("degradation")


def _register(deg: Degradation) -> None:
    DEGRADATIONS.register(deg.name, deg)


_register(Degradation("bd-tecogan", _bd_tecogan))
_register(Degradation("bd-tecogan-train", _bd_tecogan_train))
_register(Degradation("bd-duf", _bd_duf))
_register(Degradation("bd-basicvsr", _bd_basicvsr, round=round_like_matlab))
_register(Degradation("bi-matlab", _bi_matlab, round=round_like_matlab, native_uint8=True))
_register(Degradation("bi-pil", _bi_pil, native_uint8=True))
# random, clip-level degradations (baselines/realworld.py): `vsrbench degrade --kind NAME --seed N`; per frame they refuse
from vsrbench.baselines.realworld import RANDOM_DEGRADATIONS, refuse_framewise  # noqa: E402

for _name in RANDOM_DEGRADATIONS:
    _register(Degradation(_name, refuse_framewise(_name)))


# ----------------------------------------------------------------------------- entry points
#: The smallest LR side (px) a degradation may produce; smaller frames carry no usable content.
MIN_LR_SIDE = 4


def _check_scale(scale: object) -> int:
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise InputError(f"scale: expected an integer >= 1, got {scale!r}")
    return int(scale)


def check_lr_size(hr_shape: tuple[int, ...], scale: int) -> None:
    """Refuse a ``scale`` that leaves an LR side under :data:`MIN_LR_SIDE` pixels (one line; sizes W x H)."""
    scale = _check_scale(scale)
    h, w = hr_shape[:2]
    if min(h, w) // scale >= MIN_LR_SIDE:
        return
    most = min(h, w) // MIN_LR_SIDE
    fix = (f"use a scale of at most {most} for this frame" if most >= 1
           else f"frames need at least {MIN_LR_SIDE} px per side")
    raise InputError(f"scale: {scale} is too large for the {w}x{h} HR frame: its LR frame would be "
                     f"{w // scale}x{h // scale} px, under the {MIN_LR_SIDE} px minimum; {fix}")


def _warn_partial(hr_shape: tuple[int, ...], lr_shape: tuple[int, ...], kind: str, scale: int) -> None:
    """One line when the HR sides are not multiples of ``scale`` (LR gains or loses a partial pixel); sizes W x H."""
    h, w = hr_shape[:2]
    if h % scale == 0 and w % scale == 0:
        return
    lh, lw = lr_shape[:2]
    warnings.warn(f"frame: {w}x{h} is not a multiple of scale {scale}, so {kind} makes a {lw}x{lh} LR frame "
                  f"whose x{scale} outputs are {lw * scale}x{lh * scale}, not the GT size; crop GT to "
                  f"{w // scale * scale}x{h // scale * scale} first for matching sizes", VsrbenchWarning,
                  stacklevel=3)


def _prepare(frame: np.ndarray, kind: str, scale: object) -> tuple[Degradation, np.ndarray, int]:
    """The degradation, the checked frame and scale; refuses a scale too large for the frame."""
    deg = DEGRADATIONS[kind]
    scale = _check_scale(scale)
    a = check_image(frame, "frame")
    check_lr_size(a.shape, scale)
    return deg, a, scale


def degrade(frame: np.ndarray, kind: str, scale: int = 4) -> np.ndarray:
    """The LR version of ``frame`` (H, W[, C]) made by degradation ``kind``, float64, not rounded.

    Values stay in the input's units (0..255 for uint8 frames).

    >>> degrade(np.full((16, 16, 3), 100, np.uint8), "bd-duf").shape
    (4, 4, 3)
    """
    deg, a, scale = _prepare(frame, kind, scale)
    lr = deg.apply(a.astype(np.float64), scale)
    _warn_partial(a.shape, lr.shape, kind, scale)
    return lr


def degrade_uint8(frame: np.ndarray, kind: str, scale: int = 4) -> np.ndarray:
    """:func:`degrade` rounded and clipped to uint8 the way the source pipeline saved its frames.

    MATLAB pipelines round half away from zero; ``bi-matlab`` on a uint8 frame runs MATLAB's
    uint8 ``imresize`` (rounded after each axis pass); the Python pipelines use ``np.round``.
    """
    deg, a, scale = _prepare(frame, kind, scale)
    if deg.native_uint8 and a.dtype == np.uint8:
        lr = deg.apply(a, scale)
    else:
        lr = deg.round(deg.apply(a.astype(np.float64), scale))
    _warn_partial(a.shape, lr.shape, kind, scale)
    return lr
