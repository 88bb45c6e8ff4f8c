"""RAFT optical flow (Teed & Deng, 2020), the "large" model, as vsrbench's own module.

The network: a feature encoder (instance norm) and a context encoder (batch norm), both
downsampling by 8; the all-pairs correlation volume of the two feature maps, average-pooled into a
4-level pyramid and looked up within radius 4 around the current estimate; a motion encoder, a
separable ConvGRU (1x5 then 5x1) and a flow head updating the flow at 1/8 resolution; the final
flow upsampled ×8 as a convex combination of its 3×3 neighbours with a predicted mask. Inference
("test mode") returns only the last upsampled flow. It runs on CPU and CUDA, batched over pairs.

Weights (looked up locally, never downloaded implicitly; ``vsrbench weights download NAME``):

- ``raft-things``: princeton-vl's ``raft-things.pth`` (Chairs + Things), the file EvalCrafter and the
  papers that follow it use; published inside ``models.zip`` (no sha256 published);
- ``raft-large-c-t-v1``: torchvision's ``raft_large_C_T_V1-22a6c225.pth``, the port of that same model;
- ``raft-large-c-t-skht-v2``: torchvision's ``raft_large_C_T_SKHT_V2-ff5fadd5.pth`` (its ``DEFAULT``),
  a different model (trained by torchvision from scratch, fine-tuned on Sintel/KITTI/HD1K/Things).

Both key layouts (the original's ``module.fnet...`` saved from ``DataParallel``, and torchvision's
``feature_encoder...``) load through one key map (:data:`KEY_MAP`) into the names of this module;
loading is strict: every tensor of the file is used and none is missing; a file of another model
raises one :class:`~vsrbench.core.errors.WeightsError` line saying what the file looks like.

Small frames: the pyramid's coarsest level has ``(H/8) // 8`` rows; below 128 pixels it has one row
(or none), where the usual lookup (``grid_sample`` on coordinates normalised by ``size - 1``)
divides by zero: the original returns NaN (e.g. 120×200; an empty level, e.g. at 64×48, fails in
``avg_pool2d``), torchvision refuses such inputs (pytorch/vision#7338). Here the
lookup is bilinear in pixel coordinates with zeros outside the volume, which is exactly the usual
lookup wherever that is defined (levels of 2 or more rows and columns) and stays defined for a level
of one row or column (its neighbours outside are zeros) or none (an empty level contributes zeros).
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from vsrbench.core.errors import WeightsError
from vsrbench.metrics.extension import MetricWeights, register_weights, require_weights

__all__ = ["RAFT", "RAFT_WEIGHTS", "KEY_MAP", "own_state_dict", "load_raft", "get_raft", "raft_flow",
           "pad_to_multiple", "ITERS"]

#: flow updates of the original's test mode as EvalCrafter calls it
ITERS = 20

RAFT_WEIGHTS = {
    "raft-things": MetricWeights(
        "raft-things", "raft-things.pth", None,
        "princeton-vl/RAFT's models.zip (download_models.sh: https://dl.dropboxusercontent.com/s/4j4z58wuv8o0mfz/"
        "models.zip, or the Google Drive folder of its README), file models/raft-things.pth",
        None, "princeton-vl's raft-things.pth (RAFT, Chairs + Things)"),
    "raft-large-c-t-v1": MetricWeights(
        "raft-large-c-t-v1", "raft_large_C_T_V1-22a6c225.pth",
        "https://download.pytorch.org/models/raft_large_C_T_V1-22a6c225.pth",
        "https://download.pytorch.org/models/raft_large_C_T_V1-22a6c225.pth (torchvision Raft_Large_Weights.C_T_V1, "
        "the port of princeton-vl's raft-things)", None, "torchvision's published file"),
    "raft-large-c-t-skht-v2": MetricWeights(
        "raft-large-c-t-skht-v2", "raft_large_C_T_SKHT_V2-ff5fadd5.pth",
        "https://download.pytorch.org/models/raft_large_C_T_SKHT_V2-ff5fadd5.pth",
        "https://download.pytorch.org/models/raft_large_C_T_SKHT_V2-ff5fadd5.pth (torchvision "
        "Raft_Large_Weights.C_T_SKHT_V2, its DEFAULT: a different model from raft-things)", None,
        "torchvision's published file"),
}
register_weights(*RAFT_WEIGHTS.values())

_HIDDEN, _CONTEXT, _LEVELS, _RADIUS = 128, 128, 4, 4


# ---------------------------------------------------------------------------------------------- network

class _Block(nn.Module):
    """Residual block: two 3×3 conv-norm-relu; a strided one projects the shortcut (1×1 conv + norm)."""

    def __init__(self, cin: int, cout: int, norm, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.norm1 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.norm2 = norm(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride), norm(cout)) if stride != 1 else None

    def forward(self, x):
        y = F.relu(self.norm1(self.conv1(x)))
        y = F.relu(self.norm2(self.conv2(y)))
        return F.relu((x if self.downsample is None else self.downsample(x)) + y)


class _Encoder(nn.Module):
    """7×7 stride-2 stem, three stages of two residual blocks (64, 96 /2, 128 /2), 1×1 output conv."""

    def __init__(self, out: int, norm):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3)
        self.norm1 = norm(64)
        chans, cin = [], 64
        for cout, stride in ((64, 1), (96, 2), (128, 2)):
            chans.append(nn.Sequential(_Block(cin, cout, norm, stride), _Block(cout, cout, norm, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3 = chans
        self.conv2 = nn.Conv2d(128, out, 1)

    def forward(self, x):
        x = F.relu(self.norm1(self.conv1(x)))
        return self.conv2(self.layer3(self.layer2(self.layer1(x))))


class _MotionEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.convc1 = nn.Conv2d(_LEVELS * (2 * _RADIUS + 1) ** 2, 256, 1)
        self.convc2 = nn.Conv2d(256, 192, 3, padding=1)
        self.convf1 = nn.Conv2d(2, 128, 7, padding=3)
        self.convf2 = nn.Conv2d(128, 64, 3, padding=1)
        self.conv = nn.Conv2d(192 + 64, 128 - 2, 3, padding=1)

    def forward(self, flow, corr):
        c = F.relu(self.convc2(F.relu(self.convc1(corr))))
        f = F.relu(self.convf2(F.relu(self.convf1(flow))))
        return torch.cat([F.relu(self.conv(torch.cat([c, f], 1))), flow], 1)


class _SepConvGRU(nn.Module):
    """A ConvGRU with 1×5 kernels, then one with 5×1 kernels."""

    def __init__(self, hidden: int, inp: int):
        super().__init__()
        for tag, k, p in (("1", (1, 5), (0, 2)), ("2", (5, 1), (2, 0))):
            for gate in "zrq":
                setattr(self, f"conv{gate}{tag}", nn.Conv2d(hidden + inp, hidden, k, padding=p))

    def forward(self, h, x):
        for tag in "12":
            hx = torch.cat([h, x], 1)
            z = torch.sigmoid(getattr(self, f"convz{tag}")(hx))
            r = torch.sigmoid(getattr(self, f"convr{tag}")(hx))
            q = torch.tanh(getattr(self, f"convq{tag}")(torch.cat([r * h, x], 1)))
            h = (1 - z) * h + z * q
        return h


class _FlowHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(_HIDDEN, 256, 3, padding=1)
        self.conv2 = nn.Conv2d(256, 2, 3, padding=1)

    def forward(self, x):
        return self.conv2(F.relu(self.conv1(x)))


class _UpdateBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = _MotionEncoder()
        self.gru = _SepConvGRU(_HIDDEN, _CONTEXT + 128)
        self.flow_head = _FlowHead()
        self.mask = nn.Sequential(nn.Conv2d(_HIDDEN, 256, 3, padding=1), nn.ReLU(), nn.Conv2d(256, 64 * 9, 1))

    def forward(self, net, inp, corr, flow):
        net = self.gru(net, torch.cat([inp, self.encoder(flow, corr)], 1))
        return net, self.flow_head(net)


def _pyramid(fmap1: torch.Tensor, fmap2: torch.Tensor) -> list[torch.Tensor]:
    """All-pairs correlation ``(B·h·w, 1, h, w)`` divided by sqrt(channels), and 3 average-pooled levels;
    a level below 2 rows or columns pools to an empty level (the usual pooling cannot)."""
    b, c, h, w = fmap1.shape
    corr = torch.matmul(fmap1.reshape(b, c, h * w).transpose(1, 2), fmap2.reshape(b, c, h * w))
    levels = [(corr / torch.sqrt(torch.tensor(float(c)))).reshape(b * h * w, 1, h, w)]
    for _ in range(_LEVELS - 1):
        v = levels[-1]
        if min(v.shape[-2:]) >= 2:
            levels.append(F.avg_pool2d(v, 2, stride=2))
        else:
            levels.append(v.new_zeros(v.shape[0], 1, v.shape[-2] // 2, v.shape[-1] // 2))
    return levels


def _lookup(levels: list[torch.Tensor], coords: torch.Tensor) -> torch.Tensor:
    """Correlation features ``(B, levels·81, h, w)`` around ``coords`` ``(B, 2, h, w)`` (x, y at 1/8
    resolution): bilinear, pixel coordinates, zeros outside; channel ``i·9 + j`` of a level samples at
    ``(x + i - 4, y + j - 4)`` (the published weights' order)."""
    b, _, h, w = coords.shape
    d = torch.arange(-_RADIUS, _RADIUS + 1, dtype=coords.dtype, device=coords.device)
    delta = torch.stack(torch.meshgrid(d, d, indexing="ij"), -1).view(1, 2 * _RADIUS + 1, 2 * _RADIUS + 1, 2)
    centre = coords.permute(0, 2, 3, 1).reshape(b * h * w, 1, 1, 2)
    out = []
    for i, vol in enumerate(levels):
        hv, wv = vol.shape[-2:]
        if hv < 2 or wv < 2:  # zeros beyond the level: padding to 2 keeps the bilinear weights of pixel 0
            vol = F.pad(vol, (0, max(0, 2 - wv), 0, max(0, 2 - hv)))
            hv, wv = vol.shape[-2:]
        xy = centre / 2 ** i + delta
        x, y = xy.split(1, dim=-1)
        grid = torch.cat([2 * x / (wv - 1) - 1, 2 * y / (hv - 1) - 1], -1)
        out.append(F.grid_sample(vol, grid, align_corners=True).view(b, h, w, -1))
    return torch.cat(out, -1).permute(0, 3, 1, 2).contiguous()


def _upsample(flow: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """×8 convex upsampling: each fine pixel a softmax-weighted mix of the 3×3 coarse neighbours (×8)."""
    b, _, h, w = flow.shape
    mask = torch.softmax(mask.view(b, 1, 9, 8, 8, h, w), dim=2)
    nb = F.unfold(8 * flow, [3, 3], padding=1).view(b, 2, 9, 1, 1, h, w)
    return (mask * nb).sum(2).permute(0, 1, 4, 2, 5, 3).reshape(b, 2, 8 * h, 8 * w)


class RAFT(nn.Module):
    """RAFT-large. ``forward(image1, image2, iters)`` takes images already scaled to [-1, 1],
    ``(B, 3, H, W)`` with H and W multiples of 8, and returns the final upsampled flow
    ``(B, 2, H, W)`` from image1 to image2 (x, y in pixels)."""

    def __init__(self):
        super().__init__()
        self.fnet = _Encoder(256, lambda c: nn.InstanceNorm2d(c))
        self.cnet = _Encoder(_HIDDEN + _CONTEXT, nn.BatchNorm2d)
        self.update_block = _UpdateBlock()

    def forward(self, image1: torch.Tensor, image2: torch.Tensor, iters: int = ITERS) -> torch.Tensor:
        b, _, hgt, wid = image1.shape
        if image2.shape != image1.shape or hgt % 8 or wid % 8:
            raise ValueError(f"RAFT needs two batches of the same shape with H, W multiples of 8, got "
                             f"{tuple(image1.shape)} and {tuple(image2.shape)}")
        if (hgt // 8) * (wid // 8) < 2:
            raise ValueError(f"RAFT needs more than one 1/8-resolution pixel (frames over 8x8 after padding to "
                             f"multiples of 8), got {hgt}x{wid}")
        fmap1, fmap2 = self.fnet(torch.cat([image1, image2], 0)).float().chunk(2, 0)
        return self._refine(fmap1, fmap2, self.cnet(image1), iters)

    def both_ways(self, frames: torch.Tensor, iters: int = ITERS) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward and backward flows of each consecutive pair of ``frames`` ``(K+1, 3, H, W)`` (scaled to
        [-1, 1]): ``(fw, bw)``, each ``(K, 2, H, W)``, ``fw[i]`` from frame i to i+1, ``bw[i]`` back. The same as
        :meth:`forward` on the 2K pairs, with each frame's features and context computed once (not 2-4 times)."""
        if frames.shape[0] < 2 or frames.shape[-2] % 8 or frames.shape[-1] % 8:
            raise ValueError(f"both_ways needs 2 or more frames with H, W multiples of 8, got {tuple(frames.shape)}")
        if (frames.shape[-2] // 8) * (frames.shape[-1] // 8) < 2:
            raise ValueError(f"RAFT needs more than one 1/8-resolution pixel (frames over 8x8 after padding to "
                             f"multiples of 8), got {frames.shape[-2]}x{frames.shape[-1]}")
        fmaps, ctx = self.fnet(frames).float(), self.cnet(frames)
        k = frames.shape[0] - 1
        flows = self._refine(torch.cat([fmaps[:-1], fmaps[1:]]), torch.cat([fmaps[1:], fmaps[:-1]]),
                             torch.cat([ctx[:-1], ctx[1:]]), iters)
        return flows[:k], flows[k:]

    def _refine(self, fmap1: torch.Tensor, fmap2: torch.Tensor, context: torch.Tensor, iters: int) -> torch.Tensor:
        """The update iterations from the features and context of image1: the final ×8 upsampled flow."""
        b, _, h8, w8 = fmap1.shape
        levels = _pyramid(fmap1, fmap2)
        net, inp = context.split([_HIDDEN, _CONTEXT], 1)
        net, inp = torch.tanh(net), F.relu(inp)
        ys, xs = torch.meshgrid(torch.arange(h8, device=fmap1.device), torch.arange(w8, device=fmap1.device),
                                indexing="ij")
        coords0 = torch.stack([xs, ys], 0).float()[None].expand(b, 2, h8, w8)
        coords1 = coords0.clone()
        for _ in range(iters):
            corr = _lookup(levels, coords1)
            net, delta = self.update_block(net, inp, corr, coords1 - coords0)
            coords1 = coords1 + delta
        return _upsample(coords1 - coords0, 0.25 * self.update_block.mask(net))


# ---------------------------------------------------------------------------------------------- weights

def _tv_pairs() -> list[tuple[str, str]]:
    """(own module, torchvision module) for every module holding tensors."""
    pairs = []
    for own, tv in (("fnet", "feature_encoder"), ("cnet", "context_encoder")):
        pairs += [(f"{own}.conv1", f"{tv}.convnormrelu.0"), (f"{own}.norm1", f"{tv}.convnormrelu.1"),
                  (f"{own}.conv2", f"{tv}.conv")]
        for layer in (1, 2, 3):
            for blk in (0, 1):
                o, t = f"{own}.layer{layer}.{blk}", f"{tv}.layer{layer}.{blk}"
                pairs += [(f"{o}.conv1", f"{t}.convnormrelu1.0"), (f"{o}.norm1", f"{t}.convnormrelu1.1"),
                          (f"{o}.conv2", f"{t}.convnormrelu2.0"), (f"{o}.norm2", f"{t}.convnormrelu2.1")]
                if layer > 1 and blk == 0:
                    pairs += [(f"{o}.downsample.0", f"{t}.downsample.0"), (f"{o}.downsample.1", f"{t}.downsample.1")]
    me, tm = "update_block.encoder", "update_block.motion_encoder"
    pairs += [(f"{me}.convc1", f"{tm}.convcorr1.0"), (f"{me}.convc2", f"{tm}.convcorr2.0"),
              (f"{me}.convf1", f"{tm}.convflow1.0"), (f"{me}.convf2", f"{tm}.convflow2.0"),
              (f"{me}.conv", f"{tm}.conv.0")]
    for tag in "12":
        pairs += [(f"update_block.gru.conv{g}{tag}", f"update_block.recurrent_block.convgru{tag}.conv{g}")
                  for g in "zrq"]
    pairs += [("update_block.flow_head.conv1", "update_block.flow_head.conv1"),
              ("update_block.flow_head.conv2", "update_block.flow_head.conv2"),
              ("update_block.mask.0", "mask_predictor.convrelu.0"), ("update_block.mask.2", "mask_predictor.conv")]
    return pairs


#: The one key map: for each module of this network that holds tensors, its name in the original
#: (princeton-vl, after stripping ``module.``) and in torchvision's ``raft_large``. The original also saves
#: each strided block's shortcut norm a second time as ``norm3`` (one module registered under two names).
KEY_MAP: dict[str, dict[str, str]] = {
    "original": {own: own for own, _ in _tv_pairs()},
    "torchvision": {tv: own for own, tv in _tv_pairs()},
}
_PARAMS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def _layout(keys: list[str]) -> str | None:
    if any(k.startswith("fnet.") for k in keys):
        return "original"
    if any(k.startswith("feature_encoder.") for k in keys):
        return "torchvision"
    return None


def _looks_like(sd: Mapping, keys: list[str]) -> str:
    """What a state dict that is not RAFT-large seems to be, in words."""
    first = ", ".join(keys[:3])
    stem = sd.get("fnet.conv1.weight", sd.get("feature_encoder.convnormrelu.0.weight"))
    if stem is not None and getattr(stem, "shape", (0,))[0] == 32:
        return "RAFT-small (its feature encoder starts with 32 channels; RAFT-large has 64)"
    if any(k.startswith(("features.", "classifier.", "fc.", "layer1.")) for k in keys):
        return f"an image classifier ({len(keys)} tensors: {first}, ...)"
    if any(k.startswith("lin") for k in keys):
        return "LPIPS linear layers"
    return f"not RAFT ({len(keys)} tensors: {first}, ...)"


def own_state_dict(sd, source: str = "the file") -> dict[str, torch.Tensor]:
    """The state dict of :class:`RAFT` from a file's state dict in the original or torchvision's layout.

    Strict: every tensor is used (the original's duplicate ``norm3`` must equal ``downsample.1``), none is
    missing, every shape fits; otherwise one-line :class:`WeightsError` saying what the file looks like.
    (``num_batches_tracked``, which inference never reads, may be absent.)
    """
    if not isinstance(sd, Mapping) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        kind = type(sd).__name__
        extra = f" with keys {', '.join(map(str, list(sd)[:4]))}" if isinstance(sd, Mapping) else ""
        raise WeightsError(f"{source} is not a RAFT state dict (a {kind}{extra}): expected princeton-vl's "
                           "raft-things.pth or a torchvision raft_large file")
    keys = list(sd)
    if keys and all(k.startswith("module.") for k in keys):
        sd = {k[len("module."):]: v for k, v in sd.items()}
        keys = list(sd)
    layout = _layout(keys)
    if layout is None or _looks_like(sd, keys).startswith("RAFT-small"):
        raise WeightsError(f"{source} is not a RAFT-large file: it looks like {_looks_like(sd, keys)}")
    want = RAFT().state_dict()
    mods = KEY_MAP[layout]
    out: dict[str, torch.Tensor] = {}
    unused = []
    for k, v in sd.items():
        mod, _, param = k.rpartition(".")
        if layout == "original" and ".norm3" in mod:
            twin = sd.get(k.replace(".norm3.", ".downsample.1."))
            if twin is None or not torch.equal(twin, v):
                unused.append(k)
            continue
        own = f"{mods[mod]}.{param}" if mod in mods and param in _PARAMS else None
        if own not in want:
            unused.append(k)
        elif tuple(v.shape) != tuple(want[own].shape):
            raise WeightsError(f"{source} ({layout} RAFT layout): {k} has shape {tuple(v.shape)}, RAFT-large needs "
                               f"{tuple(want[own].shape)}; it looks like {_looks_like(sd, keys)}")
        else:
            out[own] = v
    missing = [k for k in want if k not in out and not k.endswith("num_batches_tracked")]
    if unused or missing:
        bad = f"{len(unused)} unused tensors (first {unused[0]})" if unused else ""
        bad += ("; " if bad else "") + (f"{len(missing)} missing (first {missing[0]})" if missing else "")
        raise WeightsError(f"{source} is not a RAFT-large file in the {layout} layout: {bad}; it looks like "
                           f"{_looks_like(sd, keys)}")
    for k in want:
        out.setdefault(k, want[k])
    return out


def load_raft(path: str | Path, device="cpu") -> RAFT:
    """A :class:`RAFT` in eval mode on ``device`` with the weights of ``path`` (either layout)."""
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is one line
        raise WeightsError(f"cannot read RAFT weights {str(path)!r}: {type(e).__name__}: "
                           f"{' '.join(str(e).split())[:200]}") from None
    model = RAFT()
    model.load_state_dict(own_state_dict(sd, source=repr(str(path))), strict=True)
    return model.eval().to(device)


@functools.lru_cache(maxsize=4)
def _cached(path: str, device: str, mtime: int) -> RAFT:
    return load_raft(path, device)


def get_raft(name: str = "raft-things", path=None, device="cpu") -> RAFT:
    """The RAFT network with weights file ``name`` (:data:`RAFT_WEIGHTS`), found locally (``path``: the
    file, or a folder holding it) and checked; loaded once per (file, device)."""
    if name not in RAFT_WEIGHTS:
        from vsrbench.core.errors import UnknownNameError

        raise UnknownNameError("RAFT weights", name, RAFT_WEIGHTS)
    p = require_weights(name, path).resolve()
    return _cached(str(p), str(torch.device(device)), p.stat().st_mtime_ns)


def pad_to_multiple(x: torch.Tensor, k: int = 8) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """Replicate-pad ``(B, C, H, W)`` to multiples of ``k``, split as the original's ``InputPadder``
    (sintel mode: the smaller half left/top); returns the padded tensor and ``(left, right, top, bottom)``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % k, (-w) % k
    pad = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
    return (F.pad(x, pad, mode="replicate") if any(pad) else x), pad


@torch.no_grad()
def raft_flow(image1, image2, *, model: RAFT | None = None, weights: str = "raft-things", path=None,
              iters: int = ITERS, value_range: float = 255.0, device=None) -> torch.Tensor:
    """RAFT flow from ``image1`` to ``image2`` (``(B, 3, H, W)`` or ``(3, H, W)`` float RGB on a
    0..``value_range`` scale), as the original computes it: inputs mapped by ``2 * (x / 255) - 1`` after
    scaling to 0..255, replicate-padded to multiples of 8, ``iters`` updates; returns the flow
    ``(B, 2, H, W)`` cropped back to the input size."""
    a, b = torch.as_tensor(image1), torch.as_tensor(image2)
    squeeze = a.dim() == 3
    a, b = (a[None], b[None]) if squeeze else (a, b)
    if model is None:
        model = get_raft(weights, path, device or "cpu")
    dev = next(model.parameters()).device
    a = a.to(dev, torch.float32) * (255.0 / value_range)
    b = b.to(dev, torch.float32) * (255.0 / value_range)
    (pa, pad), (pb, _) = pad_to_multiple(a), pad_to_multiple(b)
    flow = model(2 * (pa / 255.0) - 1.0, 2 * (pb / 255.0) - 1.0, iters)
    h, w = a.shape[-2:]
    flow = flow[..., pad[2]:pad[2] + h, pad[0]:pad[0] + w]
    return flow[0] if squeeze else flow
