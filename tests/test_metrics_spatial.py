"""PSNR and SSIM under the ``tecogan`` protocol, and the input conventions of every metric.

Independent references, written from metrics-spec.md section 1 (tests/_support/spec.py): the centre-32 crop rule,
BT.601 studio luma in NumPy float64, ``skimage.metrics.peak_signal_noise_ratio`` / the plain
formula, and ``skimage.metrics.structural_similarity`` with its defaults and
``data_range = max(Y_out) - min(Y_out)``. Tolerances: PSNR 1e-6 dB, SSIM 1e-7.
"""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import torch
from _support.builders import synthetic_pair
from _support.paths import shared_path
from _support.spec import ref_psnr, ref_ssim, spec_crop, spec_luma, spec_window
from skimage.metrics import peak_signal_noise_ratio

import vsrbench.metrics.spatial as spatial_module
from vsrbench.core.errors import InputError
from vsrbench.core.io import decode_image
from vsrbench.metrics import psnr, rgb_to_y, ssim
from vsrbench.metrics.spatial import center32_window

PSNR_TOL, SSIM_TOL = 1e-6, 1e-7


# ------------------------------------------------------------------ references (from the spec)

# ------------------------------------------------------------------ the crop

@pytest.mark.parametrize("length, kept, offset", [
    (576, 544, 16), (720, 704, 8), (704, 672, 16), (480, 448, 16), (144, 128, 8), (180, 160, 10),
])
def test_center32_window_spec_examples(length, kept, offset):
    assert spec_window(length) == (offset, kept)
    assert center32_window(length) == (offset, kept)


def test_center32_window_agrees_with_rule_for_every_length():
    for length in range(48, 1100):
        assert center32_window(length) == spec_window(length), length


def test_center32_window_too_small():
    with pytest.raises(InputError) as e:
        center32_window(47)
    assert str(e.value) == "frame side 47 px is too small for TecoGAN's crop (needs at least 48 px)"


# ------------------------------------------------------------------ luma, PSNR, SSIM (synthetic)

def test_rgb_to_y_float64_is_the_spec_formula(rng):
    img = rng.integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    got = rgb_to_y(torch.from_numpy(img).permute(0, 3, 1, 2).double(), "float64")[:, 0].numpy()
    np.testing.assert_allclose(got, spec_luma(img), rtol=0, atol=1e-12)


def test_psnr_hand_computed():
    gt = np.full((96, 128, 3), 100, np.uint8)
    out = gt.copy()
    out[..., 1] += 10  # Y differs by 10 * 0.504129411764706 everywhere
    assert psnr(out, gt) == pytest.approx(20 * math.log10(255 / (10 * 0.504129411764706)), abs=PSNR_TOL)


def test_psnr_ssim_tecogan_against_skimage(rng):
    out, gt = synthetic_pair(rng)
    y_o, y_g = spec_luma(spec_crop(out)), spec_luma(spec_crop(gt))
    want_psnr = peak_signal_noise_ratio(y_g, y_o, data_range=255)
    assert want_psnr == pytest.approx(ref_psnr(out, gt), abs=1e-9)  # the two references agree
    assert psnr(out, gt) == pytest.approx(want_psnr, abs=PSNR_TOL)
    assert ssim(out, gt) == pytest.approx(ref_ssim(out, gt), abs=SSIM_TOL)


def test_ssim_data_range_is_the_outputs_luma_range(rng):
    """The quirk: swapping the arguments changes SSIM because only the output's range counts."""
    out, gt = synthetic_pair(rng)
    out = (out * 0.5).astype(np.uint8)  # a much smaller luma range than GT's
    assert ssim(out, gt) == pytest.approx(ref_ssim(out, gt), abs=SSIM_TOL)
    assert ssim(gt, out) == pytest.approx(ref_ssim(gt, out), abs=SSIM_TOL)
    assert abs(ssim(out, gt) - ssim(gt, out)) > 1e-3


def test_batches_and_float_inputs_score_like_uint8(rng):
    out, gt = synthetic_pair(rng, n=3)
    want_p = [ref_psnr(o, g) for o, g in zip(out, gt)]
    want_s = [ref_ssim(o, g) for o, g in zip(out, gt)]
    np.testing.assert_allclose(psnr(out, gt), want_p, rtol=0, atol=PSNR_TOL)
    np.testing.assert_allclose(ssim(out, gt), want_s, rtol=0, atol=SSIM_TOL)
    # float in [0, 1], off the 8-bit grid by less than half a level: quantised first, same numbers
    out_f = out / 255.0 + rng.uniform(-0.45, 0.45, out.shape) / 255.0
    np.testing.assert_allclose(psnr(out_f, gt / 255.0), want_p, rtol=0, atol=PSNR_TOL)
    # torch (N, 3, H, W) floats on another value range
    out_t = torch.from_numpy(out).permute(0, 3, 1, 2).double() * (2.0 / 255.0)
    gt_t = torch.from_numpy(gt).permute(0, 3, 1, 2).double() * (2.0 / 255.0)
    np.testing.assert_allclose(ssim(out_t, gt_t, value_range=2.0), want_s, rtol=0, atol=SSIM_TOL)
    single = psnr(out_t[0], gt_t[0], value_range=2.0)
    assert isinstance(single, float) and single == pytest.approx(want_p[0], abs=PSNR_TOL)


