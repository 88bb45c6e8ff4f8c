"""Temporal metrics: TecoGAN's tOF (optical-flow difference) and tLP (LPIPS-change difference),
and Lai et al.'s flow warping error E_warp.

All compare consecutive-frame pairs ``(t-1, t)`` of the output (tOF and tLP with the same pairs
of the ground truth, E_warp with the ground truth's motion). Functions here take whole sequences
(lists of frames) and return one value per pair; :mod:`vsrbench.evaluate` runs the same
arithmetic frame by frame with reuse.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from vsrbench.core.errors import InputError
from vsrbench.metrics.protocol import Protocol, get_protocol
from vsrbench.core.frames import quantize255
from vsrbench.metrics.spatial import as_batch, crop, crop_hw, match_sizes, prepare, strip_rows

__all__ = [
    "grey", "flow", "grey_batch", "flow_batch", "flow_difference_batch", "flow_difference", "Sampling", "sampling",
    "warp", "occlusion_mask", "warp_error", "tof", "tlp", "ewarp",
]


def grey(frame_u8: np.ndarray) -> np.ndarray:
    """OpenCV RGB -> grey (uint8 in, uint8 out), as TecoGAN's tOF does."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame_u8), cv2.COLOR_RGB2GRAY)


def flow(prev_grey: np.ndarray, cur_grey: np.ndarray, protocol: Protocol) -> np.ndarray:
    """Dense flow prev -> cur (H, W, 2) float32 with the protocol's Farneback (OpenCV's, or the torch
    port on the CPU for ``flow="farneback-torch"``) and parameters."""
    if protocol.flow == "farneback-torch":
        return _torch_flow(torch.from_numpy(np.ascontiguousarray(prev_grey)),
                           torch.from_numpy(np.ascontiguousarray(cur_grey)), protocol).numpy()
    import cv2

    pyr, levels, win, iters, poly_n, poly_sigma, flags = protocol.flow_params
    return cv2.calcOpticalFlowFarneback(prev_grey, cur_grey, None, float(pyr), int(levels), int(win), int(iters),
                                        int(poly_n), float(poly_sigma), int(flags))


# OpenCV's fixed-point RGB -> grey for 8-bit images, (R*9798 + G*19235 + B*3735 + 2^14) >> 15: equal to
# cv2.cvtColor(COLOR_RGB2GRAY) on all 2^24 colours (OpenCV 4.x/5.x; tests/test_gpu_pipeline.py checks the cube)
_GREY_FIXED = (9798, 19235, 3735)


def grey_batch(rgb_u8: torch.Tensor) -> torch.Tensor:
    """:func:`grey` for a batch of (N, 3, H, W) 8-bit RGB tensors (any integer or float dtype holding
    0..255 integers) on any device -> (N, H, W) uint8, bit-exact with ``cv2.cvtColor(..., COLOR_RGB2GRAY)``."""
    x = rgb_u8.to(torch.int32)
    r, g, b = _GREY_FIXED
    return ((x[:, 0] * r + x[:, 1] * g + x[:, 2] * b + (1 << 14)) >> 15).to(torch.uint8)


