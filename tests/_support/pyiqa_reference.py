"""pyiqa (IQA-PyTorch) as the independent reference of the no-reference image metrics (MUSIQ, MANIQA, CLIP-IQA).

pyiqa is installed without its requirements (see the ``bench`` extra's note in pyproject.toml); importing it
imports torchvision, which on a CPU-only machine with a CUDA build of torchvision needs the work-around of
:mod:`_support.lpips_reference`. :func:`import_pyiqa` applies it, or skips the calling test saying why.

The tests build pyiqa's architectures with ``pretrained=False`` (nothing is downloaded), give them seeded
random weights and write those weights, in pyiqa's key layout, to a file that vsrbench loads.
"""
from __future__ import annotations

import contextlib
import importlib
import io

import numpy as np
import pytest
import torch

from _support.lpips_reference import _define_missing_torchvision_ops

__all__ = ["import_pyiqa", "pyiqa_module", "to_pyiqa_input", "randomize", "no_timm_download"]


def import_pyiqa():
    """Import pyiqa (declaring torchvision's missing operator schemas first), or skip the test saying why."""
    _define_missing_torchvision_ops()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return importlib.import_module("pyiqa")
    except ImportError as e:
        pytest.skip(f"pyiqa is not installed ({e}); pip install --no-deps pyiqa")


def pyiqa_module(name: str):
    """``pyiqa.<name>`` (e.g. ``archs.musiq_arch``), or skip saying which import failed."""
    import_pyiqa()
    try:
        return importlib.import_module(f"pyiqa.{name}")
    except ImportError as e:
        pytest.skip(f"pyiqa.{name} cannot be imported: {e}")


def to_pyiqa_input(frames: np.ndarray) -> torch.Tensor:
    """RGB uint8 ``(N, H, W, 3)`` -> the ``(N, 3, H, W)`` float32 tensor in [0, 1] pyiqa takes (``x / 255``,
    as its ``imread2tensor``)."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0


def randomize(model: torch.nn.Module, seed: int, scale: float = 0.05) -> dict:
    """Perturb, with a seeded generator, every float parameter and buffer of ``model`` that its initialisation
    left constant (zero biases, unit norms, zero tokens and embeddings), so that none is trivial; the randomly
    initialised weights are kept. Returns the state dict."""
    g = torch.Generator().manual_seed(seed)
    state = model.state_dict()
    for k, v in state.items():
        if v.is_floating_point() and v.numel() and "attn_mask" not in k and bool((v == v.flatten()[0]).all()):
            v.add_(torch.randn(v.shape, generator=g) * scale)
    model.load_state_dict(state)
    return state


@contextlib.contextmanager
def no_timm_download():
    """While active, ``timm.create_model(..., pretrained=True)`` builds the model with random weights
    instead of downloading them (pyiqa's MANIQA asks timm for a pretrained ViT it then overwrites)."""
    import_pyiqa()
    import timm

    real = timm.create_model

    def create(name, pretrained=False, **kw):
        return real(name, pretrained=False, **kw)

    timm.create_model = create
    try:
        yield
    finally:
        timm.create_model = real
