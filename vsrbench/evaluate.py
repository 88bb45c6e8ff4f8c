"""Score output sequences against ground truth under a protocol, frame by frame.

:func:`evaluate_sequence` (one output) and :func:`evaluate_many` (several outputs of the same
sequence) compute every requested metric in one pass over the frames:

- each frame's LPIPS backbone features are computed once and reused for LPIPS(O_t, G_t) and for
  both tLP terms of the pairs (t-1, t) and (t, t+1): two backbone passes per frame instead of six;
- with several outputs, the GT side (decoding, LPIPS features, optical flows, the GT's tLP
  distances) is computed once per frame for all of them;
- E_warp reuses the GT flow t-1 -> t that tOF computes; only the GT's backward flow t -> t-1
  (for the occlusion check) is added, once per frame for all outputs, like the occlusion mask;
- the Farneback flows of a pair, the decoding of the next frames and (on CPU) the two
  single-threaded LPIPS passes run in worker threads (OpenCV and torch release the GIL), while
  PSNR / SSIM run on the main thread; on CUDA, LPIPS is one batched pass on the GPU.

The numbers are identical to the straightforward loop (:mod:`vsrbench.reference`).
"""
from __future__ import annotations

import os
import threading
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from vsrbench.core.device import ieee_fp32, resolve_device
from vsrbench.core.errors import InputError, VsrbenchWarning
from vsrbench.core.io import FrameSequence, pair_frames
from vsrbench.metrics.aggregate import MetricAccumulator
from vsrbench.metrics.extension import Clip, is_extension, scorer_of
from vsrbench.metrics.info import METRICS, check_metrics
from vsrbench.metrics.protocol import Protocol, get_protocol
from vsrbench.metrics._kernels import (
    as_batch, color_planes, crop, flow, flow_batch, flow_difference, flow_difference_batch, get_lpips, grey, grey_batch,
    match_sizes, occlusion_mask, psnr_planes, quantize255, sampling, scores_u8, size_rule_note, ssim_data_range,
    ssim_input, ssim_planes, to_lpips_input, warp_error,
)

__all__ = [
    "PIPELINES", "DEFAULT_CHUNK", "SequenceScores", "check_lengths", "LARGE_FRAME",
    "FLOW_BYTES_PER_PIXEL", "FLOW_MEMORY", "flow_slots", "evaluate_sequence", "evaluate_many",
]

_FLOW_METRICS = frozenset({"tof", "ewarp"})  # the metrics that need the GT's optical flow
PIPELINES = ("auto", "frames", "batched")
DEFAULT_CHUNK = 16  # frames per batch of the batched pipeline on CPU and on GPUs under 64 GB


def _default_chunk(dev: torch.device) -> int:
    """Frames per batch of the batched pipeline: 32 on a GPU with 64 GB or more (a chunk of 720x576 frames
    with the torch Farneback takes ~10 GB at its peak; larger batches run the flows ~10% faster), else 16."""
    if dev.type == "cuda" and torch.cuda.get_device_properties(dev).total_memory >= 64 * 2 ** 30:
        return 32
    return DEFAULT_CHUNK


@dataclass
class SequenceScores:
    """Per-frame results of one sequence: ``rows`` are ``(frame, metric, value)``; ``frame_names`` are
    the GT frames' names and ``pred_names`` the names of the output frames paired with them
    (:func:`vsrbench.core.io.pair_frames`)."""

    name: str
    protocol: Protocol
    rows: list[tuple[int, str, float]] = field(default_factory=list)
    frame_names: list[str] = field(default_factory=list)
    pred_names: list[str] = field(default_factory=list)

    @property
    def means(self) -> dict[str, float]:
        """Per-metric means over the finite values (the accumulator's rule)."""
        acc = MetricAccumulator()
        acc.update(self.name, self.rows)
        return {m: acc.sequence_means(m)[self.name] for m in acc.metrics}

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
    temporal = [m for m in metrics if METRICS[m].temporal]
    only = getattr(pred, "only_index", None)
    if only is not None and protocol.scored_frames(len(gt)) != [only]:
        raise InputError(f"sequence {gt.name!r}: the output holds only its centre frame "
                         f"({pred.frame_name(only)}), so it can only be scored with frames_scored=center, "
                         f"not under protocol {protocol.name}")
    if protocol.frame_subset:
        which = "the centre frame" if protocol.frames_scored == "center" else f"frames {protocol.frames_scored}"
        if temporal:
            raise InputError(f"{', '.join(temporal)}: temporal metrics are not defined when only {which} "
                             f"is scored (protocol {protocol.name}); score them under another protocol")
        if not protocol.scored_frames(len(gt)):
            raise InputError(f"sequence {gt.name!r} has {len(gt)} frames: none of {which} (protocol {protocol.name})")
        return
    cut = protocol.cut_frames
    need = 2 * cut + (2 if temporal else 1)
    if len(gt) < need:
        which = "temporal metrics need" if need == 2 * cut + 2 else "scoring needs"
        raise InputError(f"sequence {gt.name!r} has {len(gt)} frames; {which} at least {need} "
                         f"with {cut} frame(s) cut at each end (protocol {protocol.name})")


