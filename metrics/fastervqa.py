"""FasterVQA (Wu et al., TPAMI 2023; FAST-VQA-B-3D) as ``VQAssessment/FAST-VQA-and-FasterVQA:vqa.py -m FasterVQA``
computes it, on a recorded seed.

- weights: the released ``FAST_VQA_3D_1_1.pth`` (``{"state_dict": {"fragments_backbone.*", "vqa_head.*"}}``),
  loaded strictly; network: FAST-VQA's Swin-3D (:mod:`vsrbench.metrics.video_swin`, its adaptive-window copy)
  and one ``VQAHead``;
- frames: ``vqa.py`` reads ``t_frag`` from the data options instead of the view options, so it never uses
  ``FragmentSampleFrames`` but ``SampleFrames(clip_len=32, num_clips=1)`` in test mode: 32 consecutive frames
  from ``int((n - 31) / 2)`` (from 0 when ``n < 32``), indices modulo ``n`` -- no randomness;
- view: ``get_spatial_fragments`` with ``options/fast/f3dvqa-b.yml`` (7x7 fragments of 32x32, ``aligned: 8``: one
  random offset per grid cell and 8-frame chunk, drawn by ``torch.randint``; here from a generator seeded
  ``seed``, equal to the original after ``torch.manual_seed(seed)``), ImageNet mean/std;
- score: the mean head output ``s`` (``fastervqa-raw``) and ``sigmoid((s - 0.14759505) / 0.03613452)``
  (``fastervqa``, ``vqa.py``'s ``mean_stds["FasterVQA"]``).

Options (family ``dover``): ``seed``, ``repeats`` as for :mod:`vsrbench.metrics.dover`.
"""
from __future__ import annotations

import functools
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from vsrbench.core.device import ieee_fp32
from vsrbench.core.errors import InputError, WeightsError
from vsrbench.metrics.dover import (
    Sampling, VQAHead, _check_frames, _Frames, _normalise, _options, _torch_load, _video,
    describe_state_dict, fragment_offsets, load_strict, technical_view,
)
from vsrbench.metrics.extension import MetricWeights, register_weights, require_weights
from vsrbench.metrics.video_swin import SwinTransformer3D

__all__ = ["FASTERVQA_MEAN", "FASTERVQA_STD", "FASTERVQA_SAMPLING", "FASTERVQA_WEIGHTS", "SCORER_SAMPLING",
           "FasterVQANet", "FasterVQAScores", "sample_frame_indices", "fastervqa_view", "load_fastervqa",
           "get_fastervqa", "sigmoid_rescale", "fastervqa_scores", "score_sigmoid", "score_raw"]

FASTERVQA_MEAN, FASTERVQA_STD = 0.14759505, 0.03613452
#: options/fast/f3dvqa-b.yml, val-kv1k: 7x7 fragments of 32, 32 frames, aligned 8, one clip
FASTERVQA_SAMPLING = Sampling(fragments=7, fsize=32, clip_len=32, frame_interval=1, num_clips=1, aligned=8)

FASTERVQA_WEIGHTS = MetricWeights(
    "fastervqa", "FAST_VQA_3D_1_1.pth",
    "https://github.com/TimothyHTimothy/FAST-VQA/releases/download/v2.0.0/FAST_VQA_3D_1_1.pth",
    "the FAST-VQA release v2.0.0 (VQAssessment/FAST-VQA-and-FasterVQA README, FasterVQA row)", None,
    "the released FasterVQA weights")
register_weights(FASTERVQA_WEIGHTS)


def sigmoid_rescale(score: float) -> float:
    """``vqa.py``'s ``sigmoid_rescale(score, "FasterVQA")``: a score in [0, 1]."""
    return 1.0 / (1.0 + math.exp(-(score - FASTERVQA_MEAN) / FASTERVQA_STD))


def sample_frame_indices(n: int, clip_len: int = 32) -> np.ndarray:
    """``SampleFrames(clip_len, frame_interval=1, num_clips=1)`` in test mode (deterministic)."""
    if n > clip_len - 1:
        start = int((n - clip_len + 1) / 2.0)
    else:
        start = 0
    return np.mod(start + np.arange(clip_len), n).astype(np.int32)


class FasterVQANet(nn.Module):
    """``DiViDeAddEvaluator`` of ``f3dvqa-b.yml``: ``fragments_backbone`` (Swin-3D) and ``vqa_head``."""

    def __init__(self):
        super().__init__()
        self.fragments_backbone = SwinTransformer3D(adaptive=True)
        self.vqa_head = VQAHead()

    @torch.inference_mode()
    def forward(self, view: torch.Tensor) -> float:
        """The raw score: mean head output over positions and clips."""
        return float(self.vqa_head(self.fragments_backbone(view)).mean())


