"""Bicubic resizes, each named after the library whose numbers it reproduces.

"Bicubic" is not one operation. They differ in the cubic's parameter ``a``, in whether the
kernel is widened when shrinking (antialiasing), in the coordinate mapping and in the border
rule. On the first frame of each Vid4 scene (Y-PSNR, whole frame) MATLAB and torch bicubic differ
by 0.01-0.16 dB, and a resize whose sampling phase does not match the degradation's (top-left TF
legacy on BI inputs, pixel-centre resizes on BD inputs sampled from pixel 0) loses 1-3 dB:

========================  =====  =========  ==============  =========  ===========================
function                  a      antialias  mapping         border     output size
========================  =====  =========  ==============  =========  ===========================
imresize_matlab           -0.5   yes        pixel centres   mirror     ceil(in*s)
resize_bicubic_torch      -0.75  no         pixel centres   replicate  floor(in*s)
resize_bicubic_cv2        -0.75  no         pixel centres   replicate  round(in*s), halves to even
resize_bicubic_tf_legacy  -0.75  no         top-left (x/s)  replicate  in*s
========================  =====  =========  ==============  =========  ===========================

:func:`imresize_matlab` is MATLAB's ``imresize(img, scale, 'bicubic')`` (its default), the resize
behind the "BI" degradation and the usual "Bicubic" row of SR tables. The TF legacy resize is
what TecoGAN and EnhanceNet add as their bicubic skip (:mod:`vsrbench.baselines.tfops`).

All functions take numpy images of shape (H, W) or (H, W, C) with values in any unit.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Sequence

import numpy as np
import torch

from vsrbench.core.errors import InputError
from vsrbench.core.frames import check_values

__all__ = [
    "keys_cubic",
    "matlab_contributions",
    "matlab_resize_matrix",
    "imresize_matlab",
    "imresize_matlab_torch",
    "resize_bicubic_torch",
    "resize_bicubic_cv2",
    "resize_bicubic_tf_legacy",
    "round_like_matlab",
    "check_image",
]

#: Keys' parameter of MATLAB's ``imresize`` 'bicubic' kernel.
MATLAB_A = -0.5

ScaleArg = float | Sequence[float] | None
ShapeArg = Sequence[int] | None


# ----------------------------------------------------------------------------- kernel
def keys_cubic(x: np.ndarray, a: float = MATLAB_A) -> np.ndarray:
    """Keys' cubic convolution kernel at offsets ``x`` (support [-2, 2]); MATLAB uses ``a = -0.5``."""
    from vsrbench.baselines.tfops import keys_cubic as kernel

    return kernel(x, a)