def _u8_hwc(t: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) 0..255 tensor -> (H, W, 3) uint8 NumPy (for OpenCV)."""
    return np.ascontiguousarray(t[0].to(torch.uint8).permute(1, 2, 0).cpu().numpy())


def _hwc(t: torch.Tensor) -> np.ndarray:
    """(1, 3, h, w) uint8 CPU tensor -> (h, w, 3) array: a view where OpenCV can read it (rows may be apart)."""
    a = t[0].permute(1, 2, 0).numpy()
    return a if a.strides[-1] == 1 and a.strides[-2] == 3 else np.ascontiguousarray(a)


def _on_grid(t: torch.Tensor, dev: torch.device) -> torch.Tensor:
    """Frames on the 8-bit grid (:func:`quantize255`): uint8 on CPU (no float64 copy of a whole frame; 8-bit
    frames stay the decoded array), float64 0..255 for another device."""
    if dev.type != "cpu":
        return quantize255(t)
    return t if t.dtype == torch.uint8 else quantize255(t).to(torch.uint8)


LARGE_FRAME = 1 << 22  # pixels (4K and up): one frame decoded ahead instead of two
FLOW_BYTES_PER_PIXEL = 75  # OpenCV's Farneback at its peak (tecogan's parameters): ~2.5 GB for a 7680x4320 pair
FLOW_MEMORY = 3 << 29  # bytes: flows of one sequence computed at once stay under 1.5 GB (at least one)


def flow_slots(pixels: int) -> int:
    """How many flows of frames of ``pixels`` pixels the CPU pipeline computes at once: up to 4 (its threads),
    fewer for large frames (2 at 4K, 1 at 8K), so that their working memory stays under :data:`FLOW_MEMORY`."""
    return max(1, min(4, FLOW_MEMORY // (FLOW_BYTES_PER_PIXEL * max(1, pixels))))


def _pixels(frame) -> int:
    """Pixels of a decoded frame ((H, W, 3) array or (3, H, W) tensor)."""
    return int(np.prod(np.shape(frame))) // 3


def evaluate_sequence(
    pred,
    gt,
    *,
    protocol: "str | Protocol" = "tecogan",
    metrics: Sequence[str] | None = None,
    device: "str | torch.device | None" = "auto",
    lpips_weights=None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    name: str | None = None,
    pipeline: str = "auto",
    chunk: int | None = None,
    options: Mapping[str, dict] | None = None,
    weights: Mapping[str, object] | None = None,
) -> SequenceScores:
    """Score one output sequence against its ground truth: ``(pred, gt)``, like every metric.

    Parameters
    ----------
    pred, gt : FrameSequence or sequence of numpy.ndarray
        :class:`~vsrbench.core.io.FrameSequence` objects (:func:`~vsrbench.core.io.open_sequence`) or
        lists of frames (RGB uint8 (H, W, 3), or float in [0, 1]).
    protocol : str or Protocol
        A preset name (``"tecogan"``, ``"basicsr-y"``, ...) or a :class:`~vsrbench.metrics.protocol.Protocol`.
    metrics : sequence of str, optional
        Metric names (``vsrbench metrics`` lists them); default the protocol's ``default_metrics``.
    device : str or torch.device, optional
        ``"auto"`` (default: CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    lpips_weights : str or os.PathLike, optional
        The LPIPS backbone file (or a folder holding it), for ``lpips`` and ``tlp``; looked up locally when None.
    progress : callable, optional
        ``progress(n)`` is called after each frame (with the number of frames scored since the last call).
    workers : int, optional
        Worker threads (default 4 for ``"frames"``; for ``"batched"`` the CPU count, between 8 and 32).
    name : str, optional
        The sequence's name in the result and in messages (default the GT's name).
    pipeline : str
        ``"frames"`` scores frame by frame with worker threads (the CPU pipeline),
        ``"batched"`` scores ``chunk`` frames at a time as batched tensor operations on the device, with
        the next two chunks decoded ahead in background threads (the GPU pipeline; one host transfer of the
        scores per sequence when the flow is ``farneback-torch``), ``"auto"`` (default) picks
        ``batched`` on CUDA and ``frames`` on CPU. Both give the same numbers (to round-off: LPIPS's
        convolutions may sum in another order for a batch).
    chunk : int, optional
        Frames per batch of the ``"batched"`` pipeline (default :func:`_default_chunk`: 32 on a GPU with
        64 GB or more, else 16).
    options : mapping of str to dict, optional
        Settings of the metrics computed by a scorer (:mod:`vsrbench.metrics.extension`), per metric
        family (e.g. ``{"dover": {"seed": 0}}``).
    weights : mapping of str to path, optional
        Explicit paths of those metrics' weights files by name (``vsrbench weights list``); else looked up locally.

    Returns
    -------
    SequenceScores
        The per-frame ``rows`` ``(frame, metric, value)``, the frames' names, and per-metric ``means``.

    Raises
    ------
    vsrbench.core.errors.InputError
        Frame counts that differ or are too short for the protocol's cut and the metrics, a temporal
        metric under a protocol that scores only the centre frame, frames of another shape or type, or a
        CUDA device that is not there.
    vsrbench.core.errors.UnknownNameError
        An unknown protocol, metric or pipeline name.
    vsrbench.core.errors.WeightsError
        ``lpips`` or ``tlp`` requested and the backbone file is missing or not the published file.

    Examples
    --------
    >>> import numpy as np
    >>> gt = [np.full((32, 32, 3), 100, np.uint8)] * 3  # a still scene
    >>> out = [f + 10 for f in gt]  # every value 10 levels too bright: MSE 100
    >>> scores = evaluate_sequence(out, gt, protocol="basicsr-rgb", metrics=["psnr", "tof"])
    >>> scores.rows[:3]  # (frame, metric, value); tOF belongs to the second frame of each pair
    [(0, 'psnr', 28.13...), (1, 'psnr', 28.13...), (1, 'tof', 0.0)]
    >>> {m: round(v, 4) for m, v in scores.means.items()}  # 10 log10(255^2 / 100)
    {'psnr': 28.1308, 'tof': 0.0}
    """
    return evaluate_many({"": pred}, gt, protocol=protocol, metrics=metrics, device=device,
                         lpips_weights=lpips_weights, progress=progress, workers=workers, name=name,
                         pipeline=pipeline, chunk=chunk, options=options, weights=weights)[""]


def evaluate_many(
    preds: Mapping[str, object],
    gt,
    *,
    protocol: "str | Protocol" = "tecogan",
    metrics: Sequence[str] | None = None,
    device: "str | torch.device | None" = "auto",
    lpips_weights=None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    name: str | None = None,
    pipeline: str = "auto",
    chunk: int | None = None,
    options: Mapping[str, dict] | None = None,
    weights: Mapping[str, object] | None = None,
) -> dict[str, SequenceScores]:
    """Score several outputs of one sequence (``{method: frames}``) against the same ground truth.

    Each result equals :func:`evaluate_sequence` of that output alone; the GT side of the work
    (decoding, its LPIPS features, its optical flows and its tLP distances) is done once per
    frame for all outputs.

    Parameters
    ----------
    preds : mapping of str to FrameSequence or sequence of numpy.ndarray
        ``{method: frames}``: the outputs, each as ``pred`` of :func:`evaluate_sequence`.
    gt : FrameSequence or sequence of numpy.ndarray
        The one ground truth they are scored against.
    protocol, metrics, device, lpips_weights, workers, name, pipeline, chunk, options, weights
        As for :func:`evaluate_sequence`.
    progress : callable, optional
        ``progress(n)`` is called after each frame with the number of outputs scored on it.

    Returns
    -------
    dict of str to SequenceScores
        One result per key of ``preds``.

    Raises
    ------
    vsrbench.core.errors.InputError
        ``preds`` not a mapping (or ``gt`` one), no output, and the errors of :func:`evaluate_sequence`.
    vsrbench.core.errors.UnknownNameError
        An unknown protocol, metric or pipeline name.
    vsrbench.core.errors.WeightsError
        ``lpips`` or ``tlp`` requested and the backbone file is missing or not the published file.

    Examples
    --------
    >>> import numpy as np
    >>> gt = [np.full((32, 32, 3), 100, np.uint8)] * 3
    >>> preds = {"a": [f + 10 for f in gt], "b": [f + 5 for f in gt]}  # MSE 100 and 25
    >>> scores = evaluate_many(preds, gt, protocol="basicsr-rgb", metrics=["psnr"])
    >>> {k: round(s.means["psnr"], 4) for k, s in scores.items()}
    {'a': 28.1308, 'b': 34.1514}
    """
    if not isinstance(preds, Mapping) or isinstance(gt, Mapping):
        raise InputError("evaluate_many(preds, gt): preds must be a mapping {method: frames} and gt one sequence "
                         f"(got {type(preds).__name__} and {type(gt).__name__}); the order is (pred, gt), like every metric")
    proto = get_protocol(protocol)
    metrics = check_metrics(metrics or proto.default_metrics)
    if not preds:
        raise InputError("no output sequence to score")
    gt_seq = _as_sequence(gt, name or "sequence")
    outs = {k: pair_frames(gt_seq, _as_sequence(v, name or "sequence")).aligned() for k, v in preds.items()}
    for seq in outs.values():
        check_lengths(gt_seq, seq, proto, metrics)
    _warn_input_notes(name or gt_seq.name, gt_seq, outs)
    dev = resolve_device(device)
    model = None
    if set(metrics) & {"lpips", "tlp"}:
        model = get_lpips(proto.lpips_net, proto.lpips_version, lpips_weights, dev)
    label = name or gt_seq.name
    frame_names = [gt_seq.frame_name(i) for i in range(len(gt_seq))]
    scores = {k: SequenceScores(name=label, protocol=proto, frame_names=frame_names,
                                pred_names=[seq.frame_name(i) for i in range(len(seq))]) for k, seq in outs.items()}
    if pipeline not in PIPELINES:
        from vsrbench.core.errors import UnknownNameError

        raise UnknownNameError("pipeline", pipeline, PIPELINES)
    batched = pipeline == "batched" or (pipeline == "auto" and dev.type == "cuda")
    threads = workers or (max(8, min(32, os.cpu_count() or 1)) if batched else 4)  # batched: decoding, OpenCV flows
    builtin = {m for m in metrics if not is_extension(METRICS[m])}
    if builtin:
        with ThreadPoolExecutor(max_workers=threads) as pool, \
                _single_torch_thread(dev.type == "cpu"), ieee_fp32(dev.type == "cuda"):
            if batched:
                _BatchPass(proto, builtin, dev, model, pool, gt_seq, outs, scores, label, frame_names,
                           _default_chunk(dev) if chunk is None else chunk).run(progress)
            else:
                _Pass(proto, builtin, dev, model, pool, gt_seq, outs, scores, label, frame_names).run(progress)
    _score_extensions([m for m in metrics if m not in builtin], proto, dev, gt_seq, outs, scores, label,
                      None if builtin else progress, options or {}, weights or {})
    order = {m: i for i, m in enumerate(metrics)}
    for sc in scores.values():
        sc.rows.sort(key=lambda r: (r[0], order[r[1]]))
    return scores


def _score_extensions(names, proto: Protocol, dev, gt_seq, outs, scores, label: str, progress, options: dict,
                      weights: dict) -> None:
    """The metrics computed by a scorer (:mod:`vsrbench.metrics.extension`), one call per metric and output;
    ``progress`` (when the built-in pass did not report the frames already) gets each output's scored frames."""
    for key, seq in outs.items():
        frames = tuple(proto.scored_frames(len(seq)))
        for m in names:
            info = METRICS[m]  # a no-reference metric never sees the GT
            clip = Clip(name=label, pred=seq, gt=gt_seq if info.reference else None, frames=frames, protocol=proto,
                        device=dev, options=options.get(info.family or m, {}), weights=weights)
            scores[key].rows.extend((int(t), m, float(v)) for t, v in scorer_of(METRICS[m])(clip))
        if progress is not None:
            progress(len(frames))


