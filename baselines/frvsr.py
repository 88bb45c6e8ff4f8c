"""TecoGAN and FRVSR: the frame-recurrent generator (FNet + SRNet) in PyTorch, both weight formats.

One network, :class:`FRNet`, with the module and key names of TecoGAN-PyTorch (``fnet.encoder1.0``,
``srnet.resblocks.{i}.conv.{0,2}``, ``srnet.conv_up.{0,2}`` ...), so that TecoGAN-PyTorch
``.pth`` state dicts load with ``strict=True``, and a converter for the official TensorFlow
checkpoints (``TecoGAN``: 16 residual blocks; ``ourFRVSR``: 10). The released weights were
trained with different primitives; ``semantics`` selects all of them at once
(models-spec.md sections 1 and 9):

============================  =======================  ========================  ======================
behaviour                     ``"tf"`` (official)      ``"pt-bd"``               ``"pt-bi"``
============================  =======================  ========================  ======================
conv-transpose (k3, s2)       padding 0, crop to 2H    padding 1, out-pad 1      padding 1, out-pad 1
FNet ×2 upsampling            legacy bilinear          half-pixel bilinear       half-pixel bilinear
LR flow padding (H % 8)       SYMMETRIC                reflect                   reflect
flow LR→HR                    legacy linear of s·flow  s · legacy bicubic        s · half-pixel bilinear
residual base                 legacy bicubic           legacy bicubic            half-pixel bilinear
FNet input                    (previous, current)      (current, previous)       (current, previous)
flow / warp                   (dy, dx) subtracted:     (u, v) added: PT          (u, v) added: PT
                              ``dense_image_warp``     ``backward_warp``         ``backward_warp``
``upsample_func.kernels``     absent                   present (phase weights)   absent
============================  =======================  ========================  ======================

Design choice: with ``semantics="tf"`` the network keeps TensorFlow's conventions (FNet sees
(previous, current) and outputs (dy, dx)), so TF variables are copied with only a
``permute(3, 2, 0, 1)`` and no channel swapping; a state dict is therefore always in the
conventions of the semantics it was made with.

:class:`FRVSRModel` runs in float32 (the modules also run in float64). Outputs are ``conv_out + base(LR)`` in [0, 1] units, unclipped (the TF
generator's ``preprocess`` / ``deprocess`` pair cancels); the previous output is fed back unclipped.

>>> sum(p.numel() for p in FRNet(num_blocks=10).parameters())
2589093
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np
import torch
from torch import nn

from vsrbench.baselines import tfops
from vsrbench.baselines.registry import (
    Checkpoint, ModelSpec, SRModel, frame_to_tensor, full_fp32, locate_checkpoint, register_model,
    tf_checkpoint_prefix,
)
from vsrbench.core.device import resolve_device
from vsrbench.core.errors import InputError, WeightsError

__all__ = [
    "SEMANTICS",
    "Semantics",
    "FNet",
    "SRNet",
    "FRNet",
    "FRVSRModel",
    "state_dict_from_tf",
    "read_weights",
    "load_frnet",
    "temporal_padding",
]

#: maximum flow magnitude of FNet, in LR pixels (``tanh(.) * 24``)
MAX_VELOCITY = 24.0
#: FNet pools three times (2×2, VALID): it sees LR frames in multiples of this
FNET_STRIDE = 8
#: TF inference prepends frames 5..1 (reversed) and drops their outputs
DEFAULT_PAD_FRONT = 5
SCALES = (2, 4)
FEATURES = 64

Resize = Callable[[torch.Tensor, int], torch.Tensor]
Pad = Callable[[torch.Tensor, int, int], torch.Tensor]


# --------------------------------------------------------------------------------------------
# semantics


@dataclass(frozen=True)
class Semantics:
    """Every behaviour that differs between the TF release and TecoGAN-PyTorch (see the module doc)."""

    name: str
    tf_conv_transpose: bool  # SAME conv-transpose (padding 0 + crop) instead of padding 1 / output_padding 1
    fnet_upsample: Resize  # the ×2 after each FNet decoder
    flow_upsample: Resize  # LR flow -> HR flow
    residual_upsample: Resize  # the base the generator's output is added to
    pad_flow: Pad  # pads the LR flow back to the LR size when it is not a multiple of 8
    tf_flow: bool  # FNet(prev, cur) -> (dy, dx) + dense_image_warp; else FNet(cur, prev) -> (u, v) + backward_warp
    kernels_buffer: bool  # PT-BD keeps the bicubic phase weights as buffers ``upsample_func.kernels``


SEMANTICS: dict[str, Semantics] = {
    "tf": Semantics("tf", tf_conv_transpose=True, fnet_upsample=tfops.resize_bilinear_legacy,
                    flow_upsample=tfops.resize_bilinear_legacy, residual_upsample=tfops.resize_bicubic_legacy,
                    pad_flow=tfops.pad_symmetric, tf_flow=True, kernels_buffer=False),
    "pt-bd": Semantics("pt-bd", tf_conv_transpose=False, fnet_upsample=tfops.resize_bilinear_half_pixel,
                       flow_upsample=tfops.resize_bicubic_legacy, residual_upsample=tfops.resize_bicubic_legacy,
                       pad_flow=tfops.pad_reflect, tf_flow=False, kernels_buffer=True),
    "pt-bi": Semantics("pt-bi", tf_conv_transpose=False, fnet_upsample=tfops.resize_bilinear_half_pixel,
                       flow_upsample=tfops.resize_bilinear_half_pixel,
                       residual_upsample=tfops.resize_bilinear_half_pixel,
                       pad_flow=tfops.pad_reflect, tf_flow=False, kernels_buffer=False),
}


def get_semantics(semantics: str | Semantics) -> Semantics:
    """The :class:`Semantics` named ``semantics`` (or ``semantics`` itself)."""
    if isinstance(semantics, Semantics):
        return semantics
    if semantics not in SEMANTICS:
        raise InputError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
    return SEMANTICS[semantics]


def _check_choice(value: object, name: str, choices: tuple[int, ...]) -> int:
    if isinstance(value, bool) or value not in choices:
        raise InputError(f"{name}: expected one of {list(choices)}, got {value!r}")
    return int(value)  # type: ignore[arg-type]


def _check_positive(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# modules


class Upsampler(nn.Module):
    """A fixed resize by ``scale`` (one of :mod:`tfops`'s). With ``kernels=True`` it also carries
    the bicubic phase weights as buffer ``kernels`` (scale, 4), like TecoGAN-PyTorch's
    ``BicubicUpsample``, so that BD state dicts load strictly; the resize itself is computed by
    ``resize`` (the loader checks that a loaded buffer holds the expected weights)."""

    def __init__(self, resize: Resize, scale: int, *, kernels: bool = False):
        super().__init__()
        self.resize, self.scale = resize, scale
        if kernels:
            self.register_buffer("kernels", torch.tensor(tfops.cubic_phase_weights(scale), dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resize(x, self.scale)


def _conv(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, 1, 1, bias=True)


def _down_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(_conv(c_in, c_out), nn.LeakyReLU(0.2, inplace=True), _conv(c_out, c_out),
                         nn.LeakyReLU(0.2, inplace=True), nn.MaxPool2d(2, 2))


def _up_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(_conv(c_in, c_out), nn.LeakyReLU(0.2, inplace=True), _conv(c_out, c_out),
                         nn.LeakyReLU(0.2, inplace=True))


class FNet(nn.Module):
    """The flow estimator: 3 conv-conv-maxpool encoders, 3 conv-conv-×2 decoders, 2 output convs,
    ``tanh · 24``. ``upsample`` is the ×2 resize after each decoder (legacy bilinear for TF weights,
    half-pixel for PT). ``forward(a, b)`` concatenates ``a`` then ``b`` (TF passes (previous,
    current), PT (current, previous)) and returns a flow of size 8·⌊H/8⌋ × 8·⌊W/8⌋."""

    def __init__(self, in_nc: int = 3, upsample: Resize = tfops.resize_bilinear_half_pixel):
        super().__init__()
        self.upsample = upsample
        self.encoder1 = _down_block(2 * in_nc, 32)
        self.encoder2 = _down_block(32, 64)
        self.encoder3 = _down_block(64, 128)
        self.decoder1 = _up_block(128, 256)
        self.decoder2 = _up_block(256, 128)
        self.decoder3 = _up_block(128, 64)
        self.flow = nn.Sequential(_conv(64, 32), nn.LeakyReLU(0.2, inplace=True), _conv(32, 2))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        out = self.encoder3(self.encoder2(self.encoder1(torch.cat([a, b], dim=1))))
        for decoder in (self.decoder1, self.decoder2, self.decoder3):
            out = self.upsample(decoder(out), 2)
        return torch.tanh(self.flow(out)) * MAX_VELOCITY


class ResidualBlock(nn.Module):
    """conv, ReLU, conv, + identity (no normalisation, no activation after the sum)."""

    def __init__(self, nf: int = FEATURES):
        super().__init__()
        self.conv = nn.Sequential(_conv(nf, nf), nn.ReLU(inplace=True), _conv(nf, nf))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + x


class SameConvTranspose2d(nn.ConvTranspose2d):
    """TF ``conv2d_transpose(padding='SAME')`` with kernel 3, stride 2: the padding-0 result
    cropped to its first 2H × 2W (TF pads 0 before and 1 after; PyTorch's padding=1 /
    output_padding=1 gives the same values shifted by one pixel)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(c_in, c_out, 3, 2, padding=0, output_padding=0, bias=True)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        h, w = x.shape[-2:]
        return super().forward(x)[..., : 2 * h, : 2 * w]


def _conv_transpose(nf: int, tf_same: bool) -> nn.ConvTranspose2d:
    if tf_same:
        return SameConvTranspose2d(nf, nf)
    return nn.ConvTranspose2d(nf, nf, 3, 2, padding=1, output_padding=1, bias=True)


class SRNet(nn.Module):
    """The generator: conv(51→64)+ReLU, ``num_blocks`` residual blocks, log2(scale) stride-2
    conv-transposes (+ReLU), conv(64→3), + ``upsample_func(LR)``.

    ``forward(lr, warped_s2d)`` takes the current LR frame (N, 3, H, W) and the space-to-depth of
    the warped previous output (N, 3·scale², H, W) and returns (N, 3, scale·H, scale·W).
    """

    def __init__(self, num_blocks: int = 10, scale: int = 4, *, tf_conv_transpose: bool = False,
                 upsample_func: nn.Module | None = None, nf: int = FEATURES):
        super().__init__()
        _check_positive(num_blocks, "num_blocks")
        scale = _check_choice(scale, "scale", SCALES)
        self.scale = scale
        self.conv_in = nn.Sequential(nn.Conv2d((scale * scale + 1) * 3, nf, 3, 1, 1, bias=True), nn.ReLU(inplace=True))
        self.resblocks = nn.Sequential(*[ResidualBlock(nf) for _ in range(num_blocks)])
        up: list[nn.Module] = []
        for _ in range(int(math.log2(scale))):
            up += [_conv_transpose(nf, tf_conv_transpose), nn.ReLU(inplace=True)]
        self.conv_up = nn.Sequential(*up)
        self.conv_out = nn.Conv2d(nf, 3, 3, 1, 1, bias=True)
        self.upsample_func = upsample_func or Upsampler(tfops.resize_bicubic_legacy, scale)

    def forward(self, lr: torch.Tensor, warped_s2d: torch.Tensor) -> torch.Tensor:
        out = self.resblocks(self.conv_in(torch.cat([lr, warped_s2d], dim=1)))
        return self.conv_out(self.conv_up(out)) + self.upsample_func(lr)


class FRNet(nn.Module):
    """FNet + SRNet with the recurrence of TecoGAN / FRVSR under one :class:`Semantics`.

    Keys are TecoGAN-PyTorch's; with ``semantics="pt-bd"`` the bicubic buffer appears as both
    ``upsample_func.kernels`` and ``srnet.upsample_func.kernels`` (one shared module), as there.
    """

    def __init__(self, num_blocks: int = 10, scale: int = 4, semantics: str | Semantics = "tf"):
        super().__init__()
        self.semantics = get_semantics(semantics)
        self.scale = _check_choice(scale, "scale", SCALES)
        self.num_blocks = _check_positive(num_blocks, "num_blocks")
        sem = self.semantics
        self.upsample_func = Upsampler(sem.residual_upsample, scale, kernels=sem.kernels_buffer)
        self.fnet = FNet(3, sem.fnet_upsample)
        self.srnet = SRNet(num_blocks, scale, tf_conv_transpose=sem.tf_conv_transpose,
                           upsample_func=self.upsample_func)

    # -- one recurrent step ------------------------------------------------------------------
    def hr_flow(self, lr_prev: torch.Tensor, lr_curr: torch.Tensor) -> torch.Tensor:
        """The HR flow that warps the previous output onto the current frame, in the semantics'
        convention ((dy, dx) for "tf", (u, v) for PT), (N, 2, scale·H, scale·W)."""
        sem, s = self.semantics, self.scale
        lr_flow = self.fnet(lr_prev, lr_curr) if sem.tf_flow else self.fnet(lr_curr, lr_prev)
        h, w = lr_curr.shape[-2:]
        lr_flow = sem.pad_flow(lr_flow, h - lr_flow.shape[-2], w - lr_flow.shape[-1])
        if sem.tf_flow:
            return sem.flow_upsample(lr_flow * float(s), s)  # TF: upscale_four(flow * 4)
        return float(s) * sem.flow_upsample(lr_flow, s)  # PT: scale * upsample_func(flow)

    def warp(self, hr_prev: torch.Tensor, hr_flow: torch.Tensor) -> torch.Tensor:
        """Backward-warp the previous output with :meth:`hr_flow`'s flow."""
        if self.semantics.tf_flow:
            return tfops.dense_image_warp(hr_prev, hr_flow)
        return tfops.backward_warp(hr_prev, hr_flow)

    def forward(self, lr_curr: torch.Tensor, lr_prev: torch.Tensor | None = None,
                hr_prev: torch.Tensor | None = None) -> torch.Tensor:
        """One step: ``lr_curr`` (N, 3, H, W) in [0, 1] -> (N, 3, s·H, s·W), unclipped.

        Without ``lr_prev`` / ``hr_prev`` it is a first frame: the 3·s² space-to-depth channels
        are zeros (no flow is computed).
        """
        self._check_step(lr_curr, lr_prev, hr_prev)
        s = self.scale
        if lr_prev is None or hr_prev is None:
            n, _, h, w = lr_curr.shape
            s2d = lr_curr.new_zeros(n, 3 * s * s, h, w)
        else:
            s2d = tfops.space_to_depth(self.warp(hr_prev, self.hr_flow(lr_prev, lr_curr)), s)
        return self.srnet(lr_curr, s2d)

    def _check_step(self, lr_curr: torch.Tensor, lr_prev: torch.Tensor | None,
                    hr_prev: torch.Tensor | None) -> None:
        if lr_curr.ndim != 4 or lr_curr.shape[1] != 3:
            raise InputError(f"lr_curr: expected a tensor of shape (N, 3, H, W), got {tuple(lr_curr.shape)}")
        n, _, h, w = lr_curr.shape
        if h < FNET_STRIDE or w < FNET_STRIDE:
            raise InputError(f"lr_curr: frames must be at least {FNET_STRIDE}x{FNET_STRIDE} pixels "
                             f"(FNet pools 3 times), got {h}x{w}")
        if (lr_prev is None) != (hr_prev is None):
            raise InputError("lr_prev and hr_prev: give both (a later frame) or neither (the first frame)")
        if lr_prev is not None and tuple(lr_prev.shape) != tuple(lr_curr.shape):
            raise InputError(f"lr_prev: expected shape {tuple(lr_curr.shape)} like lr_curr, got {tuple(lr_prev.shape)}")
        want = (n, 3, self.scale * h, self.scale * w)
        if hr_prev is not None and tuple(hr_prev.shape) != want:
            raise InputError(f"hr_prev: expected shape {want}, got {tuple(hr_prev.shape)}")

    # -- sequences -----------------------------------------------------------------------------
    def forward_sequence(self, lr: torch.Tensor, lr_prev: torch.Tensor | None = None,
                         hr_prev: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run the recurrence over ``lr`` (N, T, 3, H, W), a batch of N sequences.

        Returns (hr (N, T, 3, s·H, s·W), last LR frame, last output): pass the last two back in
        to continue the same sequences with the next chunk of frames.
        """
        if lr.ndim != 5:
            raise InputError(f"lr: expected a tensor of shape (N, T, 3, H, W), got {tuple(lr.shape)}")
        outputs = []
        for t in range(lr.shape[1]):
            hr_prev = self(lr[:, t], lr_prev, hr_prev)
            lr_prev = lr[:, t]
            outputs.append(hr_prev)
        if not outputs:
            raise InputError("lr: the sequence has no frames (T = 0)")
        return torch.stack(outputs, dim=1), lr_prev, hr_prev


# --------------------------------------------------------------------------------------------
# official TF checkpoints

_FNET_SCOPE = "fnet/autoencode_unit"
_GEN_SCOPE = "generator/generator_unit"
#: the scopes inference restores (TF main.py: MODEL_VARIABLES of "generator" and "fnet")
_MODEL_SCOPES = ("generator/", "fnet/")
_RESBLOCK = re.compile(r"^generator/generator_unit/resblock_(\d+)/")


def tf_variable_names(num_blocks: int) -> dict[str, str]:
    """TF variable name -> FRNet key (weights and biases), per models-spec.md table 1.5."""
    layers: list[tuple[str, str, str]] = []  # (TF layer scope, slim op scope, PT module)
    for k in (1, 2, 3):
        for part in ("encoder", "decoder"):
            for j, idx in ((1, 0), (2, 2)):
                layers.append((f"{_FNET_SCOPE}/{part}_{k}/conv_{j}", "Conv", f"fnet.{part}{k}.{idx}"))
    layers += [(f"{_FNET_SCOPE}/output_stage/conv1", "Conv", "fnet.flow.0"),
               (f"{_FNET_SCOPE}/output_stage/conv2", "Conv", "fnet.flow.2"),
               (f"{_GEN_SCOPE}/input_stage/conv", "Conv", "srnet.conv_in.0")]
    for i in range(1, num_blocks + 1):
        for j, idx in ((1, 0), (2, 2)):
            layers.append((f"{_GEN_SCOPE}/resblock_{i}/conv_{j}", "Conv", f"srnet.resblocks.{i - 1}.conv.{idx}"))
    for j, idx in ((1, 0), (2, 2)):
        layers.append((f"{_GEN_SCOPE}/conv_tran2highres/conv_tran{j}", "Conv2d_transpose", f"srnet.conv_up.{idx}"))
    layers.append((f"{_GEN_SCOPE}/output_stage/conv", "Conv", "srnet.conv_out"))
    names: dict[str, str] = {}
    for scope, op, module in layers:
        names[f"{scope}/{op}/weights"] = f"{module}.weight"
        names[f"{scope}/{op}/biases"] = f"{module}.bias"
    return names


def _tf_shape(pt_shape: tuple[int, ...]) -> tuple[int, ...]:
    """TF layout of a PT tensor shape: conv (out,in,kh,kw) -> HWIO, conv-T (in,out,kh,kw) -> HW-out-in."""
    return (pt_shape[2], pt_shape[3], pt_shape[1], pt_shape[0]) if len(pt_shape) == 4 else pt_shape


def _first(names: Iterable[str], limit: int = 4) -> str:
    names = sorted(names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def count_tf_resblocks(variables: Mapping[str, np.ndarray]) -> int:
    """How many generator residual blocks a TF checkpoint holds (``resblock_1`` ... ``resblock_N``)."""
    return len({int(m.group(1)) for name in variables if (m := _RESBLOCK.match(name))})


def state_dict_from_tf(variables: Mapping[str, np.ndarray], num_blocks: int,
                       source: str = "the TF checkpoint") -> dict[str, torch.Tensor]:
    """Convert official TecoGAN / FRVSR TF variables into a ``semantics="tf"`` FRNet state dict.

    ``variables`` maps TF names to arrays (as ``tfckpt.read_checkpoint`` returns them); only
    ``generator/`` and ``fnet/`` model variables are used (optimizer slots, the discriminator,
    VGG and the step counter are ignored). Kernels are permuted (3, 2, 0, 1) — HWIO to
    (out, in, kh, kw) for convs and HW-out-in to (in, out, kh, kw) for conv-transposes — and
    keep TF's conventions (FNet input (previous, current), flow (dy, dx)).
    """
    _check_positive(num_blocks, "num_blocks")
    model_vars = {k: v for k, v in variables.items() if k.startswith(_MODEL_SCOPES)}
    found = count_tf_resblocks(model_vars)
    if found and found != num_blocks:
        raise WeightsError(f"{source}: found {found} residual blocks, expected {num_blocks} "
                           f"(load it with num_blocks={found}: TecoGAN has 16, ourFRVSR 10)")
    names = tf_variable_names(num_blocks)
    missing = [n for n in names if n not in model_vars]
    if missing:
        raise WeightsError(f"{source}: {len(missing)} of the {len(names)} generator/fnet variables are missing "
                           f"(e.g. {_first(missing)}); not a TecoGAN/FRVSR checkpoint or an incomplete one")
    expected = _expected_shapes(num_blocks, "tf")
    out: dict[str, torch.Tensor] = {}
    for tf_name, key in names.items():
        array = np.asarray(model_vars[tf_name])
        want = _tf_shape(expected[key])
        if tuple(array.shape) != want:
            raise WeightsError(f"{source}: variable {tf_name} has shape {tuple(array.shape)}, expected {want}")
        t = torch.from_numpy(np.array(array, dtype=np.float32))
        out[key] = t.permute(3, 2, 0, 1).contiguous() if t.ndim == 4 else t
    return out


def _expected_shapes(num_blocks: int, semantics: str, scale: int = 4) -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        net = FRNet(num_blocks, scale, semantics)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


# --------------------------------------------------------------------------------------------
# reading weight files

_TF_DATA = ".data-00000-of-00001"
def _read_tf(prefix: Path) -> dict[str, np.ndarray]:
    """The ``generator/`` and ``fnet/`` variables of a TF checkpoint (data of the others is not read)."""
    from vsrbench.baselines.tfckpt import read_checkpoint

    return read_checkpoint(prefix, prefixes=_MODEL_SCOPES)


def _read_torch(path: Path) -> dict[str, torch.Tensor]:
    import warnings

    try:
        with warnings.catch_warnings():  # torch's notes on a pickle's protocol ("please file an issue"): not ours
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for non-checkpoints (pickle, zip, EOF, ...)
        from vsrbench.core.weights import load_problem

        raise WeightsError(f"{str(path)!r} is neither a TF checkpoint (.index + {_TF_DATA}) nor a PyTorch "
                           f"state dict readable with torch.load(weights_only=True): {load_problem(path, e)}") from None
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        keys = f" with keys {_first(map(str, obj))}" if isinstance(obj, Mapping) else ""
        raise WeightsError(f"{str(path)!r}: expected a plain state dict (name -> tensor) as TecoGAN-PyTorch "
                           f"saves it, got a {type(obj).__name__}{keys}")
    return dict(obj)


def read_weights(path: str | os.PathLike) -> tuple[str, dict]:
    """Read a weights file: ("tf", {TF name: array}) or ("torch", state dict)."""
    prefix = tf_checkpoint_prefix(path)
    if prefix is not None:
        return "tf", _read_tf(prefix)
    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"weights file {str(p)!r} not found")
    return "torch", _read_torch(p)


def _check_pt_state_dict(state: Mapping[str, torch.Tensor], net: FRNet, source: str) -> None:
    """Readable errors for the usual mismatches before ``load_state_dict(strict=True)``."""
    has_kernels = any(k.endswith("upsample_func.kernels") for k in state)
    sem = net.semantics
    if has_kernels and not sem.kernels_buffer:
        raise WeightsError(f"{source}: holds 'upsample_func.kernels' buffers, i.e. BD weights (bicubic "
                           f"upsampling); load them with semantics='pt-bd' (got {sem.name!r})")
    if sem.kernels_buffer and not has_kernels:
        raise WeightsError(f"{source}: has no 'upsample_func.kernels' buffers, i.e. BI weights (bilinear "
                           f"upsampling) or TF-converted ones; load BI weights with semantics='pt-bi' (got 'pt-bd')")
    blocks = {int(m.group(1)) for k in state if (m := re.match(r"srnet\.resblocks\.(\d+)\.", k))}
    if blocks and len(blocks) != net.num_blocks:
        raise WeightsError(f"{source}: found {len(blocks)} residual blocks, expected {net.num_blocks}")
    expected = net.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = ([f"missing {len(missing)} tensor(s): {_first(missing)}"] if missing else []) + \
                ([f"unexpected {len(unexpected)}: {_first(unexpected)}"] if unexpected else [])
        raise WeightsError(f"{source}: does not match FRNet(num_blocks={net.num_blocks}, scale={net.scale}): "
                           + "; ".join(parts))
    for key, value in expected.items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise WeightsError(f"{source}: tensor {key} has shape {tuple(state[key].shape)}, "
                               f"expected {tuple(value.shape)} (a x{net.scale} model with {net.num_blocks} blocks)")
    for key in (k for k in state if k.endswith("upsample_func.kernels")):
        want = tfops.cubic_phase_weights(net.scale)
        got = state[key].detach().cpu().double().numpy()
        if np.abs(got - want).max() > 1e-6:
            raise WeightsError(f"{source}: buffer {key} does not hold the bicubic (a=-0.75) phase weights "
                               f"(max difference {np.abs(got - want).max():.3g})")


def load_frnet(path: str | os.PathLike, *, num_blocks: int, semantics: str = "tf", scale: int = 4) -> FRNet:
    """Build an FRNet and load a TF checkpoint (``semantics="tf"`` only) or a PT state dict, strictly."""
    net = FRNet(num_blocks, scale, semantics)
    kind, content = read_weights(path)
    source = str(path)
    if kind == "tf":
        if net.semantics.name != "tf":
            raise WeightsError(f"{source}: a TF checkpoint needs semantics='tf' (its weights were trained with "
                               f"TF's primitives), got {net.semantics.name!r}")
        content = state_dict_from_tf(content, num_blocks, source)
    _check_pt_state_dict(content, net, source)
    net.load_state_dict(content, strict=True)
    return net.eval()


# --------------------------------------------------------------------------------------------
# inference over a sequence


def temporal_padding(num_frames: int, num_pad_front: int) -> list[int]:
    """Frame indices processed for a sequence: TF's ``[5:0:-1]`` prefix, then every frame.

    >>> temporal_padding(8, 5)
    [5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7]
    >>> temporal_padding(3, 5)
    [2, 1, 0, 1, 2]
    """
    pad = min(num_pad_front, num_frames - 1)
    return list(range(pad, 0, -1)) + list(range(num_frames))


def _checked_frames(frames: Iterable[np.ndarray]) -> Iterator[torch.Tensor]:
    size = None
    for i, frame in enumerate(frames):
        t = frame_to_tensor(frame, i, size)
        size = tuple(t.shape[1:])
        yield t


class FRVSRModel(SRModel):
    """A loaded FRNet as an :class:`SRModel`.

    ``num_pad_front`` (default 5, as TF's ``inference_data_loader`` and PT's ``num_pad_front: 5``
    reflect) prepends frames ``k..1`` reversed and drops their outputs; 0 disables it. Frames go
    to the device ``chunk`` at a time; the recurrence carries across chunks, so results do not
    depend on ``chunk``.
    """

    def __init__(self, net: FRNet, *, name: str, device: str | torch.device = "cpu",
                 num_pad_front: int = DEFAULT_PAD_FRONT, chunk: int = 8):
        self.name, self.scale = name, net.scale
        self.num_pad_front = _check_positive(num_pad_front, "num_pad_front", 0)
        self.chunk = _check_positive(chunk, "chunk")
        self.device = resolve_device(device)
        self.net = net.to(device=self.device, dtype=torch.float32).eval().requires_grad_(False)

    def _padded(self, frames: Iterable[np.ndarray]) -> tuple[Iterator[torch.Tensor], int]:
        """The frames to process (padding first) and how many leading outputs to drop."""
        it = _checked_frames(frames)
        head = list(islice(it, self.num_pad_front + 1))
        order = temporal_padding(len(head), self.num_pad_front)
        pad = [head[i] for i in order[: len(order) - len(head)]]
        return chain(pad, head, it), len(pad)

    @torch.inference_mode()
    def upscale(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Yield one (s·H, s·W, 3) float32 frame in [0, 1] units (unclipped) per input frame."""
        stream, drop = self._padded(frames)
        lr_prev = hr_prev = None
        while chunk := list(islice(stream, self.chunk)):
            lr = torch.stack(chunk)[None].to(self.device)
            with full_fp32():
                hr, lr_prev, hr_prev = self.net.forward_sequence(lr, lr_prev, hr_prev)
            out = hr[0].permute(0, 2, 3, 1).cpu().numpy()
            skip = min(drop, len(out))
            drop -= skip
            yield from out[skip:]


# --------------------------------------------------------------------------------------------
# registration

TF_SOURCE = "https://ge.in.tum.de/download/data/TecoGAN/model.zip"
FRVSR_SOURCE = "http://ge.in.tum.de/download/2019-TecoGAN/FRVSR_Ours.zip"
PT_SOURCE = ("TecoGAN-PyTorch (https://github.com/skycrapers/TecoGAN-PyTorch): Google Drive links in its "
             "README and scripts/download/download_models.sh")
_PT_NOTE = ("Its numbers: TecoGAN-PyTorch's benchmark table (resources/benchmark.png), computed with the official "
            "TecoGAN metrics code (Y-PSNR, LPIPS, tOF, tLP×100).")


@dataclass(frozen=True)
class _Variant:
    name: str
    description: str
    num_blocks: int
    semantics: str
    checkpoint: Checkpoint
    degradation: str


def _tf_checkpoint(stem: str, source: str, published: tuple, note: str, licence: str) -> Checkpoint:
    return Checkpoint(filename=f"{stem}.index", format="tf-v2", source=source, licence=licence,
                      companions=(f"{stem}{_TF_DATA}",), published=published, note=note, url=source)


def _pt_checkpoint(filename: str, old_name: str, md5: str, published: tuple) -> Checkpoint:
    return Checkpoint(filename=filename, format="torch-state-dict", source=PT_SOURCE, licence="Apache-2.0",
                      published=published, aliases=(old_name,),
                      note=f"{_PT_NOTE} Also published as {old_name} (md5 starts {md5}); either name is found.")


VARIANTS: tuple[_Variant, ...] = (
    _Variant("tecogan", "TecoGAN (Chu et al., 2020), official TF release, 16 residual blocks", 16, "tf",
             _tf_checkpoint("TecoGAN", TF_SOURCE, (("TecoGAN", "BD"),),
                            "Its numbers: the TecoGAN paper's Vid4 row as quoted in NNabla's TecoGAN README, and "
                            "NNabla's re-measurement of these weights; TecoGAN-PyTorch's table has rows "
                            "'Official TecoGAN' and 'Official TecoGAN+' (vsrbench published --suite vid4).",
                            "Apache-2.0"), "bd-tecogan"),
    _Variant("frvsr", "FRVSR as released with TecoGAN (ourFRVSR, 10 residual blocks), official TF", 10, "tf",
             _tf_checkpoint("ourFRVSR", FRVSR_SOURCE, (("Official FRVSR", "BD"),),
                            "Its numbers: TecoGAN-PyTorch's benchmark table, row 'Official FRVSR'.",
                            "unknown (published by the TecoGAN authors, whose code is Apache-2.0)"), "bd-tecogan"),
    _Variant("tecogan-pt-bd", "TecoGAN, TecoGAN-PyTorch re-implementation, BD weights (10 blocks)", 10, "pt-bd",
             _pt_checkpoint("TecoGAN_4x_BD_Vimeo_iter500K.pth", "TecoGAN_BD_iter500000.pth", "13d826c9",
                            (("PyTorch TecoGAN", "BD"),)),
             "bd-tecogan-train"),
    _Variant("tecogan-pt-bi", "TecoGAN, TecoGAN-PyTorch re-implementation, BI weights (10 blocks)", 10, "pt-bi",
             _pt_checkpoint("TecoGAN_4x_BI_Vimeo_iter500K.pth", "TecoGAN_BI_iter500000.pth", "4955b65b",
                            (("PyTorch TecoGAN", "BI"),)),
             "bi-matlab"),
    _Variant("frvsr-pt-bd", "FRVSR, TecoGAN-PyTorch re-implementation, BD weights (10 blocks)", 10, "pt-bd",
             _pt_checkpoint("FRVSR_4x_BD_Vimeo_iter400K.pth", "FRVSR_BD_iter400000.pth", "77d33c58",
                            (("PyTorch FRVSR", "BD"),)),
             "bd-tecogan-train"),
    _Variant("frvsr-pt-bi", "FRVSR, TecoGAN-PyTorch re-implementation, BI weights (10 blocks)", 10, "pt-bi",
             _pt_checkpoint("FRVSR_4x_BI_Vimeo_iter400K.pth", "FRVSR_BI_iter400000.pth", "ad6337d9",
                            (("PyTorch FRVSR", "BI"),)),
             "bi-matlab"),
)


def _builder(variant: _Variant) -> Callable[..., FRVSRModel]:
    def build(weights: str | os.PathLike | None = None, device: str | torch.device = "cpu",
              num_pad_front: int = DEFAULT_PAD_FRONT, chunk: int = 8) -> FRVSRModel:
        """Load the released weights (``weights``: a file, a folder holding it or a TF prefix)."""
        path = locate_checkpoint(variant.checkpoint, weights)
        net = load_frnet(path, num_blocks=variant.num_blocks, semantics=variant.semantics)
        return FRVSRModel(net, name=variant.name, device=device, num_pad_front=num_pad_front, chunk=chunk)

    build.__doc__ = f"{variant.description}. {build.__doc__}"
    return build


for _v in VARIANTS:
    register_model(ModelSpec(name=_v.name, description=_v.description, builder=_builder(_v), scale=4,
                             kind="vsr", checkpoints=(_v.checkpoint,), degradation=_v.degradation))
