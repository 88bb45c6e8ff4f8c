"""DISTS against its three independent implementations with the same weights.

The peers: the authors' ``DISTS_pytorch`` (dingkeyan93/DISTS), pyiqa's ``DISTS`` arch (installed
without its requirements) and ``piq.DISTS``. Each builds its VGG16 with torchvision, which reads
``$TORCH_HOME/hub/checkpoints/vgg16-397923af.pth``: the tests write a seeded random torchvision VGG16
there (``_support.lpips_reference.random_backbone_home``), so vsrbench and every peer load the very
same backbone through their own loading code. The alpha/beta weights are the real published file
shipped in the ``DISTS_pytorch`` wheel: given to ``DISTS_pytorch`` (``load_weights=False`` then the
two tensors), to pyiqa as its ``pretrained_model_path``, and to piq as its cached download
(``$TORCH_HOME/hub/checkpoints/dists_weights.pt``). piq shrinks frames whose short side exceeds
256 px, so the frames here are smaller. Tolerance 1e-6.

Speed (``--benchmark-enable`` only): vsrbench against DISTS_pytorch, pyiqa and piq on Vid4 calendar
frames (a synthetic clip when ../shared is absent), per frame and batched, CPU.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from _support.lpips_reference import import_lpips, random_backbone_home
from _support.paths import SHARED

from vsrbench.core.errors import InputError, VsrbenchWarning, WeightsError
from vsrbench.core.weights import accept_unverified
from vsrbench.metrics.dists import ALPHA_BETA_SHA256, alpha_beta_path, dists, dists_weights_record

TOL = 1e-6


@pytest.fixture
def vgg_home(tmp_path_factory, monkeypatch) -> Path:
    """TORCH_HOME with the seeded random VGG16 and the real alpha/beta file as piq's cached download."""
    home = random_backbone_home(tmp_path_factory, "vgg")
    piq_file = home / "hub" / "checkpoints" / "dists_weights.pt"
    if not piq_file.is_file():
        shutil.copy(alpha_beta_path(), piq_file)
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


def _pair(rng, n=2, shape=(120, 160)):
    """(output, GT) uint8 RGB batches: a smooth GT, and outputs from slightly to very different."""
    import cv2

    gt = np.stack([cv2.GaussianBlur(rng.integers(0, 256, shape + (3,), dtype=np.uint8), (0, 0), 2.0)
                   for _ in range(n)])
    out = np.clip(gt.astype(int) + rng.integers(-30, 31, gt.shape), 0, 255).astype(np.uint8)
    out[-1] = rng.integers(0, 256, shape + (3,), dtype=np.uint8)  # unrelated content: a large distance
    return out, gt


