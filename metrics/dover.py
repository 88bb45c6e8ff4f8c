"""DOVER (Wu et al., ICCV 2023): the disentangled video quality evaluator, computed as its released code does,
on a recorded seed.

The network and the preprocessing follow ``VQAssessment/DOVER`` (``dover.yml``, ``evaluate_one_video.py``,
``evaluate_a_set_of_videos.py``, ``dover/datasets/dover_datasets.py``, ``dover/models/*.py``):

- **technical view** (``technical_backbone``: FAST-VQA's Swin-3D, :mod:`vsrbench.metrics.video_swin`): the frames
  ``UnifiedFrameSampler(32, 3, 2)`` picks (3 segments, 32 frames each 2 apart, a random start per segment when
  a segment is longer than 64 frames, indices wrapped modulo the length), cut into a 7x7 grid of 32x32
  fragments, one random offset per grid cell and 32-frame chunk (``get_spatial_fragments``); a frame with a
  side under 224 px is first upscaled bilinearly (and truncated back to uint8) as there, the grid still laid
  out on the original size; 3 clips of 32x224x224;
- **aesthetic view** (``aesthetic_backbone``: ConvNeXt-3D, :mod:`vsrbench.metrics.convnext3d`): 32 frames, one
  per 32nd of the video (random within it when it is longer than 2 frames), resized to 224x224 with
  torchvision's bilinear ``Resize`` on uint8 frames (rounded; ``antialias=False`` as in torchvision < 0.17,
  which DOVER's ``torch~=1.13`` pins; option ``antialias=True`` gives what torchvision >= 0.17 does);
- both normalised with ImageNet mean/std (x255), each head (``VQAHead``: 1x1x1 conv 768->64, GELU,
  64->1) applied at every position, the raw score the mean over positions and clips;
- ``fuse_results``: ``t = (technical - 0.1107) / 0.07355``, ``a = (aesthetic + 0.08285) / 0.03774``,
  overall ``sigmoid(0.6104 t + 0.3896 a)`` (constants fitted on KoNViD-1k); technical/aesthetic scores are
  ``sigmoid(t)``, ``sigmoid(a)``.

The original draws its frame starts with unseeded ``np.random`` and its fragment offsets with unseeded
``torch.randint``. Here seed ``s`` draws them from ``np.random.RandomState(s)`` and a ``torch.Generator``
seeded ``s``, in the original's order, so the numbers equal what the original prints after
``np.random.seed(s); torch.manual_seed(s)``. ``repeats=K`` scores seeds ``s .. s+K-1`` and reports the mean
(:class:`DoverScores` keeps every seed's value and the spread).

Named conventions (``METRICS``): ``dover`` (overall in [0, 1]), ``dover-technical`` / ``dover-aesthetic``
(sigmoid x100), ``dover-technical-raw`` / ``dover-aesthetic-raw`` (head outputs), and ``dover-swapped*``: what
``evaluate_a_set_of_videos.py`` wrote before commit 01bb306 (2023-08-11): its list held the aesthetic head
first and its ``fuse_results`` took the first entry as technical, so each head went through the other head's
constants and fusion weight, under its own label (the CSV's x100 values; DOVER#16).
"""
from __future__ import annotations

import functools
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vsrbench.core.device import ieee_fp32
from vsrbench.core.errors import InputError, UnknownNameError, WeightsError
from vsrbench.core.frames import to_uint8
from vsrbench.core.weights import load_problem
from vsrbench.metrics.convnext3d import ConvNeXt3D
from vsrbench.metrics.extension import MetricWeights, register_weights, require_weights
from vsrbench.metrics.video_swin import SwinTransformer3D

