"""Exact PyTorch equivalents of the TensorFlow 1 image ops the released TF weights were trained with.

Every function takes and returns NCHW floating-point tensors and runs wherever its input lives
(CPU or CUDA). The TF1 "legacy" resizes (``half_pixel_centers=False``, ``align_corners=False``)
are top-left aligned: output pixel ``s*i`` coincides with input pixel ``i`` and the samples to the
bottom/right of the last input pixel repeat it. They are *not* what
``torch.nn.functional.interpolate`` computes (half-pixel centres); both are provided here because
TecoGAN-PyTorch weights expect the half-pixel ones.

Conventions (models-spec.md, sections 1.2-1.3):

- space-to-depth channel order is (dy, dx, c): output channel ``(dy*block + dx)*C + c``
  (``tf.space_to_depth``), which is not ``torch.nn.functional.pixel_unshuffle``'s ``c*block**2 + ...``.
- TF flow for :func:`dense_image_warp` is (dy, dx) and is subtracted;
  TecoGAN-PyTorch flow for :func:`backward_warp` is (dx, dy) and is added.
  ``pt_flow = (-tf_dx, -tf_dy)`` gives the same warp (:func:`tf_flow_to_pt`).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vsrbench.core.errors import InputError

__all__ = [
    "KEYS_A",
    "cubic_phase_weights",
    "linear_phase_weights",
    "resize_bicubic_legacy",
    "resize_bilinear_legacy",
    "resize_nearest_legacy",
    "resize_bilinear_half_pixel",
    "space_to_depth",
    "depth_to_space",
    "dense_image_warp",
    "backward_warp",
    "tf_flow_to_pt",
    "pt_flow_to_tf",
    "pad_symmetric",
    "pad_reflect",
]

#: Keys cubic-convolution parameter used by TF1 ``resize_bicubic`` and TecoGAN's ``bicubic_four``.
KEYS_A = -0.75


# ----------------------------------------------------------------------------- input checks
def _check_nchw(x: torch.Tensor, name: str = "x") -> None:
    """Raise InputError unless ``x`` is a 4-D floating-point tensor."""
    if not isinstance(x, torch.Tensor):
        raise InputError(f"{name} must be a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise InputError(f"{name} must have shape (N, C, H, W), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise InputError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")


def _check_int(value: object, name: str, minimum: int) -> int:
    """Return ``value`` as int, or raise InputError unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------- phase weights
def keys_cubic(d: np.ndarray, a: float = KEYS_A) -> np.ndarray:
    """Keys' cubic convolution kernel at distances ``d`` (support [-2, 2]); TF uses ``a = -0.75``."""
    d = np.abs(np.asarray(d, dtype=np.float64))
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, np.where(d < 2, far, 0.0))


def cubic_phase_weights(scale: int, a: float = KEYS_A) -> np.ndarray:
    """Per-phase tap weights (``scale``, 4) of top-left-aligned Keys cubic upsampling.

    Row ``k`` weights input pixels ``i-1, i, i+1, i+2`` for output ``scale*i + k`` (phase t = k/scale).
    For ``scale=4`` the rows are TecoGAN's ``bicubic_four`` / TecoGAN-PyTorch ``BicubicUpsampler``
    kernels, e.g. t = .25 -> [-0.10547, 0.87891, 0.26172, -0.03516].
    """
    scale = _check_int(scale, "scale", 1)
    t = np.arange(scale, dtype=np.float64)[:, None] / scale
    return keys_cubic(t - np.array([-1.0, 0.0, 1.0, 2.0]), a)


def linear_phase_weights(scale: int) -> np.ndarray:
    """Per-phase tap weights (``scale``, 2) of top-left-aligned linear upsampling: [1 - k/s, k/s]."""
    scale = _check_int(scale, "scale", 1)
    t = np.arange(scale, dtype=np.float64) / scale
    return np.stack([1.0 - t, t], axis=1)


def _upsample_axis(x: torch.Tensor, weights: np.ndarray, before: int, after: int, axis: int) -> torch.Tensor:
    """Polyphase upsampling of NCHW ``x`` along ``axis`` (2 = H, 3 = W) with replicate padding.

    ``weights`` is (scale, taps); output ``scale*i + k`` = sum_j weights[k, j] * x_pad[i + j].
    """
    n, c, h, w = x.shape
    scale, taps = weights.shape
    kernel = torch.as_tensor(weights, dtype=x.dtype, device=x.device)
    flat = x.reshape(n * c, 1, h, w)
    if axis == 2:
        flat = F.pad(flat, (0, 0, before, after), mode="replicate")
        phases = F.conv2d(flat, kernel.view(scale, 1, taps, 1))  # (nc, s, h, w)
        return phases.permute(0, 2, 1, 3).reshape(n, c, h * scale, w)
    flat = F.pad(flat, (before, after, 0, 0), mode="replicate")
    phases = F.conv2d(flat, kernel.view(scale, 1, 1, taps))  # (nc, s, h, w)
    return phases.permute(0, 2, 3, 1).reshape(n, c, h, w * scale)