def _who(label: str, key) -> str:
    """``sequence 'x'`` (evaluate_sequence) or ``sequence 'x', method 'm'`` (several outputs)."""
    return f"sequence {label!r}" + (f", method {key!r}" if key != "" else "")


def _warn_input_notes(label: str, gt: FrameSequence, outs: Mapping[str, FrameSequence]) -> None:
    """Once per sequence: what decoding changes about the stored frames (gray, alpha, 16-bit,
    lossy video), for the GT and each output."""
    for note in gt.input_notes():
        warnings.warn(f"sequence {label!r}: GT {note}", VsrbenchWarning, stacklevel=3)
    for key, seq in outs.items():
        for note in seq.input_notes():
            warnings.warn(f"{_who(label, key)}: output {note}", VsrbenchWarning, stacklevel=3)


class _Pass:
    """One pass over the scored frames of a sequence, for one GT and any number of outputs.

    GT-derived values are kept per GT size, because the ``crop-both`` size rule may cut GT
    differently for each output; with the other rules there is one GT size.
    """

    def __init__(self, proto, want, dev, model, pool, gt_seq, outs, scores, label, frame_names):
        self.proto, self.want, self.dev, self.model, self.pool = proto, want, dev, model, pool
        self.gt_seq, self.outs, self.scores, self.label, self.frame_names = gt_seq, outs, scores, label, frame_names
        self.gt_prev: dict = {}  # GT size -> (grey, LPIPS features) of the previous scored frame
        self.out_prev: dict = {}  # method -> (grey, LPIPS features) of its previous scored frame
        self.flow_jobs: list = []  # (method, t, tOF future)
        self.ewarp_jobs: list = []  # (method, t, E_warp future)
        self.size_noted: set = set()  # methods whose size-rule cut was warned about
        self.flow_slots: threading.BoundedSemaphore | None = None  # flows at once (set by the first frame's size)

    def run(self, progress) -> None:
        idx = self.proto.scored_frames(len(self.gt_seq))
        pending = {idx[0]: self.load(idx[0])}
        for k, t in enumerate(idx):
            frames = (pending.pop(t) if t in pending else self.load(t)).result()
            ahead = self.ahead(_pixels(frames[0]))
            for i in idx[k + 1:k + 1 + ahead]:
                if i not in pending:
                    pending[i] = self.load(i)
            self.frame(t, *frames)
            del frames
            limit = 2 * len(self.outs) if ahead else 0  # 0: this frame's flows end before the next frame is read
            while self.flow_jobs and (self.flow_jobs[0][2].done() or len(self.flow_jobs) > limit):
                self.collect_flow(self.flow_jobs.pop(0))
            while self.ewarp_jobs and (self.ewarp_jobs[0][2].done() or len(self.ewarp_jobs) > limit):
                self.collect_ewarp(self.ewarp_jobs.pop(0))
            if progress:
                progress(len(self.outs))
        for job in self.flow_jobs:
            self.collect_flow(job)
        for job in self.ewarp_jobs:
            self.collect_ewarp(job)

    def ahead(self, pixels: int) -> int:
        """Frames decoded ahead: 2; 1 for frames over :data:`LARGE_FRAME` pixels; none when the frames are
        so large that one flow at a time is computed (then nothing else is decoded while it runs)."""
        if pixels <= LARGE_FRAME:
            return 2
        return 0 if self.want & _FLOW_METRICS and flow_slots(pixels) == 1 else 1

    def load(self, i: int) -> Future:
        return self.pool.submit(lambda: (self.gt_seq[i], {k: s[i] for k, s in self.outs.items()}))

    def features(self, x: torch.Tensor):
        """LPIPS features of (1, 3, h, w) 0..255 frames (uint8 on CPU): a single-threaded pass in a worker on CPU."""
        if self.dev.type == "cpu":
            return self.pool.submit(self.model.features, to_lpips_input(x.to(torch.float64)))
        done: Future = Future()
        done.set_result(self.model.features(to_lpips_input(x)))
        return done

    def flow(self, prev_grey: np.ndarray, cur_grey: np.ndarray) -> np.ndarray:
        """The protocol's flow, with at most :func:`flow_slots` flows computed at once."""
        with self.flow_slots:
            return flow(prev_grey, cur_grey, self.proto)

    def tof(self, g_flow: Future, prev_grey: np.ndarray, cur_grey: np.ndarray) -> float:
        """One output pair's tOF, in a worker: its flow, then the difference to the GT's (``g_flow``, submitted
        before it: the pool is FIFO), so that no flow field outlives its pair."""
        return flow_difference(g_flow.result(), self.flow(prev_grey, cur_grey), self.proto)

    def frame(self, t: int, g_raw, p_raws: dict) -> None:
        """Score frame ``t`` of every output: spatial metrics now, flows and LPIPS features in workers."""
        what = f"sequence {self.label!r}, frame {t} ({self.frame_names[t]})"
        g0, _ = as_batch(g_raw, f"{what} GT")
        g0 = _on_grid(g0, self.dev)
        if self.flow_slots is None:
            self.flow_slots = threading.BoundedSemaphore(flow_slots(g0.shape[-2] * g0.shape[-1]))
        gt_now: dict = {}  # GT size -> [grey, features future, cropped GT, flow future or None, _GtMotion or None]
        work = {key: self.output(t, key, p_raw, g0, gt_now, what) for key, p_raw in p_raws.items()}
        self.spatial_rows(t, work, gt_now)
        self.lpips_rows(t, work, gt_now)
        self.gt_prev = {size: (v[0], v[1].result() if v[1] is not None else None) for size, v in gt_now.items()}

    def gt_values(self, g: torch.Tensor) -> list:
        """The GT-derived values of one GT size: grey, LPIPS features, the cropped GT, and the flow jobs
        against the previous scored frame of that size."""
        proto, want = self.proto, self.want
        size = tuple(g.shape[-2:])
        g_grey = grey(_u8_hwc(g)) if want & _FLOW_METRICS else None
        gc = crop(g.to(self.dev), proto)
        g_feats = self.features(gc) if self.model is not None else None
        prev = self.gt_prev.get(size)
        g_flow = self.pool.submit(self.flow, prev[0], g_grey) if want & _FLOW_METRICS and prev is not None else None
        g_motion = (_GtMotion(g_flow, self.pool.submit(self.flow, g_grey, prev[0]))
                    if "ewarp" in want and prev is not None else None)
        return [g_grey, g_feats, gc, g_flow, g_motion]

    def output(self, t: int, key, p_raw, g0: torch.Tensor, gt_now: dict, what: str) -> tuple:
        """One output's frame ``t``: its size rule against the GT, its tOF / E_warp jobs; returns
        ``(GT size, cropped output, grey, uint8 frame, LPIPS features future)``."""
        proto, want = self.proto, self.want
        p, _ = as_batch(p_raw, f"{what} output")
        note = size_rule_note(tuple(p.shape[-2:]), tuple(g0.shape[-2:]), proto.size_rule)
        if note and key not in self.size_noted:  # once per sequence and output, not per frame
            self.size_noted.add(key)
            warnings.warn(f"{_who(self.label, key)}: {note}", VsrbenchWarning, stacklevel=5)
        p, g = match_sizes(_on_grid(p, self.dev), g0, proto.size_rule, what, warn=False)
        size = tuple(g.shape[-2:])
        if size not in gt_now:
            gt_now[size] = self.gt_values(g)
        g_grey, g_feats, gc, g_flow, g_motion = gt_now[size]
        p_u8 = _u8_hwc(p) if want & _FLOW_METRICS else None  # converted once for tOF and E_warp
        p_grey = grey(p_u8) if "tof" in want else None
        prev_p = self.out_prev.get(key)
        if "tof" in want and g_flow is not None and prev_p is not None:
            self.flow_jobs.append((key, t, self.pool.submit(self.tof, g_flow, prev_p[0], p_grey)))
        if g_motion is not None and prev_p is not None:
            # in a worker: it waits only on the GT flows, submitted before it (the pool is FIFO)
            self.ewarp_jobs.append((key, t, self.pool.submit(g_motion.warp_error, prev_p[2], p_u8, proto)))
        pc = crop(p.to(self.dev), proto)
        return size, pc, p_grey, p_u8, self.features(pc) if self.model is not None else None

    def spatial_rows(self, t: int, work: dict, gt_now: dict) -> None:
        """PSNR and SSIM of frame ``t`` for every output (on CPU from the uint8 frames, in strips of rows)."""
        proto, want = self.proto, self.want
        if not want & {"psnr", "ssim"}:
            return
        for key, (size, pc, _, _, _) in work.items():
            rows = self.scores[key].rows
            gc = gt_now[size][2]
            if self.dev.type == "cpu":
                values = scores_u8(_hwc(pc), _hwc(gc), proto, want & {"psnr", "ssim"})
                rows.extend((t, m, values[m]) for m in ("psnr", "ssim") if m in values)
                continue
            pp, gg = color_planes(pc.to(torch.float64), proto), color_planes(gc.to(torch.float64), proto)
            if "psnr" in want:
                rows.append((t, "psnr", float(psnr_planes(pp, gg, proto.psnr_eps)[0])))
            if "ssim" in want:
                pp, gg = ssim_input(pc.to(torch.float64), proto), ssim_input(gc.to(torch.float64), proto)
                rows.append((t, "ssim", float(ssim_planes(pp, gg, proto.ssim, ssim_data_range(pp, proto))[0])))

    def lpips_rows(self, t: int, work: dict, gt_now: dict) -> None:
        """LPIPS and tLP of frame ``t`` for every output; keeps what the next frame's temporal metrics need."""
        proto, want = self.proto, self.want
        gt_dist: dict = {}  # GT size -> LPIPS(G_t-1, G_t), once per frame
        for key, (size, pc, p_grey, p_u8, p_feats) in work.items():
            fg = gt_now[size][1].result() if self.model is not None else None
            fp = p_feats.result() if p_feats is not None else None
            prev_p = self.out_prev.get(key)
            rows = self.scores[key].rows
            if "lpips" in want:
                rows.append((t, "lpips", float(self.model.distance(fp, fg)[0])))
            if "tlp" in want and prev_p is not None and size in self.gt_prev:
                if size not in gt_dist:
                    gt_dist[size] = float(self.model.distance(self.gt_prev[size][1], fg)[0])
                d_out = float(self.model.distance(prev_p[1], fp)[0])
                rows.append((t, "tlp", proto.tlp_scale * abs(gt_dist[size] - d_out)))
            self.out_prev[key] = (p_grey, fp, p_u8 if "ewarp" in want else None)

    def collect_flow(self, job) -> None:
        key, t, value = job
        self.scores[key].rows.append((t, "tof", value.result()))

    def collect_ewarp(self, job) -> None:
        key, t, value = job
        self.scores[key].rows.append((t, "ewarp", value.result()))


