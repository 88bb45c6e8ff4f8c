"""Seeded random RAFT-large weights in both published key layouts, and the golden of the original code.

- :func:`random_state_dict`: RAFT-large tensors drawn from NumPy's ``default_rng(seed)`` (stable across
  NumPy/PyTorch versions, unlike torch's initialisers), named as :class:`vsrbench.metrics.raft.RAFT` names
  them; :func:`original_layout` / :func:`torchvision_layout` rename them as princeton-vl's
  ``DataParallel`` file and torchvision's ``raft_large`` state dict do (the original's strided blocks also
  save their shortcut norm as ``norm3``). These renamings are written here from the two published
  layouts, independently of ``KEY_MAP``; the tests check them against torchvision's real model and the
  key list recorded from princeton-vl's code.
- :func:`write_weights`: such a file, accepted as unverified (it is not a published file).
- :func:`import_torchvision`: torchvision with the CPU-box work-around of ``lpips_reference``.
- :func:`golden_frames`: the seeded input frames of the golden.

The golden ``tests/golden/raft_princeton.json`` was made at development time by running princeton-vl/RAFT's
own ``core/raft.py`` (commit 2888e15, ``git archive`` of a clone into /tmp/raft_pvl) on the CPU with these
weights and frames; the exact command is in the file (``python tests/_support/raft_reference.py
/tmp/raft_pvl/core tests/golden/raft_princeton.json``). Only numbers are committed, never that code.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "raft_princeton.json"
SEED = 2020
ITERS = 20


def random_state_dict(seed: int = SEED) -> dict[str, torch.Tensor]:
    """RAFT-large weights drawn from ``numpy.random.default_rng(seed)``: convolutions He-normal over
    the fan-in (the flow head's last one ×0.03, so that 20 updates give flows of a few pixels, not
    hundreds), biases U(-0.1, 0.1), batch norms with weight/var U(0.5, 1.5), bias/mean U(-0.1, 0.1)."""
    from vsrbench.metrics.raft import RAFT

    rng = np.random.default_rng(seed)
    out = {}
    for k, v in RAFT().state_dict().items():
        shape, name = tuple(v.shape), k.rpartition(".")[2]
        if name == "num_batches_tracked":
            t = np.array(0, dtype=np.int64)
        elif name == "weight" and len(shape) == 4:
            t = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))
            t = t * (0.03 if k.startswith("update_block.flow_head.conv2") else 1.0)
        elif name in ("weight", "running_var"):
            t = rng.uniform(0.5, 1.5, shape)
        else:
            t = rng.uniform(-0.1, 0.1, shape)
        out[k] = torch.from_numpy(np.asarray(t, dtype=np.int64 if name == "num_batches_tracked" else np.float32))
    return out


def original_layout(sd: dict) -> dict:
    """As princeton-vl's ``raft-things.pth``: ``module.`` + the names, and ``norm3`` beside ``downsample.1``."""
    out = {}
    for k, v in sd.items():
        out["module." + k] = v
        if ".downsample.1." in k:
            out["module." + k.replace(".downsample.1.", ".norm3.")] = v
    return out


def _tv_name(k: str) -> str:
    enc = {"fnet": "feature_encoder", "cnet": "context_encoder"}
    parts = k.split(".")
    if parts[0] in enc:
        head, rest = enc[parts[0]], parts[1:]
        if rest[0] in ("conv1", "norm1"):
            return ".".join([head, "convnormrelu", "0" if rest[0] == "conv1" else "1", *rest[1:]])
        if rest[0] == "conv2":
            return ".".join([head, "conv", *rest[1:]])
        layer, blk, mod = rest[:3]
        sub = {"conv1": "convnormrelu1.0", "norm1": "convnormrelu1.1", "conv2": "convnormrelu2.0",
               "norm2": "convnormrelu2.1"}.get(mod)
        tail = rest[3:] if sub else rest[2:]
        return ".".join([head, layer, blk, sub or "", *tail]).replace("..", ".")
    if parts[1] == "encoder":
        sub = {"convc1": "convcorr1.0", "convc2": "convcorr2.0", "convf1": "convflow1.0", "convf2": "convflow2.0",
               "conv": "conv.0"}[parts[2]]
        return f"update_block.motion_encoder.{sub}.{parts[3]}"
    if parts[1] == "gru":
        gate, tag = parts[2][4], parts[2][5]
        return f"update_block.recurrent_block.convgru{tag}.conv{gate}.{parts[3]}"
    if parts[1] == "mask":
        return {"0": "mask_predictor.convrelu.0", "2": "mask_predictor.conv"}[parts[2]] + "." + parts[3]
    return k  # the flow head keeps its names