def _torch_flow(prev_grey: torch.Tensor, cur_grey: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """The torch port of Farneback with the protocol's parameters (one pair or a batch)."""
    from vsrbench.metrics.farneback import farneback

    pyr, levels, win, iters, poly_n, poly_sigma, flags = protocol.flow_params
    return farneback(prev_grey, cur_grey, float(pyr), int(levels), int(win), int(iters), int(poly_n),
                     float(poly_sigma), int(flags))


def flow_batch(prev_grey: torch.Tensor, cur_grey: torch.Tensor, protocol: Protocol, pool=None) -> torch.Tensor:
    """:func:`flow` for N pairs of (N, H, W) uint8 grey tensors -> (N, H, W, 2) float32 on their device:
    one batched call of the torch port for ``flow="farneback-torch"``, OpenCV pair by pair otherwise
    (in ``pool``'s threads when given: OpenCV releases the GIL)."""
    if len(prev_grey) == 0:
        return torch.zeros((0, *prev_grey.shape[1:], 2), dtype=torch.float32, device=prev_grey.device)
    if protocol.flow == "farneback-torch":
        return _torch_flow(prev_grey, cur_grey, protocol)
    a, b = prev_grey.cpu().numpy(), cur_grey.cpu().numpy()
    pairs = [(a[i], b[i], protocol) for i in range(len(a))]
    out = list(pool.map(flow, *zip(*pairs))) if pool is not None else [flow(*pair) for pair in pairs]
    return torch.from_numpy(np.stack(out)).to(prev_grey.device)


def flow_difference_batch(flow_gt: torch.Tensor, flow_pred: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """:func:`flow_difference` for (N, H, W, 2) float32 flow tensors -> (N,) float64, on their device."""
    d = crop(flow_gt.permute(0, 3, 1, 2), protocol) - crop(flow_pred.permute(0, 3, 1, 2), protocol)
    d = d.to(torch.float64)  # the difference in float32, its norm in float64: as flow_difference
    return torch.sqrt(d[:, 0] ** 2 + d[:, 1] ** 2).flatten(1).mean(dim=1)


def flow_difference(flow_gt: np.ndarray, flow_pred: np.ndarray, protocol: Protocol, rows: int | None = None) -> float:
    """Mean over the cropped field of the Euclidean norm of the flow difference (pixels).

    The difference is taken in float32, as the original, and its norm in float64. Fields over
    :data:`~vsrbench.metrics.spatial.STRIP_PIXELS` pixels are taken in strips of rows (``rows``, default
    :func:`~vsrbench.metrics.spatial.strip_rows`): the same values, their sum in another order (~1e-15
    relative), without float64 copies of the whole field."""
    a, b = crop_hw(flow_gt, protocol), crop_hw(flow_pred, protocol)
    h, w = a.shape[:2]
    step = max(1, min(h, rows or strip_rows(h, w)))
    if step >= h:
        d = (a - b).astype(np.float64)  # float32, like the original
        return float(np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2).mean())
    total = 0.0
    for y0 in range(0, h, step):
        d = (a[y0:y0 + step] - b[y0:y0 + step]).astype(np.float64)
        total += float(np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2).sum())
    return total / (h * w)


class Sampling(NamedTuple):
    """Where :func:`warp` samples for one flow (the flat indices of the four neighbours and the
    bilinear weights), computed once by :func:`sampling` and reusable for several images."""

    shape: tuple
    tl: np.ndarray
    tr: np.ndarray
    bl: np.ndarray
    br: np.ndarray
    ax: np.ndarray
    ay: np.ndarray


def sampling(flo: np.ndarray) -> Sampling:
    """The sampling positions of :func:`warp` by the flow ``flo`` (H, W, 2)."""
    h, w = flo.shape[:2]
    x = np.arange(w, dtype=np.float64)[None, :] + flo[..., 0]
    y = np.arange(h, dtype=np.float64)[:, None] + flo[..., 1]
    x0, y0 = np.floor(x), np.floor(y)
    xl, xr = np.clip(x0, 0, w - 1).astype(np.intp), np.clip(x0 + 1, 0, w - 1).astype(np.intp)
    yt, yb = np.clip(y0, 0, h - 1).astype(np.intp) * w, np.clip(y0 + 1, 0, h - 1).astype(np.intp) * w
    return Sampling((h, w), yt + xl, yt + xr, yb + xl, yb + xr, x - x0, y - y0)


def warp(img: np.ndarray, flo: "np.ndarray | Sampling") -> np.ndarray:
    """Backward warping: ``out(x) = img(x + flo(x))``, bilinear, float64.

    ``img`` is (H, W) or (H, W, C), ``flo`` (H, W, 2) with (dx, dy) in pixels, or its
    :func:`sampling`. Sampling points outside the frame take the nearest border value (the two
    neighbours are clamped to the frame and the weights come from the unclamped position, as
    FlowNet2's ``Resample2d`` that Lai et al. warp with). Exact bilinear weights; ``cv2.remap``
    is not used because it rounds sampling positions to 1/32 pixel.
    """
    at = flo if isinstance(flo, Sampling) else sampling(flo)
    img = np.asarray(img, dtype=np.float64)
    h, w = img.shape[:2]
    if (h, w) != at.shape:
        raise InputError(f"warp: the image is {w}x{h} but the flow is {at.shape[1]}x{at.shape[0]}; they must match")
    ax, ay = (at.ax[..., None], at.ay[..., None]) if img.ndim == 3 else (at.ax, at.ay)
    flat = img.reshape(h * w, -1) if img.ndim == 3 else img.reshape(h * w)
    tl, bl = flat.take(at.tl, axis=0), flat.take(at.bl, axis=0)
    top = tl + ax * (flat.take(at.tr, axis=0) - tl)
    bottom = bl + ax * (flat.take(at.br, axis=0) - bl)
    return top + ay * (bottom - top)


