"""ENet / EnhanceNet-PAT ×4 (Sajjadi, Schölkopf, Hirsch, ICCV 2017), frame by frame.

A PyTorch port of the authors' released network (https://github.com/msmsajjadi/EnhanceNet-Code)
that loads their TensorFlow V1 checkpoint ``weights`` unchanged, through
:mod:`vsrbench.baselines.tfckpt` (no TensorFlow needed). Facts from ``models-spec.md`` §6:

* input: RGB in [0, 1] minus the per-channel means :data:`MEAN`;
* ``Conv`` (3→64), ReLU; 10 residual blocks ``[Conv_{2k+1}, ReLU, Conv_{2k+2}] + input``
  (no batch norm, no global skip); nearest ×2 → ``Conv_21``, ReLU → nearest ×2 → ``Conv_22``,
  ReLU → ``Conv_23``, ReLU → ``Conv_24`` (→3). All convolutions are 3×3, SAME (zero) padding,
  with bias;
* output = net + bicubic×4(x − mean) + mean, where the bicubic is TF1's legacy
  ``resize_images(BICUBIC)`` (:func:`~vsrbench.baselines.tfops.resize_bicubic_legacy`).
  Nothing is clipped: the authors clip and round only when saving.

The released weights expect LR frames made by PIL ``Image.ANTIALIAS`` (Lanczos) ×1/4 of the HR
image, as the authors' demo does; they are under CC BY-NC-ND 4.0 (non-commercial).

>>> net = ENet()
>>> sum(p.numel() for p in net.parameters())
852867
"""
from __future__ import annotations

import os
from itertools import groupby
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np
import torch
from torch import nn

from vsrbench.baselines.registry import (
    Checkpoint, ModelSpec, SRModel, batched, frame_to_tensor, locate_checkpoint, register_model,
)
from vsrbench.baselines.tfckpt import list_variables, read_checkpoint
from vsrbench.baselines.tfops import resize_bicubic_legacy, resize_nearest_legacy
from vsrbench.core.device import resolve_device
from vsrbench.core.errors import InputError, WeightsError
from vsrbench.core.weights import sha256sum

__all__ = [
    "MEAN", "SCALE", "FEATURES", "NUM_BLOCKS", "NUM_CONVS", "SCOPE", "SOURCE", "CHECKPOINT", "tf_name", "ENet",
    "expected_variables", "check_variables", "load_tf_variables", "load_enet", "ENetModel", "build",
]

#: per-channel RGB means subtracted from the [0, 1] input (the authors' PER_CHANNEL_MEANS)
MEAN: tuple[float, float, float] = (0.47614917, 0.45001204, 0.40904046)
SCALE = 4
FEATURES = 64
NUM_BLOCKS = 10
#: convolutions in TF order: Conv, Conv_1 ... Conv_24
NUM_CONVS = 1 + 2 * NUM_BLOCKS + 4
SCOPE = "generator"

SOURCE = "https://github.com/msmsajjadi/EnhanceNet-Code"
CHECKPOINT = Checkpoint(
    filename="weights",
    format="tf-v1",
    source=f"{SOURCE} (file 'weights' in the repository root)",
    licence="CC BY-NC-ND 4.0",
    sha256="4250b3dc5e69c5bd625e90543fd588ce2fff88510f874f9e9394c48c44b96434",
    url="https://github.com/msmsajjadi/EnhanceNet-Code/raw/HEAD/weights",
    local_name="enhancenet/weights",
    # the published name 'weights' is too generic to be searched on its own
    search_names=("enhancenet/weights", "enhancenet.ckpt"),
    note="ENet-PAT x4 as released by the authors (TF V1 checkpoint, 3,418,142 bytes). It expects LR frames "
         "made by PIL Image.ANTIALIAS (Lanczos) x1/4 of the HR image, as the authors' demo does.",
)


def tf_name(index: int) -> str:
    """TF scope of the ``index``-th convolution: ``generator/Conv``, ``generator/Conv_1``, ..."""
    return f"{SCOPE}/Conv" if index == 0 else f"{SCOPE}/Conv_{index}"


def _conv(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1, bias=True)