def _upsample_separable(x: torch.Tensor, weights: np.ndarray, before: int, after: int) -> torch.Tensor:
    return _upsample_axis(_upsample_axis(x, weights, before, after, 2), weights, before, after, 3)


# ----------------------------------------------------------------------------- resizes
def resize_bicubic_legacy(x: torch.Tensor, scale: int) -> torch.Tensor:
    """TF1 legacy ``tf.image.resize_bicubic`` by an integer factor (= TecoGAN ``bicubic_four`` for 4).

    Keys cubic (a = -0.75), top-left aligned (``out[s*i] == in[i]``), replicate padding
    (1 before, 2 after). Separable, computed as ``scale`` per-phase 4-tap filters.
    This is not ``F.interpolate(mode='bicubic')`` (half-pixel centres).
    """
    _check_nchw(x)
    return _upsample_separable(x, cubic_phase_weights(scale), 1, 2)


def resize_bilinear_legacy(x: torch.Tensor, scale: int) -> torch.Tensor:
    """TF1 legacy ``tf.image.resize_bilinear`` (``half_pixel_centers=False``, ``align_corners=False``).

    ``out[s*i + k] = (1 - k/s)*in[i] + (k/s)*in[min(i+1, n-1)]``. With ``scale=4`` it is also
    TecoGAN's ``upscale_four`` (the flow upsampler).
    """
    _check_nchw(x)
    return _upsample_separable(x, linear_phase_weights(scale), 0, 1)


def resize_nearest_legacy(x: torch.Tensor, scale: int) -> torch.Tensor:
    """TF1 legacy nearest-neighbour resize by an integer factor: ``out[s*i + k] = in[i]``.

    For integer factors it equals ``F.interpolate(mode='nearest')``.
    """
    _check_nchw(x)
    scale = _check_int(scale, "scale", 1)
    return x.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)