def occlusion_mask(fw: np.ndarray, bw: np.ndarray, *, at: Sampling | None = None) -> np.ndarray:
    """Occluded pixels of frame t-1 (bool (H, W)) from the flows ``fw`` (t-1 -> t) and ``bw`` (t -> t-1).

    Lai et al.'s rule (``detect_occlusion``): a pixel is occluded where the forward-backward check
    fails, ``|fw(x) + bw(x + fw(x))|^2 > 0.01 (|fw(x)|^2 + |bw(x + fw(x))|^2) + 0.5``, or on a
    motion boundary of ``fw``, ``|d fw/dx|^2 + |d fw/dy|^2 > 0.01 |fw(x)|^2 + 0.002`` (forward
    differences ``fw(x) - fw(x + 1)``, zero in the last column / row). ``at``: ``sampling(fw)``
    when already computed.
    """
    bw_w = warp(bw, at if at is not None else sampling(fw))
    fw = np.asarray(fw, dtype=np.float64)
    s = fw + bw_w
    fw_mag = (fw ** 2).sum(-1)
    check = (s ** 2).sum(-1) > 0.01 * (fw_mag + (bw_w ** 2).sum(-1)) + 0.5
    du = np.zeros_like(fw)
    dv = np.zeros_like(fw)
    du[:, :-1] = fw[:, :-1] - fw[:, 1:]
    dv[:-1, :] = fw[:-1, :] - fw[1:, :]
    boundary = (du ** 2 + dv ** 2).sum(-1) > 0.01 * fw_mag + 0.002
    return check | boundary


def warp_error(prev_u8: np.ndarray, cur_u8: np.ndarray, fw: np.ndarray, bw: np.ndarray, protocol: Protocol,
               occluded: np.ndarray | None = None, at: Sampling | None = None) -> float:
    """E_warp of one output pair: mean over channels and non-occluded pixels of ``(warp(O_t, fw) - O_t-1)^2``.

    ``prev_u8`` / ``cur_u8`` are the output frames t-1 and t (H, W, 3) uint8, scored in [0, 1];
    ``fw`` / ``bw`` the reference (GT) flows t-1 -> t and t -> t-1 on the full frames;
    ``occluded`` the :func:`occlusion_mask` and ``at`` the ``sampling(fw)`` when already computed. The squared differences and
    the mask are cropped per the protocol. With no non-occluded pixel left the value is 0 (the
    original divides by the pixel count then).
    """
    at = at if at is not None else sampling(fw)
    if occluded is None:
        occluded = occlusion_mask(fw, bw, at=at)
    warped = warp(np.asarray(cur_u8, dtype=np.float64) / 255.0, at)
    d2 = ((warped - np.asarray(prev_u8, dtype=np.float64) / 255.0) ** 2).sum(-1)
    keep = ~crop_hw(occluded, protocol)
    d2 = crop_hw(d2, protocol)
    channels = prev_u8.shape[-1] if prev_u8.ndim == 3 else 1
    n = int(keep.sum()) * channels or d2.size * channels
    return float(d2[keep].sum() / n)


def _sequence_u8(frames, what: str) -> list[np.ndarray]:
    out = []
    for i, f in enumerate(frames):
        t, _ = as_batch(f, f"{what} frame {i}")
        out.append(quantize255(t).to(torch.uint8)[0].permute(1, 2, 0).cpu().numpy())
    return out


def _stack(frames, idx, what: str) -> torch.Tensor:
    items = [(i, as_batch(frames[i], f"{what} frame {i}")[0]) for i in idx]
    first_i, first = items[0]
    for i, t in items[1:]:
        if t.shape[-2:] != first.shape[-2:]:
            raise InputError(f"{what} frame {i} is {t.shape[-1]}x{t.shape[-2]} but {what} frame {first_i} is "
                             f"{first.shape[-1]}x{first.shape[-2]}: frames of a sequence must have one size")
    return torch.cat([t for _, t in items])


def _check_lengths(pred, gt, need: int, metric: str, proto: Protocol | None = None):
    if proto is not None and proto.frames_scored == "center":
        raise InputError(f"{metric} is a temporal metric: it is not defined when only the centre frame is scored "
                         f"(protocol {proto.name})")
    if len(pred) != len(gt):
        raise InputError(f"{metric}: {len(pred)} output frames but {len(gt)} GT frames")
    if len(pred) < need:
        raise InputError(f"{metric} needs at least {need} frames (a pair after the protocol's cut), got {len(pred)}")