class ENet(nn.Module):
    """The EnhanceNet-PAT ×4 generator on NCHW RGB tensors in [0, 1]; output unclipped, [0, 1] units.

    ``convs[i]`` is the TF variable scope :func:`tf_name` ``(i)``.
    """

    def __init__(self) -> None:
        super().__init__()
        sizes = [(3, FEATURES)] + [(FEATURES, FEATURES)] * (NUM_CONVS - 2) + [(FEATURES, 3)]
        self.convs = nn.ModuleList(_conv(c_in, c_out) for c_in, c_out in sizes)
        self.register_buffer("mean", torch.tensor(MEAN, dtype=torch.float32).view(1, 3, 1, 1))

    def residual(self, centred: torch.Tensor) -> torch.Tensor:
        """The network branch (what is added to the bicubic skip), from mean-subtracted input."""
        c = self.convs
        h = torch.relu(c[0](centred))
        for k in range(NUM_BLOCKS):
            h = h + c[2 * k + 2](torch.relu(c[2 * k + 1](h)))
        h = torch.relu(c[21](resize_nearest_legacy(h, 2)))
        h = torch.relu(c[22](resize_nearest_legacy(h, 2)))
        h = torch.relu(c[23](h))
        return c[24](h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> (N, 3, 4H, 4W) in [0, 1] units, unclipped."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise InputError(f"ENet input: expected a tensor of shape (N, 3, H, W), got {tuple(x.shape)}")
        centred = x - self.mean
        return self.residual(centred) + resize_bicubic_legacy(centred, SCALE) + self.mean


# --------------------------------------------------------------------------------------------
# weights


def expected_variables() -> dict[str, tuple[int, ...]]:
    """TF variable name -> shape (HWIO kernels) for every variable the generator needs."""
    net = ENet()
    out: dict[str, tuple[int, ...]] = {}
    for i, conv in enumerate(net.convs):
        o, c_in, kh, kw = conv.weight.shape
        out[f"{tf_name(i)}/weights"] = (kh, kw, c_in, o)
        out[f"{tf_name(i)}/biases"] = (o,)
    return out


def _listed(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_variables(shapes: Mapping[str, tuple[int, ...]], source: str) -> None:
    """Raise WeightsError unless ``shapes`` (variable name -> shape) has every generator variable."""
    expected = expected_variables()
    missing = sorted(n for n in expected if n not in shapes)
    if missing:
        found = sorted(shapes)
        held = f"; it holds {_listed(found, 3)}" if found else f"; it holds no {SCOPE}/ variables"
        raise WeightsError(
            f"{source} is not an EnhanceNet (ENet) checkpoint: missing {len(missing)} of its {len(expected)} "
            f"variables ({_listed(missing)}){held}"
        )
    wrong = [f"{n} {tuple(shapes[n])} (expected {s})" for n, s in expected.items() if tuple(shapes[n]) != s]
    if wrong:
        raise WeightsError(f"{source} has ENet variables of the wrong shape: {_listed(wrong, 3)}")


def load_tf_variables(net: ENet, variables: Mapping[str, np.ndarray], source: str = "the checkpoint") -> ENet:
    """Copy TF variables into ``net``: kernels HWIO -> OIHW with ``permute(3, 2, 0, 1)``."""
    check_variables({name: np.shape(value) for name, value in variables.items()}, source)
    with torch.no_grad():
        for i, conv in enumerate(net.convs):
            kernel = torch.from_numpy(np.asarray(variables[f"{tf_name(i)}/weights"], dtype=np.float32))
            conv.weight.copy_(kernel.permute(3, 2, 0, 1))
            conv.bias.copy_(torch.from_numpy(np.asarray(variables[f"{tf_name(i)}/biases"], dtype=np.float32)))
    return net


def _check_sha256(path: Path) -> None:
    got = sha256sum(path)
    if got != CHECKPOINT.sha256:
        raise WeightsError(
            f"ENet weights {str(path)!r} hold the right variables but have sha256 {got}, expected "
            f"{CHECKPOINT.sha256} (the authors' release); pass check_sha256=False to load other ENet weights"
        )


def load_enet(path: str | os.PathLike, *, check_sha256: bool = True) -> ENet:
    """An :class:`ENet` with the weights of the TF checkpoint at ``path`` (V1 file or V2 prefix).

    The variable names and shapes are checked first, from the checkpoint's index alone (a
    checkpoint of another model gets a message naming what is missing), then
    the sha256 of a single-file checkpoint against the authors' release unless ``check_sha256``
    is False.
    """
    path = Path(path)
    source = repr(str(path))
    check_variables({name: info.shape for name, info in list_variables(path).items()}, source)  # no data read yet
    net = load_tf_variables(ENet(), read_checkpoint(path, prefixes=(f"{SCOPE}/",)), source)
    if check_sha256 and path.is_file():
        _check_sha256(path)
    return net.eval()


# --------------------------------------------------------------------------------------------
# inference


def _batches(frames: Iterable[np.ndarray], chunk: int) -> Iterator[torch.Tensor]:
    """Consecutive frames of the same size, ``chunk`` at a time, as (N, 3, H, W) tensors."""
    tensors = (frame_to_tensor(f, i) for i, f in enumerate(frames))
    for _, same_size in groupby(tensors, key=lambda t: t.shape):
        yield from batched(same_size, chunk)


def _check_chunk(chunk: object) -> int:
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise InputError(f"chunk: expected a positive integer (frames per forward pass), got {chunk!r}")
    return int(chunk)


class ENetModel(SRModel):
    """A loaded :class:`ENet` as an :class:`SRModel`: single-image ×4, ``chunk`` frames per pass, fp32.

    Frames may differ in size; consecutive frames of one size are batched together. Results do
    not depend on ``chunk`` (beyond float rounding of the batched convolutions).
    """

    name = "enet"
    scale = SCALE

    def __init__(self, net: ENet, *, device: str | torch.device = "cpu", chunk: int = 1):
        self.chunk = _check_chunk(chunk)
        self.device = resolve_device(device)
        self.net = net.to(device=self.device, dtype=torch.float32).eval()

    @torch.inference_mode()
    def upscale(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Yield one (4H, 4W, 3) float32 frame in [0, 1] units (unclipped) per input frame, in order."""
        for batch in _batches(frames, self.chunk):
            out = self.net(batch.to(self.device)).permute(0, 2, 3, 1).cpu().numpy()
            yield from out


def build(weights: str | os.PathLike | None = None, device: str | torch.device = "cpu", chunk: int = 1,
          check_sha256: bool = True) -> ENetModel:
    """Load the authors' ENet-PAT ×4 (``weights``: the file, a folder holding it, or a TF prefix)."""
    return ENetModel(load_enet(locate_checkpoint(CHECKPOINT, weights, model="ENet"), check_sha256=check_sha256), device=device, chunk=chunk)


register_model(ModelSpec(
    name="enet",
    description="EnhanceNet-PAT x4 (Sajjadi et al., ICCV 2017), single-image, the authors' released weights",
    builder=build,
    scale=SCALE,
    kind="sisr",
    checkpoints=(CHECKPOINT,),
    degradation="bi-pil",  # PIL ANTIALIAS (LANCZOS) x1/4, as the authors' demo made its LR
))
