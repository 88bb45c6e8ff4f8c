"""Bicubic up-scaling baselines as models (no weights).

=================  =====================================================================
model              resize (see :mod:`vsrbench.baselines.resize`)
=================  =====================================================================
``bicubic``        MATLAB ``imresize(lr, scale)``: the "Bicubic" row of most SR tables
``bicubic-tf``     TF1 legacy ``resize_bicubic``: the skip connection TecoGAN and ENet add
``bicubic-torch``  ``F.interpolate(mode='bicubic', align_corners=False)``
``bicubic-cv2``    ``cv2.resize(INTER_CUBIC)``
=================  =====================================================================

Each works frame by frame on float64 data and yields float32 RGB frames in [0, 1] units,
unclipped (bicubic overshoots at edges); save them with :func:`vsrbench.core.frames.to_uint8`.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from vsrbench.baselines.registry import ModelSpec, SRModel, register_model
from vsrbench.baselines.resize import (
    imresize_matlab,
    resize_bicubic_cv2,
    resize_bicubic_tf_legacy,
    resize_bicubic_torch,
)
from vsrbench.core.errors import InputError
from vsrbench.core.frames import check_frame

__all__ = ["BicubicModel"]

Resize = Callable[[np.ndarray, int], np.ndarray]


class BicubicModel(SRModel):
    """Up-scales each frame with one bicubic ``resize(frame, scale)``; stateless."""

    def __init__(self, name: str, resize: Resize, scale: int = 4):
        if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
            raise InputError(f"scale: expected an integer >= 1, got {scale!r}")
        self.name, self.resize, self.scale = name, resize, int(scale)

    def upscale(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Yield one (scale*H, scale*W, 3) float32 frame in [0, 1] units per input frame.

        Input frames are RGB uint8 (0..255) or floats in [0, 1].
        """
        for i, frame in enumerate(frames):
            a = check_frame(frame, f"{self.name} input frame {i}")
            unit = a.astype(np.float64) / 255.0 if a.dtype == np.uint8 else a.astype(np.float64)
            yield self.resize(unit, self.scale).astype(np.float32)


def _builder(name: str, resize: Resize) -> Callable[..., BicubicModel]:
    def build(weights: object = None, device: str | torch.device = "cpu", scale: int = 4) -> BicubicModel:
        """A :class:`BicubicModel`; it has no weights and always computes on the CPU."""
        if weights is not None:
            raise InputError(f"model {name!r} has no weights, got weights={str(weights)!r}")
        return BicubicModel(name, resize, scale)

    return build


def _register(name: str, description: str, resize: Resize) -> None:
    register_model(ModelSpec(name=name, description=description, builder=_builder(name, resize),
                             scale=4, kind="sisr", needs_weights=False))


_register("bicubic", "MATLAB imresize bicubic (a=-0.5, mirror borders): the usual literature baseline",
          lambda img, s: imresize_matlab(img, scale=s))
_register("bicubic-tf", "TF1 legacy resize_bicubic (a=-0.75, top-left aligned): TecoGAN's and ENet's skip",
          resize_bicubic_tf_legacy)
_register("bicubic-torch", "torch F.interpolate bicubic, align_corners=False (a=-0.75, half-pixel)",
          lambda img, s: resize_bicubic_torch(img, scale=s))
_register("bicubic-cv2", "OpenCV cv2.resize INTER_CUBIC (a=-0.75, half-pixel)",
          lambda img, s: resize_bicubic_cv2(img, scale=s))
