"""MANIQA (Yang et al., CVPRW 2022), as pyiqa 0.1.16 computes it (``pyiqa.create_metric("maniqa")``).

vsrbench's own network, loading pyiqa's published files (chaofengc/IQA-PyTorch-Weights on Hugging Face:
``ckpt_koniq10k.pt`` for ``maniqa``, ``ckpt_kadid10k.pt`` and ``MANIQA_PIPAL-ae6d356b.pth`` for the
variants) with their key layout, strictly. What pyiqa's ``MANIQA.forward`` does in evaluation:

- the frame, RGB in [0, 1], is normalised with mean = std = 0.5 (to [-1, 1]);
- a frame whose shorter side is at most 224 is first enlarged by the factor ``225 / shorter side``
  (``F.interpolate(..., scale_factor=..., mode="bilinear")``); then ``crops`` (20) crops of 224x224 are
  taken at fixed places: a ``ceil(sqrt(crops))`` square grid with steps ``(side - 224) // int(sqrt(crops))``,
  row by row, the first ``crops`` of it (nothing is random in evaluation);
- each crop goes through timm's ViT-B/8 (``vit_base_patch8_224``); the tokens (class token left out)
  after blocks 6, 7, 8 and 9 are concatenated (3072 channels on 28x28);
- two transposed-attention blocks (attention between channels; pyiqa's ``(attn @ v).transpose(1, 2)
  .reshape(B, C, N)`` reinterpretation kept), a 1x1 convolution to 768, a two-stage Swin transformer (window
  4, shift 2, each stage ``scale * stage(x) + x``; ``scale`` 0.8 for the KonIQ and KADID files, pyiqa's
  default 0.13 for PIPAL), the same again to 384 channels;
- per patch a score (ReLU) and a weight (sigmoid); the frame's score is the weighted mean over the
  patches of all its crops.

ViT blocks 10 and 11, its final norm and classifier and the Swin ``downsample`` convolutions are in the
files (they must be: every key is required) but take no part in the score; pyiqa computes the blocks and
the classifier anyway, vsrbench does not.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vsrbench.core.errors import InputError
from vsrbench.metrics._nriqa import Mlp, clip_rows, load_strict, torch_load, unit_batch
from vsrbench.metrics.extension import MetricWeights, register_weights, require_weights

__all__ = ["VARIANTS", "CROPS", "ManiqaNet", "crop_boxes", "get_maniqa", "maniqa_scores", "score_koniq",
           "score_kadid", "score_pipal"]

_HF = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
# variant -> (weights name, published file, Swin residual scale as pyiqa's default_model_configs sets it)
VARIANTS = {
    "koniq": ("maniqa-koniq", "ckpt_koniq10k.pt", 0.8),
    "kadid": ("maniqa-kadid", "ckpt_kadid10k.pt", 0.8),
    "pipal": ("maniqa-pipal", "MANIQA_PIPAL-ae6d356b.pth", 0.13),
}
_DATASETS = {"koniq": "KonIQ-10k", "kadid": "KADID-10k", "pipal": "PIPAL"}
register_weights(*(
    MetricWeights(name, fname, _HF + fname,
                  f"pyiqa's MANIQA weights (trained on {_DATASETS[v]}), chaofengc/IQA-PyTorch-Weights on Hugging Face",
                  None, f"pyiqa's published MANIQA {_DATASETS[v]} file")
    for v, (name, fname, _) in VARIANTS.items()))

CROP = 224
CROPS = 20  # pyiqa's test_sample
_SIDE = 28  # 224 / 8 tokens per side
_USED = (6, 7, 8, 9)  # the ViT blocks whose outputs MANIQA reads


class _VitAttention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv, self.proj = nn.Linear(dim, dim * 3), nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c))


class _VitBlock(nn.Module):
    def __init__(self, dim: int = 768, heads: int = 12):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attn, self.mlp = _VitAttention(dim, heads), Mlp(dim, dim * 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class _PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 768, 8, 8)


class _Vit(nn.Module):
    """timm's ``vit_base_patch8_224`` with its parameter names."""

    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 768))
        self.pos_embed = nn.Parameter(torch.zeros(1, _SIDE * _SIDE + 1, 768))
        self.patch_embed = _PatchEmbed()
        self.blocks = nn.ModuleList(_VitBlock() for _ in range(12))
        self.norm = nn.LayerNorm(768, eps=1e-6)
        self.head = nn.Linear(768, 1000)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, 224, 224) -> the patch tokens after blocks 6..9, concatenated: (B, 784, 3072)."""
        t = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls_token.expand(t.shape[0], -1, -1), t], 1) + self.pos_embed
        taken = []
        for i, block in enumerate(self.blocks[:_USED[-1] + 1]):
            t = block(t)
            if i in _USED:
                taken.append(t[:, 1:])
        return torch.cat(taken, 2)


class _TABlock(nn.Module):
    """Attention between channels: (B, C, N) with Linear(N, N) queries, keys and values."""

    def __init__(self, n: int):
        super().__init__()
        self.c_q, self.c_k, self.c_v = nn.Linear(n, n), nn.Linear(n, n), nn.Linear(n, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, n = x.shape
        y = F.scaled_dot_product_attention(self.c_q(x), self.c_k(x), self.c_v(x))  # scale n ** -0.5
        return y.transpose(1, 2).reshape(b, c, n) + x


class _WindowAttention(nn.Module):
    def __init__(self, dim: int, heads: int, window: int):
        super().__init__()
        self.heads, self.window = heads, window
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        self.register_buffer("relative_position_index", _relative_index(window))
        self.qkv, self.proj = nn.Linear(dim, dim * 3), nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        bw, n, c = x.shape
        q, k, v = self.qkv(x).view(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1).permute(2, 0, 1)
        if mask is not None:  # (windows, n, n) per window, repeated over the batch
            nw = mask.shape[0]
            bias = (bias[None] + mask[:, None]).repeat(bw // nw, 1, 1, 1)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.proj(y.transpose(1, 2).reshape(bw, n, c))


class _SwinBlock(nn.Module):
    def __init__(self, dim: int, heads: int, window: int, shift: int, hidden: int):
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = _WindowAttention(dim, heads, window)
        self.mlp = Mlp(dim, hidden)
        if shift:
            self.register_buffer("attn_mask", _shift_mask(_SIDE, window, shift))
        else:
            self.attn_mask = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, length, c = x.shape
        w, s = self.window, self.shift
        y = self.norm1(x).view(b, _SIDE, _SIDE, c)
        if s:
            y = torch.roll(y, (-s, -s), (1, 2))
        g = _SIDE // w
        y = y.view(b, g, w, g, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c)
        y = self.attn(y, self.attn_mask)
        y = y.view(b, g, g, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(b, _SIDE, _SIDE, c)
        if s:
            y = torch.roll(y, (s, s), (1, 2))
        x = x + y.reshape(b, length, c)
        return x + self.mlp(self.norm2(x))


class _SwinLayer(nn.Module):
    def __init__(self, dim: int, heads: int, window: int = 4, hidden: int = 768, depth: int = 2):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, 1, 1)
        self.blocks = nn.ModuleList(_SwinBlock(dim, heads, window, 0 if i % 2 == 0 else window // 2, hidden)
                                    for i in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        b, n, c = x.shape
        x = F.relu(self.conv(x.transpose(1, 2).reshape(b, c, _SIDE, _SIDE)))
        return x.flatten(2).transpose(1, 2)


class _Swin(nn.Module):
    def __init__(self, dim: int, scale: float):
        super().__init__()
        self.scale = scale
        self.downsample = nn.Conv2d(dim, dim, 3, 2, 1)  # in the files; pyiqa never calls it
        self.layers = nn.ModuleList(_SwinLayer(dim, 4) for _ in range(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        x = x.flatten(2).transpose(1, 2)
        for layer in self.layers:
            x = self.scale * layer(x) + x
        return x.transpose(1, 2).reshape(b, c, _SIDE, _SIDE)


class ManiqaNet(nn.Module):
    """MANIQA with pyiqa's parameter names; :meth:`forward` takes RGB ``(N, 3, H, W)`` in [0, 1] and returns
    ``(N,)`` scores, each over ``crops`` fixed crops of its frame."""

    def __init__(self, scale: float = 0.8):
        super().__init__()
        self.vit = _Vit()
        self.tablock1 = nn.ModuleList(_TABlock(_SIDE * _SIDE) for _ in range(2))
        self.conv1 = nn.Conv2d(768 * 4, 768, 1)
        self.swintransformer1 = _Swin(768, scale)
        self.tablock2 = nn.ModuleList(_TABlock(_SIDE * _SIDE) for _ in range(2))
        self.conv2 = nn.Conv2d(768, 384, 1)
        self.swintransformer2 = _Swin(384, scale)
        self.fc_score = nn.Sequential(nn.Linear(384, 384), nn.ReLU(), nn.Identity(), nn.Linear(384, 1), nn.ReLU())
        self.fc_weight = nn.Sequential(nn.Linear(384, 384), nn.ReLU(), nn.Identity(), nn.Linear(384, 1), nn.Sigmoid())

    def score_crops(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, 224, 224) normalised crops -> per-patch scores and weights, each (B, 784)."""
        t = self.vit.features(x).transpose(1, 2)  # (B, 3072, 784)
        for tab in self.tablock1:
            t = tab(t)
        t = self.swintransformer1(self.conv1(t.reshape(t.shape[0], -1, _SIDE, _SIDE)))
        t = t.flatten(2)
        for tab in self.tablock2:
            t = tab(t)
        t = self.swintransformer2(self.conv2(t.reshape(t.shape[0], -1, _SIDE, _SIDE)))
        t = t.flatten(2).transpose(1, 2)
        return self.fc_score(t).flatten(1), self.fc_weight(t).flatten(1)

    @torch.no_grad()
    def forward(self, x: torch.Tensor, crops: int = CROPS) -> torch.Tensor:
        out = []
        # one frame (its crops) per pass: on CPU, passes of two frames' crops measured no faster per frame
        for frame in (x - 0.5) / 0.5:
            s, w = self.score_crops(_crops(frame[None], crops))
            s, w = s.reshape(1, -1), w.reshape(1, -1)
            out.append((w * s).sum(-1) / (w.sum(-1) + 1e-8))
        return torch.cat(out)