def test_identical_frames_psnr_inf_ssim_one(rng):
    _, gt = synthetic_pair(rng)
    assert psnr(gt, gt) == math.inf
    assert ssim(gt, gt) == pytest.approx(1.0, abs=1e-12)


# ------------------------------------------------------------------ size rules


@pytest.mark.filterwarnings("ignore:.*is scored.*:vsrbench.core.errors.VsrbenchWarning")  # the cut is the point here; its warning is tested in test_trust_io
def test_output_larger_than_gt_is_cut_top_left(rng):
    out, gt = synthetic_pair(rng)
    big = rng.integers(0, 256, (100, 133, 3), dtype=np.uint8)
    big[:96, :128] = out
    assert psnr(big, gt) == pytest.approx(ref_psnr(out, gt), abs=PSNR_TOL)
    assert ssim(big, gt) == pytest.approx(ref_ssim(out, gt), abs=SSIM_TOL)


@pytest.mark.filterwarnings("ignore:.*is scored.*:vsrbench.core.errors.VsrbenchWarning")  # the cut is the point here; its warning is tested in test_trust_io
def test_crop_both_cuts_gt_too(rng):
    out, gt = synthetic_pair(rng, shape=(100, 140))
    out_small = out[:96, :133]
    want = ref_psnr(out_small, gt[:96, :133])
    assert psnr(out_small, gt, size_rule="crop-both") == pytest.approx(want, abs=PSNR_TOL)
    with pytest.raises(InputError) as e:
        psnr(out_small, gt)
    assert str(e.value) == ("frame: output is 133x96 but GT is 140x100 "
                            "(only an output larger than GT is cut, keeping its top-left corner)")
    with pytest.raises(InputError) as e:
        psnr(out, gt[:96], size_rule="error")
    assert str(e.value) == "frame: output is 140x100 but GT is 140x96"


# ------------------------------------------------------------------ real frames (Vid4, DUF-52L)

@pytest.mark.parametrize("scene, crop_hw", [("calendar", (544, 704)), ("city", (544, 672))])
def test_real_frames_against_skimage(scene, crop_hw):
    gt = decode_image(shared_path("data", "vid4", "GT", scene, "Frame 005.png"))
    out = decode_image(shared_path("data", "vid4", "DUF-52L", scene, "Frame005.png"))
    assert spec_crop(gt).shape[:2] == crop_hw
    y_o, y_g = spec_luma(spec_crop(out)), spec_luma(spec_crop(gt))
    got_psnr, got_ssim = psnr(out, gt), ssim(out, gt)
    assert got_psnr == pytest.approx(peak_signal_noise_ratio(y_g, y_o, data_range=255), abs=PSNR_TOL)
    assert got_ssim == pytest.approx(ref_ssim(out, gt), abs=SSIM_TOL)
    assert 20 < got_psnr < 40 and 0.5 < got_ssim < 1  # a real x4 result, not a degenerate case


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("pred, gt, message", [
    (np.full((96, 128, 3), np.nan), np.zeros((96, 128, 3)), "frame (pred): contains NaN or inf values"),
    (np.zeros((96, 128, 3)), np.full((96, 128, 3), np.inf), "frame (gt): contains NaN or inf values"),
    (np.zeros((96, 128, 4), np.uint8), np.zeros((96, 128, 3), np.uint8),
     "frame (pred): expected RGB arrays of shape (H, W, 3), got (96, 128, 4)"),
    (np.zeros((96, 128), np.uint8), np.zeros((96, 128, 3), np.uint8),
     "frame (pred): expected an array of shape (H, W, 3) or (N, H, W, 3), got (96, 128)"),
    (np.zeros((96, 128, 3), bool), np.zeros((96, 128, 3), np.uint8), "frame (pred): unsupported dtype bool"),
    (np.zeros((2, 96, 128, 3), np.uint8), np.zeros((3, 96, 128, 3), np.uint8),
     "frame: 2 predicted frames but 3 GT frames"),
    (torch.zeros(4, 96, 128), torch.zeros(3, 96, 128),
     "frame (pred): expected 3 channels (RGB), shape (3, H, W) or (N, 3, H, W), got (4, 96, 128)"),
    (torch.zeros(96, 128), torch.zeros(3, 96, 128),
     "frame (pred): expected a tensor of shape (3, H, W) or (N, 3, H, W), got (96, 128)"),
    (np.zeros((40, 128, 3), np.uint8), np.zeros((40, 128, 3), np.uint8),
     "frame side 40 px is too small for TecoGAN's crop (needs at least 48 px)"),
])
@pytest.mark.parametrize("metric", [psnr, ssim])
def test_bad_input_messages(metric, pred, gt, message):
    with pytest.raises(InputError) as e:
        metric(pred, gt)
    assert str(e.value) == message


def test_docstring_examples():
    result = doctest.testmod(spatial_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 2 and result.failed == 0
