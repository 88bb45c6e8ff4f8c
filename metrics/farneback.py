"""Farneback dense optical flow in torch, reproducing OpenCV's ``calcOpticalFlowFarneback``.

TecoGAN's tOF measures flow with OpenCV's Farneback (single-threaded CPU code). :func:`farneback`
runs the same algorithm on torch tensors (CPU or CUDA), for a batch of frame pairs at once, so a
protocol can stay on the GPU. It follows OpenCV's steps and its arithmetic (float32 where OpenCV
computes in float32, float64 where it accumulates in double, fused multiply-adds where OpenCV's
vectorised filters use them):

1. pyramid: level ``k`` (scale ``s = pyr_scale**k``) is the full-resolution frame blurred with a
   Gaussian of sigma ``(1/s - 1)/2`` (kernel size ``round(5 sigma) | 1``, at least 3; at level 0
   OpenCV's default 3-tap kernel [1/4, 1/2, 1/4]), reflect-101 border, then resized bilinearly to
   ``round(size * s)`` (a halving is an exact 2x2 average, as OpenCV's resize does). Levels stop
   before a side would fall below 32 px;
2. polynomial expansion of each level (Gaussian-weighted least squares, ``poly_n``, ``poly_sigma``;
   replicated border);
3. per level, from the coarsest: the flow of the level above resized bilinearly and scaled by
   ``1/pyr_scale``; the matrices from the next frame's coefficients sampled bilinearly at
   ``x + flow`` (with OpenCV's small weights on the 5 px next to the image edge); then
   ``iterations`` times: filter the matrices (box ``winsize`` with replicated border, or the
   Gaussian variant), solve the 2x2 systems, and (except after the last) recompute the matrices.

Measured against opencv-contrib-python 5.1 on an x86 CPU with AVX2 (TecoGAN's parameters, both
``flags``): the flows are bit for bit OpenCV's on all Vid4 frames (GT, DUF-52L, DUF-16L) and the
calendar LR frames, and on synthetic frames of odd sizes. Other ``pyr_scale`` values can need a
5-tap pyramid blur, whose OpenCV arithmetic is not reproduced to the last bit (flows then differ by
~1e-7 px). OpenCV's own last bits depend on the CPU's vector unit (its filters use fused
multiply-adds under AVX2). The same code runs on CUDA; there only the order of float64 prefix
sums can differ.
"""
from __future__ import annotations

import math
import os
from collections import OrderedDict
from functools import lru_cache

import numpy as np
import torch

from vsrbench.core.errors import InputError

__all__ = ["USE_INITIAL_FLOW", "FARNEBACK_GAUSSIAN", "farneback"]

#: cv2.OPTFLOW_USE_INITIAL_FLOW and cv2.OPTFLOW_FARNEBACK_GAUSSIAN
USE_INITIAL_FLOW = 4
FARNEBACK_GAUSSIAN = 256

_MIN_SIZE = 32
_BORDER = (0.14, 0.14, 0.4472, 0.4472, 0.4472)


def _fma(a: torch.Tensor, b, c: torch.Tensor) -> torch.Tensor:
    """float32 a*b + c rounded once (as a hardware fused multiply-add), via float64."""
    if not torch.is_tensor(b):
        b = float(b)
    else:
        b = b.to(torch.float64)
    return (a.to(torch.float64) * b + c.to(torch.float64)).to(torch.float32)


def _f32(x: float) -> float:
    return float(np.float32(x))


_DEVICE_TABLES: dict = {}


def _on(dev: torch.device, key, make) -> torch.Tensor:
    """A small constant table (NumPy array from ``make()``) on ``dev``, copied there once."""
    k = (str(dev), key)
    t = _DEVICE_TABLES.get(k)
    if t is None:
        if len(_DEVICE_TABLES) > 512:
            _DEVICE_TABLES.clear()
        t = _DEVICE_TABLES[k] = torch.from_numpy(np.ascontiguousarray(make())).to(dev)
    return t


# ---------------------------------------------------------------- Gaussian blur (pyramid)

@lru_cache(maxsize=64)
def _gaussian_kernel(ksize: int, sigma: float) -> tuple:
    """OpenCV's float32 Gaussian kernel (getGaussianKernel, its bit-exact double version)."""
    if sigma <= 0 and ksize in (1, 3, 5, 7):
        fixed = {1: [1.0], 3: [0.25, 0.5, 0.25], 5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
                 7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125]}[ksize]
        return tuple(_f32(v) for v in fixed)
    s = sigma if sigma > 0 else ksize * 0.15 + 0.35
    scale2 = -0.125 / (s * s)
    half = (ksize - 1) // 2
    vals = []
    total = 0.0
    for i in range(half):
        x = 2 * i + 1 - ksize
        t = math.exp((x * x) * scale2)
        vals.append(t)
        total += t
    total = total * 2 + 1.0
    if ksize % 2 == 0:
        total += 1.0
    inv = 1.0 / total
    out = [0.0] * ksize
    s2 = 0.0
    for i in range(half):
        t = vals[i] * inv
        out[i] = out[ksize - 1 - i] = t
        s2 += t
    out[half] = 1.0 - 2 * s2
    return tuple(_f32(v) for v in out)