def crop_boxes(h: int, w: int, crops: int = CROPS) -> tuple[float | None, list[tuple[int, int]]]:
    """``(enlarge, [(top, left), ...])``: pyiqa's evaluation crops of 224x224 for an ``h`` x ``w`` frame.

    ``enlarge`` is the bilinear scale factor applied first (``225 / min(h, w)`` when ``min(h, w) <= 224``,
    else None); the corners then refer to the enlarged frame (``floor(side * enlarge)``, as torch sizes it).
    """
    enlarge = None
    if min(h, w) <= CROP:
        enlarge = (CROP + 1) / min(h, w)
        h, w = math.floor(h * enlarge), math.floor(w * enlarge)
    return enlarge, _grid(h, w, crops)


def _grid(h: int, w: int, crops: int) -> list[tuple[int, int]]:
    """The first ``crops`` corners, row by row, of a ``ceil(sqrt(crops))`` square grid with steps
    ``(side - 224) // int(sqrt(crops))``."""
    side, div = math.ceil(math.sqrt(crops)), int(math.sqrt(crops))
    step_h, step_w = (h - CROP) // div, (w - CROP) // div
    return [(i * step_h, j * step_w) for i in range(side) for j in range(side)][:crops]


def _crops(x: torch.Tensor, crops: int) -> torch.Tensor:
    """(1, 3, H, W) normalised frame -> its (crops, 3, 224, 224) evaluation crops (:func:`crop_boxes`)."""
    if min(x.shape[2], x.shape[3]) <= CROP:
        x = F.interpolate(x, scale_factor=(CROP + 1) / min(x.shape[2], x.shape[3]), mode="bilinear")
    return torch.cat([x[..., t:t + CROP, l:l + CROP] for t, l in _grid(x.shape[2], x.shape[3], crops)])


