"""Speed of the one-pass evaluation against the straightforward loop, on the same frames.

Used by ``vsrbench speed`` and by the pytest-benchmark suite. Numbers must be identical
(to round-off); only the time may differ.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vsrbench.core.frames import to_uint8

__all__ = ["synthetic_pair", "write_random_backbone", "BenchResult", "SpeedRequest", "measure_speed"]


def synthetic_pair(n: int = 10, size: tuple[int, int] = (576, 720), seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A textured scene panning by sub-pixel steps (GT) and a noisy, blurred copy (output)."""
    import cv2
    from skimage import data

    rng = np.random.default_rng(seed)
    h, w = size
    base = cv2.resize(data.astronaut(), (w + 64, h + 64), interpolation=cv2.INTER_CUBIC)
    gt, out = [], []
    for t in range(n):
        m = np.float32([[1, 0, -0.37 * t], [0, 1, -0.21 * t]])
        f = cv2.warpAffine(base, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        gt.append(f)
        o = cv2.GaussianBlur(f.astype(np.float32), (0, 0), 1.0) + rng.normal(0, 4, f.shape)
        out.append(to_uint8(o, unit=255.0))
    return gt, out


def write_random_backbone(folder: str | os.PathLike, net: str = "alex", seed: int = 0) -> Path:
    """A seeded random backbone in torchvision's file layout (for timing and tests, not for scores),
    accepted in this process although it is not the published file."""
    from vsrbench.core.weights import accept_unverified
    from vsrbench.metrics._kernels import BACKBONE_FILES, lpips_backbone

    torch.manual_seed(seed)
    feats, _, _ = lpips_backbone(net)
    path = Path(folder) / BACKBONE_FILES[net]
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({f"features.{k}": v for k, v in feats.state_dict().items()}, path)
    accept_unverified(path)  # deliberately not torchvision's file: results record it as unverified
    return path


@dataclass
class BenchResult:
    frames: int
    fast_s: float
    reference_s: float
    max_abs_diff: dict

    @property
    def speedup(self) -> float:
        return self.reference_s / self.fast_s


def _time_pipelines(gt, preds: list, *, lpips_weights=None, metrics=("psnr", "ssim", "lpips", "tof", "tlp"),
            repeat: int = 1) -> BenchResult:
    """Time the one-pass evaluation against ``reference_evaluate`` on the same frames (best of ``repeat``).

    ``preds`` is a list of outputs of the same sequence (one or more): the reference scores them
    one after another; vsrbench scores them together (:func:`evaluate_many`).
    ``frames`` in the result counts scored frames over all outputs.
    """
    from vsrbench.evaluate import evaluate_many
    from vsrbench.metrics._kernels import get_lpips
    from vsrbench.reference import reference_evaluate

    outs = list(preds)
    model = get_lpips(lpips_weights=lpips_weights, device="cpu") if set(metrics) & {"lpips", "tlp"} else None
    fast_t, ref_t = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fast = evaluate_many(dict(enumerate(outs)), gt, metrics=metrics, device="cpu", lpips_weights=lpips_weights)
        fast_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = [reference_evaluate(gt, out, metrics=metrics, lpips_fn=model) for out in outs]
        ref_t.append(time.perf_counter() - t0)
    diffs: dict[str, float] = {}
    for k, rows in enumerate(ref):
        a = {(f, m): v for f, m, v in fast[k].rows}
        for f, m, v in rows:
            diffs[m] = max(diffs.get(m, 0.0), abs(a[(f, m)] - v) if np.isfinite(v) else 0.0)
    per_output = len(gt) - 2 * fast[0].protocol.cut_frames
    return BenchResult(frames=per_output * len(outs), fast_s=min(fast_t), reference_s=min(ref_t), max_abs_diff=diffs)



@dataclass(frozen=True)
class SpeedRequest:
    """What ``vsrbench speed`` times: the sequences ``gt`` and ``preds`` (paths), or ``frames``
    synthetic 720x576 frames when ``gt`` is None; ``lpips_weights``: the AlexNet backbone file
    (default: looked up, else a seeded random one); the best of ``repeat`` runs."""

    gt: str | None = None
    preds: tuple[str, ...] = ()
    frames: int = 10
    lpips_weights: str | None = None
    repeat: int = 1


def measure_speed(request: SpeedRequest, *, say=None) -> str:
    """Time ``request`` with :func:`_time_pipelines` and return the lines ``vsrbench speed`` prints;
    ``say`` (default: stderr) gets the note that a random backbone stands in for a missing one."""
    import sys
    import tempfile

    from vsrbench.core.io import open_sequence
    from vsrbench.metrics.lpips import backbone_missing

    say = say or (lambda line: print(line, file=sys.stderr))
    if request.gt:
        gt, preds = open_sequence(request.gt), [open_sequence(p) for p in request.preds]
        what = f"{gt.source} vs {', '.join(p.source for p in preds)}"
    else:
        gt, pred = synthetic_pair(request.frames)
        preds, what = [pred], f"{request.frames} synthetic 720x576 frames"
    weights = request.lpips_weights
    with tempfile.TemporaryDirectory(prefix="vsrbench-speed-") as tmp:  # removed afterwards
        if weights is None and backbone_missing():  # a file that is there but unusable is reported instead
            weights = str(write_random_backbone(tmp))
            say("note: no AlexNet backbone found; timing with a seeded random one")
        r = _time_pipelines(gt, preds, lpips_weights=weights, repeat=request.repeat)
    return "\n".join([
        f"{what}: {r.frames} scored frames ({len(preds)} output(s)), metrics psnr,ssim,lpips,tof,tlp "
        "(protocol tecogan, CPU)",
        f"  straightforward loop : {r.reference_s:7.2f} s  ({r.frames / r.reference_s:5.2f} frames/s)",
        f"  vsrbench one-pass    : {r.fast_s:7.2f} s  ({r.frames / r.fast_s:5.2f} frames/s)",
        f"  speed-up             : {r.speedup:.2f}x",
        "  max |difference|     : " + ", ".join(f"{m} {d:.1e}" for m, d in r.max_abs_diff.items()),
    ]) + "\n"