def _reflect101(idx: np.ndarray, n: int) -> np.ndarray:
    """OpenCV's BORDER_REFLECT_101 of integer positions into 0..n-1."""
    if n == 1:
        return np.zeros_like(idx)
    period = 2 * (n - 1)
    idx = np.abs(idx) % period
    return np.where(idx > n - 1, period - idx, idx)


def _gaussian_blur_at(img: torch.Tensor, ksize: int, sigma: float, rows: np.ndarray, cols: np.ndarray) -> torch.Tensor:
    """cv2.GaussianBlur(img, (ksize, ksize), sigma, sigma) of float32 (B, H, W), reflect-101
    border, evaluated only at the pixels ``rows x cols`` (sorted indices): (B, len(rows), len(cols)).

    Row pass then column pass, float32 with fused multiply-adds in the order of OpenCV's AVX2
    filters (taps left to right along rows, symmetric pairs down columns; up to 5 taps, rows too
    are summed in symmetric pairs).
    """
    k = _gaussian_kernel(ksize, sigma)
    r = ksize // 2
    b, h, w = img.shape
    dev = img.device
    taps = np.arange(-r, r + 1)
    # rows pass, at the needed columns, every row the column pass reads
    need = np.unique(_reflect101(rows[:, None] + taps[None, :], h))
    key = (h, w, ksize, hash(rows.tobytes()), hash(cols.tobytes()))
    src = img if len(need) == h else img.index_select(1, _on(dev, ("need",) + key, lambda: need))
    ci = _on(dev, ("ci",) + key, lambda: _reflect101(cols[:, None] + taps[None, :], w).reshape(-1))
    p = src.index_select(2, ci).view(b, len(need), len(cols), ksize)
    if ksize == 3 and k[0] * 2 != k[1]:
        # OpenCV's 3-tap row filter: the centre tap fused last, except in the last column of an
        # odd width (measured)
        acc = _fma(p[..., 1], k[1], (p[..., 0] + p[..., 2]) * k[0])
        tail = np.nonzero(cols == w - 1)[0] if w % 2 else []
        if len(tail):
            t = _on(dev, ("t4",) + key, lambda: tail)
            pt = p.index_select(2, t)
            acc = acc.index_copy(2, t, _fma(pt[..., 0] + pt[..., 2], k[0], pt[..., 1] * k[1]))
    elif ksize <= 5:
        acc = p[..., r] * k[r]
        for j in range(1, r + 1):
            acc = _fma(p[..., r - j] + p[..., r + j], k[r + j], acc)
    else:
        acc = p[..., 0] * k[0]
        for j in range(1, ksize):
            acc = _fma(p[..., j], k[j], acc)
        # OpenCV's vector loops cover the columns below (w // 4) * 4; the last ones are scalar code
        # without fused multiply-adds
        tail = np.nonzero(cols >= (w // 4) * 4)[0]
        if len(tail):
            t = _on(dev, ("t4",) + key, lambda: tail)
            pt = p.index_select(2, t)
            acc_t = pt[..., 0] * k[0]
            for j in range(1, ksize):
                acc_t = acc_t + pt[..., j] * k[j]
            acc = acc.index_copy(2, t, acc_t)
    # column pass at the needed rows
    pos = np.searchsorted(need, _reflect101(rows[:, None] + taps[None, :], h)).reshape(-1)
    q = acc.index_select(1, _on(dev, ("pos",) + key, lambda: pos)).view(b, len(rows), ksize, len(cols))
    out = q[:, :, r] * k[r]
    for j in range(1, r + 1):
        out = _fma(q[:, :, r - j] + q[:, :, r + j], k[r + j], out)
    # the column pass's vector loop (7 taps or more) covers the columns below (w // 8) * 8; the
    # last ones are scalar code without fused multiply-adds
    tail = np.nonzero(cols >= (w // 8) * 8)[0] if ksize > 5 else []
    if len(tail):
        t = _on(dev, ("t8",) + key, lambda: tail)
        qt = q.index_select(3, t)
        out_t = qt[:, :, r] * k[r]
        for j in range(1, r + 1):
            out_t = out_t + (qt[:, :, r - j] + qt[:, :, r + j]) * k[r + j]
        out = out.index_copy(2, t, out_t)
    return out


def _gaussian_blur(img: torch.Tensor, ksize: int, sigma: float) -> torch.Tensor:
    """cv2.GaussianBlur of the whole float32 (B, H, W) image (see :func:`_gaussian_blur_at`)."""
    return _gaussian_blur_at(img, ksize, sigma, np.arange(img.shape[1]), np.arange(img.shape[2]))


def _pyramid_level(img: torch.Tensor, ksize: int, sigma: float, h: int, w: int) -> torch.Tensor:
    """OpenCV's pyramid level: cv2.resize(cv2.GaussianBlur(img, ...), (w, h), INTER_LINEAR), with
    the blur evaluated only where the resize reads it."""
    sh, sw = img.shape[1], img.shape[2]
    if (sh, sw) == (h, w) or (sh == 2 * h and sw == 2 * w):
        return _resize_linear(_gaussian_blur(img, ksize, sigma), h, w)
    xi0, xi1, xa = _linear_table(sw, w, True)
    yi0, yi1, ya = _linear_table(sh, h, True)
    cols, rows = np.unique(np.concatenate([xi0, xi1])), np.unique(np.concatenate([yi0, yi1]))
    sub = _gaussian_blur_at(img, ksize, sigma, rows, cols)
    return _lerp_table(sub, (np.searchsorted(rows, yi0), np.searchsorted(rows, yi1), ya),
                       (np.searchsorted(cols, xi0), np.searchsorted(cols, xi1), xa))


# ---------------------------------------------------------------- bilinear resize

@lru_cache(maxsize=64)
def _linear_table(src: int, dst: int, exact_frac: bool = False, clamp_weights: bool = True) -> tuple:
    """cv2.resize INTER_LINEAR source indices (i0, i1 = i0 + 1 clamped) and the float32 weight of i1
    along one axis, source position ``(d + 0.5) * src / dst - 0.5`` clamped to the edge pixels.

    ``exact_frac``: the fraction is computed in double (the single-channel float32 resize that
    OpenCV delegates to IPP), else in float32 as OpenCV's own resize code. ``clamp_weights=False``:
    outside the source the weights stay (1 - f, f) on the clamped rows (OpenCV's own code does this
    vertically).
    """
    scale = 1.0 / (dst / src)
    i0 = np.empty(dst, np.int64)
    a1 = np.empty(dst, np.float32)
    for d in range(dst):
        f = (d + 0.5) * scale - 0.5
        if not exact_frac:
            f = np.float32(f)
        s = int(np.floor(f))
        f = np.float32(f - s) if exact_frac else np.float32(f - np.float32(s))
        if clamp_weights and s < 0:
            f, s = np.float32(0), 0
        if clamp_weights and s >= src - 1:
            f, s = np.float32(0), src - 1
        i0[d] = s
        a1[d] = f
    return np.clip(i0, 0, src - 1), np.clip(i0 + 1, 0, src - 1), a1


def _resize_linear(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """cv2.resize(x, (w, h), interpolation=INTER_LINEAR) of float32 (B, H, W) images or
    (B, H, W, 2) flows, with the arithmetic of the path OpenCV takes for each."""
    sh, sw = x.shape[1], x.shape[2]
    if (sh, sw) == (h, w):
        return x
    if x.dim() == 3:
        if sh == 2 * h and sw == 2 * w:  # OpenCV switches to its exact area average for halving
            s = (x[:, 0::2, 0::2] + x[:, 0::2, 1::2]) + (x[:, 1::2, 0::2] + x[:, 1::2, 1::2])
            return s * 0.25
        return _lerp_table(x, _linear_table(sh, h, True), _linear_table(sw, w, True))
    dev = x.device
    xi0, xi1, xa1 = (_on(dev, ("lx", sw, w, i), lambda: _linear_table(sw, w)[i]) for i in range(3))
    yi0, yi1, ya1 = (_on(dev, ("ly", sh, h, i), lambda: _linear_table(sh, h, clamp_weights=False)[i]) for i in range(3))
    extra = (1,) * (x.dim() - 3)
    xa1 = xa1.view(1, 1, w, *extra)
    t = x.index_select(2, xi0) * (1.0 - xa1) + x.index_select(2, xi1) * xa1
    ya1 = ya1.view(1, h, 1, *extra)
    return t.index_select(1, yi0) * (1.0 - ya1) + t.index_select(1, yi1) * ya1


def _lerp_table(x: torch.Tensor, ytab, xtab) -> torch.Tensor:
    """Separable linear interpolation of (B, H, W) by index/weight tables, along rows then
    columns, each as one fused multiply-add ``a + (b - a) * t`` in float32."""
    dev = x.device
    xi0, xi1, xa = (_on(dev, ("lerp", i, t.tobytes()), lambda: t) for i, t in enumerate(xtab))
    yi0, yi1, ya = (_on(dev, ("lerp", i, t.tobytes()), lambda: t) for i, t in enumerate(ytab))
    s0 = x.index_select(2, xi0)
    t = _fma(x.index_select(2, xi1) - s0, xa.view(1, 1, -1), s0)
    s0 = t.index_select(1, yi0)
    return _fma(t.index_select(1, yi1) - s0, ya.view(1, -1, 1), s0)


# ---------------------------------------------------------------- polynomial expansion

def _cholesky_inverse(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix by Cholesky, in OpenCV's order of
    operations (A = L L^T with reciprocal diagonal, then forward and back substitution of the
    identity), so the double results match ``Mat::inv(DECOMP_CHOLESKY)`` to the last bit."""
    m = a.shape[0]
    lo = [[float(v) for v in row] for row in a]
    for i in range(m):
        for j in range(i):
            s = lo[i][j]
            for k in range(j):
                s -= lo[i][k] * lo[j][k]
            lo[i][j] = s * lo[j][j]
        s = lo[i][i]
        for k in range(i):
            s -= lo[i][k] * lo[i][k]
        lo[i][i] = 1.0 / math.sqrt(s)
    b = [[1.0 if i == j else 0.0 for j in range(m)] for i in range(m)]
    for i in range(m):
        for j in range(m):
            s = b[i][j]
            for k in range(i):
                s -= lo[i][k] * b[k][j]
            b[i][j] = s * lo[i][i]
    for i in range(m - 1, -1, -1):
        for j in range(m):
            s = b[i][j]
            for k in range(m - 1, i, -1):
                s -= lo[k][i] * b[k][j]
            b[i][j] = s * lo[i][i]
    return np.array(b)


@lru_cache(maxsize=16)
def _poly_consts(n: int, sigma: float) -> tuple:
    """The float32 kernels g, x g, x^2 g (index 0..n) and the double inverse-moment constants."""
    if sigma < np.finfo(np.float32).eps:
        sigma = n * 0.3
    xs = np.arange(-n, n + 1)
    g = np.array([np.float32(math.exp(-x * x / (2 * sigma * sigma))) for x in xs], np.float32)
    s = 1.0 / float(np.sum(g.astype(np.float64)))
    g = (g.astype(np.float64) * s).astype(np.float32)
    xg = (xs * g.astype(np.float64)).astype(np.float32)
    xxg = (xs * xs * g.astype(np.float64)).astype(np.float32)
    G = np.zeros((6, 6))
    f = np.float32
    for y in range(-n, n + 1):
        for x in range(-n, n + 1):
            gg = g[y + n] * g[x + n]  # float32 products, summed in double (as OpenCV)
            fx, fy = f(x), f(y)
            G[0, 0] += float(gg)
            G[1, 1] += float(gg * fx * fx)
            G[3, 3] += float(gg * fx * fx * fx * fx)
            G[5, 5] += float(gg * fx * fx * fy * fy)
    G[2, 2] = G[0, 3] = G[0, 4] = G[3, 0] = G[4, 0] = G[1, 1]
    G[4, 4] = G[3, 3]
    G[3, 4] = G[4, 3] = G[5, 5]
    inv = _cholesky_inverse(G)
    return (tuple(float(v) for v in g[n:]), tuple(float(v) for v in xg[n:]), tuple(float(v) for v in xxg[n:]),
            float(inv[1, 1]), float(inv[0, 3]), float(inv[3, 3]), float(inv[5, 5]))


def _poly_exp(img: torch.Tensor, n: int, sigma: float) -> torch.Tensor:
    """Polynomial expansion of float32 (B, H, W) -> (B, H, W, 5) float32 (OpenCV's FarnebackPolyExp)."""
    g, xg, xxg, ig11, ig03, ig33, ig55 = _poly_consts(n, sigma)
    b, h, w = img.shape
    f32, f64 = torch.float32, torch.float64
    rows = torch.arange(-n, h + n, device=img.device).clamp(0, h - 1)
    p = img.index_select(1, rows)  # (B, H + 2n, W), replicated rows
    # vertical pass, float32
    r0 = p[:, n:n + h] * g[0]
    r1 = None
    r2 = None
    for k in range(1, n + 1):
        up, dn = p[:, n - k:n - k + h], p[:, n + k:n + k + h]
        s = up + dn
        r0 = r0 + s * g[k]
        d = (dn - up) * xg[k]
        r1 = d if r1 is None else r1 + d
        t = s * xxg[k]
        r2 = t if r2 is None else r2 + t
    # horizontal pass: float64 sums of float32 products (b2, b3, b5, b6) or of float64 products of
    # float32 pair sums (b1, b4), in OpenCV's order
    pad = torch.nn.functional.pad
    r0, r1, r2 = (pad(t, (n, n), mode="replicate") for t in (r0, r1, r2))
    c = slice(n, n + w)
    b1 = (r0[:, :, c] * g[0]).to(f64)
    b3 = (r1[:, :, c] * g[0]).to(f64)
    b5 = (r2[:, :, c] * g[0]).to(f64)
    b2 = torch.zeros_like(b1)
    b4 = torch.zeros_like(b1)
    b6 = torch.zeros_like(b1)
    for k in range(1, n + 1):
        lo, hi = slice(n - k, n - k + w), slice(n + k, n + k + w)
        tg = (r0[:, :, hi] + r0[:, :, lo]).to(f64)
        b1.add_(tg * g[k])
        b4.add_(tg * xxg[k])
        b2.add_((r0[:, :, hi] - r0[:, :, lo]).mul_(xg[k]))  # float32 product, added in double
        b3.add_((r1[:, :, hi] + r1[:, :, lo]).mul_(g[k]))
        b6.add_((r1[:, :, hi] - r1[:, :, lo]).mul_(xg[k]))
        b5.add_((r2[:, :, hi] + r2[:, :, lo]).mul_(g[k]))
    b1 *= ig03
    out = torch.empty((b, h, w, 5), dtype=f32, device=img.device)
    out[..., 0] = b3.mul_(ig11)
    out[..., 1] = b2.mul_(ig11)
    out[..., 2] = b5.mul_(ig33).add_(b1)
    out[..., 3] = b4.mul_(ig33).add_(b1)
    out[..., 4] = b6.mul_(ig55)
    return out


# ---------------------------------------------------------------- matrices and flow update

def _border_scale(h: int, w: int) -> np.ndarray:
    """OpenCV's weights of the matrices near the frame's edge (H, W) float32: 0.14, 0.14, 0.4472,
    0.4472, 0.4472 on the 5 px next to each edge, multiplied at corners. OpenCV selects the pixels
    to scale with an unsigned comparison; for sides under 10 px that selects only some of them,
    and this reproduces it."""
    def axis(n):
        i = np.arange(n)
        lo = np.array([_BORDER[k] if k < 5 else 1.0 for k in i], np.float32)
        hi = np.array([_BORDER[n - 1 - k] if k >= n - 5 else 1.0 for k in i], np.float32)
        sel = (i - 5).astype(np.int64) % 2 ** 32 >= (n - 10) % 2 ** 32
        return lo, hi, sel

    xlo, xhi, xsel = axis(w)
    ylo, yhi, ysel = axis(h)
    scale = ((xlo * xhi)[None, :] * ylo[:, None]) * yhi[:, None]  # float32, OpenCV's order
    return np.where(xsel[None, :] | ysel[:, None], scale, np.float32(1)).astype(np.float32)


def _neighbours(r1: torch.Tensor) -> torch.Tensor:
    """The next frame's coefficients (B, H, W, 5) with their right, lower and lower-right
    neighbours (clamped at the edge), as (20, B*H*W) planes for :func:`_update_matrices`."""
    b, h, w, _ = r1.shape
    dev = r1.device
    xs = _on(dev, ("x+1", w), lambda: np.minimum(np.arange(w) + 1, w - 1))
    ys = _on(dev, ("y+1", h), lambda: np.minimum(np.arange(h) + 1, h - 1))
    right = r1.index_select(2, xs)
    quad = torch.stack([r1, right, r1.index_select(1, ys), right.index_select(1, ys)], dim=0)  # (4, B, H, W, 5)
    return quad.permute(0, 4, 1, 2, 3).reshape(20, b * h * w)


def _update_matrices(r0: torch.Tensor, quad: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """OpenCV's FarnebackUpdateMatrices for the whole field: (B, H, W, 5) float32 (G11, G12, G22,
    h1, h2) from the first frame's coefficients as planes (5, B, H, W), the next frame's
    :func:`_neighbours` and the flow (B, H, W, 2)."""
    _, b, h, w = r0.shape
    dev = r0.device
    dx, dy = flow[..., 0], flow[..., 1]
    fx = _on(dev, ("xf", w), lambda: np.arange(w, dtype=np.float32)) + dx
    fy = _on(dev, ("yf", h), lambda: np.arange(h, dtype=np.float32)).view(h, 1) + dy
    x1, y1 = torch.floor(fx), torch.floor(fy)
    fx, fy = fx - x1, fy - y1
    x1, y1 = x1.to(torch.int64), y1.to(torch.int64)
    inside = (x1 >= 0) & (x1 < w - 1) & (y1 >= 0) & (y1 < h - 1)
    idx = y1.clamp(0, max(h - 2, 0)) * w + x1.clamp(0, max(w - 2, 0))
    if b > 1:
        idx = idx + _on(dev, ("boff", b, h, w), lambda: (np.arange(b) * (h * w)).reshape(b, 1, 1))
    q = quad.index_select(1, idx.view(-1)).view(4, 5, b, h, w)  # the 4 neighbours' 5 coefficients
    gx, gy = 1.0 - fx, 1.0 - fy
    s = ((gx * gy * q[0] + fx * gy * q[1]) + gx * fy * q[2]) + fx * fy * q[3]  # (5, B, H, W)
    s = torch.where(inside, s, torch.zeros((), device=dev))
    # inside the frame: r2, r3 from the difference, r4, r5 averaged with R0, r6 a quarter of the
    # sum; outside: r2 = R0/2, r3 = R1/2, R0's own r4, r5 and r6 halved (adding the 0 is exact)
    r23 = (r0[0:2] - s[0:2]) * 0.5
    fac = torch.where(inside, _on(dev, "in", lambda: np.float32([0.5, 0.5, 0.25]).reshape(3, 1, 1, 1)),
                      _on(dev, "out", lambda: np.float32([1.0, 1.0, 0.5]).reshape(3, 1, 1, 1)))
    r456 = (r0[2:5] + s[2:5]) * fac
    r4, r5, r6 = r456.unbind(0)
    r2 = r23[0] + (r4 * dy + r6 * dx)
    r3 = r23[1] + (r6 * dy + r5 * dx)
    scale = _on(dev, ("border", h, w), lambda: _border_scale(h, w))
    r2, r3, r4, r5, r6 = (torch.cat([r2[None], r3[None], r456]) * scale).unbind(0)
    return torch.stack([r4 * r4 + r6 * r6, (r4 + r5) * r6, r5 * r5 + r6 * r6, r4 * r2 + r6 * r3, r6 * r2 + r5 * r3],
                       dim=-1)


def _box_running(m: torch.Tensor, block: int) -> torch.Tensor:
    """OpenCV's FarnebackUpdateFlow_Blur filter of the matrices (B, H, W, 5) float32: box sums
    (replicated border) as OpenCV's running sums (float32 row differences accumulated in double,
    then double differences along the row), scaled by 1/block^2; float64 out."""
    b, h, w, c = m.shape
    r = block // 2
    dev = m.device
    f64 = torch.float64
    # vertical: vsum_0 = M0*(r+2) (float32 product) + M1 + ... + M_{r-1}; then += M[y+r] - M[y-r-1]
    init = (m[:, 0] * float(r + 2)).to(f64)
    for y in range(1, r):
        init += m[:, min(y, h - 1)]
    # rows -r-1 .. h-1+r, replicated: the sum at y adds padded row y + 2r + 1, drops padded row y
    p = m.index_select(1, _on(dev, ("boxpad", h, r), lambda: np.clip(np.arange(-r - 1, h + r), 0, h - 1)))
    d = (p[:, 2 * r + 1:] - p[:, :h]).to(f64)
    d[:, 0] += init
    v = torch.cumsum(d, dim=1)
    # horizontal, in double: g_0 = v0*(r+2) + v1 + ... + v_{r-1}; then += v[x+r] - v[x-r-1]
    hinit = v[:, :, 0] * float(r + 2)
    for x in range(1, r):
        hinit += v[:, :, min(x, w - 1)]
    p = v.index_select(2, _on(dev, ("boxpad", w, r), lambda: np.clip(np.arange(-r - 1, w + r), 0, w - 1)))
    dh = p[:, :, 2 * r + 1:] - p[:, :, :w]
    dh[:, :, 0] += hinit
    return torch.cumsum(dh, dim=2).mul_(1.0 / (block * block))


def _gauss_window(m: torch.Tensor, block: int) -> torch.Tensor:
    """OpenCV's FarnebackUpdateFlow_GaussianBlur filter of the matrices (B, H, W, 5) float32
    (sigma = 0.3 * (block // 2), float32 sums, replicated border); float64 out."""
    b, h, w, c = m.shape
    r = block // 2
    sigma = r * 0.3
    kern = [1.0]
    s = 1.0
    for i in range(1, r + 1):
        t = _f32(math.exp(-i * i / (2 * sigma * sigma)))
        kern.append(t)
        s += t * 2
    s = 1.0 / s
    kern = [_f32(k * s) for k in kern]
    dev = m.device
    rows = _on(dev, ("rep", h, r), lambda: np.clip(np.arange(-r, h + r), 0, h - 1))
    p = m.index_select(1, rows)
    v = p[:, r:r + h] * kern[0]
    for i in range(1, r + 1):
        v += (p[:, r + i:r + i + h] + p[:, r - i:r - i + h]).mul_(kern[i])
    cols = _on(dev, ("rep", w, r), lambda: np.clip(np.arange(-r, w + r), 0, w - 1))
    p = v.index_select(2, cols)
    out = p[:, :, r:r + w] * kern[0]
    for i in range(1, r + 1):
        out += (p[:, :, r - i:r - i + w] + p[:, :, r + i:r + i + w]).mul_(kern[i])
    return out.to(torch.float64)


def _solve(g: torch.Tensor) -> torch.Tensor:
    """Flow (B, H, W, 2) float32 from filtered (B, H, W, 5) double matrices: solve
    [g11 g12; g12 g22] f = h with 1e-3 added to the determinant, as OpenCV."""
    g11, g12, g22, h1, h2 = g.unbind(-1)
    idet = (g11 * g22).sub_(g12 * g12).add_(1e-3).reciprocal_()
    out = torch.empty(g11.shape + (2,), dtype=torch.float32, device=g.device)
    out[..., 0] = (g11 * h2).sub_(g12 * h1).mul_(idet)
    out[..., 1] = (g22 * h1).sub_(g12 * h2).mul_(idet)
    return out


# ---------------------------------------------------------------- public API

def _as_frames(x, name: str) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not torch.is_tensor(x):
        raise InputError(f"farneback: {name} must be a torch tensor or NumPy array of grey frames, "
                         f"got {type(x).__name__}")
    if x.dim() not in (2, 3):
        raise InputError(f"farneback: {name} must be (H, W) or (N, H, W) grey frames, got shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x.to(torch.float32)
    if not x.is_floating_point():
        raise InputError(f"farneback: {name} must be uint8 or float grey values (0..255), got dtype {x.dtype}")
    return x.to(torch.float32)


def farneback(prev, nxt, pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2,
              flags=0) -> torch.Tensor:
    """Dense optical flow ``prev -> nxt`` as ``cv2.calcOpticalFlowFarneback(prev, nxt, None, ...)``.

    ``prev``, ``nxt``: grey frames on the 0..255 scale, uint8 or float, (H, W) or a batch
    (N, H, W) of independent pairs, torch tensors on any device (or NumPy arrays). Returns the
    float32 flow (H, W, 2) or (N, H, W, 2), (dx, dy) in pixels, on the input's device.
    ``flags``: 0 (box-filter update) or ``cv2.OPTFLOW_FARNEBACK_GAUSSIAN`` (256).

    >>> import torch
    >>> frames = torch.randint(0, 256, (2, 48, 64), dtype=torch.uint8)  # a batch of 2 pairs
    >>> farneback(frames, frames.roll(1, dims=2)).shape
    torch.Size([2, 48, 64, 2])
    """
    a = _as_frames(prev, "prev")
    b = _as_frames(nxt, "nxt")
    if a.shape != b.shape:
        raise InputError(f"farneback: prev and nxt must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.device != b.device:
        raise InputError(f"farneback: prev and nxt must be on the same device, got {a.device} and {b.device}")
    flags = int(flags)
    if flags & USE_INITIAL_FLOW:
        raise InputError("farneback: flags=OPTFLOW_USE_INITIAL_FLOW (4) is not supported; use flags=0 or "
                         "OPTFLOW_FARNEBACK_GAUSSIAN (256)")
    if flags & ~FARNEBACK_GAUSSIAN:
        raise InputError(f"farneback: flags must be 0 or OPTFLOW_FARNEBACK_GAUSSIAN (256), got {flags}")
    if not 0 < pyr_scale < 1:
        raise InputError(f"farneback: pyr_scale must be in (0, 1), got {pyr_scale}")
    if int(levels) < 0 or int(winsize) < 1 or int(iterations) < 1 or int(poly_n) < 1:
        raise InputError(f"farneback: expected levels >= 0, winsize >= 1, iterations >= 1, poly_n >= 1; got "
                         f"levels={levels}, winsize={winsize}, iterations={iterations}, poly_n={poly_n}")
    if a.numel() == 0:
        raise InputError(f"farneback: prev and nxt must hold at least one 1x1 frame, got shape {tuple(a.shape)}")
    if _floating(prev, nxt) and bool(torch.isnan(a).any() | torch.isnan(b).any()):  # one sync, float input only
        which = "prev" if bool(torch.isnan(a).any()) else "nxt"
        raise InputError(f"farneback: {which} contains NaN; expected finite grey values (0..255)")
    single = a.dim() == 2
    if single:
        a, b = a.unsqueeze(0), b.unsqueeze(0)
    n, h, w = a.shape
    args = (float(pyr_scale), int(levels), int(winsize), int(iterations), int(poly_n), float(poly_sigma),
            bool(flags & FARNEBACK_GAUSSIAN))
    if a.device.type == "cpu" and n > 1 and n * h * w > _CPU_CHUNK_PIXELS:
        # on the CPU the work is memory-bound: a few pairs at a time stay in cache (same results)
        step = max(1, _CPU_CHUNK_PIXELS // (h * w))
        flow = torch.cat([_flow_batch(a[i:i + step], b[i:i + step], *args) for i in range(0, n, step)])
    elif a.device.type == "cuda" and _graphs_enabled():
        flow = _flow_graphed(a, b, args)
    else:
        flow = _flow_batch(a, b, *args)
    return flow[0] if single else flow


def _floating(*xs) -> bool:
    """Whether any input holds floats (uint8 frames cannot be NaN: no check, no host sync)."""
    return any((x.is_floating_point() if torch.is_tensor(x) else np.asarray(x).dtype.kind == "f") for x in xs)


# ---------------------------------------------------------------- CUDA graphs

#: captured flows per (device, batch shape, parameters), most recent last; each holds its own memory pool
_GRAPHS: "OrderedDict[tuple, tuple]" = OrderedDict()
_GRAPH_LIMIT = 3
_GRAPHS_FAILED: list[str] = []


def _graphs_enabled() -> bool:
    return os.environ.get("VSRBENCH_CUDA_GRAPHS", "1") != "0" and not _GRAPHS_FAILED


def _flow_graphed(a: torch.Tensor, b: torch.Tensor, args: tuple) -> torch.Tensor:
    """:func:`_flow_batch` on CUDA as a captured CUDA graph, replayed for every batch of the same shape.

    The ~2000 kernels of a flow batch are launched by one replay instead of one Python call each: the
    same kernels on the same data (identical results), without the launch overhead that otherwise
    keeps the CPU (and the GIL the decoding threads need) busy for as long as the GPU works. The
    first batch of a shape is run eagerly once (device tables, allocator) and captured; out of
    memory or a failed capture falls back to eager launches (``VSRBENCH_CUDA_GRAPHS=0`` always does).
    """
    key = (str(a.device), tuple(a.shape), args)
    entry = _GRAPHS.get(key)
    try:
        if entry is None:
            static_a, static_b = a.clone(), b.clone()
            side = torch.cuda.Stream(a.device)
            side.wait_stream(torch.cuda.current_stream(a.device))
            with torch.cuda.stream(side):
                _flow_batch(static_a, static_b, *args)  # warm-up: device tables and allocator, outside the capture
            torch.cuda.current_stream(a.device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                out = _flow_batch(static_a, static_b, *args)
            # the graph reads the constant tables by address: keep them alive with it
            entry = (graph, static_a, static_b, out, list(_DEVICE_TABLES.values()))
            _GRAPHS[key] = entry
            while len(_GRAPHS) > _GRAPH_LIMIT:
                _GRAPHS.popitem(last=False)
        else:
            _GRAPHS.move_to_end(key)
        graph, static_a, static_b, out, _ = entry
        static_a.copy_(a)
        static_b.copy_(b)
        graph.replay()
        return out.clone()
    except (RuntimeError, torch.cuda.OutOfMemoryError) as e:  # capture unsupported, or no memory for the pool
        _GRAPHS.clear()
        _GRAPHS_FAILED.append(f"{type(e).__name__}: {e}")
        torch.cuda.synchronize(a.device)
        return _flow_batch(a, b, *args)


#: pixels per chunk of a batch on the CPU (a 720x576 pair is 414720)
_CPU_CHUNK_PIXELS = 1 << 19


def _flow_batch(a: torch.Tensor, b: torch.Tensor, pyr_scale: float, levels: int, winsize: int, iterations: int,
                poly_n: int, poly_sigma: float, gaussian: bool) -> torch.Tensor:
    """The flows of a batch of validated float32 (N, H, W) pairs, every step one op for the batch."""
    n, h, w = a.shape
    nlev = 0
    scale = 1.0
    while nlev < int(levels):
        scale *= pyr_scale
        if w * scale < _MIN_SIZE or h * scale < _MIN_SIZE:
            break
        nlev += 1

    both = torch.cat([a, b], dim=0)  # (2N, H, W): the two frames go through the pyramid together
    flow = None
    for k in range(nlev, -1, -1):
        scale = 1.0
        for _ in range(k):
            scale *= pyr_scale
        sigma = (1.0 / scale - 1) * 0.5
        ksize = max(round(sigma * 5) | 1, 3)
        lw, lh = round(w * scale), round(h * scale)
        if flow is None:
            flow = torch.zeros((n, lh, lw, 2), dtype=torch.float32, device=a.device)
        else:
            flow = _resize_linear(flow, lh, lw) * _f32(1.0 / pyr_scale)
        level = _pyramid_level(both, ksize, sigma, lh, lw)
        coef = _poly_exp(level, poly_n, poly_sigma)
        r0, quad = coef[:n].permute(3, 0, 1, 2).contiguous(), _neighbours(coef[n:])
        m = _update_matrices(r0, quad, flow)
        for it in range(iterations):
            g = _gauss_window(m, winsize) if gaussian else _box_running(m, winsize)
            flow = _solve(g)
            if it < iterations - 1:
                m = _update_matrices(r0, quad, flow)
    return flow