@functools.lru_cache(maxsize=4)
def _relative_index(window: int) -> torch.Tensor:
    """Swin's index of each (query, key) pair of a window into the relative-position bias table."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
    return rel[..., 0] * (2 * window - 1) + rel[..., 1]


def _shift_mask(side: int, window: int, shift: int) -> torch.Tensor:
    """Swin's (windows, n, n) mask of a shifted block: -100 between tokens of different regions, else 0."""
    region = torch.zeros(side, side)
    cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    for a, hs in enumerate(cuts):
        for b, ws in enumerate(cuts):
            region[hs, ws] = a * 3 + b
    g = side // window
    r = region.view(g, window, g, window).permute(0, 2, 1, 3).reshape(-1, window * window)
    diff = r[:, None, :] - r[:, :, None]
    return torch.where(diff != 0, torch.tensor(-100.0), torch.tensor(0.0))


@functools.lru_cache(maxsize=4)
def _cached(path: str, scale: float, device: str) -> ManiqaNet:
    net = ManiqaNet(scale)
    load_strict(net, torch_load(path), path, "a MANIQA weights file (pyiqa's layout)")
    return net.eval().requires_grad_(False).to(device)


def get_maniqa(variant: str = "koniq", weights=None, device="cpu") -> ManiqaNet:
    """The MANIQA network of ``variant`` (koniq, kadid, pipal) on ``device``, its published file found locally
    (``weights``: the file or a folder holding it); loaded once per file and device."""
    if variant not in VARIANTS:
        from vsrbench.core.errors import UnknownNameError

        raise UnknownNameError("MANIQA variant", variant, VARIANTS)
    name, _, scale = VARIANTS[variant]
    path = require_weights(name, weights)
    return _cached(str(path), scale, str(torch.device(device)))