class _BatchPass:
    """The batched pipeline: the scored frames of a sequence in chunks of ``chunk`` frames, each metric
    one batched tensor operation per chunk on the device, for one GT and any number of outputs.

    The next two chunks are decoded by the thread pool while the device works on this one; 8-bit
    frames are uploaded as uint8. Pairs ``(t-1, t)`` across a chunk boundary use the previous chunk's
    last frame (its grey image and LPIPS features are kept). GT-derived values (cropped frames, LPIPS
    features, grey images, flows) are computed once per chunk and GT size for every output, and every
    flow of a chunk (the GT's and each output's pairs) is one batched call of the torch Farneback
    (``flow="farneback-torch"``; OpenCV's runs pair by pair in the pool's threads). Scores stay on the
    device until the end of the sequence (one transfer), except E_warp (computed on the host from the
    flows, as :func:`~vsrbench.metrics.temporal.warp_error`).
    """

    AHEAD = 2  # chunks decoded ahead

    def __init__(self, proto, want, dev, model, pool, gt_seq, outs, scores, label, frame_names, chunk: int):
        if chunk < 1:
            raise InputError(f"chunk: expected a number of frames >= 1, got {chunk}")
        self.proto, self.want, self.dev, self.model, self.pool = proto, want, dev, model, pool
        self.gt_seq, self.outs, self.scores, self.label, self.frame_names = gt_seq, outs, scores, label, frame_names
        self.chunk = chunk
        self.torch_flow = proto.flow == "farneback-torch"
        self.gt_last: dict = {}  # GT size -> {"grey", "feats"} of the previous scored frame
        self.out_last: dict = {}  # method -> {"grey", "feats", "u8"} of its previous scored frame
        self.values: list = []  # (method, metric, frame indices, (n,) tensor on the device)
        self.size_noted: set = set()

    def run(self, progress) -> None:
        idx = self.proto.scored_frames(len(self.gt_seq))
        chunks = [idx[i:i + self.chunk] for i in range(0, len(idx), self.chunk)]
        ahead = [self.load(ts) for ts in chunks[:self.AHEAD]]
        for c, ts in enumerate(chunks):
            loaded = [f.result() for f in ahead.pop(0)]
            if c + self.AHEAD < len(chunks):
                ahead.append(self.load(chunks[c + self.AHEAD]))
            self.run_chunk(ts, loaded)
            if progress:
                progress(len(ts) * len(self.outs))
        for key, metric, ts, vals in self.values:  # one transfer per score vector, after all the work was queued
            self.scores[key].rows.extend(zip(ts, [metric] * len(ts), vals.cpu().tolist()))

    def load(self, ts) -> list[Future]:
        return [self.pool.submit(lambda i=i: (self.gt_seq[i], {k: s[i] for k, s in self.outs.items()})) for i in ts]

    def upload(self, raws, ts, what: str) -> torch.Tensor:
        """Frames -> (n, 3, H, W) float64 0..255 on the device (8-bit frames travel as uint8)."""
        items = [as_batch(r, f"sequence {self.label!r}, frame {t} ({self.frame_names[t]}) {what}")[0]
                 for r, t in zip(raws, ts)]
        for t, x in zip(ts[1:], items[1:]):
            if x.shape != items[0].shape:
                raise InputError(f"sequence {self.label!r}: {what} frame {t} is {x.shape[-1]}x{x.shape[-2]} but frame "
                                 f"{ts[0]} is {items[0].shape[-1]}x{items[0].shape[-2]}: frames of a sequence must "
                                 "have one size")
        return quantize255(torch.cat(items).to(self.dev))

    def grey(self, x: torch.Tensor) -> torch.Tensor:
        """(n, 3, H, W) 0..255 -> (n, H, W) uint8 grey: on the device for the torch flow, OpenCV's otherwise."""
        if self.torch_flow:
            return grey_batch(x)
        u8 = x.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        return torch.from_numpy(np.stack([grey(np.ascontiguousarray(f)) for f in u8]))

    def flows(self, requests: dict) -> dict:
        """``{owner: (frames t-1, frames t)}`` -> ``{owner: flows}``: one :func:`flow_batch` per frame size
        (one batched call of the torch flow; OpenCV's pairs in the pool's threads)."""
        out: dict = {}
        by_size: dict = {}
        for k, (a, b) in requests.items():
            by_size.setdefault(tuple(a.shape[1:]), []).append(k)
        for keys in by_size.values():
            a = torch.cat([requests[k][0] for k in keys])
            b = torch.cat([requests[k][1] for k in keys])
            fl = flow_batch(a, b, self.proto, self.pool)
            start = 0
            for k in keys:
                n = len(requests[k][0])
                out[k], start = fl[start:start + n], start + n
        return out

    def features(self, x: torch.Tensor):
        return self.model.features(to_lpips_input(x))

    def run_chunk(self, ts: list[int], loaded) -> None:
        proto, want = self.proto, self.want
        g_all = self.upload([g for g, _ in loaded], ts, "GT")
        gt_now: dict = {}  # GT size -> what every output of that size shares in this chunk
        mine: dict = {}  # method -> (output frames after the size rule, GT size, its own values)
        for key in self.outs:
            p = self.upload([o[key] for _, o in loaded], ts, "output")
            note = size_rule_note(tuple(p.shape[-2:]), tuple(g_all.shape[-2:]), proto.size_rule)
            if note and key not in self.size_noted:
                self.size_noted.add(key)
                warnings.warn(f"{_who(self.label, key)}: {note}", VsrbenchWarning, stacklevel=4)
            p, g = match_sizes(p, g_all, proto.size_rule, f"sequence {self.label!r}, frames {ts[0]}..{ts[-1]}",
                               warn=False)
            size = tuple(g.shape[-2:])
            if size not in gt_now:
                gt_now[size] = {"g": g}
            mine[key] = (p, size, {})
        requests: dict = {}  # every flow of the chunk, computed together
        for size, now in gt_now.items():
            last = self.gt_last.get(size)
            g = now.pop("g")
            now["gc"] = crop(g, proto)
            if self.model is not None:
                now["feats"] = self.features(now["gc"])
            if want & _FLOW_METRICS:
                now["grey"] = self.grey(g)
                a, b, now["first"] = _pairs(last and last["grey"], now["grey"])
                requests[("gt", size)] = (a, b)
                if "ewarp" in want:
                    requests[("gt-back", size)] = (b, a)
        for key, (p, size, own) in mine.items():
            if want & _FLOW_METRICS:
                last = self.out_last.get(key)
                own["grey"] = self.grey(p)
                if "tof" in want:
                    a, b, _ = _pairs(last and last["grey"], own["grey"])
                    requests[("out", key)] = (a, b)
        flows = self.flows(requests) if requests else {}
        for size, now in gt_now.items():
            last = self.gt_last.get(size)
            if self.model is not None and "tlp" in want:
                a, b, now["tlp_first"] = _pairs(last and last["feats"], now["feats"])
                now["dist"] = self.model.distance(a, b).double()
            if want & _FLOW_METRICS:
                now["fw"] = flows[("gt", size)]
            if "ewarp" in want:
                now["motion"] = []  # per pair: (fw, bw, sampling, occlusion mask) on the host
                for fw, bw in zip(now["fw"].cpu().numpy(), flows[("gt-back", size)].cpu().numpy()):
                    at = sampling(fw)
                    now["motion"].append((fw, bw, at, occlusion_mask(fw, bw, at=at)))
        for key, (p, size, own) in mine.items():
            self.output_side(key, p, gt_now[size], ts, own, flows.get(("out", key)))
        for size, now in gt_now.items():
            self.gt_last[size] = {k: _last(now[k]) for k in ("grey", "feats") if k in now}

    def output_side(self, key, p: torch.Tensor, gt: dict, ts: list[int], own: dict, out_flow) -> None:
        proto, want, last = self.proto, self.want, self.out_last.get(key)
        pc = crop(p, proto)
        if want & {"psnr", "ssim"}:
            pp, gg = color_planes(pc, proto), color_planes(gt["gc"], proto)
            if "psnr" in want:
                self.values.append((key, "psnr", ts, psnr_planes(pp, gg, proto.psnr_eps)))
            if "ssim" in want:
                pp, gg = ssim_input(pc, proto), ssim_input(gt["gc"], proto)
                self.values.append((key, "ssim", ts, ssim_planes(pp, gg, proto.ssim, ssim_data_range(pp, proto))))
        if self.model is not None:
            own["feats"] = self.features(pc)
            if "lpips" in want:
                self.values.append((key, "lpips", ts, self.model.distance(own["feats"], gt["feats"]).double()))
            if "tlp" in want:
                a, b, first = _pairs(last and last["feats"], own["feats"])
                # the GT's pairs start where this output's do (every output of a sequence has its frames)
                d_gt = gt["dist"][first - gt["tlp_first"]:]
                self.values.append((key, "tlp", ts[first:],
                                    proto.tlp_scale * (d_gt - self.model.distance(a, b).double()).abs()))
        if want & _FLOW_METRICS:
            first = 1 if last is None else 0
            if "tof" in want:
                fw = gt["fw"][first - gt["first"]:]
                self.values.append((key, "tof", ts[first:], flow_difference_batch(fw, out_flow, proto)))
            if "ewarp" in want:
                own["u8"] = p.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
                prev_u8, cur_u8, first = _pairs(last and last["u8"], own["u8"])
                motion = gt["motion"][first - gt["first"]:]
                vals = [warp_error(a, b, m[0], m[1], proto, m[3], m[2]) for a, b, m in zip(prev_u8, cur_u8, motion)]
                self.values.append((key, "ewarp", ts[first:], torch.tensor(vals, dtype=torch.float64)))
        self.out_last[key] = {k: _last(v) for k, v in own.items()}