def _unit(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(0, 3, 1, 2).float().div(255.0)


def _quiet():
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def _peer(name: str):
    """A peer's DISTS as a function of two (N, 3, H, W) float tensors in [0, 1] (built once per backbone)."""
    return _peer_model(name, os.environ.get("TORCH_HOME", ""))


@functools.lru_cache(maxsize=4)
def _peer_model(name: str, torch_home: str):
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[bench]'; pyiqa: pip install --no-deps pyiqa)")
    import_lpips()  # torchvision on a CPU-only machine (see _support.lpips_reference.import_lpips)
    with _quiet():
        if name == "DISTS_pytorch":
            import DISTS_pytorch

            m = DISTS_pytorch.DISTS(load_weights=False)  # its own loader reads sys.prefix/weights.pt
            ab = torch.load(alpha_beta_path(), map_location="cpu", weights_only=True)
            m.alpha.data, m.beta.data = ab["alpha"], ab["beta"]
        elif name == "pyiqa":
            from pyiqa.archs.dists_arch import DISTS

            m = DISTS(pretrained_model_path=str(alpha_beta_path()))
        else:
            import piq

            m = piq.DISTS(reduction="none")
    m.eval()

    def call(x, y):
        with torch.no_grad(), _quiet():
            return m(x, y).detach().double().flatten().numpy()

    return call


@pytest.mark.parametrize("peer", ["DISTS_pytorch", "pyiqa", "piq"])
def test_dists_against_peer(vgg_home, rng, peer):
    out, gt = _pair(rng)
    want = _peer(peer)(_unit(out), _unit(gt))
    got = dists(out, gt)
    assert got.shape == (2,) and want[-1] > 0.05  # unrelated frames: far from 0
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    assert dists(out[0], gt[0]) == pytest.approx(want[0], abs=TOL)  # one frame: a float
    assert dists(_unit(out), _unit(gt)) == pytest.approx(got, abs=1e-7)  # float tensors in [0, 1]


def test_dists_real_frames_against_the_authors_code(vgg_home):
    from vsrbench.core.io import decode_image

    gt_file = SHARED / "data" / "vid4" / "GT" / "calendar" / "Frame 004.png"
    out_file = SHARED / "data" / "vid4" / "DUF-52L" / "calendar" / "Frame004.png"
    if not (gt_file.is_file() and out_file.is_file()):
        pytest.skip(f"needs {gt_file} and {out_file} (the team's shared Vid4 frames)")
    gt, out = decode_image(gt_file)[200:392, 300:556], decode_image(out_file)[200:392, 300:556]
    want = _peer("DISTS_pytorch")(_unit(out[None]), _unit(gt[None]))[0]
    assert dists(out, gt) == pytest.approx(want, abs=TOL)
    assert want > 1e-3


# identical frames: 0 up to float32 rounding of the statistics (the covariance as E[xy] - mu_x mu_y, the
# variances as E[(x - mu)^2], as the authors compute them)
ZERO_TOL = 5e-6


def test_identical_frames_score_zero(vgg_home, rng):
    _, gt = _pair(rng, n=1)
    assert abs(dists(gt[0], gt[0])) < ZERO_TOL


def test_without_the_fused_convolution(vgg_home, rng, monkeypatch):
    """The plain convolution + ReLU (a torch without oneDNN's fused op) gives the same values."""
    from vsrbench.metrics import dists as mod

    out, gt = _pair(rng)
    fused = dists(out, gt)
    monkeypatch.setattr(mod, "_FUSED_OK", [False])
    np.testing.assert_allclose(dists(out, gt), fused, rtol=0, atol=1e-7)


def test_the_scorer_through_evaluate(vgg_home, rng):
    from vsrbench.evaluate import evaluate_sequence

    out, gt = _pair(rng, n=5, shape=(64, 64))
    scores = evaluate_sequence(list(out), list(gt), metrics=["dists"], device="cpu", protocol="basicsr-rgb")
    rows = [(f, v) for f, m, v in scores.rows if m == "dists"]
    assert [f for f, _ in rows] == list(range(5))
    np.testing.assert_allclose([v for _, v in rows], dists(out, gt), rtol=0, atol=TOL)  # one thread there


def test_weights_record_names_both_files(vgg_home):
    rec = dists_weights_record()
    assert rec["dists:backbone"]["published_file"] == "vgg16-397923af.pth"
    assert rec["dists:backbone"]["verified"] is False  # the random VGG16, deliberately accepted
    assert rec["dists:alpha_beta"] == {"path": str(alpha_beta_path()), "sha256": ALPHA_BETA_SHA256, "verified": True}


def test_missing_vgg16_is_one_readable_error(rng):
    out, gt = _pair(rng, n=1)
    with pytest.raises(WeightsError) as e:
        dists(out, gt)
    msg = str(e.value)
    assert "\n" not in msg and "'vgg16-397923af.pth' not found" in msg
    assert str(Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints" / "vgg16-397923af.pth") in msg
    assert "https://download.pytorch.org/models/vgg16-397923af.pth" in msg


def test_missing_or_foreign_alpha_beta(vgg_home, rng, tmp_path, monkeypatch):
    out, gt = _pair(rng, n=1)
    from vsrbench.metrics import dists as mod

    monkeypatch.setattr(mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WeightsError, match="DISTS_pytorch.*is not installed"):
        mod.alpha_beta_path()
    fake = tmp_path / "weights.pt"
    torch.save({"alpha": torch.ones(1, 1475, 1, 1), "beta": torch.ones(1, 1475, 1, 1)}, fake)
    with pytest.raises(WeightsError, match="expected f5e65c96"):
        dists_weights_record(alpha_beta=fake)
    accept_unverified(fake)
    assert dists_weights_record(alpha_beta=fake)["dists:alpha_beta"]["verified"] is False


def test_bad_input(vgg_home, rng):
    out, gt = _pair(rng, n=1)
    with pytest.raises(InputError, match="output is 64x64 but GT is 160x120"):
        dists(out[0, :64, :64], gt[0])
    with pytest.warns(VsrbenchWarning, match="the output's top-left 64x64 is scored"):
        assert dists(gt[0], gt[0, :64, :64], size_rule="crop-pred") == pytest.approx(0.0, abs=ZERO_TOL)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        dists(_unit(out) * 2, _unit(gt))
    with pytest.raises(InputError):
        dists(out[0, :, :, :2], gt[0, :, :, :2])


# ------------------------------------------------------------------ speed (--benchmark-enable only)

def _bench_frames():
    from vsrbench.core.io import open_sequence

    gt_dir, out_dir = SHARED / "data" / "vid4" / "GT" / "calendar", SHARED / "data" / "vid4" / "DUF-52L" / "calendar"
    if gt_dir.is_dir() and out_dir.is_dir():
        read = lambda d: np.stack([np.asarray(open_sequence(d)[i]) for i in range(2)])  # noqa: E731
        return read(out_dir), read(gt_dir), "vid4/calendar GT vs DUF-52L, 2 frames 720x576"
    rng = np.random.default_rng(3)
    out, gt = _pair(rng, n=2, shape=(576, 720))
    return out, gt, "synthetic 2 frames 720x576"


@pytest.mark.parametrize("who", ["vsrbench", "DISTS_pytorch", "pyiqa", "piq"])
@pytest.mark.parametrize("mode", ["per-frame", "batched"])
def test_speed(benchmark, request, vgg_home, who, mode):
    if benchmark.disabled:
        pytest.skip("a benchmark: run with --benchmark-enable")
    out, gt, source = _bench_frames()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if who == "vsrbench":
        dists(out[:1], gt[:1])  # model load and warm-up outside the clock
        call = (lambda: [dists(o, g) for o, g in zip(out, gt)]) if mode == "per-frame" else (lambda: dists(out, gt))
    else:
        peer, x, y = _peer(who), _unit(out), _unit(gt)
        peer(x[:1], y[:1])
        call = (lambda: [peer(x[i:i + 1], y[i:i + 1]) for i in range(len(x))]) if mode == "per-frame" \
            else (lambda: peer(x, y))
    benchmark.group = "dists"
    benchmark.extra_info.update(case=f"{who} {mode}", frames=len(out), source=source)
    benchmark.pedantic(call, rounds=2, iterations=1)