def maniqa_scores(frames, *, variant: str = "koniq", weights=None, device="cpu",
                  crops: int = CROPS) -> "float | np.ndarray":
    """MANIQA score of each frame, as pyiqa's ``maniqa`` (``maniqa-kadid``, ``maniqa-pipal``) computes it.

    Parameters
    ----------
    frames : numpy.ndarray or torch.Tensor
        One RGB uint8 frame ``(H, W, 3)`` or a stack ``(N, H, W, 3)`` (or a float tensor ``(N, 3, H, W)``
        in [0, 1]).
    variant : str
        ``"koniq"`` (pyiqa's ``maniqa``, Swin scale 0.8), ``"kadid"`` (0.8) or ``"pipal"`` (0.13).
    weights : str or os.PathLike, optional
        The published weights file (or a folder holding it); looked up locally when None.
    device : str or torch.device
        Where the network runs.
    crops : int
        Crops per frame (pyiqa's ``test_sample``, 20); fewer is faster and no longer pyiqa's number.

    Returns
    -------
    float or numpy.ndarray
        A float for one frame, an ``(N,)`` array for a stack (~0..1, higher is better).

    Raises
    ------
    vsrbench.core.errors.WeightsError
        The file is missing, unreadable or not a MANIQA file.
    vsrbench.core.errors.InputError
        Frames of another shape or type.
    """
    if int(crops) < 1:
        raise InputError(f"crops must be at least 1, got {crops}")
    x, single = unit_batch(frames, device)
    net = get_maniqa(variant, weights, device)
    out = net(x, int(crops)).cpu().numpy().astype(np.float64)
    return float(out[0]) if single else out


def _scorer(variant: str):
    def score(clip) -> list[tuple[int, float]]:
        name = VARIANTS[variant][0]
        net, crops = get_maniqa(variant, clip.weights.get(name), clip.device), int(clip.options.get("crops", CROPS))
        return clip_rows(clip, lambda f: net(unit_batch(f, clip.device)[0], crops).cpu().numpy(), 1)

    score.__name__ = f"score_{variant}"
    score.__doc__ = (f"Scorer of metric ``maniqa{'' if variant == 'koniq' else '-' + variant}``: MANIQA "
                     f"({_DATASETS[variant]} weights) per frame.")
    return score


score_koniq = _scorer("koniq")
score_kadid = _scorer("kadid")
score_pipal = _scorer("pipal")