def matlab_contributions(in_length: int, out_length: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB ``imresize``'s contribution table for one axis (bicubic, antialiasing on).

    Returns ``(weights, indices)``, both (out_length, P): output pixel ``o`` (0-based) is
    ``sum_p weights[o, p] * in[indices[o, p]]``. Output pixel x (1-based) sits at input
    coordinate ``u = x/scale + 0.5*(1 - 1/scale)``; when shrinking (scale < 1) the kernel is
    stretched by ``1/scale`` (width ``4/scale``); weights are normalised to sum 1 per output
    pixel; indices outside the image are mirrored with the edge pixel repeated (MATLAB's
    ``aux = [1:L, L:-1:1]`` look-up, period 2L).
    """
    width = 4.0 / scale if scale < 1 else 4.0
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - width / 2.0)
    taps = int(math.ceil(width)) + 2
    idx1 = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # 1-based, unmirrored
    dist = u[:, None] - idx1
    weights = scale * keys_cubic(scale * dist) if scale < 1 else keys_cubic(dist)
    weights = weights / weights.sum(axis=1, keepdims=True)
    period = np.mod(idx1.astype(np.int64) - 1, 2 * in_length)
    indices = np.where(period < in_length, period, 2 * in_length - 1 - period)
    return weights, indices


def matlab_resize_matrix(in_length: int, out_length: int, scale: float) -> np.ndarray:
    """The (out_length, in_length) matrix of :func:`matlab_contributions` (mirrored taps summed)."""
    weights, indices = matlab_contributions(in_length, out_length, scale)
    matrix = np.zeros((out_length, in_length), dtype=np.float64)
    rows = np.broadcast_to(np.arange(out_length)[:, None], indices.shape)
    np.add.at(matrix, (rows, indices), weights)
    return matrix


def round_like_matlab(x: np.ndarray) -> np.ndarray:
    """Cast to uint8 as MATLAB does: round half away from zero, saturate to [0, 255]."""
    x = np.asarray(x, dtype=np.float64)
    return np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- argument checks
def check_image(img: object, name: str = "img") -> np.ndarray:
    """Return ``img`` as a numpy array, or raise InputError unless it is a finite (H, W[, C]) image."""
    if isinstance(img, torch.Tensor):
        raise InputError(f"{name}: expected a numpy array of shape (H, W) or (H, W, C), got a torch.Tensor "
                         "(use imresize_matlab_torch for tensors)")
    a = np.asarray(img)
    if a.ndim not in (2, 3) or a.shape[0] < 1 or a.shape[1] < 1:
        raise InputError(f"{name}: expected a non-empty array of shape (H, W) or (H, W, C), got shape {a.shape}")
    check_values(a, name)
    return a


def _check_positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{name}: expected a positive number, got {value!r}")
    return float(value)


def _pair(value: object, name: str) -> tuple[object, object]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise InputError(f"{name}: expected one number or a pair (height, width), got {value!r}")
    return value[0], value[1]


def _request(in_hw: tuple[int, int], scale: ScaleArg, output_shape: ShapeArg,
             size_rule) -> tuple[tuple[int, int], tuple[float, float]]:
    """Resolve (scale | output_shape) into ((out_h, out_w), (scale_h, scale_w)).

    With ``scale``, the output size is ``size_rule(in * scale)`` and the scale is used as given;
    with ``output_shape``, the scale is ``out / in`` per axis (both as MATLAB and torch do).
    """
    if (scale is None) == (output_shape is None):
        raise InputError(f"give exactly one of scale and output_shape, got scale={scale!r}, "
                         f"output_shape={output_shape!r}")
    if output_shape is not None:
        shape = tuple(output_shape) if isinstance(output_shape, Sequence) else output_shape
        if (not isinstance(shape, tuple) or len(shape) != 2
                or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in shape)):
            raise InputError(f"output_shape: expected two positive integers (height, width), got {output_shape!r}")
        out = (int(shape[0]), int(shape[1]))
        return out, (out[0] / in_hw[0], out[1] / in_hw[1])
    pair = (scale, scale) if isinstance(scale, Real) else _pair(scale, "scale")
    scales = (_check_positive(pair[0], "scale"), _check_positive(pair[1], "scale"))
    out = tuple(int(size_rule(n * s)) for n, s in zip(in_hw, scales))
    if min(out) < 1:
        raise InputError(f"scale: {scale!r} turns an image of size {in_hw} into size {out}")
    return out, scales


def _restore_dtype(out: np.ndarray, like: np.ndarray) -> np.ndarray:
    """float32 in -> float32 out; any other non-uint8 input -> float64."""
    return out.astype(np.float32) if like.dtype == np.float32 else out


# ----------------------------------------------------------------------------- MATLAB imresize
def _apply_along(img: np.ndarray, matrix: np.ndarray, axis: int) -> np.ndarray:
    """Multiply axis ``axis`` (0 or 1) of ``img`` by ``matrix`` (out, in)."""
    moved = np.moveaxis(img, axis, 0)
    out = np.tensordot(matrix, moved, axes=(1, 0))
    return np.moveaxis(out, 0, axis)


def _matlab_plan(in_hw: tuple[int, int], scale: ScaleArg, output_shape: ShapeArg) -> list[tuple[int, np.ndarray]]:
    """[(axis, matrix)] in MATLAB's order: the axis with the smaller scale first (rows on ties)."""
    out_hw, scales = _request(in_hw, scale, output_shape, math.ceil)
    order = sorted(range(2), key=lambda k: scales[k])  # stable, like MATLAB's sort
    return [(k, matlab_resize_matrix(in_hw[k], out_hw[k], scales[k])) for k in order]


def imresize_matlab(img: np.ndarray, scale: ScaleArg = None, output_shape: ShapeArg = None) -> np.ndarray:
    """MATLAB ``imresize(img, scale)`` / ``imresize(img, [h w])`` with its default 'bicubic'.

    Keys cubic with ``a = -0.5``; antialiasing when shrinking (the kernel is stretched by
    ``1/scale``); output size ``ceil(in * scale)``; symmetric (mirror) borders; each axis
    resized separately, the axis with the smaller scale first. See :func:`matlab_contributions`.

    ``img`` is (H, W) or (H, W, C). Float input is resized without any rounding (float32 stays
    float32, computed in float64). ``uint8`` input behaves like MATLAB on a uint8 image: the
    result of each axis pass is rounded half away from zero and saturated to uint8, and a uint8
    image is returned (the behaviour of MATLAB's ``imresizemex``, as the fatheral/matlab_imresize
    port reproduces with zero difference to MATLAB R2015b). To reproduce MATLAB on ``im2double``
    input, pass floats.

    >>> imresize_matlab(np.full((3, 5), 7.0), scale=2).shape
    (6, 10)
    """
    a = check_image(img)
    as_uint8 = a.dtype == np.uint8
    out = a.astype(np.float64)
    for axis, matrix in _matlab_plan(a.shape[:2], scale, output_shape):
        out = _apply_along(out, matrix, axis)
        if as_uint8:
            out = round_like_matlab(out).astype(np.float64)
    return out.astype(np.uint8) if as_uint8 else _restore_dtype(out, a)


def imresize_matlab_torch(x: torch.Tensor, scale: ScaleArg = None, output_shape: ShapeArg = None) -> torch.Tensor:
    """:func:`imresize_matlab` for a floating-point tensor (..., H, W), computed where ``x`` lives.

    The same contribution matrices, applied with matrix products in ``x``'s dtype (use float64
    for agreement with the numpy version to ~1e-12).
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or not x.is_floating_point():
        got = f"dtype {x.dtype}, shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise InputError(f"x: expected a floating-point torch.Tensor of shape (..., H, W), got {got}")
    out = x
    for axis, matrix in _matlab_plan((x.shape[-2], x.shape[-1]), scale, output_shape):
        m = torch.as_tensor(matrix, dtype=x.dtype, device=x.device)
        out = m @ out if axis == 0 else out @ m.T
    return out


# ----------------------------------------------------------------------------- other libraries
def _to_nchw(a: np.ndarray) -> torch.Tensor:
    """(H, W[, C]) numpy -> (1, C, H, W) float64 tensor."""
    chw = a[None] if a.ndim == 2 else np.moveaxis(a, 2, 0)
    return torch.from_numpy(np.ascontiguousarray(chw, dtype=np.float64))[None]


def _from_nchw(t: torch.Tensor, like: np.ndarray) -> np.ndarray:
    """(1, C, H, W) tensor -> numpy in ``like``'s layout (H, W[, C])."""
    chw = t[0].detach().cpu().numpy()
    return chw[0] if like.ndim == 2 else np.moveaxis(chw, 0, 2)


def resize_bicubic_torch(img: np.ndarray, scale: ScaleArg = None, output_shape: ShapeArg = None) -> np.ndarray:
    """``torch.nn.functional.interpolate(mode='bicubic', align_corners=False)``, computed in float64.

    Keys ``a = -0.75``, pixel-centre mapping, replicated borders, no antialiasing; output size
    ``floor(in * scale)`` (torch's rule). The resize TecoGAN-PyTorch and most PyTorch code use.
    """
    a = check_image(img)
    out_hw, scales = _request(a.shape[:2], scale, output_shape, math.floor)
    kwargs = {"size": out_hw} if output_shape is not None else {"scale_factor": scales}
    out = torch.nn.functional.interpolate(_to_nchw(a), mode="bicubic", align_corners=False, **kwargs)
    return _restore_dtype(_from_nchw(out, a), a)


def resize_bicubic_cv2(img: np.ndarray, scale: ScaleArg = None, output_shape: ShapeArg = None) -> np.ndarray:
    """OpenCV ``cv2.resize(..., interpolation=cv2.INTER_CUBIC)`` on float64 data.

    Keys ``a = -0.75``, pixel-centre mapping, replicated borders, no antialiasing; output size
    ``round(in * scale)`` with halves to even (OpenCV's ``saturate_cast<int>`` for ``fx``/``fy``).
    """
    import cv2

    a = check_image(img)
    out_hw, scales = _request(a.shape[:2], scale, output_shape, round)
    src = np.ascontiguousarray(a, dtype=np.float64)
    if output_shape is not None:
        out = cv2.resize(src, (out_hw[1], out_hw[0]), interpolation=cv2.INTER_CUBIC)
    else:
        out = cv2.resize(src, None, fx=scales[1], fy=scales[0], interpolation=cv2.INTER_CUBIC)
    if a.ndim == 3 and out.ndim == 2:  # OpenCV drops a single channel axis
        out = out[:, :, None]
    return _restore_dtype(out, a)


def resize_bicubic_tf_legacy(img: np.ndarray, scale: int) -> np.ndarray:
    """TF1 legacy ``tf.image.resize_bicubic`` by an integer factor (TecoGAN's / ENet's bicubic skip).

    Keys ``a = -0.75``, top-left aligned (``out[s*i] == in[i]``), replicated borders; computed in
    float64 by :func:`vsrbench.baselines.tfops.resize_bicubic_legacy`.
    """
    from vsrbench.baselines.tfops import resize_bicubic_legacy

    a = check_image(img)
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise InputError(f"scale: the TF legacy bicubic takes an integer factor >= 1, got {scale!r}")
    return _restore_dtype(_from_nchw(resize_bicubic_legacy(_to_nchw(a), int(scale)), a), a)
