"""Frame validation and the one rule for putting frames on the 8-bit grid.

Conventions shared by every layer:

- an RGB frame is a NumPy ``(H, W, 3)`` array (or a torch ``(3, H, W)`` tensor);
- ``uint8`` values are 0..255 and used as they are; other integer types are on the same 0..255
  scale and only clipped; float values are in ``[0, unit]`` (default 1.0): they are scaled by
  ``255 / unit``, **rounded half to even** (``np.round`` / ``torch.round``), then clipped to 0..255.
  This is how the published Python pipelines save their PNGs, so a float frame scores exactly as
  the PNG it would be saved as;
- a float frame whose values reach far beyond ``unit`` (e.g. 0..255 floats passed where 0..1
  is expected) is refused instead of being clipped into a white image (:func:`_check_float_range`).

MATLAB's rounding (half away from zero) is a different rule on purpose; it lives with the MATLAB
resize code (:func:`vsrbench.baselines.resize.round_like_matlab`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vsrbench.core.errors import InputError

if TYPE_CHECKING:
    import torch

__all__ = ["check_frame", "check_values", "to_uint8", "quantize255", "quantize255_np", "FLOAT_RANGE_SLACK"]

#: A float frame may overshoot its unit (unclipped model outputs do, a little), but values beyond
#: ``FLOAT_RANGE_SLACK * unit`` mean the frame is on another scale (0..255 floats given as 0..1).
FLOAT_RANGE_SLACK = 2.0


def _check_float_range(max_value: float, unit: float, what: str = "frame") -> None:
    """Refuse float frames whose values reach past ``FLOAT_RANGE_SLACK * unit`` (a scale mix-up)."""
    if max_value > FLOAT_RANGE_SLACK * unit:
        hint = ("divide by 255, pass uint8, or say value_range=255" if unit <= 1.0
                else f"check the value range (expected [0, {unit:g}])")
        raise InputError(
            f"{what}: float values reach {max_value:.4g}, but float frames are read as [0, {unit:g}] "
            f"(they would be clipped to white and score as a wrong number); {hint}"
        )


def check_values(a: np.ndarray, what: str = "frame") -> None:
    """The value rules every frame/image array obeys: a real dtype (uint8, integer or float; not
    bool) and, for floats, finite values. Shapes are the caller's business."""
    if a.dtype == np.uint8:
        return
    if a.dtype == np.bool_ or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise InputError(f"{what}: unsupported dtype {a.dtype}")
    if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
        raise InputError(f"{what}: contains NaN or inf values")


def check_frame(frame, what: str = "frame", *, unit: float = 1.0) -> np.ndarray:
    """Validate an RGB frame array: (H, W, 3), uint8/integer on 0..255 or finite float in [0, unit]."""
    a = np.asarray(frame)
    if a.ndim != 3 or a.shape[2] != 3:
        raise InputError(f"{what}: expected an RGB array of shape (H, W, 3), got shape {a.shape}")
    check_values(a, what)
    if np.issubdtype(a.dtype, np.floating) and a.size:
        _check_float_range(float(a.max()), unit, what)
    return a


def to_uint8(frame, *, unit: float = 1.0, rounding: str = "round") -> np.ndarray:
    """A frame on the 8-bit grid as ``uint8``: the module's rule (``rounding='truncate'`` floors instead).

    >>> to_uint8(np.array([0.5 / 255, 1.5 / 255, 2.0])).tolist()
    [0, 2, 255]
    >>> to_uint8(np.array([-3, 100, 300], dtype=np.int16)).tolist()
    [0, 100, 255]
    """
    a = np.asarray(frame)
    if a.dtype == np.uint8:
        return a
    if np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
        return np.clip(a, 0, 255).astype(np.uint8)
    x = a.astype(np.float64) * (255.0 / unit)
    x = np.round(x) if rounding == "round" else np.floor(np.clip(x, 0, 255))
    return np.clip(x, 0, 255).astype(np.uint8)


def quantize255_np(a: np.ndarray, value_range: float = 1.0, what: str = "frame", rows: int = 64) -> np.ndarray:
    """:func:`quantize255`'s rule for a NumPy array, with a uint8 result (the same values: float64
    ``x * 255 / value_range`` rounded half to even, clipped to 0..255; integers clipped), computed in
    strips of ``rows`` rows that stay in cache (a float frame of 720x576: ~2 ms, against ~90 ms for the
    tensor rule on a channels-first view of it)."""
    if a.dtype == np.uint8:
        return a
    if not np.issubdtype(a.dtype, np.floating):
        return np.clip(a, 0, 255).astype(np.uint8)
    if a.size:
        _check_float_range(float(a.max()), value_range, what)
    out = np.empty(a.shape, np.uint8)
    flat, dst = a.reshape(-1, *a.shape[-2:]), out.reshape(-1, *a.shape[-2:])  # (frames x rows, width, channels)
    buf = np.empty((min(rows, len(flat)), *a.shape[-2:]), np.float64)
    for y0 in range(0, len(flat), rows):
        b = buf[:len(flat[y0:y0 + rows])]
        np.multiply(flat[y0:y0 + rows], 255.0 / value_range, out=b, dtype=np.float64)
        np.rint(b, out=b)
        np.clip(b, 0, 255, out=b)
        dst[y0:y0 + rows] = b
    return out


def quantize255(t: "torch.Tensor", value_range: float = 1.0, what: str = "frame") -> "torch.Tensor":
    """The same rule for torch tensors -> float64 on the 8-bit grid (0..255 integers)."""
    import torch

    if t.dtype == torch.uint8:
        return t.to(torch.float64)
    if not t.is_floating_point():
        return t.to(torch.float64).clamp(0, 255)
    if t.numel():
        _check_float_range(float(t.max()), value_range, what)
    return torch.round(t.to(torch.float64) * (255.0 / value_range)).clamp(0, 255)
