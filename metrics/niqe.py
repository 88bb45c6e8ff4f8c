"""NIQE (Mittal, Soundararajan and Bovik, 2013), a no-reference image metric, in four named flavours.

All of them fit a multivariate Gaussian to 36 natural-scene statistics of 96x96 blocks (18 at full and
18 at half resolution: the shape and spread of an asymmetric generalized Gaussian fitted, on a grid
of shapes 0.2:0.001:10, to the locally normalised luma and to its products with four shifted
copies) and report its distance to the model of pristine images. They differ in the luma, the
half-size resize, the float precision and small constants, which move the score by 1e-3 to 0.8:

``matlab`` (metric ``niqe``)
    The authors' MATLAB release (``niqe_release.zip``, ``computequality.m``): ``rgb2gray`` of the
    8-bit frame (coefficients 0.298936021293775, 0.587043074451121, 0.114020904255103, rounded half
    away from zero, as MATLAB stores uint8), float64, a 7x7 Gaussian (sigma 7/6) with replicated
    borders, MATLAB's ``imresize(im, 0.5)`` (bicubic, antialiased, mirrored borders). Checked against
    the MATLAB values pyiqa publishes (chaofengc/IQA-PyTorch ``ResultsCalibra/results_official.csv``).
``basicsr`` (metric ``niqe-basicsr``)
    BasicSR's ``calculate_niqe`` up to v1.3.3.10 (``basicsr/metrics/niqe.py`` before commit 85d42c7,
    Aug 2021, still in use by papers of that time): the Y of BasicSR's BT.601 conversion (float32, not
    rounded), every step in float32 as that code runs it (scipy's ``convolve`` on float32, OpenCV
    ``resize`` ``INTER_LINEAR`` of the float image to half size, NumPy float32 means per block),
    ``crop_border`` pixels removed at each edge.
``basicsr-bicubic`` (metric ``niqe-basicsr-bicubic``)
    BasicSR's ``calculate_niqe`` from v1.3.3.11 on (commit 85d42c7 to today's master, 8d56e3a): the same
    float32 computation with the luma rounded and the half-size plane by BasicSR's MATLAB-like torch
    ``imresize`` (``basicsr/utils/matlab_functions.py``, float32, one matrix-vector product per output row
    and column, as it computes them).
``pyiqa`` (metric ``niqe-pyiqa``)
    pyiqa's ``niqe`` (``pyiqa/archs/niqe_arch.py``, ``test_y_channel=True``): the Y of YIQ (0.299,
    0.587, 0.114) of the float32 frame in [0, 1], times 255 and rounded, float64, its float32 Gaussian
    window, ``sqrt(var + eps)``, its MATLAB-style bicubic resize, its float32 grid of shapes.

The pristine model (36 means, 36x36 covariance) is data: ``vsrbench/data/niqe_pris_params.npz``, the
numbers of ``basicsr/metrics/niqe_pris_params.npz`` read at XPixelGroup/BasicSR commit
8d56e3a045f9fb3e1d8872f92ee4a4f07f886b0a (the same file since v1.3.3.10; BasicSR took them from the
MATLAB release's ``modelparameters.mat``). pyiqa downloads its copy (``niqe_modelparameters.mat``) at
run time; the tests give pyiqa these numbers. All variants use it.

NIQE is scored on every frame of the output alone (no GT), on the whole frame cut to a multiple of 96
(MATLAB's and BasicSR's block grid); lower is better. It runs on the CPU (NumPy and OpenCV, float64
or, for BasicSR's flavour, float32 as its code), whatever the evaluation's device.
"""
from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vsrbench.core.errors import InputError

__all__ = ["VARIANTS", "PARAMS_SOURCE", "pristine_params", "niqe", "score_matlab", "score_basicsr",
           "score_basicsr_bicubic", "score_pyiqa"]

