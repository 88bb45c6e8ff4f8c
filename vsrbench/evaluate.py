"""Score output sequences against ground truth under a protocol, frame by frame.

:func:`evaluate_sequence` computes every requested metric in one pass over the frames:

- each frame's LPIPS backbone features are computed once (output and GT batched together)
  and reused for LPIPS(O_t, G_t) and for both tLP terms of the pairs (t-1, t) and (t, t+1):
  two backbone passes per frame instead of six;
- the two Farneback flows of a pair, the decoding of the next frames and (on CPU) the two
  single-threaded LPIPS passes run in worker threads (OpenCV and torch release the GIL), while
  PSNR / SSIM run on the main thread; on CUDA, LPIPS is one batched pass on the GPU.

The numbers are identical to the straightforward loop (:mod:`vsrbench.reference`).
"""
from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from vsrbench.device import resolve_device
from vsrbench.errors import InputError
from vsrbench.io import FrameSequence
from vsrbench.metrics.info import METRICS, check_metrics
from vsrbench.metrics.protocol import Protocol, get_protocol
from vsrbench.metrics.spatial import (
    as_batch, color_planes, crop, match_sizes, psnr_planes, quantize255, ssim_data_range, ssim_planes,
)
from vsrbench.metrics.temporal import flow, flow_difference, grey


@dataclass
class SequenceScores:
    """Per-frame results of one sequence: ``rows`` are ``(frame, metric, value)``."""

    name: str
    protocol: Protocol
    rows: list[tuple[int, str, float]] = field(default_factory=list)
    frame_names: list[str] = field(default_factory=list)

    @property
    def means(self) -> dict[str, float]:
        out: dict[str, list[float]] = {}
        for _, m, v in self.rows:
            out.setdefault(m, []).append(v)
        res = {}
        for m, vals in out.items():
            f = np.asarray(vals, dtype=np.float64)
            f = f[np.isfinite(f)]
            res[m] = float(f.mean()) if f.size else math.nan
        return res

    def values(self, metric: str) -> np.ndarray:
        return np.asarray([v for _, m, v in self.rows if m == metric], dtype=np.float64)


def _as_sequence(x, name: str) -> FrameSequence:
    if isinstance(x, FrameSequence):
        return x
    return FrameSequence.from_arrays(name, list(x))


def check_lengths(gt: FrameSequence, pred: FrameSequence, protocol: Protocol, metrics: Sequence[str]) -> None:
    """Frame counts must match, and be long enough for the protocol's cut and the metrics."""
    if len(gt) != len(pred):
        raise InputError(f"sequence {gt.name!r}: GT has {len(gt)} frames but the output has {len(pred)}")
    cut = protocol.cut_frames
    need = 2 * cut + (2 if any(METRICS[m].temporal for m in metrics) else 1)
    if len(gt) < need:
        which = "temporal metrics need" if need == 2 * cut + 2 else "scoring needs"
        raise InputError(f"sequence {gt.name!r} has {len(gt)} frames; {which} at least {need} "
                         f"with {cut} frame(s) cut at each end (protocol {protocol.name})")