__all__ = [
    "MEAN", "STD", "TECHNICAL_SHIFT", "TECHNICAL_SCALE", "AESTHETIC_SHIFT", "AESTHETIC_SCALE", "TECHNICAL_WEIGHT",
    "AESTHETIC_WEIGHT", "CONVENTIONS", "OPTIONS", "DOVER_WEIGHTS", "SCORER_SAMPLING", "Sampling", "DoverDraw",
    "DoverScores", "DOVERNet", "VQAHead", "fuse_results", "fuse_results_swapped", "unified_frame_indices",
    "fragment_offsets", "technical_view", "aesthetic_view", "draw", "sample_views", "load_strict", "load_dover",
    "get_dover", "describe_state_dict", "dover_scores", "score_overall", "score_technical", "score_aesthetic",
    "score_technical_raw", "score_aesthetic_raw", "score_swapped", "score_swapped_technical",
    "score_swapped_aesthetic", "printed_conventions",
]

MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)
# fuse_results (evaluate_one_video.py, evaluate_a_set_of_videos.py)
TECHNICAL_SHIFT, TECHNICAL_SCALE = 0.1107, 0.07355
AESTHETIC_SHIFT, AESTHETIC_SCALE = -0.08285, 0.03774
TECHNICAL_WEIGHT, AESTHETIC_WEIGHT = 0.6104, 0.3896

DOVER_WEIGHTS = MetricWeights(
    "dover", "DOVER.pth", "https://github.com/QualityAssessment/DOVER/releases/download/v0.1.0/DOVER.pth",
    "the DOVER release v0.1.0 (VQAssessment/DOVER README; also huggingface.co/teowu/DOVER)", None,
    "the released DOVER weights")
register_weights(DOVER_WEIGHTS)

#: option -> meaning (family "dover": also read by :mod:`vsrbench.metrics.fastervqa`)
OPTIONS = {"seed": "the first sampling seed (default 0)", "repeats": "seeds scored, mean reported (default 1)",
           "antialias": "aesthetic resize antialiased as torchvision >= 0.17 does (default False)"}


@dataclass(frozen=True)
class Sampling:
    """The views' sizes (``dover.yml``, ``val-l1080p``); smaller ones only for tests."""

    fragments: int = 7
    fsize: int = 32
    clip_len: int = 32
    frame_interval: int = 2
    num_clips: int = 3
    aligned: int = 32
    aesthetic_size: int = 224
    aesthetic_frames: int = 32  # t_frag: one frame from each of this many segments


@dataclass(frozen=True)
class DoverDraw:
    """What one seed drew: frame indices of each view (into the clip's frames) and the fragment offsets
    ``(grid rows, grid cols, chunks)`` added to the grid origins (None: no room to move)."""

    technical_frames: np.ndarray
    aesthetic_frames: np.ndarray
    offsets_h: torch.Tensor | None
    offsets_w: torch.Tensor | None


CONVENTIONS = ("overall", "technical", "aesthetic", "technical-raw", "aesthetic-raw", "swapped",
               "swapped-technical", "swapped-aesthetic")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def fuse_results(technical: float, aesthetic: float) -> dict[str, float]:
    """``fuse_results`` of the released scripts on the raw head outputs: ``overall`` in [0, 1], ``technical`` and
    ``aesthetic`` their sigmoids in [0, 1]."""
    t = (technical - TECHNICAL_SHIFT) / TECHNICAL_SCALE
    a = (aesthetic - AESTHETIC_SHIFT) / AESTHETIC_SCALE
    return {"overall": _sigmoid(t * TECHNICAL_WEIGHT + a * AESTHETIC_WEIGHT), "technical": _sigmoid(t),
            "aesthetic": _sigmoid(a)}


def fuse_results_swapped(technical: float, aesthetic: float) -> dict[str, float]:
    """What ``evaluate_a_set_of_videos.py`` computed before 2023-08-11: its list held the aesthetic head first,
    its ``fuse_results`` took the first entry as technical, so each head went through the other's constants
    and fusion weight; the values under the labels it printed (``"technical"`` is the technical head through
    the aesthetic constants), in [0, 1]; its CSV wrote them x100. Equal to ``fuse_results`` with the two
    arguments exchanged and the two labels exchanged back."""
    wrong_t = (aesthetic - TECHNICAL_SHIFT) / TECHNICAL_SCALE
    wrong_a = (technical - AESTHETIC_SHIFT) / AESTHETIC_SCALE
    return {"overall": _sigmoid(wrong_t * TECHNICAL_WEIGHT + wrong_a * AESTHETIC_WEIGHT),
            "technical": _sigmoid(wrong_a), "aesthetic": _sigmoid(wrong_t)}