VARIANTS = ("matlab", "basicsr", "basicsr-bicubic", "pyiqa")
PARAMS_SOURCE = ("XPixelGroup/BasicSR@8d56e3a045f9fb3e1d8872f92ee4a4f07f886b0a:"
                 "basicsr/metrics/niqe_pris_params.npz")
BLOCK = 96
_GRAY_MATLAB = (0.298936021293775, 0.587043074451121, 0.114020904255103)
_YIQ = ((0.299, 0.587, 0.114), (0.5959, -0.2746, -0.3213), (0.2115, -0.5227, 0.3112))
_Y_BASICSR_BGR = (24.966, 128.553, 65.481)
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))


@functools.lru_cache(maxsize=1)
def pristine_params() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mu (36,), cov (36, 36), window (7, 7))`` of the pristine model, float64 (see the module docstring)."""
    spec = importlib.util.find_spec("vsrbench")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "niqe_pris_params.npz"
    with np.load(path) as p:
        return p["mu_pris_param"].copy(), p["cov_pris_param"].copy(), p["gaussian_window"].copy()


# ---------------------------------------------------------------------- the shape grid

@functools.lru_cache(maxsize=4)
def _grid(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(shapes, r(shape))`` of the AGGD fit: MATLAB/BasicSR's float64 grid with Gamma ratios, or
    pyiqa's grid made by ``torch.arange`` in float32 with log-Gamma ratios."""
    if kind == "pyiqa":
        g = torch.arange(0.2, 10 + 0.001, 0.001).double()
        r = (2 * torch.lgamma(2.0 / g) - (torch.lgamma(1.0 / g) + torch.lgamma(3.0 / g))).exp()
        return g.numpy(), r.numpy()
    from scipy.special import gamma

    g = np.arange(0.2, 10.001, 0.001)
    gi = np.reciprocal(g)
    return g, np.square(gamma(gi * 2)) / (gamma(gi) * gamma(gi * 3))