def _u8_hwc(t: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) 0..255 float64 -> (H, W, 3) uint8 NumPy (for OpenCV)."""
    return np.ascontiguousarray(t[0].to(torch.uint8).permute(1, 2, 0).cpu().numpy())


def evaluate_sequence(
    gt,
    pred,
    *,
    protocol: "str | Protocol" = "tecogan",
    metrics: Sequence[str] | None = None,
    device: "str | torch.device | None" = "auto",
    lpips_weights=None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    name: str | None = None,
) -> SequenceScores:
    """Score one output sequence against its ground truth.

    ``gt`` / ``pred`` are :class:`~vsrbench.io.FrameSequence` objects or lists of frames
    (RGB uint8 (H, W, 3), or float in [0, 1]). ``progress(n)`` is called after each frame.
    """
    proto = get_protocol(protocol)
    metrics = check_metrics(metrics or proto.default_metrics)
    gt_seq, pred_seq = _as_sequence(gt, name or "sequence"), _as_sequence(pred, name or "sequence")
    check_lengths(gt_seq, pred_seq, proto, metrics)
    dev = resolve_device(device)
    want = set(metrics)
    model = None
    if want & {"lpips", "tlp"}:
        from vsrbench.metrics.lpips import get_lpips, to_lpips_input

        model = get_lpips(proto.lpips_net, proto.lpips_version, lpips_weights, dev)
    cut, n = proto.cut_frames, len(gt_seq)
    idx = list(range(cut, n - cut))
    scores = SequenceScores(name=name or gt_seq.name, protocol=proto,
                            frame_names=[gt_seq.frame_name(i) for i in range(n)])
    n_workers = workers or 4
    on_cpu = dev.type == "cpu"
    with ThreadPoolExecutor(max_workers=n_workers) as pool, _single_torch_thread(on_cpu):
        def load(i: int) -> Future:
            return pool.submit(lambda: (gt_seq[i], pred_seq[i]))

        pending = {i: load(i) for i in idx[:2]}
        prev_grey: tuple[np.ndarray, np.ndarray] | None = None
        prev_feats = None
        flow_jobs: list[tuple[int, Future, Future]] = []
        for k, t in enumerate(idx):
            g_raw, p_raw = pending.pop(t).result()
            if k + 2 < len(idx):
                pending[idx[k + 2]] = load(idx[k + 2])
            what = f"sequence {scores.name!r}, frame {t} ({scores.frame_names[t]})"
            g, _ = as_batch(g_raw, f"{what} GT")
            p, _ = as_batch(p_raw, f"{what} output")
            p, g = match_sizes(quantize255(p), quantize255(g), proto.size_rule, what)
            if "tof" in want:
                cur_grey = (grey(_u8_hwc(g)), grey(_u8_hwc(p)))
                if prev_grey is not None:
                    flow_jobs.append((t, pool.submit(flow, prev_grey[0], cur_grey[0], proto),
                                      pool.submit(flow, prev_grey[1], cur_grey[1], proto)))
                prev_grey = cur_grey
            pc, gc = crop(p.to(dev), proto), crop(g.to(dev), proto)
            if model is not None and on_cpu:  # two single-threaded passes side by side
                jobs = [pool.submit(model.features, to_lpips_input(x)) for x in (pc, gc)]
            elif model is not None:  # one batched pass on the GPU
                feats = model.features(to_lpips_input(torch.cat([pc, gc])))
                jobs = [None, None]
            if want & {"psnr", "ssim"}:
                pp, gg = color_planes(pc, proto), color_planes(gc, proto)
                if "psnr" in want:
                    scores.rows.append((t, "psnr", float(psnr_planes(pp, gg)[0])))
                if "ssim" in want:
                    scores.rows.append((t, "ssim", float(ssim_planes(pp, gg, proto.ssim, ssim_data_range(pp, proto))[0])))
            if model is not None:
                if on_cpu:
                    fp, fg = jobs[0].result(), jobs[1].result()
                else:
                    fp, fg = [f[0:1] for f in feats], [f[1:2] for f in feats]
                if "lpips" in want:
                    scores.rows.append((t, "lpips", float(model.distance(fp, fg)[0])))
                if "tlp" in want and prev_feats is not None:
                    d_gt = float(model.distance(prev_feats[1], fg)[0])
                    d_out = float(model.distance(prev_feats[0], fp)[0])
                    scores.rows.append((t, "tlp", proto.tlp_scale * abs(d_gt - d_out)))
                prev_feats = (fp, fg)
            while flow_jobs and (flow_jobs[0][1].done() and flow_jobs[0][2].done() or len(flow_jobs) > 2):
                _collect_flow(scores, flow_jobs.pop(0), proto)
            if progress:
                progress(1)
        for job in flow_jobs:
            _collect_flow(scores, job, proto)
    order = {m: i for i, m in enumerate(metrics)}
    scores.rows.sort(key=lambda r: (r[0], order[r[1]]))
    return scores


@contextmanager
def _single_torch_thread(enabled: bool):
    """On CPU, torch runs single-threaded while the pipeline runs its own threads.

    The flows, the decoding and the two LPIPS passes already keep every core busy; torch's
    intra-op pool on top of them oversubscribes the cores, and its spinning workers then slow
    everything down (5x measured on 2 cores). Restored on exit.
    """
    before = torch.get_num_threads()
    if enabled:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if enabled:
            torch.set_num_threads(before)


def _collect_flow(scores: SequenceScores, job, proto: Protocol) -> None:
    t, fg, fp = job
    scores.rows.append((t, "tof", flow_difference(fg.result(), fp.result(), proto)))
