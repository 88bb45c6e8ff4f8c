"""E*warp with RAFT flow: the warping error as 2023-2026 video SR papers print it, under two named conventions.

``ewarp-evalcrafter`` reproduces ``evalcrafter/EvalCrafter:metrics/RAFT/optical_flow_scores.py``
(``compute_video_warping_error`` with ``warp_utils.detect_occlusion``), the code STAR and DOVE use.
For each pair of consecutive output frames (img1 = frame t-1, img2 = frame t):

1. RGB in [0, 1] (``uint8 / 255``), each frame downsampled ×0.5 (``F.interpolate``, bilinear,
   ``align_corners=False``), replicate-padded to multiples of 8 (``InputPadder``, sintel split);
2. RAFT (``raft-things``) in test mode, 20 updates, forward flow F (img1 → img2) and backward flow B;
   the caller feeds the [0, 1] frames to a RAFT whose ``forward`` maps ``x`` to ``2 * (x / 255) - 1``,
   so RAFT sees values in [-1, -0.992]: that input-range behaviour is part of this convention;
3. img2 and B are warped to img1 with F by FlowNet2's ``Resample2d`` (:func:`resample2d`: bilinear at
   ``(x + Fx, y + Fy)``, each corner index clamped to the frame separately, the four weighted terms
   rounded to float32 and summed in float32 - re-expressed in torch, no compiled op);
4. occluded where ``|F + B_w|² > 0.01 (|F|² + |B_w|²) + 0.5`` (forward-backward check) or where
   ``|∇F|² > 0.01 |F|² + 0.002`` (motion boundary; forward differences, last row/column 0), the Ruder
   et al. / Lai et al. thresholds;
5. ``Σ((warp(img2) - img1)² · noc) / Σ noc``: the numerator sums over the 3 channels, the count over
   pixels (3× a per-element mean); when no pixel is visible the count is 3·H·W. Everything is computed
   on the padded half-size frames, as the original does (it never crops the padding away).

The value of pair (t-1, t) is written at frame t; the per-sequence mean over pairs is EvalCrafter's
per-video number. Papers print it ×10³ (``MetricInfo.display``); the stored number is the raw one.

``ewarp-raft`` is the same computation with RAFT fed as its authors intended (frames on 0..255, so it
sees [-1, 1]) and the per-element mean ``Σ((warp - img1)² · noc) / (3 Σ noc)``.

Both are no-reference: they score the output frames alone (EvalCrafter computes the warping error of a
generated video, with no ground truth). Options (family ``"ewarp"``): ``raft_weights`` (one of
:data:`~vsrbench.metrics.raft.RAFT_WEIGHTS`, default ``raft-things``), ``batch`` (frame pairs per RAFT
call, default 4).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vsrbench.core.device import ieee_fp32
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.metrics.raft import ITERS, RAFT, RAFT_WEIGHTS, get_raft, pad_to_multiple

__all__ = ["resample2d", "occlusion", "warp_errors", "ewarp_pairs", "score_evalcrafter", "score_raft",
           "CONVENTIONS", "OPTIONS"]

#: convention -> (value range RAFT is fed on (its forward divides by 255), divide the sum by 3·Σnoc)
CONVENTIONS = {"evalcrafter": (1.0, False), "raft": (255.0, True)}
OPTIONS = ("raft_weights", "batch")


def resample2d(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """FlowNet2's ``Resample2d`` (bilinear, kernel 1): ``out[y, x] = img`` at ``(x + flow_x, y + flow_y)``.

    As its CUDA kernel: ``xf = x + dx`` in float32, ``alpha = xf - floor(xf)``; the corner indices
    ``floor(xf)`` and ``floor(xf) + 1`` are each clamped to ``[0, W-1]`` (likewise y), so samples outside
    the frame take the border value; each corner's term ``(1 - alpha)(1 - beta)·v`` is computed in double,
    rounded to float32, and the four are summed in float32 in the kernel's order. ``img`` ``(N, C, H, W)``,
    ``flow`` ``(N, 2, H, W)``, both float32.
    """
    n, c, h, w = img.shape
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype).view(1, 1, w)
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(1, h, 1)
    xf, yf = xs + flow[:, 0], ys + flow[:, 1]
    x0, y0 = torch.floor(xf), torch.floor(yf)
    alpha, beta = (xf - x0).double(), (yf - y0).double()
    xl, yt = x0.long(), y0.long()
    xl, xr = xl.clamp(0, w - 1), (xl + 1).clamp(0, w - 1)
    yt, yb = yt.clamp(0, h - 1), (yt + 1).clamp(0, h - 1)
    flat = img.reshape(n, c, h * w)

    def corner(yy, xx):
        return flat.gather(2, (yy * w + xx).reshape(n, 1, h * w).expand(n, c, h * w)).reshape(n, c, h, w).double()

    a, b = alpha[:, None], beta[:, None]
    out = ((1.0 - a) * (1.0 - b) * corner(yt, xl)).float()
    out = out + (a * (1.0 - b) * corner(yt, xr)).float()
    out = out + ((1.0 - a) * b * corner(yb, xl)).float()
    return out + (a * b * corner(yb, xr)).float()


def occlusion(fw: torch.Tensor, bw: torch.Tensor) -> torch.Tensor:
    """Occlusion mask ``(N, H, W)`` (bool) of frame 1 from the forward flow ``fw`` (1 → 2) and the backward
    flow ``bw`` (2 → 1), both ``(N, 2, H, W)`` float32, as EvalCrafter's ``detect_occlusion`` computes it:
    the forward-backward check with ``bw`` warped by ``fw`` (:func:`resample2d`) or a motion boundary of
    ``fw``. Same dtypes as the NumPy original (the gradient energy in float64)."""
    bw_w = resample2d(bw, fw)
    s = bw_w + fw
    mag = lambda f: f[:, 0] ** 2 + f[:, 1] ** 2  # noqa: E731
    fb = mag(s) > 0.01 * (mag(bw_w) + mag(fw)) + 0.5
    du = torch.zeros(fw.shape, dtype=torch.float64, device=fw.device)
    dv = torch.zeros_like(du)
    du[..., :, :-1] = (fw[..., :, :-1] - fw[..., :, 1:]).double()
    dv[..., :-1, :] = (fw[..., :-1, :] - fw[..., 1:, :]).double()
    grad = (du[:, 0] ** 2 + dv[:, 0] ** 2) + (du[:, 1] ** 2 + dv[:, 1] ** 2)
    boundary = grad > (0.01 * mag(fw) + 0.002).double()
    return fb | boundary


def warp_errors(img1: torch.Tensor, img2: torch.Tensor, fw: torch.Tensor, bw: torch.Tensor,
                *, per_element: bool = False) -> torch.Tensor:
    """Per-pair warping error ``(N,)`` (float64): ``Σ((resample2d(img2, fw) - img1)² · noc) / Σ noc`` with
    ``noc`` = not :func:`occlusion`; the numerator sums the channels, the count is pixels (3·H·W when no
    pixel is visible); ``per_element`` divides by the channel count as well."""
    noc = (~occlusion(fw, bw)).to(img1.dtype)[:, None]
    diff = (resample2d(img2, fw) - img1) * noc
    num = (diff.double() ** 2).sum(dim=(1, 2, 3))
    count = noc.double().sum(dim=(1, 2, 3))
    count = torch.where(count == 0, torch.full_like(count, float(diff[0].numel())), count)
    return num / count / (img1.shape[1] if per_element else 1)


def _prepare(frames: list[np.ndarray], device) -> torch.Tensor:
    """uint8 RGB ``(H, W, 3)`` frames -> [0, 1] float32, ×0.5 bilinear (align_corners=False), padded to 8."""
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().to(device) / 255.0
    x = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
    return pad_to_multiple(x)[0]


@torch.no_grad()
def ewarp_pairs(frames: list[np.ndarray], model: RAFT, *, convention: str = "evalcrafter", batch: int = 4,
                iters: int = ITERS) -> list[float]:
    """The warping error of each consecutive pair of ``frames`` (uint8 RGB ``(H, W, 3)``) under
    ``convention`` (:data:`CONVENTIONS`), with ``model`` (on the device it lives on)."""
    value_range, per_element = CONVENTIONS[convention]
    dev = next(model.parameters()).device
    out: list[float] = []
    with ieee_fp32(torch.device(dev).type == "cuda"):
        for s in range(0, len(frames) - 1, batch):
            x = _prepare(frames[s:s + batch + 1], dev)
            v = x * value_range if value_range != 1.0 else x  # [0, 1] frames go in as EvalCrafter feeds them
            v = 2 * (v / 255.0) - 1.0  # RAFT's own input mapping
            if isinstance(model, RAFT):  # each frame's features once
                fw, bw = model.both_ways(v, iters)
            else:  # any flow network called as model(image1, image2, iters)
                k = len(v) - 1
                flows = model(torch.cat([v[:-1], v[1:]]), torch.cat([v[1:], v[:-1]]), iters)
                fw, bw = flows[:k], flows[k:]
            out += warp_errors(x[:-1], x[1:], fw, bw, per_element=per_element).tolist()
    return out


def _score(clip, convention: str) -> list[tuple[int, float]]:
    opts = dict(clip.options or {})
    for k in opts:
        if k not in OPTIONS:
            raise UnknownNameError("ewarp option", k, OPTIONS)
    name = opts.get("raft_weights", "raft-things")
    if name not in RAFT_WEIGHTS:
        raise UnknownNameError("RAFT weights", name, RAFT_WEIGHTS)
    batch = int(opts.get("batch", 4))
    if batch < 1:
        raise InputError(f"ewarp option batch must be at least 1, got {batch}")
    present = set(clip.frames)
    ends = [t for t in clip.frames if t - 1 in present]
    if not ends:
        raise InputError(f"sequence {clip.name!r}: E*warp needs two consecutive scored frames, "
                         f"got {len(clip.frames)} frame(s)")
    model = get_raft(name, (clip.weights or {}).get(name), clip.device)
    rows: list[tuple[int, float]] = []
    run: list[int] = []
    for t in ends + [None]:  # runs of consecutive pairs share their frames
        if run and (t is None or t != run[-1] + 1):
            frames = [np.asarray(clip.pred[i]) for i in range(run[0] - 1, run[-1] + 1)]
            _same_size(clip.name, frames)
            rows += zip(run, ewarp_pairs(frames, model, convention=convention, batch=batch))
            run = []
        if t is not None:
            run.append(t)
    return rows


def _same_size(name: str, frames: list[np.ndarray]) -> None:
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise InputError(f"sequence {name!r}: E*warp needs frames of one size, got {sorted(shapes)}")
    (shape,) = shapes
    h2, w2 = (shape[0] // 2, shape[1] // 2) if len(shape) == 3 else (0, 0)
    if len(shape) != 3 or shape[2] != 3 or min(h2, w2) < 1 or -(-h2 // 8) * -(-w2 // 8) < 2:
        raise InputError(f"sequence {name!r}: E*warp needs RGB frames of at least 2x2 pixels whose half size "
                         f"padded to multiples of 8 exceeds 8x8 (e.g. 18x2 or 2x18 and up), got {shape}")


def score_evalcrafter(clip) -> list[tuple[int, float]]:
    """Scorer of ``ewarp-evalcrafter``: EvalCrafter's warping error of each pair (t-1, t), at t."""
    return _score(clip, "evalcrafter")


def score_raft(clip) -> list[tuple[int, float]]:
    """Scorer of ``ewarp-raft``: the same with RAFT fed 0..255 and the per-element mean, at t."""
    return _score(clip, "raft")
