"""Protocols as data, and the ``basicsr-y`` / ``basicsr-rgb`` PSNR and SSIM.

References written here from metrics-spec.md section 2 and BasicSR's published formulas:
``to_y_channel`` (float32 on [0, 1] values, BGR dot product, /255, cast to float32, x255),
PSNR ``10 log10(255^2 / MSE)`` in float64, SSIM with ``cv2.getGaussianKernel(11, 1.5)``'s outer
product through ``cv2.filter2D``, map trimmed by 5 px, per channel then averaged; and
scikit-image's Gaussian SSIM (``gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=255``).
"""
from __future__ import annotations

import math
import re

import cv2
import numpy as np
import pandas as pd
import pytest
from skimage.metrics import structural_similarity

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.metrics import PROTOCOLS, Protocol, aggregate, get_protocol, psnr, ssim
from vsrbench.metrics.protocol import parse_overrides
from _support.peer_reference import basicsr_ssim_plane  # BasicSR's calculate_ssim on one plane

PSNR_TOL, SSIM_TOL = 1e-6, 1e-7


# ------------------------------------------------------------------ BasicSR, re-written

def basicsr_y(rgb_u8: np.ndarray) -> np.ndarray:
    """BasicSR ``to_y_channel`` on an image read by OpenCV (BGR), float32 result on 0..255."""
    bgr = rgb_u8[..., ::-1].astype(np.float32) / 255.0
    y = np.dot(bgr, [24.966, 128.553, 65.481]) + 16.0
    return (y / 255.0).astype(np.float32) * 255.0


def basicsr_planes(rgb_u8: np.ndarray, crop_border: int, color: str) -> np.ndarray:
    if crop_border:
        rgb_u8 = rgb_u8[crop_border:-crop_border, crop_border:-crop_border]
    img = basicsr_y(rgb_u8)[..., None] if color == "y" else rgb_u8[..., ::-1]
    return img.astype(np.float64)


def basicsr_psnr(out_u8, gt_u8, crop_border=0, color="y") -> float:
    a, b = basicsr_planes(out_u8, crop_border, color), basicsr_planes(gt_u8, crop_border, color)
    mse = np.mean((a - b) ** 2)
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def basicsr_ssim(out_u8, gt_u8, crop_border=0, color="y") -> float:
    a, b = basicsr_planes(out_u8, crop_border, color), basicsr_planes(gt_u8, crop_border, color)
    return float(np.mean([basicsr_ssim_plane(a[..., c], b[..., c]) for c in range(a.shape[2])]))


def skimage_gaussian_ssim(out_u8, gt_u8, crop_border=0, color="y") -> float:
    a, b = basicsr_planes(out_u8, crop_border, color), basicsr_planes(gt_u8, crop_border, color)
    return float(structural_similarity(b, a, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=255, channel_axis=2))


@pytest.fixture
def frames(rng):
    gt = cv2.GaussianBlur(rng.uniform(0, 255, (70, 90, 3)), (0, 0), 1.5)
    gt = np.clip(np.round(gt * 2 - 128), 0, 255).astype(np.uint8)
    out = np.clip(np.round(gt + rng.normal(0, 5, gt.shape)), 0, 255).astype(np.uint8)
    return out, gt


# ------------------------------------------------------------------ basicsr-y / basicsr-rgb

@pytest.mark.parametrize("name, color", [("basicsr-y", "y"), ("basicsr-rgb", "rgb")])
@pytest.mark.parametrize("border", [0, 4, 8])
def test_basicsr_against_reference(frames, name, color, border):
    out, gt = frames
    proto = get_protocol(name, crop_border=border) if border else name
    want_ssim = basicsr_ssim(out, gt, border, color)
    assert want_ssim == pytest.approx(skimage_gaussian_ssim(out, gt, border, color), abs=1e-9)
    assert psnr(out, gt, protocol=proto) == pytest.approx(basicsr_psnr(out, gt, border, color), abs=PSNR_TOL)
    assert ssim(out, gt, protocol=proto) == pytest.approx(want_ssim, abs=SSIM_TOL)