def _convention(technical: float, aesthetic: float, name: str) -> float:
    if name.endswith("-raw"):
        return technical if name == "technical-raw" else aesthetic
    if name.startswith("swapped"):
        f = fuse_results_swapped(technical, aesthetic)
        return 100.0 * f[name.partition("-")[2] or "overall"]
    f = fuse_results(technical, aesthetic)
    return f["overall"] if name == "overall" else 100.0 * f[name]


# ------------------------------------------------------------------------------------------- sampling

def unified_frame_indices(n: int, fsize_t: int, fragments_t: int, interval: int, rng: np.random.RandomState,
                          num_clips: int = 1) -> np.ndarray:
    """``UnifiedFrameSampler(fsize_t, fragments_t, interval, num_clips)``: ``fragments_t`` segments of
    ``n // fragments_t`` frames, ``fsize_t`` frames ``interval`` apart from a start drawn in each segment
    (when it is longer than ``fsize_t * interval``), indices modulo ``n``."""
    out = []
    for _ in range(num_clips):
        seg = n // fragments_t
        grid = np.array([seg * i for i in range(fragments_t)], dtype=np.int32)
        if seg > fsize_t * interval:
            start = rng.randint(0, seg - fsize_t * interval, size=fragments_t)
        else:
            start = np.zeros(fragments_t, dtype=np.int32)
        out.append((np.arange(fsize_t)[None, :] * interval + start[:, None] + grid[:, None]).reshape(-1))
    return np.mod(np.concatenate(out), n).astype(np.int32)


def fragment_offsets(h: int, w: int, chunks: int, s: Sampling, gen: torch.Generator):
    """Offsets of the fragments inside their grid cells, ``(fragments, fragments, chunks)`` each for rows and
    columns, drawn as ``get_spatial_fragments`` draws them (rows first); None where a cell has no room."""
    shape = (s.fragments, s.fragments, chunks)
    ch, cw = h // s.fragments, w // s.fragments
    oh = torch.randint(ch - s.fsize, shape, generator=gen) if ch > s.fsize else None
    ow = torch.randint(cw - s.fsize, shape, generator=gen) if cw > s.fsize else None
    return oh, ow


