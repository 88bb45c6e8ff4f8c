"""DUF: video super-resolution with dynamic upsampling filters (Jo et al., CVPR 2018).

A PyTorch port of the authors' TensorFlow release (https://github.com/yhjo09/VSR-DUF) that
loads their HDF5 parameter files (``params_16L_x4.h5`` ...) unchanged. See
``models-spec.md`` section 7 for the facts it follows; in short:

* input: 7 LR frames, RGB in [0, 1]; output: the centre frame upscaled ×R (R = 2, 3, 4);
* ``conv1`` (1×3×3, 3→64), then densely connected layers (BN → ReLU → 1×1×1 conv →
  BN → ReLU → 3×3×3 conv, concatenated to the input). Phase A keeps T = 7 (zero padding in
  T, H, W); phase B (3 layers) pads H, W only, so T shrinks 7 → 5 → 3 → 1 and the input is
  centre-cropped in time before the concatenation;
* ``fbn1`` → ReLU → ``conv2`` (1×3×3, F→256) → ReLU, then two 1×1×1 branches: a residual
  (``rconv1``, ``rconv2``: 3·R² channels in TF ``depth_to_space`` order) and a filter
  generator (``fconv1``, ``fconv2``: 25·R² channels, softmax over the 25 taps);
* each colour channel of the centre frame is filtered with the per-pixel 5×5 filters
  (zero padding, row-major taps) into R² sub-pixels, rearranged by depth-to-space and
  added to the residual. Nothing is clipped (the authors clip only when saving).

BatchNorm follows the authors' ``utils.BatchNorm``: it has a scale (gamma) and a shift
(beta), epsilon 1e-3, moving averages with decay 0.999 (PyTorch momentum 0.001); inference
uses the moving averages. To reproduce the authors' Vid4 numbers, make the LR input with the
``bd-duf`` degradation (Gaussian sigma 0.4·R, 13×13) and score it with the DUF protocol
(Y-PSNR, 8 px border, 2 frames cut at each end).

>>> net = DUF(layers=16, scale=4)
>>> final_channels(16), final_channels(52)
(256, 448)
"""
from __future__ import annotations

import math
import os
import re
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vsrbench.baselines.registry import (
    Checkpoint, ModelSpec, SRModel, batched, frame_to_tensor, full_fp32, register_model,
)
from vsrbench.baselines.tfops import depth_to_space
from vsrbench.core.errors import InputError, WeightsError
from vsrbench.core.device import resolve_device
from vsrbench.core.weights import find_weights

__all__ = [
    "T_IN", "DENSE_CONFIG", "PHASE_B_LAYERS", "SCALES", "BN_EPS", "BN_MOMENTUM", "FILTER_SIZE", "SCOPE", "SOURCE",
    "final_channels", "DenseLayer", "DUF", "dynamic_upsample", "h5_dataset_name", "DUFParams", "read_params",
    "load_params", "load_duf", "windows", "DUFModel", "checkpoint",
]

#: frames in one input window; the output is its centre frame
T_IN = 7
#: layers -> (dense layers in phase A, growth rate G); phase B always has 3 layers
DENSE_CONFIG: dict[int, tuple[int, int]] = {16: (3, 32), 28: (9, 16), 52: (21, 16)}
PHASE_B_LAYERS = 3
SCALES = (2, 3, 4)
#: utils.BatchNorm: tf.nn.batch_normalization(..., variance_epsilon=1e-3), moving-average decay 0.999
BN_EPS = 1e-3
BN_MOMENTUM = 1.0 - 0.999
FILTER_SIZE = 5
#: the authors' variable scope
SCOPE = "G"
SOURCE = "https://github.com/yhjo09/VSR-DUF"


def final_channels(layers: int) -> int:
    """Feature channels entering ``fbn1``: 64 + (phase A + phase B layers) · G."""
    phase_a, growth = _dense_config(layers)
    return 64 + (phase_a + PHASE_B_LAYERS) * growth


def _dense_config(layers: int) -> tuple[int, int]:
    if layers not in DENSE_CONFIG:
        raise InputError(f"layers: expected one of {sorted(DENSE_CONFIG)}, got {layers!r}")
    return DENSE_CONFIG[layers]