def test_basicsr_crop_border_override_changes_the_number(frames):
    out, gt = frames
    out = out.copy()
    out[:8] = 0  # damage only the top 8 rows: crop_border=8 hides it
    p8 = get_protocol("basicsr-y", crop_border=8)
    assert p8.name == "basicsr-y[crop_border=8]" and p8.crop_border == 8
    assert psnr(out, gt, protocol=p8) == pytest.approx(basicsr_psnr(out, gt, 8), abs=PSNR_TOL)
    assert psnr(out, gt, protocol="basicsr-y") < psnr(out, gt, protocol=p8) - 5
    assert psnr(out, gt, protocol="basicsr-y", crop_border=8) == psnr(out, gt, protocol=p8)  # keyword override


def test_basicsr_y_is_1_3219_db_above_pyiqa_yiq_for_a_flat_offset():
    """Sanity of the luma: BT.601 studio Y scales differences by 219/255 of YIQ's full-range Y."""
    gt = np.full((32, 32, 3), 100, np.uint8)
    out = gt + np.uint8(10)
    yiq_mse = 10.0 ** 2  # (0.299 + 0.587 + 0.114) * 10 on a 0..255 scale
    assert psnr(out, gt, protocol="basicsr-y") - 10 * math.log10(255 ** 2 / yiq_mse) == pytest.approx(
        20 * math.log10(255 / 219), abs=1e-3)
    assert 20 * math.log10(255 / 219) == pytest.approx(1.3219, abs=1e-4)


def test_identical_frames_give_inf_and_stay_out_of_means(frames):
    out, gt = frames
    same = psnr(gt, gt, protocol="basicsr-y")
    assert same == math.inf == basicsr_psnr(gt, gt)
    assert ssim(gt, gt, protocol="basicsr-rgb") == pytest.approx(1.0, abs=1e-12)
    p1 = psnr(out, gt, protocol="basicsr-y")
    df = pd.DataFrame([("a", 0, "psnr", same), ("a", 1, "psnr", p1), ("b", 0, "psnr", 30.0), ("b", 1, "psnr", 34.0)],
                      columns=["sequence", "frame", "metric", "value"])
    summ = aggregate(df)["psnr"]
    assert summ["frame_avg"] == pytest.approx((p1 + 30.0 + 34.0) / 3, abs=1e-12)
    assert summ["seq_avg"] == pytest.approx((p1 + 32.0) / 2, abs=1e-12)
    assert (summ["n_frames"], summ["n_sequences"], summ["n_nonfinite"]) == (4, 2, 1)


def test_basicsr_size_mismatch_is_an_error(frames):
    out, gt = frames
    with pytest.raises(InputError) as e:
        psnr(out[:, :80], gt, protocol="basicsr-y")
    assert str(e.value) == "frame: output is 80x70 but GT is 90x70"


def test_crop_border_too_large(frames):
    out, gt = frames
    with pytest.raises(InputError) as e:
        psnr(out, gt, protocol="basicsr-y", crop_border=35)
    assert str(e.value) == "crop_border=35 leaves nothing of a 70x90 frame"
    with pytest.raises(InputError) as e:
        ssim(out, gt, protocol="basicsr-y", crop_border=30)
    assert str(e.value) == "SSIM needs frames of at least 11x11 px after cropping, got (10, 30)"


# ------------------------------------------------------------------ protocols as data

def test_tecogan_preset_is_the_spec():
    p = PROTOCOLS["tecogan"]
    assert (p.color, p.y_precision, p.crop, p.cut_frames, p.ssim, p.ssim_data_range, p.size_rule) == (
        "y", "float64", "center32", 2, "uniform7", "pred", "crop-pred")
    assert (p.lpips_net, p.lpips_version, p.flow, p.tlp_scale) == ("alex", "0.1", "farneback", 100.0)
    assert tuple(p.flow_params) == (0.5, 3, 15, 3, 5, 1.2, 0)
    assert p.default_metrics == ("psnr", "ssim", "lpips", "tof", "tlp")


@pytest.mark.parametrize("name", ["basicsr-y", "basicsr-rgb"])
def test_basicsr_presets_are_the_spec(name):
    p = PROTOCOLS[name]
    assert (p.color, p.y_precision, p.crop, p.crop_border, p.cut_frames, p.ssim, p.ssim_data_range) == (
        name.split("-")[1], "float32", "border", 0, 0, "gaussian11", "255")
    assert p.average == "seq_avg"


