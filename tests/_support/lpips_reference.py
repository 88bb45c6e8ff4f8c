"""The independent LPIPS reference for the tests: the ``lpips`` package with the same weights.

The ``lpips`` package (v0.1, "net-lin") builds its backbone with torchvision
(``torchvision.models.alexnet(pretrained=True)``), which reads
``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth`` when that file is cached and only
downloads it otherwise. The tests write a *seeded random* torchvision AlexNet there, so that
vsrbench and the ``lpips`` package load the very same backbone through their real loading
paths, and nothing is downloaded.

Helpers here:

- :func:`import_lpips` imports the ``lpips`` package (working around a CPU-only machine with a
  CUDA build of torchvision, see its docstring), or skips the calling test with the reason;
- :func:`write_random_backbone` writes the seeded random torchvision checkpoint (and accepts it
  with :func:`vsrbench.core.weights.accept_unverified`: it is not torchvision's published file);
- :func:`reference_model` builds ``lpips.LPIPS`` and :func:`reference_distance` runs it on RGB
  uint8 frames with TecoGAN's input scaling (``x / 127.5 - 1``);
- :func:`random_backbone_home`: a ``TORCH_HOME`` with that checkpoint, written once per session (the
  ``alexnet_home`` fixture of ``tests/conftest.py`` points ``TORCH_HOME`` at it);
- :func:`computed_once` / :func:`remember`: expensive real-data runs shared between test modules.
"""
from __future__ import annotations

import contextlib
import functools
import io
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from vsrbench.core.weights import accept_unverified

TORCHVISION_BACKBONES = {"alex": ("alexnet", "alexnet-owt-7be5be79.pth"), "vgg": ("vgg16", "vgg16-397923af.pth")}
_MISSING_OP = "operator torchvision::nms does not exist"
_NMS_SCHEMA = "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"


def _define_missing_torchvision_ops() -> None:
    """Declare the schemas of ``torchvision::nms`` and ``torchvision::qnms`` (no kernels)."""
    for op in ("nms", "qnms"):
        if not _op_defined(op):
            torch.library.define(f"torchvision::{op}", _NMS_SCHEMA)


def _op_defined(op: str) -> bool:
    try:
        getattr(torch.ops.torchvision, op)
    except (AttributeError, RuntimeError):
        return False
    return True


def _import_lpips_package():
    import lpips

    return lpips


def import_lpips():
    """Import the ``lpips`` package, or skip the calling test saying why.

    Why the work-around: the installed torchvision is a CUDA build. On a machine without
    the CUDA runtime its compiled operator library (``torchvision._C``) cannot be loaded, so
    none of its custom operators get a schema; importing torchvision then fails in
    ``torchvision/_meta_registrations.py`` with ``RuntimeError: operator torchvision::nms does
    not exist``, because the fake (meta) kernels of ``torchvision::nms`` and
    ``torchvision::qnms`` are registered unconditionally for operators that were never
    defined. Only when that exact error happens, the two operator *schemas* are declared with
    ``torch.library.define`` (no implementation: calling them would still fail) and the import
    is retried. Nothing used here runs those operators: the model code the tests compare with
    (torchvision's ``alexnet``/``vgg16`` modules and lpips' own layers) is pure PyTorch and is
    left untouched.
    """
    try:
        return _import_lpips_package()
    except RuntimeError as e:
        if _MISSING_OP not in str(e):
            pytest.skip(f"the lpips package cannot be imported: {type(e).__name__}: {e}")
        first_error = e
    except ImportError as e:
        pytest.skip(f"the lpips package cannot be imported: {type(e).__name__}: {e}")
    _define_missing_torchvision_ops()
    _forget_partial_imports()
    try:
        return _import_lpips_package()
    except (ImportError, RuntimeError) as e:
        pytest.skip(f"the lpips package cannot be imported ({first_error}; after declaring the missing "
                    f"torchvision ops: {type(e).__name__}: {e})")


def _forget_partial_imports() -> None:
    """Drop half-imported torchvision / lpips modules so that the retry imports them afresh."""
    import sys

    for name in [m for m in sys.modules if m.split(".")[0] in ("torchvision", "lpips")]:
        del sys.modules[name]