def _check_scale(scale: int) -> int:
    if scale not in SCALES:
        raise InputError(f"scale: expected one of {list(SCALES)}, got {scale!r}")
    return scale


def _conv(c_in: int, c_out: int, kernel: tuple[int, int, int], padding: tuple[int, int, int]) -> nn.Conv3d:
    return nn.Conv3d(c_in, c_out, kernel, padding=padding, bias=True)


def _bn(channels: int) -> nn.BatchNorm3d:
    return nn.BatchNorm3d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class DenseLayer(nn.Module):
    """BN → ReLU → Conv 1×1×1 (F→F) → BN → ReLU → Conv 3×3×3 (F→G), concatenated to the input.

    ``keep_time=True`` is phase A (zero padding in T, H and W, T unchanged); ``False`` is
    phase B (padding in H and W only: T shrinks by 2 and the input is cropped to its
    temporal centre before the concatenation).
    """

    def __init__(self, channels: int, growth: int, *, keep_time: bool):
        super().__init__()
        self.keep_time = keep_time
        self.bn_a = _bn(channels)
        self.conv_a = _conv(channels, channels, (1, 1, 1), (0, 0, 0))
        self.bn_b = _bn(channels)
        self.conv_b = _conv(channels, growth, (3, 3, 3), (1 if keep_time else 0, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.conv_a(F.relu(self.bn_a(x)))
        t = self.conv_b(F.relu(self.bn_b(t)))
        skip = x if self.keep_time else x[:, :, 1:-1]
        return torch.cat([skip, t], dim=1)


class DUF(nn.Module):
    """The DUF generator for ``layers`` in (16, 28, 52) and ``scale`` in (2, 3, 4).

    ``forward(x)`` takes a (N, 3, 7, H, W) float tensor (the authors' NTHWC input with the
    channels moved to dimension 1), RGB in [0, 1], and returns the upscaled centre frame
    (N, 3, scale·H, scale·W), unclipped. Call ``eval()`` for inference (BN moving averages).
    """

    def __init__(self, layers: int = 16, scale: int = 4):
        super().__init__()
        phase_a, growth = _dense_config(layers)
        self.layers, self.scale = layers, _check_scale(scale)
        self.conv1 = _conv(3, 64, (1, 3, 3), (0, 1, 1))
        blocks, channels = [], 64
        for i in range(phase_a + PHASE_B_LAYERS):
            blocks.append(DenseLayer(channels, growth, keep_time=i < phase_a))
            channels += growth
        self.blocks = nn.ModuleList(blocks)
        self.fbn1 = _bn(channels)
        self.conv2 = _conv(channels, 256, (1, 3, 3), (0, 1, 1))
        r2 = scale * scale
        self.rconv1 = _conv(256, 256, (1, 1, 1), (0, 0, 0))
        self.rconv2 = _conv(256, 3 * r2, (1, 1, 1), (0, 0, 0))
        self.fconv1 = _conv(256, 512, (1, 1, 1), (0, 0, 0))
        self.fconv2 = _conv(512, FILTER_SIZE * FILTER_SIZE * r2, (1, 1, 1), (0, 0, 0))

    def tf_layers(self) -> dict[str, nn.Module]:
        """The authors' layer names (under scope ``G``) -> the module holding its variables."""
        named: dict[str, nn.Module] = {"conv1": self.conv1}
        for r, block in enumerate(self.blocks, start=1):
            named.update({f"Rbn{r}a": block.bn_a, f"Rconv{r}a": block.conv_a,
                          f"Rbn{r}b": block.bn_b, f"Rconv{r}b": block.conv_b})
        named.update(fbn1=self.fbn1, conv2=self.conv2, rconv1=self.rconv1, rconv2=self.rconv2,
                     fconv1=self.fconv1, fconv2=self.fconv2)
        return named

    def filters_and_residual(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dynamic filters (N, 25, R², H, W), softmax over the 25 taps, and the residual
        (N, 3·R², H, W) in TF depth-to-space channel order (dy·R + dx)·3 + c."""
        _check_window(x)
        t = self.conv1(x)
        for block in self.blocks:
            t = block(t)
        t = F.relu(self.conv2(F.relu(self.fbn1(t))))
        residual = self.rconv2(F.relu(self.rconv1(t)))[:, :, 0]
        logits = self.fconv2(F.relu(self.fconv1(t)))[:, :, 0]
        n, _, h, w = logits.shape
        r2 = self.scale * self.scale
        filters = torch.softmax(logits.reshape(n, FILTER_SIZE * FILTER_SIZE, r2, h, w), dim=1)
        return filters, residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        filters, residual = self.filters_and_residual(x)
        centre = x[:, :, T_IN // 2]
        return dynamic_upsample(centre, filters, self.scale) + depth_to_space(residual, self.scale)


def _check_window(x: torch.Tensor) -> None:
    if x.ndim != 5 or x.shape[1] != 3 or x.shape[2] != T_IN:
        raise InputError(f"DUF input: expected a tensor of shape (N, 3, {T_IN}, H, W), got {tuple(x.shape)}")


def dynamic_upsample(centre: torch.Tensor, filters: torch.Tensor, scale: int) -> torch.Tensor:
    """Filter each colour channel of ``centre`` (N, C, H, W) with per-pixel 5×5 filters.

    ``filters`` is (N, 25, R², H, W), taps row-major (ky·5 + kx) over the zero-padded 5×5
    neighbourhood; the R² outputs of each pixel go to its R×R block, sub-pixel dy·R + dx.
    Returns (N, C, R·H, R·W).
    """
    n, c, h, w = centre.shape
    taps = FILTER_SIZE * FILTER_SIZE
    patches = F.unfold(centre.reshape(n * c, 1, h, w), FILTER_SIZE, padding=FILTER_SIZE // 2)
    patches = patches.reshape(n, c, taps, h, w)
    subpixels = torch.einsum("ncthw,ntkhw->nckhw", patches, filters)
    return F.pixel_shuffle(subpixels.reshape(n, c * scale * scale, h, w), scale)


# --------------------------------------------------------------------------------------------
# the authors' HDF5 parameter files


def h5_dataset_name(variable: str) -> str:
    """The dataset name the authors store TF variable ``variable`` under ('_' → '__', '/' → '_').

    >>> h5_dataset_name("G/Rbn1a/moving_mean:0")
    'G_Rbn1a_moving__mean:0'
    """
    return variable.replace("_", "__").replace("/", "_")


#: BN variable of utils.BatchNorm -> the BatchNorm3d tensor it fills
_BN_VARS = {"beta": "bias", "gamma": "weight", "moving_mean": "running_mean", "moving_variance": "running_var"}


def _tf_variables(net: DUF) -> dict[str, tuple[torch.Tensor, tuple[int, ...]]]:
    """TF variable name -> (the PyTorch tensor it fills, its TF shape)."""
    out: dict[str, tuple[torch.Tensor, tuple[int, ...]]] = {}
    for layer, module in net.tf_layers().items():
        if isinstance(module, nn.Conv3d):
            w = module.weight
            out[f"{SCOPE}/{layer}/W:0"] = (w, tuple(w.shape[2:]) + (w.shape[1], w.shape[0]))
            out[f"{SCOPE}/{layer}/b:0"] = (module.bias, tuple(module.bias.shape))
        else:
            for var, attr in _BN_VARS.items():
                t = getattr(module, attr)
                out[f"{SCOPE}/{layer}/{var}:0"] = (t, tuple(t.shape))
    return out


@dataclass(frozen=True)
class DUFParams:
    """The contents of a DUF parameter file: dataset name -> array, and the variant it holds."""

    path: str
    arrays: dict[str, np.ndarray]
    layers: int
    scale: int

    @property
    def variant(self) -> str:
        return f"{self.layers}L x{self.scale}"


def read_params(path: str | os.PathLike) -> DUFParams:
    """Read a DUF ``params_*.h5`` file and infer its depth and scale from its contents."""
    import h5py

    path = os.fspath(path)
    if not h5py.is_hdf5(path):
        raise WeightsError(f"{path!r} is not an HDF5 file (expected a DUF parameter file like "
                           f"params_16L_x4.h5 from {SOURCE})")
    with h5py.File(path, "r") as f:
        group = f.get("params")
        if not isinstance(group, h5py.Group):
            raise WeightsError(f"{path!r} has no 'params' group (top level: {sorted(f.keys())}); "
                               f"not a DUF parameter file from {SOURCE}")
        arrays = {name: np.asarray(ds[()]) for name, ds in group.items() if isinstance(ds, h5py.Dataset)}
    return DUFParams(path, arrays, _infer_layers(path, arrays), _infer_scale(path, arrays))


def _infer_layers(path: str, arrays: dict[str, np.ndarray]) -> int:
    """Depth from the highest dense-layer index in any Rbn{r}a/b or Rconv{r}a/b dataset name."""
    pattern = re.compile(rf"^{SCOPE}_R(?:bn|conv)(\d+)[ab]_")
    found = [int(m.group(1)) for m in map(pattern.match, arrays) if m]
    dense = max(found, default=0)
    by_count = {a + PHASE_B_LAYERS: layers for layers, (a, _) in DENSE_CONFIG.items()}
    if dense not in by_count:
        raise WeightsError(f"{path!r} holds {dense} dense layers (Rbn*/Rconv* datasets), expected 6, 12 or 24 "
                           "(DUF 16L, 28L, 52L)")
    return by_count[dense]


def _infer_scale(path: str, arrays: dict[str, np.ndarray]) -> int:
    name = h5_dataset_name(f"{SCOPE}/rconv2/W:0")
    if name not in arrays:
        raise WeightsError(f"{path!r} is missing dataset {name!r}")
    channels = int(arrays[name].shape[-1])
    scale = math.isqrt(channels // 3)
    if channels != 3 * scale * scale or scale not in SCALES:
        raise WeightsError(f"dataset {name!r} in {path!r} has {channels} output channels, expected "
                           "3·R² for R in 2, 3, 4 (12, 27 or 48)")
    return scale


def load_params(net: DUF, params: DUFParams) -> DUF:
    """Copy ``params`` into ``net`` (checked: variant, every dataset present, every shape).

    Datasets the network does not use are ignored. A file whose BN layers have no gamma at all
    (a BN without scale) loads with gamma = 1.
    """
    if (params.layers, params.scale) != (net.layers, net.scale):
        raise WeightsError(f"{params.path!r}: found {params.variant} parameters, expected "
                           f"{net.layers}L x{net.scale}")
    variables = _tf_variables(net)
    has_gamma = any(n.endswith("_gamma:0") for n in params.arrays)
    needed = {v: h5_dataset_name(v) for v in variables if has_gamma or not v.endswith("/gamma:0")}
    missing = [name for name in needed.values() if name not in params.arrays]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise WeightsError(f"{params.path!r} is missing {len(missing)} dataset(s) of DUF {params.variant}: {shown}")
    with torch.no_grad():
        for var, (tensor, tf_shape) in variables.items():
            if var not in needed:
                tensor.fill_(1.0)
                continue
            value = _checked(params, needed[var], tf_shape)
            if value.ndim == 5:  # TF conv3d kernel [kt, kh, kw, in, out] -> [out, in, kt, kh, kw]
                value = value.permute(4, 3, 0, 1, 2)
            tensor.copy_(value)
    return net


def _checked(params: DUFParams, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    array = params.arrays[name]
    if tuple(array.shape) != shape:
        raise WeightsError(f"dataset {name!r} in {params.path!r} has shape {tuple(array.shape)}, expected {shape}")
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def load_duf(path: str | os.PathLike, *, layers: int | None = None, scale: int | None = None) -> DUF:
    """Build a DUF from an authors' parameter file, in eval mode on the CPU.

    ``layers`` and ``scale`` default to what the file holds; when given they must match it.
    """
    params = read_params(path)
    net = DUF(layers=params.layers if layers is None else layers,
              scale=params.scale if scale is None else scale)
    return load_params(net, params).eval()


# --------------------------------------------------------------------------------------------
# inference over a sequence


def windows(frames: Iterable[np.ndarray]) -> Iterator[torch.Tensor]:
    """One (3, 7, H, W) window per frame, centred on it; 3 zero frames pad each end (test.py)."""
    radius = T_IN // 2
    buffer: deque[torch.Tensor] = deque(maxlen=T_IN)
    size = None
    for i, frame in enumerate(frames):
        t = frame_to_tensor(frame, i)
        if size is None:
            size = t.shape
            buffer.extend(torch.zeros(size) for _ in range(radius))
        elif t.shape != size:
            raise InputError(f"frame {i}: expected size {size[1]}x{size[2]} (H x W) like frame 0, "
                             f"got {t.shape[1]}x{t.shape[2]}")
        buffer.append(t)
        if len(buffer) == T_IN:
            yield torch.stack(tuple(buffer), dim=1)
    if size is None:
        return
    for _ in range(radius):
        buffer.append(torch.zeros(size))
        if len(buffer) == T_IN:
            yield torch.stack(tuple(buffer), dim=1)


class DUFModel(SRModel):
    """A loaded DUF as an :class:`SRModel`: ``chunk`` windows per forward pass, fp32.

    ``net`` is moved to ``device`` ('cpu', 'cuda', 'cuda:N' or 'auto') and put in eval mode.
    """

    def __init__(self, net: DUF, *, name: str, device: str | torch.device = "cpu", chunk: int = 1):
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise InputError(f"chunk: expected a positive integer (frames per forward pass), got {chunk!r}")
        self.name, self.scale, self.chunk = name, net.scale, chunk
        self.device = resolve_device(device)
        self.net = net.to(device=self.device, dtype=torch.float32).eval()

    @torch.inference_mode()
    def upscale(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Yield one (R·H, R·W, 3) float32 frame in [0, 1] units (unclipped) per input frame."""
        for batch in batched(windows(frames), self.chunk):
            with full_fp32():
                out = self.net(batch.to(self.device)).permute(0, 2, 3, 1).cpu().numpy()
            yield from out


# --------------------------------------------------------------------------------------------
# registration

_NOTE = ("Its Vid4 numbers (vsrbench published --method DUF-{layers}L) are Y-PSNR under DUF's own protocol "
         "(the duf preset) recomputed by this team from the Vid4 outputs the DUF authors release with their "
         "code; computed numbers, not ones published in the paper.")
#: (layers, scale) -> the method whose rows of vsrbench's published-results database are its numbers
_PUBLISHED = {(16, 4): "DUF-16L", (52, 4): "DUF-52L"}


def checkpoint(layers: int, scale: int) -> Checkpoint:
    """The authors' parameter file for DUF ``layers`` ×``scale`` (sha256 not known here)."""
    method = _PUBLISHED.get((layers, scale))
    filename = f"params_{layers}L_x{scale}.h5"
    return Checkpoint(filename=filename, format="hdf5", source=f"{SOURCE} (file {filename} in the repository root)",
                      url=f"{SOURCE}/raw/HEAD/{filename}",
                      licence="unknown (no licence stated in the repository)",
                      published=((method, "BD"),) if method else (),
                      note=_NOTE.format(layers=layers) if method else "")


def _builder(name: str, layers: int, scale: int):
    ckpt = checkpoint(layers, scale)

    def build(weights: str | os.PathLike | None = None, device: str | torch.device = "cpu",
              chunk: int = 1) -> DUFModel:
        """Load the authors' ``params_{layers}L_x{scale}.h5`` (``weights``: a file or folder)."""
        path = find_weights(ckpt.filename, path=weights, source=ckpt.source, sha256=ckpt.sha256)
        return DUFModel(load_duf(path, layers=layers, scale=scale), name=name, device=device, chunk=chunk)

    return build


def _register(name: str, layers: int, scale: int) -> None:
    register_model(ModelSpec(
        name=name,
        description=f"DUF-{layers}L ×{scale} (Jo et al., CVPR 2018): dynamic upsampling filters over 7 frames",
        builder=_builder(name, layers, scale),
        scale=scale,
        kind="vsr",
        checkpoints=(checkpoint(layers, scale),),
        degradation="bd-duf",
    ))


for _name, _layers, _scale in (("duf-16l", 16, 4), ("duf-28l", 28, 4), ("duf-52l", 52, 4),
                               ("duf-16l-x2", 16, 2), ("duf-16l-x3", 16, 3)):
    _register(_name, _layers, _scale)