def technical_view(video: torch.Tensor, s: Sampling, oh, ow) -> torch.Tensor:
    """``get_spatial_fragments``: ``(C, T, H, W)`` uint8 -> ``(C, T, F*fs, F*fs)`` float (0..255)."""
    _, t, h, w = video.shape
    side = s.fragments * s.fsize
    ratio = min(h / side, w / side)
    if ratio < 1:  # upscale, truncate to uint8; the grid below stays on the original size (as there)
        video = (F.interpolate(video / 255.0, scale_factor=1 / ratio, mode="bilinear") * 255.0).type_as(video)
    aligned = 1 if t == 1 else s.aligned
    hgrid = [min(h // s.fragments * i, h - s.fsize) for i in range(s.fragments)]
    wgrid = [min(w // s.fragments * i, w - s.fsize) for i in range(s.fragments)]
    out = torch.zeros(video.shape[:-2] + (side, side), device=video.device)
    fs = s.fsize
    for i, hs in enumerate(hgrid):
        for j, ws in enumerate(wgrid):
            for k in range(t // aligned):
                y = hs + (int(oh[i, j, k]) if oh is not None else 0)
                x = ws + (int(ow[i, j, k]) if ow is not None else 0)
                out[:, k * aligned:(k + 1) * aligned, i * fs:(i + 1) * fs, j * fs:(j + 1) * fs] = \
                    video[:, k * aligned:(k + 1) * aligned, y:y + fs, x:x + fs]
    return out


def aesthetic_view(video: torch.Tensor, size: int = 224, antialias: bool = False) -> torch.Tensor:
    """torchvision ``Resize((size, size))`` of ``(C, T, H, W)`` uint8 frames (bilinear, rounded to uint8)."""
    x = F.interpolate(video.permute(1, 0, 2, 3).float(), size=(size, size), mode="bilinear", align_corners=False,
                      antialias=antialias)
    return x.round().to(video.dtype).permute(1, 0, 2, 3)


def draw(n: int, h: int, w: int, seed: int, s: Sampling = Sampling()) -> DoverDraw:
    """The frame indices and fragment offsets seed ``seed`` gives a clip of ``n`` frames of ``h`` x ``w``."""
    rng = np.random.RandomState(seed)
    tech = unified_frame_indices(n, s.clip_len, s.num_clips, s.frame_interval, rng)
    aes = unified_frame_indices(n, s.clip_len // s.aesthetic_frames, s.aesthetic_frames, s.frame_interval, rng)
    gen = torch.Generator().manual_seed(seed)
    chunks = len(tech) // (1 if len(tech) == 1 else s.aligned)
    oh, ow = fragment_offsets(h, w, chunks, s, gen)
    return DoverDraw(tech, aes, oh, ow)


def _normalise(v: torch.Tensor, clips: int) -> torch.Tensor:
    mean = torch.tensor(MEAN, device=v.device)
    std = torch.tensor(STD, device=v.device)
    v = ((v.permute(1, 2, 3, 0) - mean) / std).permute(3, 0, 1, 2)
    return v.reshape(v.shape[0], clips, -1, *v.shape[2:]).transpose(0, 1)


def _video(frames, idx: np.ndarray, device) -> torch.Tensor:
    stacked = torch.stack([torch.from_numpy(np.ascontiguousarray(frames[int(i)])) for i in idx])
    return stacked.permute(3, 0, 1, 2).to(device)


def sample_views(frames, seed: int = 0, *, s: Sampling = Sampling(), antialias: bool = False, device="cpu"):
    """The two normalised views of seed ``seed``: ``({"technical": (clips, 3, T, S, S), "aesthetic": (1, 3, T,
    224, 224)}, DoverDraw)``. ``frames``: the clip's RGB uint8 ``(H, W, 3)`` frames (a list or indexable)."""
    first = np.asarray(frames[0])
    d = draw(len(frames), first.shape[0], first.shape[1], seed, s)
    tech = technical_view(_video(frames, d.technical_frames, device), s, d.offsets_h, d.offsets_w)
    aes = aesthetic_view(_video(frames, d.aesthetic_frames, device), s.aesthetic_size, antialias)
    return {"technical": _normalise(tech, s.num_clips), "aesthetic": _normalise(aes, 1)}, d


# -------------------------------------------------------------------------------------------- network

class VQAHead(nn.Module):
    """DOVER/FAST-VQA's ``VQAHead`` at inference: a score at every feature position."""

    def __init__(self, in_channels: int = 768, hidden: int = 64):
        super().__init__()
        self.fc_hid = nn.Conv3d(in_channels, hidden, (1, 1, 1))
        self.fc_last = nn.Conv3d(hidden, 1, (1, 1, 1))
        self.gelu = nn.GELU()

    def forward(self, x):
        return self.fc_last(self.gelu(self.fc_hid(x)))


class DOVERNet(nn.Module):
    """``DOVER(**dover.yml model.args)``: technical (Swin-3D) and aesthetic (ConvNeXt-3D) branches and heads."""

    def __init__(self):
        super().__init__()
        self.technical_backbone = SwinTransformer3D(adaptive=False)
        self.aesthetic_backbone = ConvNeXt3D()
        self.technical_head = VQAHead()
        self.aesthetic_head = VQAHead()

    @torch.inference_mode()
    def forward(self, views: dict) -> tuple[float, float]:
        """Raw (technical, aesthetic) head outputs: each the mean over clips and positions."""
        t = self.technical_head(self.technical_backbone(views["technical"]))
        a = self.aesthetic_head(self.aesthetic_backbone(views["aesthetic"]))
        return float(t.mean()), float(a.mean())


def describe_state_dict(keys) -> str:
    """What a weights file looks like, from its keys (for the wrong-file error)."""
    keys = list(keys)
    has = lambda p: any(k.startswith(p) for k in keys)
    if has("fragments_backbone.") or has("state_dict"):
        return "a FAST-VQA/FasterVQA file (fragments_backbone.*, vqa_head.*)"
    if has("technical_backbone.downsample_layers") or any(".grn." in k for k in keys):
        return "a DOVER-Mobile file (ConvNeXt-V2 branches)"
    if has("technical_backbone.") and has("aesthetic_backbone."):
        return "a DOVER file"
    if has("fnet.") or has("module.fnet.") or has("feature_encoder."):
        return "a RAFT optical-flow file"
    return f"not a DOVER/FAST-VQA file ({len(keys)} keys, e.g. {', '.join(keys[:3]) or 'none'})"


def _torch_load(path: Path):
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt / not a torch file
        raise WeightsError(f"cannot read weights file {str(path)!r}: {load_problem(path, e)}") from None


def load_strict(model: nn.Module, state, path, expected: str) -> nn.Module:
    """Load ``state`` into ``model``: every key of the file used, none missing, shapes equal; else one-line
    :class:`WeightsError` saying what the file looks like."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        what = describe_state_dict(state.keys()) if isinstance(state, dict) else "not a state dict"
        raise WeightsError(f"weights file {str(path)!r} is not {expected}: it is {what}")
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        what = describe_state_dict(state.keys())
        detail = (f"{len(missing)} missing (e.g. {missing[0]})" if missing else "") + \
                 ("; " if missing and extra else "") + (f"{len(extra)} unexpected (e.g. {extra[0]})" if extra else "")
        raise WeightsError(f"weights file {str(path)!r} is not {expected}: it looks like {what}; keys: {detail}")
    bad = [k for k in own if tuple(own[k].shape) != tuple(state[k].shape)]
    if bad:
        raise WeightsError(f"weights file {str(path)!r} is not {expected}: {bad[0]} has shape "
                           f"{tuple(state[bad[0]].shape)}, expected {tuple(own[bad[0]].shape)}")
    model.load_state_dict(state, strict=True)
    return model.eval()


def load_dover(path, device="cpu") -> DOVERNet:
    """:class:`DOVERNet` with the weights of ``path`` (``DOVER.pth``), loaded strictly."""
    state = _torch_load(Path(path))
    return load_strict(DOVERNet(), state, path, "the DOVER weights (DOVER.pth)").to(device)


@functools.lru_cache(maxsize=4)
def _cached(path: str, device: str) -> DOVERNet:
    return load_dover(path, device)


def get_dover(weights=None, device="cpu") -> DOVERNet:
    """The cached network for the weights file ``weights`` (a file or folder; else looked up locally)."""
    path = require_weights("dover", weights)
    return _cached(str(path), str(torch.device(device)))


# --------------------------------------------------------------------------------------------- scores

@dataclass(frozen=True)
class DoverScores:
    """Raw head outputs per seed; :meth:`value` / :meth:`mean` / :meth:`spread` per convention."""

    seeds: tuple[int, ...]
    technical_raw: tuple[float, ...]
    aesthetic_raw: tuple[float, ...]
    draws: tuple = field(default=(), repr=False, compare=False)

    def values(self, convention: str = "overall") -> np.ndarray:
        """The convention's value for each seed."""
        if convention not in CONVENTIONS:
            raise UnknownNameError("DOVER convention", convention, CONVENTIONS)
        return np.array([_convention(t, a, convention) for t, a in zip(self.technical_raw, self.aesthetic_raw)])

    def mean(self, convention: str = "overall") -> float:
        """Mean over the seeds (the stored value)."""
        return float(self.values(convention).mean())

    def spread(self, convention: str = "overall") -> float:
        """Sample standard deviation over the seeds (0 for one seed)."""
        v = self.values(convention)
        return float(v.std(ddof=1)) if len(v) > 1 else 0.0


def _check_frames(frames, name: str = "clip", minimum: int = 32) -> None:
    if len(frames) == 0:
        raise InputError(f"sequence {name!r}: DOVER needs at least one frame, got none")
    shapes = {np.asarray(frames[i]).shape for i in (0, len(frames) - 1)}
    first = np.asarray(frames[0])
    if first.ndim != 3 or first.shape[2] != 3 or first.dtype != np.uint8:
        raise InputError(f"sequence {name!r}: frames must be RGB uint8 (H, W, 3), got {first.dtype} {first.shape}")
    if len(shapes) > 1:
        raise InputError(f"sequence {name!r}: frames of different sizes {sorted(shapes)}")
    if min(first.shape[:2]) < minimum:
        raise InputError(f"sequence {name!r}: frames of {first.shape[1]}x{first.shape[0]} are too small for "
                         f"{minimum}x{minimum} fragments (the original cannot cut them)")


class _Frames:
    """A clip's scored frames, decoded once each, on the 8-bit grid, size-checked as they come."""

    def __init__(self, seq, idx, name: str):
        self.seq, self.idx, self.name, self.cache, self.shape = seq, list(idx), name, {}, None

    def __len__(self):
        return len(self.idx)

    def __getitem__(self, i: int) -> np.ndarray:
        if i not in self.cache:
            f = to_uint8(self.seq[self.idx[i]])  # float frames in [0, 1]: the 8-bit grid DOVER's decoder gives
            if self.shape is not None and f.shape != self.shape:
                raise InputError(f"sequence {self.name!r}: frames of different sizes ({self.shape[1]}x{self.shape[0]} "
                                 f"and {f.shape[1]}x{f.shape[0]} at frame {self.idx[i]})")
            self.shape = f.shape
            self.cache[i] = f
        return self.cache[i]


def dover_scores(frames, *, seed: int = 0, repeats: int = 1, weights=None, device="cpu", antialias: bool = False,
                 model: DOVERNet | None = None, sampling: Sampling = Sampling(), name: str = "clip") -> DoverScores:
    """DOVER's raw head outputs on ``frames`` (RGB uint8 ``(H, W, 3)``, the whole clip) for seeds
    ``seed .. seed+repeats-1``; ``model`` overrides the weights lookup (``weights``: file or folder)."""
    if repeats < 1:
        raise InputError(f"DOVER repeats must be at least 1, got {repeats}")
    _check_frames(frames, name, sampling.fsize)
    net = model if model is not None else get_dover(weights, device)
    dev = next(net.parameters()).device
    tech, aes, draws = [], [], []
    for s in range(seed, seed + repeats):
        views, d = sample_views(frames, s, s=sampling, antialias=antialias, device=dev)
        with ieee_fp32(torch.device(dev).type == "cuda"):
            t, a = net(views)
        tech.append(t)
        aes.append(a)
        draws.append(d)
    return DoverScores(tuple(range(seed, seed + repeats)), tuple(tech), tuple(aes), tuple(draws))


def _options(clip) -> tuple[int, int, bool]:
    opts = dict(clip.options or {})
    for k in opts:
        if k not in OPTIONS:
            raise UnknownNameError("dover option", k, OPTIONS)
    try:
        seed, repeats = int(opts.get("seed", 0)), int(opts.get("repeats", 1))
    except (TypeError, ValueError):
        raise InputError(f"dover options seed and repeats must be integers, got {opts}") from None
    aa = opts.get("antialias", False)
    if isinstance(aa, str):
        aa = aa.strip().lower() in ("1", "true", "yes")
    return seed, repeats, bool(aa)


_RESULTS: OrderedDict = OrderedDict()  # the last clips' DoverScores: the variants share one network run
SCORER_SAMPLING = Sampling()  # what the scorers use (dover.yml); tests make it smaller


def _clip_scores(clip) -> DoverScores:
    seed, repeats, aa = _options(clip)
    path = str(require_weights("dover", (clip.weights or {}).get("dover")))
    key = (id(clip.pred), tuple(clip.frames), seed, repeats, aa, path, str(clip.device), SCORER_SAMPLING)
    hit = _RESULTS.get(key)
    if hit is not None and hit[0] is clip.pred:
        return hit[1]
    frames = _Frames(clip.pred, clip.frames, clip.name)
    net = _cached(path, str(torch.device(clip.device)))
    res = dover_scores(frames, seed=seed, repeats=repeats, antialias=aa, model=net, sampling=SCORER_SAMPLING,
                       name=clip.name)
    _RESULTS[key] = (clip.pred, res)
    while len(_RESULTS) > 8:
        _RESULTS.popitem(last=False)
    return res


def _row(clip, convention: str) -> list[tuple[int, float]]:
    if not clip.frames:
        raise InputError(f"sequence {clip.name!r}: DOVER needs at least one scored frame")
    return [(int(clip.frames[0]), _clip_scores(clip).mean(convention))]


def score_overall(clip) -> list[tuple[int, float]]:
    """``dover``: the fused overall score in [0, 1] (one row at the clip's first scored frame)."""
    return _row(clip, "overall")


def score_technical(clip) -> list[tuple[int, float]]:
    """``dover-technical``: sigmoid of the technical head, x100."""
    return _row(clip, "technical")


def score_aesthetic(clip) -> list[tuple[int, float]]:
    """``dover-aesthetic``: sigmoid of the aesthetic head, x100."""
    return _row(clip, "aesthetic")


def score_technical_raw(clip) -> list[tuple[int, float]]:
    """``dover-technical-raw``: the technical head's output."""
    return _row(clip, "technical-raw")


def score_aesthetic_raw(clip) -> list[tuple[int, float]]:
    """``dover-aesthetic-raw``: the aesthetic head's output."""
    return _row(clip, "aesthetic-raw")


def score_swapped(clip) -> list[tuple[int, float]]:
    """``dover-swapped``: the overall score x100 as the pre-2023-08 set script wrote it (heads swapped)."""
    return _row(clip, "swapped")


def score_swapped_technical(clip) -> list[tuple[int, float]]:
    """``dover-swapped-technical``: the pre-2023-08 set script's "technical" column (x100)."""
    return _row(clip, "swapped-technical")


def score_swapped_aesthetic(clip) -> list[tuple[int, float]]:
    """``dover-swapped-aesthetic``: the pre-2023-08 set script's "aesthetic" column (x100)."""
    return _row(clip, "swapped-aesthetic")


def printed_conventions(value: float) -> list[tuple[str, str]]:
    """The conventions a printed DOVER-family number can be on, likeliest first: ``[(metric, why), ...]``.

    0.78 -> ``dover`` (overall in [0, 1], STAR/DOVE) or ``fastervqa``; 7.7 -> ``dover-technical`` (x100,
    SeedVR/SeedVR2 print 5-13); 90 -> ``dover`` x100 (AVT-VQDB-UHD-1-VSR, the set script's CSV) or
    ``dover-aesthetic`` x100; values outside [0, 100] only fit a raw head output.
    """
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"a printed DOVER number must be finite, got {value!r}")
    out: list[tuple[str, str]] = []
    if 0.0 <= v <= 1.0:
        out += [("dover", "fused overall in [0, 1] (evaluate_one_video.py -f; STAR Tab. 1, DOVE Tab. 2)"),
                ("fastervqa", "FasterVQA's sigmoid-rescaled score in [0, 1] (vqa.py)")]
    if 1.0 < v <= 100.0:
        tech = "technical head sigmoid x100 (SeedVR/SeedVR2 print 5-13; the set script's CSV column)"
        overall = "fused overall x100 (the set script's CSV; AVT-VQDB-UHD-1-VSR stores ~90)"
        aes = "aesthetic head sigmoid x100 (the set script's CSV; ~99.98 on saturated clips)"
        ranked = [("dover-technical", tech), ("dover", overall), ("dover-aesthetic", aes)] if v < 30 else \
            [("dover", overall), ("dover-aesthetic", aes), ("dover-technical", tech)]
        out += ranked + [("dover-swapped", "a pre-2023-08 set-script column (heads through each other's constants)")]
    if abs(v) < 1.0:
        out.append(("dover-technical-raw", f"a raw head output (unbounded; technical centre {TECHNICAL_SHIFT}, "
                                           f"aesthetic centre {AESTHETIC_SHIFT})"))
    if not out:
        out.append(("dover-technical-raw", "only a raw head output fits a number outside [0, 100]"))
    return out
