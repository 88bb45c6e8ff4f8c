"""The Video Swin Transformer (tiny) of FAST-VQA / FasterVQA and DOVER's technical branch.

A 3-D Swin-T (Liu et al., "Video Swin Transformer", 2022) with the *gated relative position bias*
(GRPB) FAST-VQA adds for fragment inputs (Wu et al., ECCV 2022): inside an attention window, a pair of
tokens from the same 32x32 fragment gets the ``fragment_position_bias_table`` bias, a pair from
neighbouring fragments the usual ``relative_position_bias_table`` (the gate is the L1 distance of
their fragment coordinates, as ``VQAssessment/DOVER:dover/models/swin_backbone.py`` computes it, so
a pair two fragments apart gets ``2 * relative - fragment``). The fragment grid of a window is its
own window size (7x7 in space), as in that file.

The module names and parameter shapes follow that file, so the released ``DOVER.pth`` (prefix
``technical_backbone.``) and FasterVQA's ``FAST_VQA_3D_1_1.pth`` (prefix ``fragments_backbone.``) load
unchanged. Inference only (no dropout, no drop-path). Two behaviours of the original are kept on
purpose because they change numbers on inputs smaller than the 32x224x224 it was made for:

- a window larger than the feature map shrinks to it, and the relative-position index is then the
  top-left ``N x N`` block of the full window's index (``adaptive=False``, DOVER's backbone);
- FAST-VQA's copy (``adaptive=True``) resizes the window in proportion to the input
  (``window * input // (32, 224, 224)``) and takes the index of the shrunk window's own positions.

At 32x224x224 both give the same result.
"""
from __future__ import annotations

import functools
from math import prod

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["SwinTransformer3D", "window_size_for"]

_BASE_INPUT = (32, 224, 224)


def window_size_for(size, window, shift=None):
    """The window (and shift) used on a feature map of ``size`` (D, H, W): a window side not smaller than
    the map becomes the map's side and its shift 0."""
    win = tuple(min(s, w) for s, w in zip(size, window))
    if shift is None:
        return win
    return win, tuple(0 if s <= w else sh for s, w, sh in zip(size, window, shift))


