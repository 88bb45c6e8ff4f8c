"""Temporal metrics of TecoGAN: tOF (optical-flow difference) and tLP (LPIPS-change difference).

Both compare consecutive-frame pairs ``(t-1, t)`` of the output with the same pairs of the
ground truth. Functions here take whole sequences (lists of frames) and return one value per
pair; :mod:`vsrbench.evaluate` runs the same arithmetic frame by frame with reuse.
"""
from __future__ import annotations

import numpy as np
import torch

from vsrbench.core.errors import InputError
from vsrbench.metrics.protocol import Protocol, get_protocol
from vsrbench.core.frames import quantize255
from vsrbench.metrics.spatial import as_batch, crop_hw, match_sizes, prepare


def grey(frame_u8: np.ndarray) -> np.ndarray:
    """OpenCV RGB -> grey (uint8 in, uint8 out), as TecoGAN's tOF does."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame_u8), cv2.COLOR_RGB2GRAY)


def flow(prev_grey: np.ndarray, cur_grey: np.ndarray, protocol: Protocol) -> np.ndarray:
    """Dense flow prev -> cur (H, W, 2) float32 with the protocol's Farneback parameters."""
    import cv2

    pyr, levels, win, iters, poly_n, poly_sigma, flags = protocol.flow_params
    return cv2.calcOpticalFlowFarneback(prev_grey, cur_grey, None, float(pyr), int(levels), int(win), int(iters),
                                        int(poly_n), float(poly_sigma), int(flags))


def flow_difference(flow_gt: np.ndarray, flow_pred: np.ndarray, protocol: Protocol) -> float:
    """Mean over the cropped field of the Euclidean norm of the flow difference (pixels)."""
    d = crop_hw(flow_gt, protocol) - crop_hw(flow_pred, protocol)  # float32, like the original
    d = d.astype(np.float64)
    return float(np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2).mean())


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


def tof(pred_frames, gt_frames, *, protocol: "str | Protocol" = "tecogan", **overrides) -> np.ndarray:
    """tOF per pair ``(t-1, t)`` for ``t = cut+1 .. n-cut-1`` (pixels; lower is better).

    Frames are RGB (uint8, or float in [0, 1]); flows are computed on the full frames (after
    the size rule) and the flow fields are cropped per the protocol.
    """
    proto = get_protocol(protocol, **overrides)
    cut = proto.cut_frames
    _check_lengths(pred_frames, gt_frames, 2 * cut + 2, "tOF", proto)
    p8, g8 = _sequence_u8(pred_frames, "pred"), _sequence_u8(gt_frames, "gt")
    out = []
    for t in range(cut + 1, len(g8) - cut):
        pairs = []
        for k in (t - 1, t):
            a, b = match_sizes(torch.from_numpy(p8[k]).permute(2, 0, 1)[None],
                               torch.from_numpy(g8[k]).permute(2, 0, 1)[None], proto.size_rule, f"frame {k}")
            pairs.append((a[0].permute(1, 2, 0).numpy(), b[0].permute(1, 2, 0).numpy()))
        fg = flow(grey(pairs[0][1]), grey(pairs[1][1]), proto)
        fp = flow(grey(pairs[0][0]), grey(pairs[1][0]), proto)
        out.append(flow_difference(fg, fp, proto))
    return np.asarray(out, dtype=np.float64)


def tlp(pred_frames, gt_frames, *, protocol: "str | Protocol" = "tecogan", lpips_weights=None,
        **overrides) -> np.ndarray:
    """tLP per pair ``(t-1, t)``: ``tlp_scale * |LPIPS(G_t-1, G_t) - LPIPS(O_t-1, O_t)|`` on cropped frames."""
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
