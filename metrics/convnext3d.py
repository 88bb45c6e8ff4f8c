"""The 3-D ConvNeXt-T of DOVER's aesthetic branch.

ConvNeXt-T (Liu et al., "A ConvNet for the 2020s", 2022) inflated to video as
``VQAssessment/DOVER:dover/models/conv_backbone.py`` (``ConvNeXt3D``, ``inflate_strategy="131"``) builds
it: a ``2x4x4`` stride-``2x4x4`` stem, ``1x2x2`` downsampling convolutions, and blocks whose depthwise
convolution is ``k x 7 x 7`` with ``k`` cycling 1, 3, 1 within each stage; the output is the final
LayerNorm applied at every position (no pooling, no classifier). Module names follow that file, so
the released ``DOVER.pth`` loads unchanged (prefix ``aesthetic_backbone.``). Inference only.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["ConvNeXt3D"]


class _ChannelsFirstNorm(nn.Module):
    """LayerNorm over the channel axis of ``(B, C, T, H, W)``, written out as the original writes it."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None, None] * x + self.bias[:, None, None, None]


class _LastNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


class _Block(nn.Module):
    def __init__(self, dim: int, t: int):
        super().__init__()
        self.dwconv = nn.Conv3d(dim, dim, kernel_size=(t, 7, 7), padding=(t // 2, 3, 3), groups=dim)
        self.norm = _LastNorm(dim)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 4, 1)
        y = self.gamma * self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + y.permute(0, 4, 1, 2, 3)


class ConvNeXt3D(nn.Module):
    """``(B, 3, T, H, W)`` normalised frames -> ``(B, 768, T/2, H/32, W/32)`` features (ConvNeXt-T sizes)."""

    def __init__(self, depths=(3, 3, 9, 3), dims=(96, 192, 384, 768), inflate: str = "131"):
        super().__init__()
        self.downsample_layers = nn.ModuleList(
            [nn.Sequential(nn.Conv3d(3, dims[0], kernel_size=(2, 4, 4), stride=(2, 4, 4)), _ChannelsFirstNorm(dims[0]))]
            + [nn.Sequential(_ChannelsFirstNorm(dims[i]), nn.Conv3d(dims[i], dims[i + 1], (1, 2, 2), (1, 2, 2)))
               for i in range(3)])
        self.stages = nn.ModuleList([
            nn.Sequential(*[_Block(dims[i], int(inflate[j % len(inflate)])) for j in range(depths[i])])
            for i in range(4)])
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for down, stage in zip(self.downsample_layers, self.stages):
            x = stage(down(x))
        return self.norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)