def _last(v):
    """The last frame's entry of a batched value (a tensor, an array or a list of feature tensors)."""
    if isinstance(v, list):
        return [x[-1:] for x in v]
    return v[-1:]


def _pairs(prev_last, cur):
    """The pairs (t-1, t) of a chunk: ``(a, b, first)`` with ``a`` the frames t-1, ``b`` the frames t and
    ``first`` the chunk index of the first t (1 when there is no previous frame). Works on tensors and on
    lists of feature tensors."""
    if isinstance(cur, list):
        if prev_last is None:
            return [c[:-1] for c in cur], [c[1:] for c in cur], 1
        return [torch.cat([p, c[:-1]]) for p, c in zip(prev_last, cur)], cur, 0
    if prev_last is None:
        return cur[:-1], cur[1:], 1
    if isinstance(cur, np.ndarray):
        return np.concatenate([prev_last, cur[:-1]]), cur, 0
    return torch.cat([prev_last, cur[:-1]]), cur, 0


class _GtMotion:
    """The GT's flows of a pair (t-1 -> t, shared with tOF, and t -> t-1) and their occlusion mask,
    (and the sampling positions of the flow t-1 -> t), computed once for every output scored
    against this GT (by whichever worker needs it first)."""

    def __init__(self, fw: Future, bw: Future):
        self.fw, self.bw, self._lock = fw, bw, threading.Lock()
        self._occluded = self._at = None

    def warp_error(self, prev_u8: np.ndarray, cur_u8: np.ndarray, proto: Protocol) -> float:
        fw, bw = self.fw.result(), self.bw.result()
        with self._lock:
            if self._occluded is None:
                self._at = sampling(fw)
                self._occluded = occlusion_mask(fw, bw, at=self._at)
        return warp_error(prev_u8, cur_u8, fw, bw, proto, self._occluded, self._at)


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
