"""The ``pyiqa`` protocol preset equals pyiqa's own ``psnr`` and ``ssim`` (chaofengc/IQA-PyTorch, the
installed package: :mod:`_support.pyiqa_reference`) on the same frames: PSNR on RGB with its eps, SSIM on
its rounded YIQ luma with the map's negative values set to 0."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from _support.paths import shared_path
from _support.pyiqa_reference import pyiqa_module, to_pyiqa_input

from vsrbench.evaluate import evaluate_many
from vsrbench.metrics import get_protocol, psnr, ssim


def _frames(seed: int, n: int = 3, shape=(48, 64)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 256, (n, *shape, 3), dtype=np.uint8)
    gt[:, :, : shape[1] // 2] = gt[:, :1, : shape[1] // 2]  # flat columns: the SSIM map has negative values there
    noise = rng.integers(-40, 41, gt.shape)
    return np.clip(gt.astype(int) + noise, 0, 255).astype(np.uint8), gt


def _pyiqa(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    psnr_arch, ssim_arch = pyiqa_module("archs.psnr_arch"), pyiqa_module("archs.ssim_arch")
    x, y = to_pyiqa_input(pred), to_pyiqa_input(gt)
    with torch.no_grad():  # pyiqa's create_metric defaults: psnr test_y_channel=False; ssim test_y_channel=True
        return psnr_arch.PSNR(test_y_channel=False)(x, y).numpy(), ssim_arch.SSIM(test_y_channel=True)(x, y).numpy()


def test_pyiqa_preset_equals_pyiqa_on_synthetic_frames():
    pred, gt = _frames(0)
    want_psnr, want_ssim = _pyiqa(pred, gt)
    np.testing.assert_allclose(psnr(pred, gt, protocol="pyiqa"), want_psnr, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ssim(pred, gt, protocol="pyiqa"), want_ssim, rtol=0, atol=1e-9)
    # the relu matters here, and the luma: the other conventions give other numbers
    assert abs(ssim(pred, gt, protocol="basicsr-y") - want_ssim).max() > 1e-4


def test_identical_frames_give_pyiqa_s_80_db_not_inf():
    _, gt = _frames(1, n=1)
    assert psnr(gt, gt, protocol="pyiqa")[0] == pytest.approx(_pyiqa(gt, gt)[0][0], abs=1e-4) == pytest.approx(80.0)
    assert np.isinf(psnr(gt, gt, protocol="basicsr-rgb")[0])


def test_pyiqa_preset_equals_pyiqa_on_vid4():
    from vsrbench.core.io import open_sequence

    gt_seq = open_sequence(shared_path("data", "vid4", "GT", "calendar"))  # skips, saying why, without ../shared
    out_seq = open_sequence(shared_path("data", "vid4", "DUF-16L", "calendar"))
    gt = np.stack([gt_seq[i] for i in range(3)])
    pred = np.stack([out_seq[i] for i in range(3)])
    want_psnr, want_ssim = _pyiqa(pred, gt)
    scores = evaluate_many({"duf": list(pred)}, list(gt), protocol="pyiqa", metrics=["psnr", "ssim"], device="cpu")
    np.testing.assert_allclose(scores["duf"].values("psnr"), want_psnr, rtol=0, atol=1e-5)
    np.testing.assert_allclose(scores["duf"].values("ssim"), want_ssim, rtol=0, atol=1e-9)
    # the batched (GPU) pipeline's torch path gives the same numbers on the CPU
    batched = evaluate_many({"duf": list(pred)}, list(gt), protocol="pyiqa", metrics=["psnr", "ssim"], device="cpu",
                            pipeline="batched")
    np.testing.assert_allclose(batched["duf"].values("ssim"), want_ssim, rtol=0, atol=1e-9)
    np.testing.assert_allclose(batched["duf"].values("psnr"), want_psnr, rtol=0, atol=1e-5)


def test_the_new_fields_keep_old_hashes():
    assert get_protocol("tecogan").hash == "4af09ddd6ed8"  # stored results keep their key
    assert get_protocol("basicsr-rgb", psnr_eps=1e-8).hash != get_protocol("basicsr-rgb").hash