def torchvision_layout(sd: dict) -> dict:
    """As torchvision's ``raft_large().state_dict()``."""
    return {_tv_name(k): v for k, v in sd.items()}


def write_weights(path: Path, layout: str = "original", seed: int = SEED) -> Path:
    """Save seeded random weights in ``layout`` ("original" or "torchvision") and accept the file."""
    from vsrbench.core.weights import accept_unverified

    sd = random_state_dict(seed)
    torch.save(original_layout(sd) if layout == "original" else torchvision_layout(sd), path)
    accept_unverified(path)
    return path


def import_torchvision():
    """torchvision (declaring the two missing operator schemas on a CPU box with a CUDA build), or skip."""
    from _support.lpips_reference import _define_missing_torchvision_ops

    try:
        import torchvision
    except RuntimeError as e:
        if "does not exist" not in str(e):
            pytest.skip(f"torchvision cannot be imported: {e}")
        _define_missing_torchvision_ops()
        import torchvision
    except ImportError as e:
        pytest.skip(f"torchvision is not installed: {e}")
    return torchvision


def golden_frames(h: int = 128, w: int = 160, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two uint8 RGB frames: smooth random texture, the second shifted by (dy, dx) = (2, 3) plus noise."""
    rng = np.random.default_rng(seed + 1)
    base = rng.uniform(0, 255, (h // 8 + 2, w // 8 + 2, 3))
    big = np.kron(base, np.ones((8, 8, 1)))[: h + 8, : w + 8]
    a = big[4:4 + h, 4:4 + w]
    b = np.roll(big, (2, 3), (0, 1))[4:4 + h, 4:4 + w] + rng.normal(0, 2, (h, w, 3))
    return np.clip(a, 0, 255).astype(np.uint8), np.clip(b, 0, 255).astype(np.uint8)


POINTS = ((0, 0), (17, 40), (64, 80), (100, 151), (127, 159))


def _summary(flow: torch.Tensor) -> dict:
    f = flow[0]
    return {"points_yx": [list(p) for p in POINTS],
            "values_xy": [[float(f[0, y, x]), float(f[1, y, x])] for y, x in POINTS],
            "mean_xy": [float(f[0].double().mean()), float(f[1].double().mean())],
            "max_abs": float(f.abs().max())}


def make_golden(core: str, out: str) -> None:
    """Run princeton-vl's ``core/raft.py`` (folder ``core``) on :func:`golden_frames` with the seeded weights."""
    import argparse

    sys.path.insert(0, core)
    from raft import RAFT as Original  # princeton-vl's module, only at development time

    args = argparse.Namespace(small=False, mixed_precision=False, alternate_corr=False, dropout=0)
    model = torch.nn.DataParallel(Original(args))
    keys = {k: list(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(original_layout(random_state_dict(SEED)))
    model = model.module.eval()
    a, b = (torch.from_numpy(f).permute(2, 0, 1).float()[None] for f in golden_frames())
    with torch.no_grad():
        _, flow = model(a, b, iters=ITERS, test_mode=True)
        _, flow01 = model(a / 255.0, b / 255.0, iters=ITERS, test_mode=True)
    Path(out).write_text(json.dumps({
        "what": "princeton-vl/RAFT core/raft.py (commit 2888e15), CPU, test_mode, seeded random weights "
                "(tests/_support/raft_reference.random_state_dict) and frames (golden_frames)",
        "command": f"python tests/_support/raft_reference.py {core} {out}",
        "torch": torch.__version__, "seed": SEED, "iters": ITERS, "frames_hw": [128, 160],
        "flow_0_255": _summary(flow), "flow_0_1": _summary(flow01), "original_keys": keys}, indent=1) + "\n")


if __name__ == "__main__":
    make_golden(sys.argv[1], sys.argv[2])