def test_hash_depends_on_fields_not_on_the_name():
    base = PROTOCOLS["basicsr-y"]
    assert re.fullmatch(r"[0-9a-f]{12}", base.hash)
    assert Protocol(**{**base.to_dict(), "name": "other", "flow_params": base.flow_params,
                       "default_metrics": base.default_metrics}).hash == base.hash
    hashes = {base.hash, get_protocol(base, crop_border=8).hash, get_protocol(base, cut_frames=2).hash,
              get_protocol(base, ssim="uniform7").hash, PROTOCOLS["basicsr-rgb"].hash, PROTOCOLS["tecogan"].hash}
    assert len(hashes) == 6


def test_overrides_are_recorded_in_the_name():
    p8 = get_protocol("basicsr-y", crop_border=8)
    assert get_protocol("basicsr-y", crop_border=0) is PROTOCOLS["basicsr-y"]  # no change, the preset itself
    both = get_protocol(p8, cut_frames=1)
    assert both.name == "basicsr-y[crop_border=8,cut_frames=1]" and both.crop_border == 8
    back = get_protocol(both, crop_border=0, cut_frames=0)
    assert back.name == "basicsr-y" and back == PROTOCOLS["basicsr-y"]


def test_cli_style_overrides_are_coerced():
    p = get_protocol("tecogan", **parse_overrides(["cut_frames = 0", "tlp_scale=1", "flow_params=[0.5,2,9,3,5,1.1,0]"]))
    assert (p.cut_frames, p.tlp_scale, p.flow_params) == (0, 1.0, (0.5, 2, 9, 3, 5, 1.1, 0))
    assert p.name == "tecogan[cut_frames=0,flow_params=(0.5, 2, 9, 3, 5, 1.1, 0),tlp_scale=1.0]"


@pytest.mark.parametrize("call, error, message", [
    (lambda: get_protocol("tecogn"), UnknownNameError, r"^unknown protocol 'tecogn'; did you mean 'tecogan'\? \(known: "),
    (lambda: get_protocol("tecogan", crop_bordr=8), UnknownNameError,
     r"^unknown protocol field 'crop_bordr'; did you mean 'crop_border'\? \(known: average, color, crop, "),
    (lambda: get_protocol("tecogan", color="xyz"), InputError,
     r"^protocol field color='xyz' is not one of 'y', 'rgb'$"),
    (lambda: get_protocol("tecogan", crop_border=-1), InputError,
     r"^protocol field crop_border=-1: expected a number of pixels/frames >= 0$"),
    (lambda: get_protocol("tecogan", cut_frames=-2), InputError,
     r"^protocol field cut_frames=-2: expected a number of pixels/frames >= 0$"),
    (lambda: parse_overrides(["crop_border"]), InputError,
     r"^protocol override 'crop_border' is not of the form FIELD=VALUE$"),
    (lambda: get_protocol("tecogan", **parse_overrides(["cut_frames=two"])), InputError,
     r"^protocol field cut_frames: cannot read 'two' as int$"),
])
def test_protocol_errors(call, error, message):
    with pytest.raises(error) as e:
        call()
    assert re.search(message, str(e.value)), str(e.value)


def test_tuple_overrides_take_the_presets_types_and_length():
    base = get_protocol("tecogan")
    same = get_protocol("tecogan", flow_params="0.5,3,15,3,5,1.2,0")  # as typed on the command line
    assert same is base and same.hash == base.hash
    with pytest.raises(InputError, match=r"^protocol field flow_params: expected 7 values .*, got 2$"):
        get_protocol("tecogan", flow_params="0.5,3")


def test_fields_that_change_no_number_do_not_change_the_hash():
    base = get_protocol("tecogan")
    assert get_protocol("tecogan", average="frame_avg").hash == base.hash
    assert get_protocol("tecogan", default_metrics=("psnr",)).hash == base.hash
    assert get_protocol("tecogan", crop_border=8, crop="border").hash != base.hash