def fastervqa_view(frames, seed: int = 0, *, s: Sampling = FASTERVQA_SAMPLING, device="cpu"):
    """The normalised fragment view ``(1, 3, 32, 224, 224)`` of seed ``seed`` and ``(indices, offsets_h,
    offsets_w)``."""
    idx = sample_frame_indices(len(frames), s.clip_len)
    video = _video(frames, idx, device)
    _, t, h, w = video.shape
    oh, ow = fragment_offsets(h, w, t // (1 if t == 1 else s.aligned), s, torch.Generator().manual_seed(seed))
    return _normalise(technical_view(video, s, oh, ow), s.num_clips), (idx, oh, ow)


def load_fastervqa(path, device="cpu") -> FasterVQANet:
    """:class:`FasterVQANet` with the weights of ``path`` (the file holds ``{"state_dict": ...}``), strictly."""
    obj = _torch_load(Path(path))
    if not isinstance(obj, dict) or "state_dict" not in obj:
        what = describe_state_dict(obj.keys()) if isinstance(obj, dict) else "not a state dict"
        raise WeightsError(f"weights file {str(path)!r} is not the FasterVQA weights (FAST_VQA_3D_1_1.pth): it looks "
                           f"like {what} (no 'state_dict' entry)")
    net = load_strict(FasterVQANet(), obj["state_dict"], path, "the FasterVQA weights (FAST_VQA_3D_1_1.pth)")
    return net.to(device)


@functools.lru_cache(maxsize=4)
def _cached(path: str, device: str) -> FasterVQANet:
    return load_fastervqa(path, device)


def get_fastervqa(weights=None, device="cpu") -> FasterVQANet:
    """The cached network for the weights file ``weights`` (a file or folder; else looked up locally)."""
    return _cached(str(require_weights("fastervqa", weights)), str(torch.device(device)))


@dataclass(frozen=True)
class FasterVQAScores:
    """Raw scores per seed; ``mean(sigmoid=...)`` and ``spread(sigmoid=...)`` over the seeds."""

    seeds: tuple[int, ...]
    raw: tuple[float, ...]

    def values(self, sigmoid: bool = True) -> np.ndarray:
        return np.array([sigmoid_rescale(r) if sigmoid else r for r in self.raw])

    def mean(self, sigmoid: bool = True) -> float:
        return float(self.values(sigmoid).mean())

    def spread(self, sigmoid: bool = True) -> float:
        v = self.values(sigmoid)
        return float(v.std(ddof=1)) if len(v) > 1 else 0.0


def fastervqa_scores(frames, *, seed: int = 0, repeats: int = 1, weights=None, device="cpu",
                     model: FasterVQANet | None = None, sampling: Sampling = FASTERVQA_SAMPLING,
                     name: str = "clip") -> FasterVQAScores:
    """FasterVQA's raw score on ``frames`` (RGB uint8 ``(H, W, 3)``) for seeds ``seed .. seed+repeats-1``."""
    if repeats < 1:
        raise InputError(f"FasterVQA repeats must be at least 1, got {repeats}")
    _check_frames(frames, name, sampling.fsize)
    net = model if model is not None else get_fastervqa(weights, device)
    dev = next(net.parameters()).device
    raw = []
    for s in range(seed, seed + repeats):
        view = fastervqa_view(frames, s, s=sampling, device=dev)[0]
        with ieee_fp32(torch.device(dev).type == "cuda"):
            raw.append(net(view))
    return FasterVQAScores(tuple(range(seed, seed + repeats)), tuple(raw))


_RESULTS: OrderedDict = OrderedDict()
SCORER_SAMPLING = FASTERVQA_SAMPLING  # what the scorers use (f3dvqa-b.yml); tests make it smaller


def _clip_scores(clip) -> FasterVQAScores:
    seed, repeats, _ = _options(clip)
    path = str(require_weights("fastervqa", (clip.weights or {}).get("fastervqa")))
    key = (id(clip.pred), tuple(clip.frames), seed, repeats, path, str(clip.device), SCORER_SAMPLING)
    hit = _RESULTS.get(key)
    if hit is not None and hit[0] is clip.pred:
        return hit[1]
    if not clip.frames:
        raise InputError(f"sequence {clip.name!r}: FasterVQA needs at least one scored frame")
    net = _cached(path, str(torch.device(clip.device)))
    res = fastervqa_scores(_Frames(clip.pred, clip.frames, clip.name), seed=seed, repeats=repeats, model=net,
                           sampling=SCORER_SAMPLING, name=clip.name)
    _RESULTS[key] = (clip.pred, res)
    while len(_RESULTS) > 8:
        _RESULTS.popitem(last=False)
    return res


def score_sigmoid(clip) -> list[tuple[int, float]]:
    """``fastervqa``: the sigmoid-rescaled score in [0, 1] (one row at the clip's first scored frame)."""
    return [(int(clip.frames[0]) if clip.frames else 0, _clip_scores(clip).mean(True))]


def score_raw(clip) -> list[tuple[int, float]]:
    """``fastervqa-raw``: the mean head output."""
    return [(int(clip.frames[0]) if clip.frames else 0, _clip_scores(clip).mean(False))]
