"""MUSIQ (Ke et al., ICCV 2021), as pyiqa 0.1.16 computes it (``pyiqa.create_metric("musiq")``).

vsrbench's own network, loading pyiqa's published files (chaofengc/IQA-PyTorch-Weights on Hugging
Face: the KonIQ-10k head of ``musiq``, and the ``musiq-ava``, ``musiq-spaq``, ``musiq-paq2piq``
heads) with their key layout, strictly. What pyiqa's ``MUSIQ.forward`` does in evaluation, step by step:

- the frame, RGB in [0, 1], goes to [-1, 1] (``(x - 0.5) * 2``);
- three scales: the frame resized (bicubic, ``F.interpolate``, no antialiasing) so that its longer side
  is 224, then 384 (the other side ``round(side * ratio)``), and the frame itself; each is zero-padded
  to whole 32x32 patches (TensorFlow's SAME split) and cut into them, row by row;
- each patch gets a hashed spatial position (its row and column mapped onto a 10x10 grid by nearest
  interpolation) and the scale's index (0, 1, 2) as embeddings;
- each patch goes through the ResNet root (a weight-standardised 7x7/2 convolution, GroupNorm, ReLU, a
  SAME 3x3/2 max-pool, one bottleneck) to 8x8x256 features, flattened in TensorFlow's channel order
  and embedded to 384; a class token, 14 pre-norm transformer blocks (6 heads), a final LayerNorm;
- the head reads the class token: KonIQ, SPAQ, PaQ-2-PiQ give the score itself, AVA a 10-bin
  distribution whose mean (1..10) is the score.

Two things pyiqa does that change nothing and are left out here: the 224 and 384 scales are padded
with masked zero patches to 49 and 144 tokens (a padded key gets the logit -1000, i.e. weight 0, and a
padded token never reaches the class token), and the standardised convolution weights are recomputed
per call (here: once, at load).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vsrbench.metrics._nriqa import Mlp, clip_rows, load_strict, torch_load, unit_batch
from vsrbench.metrics.extension import MetricWeights, register_weights, require_weights

__all__ = ["HEADS", "MusiqNet", "get_musiq", "musiq_scores", "score_koniq", "score_ava", "score_spaq",
           "score_paq2piq"]

_HF = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
# head -> (weights name, published file, number of outputs)
HEADS = {
    "koniq": ("musiq-koniq", "musiq_koniq_ckpt-e95806b9.pth", 1),
    "ava": ("musiq-ava", "musiq_ava_ckpt-e8d3f067.pth", 10),
    "spaq": ("musiq-spaq", "musiq_spaq_ckpt-358bb6af.pth", 1),
    "paq2piq": ("musiq-paq2piq", "musiq_paq2piq_ckpt-364c0c84.pth", 1),
}
_DATASETS = {"koniq": "KonIQ-10k", "ava": "AVA", "spaq": "SPAQ", "paq2piq": "PaQ-2-PiQ"}
register_weights(*(
    MetricWeights(name, fname, _HF + fname,
                  f"pyiqa's MUSIQ weights ({_DATASETS[head]} head), chaofengc/IQA-PyTorch-Weights on Hugging Face",
                  None, f"pyiqa's published MUSIQ {_DATASETS[head]} file")
    for head, (name, fname, _) in HEADS.items()))

PATCH = 32
GRID = 10
SCALES = (224, 384)


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) of one axis."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _StdConv(nn.Conv2d):
    """Weight-standardised convolution (weights minus their mean over (cin, kh, kw), over their unbiased
    std + 1e-5) with SAME zero padding; the standardised weights are computed once (:meth:`freeze`)."""

    def freeze(self) -> None:
        w = self.weight.detach()
        w = (w - w.mean((1, 2, 3), keepdim=True)) / (w.std((1, 2, 3), keepdim=True) + 1e-5)
        self.register_buffer("std_weight", w.contiguous(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        pt, pb = _same_pad(x.shape[2], k, s)
        pl, pr = _same_pad(x.shape[3], k, s)
        if pt or pb or pl or pr:
            x = F.pad(x, (pl, pr, pt, pb))
        return F.conv2d(x, self.std_weight, None, self.stride)


class _Bottleneck(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1, self.gn1 = _StdConv(cin, cin, 1, bias=False), nn.GroupNorm(32, cin, eps=1e-4)
        self.conv2, self.gn2 = _StdConv(cin, cin, 3, bias=False), nn.GroupNorm(32, cin, eps=1e-4)
        self.conv3, self.gn3 = _StdConv(cin, cout, 1, bias=False), nn.GroupNorm(32, cout, eps=1e-4)
        self.conv_proj, self.gn_proj = _StdConv(cin, cout, 1, bias=False), nn.GroupNorm(32, cout, eps=1e-4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.gn_proj(self.conv_proj(x))
        x = F.relu(self.gn1(self.conv1(x)))
        x = F.relu(self.gn2(self.conv2(x)))
        return F.relu(self.gn3(self.conv3(x)) + skip)


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value, self.out = (nn.Linear(dim, dim) for _ in range(4))

    def freeze(self) -> None:
        self.register_buffer("qkv_w", torch.cat([self.query.weight, self.key.weight, self.value.weight]).detach(),
                             persistent=False)
        self.register_buffer("qkv_b", torch.cat([self.query.bias, self.key.bias, self.value.bias]).detach(),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = F.linear(x, self.qkv_w, self.qkv_b).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(head dim)) v
        return self.out(y.transpose(1, 2).reshape(b, n, c))


class _Block(nn.Module):
    def __init__(self, dim: int, mlp: int, heads: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attention, self.mlp = _Attention(dim, heads), Mlp(dim, mlp)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class _PosEmb(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.position_emb = nn.Parameter(torch.zeros(1, GRID * GRID, dim))


class _ScaleEmb(nn.Module):
    def __init__(self, scales: int, dim: int):
        super().__init__()
        self.scale_emb = nn.Parameter(torch.zeros(scales, dim))


class _Encoder(nn.Module):
    def __init__(self, dim: int = 384, mlp: int = 1152, heads: int = 6, layers: int = 14, scales: int = 3):
        super().__init__()
        self.posembed_input = _PosEmb(dim)
        self.scaleembed_input = _ScaleEmb(scales, dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.encoder_norm = nn.LayerNorm(dim, eps=1e-6)
        self.transformer = nn.ModuleDict({f"encoderblock_{i}": _Block(dim, mlp, heads) for i in range(layers)})


class MusiqNet(nn.Module):
    """The MUSIQ network with pyiqa's parameter names; :meth:`forward` takes RGB ``(N, 3, H, W)`` in [0, 1]
    and returns ``(N,)`` scores."""

    def __init__(self, outputs: int = 1):
        super().__init__()
        self.outputs = outputs
        self.conv_root = _StdConv(3, 64, 7, 2, bias=False)
        self.gn_root = nn.GroupNorm(32, 64, eps=1e-6)
        self.block1 = _Bottleneck(64, 256)
        self.embedding = nn.Linear(256 * (PATCH // 4) ** 2, 384)
        self.transformer_encoder = _Encoder()
        self.head = nn.Sequential(nn.Linear(384, outputs)) if outputs > 1 else nn.Linear(384, outputs)

    def freeze(self) -> "MusiqNet":
        """Precompute what depends on the weights only (call after loading them)."""
        for m in self.modules():
            if isinstance(m, (_StdConv, _Attention)):
                m.freeze()
        return self.eval().requires_grad_(False)

    def _stem(self, patches: torch.Tensor) -> torch.Tensor:
        """(P, 3, 32, 32) patches -> (P, 16384) features in TensorFlow's (h, w, c) order."""
        patches = patches.contiguous(memory_format=torch.channels_last)  # ~2x faster convolutions and pooling on CPU
        x = F.relu(self.gn_root(self.conv_root(patches)))
        pt, pb = _same_pad(x.shape[2], 3, 2)
        pl, pr = _same_pad(x.shape[3], 3, 2)
        x = F.max_pool2d(F.pad(x, (pl, pr, pt, pb)), 3, 2)  # after a ReLU: zero padding = SAME max-pool
        x = self.block1(x)
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)

    def _tokens(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The patches of every scale ``(N, L, 3, 32, 32)`` and their embeddings to add ``(L, 384)``."""
        h, w = x.shape[2:]
        enc = self.transformer_encoder
        patches, adds, images = [], [], []
        for longer in sorted(SCALES):
            ratio = longer / max(h, w)
            rh, rw = round(h * ratio), round(w * ratio)
            images.append(F.interpolate(x, (rh, rw), mode="bicubic", align_corners=False))
        images.append(x)
        for s, img in enumerate(images):
            p, ch, cw = _patches(img)
            patches.append(p)
            pos = _hashed_positions(ch, cw).to(x.device)
            adds.append(enc.posembed_input.position_emb[0, pos] + enc.scaleembed_input.scale_emb[s])
        return torch.cat(patches, 1), torch.cat(adds, 0)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - 0.5) * 2
        patches, adds = self._tokens(x)
        n, length = patches.shape[:2]
        feats = self._stem(patches.reshape(n * length, 3, PATCH, PATCH)).view(n, length, -1)
        enc = self.transformer_encoder
        t = self.embedding(feats) + adds
        t = torch.cat([enc.cls.expand(n, 1, -1), t], 1)
        for block in enc.transformer.values():
            t = block(t)
        cls = enc.encoder_norm(t[:, 0])
        q = self.head(cls)
        if self.outputs > 1:  # the distribution's mean over the bins 1..outputs (pyiqa's dist_to_mos)
            q = (q.softmax(-1) * torch.arange(1, self.outputs + 1, device=q.device, dtype=q.dtype)).sum(-1)
        return q.reshape(n)


def _patches(img: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """``(N, count_h * count_w, 3, 32, 32)`` SAME-padded patches, row by row, and the counts."""
    n, c, h, w = img.shape
    ch, cw = math.ceil(h / PATCH), math.ceil(w / PATCH)
    pt, pb = _same_pad(h, PATCH, PATCH)
    pl, pr = _same_pad(w, PATCH, PATCH)
    img = F.pad(img, (pl, pr, pt, pb))
    p = img.view(n, c, ch, PATCH, cw, PATCH).permute(0, 2, 4, 1, 3, 5).reshape(n, ch * cw, c, PATCH, PATCH)
    return p, ch, cw


@functools.lru_cache(maxsize=64)
def _hashed_positions(count_h: int, count_w: int) -> torch.Tensor:
    """Each patch's index in the 10x10 embedding grid: its row and column mapped by nearest
    interpolation (torch's, as pyiqa computes it) of ``arange(10)`` onto ``count_h`` / ``count_w``."""
    grid = torch.arange(GRID, dtype=torch.float32).view(1, 1, GRID)
    rows = F.interpolate(grid, count_h, mode="nearest").view(-1).long()
    cols = F.interpolate(grid, count_w, mode="nearest").view(-1).long()
    return (rows[:, None] * GRID + cols[None, :]).reshape(-1)


@functools.lru_cache(maxsize=8)
def _cached(path: str, outputs: int, device: str) -> MusiqNet:
    net = MusiqNet(outputs)
    load_strict(net, torch_load(path), path, f"a MUSIQ weights file with {outputs} output(s) (pyiqa's layout)")
    return net.freeze().to(device)


def get_musiq(head: str = "koniq", weights=None, device="cpu") -> MusiqNet:
    """The MUSIQ network of ``head`` (koniq, ava, spaq, paq2piq) on ``device``, its published file found
    locally (``weights``: the file or a folder holding it); loaded once per file and device."""
    if head not in HEADS:
        from vsrbench.core.errors import UnknownNameError

        raise UnknownNameError("MUSIQ head", head, HEADS)
    name, _, outputs = HEADS[head]
    path = require_weights(name, weights)
    return _cached(str(path), outputs, str(torch.device(device)))


def musiq_scores(frames, *, head: str = "koniq", weights=None, device="cpu") -> "float | np.ndarray":
    """MUSIQ score of each frame, as pyiqa's ``musiq`` (``musiq-ava``, ...) computes it.

    Parameters
    ----------
    frames : numpy.ndarray or torch.Tensor
        One RGB uint8 frame ``(H, W, 3)`` or a stack ``(N, H, W, 3)`` of one size (or a float tensor
        ``(N, 3, H, W)`` in [0, 1]).
    head : str
        ``"koniq"`` (pyiqa's ``musiq``, ~0..100), ``"ava"`` (1..10), ``"spaq"``, ``"paq2piq"``.
    weights : str or os.PathLike, optional
        The published weights file (or a folder holding it); looked up locally when None.
    device : str or torch.device
        Where the network runs.

    Returns
    -------
    float or numpy.ndarray
        A float for one frame, an ``(N,)`` array for a stack (higher is better).

    Raises
    ------
    vsrbench.core.errors.WeightsError
        The file is missing, unreadable or not a MUSIQ file of that head.
    vsrbench.core.errors.InputError
        Frames of another shape or type.
    """
    x, single = unit_batch(frames, device)
    net = get_musiq(head, weights, device)
    out = _per_frame(net, x).cpu().numpy().astype(np.float64)
    return float(out[0]) if single else out


def _per_frame(net: MusiqNet, x: torch.Tensor) -> torch.Tensor:
    """The scores of a stack, one frame per pass (on CPU, passes of several frames measured no faster per
    frame: the patch activations of one frame already fill the caches)."""
    return torch.cat([net(x[i:i + 1]) for i in range(x.shape[0])])


def _scorer(head: str):
    def score(clip) -> list[tuple[int, float]]:
        name = HEADS[head][0]
        net = get_musiq(head, clip.weights.get(name), clip.device)
        return clip_rows(clip, lambda f: net(unit_batch(f, clip.device)[0]).cpu().numpy(), 1)

    score.__name__ = f"score_{head}"
    score.__doc__ = f"Scorer of metric ``musiq{'' if head == 'koniq' else '-' + head}``: MUSIQ ({_DATASETS[head]} head) per frame."
    return score


score_koniq = _scorer("koniq")
score_ava = _scorer("ava")
score_spaq = _scorer("spaq")
score_paq2piq = _scorer("paq2piq")
