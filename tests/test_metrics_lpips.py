"""LPIPS and tLP against the ``lpips`` package (v0.1, net-lin) with the same weights.

Both sides load the same files through their real loading paths: the learned linear layers
shipped with the ``lpips`` package, and a seeded random torchvision backbone written to
``$TORCH_HOME/hub/checkpoints`` (see ``tests/_support/lpips_reference.py``). Tolerance 1e-6.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from _support.paths import shared_path
from _support.lpips_reference import (
    import_lpips, random_backbone_home, reference_distance, reference_model,
)
from _support.builders import synthetic_pair
from _support.spec import spec_crop

from vsrbench.core.errors import WeightsError
from vsrbench.evaluate import evaluate_sequence
from vsrbench.core.io import decode_image
from vsrbench.metrics import LPIPS, get_protocol, lpips, lpips_available, tlp
from vsrbench.metrics.lpips import lin_weights_path

TOL = 1e-6


@pytest.fixture
def reference(alexnet_home):
    return reference_model("alex")


def test_lpips_against_the_package(reference, rng):
    out, gt = synthetic_pair(rng, n=2)
    want = [reference_distance(reference, spec_crop(g), spec_crop(o)) for o, g in zip(out, gt)]
    np.testing.assert_allclose(lpips(out, gt), want, rtol=0, atol=TOL)
    assert lpips(out[1], gt[1]) == pytest.approx(want[1], abs=TOL)
    assert lpips(gt[0], gt[0]) == 0.0


def test_lpips_real_frames_against_the_package(reference):
    gt = decode_image(shared_path("data", "vid4", "GT", "calendar", "Frame 004.png"))
    out = decode_image(shared_path("data", "vid4", "DUF-52L", "calendar", "Frame004.png"))
    want = reference_distance(reference, spec_crop(gt), spec_crop(out))
    assert lpips(out, gt) == pytest.approx(want, abs=TOL)
    assert want > 1e-3  # a real difference, not a degenerate zero


def test_lpips_vgg_against_the_package(tmp_path_factory, monkeypatch, rng):
    home = random_backbone_home(tmp_path_factory, "vgg")
    monkeypatch.setenv("TORCH_HOME", str(home))
    out, gt = synthetic_pair(rng)
    want = reference_distance(reference_model("vgg"), spec_crop(gt), spec_crop(out))
    assert lpips(out, gt, lpips_net="vgg") == pytest.approx(want, abs=TOL)


def test_tlp_against_the_package(reference, rng):
    out, gt = synthetic_pair(rng, n=7)
    d = lambda fr, t: reference_distance(reference, spec_crop(fr[t - 1]), spec_crop(fr[t]))  # noqa: E731
    want = [100 * abs(d(gt, t) - d(out, t)) for t in range(3, 7 - 2)]  # pairs (t-1, t), t = cut+1 .. n-cut-1
    got = tlp(list(out), list(gt))
    assert got.shape == (2,)
    np.testing.assert_allclose(got, want, rtol=0, atol=100 * TOL)
    np.testing.assert_allclose(tlp(list(out), list(gt), tlp_scale=1.0), np.asarray(want) / 100, rtol=0, atol=TOL)


def test_lin_layers_are_the_packages_files(alexnet_home):
    lp = import_lpips()
    assert lin_weights_path("alex") == Path(lp.__file__).parent / "weights" / "v0.1" / "alex.pth"
    model = LPIPS("alex")
    ref = torch.load(lin_weights_path("alex"), map_location="cpu", weights_only=True)
    torch.testing.assert_close(model.lins[2].weight, ref["lin2.model.1.weight"], rtol=0, atol=0)
    assert not any(p.requires_grad for p in model.parameters()) and not model.training


# ------------------------------------------------------------------ missing or wrong weights

def test_missing_backbone_is_one_readable_error(rng):
    assert not lpips_available()
    out, gt = synthetic_pair(rng)
    with pytest.raises(WeightsError) as e:
        lpips(out, gt)
    msg = str(e.value)
    home, torch_home = Path(os.environ["VSRBENCH_HOME"]), Path(os.environ["TORCH_HOME"])
    assert "\n" not in msg
    assert msg.startswith("weights file 'alexnet-owt-7be5be79.pth' not found (searched: ")
    for folder in (home, home / "weights", torch_home / "hub" / "checkpoints"):
        assert str(folder / "alexnet-owt-7be5be79.pth") in msg
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in msg


def test_without_backbone_the_other_metrics_still_work(rng):
    out, gt = synthetic_pair(rng, n=6)
    with pytest.raises(WeightsError, match="alexnet-owt-7be5be79.pth"):
        evaluate_sequence(list(out), list(gt), device="cpu")
    scores = evaluate_sequence(list(out), list(gt), metrics=["psnr", "ssim", "tof"], device="cpu")
    assert {m for _, m, _ in scores.rows} == {"psnr", "ssim", "tof"}
    assert [f for f, m, _ in scores.rows if m == "tof"] == [3]


def test_explicit_backbone_path(tmp_path, alexnet_home, monkeypatch, rng):
    out, gt = synthetic_pair(rng)
    want = lpips(out, gt)
    folder = alexnet_home / "hub" / "checkpoints"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_torch_home"))
    assert not lpips_available()
    assert lpips(out, gt, lpips_weights=folder) == want  # a folder holding the file
    assert lpips(out, gt, lpips_weights=folder / "alexnet-owt-7be5be79.pth") == want  # the file itself
    with pytest.raises(WeightsError) as e:
        lpips(out, gt, lpips_weights=tmp_path / "nope.pth")
    assert str(e.value) == (f"weights file 'alexnet-owt-7be5be79.pth' not found at the given path "
                            f"'{tmp_path / 'nope.pth'}'; the authors publish it at "
                            "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth (torchvision's ImageNet "
                            "weights; copy it into $TORCH_HOME/hub/checkpoints)")


def test_corrupt_or_foreign_backbone_file(tmp_path, rng, monkeypatch):
    # accepted as unverified, so that the checks after the sha256 one are reached
    # (without it, both stop at the sha256 check: tests/test_trust_weights.py)
    monkeypatch.setenv("VSRBENCH_UNVERIFIED_WEIGHTS", "1")
    out, gt = synthetic_pair(rng)
    bad = tmp_path / "corrupt.pth"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match=r"^cannot read weights file '.*corrupt\.pth': "):
        lpips(out, gt, lpips_weights=bad)
    foreign = tmp_path / "foreign.pth"
    torch.save({"conv.weight": torch.zeros(1)}, foreign)
    with pytest.raises(WeightsError) as e:
        lpips(out, gt, lpips_weights=foreign)
    assert str(e.value) == f"'{foreign}' is not a torchvision alex checkpoint: missing features.0.weight"


def test_protocol_selects_the_net(alexnet_home):
    assert get_protocol("tecogan").lpips_net == "alex"
    assert lpips_available() and lpips_available("alex")
    assert not lpips_available("squeeze")