def write_random_backbone(torch_home: str | Path, net: str = "alex", seed: int = 0) -> Path:
    """Write torchvision's ``net`` with random weights (``torch.manual_seed(seed)``) as the
    cached checkpoint ``$TORCH_HOME/hub/checkpoints/<file>``; returns the file's path."""
    import_lpips()  # makes torchvision importable
    import torchvision

    builder, fname = TORCHVISION_BACKBONES[net]
    torch.manual_seed(seed)
    if net == "vgg":
        state = _vgg16_state(torchvision)
    else:
        state = getattr(torchvision.models, builder)().state_dict()
    path = Path(torch_home) / "hub" / "checkpoints" / fname
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    accept_unverified(path)  # deliberately not torchvision's published file
    return path


def _vgg16_state(torchvision) -> dict:
    """A complete torchvision ``vgg16`` state dict whose convolutional part is randomly
    initialised (torchvision's init) and whose classifier (123 M parameters LPIPS never uses)
    is zero, stored as broadcast views so that the file stays small."""
    from torchvision.models.vgg import cfgs, make_layers

    feats = make_layers(cfgs["D"]).state_dict()
    shapes = {"classifier.0.weight": (4096, 25088), "classifier.0.bias": (4096,),
              "classifier.3.weight": (4096, 4096), "classifier.3.bias": (4096,),
              "classifier.6.weight": (1000, 4096), "classifier.6.bias": (1000,)}
    state = {f"features.{k}": v for k, v in feats.items()}
    state.update({k: torch.zeros(1).expand(*s) for k, s in shapes.items()})
    return state


def reference_model(net: str = "alex"):
    """``lpips.LPIPS(net=net, version="0.1")``: the learned linear layers from the package, the
    backbone read by torchvision from ``$TORCH_HOME`` (the caller writes it first). Built once
    per backbone file."""
    return _reference_model(net, os.environ.get("TORCH_HOME", ""))


@functools.lru_cache(maxsize=4)
def _reference_model(net: str, torch_home: str):
    lp = import_lpips()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torchvision: "pretrained" is deprecated
        return lp.LPIPS(net=net, version="0.1", verbose=False).eval()


def to_reference_input(frame_u8: np.ndarray) -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> (1, 3, H, W) float32 in [-1, 1], written out as TecoGAN's ``im2tensor``."""
    x = frame_u8.astype(np.float64) / 127.5 - 1.0
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None])).float()


@torch.no_grad()
def reference_distance(model, a_u8: np.ndarray, b_u8: np.ndarray) -> float:
    """LPIPS between two RGB uint8 frames according to the ``lpips`` package."""
    return float(model(to_reference_input(a_u8), to_reference_input(b_u8)).flatten()[0])


def random_backbone_home(tmp_path_factory, net: str = "alex") -> Path:
    """A ``TORCH_HOME`` folder holding the seeded random ``net`` checkpoint, written once per
    test session (the AlexNet file is 244 MB: torchvision's classifier is in it)."""
    home = tmp_path_factory.getbasetemp() / f"torch_home_random_{net}"
    path = home / "hub" / "checkpoints" / TORCHVISION_BACKBONES[net][1]
    if not path.is_file():
        write_random_backbone(home, net)
    accept_unverified(path)  # a random backbone: vsrbench refuses it unless deliberately accepted
    return home


_ONCE: dict[tuple, object] = {}


def computed_once(key: tuple, compute):
    """``compute()``'s result for ``key``, computed at most once per test session.

    The real-data runs (Vid4 calendar through the one-pass pipeline and through the
    straightforward loop, several seconds each) are compared with each other and with other
    references by more than one test module; put the backbone folder (``TORCH_HOME``) in the key.
    """
    if key not in _ONCE:
        _ONCE[key] = compute()
    return _ONCE[key]


def remember(key: tuple, value) -> None:
    """Offer a result computed elsewhere (e.g. under a benchmark timer) to :func:`computed_once`."""
    _ONCE.setdefault(key, value)