def _nearest(r: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Index of the grid value nearest ``x`` (``argmin((r - x)^2)``: the first one on a tie, 0 for NaN);
    ``r`` increases strictly, so the nearest is one of the two values around ``x``."""
    x = np.asarray(x, np.float64)
    hi = np.clip(np.searchsorted(r, x), 1, len(r) - 1)
    lo = hi - 1
    pick = np.where((r[hi] - x) ** 2 < (r[lo] - x) ** 2, hi, lo)
    return np.where(np.isnan(x), 0, pick)


# ---------------------------------------------------------------------- float64 features (matlab, pyiqa)

def _aggd64(x: np.ndarray, grid: tuple[np.ndarray, np.ndarray]):
    """AGGD fit of each row of ``x`` (blocks, pixels) -> alpha, beta_l, beta_r (blocks,).

    The published code's means of masked squares, written as sums over the clamped values (one pass
    each, no masked copies); the sums differ from theirs only by float64 rounding order.
    """
    from scipy.special import gammaln

    xn, xp = np.minimum(x, 0), np.maximum(x, 0)
    sq_n, sq_p = np.einsum("ij,ij->i", xn, xn), np.einsum("ij,ij->i", xp, xp)
    with np.errstate(divide="ignore", invalid="ignore"):  # a block without negative (positive) values: NaN
        left = np.sqrt(sq_n / np.count_nonzero(xn, axis=1))
        right = np.sqrt(sq_p / np.count_nonzero(xp, axis=1))
        gh = left / right
        n = x.shape[1]
        rhat = ((xp.sum(1) - xn.sum(1)) / n) ** 2 / ((sq_n + sq_p) / n)
        rnorm = rhat * (gh ** 3 + 1) * (gh + 1) / (gh ** 2 + 1) ** 2
    alpha = grid[0][_nearest(grid[1], rnorm)]
    f = np.exp(0.5 * (gammaln(1 / alpha) - gammaln(3 / alpha)))
    return alpha, left * f, right * f


def _block_features64(s: np.ndarray, size: int, grid) -> np.ndarray:
    """The 18 features of each ``size`` x ``size`` block of the normalised plane ``s`` (H, W)."""
    from scipy.special import gammaln

    h, w = s.shape
    b = np.ascontiguousarray(s.reshape(h // size, size, w // size, size).transpose(0, 2, 1, 3)).reshape(-1, size, size)
    n = b.shape[0]
    a, bl, br = _aggd64(b.reshape(n, -1), grid)
    out = [a, (bl + br) / 2]
    for sh in _SHIFTS:
        a, bl, br = _aggd64((b * np.roll(b, sh, axis=(1, 2))).reshape(n, -1), grid)
        out += [a, (br - bl) * np.exp(gammaln(2 / a) - gammaln(1 / a)), bl, br]
    return np.stack(out, 1)


def _normalise64(img: np.ndarray, window: np.ndarray, eps: float, exact_flat: bool) -> np.ndarray:
    """``(img - mu) / (sigma + 1)``, mu and sigma from the Gaussian window, borders replicated.

    The two filters run in OpenCV (float64; ~40x faster than torch's float64 convolution). Where the
    7x7 window is constant, the local variance is only the rounding noise of the filter's sums, and that
    noise decides the normalised value there; with ``exact_flat`` (pyiqa) those pixels get torch's
    values (the filter of a constant depends only on the constant), as pyiqa computes them.
    """
    import cv2

    mu = cv2.filter2D(img, cv2.CV_64F, window, borderType=cv2.BORDER_REPLICATE)
    m2 = cv2.filter2D(img * img, cv2.CV_64F, window, borderType=cv2.BORDER_REPLICATE)
    if exact_flat:
        _flat_as_torch(img, window, mu, m2)
    sigma = np.sqrt(np.abs(m2 - mu * mu) + eps)
    return (img - mu) / (sigma + 1)


def _flat_as_torch(a: np.ndarray, window: np.ndarray, mu: np.ndarray, m2: np.ndarray) -> None:
    """Give the pixels whose 7x7 window (borders replicated) is constant torch's float64 filter values."""
    import cv2

    box = np.ones((7, 7), np.uint8)
    flat = cv2.dilate(a, box, borderType=cv2.BORDER_REPLICATE) == cv2.erode(a, box, borderType=cv2.BORDER_REPLICATE)
    if not flat.any():
        return
    values = np.unique(a[flat])
    patch = torch.from_numpy(values)[:, None, None, None].expand(-1, 1, 7, 7)
    w = torch.from_numpy(window)[None, None]
    c_mu = F.conv2d(patch.contiguous(), w).flatten().numpy()
    c_m2 = F.conv2d((patch * patch).contiguous(), w).flatten().numpy()
    pos = np.searchsorted(values, a[flat])
    mu[flat], m2[flat] = c_mu[pos], c_m2[pos]


@functools.lru_cache(maxsize=32)
def _half_taps(n: int) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB ``imresize(., 0.5)`` along an axis of length ``n``: ``(indices, weights)``, each
    (10, ceil(n/2)): the cubic kernel (a = -0.5) widened twice (antialiasing), normalised per output,
    indices mirrored at the borders."""
    out, s = math.ceil(n * 0.5), 0.5
    u = np.arange(1, out + 1) / s + 0.5 * (1 - 1 / s)
    left = np.floor(u - 4.0)
    idx = left[None] + np.arange(10)[:, None]
    d = np.abs(s * (u[None] - idx))
    far = np.where(d <= 2, -0.5 * d ** 3 + 2.5 * d ** 2 - 4 * d + 2, 0.0)
    w = s * np.where(d <= 1, 1.5 * d ** 3 - 2.5 * d ** 2 + 1, far)
    w = w / w.sum(0, keepdims=True)
    mirror = np.concatenate([np.arange(n), np.arange(n)[::-1]])
    return mirror[np.mod(idx.astype(np.int64) - 1, 2 * n)], w


def _half_matrix(n: int) -> np.ndarray:
    """:func:`_half_taps` as a (ceil(n/2), n) matrix (mirrored taps summed)."""
    idx, w = _half_taps(n)
    m = np.zeros((idx.shape[1], n))
    np.add.at(m, (np.broadcast_to(np.arange(idx.shape[1]), idx.shape), idx), w)
    return m


def _half_bicubic(img: np.ndarray) -> np.ndarray:
    """MATLAB's ``imresize(img, 0.5)`` of a float64 plane, in float64 (rows, then columns)."""
    idx, w = _half_taps(img.shape[0])
    x = np.einsum("kij,ki->ij", img[idx], w)
    idx, w = _half_taps(img.shape[1])
    return np.einsum("ikj,kj->ij", x[:, idx], w)


def _taps_pyiqa(n: int, device) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """pyiqa's half-size bicubic taps along an axis of length ``n``, in float32 as it computes them:
    ``(first input index of each output (padded), weights (10, n/2), padding before, after)``."""
    out, k = math.ceil(n * 0.5), 10  # 4 taps widened twice, plus a margin of one on each side
    pos = (torch.linspace(0, out - 1, steps=out, dtype=torch.float32, device=device) + 0.5) / 0.5 - 0.5
    base = pos.floor() - (k // 2) + 1
    d = (pos - base)[None] - torch.arange(k, dtype=torch.float32, device=device)[:, None]
    ax = (d * 0.5).abs()
    w = ((1.5 * ax ** 3 - 2.5 * ax ** 2 + 1) * (ax <= 1).float()
         + (-0.5 * ax ** 3 + 2.5 * ax ** 2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)).float())
    w = w / w.sum(0, keepdim=True)
    first = base.long()
    pre = max(0, -int(first.min()))
    post = max(0, int(first.max()) + k - n)
    return first + pre, w, pre, post


def _pad_mirror(x: torch.Tensor, dim: int, pre: int, post: int) -> torch.Tensor:
    """MATLAB's symmetric padding (the edge sample repeated: a b c -> b a | a b c | c b) along ``dim``."""
    n = x.shape[dim]
    idx = torch.cat([torch.arange(pre - 1, -1, -1), torch.arange(n), torch.arange(n - 1, n - 1 - post, -1)])
    return x.index_select(dim, idx.to(x.device))


def _half_pyiqa(img: np.ndarray) -> np.ndarray:
    """pyiqa's ``imresize(img / 255, scale=0.5) * 255``: its resize casts any input to float32 (its
    ``cast_input`` test is always true), weights and sums included; rows first, then columns."""
    x = (torch.from_numpy(img) / 255.0).float()
    first, w, pre, post = _taps_pyiqa(x.shape[0], x.device)
    xp = _pad_mirror(x, 0, pre, post)
    taps = first[None] + torch.arange(w.shape[0], device=x.device)[:, None]  # (10, out)
    x = (xp[taps] * w[..., None]).sum(0)
    first, w, pre, post = _taps_pyiqa(x.shape[1], x.device)
    xp = _pad_mirror(x, 1, pre, post)
    taps = first[None] + torch.arange(w.shape[0], device=x.device)[:, None]
    x = (xp[:, taps].permute(1, 0, 2).contiguous() * w[:, None, :]).sum(0)
    return x.double().numpy() * 255.0


def _features64(img: np.ndarray, variant: str) -> np.ndarray:
    """The (blocks, 36) features of a float64 luma plane cut to whole blocks."""
    _, _, win = pristine_params()
    if variant == "pyiqa":  # pyiqa's fspecial returns float32
        window, eps = _fspecial32(), float(np.finfo(np.float64).eps)
    else:
        window, eps = win, 0.0
    grid = _grid(variant)
    feats = []
    for scale in (1, 2):
        s = _normalise64(img, window, eps, exact_flat=variant == "pyiqa")
        feats.append(_block_features64(s, BLOCK // scale, grid))
        if scale == 1:
            img = _half_pyiqa(img) if variant == "pyiqa" else _half_bicubic(img)
    return np.concatenate(feats, 1)


@functools.lru_cache(maxsize=1)
def _fspecial32() -> np.ndarray:
    y, x = np.ogrid[-3:4, -3:4]
    h = np.exp(-(x * x + y * y) / (2.0 * (7.0 / 6) ** 2))
    h[h < np.finfo(h.dtype).eps * h.max()] = 0
    return (h / h.sum()).astype(np.float32).astype(np.float64)


# ---------------------------------------------------------------------- float32 features (BasicSR <= 1.3.3.10)

def _aggd32(x: np.ndarray, grid) -> tuple:
    """BasicSR's AGGD fit of one flattened float32 block, with NumPy's float32 means as it runs them."""
    import warnings

    with warnings.catch_warnings():  # a block without negative (or positive) values: NaN, as there
        warnings.simplefilter("ignore", RuntimeWarning)
        left = np.sqrt(np.mean(x[x < 0] ** 2))
        right = np.sqrt(np.mean(x[x > 0] ** 2))
        gh = left / right
        rhat = (np.mean(np.abs(x))) ** 2 / np.mean(x ** 2)
        rnorm = (rhat * (gh ** 3 + 1) * (gh + 1)) / ((gh ** 2 + 1) ** 2)
    alpha = grid[0][int(_nearest(grid[1], np.float64(rnorm)))]
    from scipy.special import gamma

    f = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left * f, right * f


def _features32(img: np.ndarray, resize: str) -> np.ndarray:
    """BasicSR's features of a float32 luma plane cut to whole blocks; the half-size plane by OpenCV's
    bilinear resize (``resize="bilinear"``, v1.3.3.10) or BasicSR's MATLAB-like ``imresize`` (v1.3.3.11+)."""
    from scipy.ndimage import convolve
    from scipy.special import gamma

    import cv2

    _, _, win = pristine_params()
    grid = _grid("basicsr")
    feats = []
    for scale in (1, 2):
        mu = convolve(img, win, mode="nearest")
        sigma = np.sqrt(np.abs(convolve(np.square(img), win, mode="nearest") - np.square(mu)))
        s = (img - mu) / (sigma + 1)
        size = BLOCK // scale
        rows = []
        for j in range(s.shape[1] // size):
            for i in range(s.shape[0] // size):
                b = s[i * size:(i + 1) * size, j * size:(j + 1) * size]
                a, bl, br = _aggd32(b.flatten(), grid)
                f = [a, (bl + br) / 2]
                for sh in _SHIFTS:
                    a, bl, br = _aggd32((b * np.roll(b, sh, axis=(0, 1))).flatten(), grid)
                    f += [a, (br - bl) * (gamma(2 / a) / gamma(1 / a)), bl, br]
                rows.append(f)
        feats.append(np.array(rows))
        if scale == 1 and resize == "bilinear":
            h, w = img.shape
            img = cv2.resize(img / 255.0, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR) * 255.0
        elif scale == 1:
            img = _half_basicsr(img / 255.0) * 255.0
    return np.concatenate(feats, 1)


def _basicsr_taps(n: int) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """BasicSR's (``basicsr/utils/matlab_functions.py``) half-size bicubic taps along an axis of length
    ``n``, in float32 as it computes them: ``(weights (out, k), first index per output, mirrored rows
    before, after)``; a first or last tap column that is zero somewhere is dropped, as there."""
    out, scale, width = math.ceil(n * 0.5), 0.5, 8.0
    u = torch.linspace(1, out, out) / scale + 0.5 * (1 - 1 / scale)
    left = torch.floor(u - width / 2)
    p = math.ceil(width) + 2
    idx = left.view(out, 1).expand(out, p) + torch.linspace(0, p - 1, p).view(1, p).expand(out, p)
    ax = torch.abs((u.view(out, 1).expand(out, p) - idx) * scale)
    ax2, ax3 = ax ** 2, ax ** 3
    w = scale * ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1).type_as(ax)
                 + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) * (ax <= 2)).type_as(ax))
    w = w / torch.sum(w, 1).view(out, 1).expand(out, p)
    zeros = torch.sum(w == 0, 0)
    if not math.isclose(zeros[0], 0, rel_tol=1e-6):
        idx, w = idx.narrow(1, 1, p - 2), w.narrow(1, 1, p - 2)
    if not math.isclose(zeros[-1], 0, rel_tol=1e-6):
        idx, w = idx.narrow(1, 0, p - 2), w.narrow(1, 0, p - 2)
    before, after = int(-idx.min() + 1), int(idx.max() - n)
    return w.contiguous(), (idx + before - 1).contiguous()[:, 0].long(), before, after


def _mirror_rows(x: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """Rows mirrored at both ends (the edge row repeated), ``before`` above and ``after`` below."""
    return torch.cat([x[:before].flip(0), x, x[x.shape[0] - after:].flip(0)])


def _half_basicsr(img: np.ndarray) -> np.ndarray:
    """BasicSR's ``imresize(img, 0.5)`` of a float32 plane in [0, 1]: float32, each output row (then
    column) one matrix-vector product of its taps, as that code computes it."""
    x = torch.from_numpy(np.ascontiguousarray(img)).float()
    w, first, before, after = _basicsr_taps(x.shape[0])
    xa, k = _mirror_rows(x, before, after), w.shape[1]
    rows = torch.stack([xa[f:f + k].t().mv(w[i]) for i, f in enumerate(first.tolist())])
    w, first, before, after = _basicsr_taps(x.shape[1])
    ya, k = _mirror_rows(rows.t(), before, after).t().contiguous(), w.shape[1]  # its row-major layout
    cols = torch.stack([ya[:, f:f + k].mv(w[i]) for i, f in enumerate(first.tolist())], 1)
    return cols.numpy()


# ---------------------------------------------------------------------- luma, the score

def _luma(frame: np.ndarray, variant: str):
    """The plane each variant scores, from an RGB (or gray) uint8 frame."""
    if frame.ndim == 2:
        f = frame.astype(np.float64)
        return f.astype(np.float32) if variant.startswith("basicsr") else f
    if variant == "matlab":
        v = frame.astype(np.float64) @ np.asarray(_GRAY_MATLAB)
        r = np.floor(v)
        return r + ((v - r) >= 0.5)  # MATLAB rounds half away from zero
    if variant.startswith("basicsr"):
        x = frame[..., ::-1].astype(np.float32) / 255.0  # BasicSR reads BGR
        y = ((np.dot(x, list(_Y_BASICSR_BGR)) + 16.0) / 255.0).astype(np.float32)
        return y * 255.0
    x = torch.from_numpy(np.ascontiguousarray(frame)).float().div(255.0)[None]
    yiq = torch.matmul(x, torch.tensor(_YIQ).t())
    return (yiq[0, ..., 0] * 255).round().double().numpy()


def _quality(feats: np.ndarray) -> float:
    mu_p, cov_p, _ = pristine_params()
    mu_d = np.nanmean(feats, axis=0)
    clean = feats[~np.isnan(feats).any(axis=1)]
    if len(clean) < 2:
        return float("nan")
    cov_d = np.cov(clean, rowvar=False)
    d = mu_p - mu_d
    return float(np.sqrt(d @ np.linalg.pinv((cov_p + cov_d) / 2) @ d))


def _niqe_frame(frame: np.ndarray, variant: str, crop_border: int) -> float:
    plane = _luma(frame, variant)
    if crop_border:
        plane = plane[crop_border:-crop_border, crop_border:-crop_border]
    h, w = plane.shape
    if h < BLOCK or w < BLOCK:
        raise InputError(f"NIQE needs frames of at least {BLOCK}x{BLOCK} pixels (after any crop), got {w}x{h}")
    plane = plane[:h // BLOCK * BLOCK, :w // BLOCK * BLOCK]
    if variant == "basicsr":
        return _quality(_features32(np.ascontiguousarray(plane), "bilinear"))
    if variant == "basicsr-bicubic":  # v1.3.3.11+ rounds the (cropped) luma, still float32
        return _quality(_features32(np.ascontiguousarray(plane).round(), "bicubic"))
    return _quality(_features64(np.ascontiguousarray(plane, dtype=np.float64), variant))


def _frames(x) -> tuple[list[np.ndarray], bool]:
    if isinstance(x, torch.Tensor):
        raise InputError("NIQE takes uint8 frames as NumPy arrays (H, W, 3) or (N, H, W, 3)")
    if isinstance(x, (list, tuple)):
        return [_one(f) for f in x], True
    a = np.asarray(x)
    if a.ndim == 4 or (a.ndim == 3 and a.shape[-1] != 3):
        return [_one(f) for f in a], True
    return [_one(a)], False


def _one(f) -> np.ndarray:
    a = np.asarray(f)
    if a.dtype != np.uint8:
        raise InputError(f"NIQE takes 8-bit frames (uint8), got dtype {a.dtype}")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise InputError(f"NIQE takes RGB frames (H, W, 3) or gray frames (H, W), got shape {a.shape}")
    return a


def niqe(frames, *, variant: str = "matlab", crop_border: int = 0) -> "float | np.ndarray":
    """NIQE of each frame (no reference; lower is better).

    Parameters
    ----------
    frames : numpy.ndarray or list
        One uint8 frame ``(H, W, 3)`` RGB (or ``(H, W)`` gray), or a batch ``(N, H, W, 3)`` / list of frames.
    variant : {"matlab", "basicsr", "basicsr-bicubic", "pyiqa"}
        Whose computation to reproduce (see the module docstring).
    crop_border : int
        Pixels removed at each edge of the luma first (BasicSR's and pyiqa's ``crop_border``).

    Returns
    -------
    float or numpy.ndarray
        A float for one frame, an ``(N,)`` float64 array for a batch. NaN when fewer than two blocks
        give finite features (as the published code).

    Raises
    ------
    vsrbench.core.errors.InputError
        A frame that is not uint8 RGB/gray, or smaller than 96x96 after the crop; an unknown variant.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.random.default_rng(0).integers(0, 256, (192, 192, 3), dtype=np.uint8)
    >>> round(niqe(f, variant="matlab"), 2) > 0
    True
    """
    if variant not in VARIANTS:
        from vsrbench.core.errors import UnknownNameError

        raise UnknownNameError("NIQE variant", variant, VARIANTS)
    if int(crop_border) < 0:
        raise InputError(f"crop_border must be >= 0, got {crop_border}")
    items, batched = _frames(frames)
    values = np.array([_niqe_frame(f, variant, int(crop_border)) for f in items], dtype=np.float64)
    return values if batched else float(values[0])


def _score(clip, variant: str) -> list[tuple[int, float]]:
    crop = int(clip.options.get("crop_border", 0))
    return [(int(t), niqe(np.asarray(clip.frame(t)), variant=variant, crop_border=crop)) for t in clip.frames]


def score_matlab(clip) -> list[tuple[int, float]]:
    """Scorer of ``niqe``: MATLAB's NIQE of each scored output frame (option ``crop_border``, default 0)."""
    return _score(clip, "matlab")


def score_basicsr(clip) -> list[tuple[int, float]]:
    """Scorer of ``niqe-basicsr``: BasicSR's (<= v1.3.3.10) ``calculate_niqe`` of each scored output frame."""
    return _score(clip, "basicsr")


def score_basicsr_bicubic(clip) -> list[tuple[int, float]]:
    """Scorer of ``niqe-basicsr-bicubic``: BasicSR's (v1.3.3.11 and later) ``calculate_niqe`` of each scored
    output frame."""
    return _score(clip, "basicsr-bicubic")


def score_pyiqa(clip) -> list[tuple[int, float]]:
    """Scorer of ``niqe-pyiqa``: pyiqa's ``niqe`` of each scored output frame."""
    return _score(clip, "pyiqa")