def _temporal_pairs(pred_frames, gt_frames, proto: Protocol):
    """``(t, [(pred_{t-1}, gt_{t-1}), (pred_t, gt_t)])`` for ``t = cut+1 .. n-cut-1``: uint8 (H, W, 3)
    frames after the protocol's size rule (full frames: flows are computed before any crop)."""
    cut = proto.cut_frames
    p8, g8 = _sequence_u8(pred_frames, "pred"), _sequence_u8(gt_frames, "gt")
    for t in range(cut + 1, len(g8) - cut):
        pairs = []
        for k in (t - 1, t):
            a, b = match_sizes(torch.from_numpy(p8[k]).permute(2, 0, 1)[None],
                               torch.from_numpy(g8[k]).permute(2, 0, 1)[None], proto.size_rule, f"frame {k}")
            pairs.append((a[0].permute(1, 2, 0).numpy(), b[0].permute(1, 2, 0).numpy()))
        yield t, pairs


def tof(pred_frames, gt_frames, *, protocol: "str | Protocol" = "tecogan", **overrides) -> np.ndarray:
    """tOF per pair ``(t-1, t)`` for ``t = cut+1 .. n-cut-1`` (pixels; lower is better).

    Frames are RGB (uint8, or float in [0, 1]); flows are computed on the full frames (after
    the size rule) and the flow fields are cropped per the protocol.

    Parameters
    ----------
    pred_frames, gt_frames : sequence of numpy.ndarray
        The output's and the ground truth's frames, in order, as many of each.
    protocol : str or Protocol
        A preset name (``"tecogan"``, ``"basicsr-y"``, ...) or a :class:`~vsrbench.metrics.protocol.Protocol`.
    **overrides
        Protocol fields to override by name, e.g. ``crop_border=8``.

    Returns
    -------
    numpy.ndarray
        One value per scored pair (pixels; lower is better).

    Raises
    ------
    vsrbench.core.errors.InputError
        Frame lists of different lengths or frames of another shape or type.
    vsrbench.core.errors.UnknownNameError
        An unknown protocol name or protocol field.

    Examples
    --------
    >>> import numpy as np
    >>> frames = [np.random.default_rng(t).integers(0, 256, (64, 64, 3), dtype=np.uint8) for t in range(4)]
    >>> tof(frames, frames, protocol="basicsr-rgb")  # identical sequences: no flow difference, one value per pair
    array([0., 0., 0.])
    """
    proto = get_protocol(protocol, **overrides)
    cut = proto.cut_frames
    _check_lengths(pred_frames, gt_frames, 2 * cut + 2, "tOF", proto)
    out = []
    for _, pairs in _temporal_pairs(pred_frames, gt_frames, proto):
        fg = flow(grey(pairs[0][1]), grey(pairs[1][1]), proto)
        fp = flow(grey(pairs[0][0]), grey(pairs[1][0]), proto)
        out.append(flow_difference(fg, fp, proto))
    return np.asarray(out, dtype=np.float64)


def tlp(pred_frames, gt_frames, *, protocol: "str | Protocol" = "tecogan", lpips_weights=None,
        **overrides) -> np.ndarray:
    """tLP per pair ``(t-1, t)``: ``tlp_scale * |LPIPS(G_t-1, G_t) - LPIPS(O_t-1, O_t)|`` on cropped frames.

    Parameters
    ----------
    pred_frames, gt_frames : sequence of numpy.ndarray
        The output's and the ground truth's frames, in order, as many of each (RGB, uint8 or float in [0, 1]).
    protocol : str or Protocol
        A preset name (``"tecogan"``, ``"basicsr-y"``, ...) or a :class:`~vsrbench.metrics.protocol.Protocol`;
        it gives the crop, the frames cut at each end, the LPIPS net and version and ``tlp_scale``.
    lpips_weights : str or os.PathLike, optional
        The ImageNet backbone file (or a folder holding it), as for :func:`~vsrbench.metrics.lpips`;
        looked up locally when None.
    **overrides
        Protocol fields to override by name, e.g. ``crop_border=8``.

    Returns
    -------
    numpy.ndarray
        One value per pair ``(t-1, t)`` for ``t = cut+1 .. n-cut-1`` (lower is better; TecoGAN's
        ``tLP100`` with ``tlp_scale`` 100).

    Raises
    ------
    vsrbench.core.errors.InputError
        Frame lists of different lengths, fewer frames than a pair after the protocol's cut, a protocol
        that scores only the centre frame, or frames of another shape or type.
    vsrbench.core.errors.WeightsError
        The backbone file or the linear layers are missing, unreadable or not the published files.
    vsrbench.core.errors.UnknownNameError
        An unknown protocol name or protocol field.

    Examples
    --------
    Needs the backbone file (``vsrbench weights download lpips-alex``)::

        from vsrbench.metrics import tlp
        tlp(out_frames, gt_frames)  # 7 frames under "tecogan" (2 cut at each end): 2 values
    """
    from vsrbench.metrics.lpips import get_lpips, to_lpips_input

    proto = get_protocol(protocol, **overrides)
    cut = proto.cut_frames
    _check_lengths(pred_frames, gt_frames, 2 * cut + 2, "tLP", proto)
    idx = range(cut, len(gt_frames) - cut)
    p, g = prepare(_stack(pred_frames, idx, "pred"), _stack(gt_frames, idx, "gt"), proto)
    model = get_lpips(proto.lpips_net, proto.lpips_version, lpips_weights, p.device)
    fp, fg = model.features(to_lpips_input(p)), model.features(to_lpips_input(g))
    prev = [f[:-1] for f in fp], [f[:-1] for f in fg]
    cur = [f[1:] for f in fp], [f[1:] for f in fg]
    d_pred = model.distance(prev[0], cur[0]).double()
    d_gt = model.distance(prev[1], cur[1]).double()
    return (proto.tlp_scale * (d_gt - d_pred).abs()).cpu().numpy()