def resize_bilinear_half_pixel(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Half-pixel-centre bilinear upsampling, as TecoGAN-PyTorch does it (``F.interpolate``).

    Not a TF1 op: it is what PyTorch-trained weights expect (FNet x2, BI flow and residual).
    """
    _check_nchw(x)
    scale = _check_int(scale, "scale", 1)
    return F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)


# ----------------------------------------------------------------------------- space <-> depth
def space_to_depth(x: torch.Tensor, block: int) -> torch.Tensor:
    """``tf.space_to_depth`` on NCHW: (N, C, H, W) -> (N, C*b*b, H/b, W/b).

    Output channel ``(dy*block + dx)*C + c`` holds ``x[:, c, block*i + dy, block*j + dx]``.
    """
    _check_nchw(x)
    block = _check_int(block, "block", 1)
    n, c, h, w = x.shape
    if h % block or w % block:
        raise InputError(f"space_to_depth needs H and W divisible by block={block}, got H={h}, W={w}")
    x = x.reshape(n, c, h // block, block, w // block, block)
    return x.permute(0, 3, 5, 1, 2, 4).reshape(n, block * block * c, h // block, w // block)


def depth_to_space(x: torch.Tensor, block: int) -> torch.Tensor:
    """``tf.depth_to_space`` on NCHW, the inverse of :func:`space_to_depth` (same (dy, dx, c) order)."""
    _check_nchw(x)
    block = _check_int(block, "block", 1)
    n, cbb, h, w = x.shape
    if cbb % (block * block):
        raise InputError(f"depth_to_space needs channels divisible by block**2={block * block}, got {cbb}")
    c = cbb // (block * block)
    x = x.reshape(n, block, block, c, h, w)
    return x.permute(0, 3, 4, 1, 5, 2).reshape(n, c, h * block, w * block)


# ----------------------------------------------------------------------------- warps
def _check_flow(img: torch.Tensor, flow: torch.Tensor) -> None:
    _check_nchw(img, "img")
    _check_nchw(flow, "flow")
    n, _, h, w = img.shape
    if tuple(flow.shape) != (n, 2, h, w):
        raise InputError(f"flow must have shape {(n, 2, h, w)} to match img, got {tuple(flow.shape)}")
    if h < 2 or w < 2:
        raise InputError(f"warping needs an image of at least 2x2 pixels, got H={h}, W={w}")


def dense_image_warp(img: torch.Tensor, flow_tf: torch.Tensor) -> torch.Tensor:
    """``tf.contrib.image.dense_image_warp`` on NCHW tensors.

    ``flow_tf`` is (N, 2, H, W) with channel 0 = dy and channel 1 = dx (TF order);
    ``out[y, x] = img(y - dy, x - dx)``, bilinear, with the nearest border pixel outside the image.
    Computed like TF's ``interpolate_bilinear``: the floor index is clamped to [0, size-2] and
    the fractional weight to [0, 1].
    """
    _check_flow(img, flow_tf)
    n, c, h, w = img.shape
    gy = torch.arange(h, dtype=img.dtype, device=img.device).view(1, h, 1)
    gx = torch.arange(w, dtype=img.dtype, device=img.device).view(1, 1, w)
    qy = gy - flow_tf[:, 0].to(img.dtype)
    qx = gx - flow_tf[:, 1].to(img.dtype)
    y0, ay = _floor_and_alpha(qy, h)
    x0, ax = _floor_and_alpha(qx, w)
    flat = img.reshape(n, c, h * w)

    def gather(yi: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
        index = (yi * w + xi).reshape(n, 1, h * w).expand(n, c, h * w)
        return flat.gather(2, index).reshape(n, c, h, w)

    ay, ax = ay.unsqueeze(1), ax.unsqueeze(1)
    top = gather(y0, x0) + ax * (gather(y0, x0 + 1) - gather(y0, x0))
    bottom = gather(y0 + 1, x0) + ax * (gather(y0 + 1, x0 + 1) - gather(y0 + 1, x0))
    return top + ay * (bottom - top)


def _floor_and_alpha(q: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """TF's clamped floor index (in [0, size-2]) and interpolation weight (in [0, 1])."""
    floor = torch.clamp(torch.floor(q), 0, size - 2)
    alpha = torch.clamp(q - floor, 0.0, 1.0)
    return floor.long(), alpha


def backward_warp(x: torch.Tensor, flow_pt: torch.Tensor) -> torch.Tensor:
    """TecoGAN-PyTorch ``backward_warp``: sample ``x`` at (col + u, row + v).

    ``flow_pt`` is (N, 2, H, W) with channel 0 = u (dx) and channel 1 = v (dy), in pixels.
    ``grid_sample`` (bilinear, border padding, ``align_corners=True``) after normalising by
    (W-1)/2 and (H-1)/2, exactly like the PT code.
    """
    _check_flow(x, flow_pt)
    n, _, h, w = x.shape
    u = torch.linspace(-1.0, 1.0, w, dtype=x.dtype, device=x.device).view(1, 1, w).expand(n, h, w)
    v = torch.linspace(-1.0, 1.0, h, dtype=x.dtype, device=x.device).view(1, h, 1).expand(n, h, w)
    gu = u + flow_pt[:, 0].to(x.dtype) / ((w - 1.0) / 2.0)
    gv = v + flow_pt[:, 1].to(x.dtype) / ((h - 1.0) / 2.0)
    grid = torch.stack([gu, gv], dim=-1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)


def tf_flow_to_pt(flow_tf: torch.Tensor) -> torch.Tensor:
    """TF (dy, dx), subtracted -> PT (u, v) = (-dx, -dy), added: the same warp."""
    return -flow_tf.flip(1)


def pt_flow_to_tf(flow_pt: torch.Tensor) -> torch.Tensor:
    """PT (u, v), added -> TF (dy, dx) = (-v, -u), subtracted: the same warp."""
    return -flow_pt.flip(1)


# ----------------------------------------------------------------------------- padding
def _check_pad(x: torch.Tensor, bottom: int, right: int, strict: bool) -> tuple[int, int]:
    _check_nchw(x)
    bottom = _check_int(bottom, "bottom", 0)
    right = _check_int(right, "right", 0)
    h, w = x.shape[-2:]
    limit_h, limit_w = (h - 1, w - 1) if strict else (h, w)
    if bottom > limit_h or right > limit_w:
        relation = "<" if strict else "<="
        raise InputError(
            f"padding must be {relation} the size it mirrors: got bottom={bottom}, right={right} "
            f"for H={h}, W={w}"
        )
    return bottom, right


def pad_symmetric(x: torch.Tensor, bottom: int, right: int) -> torch.Tensor:
    """``tf.pad(mode='SYMMETRIC')`` at the bottom/right: the edge is repeated (…, 4, 5 | 5, 4)."""
    bottom, right = _check_pad(x, bottom, right, strict=False)
    h, w = x.shape[-2:]
    if bottom:
        x = torch.cat([x, x[..., h - bottom:, :].flip(-2)], dim=-2)
    if right:
        x = torch.cat([x, x[..., :, w - right:].flip(-1)], dim=-1)
    return x


def pad_reflect(x: torch.Tensor, bottom: int, right: int) -> torch.Tensor:
    """``F.pad(mode='reflect')`` at the bottom/right, the edge not repeated (…, 4, 5 | 4, 3).

    What TecoGAN-PyTorch uses to pad the LR flow (``tf.pad(mode='REFLECT')`` is the same).
    """
    bottom, right = _check_pad(x, bottom, right, strict=True)
    if not (bottom or right):
        return x
    return F.pad(x, (0, right, 0, bottom), mode="reflect")