def _windows(x: torch.Tensor, win) -> torch.Tensor:
    """(B, D, H, W, C) -> (B * windows, tokens per window, C)."""
    b, d, h, w, c = x.shape
    x = x.view(b, d // win[0], win[0], h // win[1], win[1], w // win[2], win[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, prod(win), c)


def _unwindow(x: torch.Tensor, win, b: int, d: int, h: int, w: int) -> torch.Tensor:
    x = x.view(b, d // win[0], h // win[1], w // win[2], win[0], win[1], win[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


def _relative_index(win) -> torch.Tensor:
    """Index into a ``(2Wd-1)(2Wh-1)(2Ww-1)`` bias table for each pair of positions of a window."""
    grid = torch.stack(torch.meshgrid(*[torch.arange(n) for n in win], indexing="ij")).flatten(1)  # 3, N
    rel = (grid[:, :, None] - grid[:, None, :]).permute(1, 2, 0)  # N, N, 3
    rel = rel + torch.tensor([n - 1 for n in win])
    return rel[..., 0] * (2 * win[1] - 1) * (2 * win[2] - 1) + rel[..., 1] * (2 * win[2] - 1) + rel[..., 2]


@functools.lru_cache(maxsize=64)
def _fragment_gate(dp: int, hp: int, wp: int, win, shift, device: str) -> torch.Tensor:
    """(windows, N, N) float: L1 distance between the fragment coordinates of two tokens of a window, the
    padded map split into ``1 x Wh x Ww`` fragments by nearest-neighbour scaling of the fragment grid."""
    grid = torch.stack(torch.meshgrid(torch.arange(1), torch.arange(win[1]), torch.arange(win[2]),
                                      indexing="ij")).float()
    coords = F.interpolate(grid[None].to(device), size=(dp, hp, wp)).long().permute(0, 2, 3, 4, 1)
    coords = torch.roll(coords, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
    cw = _windows(coords, win)  # windows, N, 3
    return (cw[:, None, :] - cw[:, :, None]).abs().sum(-1).float()


@functools.lru_cache(maxsize=64)
def _shift_mask(dp: int, hp: int, wp: int, win, shift, device: str) -> torch.Tensor:
    """(windows, N, N): 0 between tokens of one region of the cyclically shifted map, -100 otherwise."""
    label = torch.zeros((1, dp, hp, wp, 1), device=device)
    n = 0
    for d in (slice(-win[0]), slice(-win[0], -shift[0]), slice(-shift[0], None)):
        for h in (slice(-win[1]), slice(-win[1], -shift[1]), slice(-shift[1], None)):
            for w in (slice(-win[2]), slice(-win[2], -shift[2]), slice(-shift[2], None)):
                label[:, d, h, w, :] = n
                n += 1
    lw = _windows(label, win).squeeze(-1)
    diff = lw[:, None, :] - lw[:, :, None]
    return torch.where(diff != 0, torch.tensor(-100.0, device=device), torch.tensor(0.0, device=device))


class _Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class _Attention(nn.Module):
    def __init__(self, dim: int, window, heads: int, fragment_bias: bool):
        super().__init__()
        self.window, self.heads, self.scale = tuple(window), heads, (dim // heads) ** -0.5
        cells = (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(cells, heads))
        if fragment_bias:
            self.fragment_position_bias_table = nn.Parameter(torch.zeros(cells, heads))
        self.register_buffer("relative_position_index", _relative_index(self.window))
        self._gated_cache = None  # the gated bias of the last call (inference: the same for every clip)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def _bias(self, table: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
        return table[index.reshape(-1)].reshape(n, n, -1).permute(2, 0, 1)  # heads, N, N

    def _gated(self, index: torch.Tensor, n: int, gate: torch.Tensor, shrunk) -> torch.Tensor:
        """(windows, heads, N, N): relative bias where the gate is 1, fragment bias where it is 0, computed as the
        original computes it and kept for the next call while the tables, the gate and the mode are the same."""
        rt, ft = self.relative_position_bias_table, self.fragment_position_bias_table
        key = (n, shrunk, rt._version, ft._version, rt.data_ptr(), ft.data_ptr(), str(rt.device),
               torch.is_inference_mode_enabled(), torch.is_grad_enabled())
        hit = self._gated_cache
        if hit is not None and hit[0] == key and hit[1] is gate:
            return hit[2]
        g = gate[:, None]
        bias = self._bias(rt, index, n)[None] * g + self._bias(ft, index, n)[None] * (1 - g)
        self._gated_cache = (key, gate, bias) if not torch.is_grad_enabled() else None
        return bias

    def forward(self, x, mask, gate, shrunk=None):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if shrunk is None:  # DOVER's copy: the top-left block of the full window's index
            index = self.relative_position_index[:n, :n]
        else:  # FAST-VQA's copy: the index of the shrunk window's positions
            d, h, w = shrunk
            index = self.relative_position_index.reshape(*self.window, *self.window)[:d, :h, :w, :d, :h, :w]
        nw = gate.shape[0]
        if hasattr(self, "fragment_position_bias_table"):  # in place: the same sums, no new 4-D buffers
            attn.view(b // nw, nw, self.heads, n, n).add_(self._gated(index, n, gate, shrunk)[None])
        else:
            attn.add_(self._bias(self.relative_position_bias_table, index, n)[None])
        if mask is not None:
            nm = mask.shape[0]
            attn.view(b // nm, nm, self.heads, n, n).add_(mask[:, None][None])
        attn = attn.softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int, window, shift, fragment_bias: bool):
        super().__init__()
        self.window, self.shift = tuple(window), tuple(shift)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = _Attention(dim, window, heads, fragment_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = _Mlp(dim, 4 * dim)

    def _attend(self, x, mask, resized):
        b, d, h, w, _ = x.shape
        win, shift = window_size_for((d, h, w), resized or self.window, self.shift)
        x = self.norm1(x)
        pad = [(win[i] - s % win[i]) % win[i] for i, s in enumerate((d, h, w))]
        x = F.pad(x, (0, 0, 0, pad[2], 0, pad[1], 0, pad[0]))
        _, dp, hp, wp, _ = x.shape
        shifted = any(s > 0 for s in shift)
        if shifted:
            x = torch.roll(x, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
        gate = _fragment_gate(dp, hp, wp, win, shift, str(x.device))
        y = self.attn(_windows(x, win), mask if shifted else None, gate, win if resized is not None else None)
        x = _unwindow(y.view(-1, *win, y.shape[-1]), win, b, dp, hp, wp)
        if shifted:
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        return x[:, :d, :h, :w, :].contiguous() if any(pad) else x

    def forward(self, x, mask, resized=None):
        x = x + self._attend(x, mask, resized)
        return x + self.mlp(self.norm2(x))


class _Merge(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        _, _, h, w, _ = x.shape
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


class _Stage(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, window, fragment_bias: bool, merge: bool):
        super().__init__()
        self.window = tuple(window)
        self.shift = tuple(s // 2 for s in window)
        self.blocks = nn.ModuleList([_Block(dim, heads, window, (0, 0, 0) if i % 2 == 0 else self.shift,
                                            fragment_bias) for i in range(depth)])
        self.downsample = _Merge(dim) if merge else None

    def forward(self, x, resized=None):
        d, h, w = x.shape[2:]
        win, shift = window_size_for((d, h, w), resized or self.window, self.shift)
        x = x.permute(0, 2, 3, 4, 1)
        dp, hp, wp = (-(-s // n) * n for s, n in zip((d, h, w), win))
        mask = _shift_mask(dp, hp, wp, win, shift, str(x.device))
        for blk in self.blocks:
            x = blk(x, mask, resized)
        if self.downsample is not None:
            x = self.downsample(x)
        return x.permute(0, 4, 1, 2, 3)


class _PatchEmbed(nn.Module):
    def __init__(self, patch=(2, 4, 4), dim: int = 96):
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv3d(3, dim, kernel_size=patch, stride=patch)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        _, _, d, h, w = x.shape
        pd, ph, pw = ((p - s % p) % p for s, p in zip((d, h, w), self.patch))
        if pw:
            x = F.pad(x, (0, pw))
        if ph:
            x = F.pad(x, (0, 0, 0, ph))
        if pd:
            x = F.pad(x, (0, 0, 0, 0, 0, pd))
        x = self.proj(x)
        return self.norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)


class SwinTransformer3D(nn.Module):
    """Video Swin-T with FAST-VQA's gated relative position bias; ``(B, 3, T, H, W)`` normalised frames ->
    ``(B, 768, T/2, H/32, W/32)`` features.

    ``adaptive``: FAST-VQA/FasterVQA's copy (the window scales with the input size); False: DOVER's copy.
    """

    def __init__(self, *, adaptive: bool = False, window=(8, 7, 7), depths=(2, 2, 6, 2), heads=(3, 6, 12, 24),
                 fragment_biases=(True, True, True, False), embed_dim: int = 96):
        super().__init__()
        self.adaptive, self.window = adaptive, tuple(window)
        self.patch_embed = _PatchEmbed((2, 4, 4), embed_dim)
        self.layers = nn.ModuleList([
            _Stage(embed_dim * 2 ** i, depths[i], heads[i], window, fragment_biases[i], i < len(depths) - 1)
            for i in range(len(depths))])
        self.norm = nn.LayerNorm(embed_dim * 2 ** (len(depths) - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        resized = None
        if self.adaptive:
            resized = tuple(w * s // b for w, s, b in zip(self.window, x.shape[2:], _BASE_INPUT))
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x.contiguous(), resized)
        return self.norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)