def ewarp(pred_frames, gt_frames, *, protocol: "str | Protocol" = "tecogan", **overrides) -> np.ndarray:
    """Flow warping error E_warp (Lai et al., ECCV 2018) per pair ``(t-1, t)`` for ``t = cut+1 .. n-cut-1``.

    Lower is better; one value per pair, the pair's ``t`` being the frame it belongs to (as tOF).
    As in Lai et al.'s ``evaluate_WarpError.py``: output frame ``t`` is warped back onto frame
    ``t-1`` with the flow ``t-1 -> t`` of the reference video (here the GT), bilinearly
    (:func:`warp`); pixels the reference's forward-backward check or motion boundaries mark as
    occluded (:func:`occlusion_mask`, its thresholds) are left out; the value is the squared
    difference to output frame ``t-1`` summed over the RGB channels and divided by
    ``3 x the non-occluded pixel count``, frames in [0, 1] (8-bit, like the PNG/JPEG frames the
    original reads). Averaging over pairs and then sequences is the store's usual rule.

    vsrbench's choices: the flows are the protocol's Farneback (OpenCV, the same flows tOF uses,
    on OpenCV grey of the GT) instead of FlowNet2, computed on the full frames after the size
    rule; the squared differences and the mask are cropped per the protocol; always RGB, whatever
    the protocol's colour. Numbers are therefore on the scale of Lai et al.'s but **not
    comparable** with FlowNet2-based E_warp numbers (the flow and its occlusion mask differ).

    Parameters
    ----------
    pred_frames, gt_frames : sequence of numpy.ndarray
        The output's and the ground truth's frames, in order, as many of each (RGB, uint8 or float in [0, 1]).
    protocol : str or Protocol
        A preset name (``"tecogan"``, ``"basicsr-y"``, ...) or a :class:`~vsrbench.metrics.protocol.Protocol`.
    **overrides
        Protocol fields to override by name, e.g. ``crop_border=8``.

    Returns
    -------
    numpy.ndarray
        One value per pair ``(t-1, t)`` for ``t = cut+1 .. n-cut-1`` (lower is better).

    Raises
    ------
    vsrbench.core.errors.InputError
        Frame lists of different lengths, fewer frames than a pair after the protocol's cut, a protocol
        that scores only the centre frame, or frames of another shape or type.
    vsrbench.core.errors.UnknownNameError
        An unknown protocol name or protocol field.

    Examples
    --------
    >>> import numpy as np
    >>> gt = [np.full((64, 64, 3), 128, np.uint8)] * 4  # a still scene: zero flow, nothing occluded
    >>> out = [np.full((64, 64, 3), 100 + 10 * (t % 2), np.uint8) for t in range(4)]  # flickers by 10 levels
    >>> ewarp(out, gt, protocol="basicsr-rgb")  # (10 / 255) ** 2 for every pair
    array([0.00153787, 0.00153787, 0.00153787])
    """
    proto = get_protocol(protocol, **overrides)
    cut = proto.cut_frames
    _check_lengths(pred_frames, gt_frames, 2 * cut + 2, "E_warp", proto)
    out = []
    for _, pairs in _temporal_pairs(pred_frames, gt_frames, proto):
        g_prev, g_cur = grey(pairs[0][1]), grey(pairs[1][1])
        fw, bw = flow(g_prev, g_cur, proto), flow(g_cur, g_prev, proto)
        out.append(warp_error(pairs[0][0], pairs[1][0], fw, bw, proto))
    return np.asarray(out, dtype=np.float64)
