"""tOF against OpenCV's Farneback called directly with the spec's parameters, and temporal profiles.

tOF reference (metrics-spec.md section 1): grey = ``cvtColor(RGB2GRAY)`` of the uint8 frames,
flow ``prev -> cur`` with pyr_scale 0.5, levels 3, winsize 15, iterations 3, poly_n 5,
poly_sigma 1.2, flags 0 on the full frames, both flow fields cropped by the centre-32 rule,
per-pixel Euclidean norm of the difference, mean. Tolerance 1e-6 px.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from _support.builders import moving_sequence, stripe_sequence
from _support.paths import shared_path
from _support.spec import spec_crop, spec_flow, spec_tof  # noqa: F401  (spec_crop: the crop rule of tOF)

from vsrbench.core.errors import InputError
from vsrbench.core.io import open_sequence
from vsrbench.metrics import default_profile_col, default_profile_row, temporal_profile, tof

TOF_TOL = 1e-6


@pytest.fixture
def pair(rng):
    gt = moving_sequence(rng)
    out = [np.clip(np.round(cv2.GaussianBlur(f.astype(np.float64), (0, 0), 1.0) + rng.normal(0, 4, f.shape)),
                   0, 255).astype(np.uint8) for f in gt]
    return out, gt


# ------------------------------------------------------------------ tOF

def test_tof_against_farneback(pair):
    out, gt = pair
    want = [spec_tof(out, gt, t) for t in range(3, len(gt) - 2)]  # pairs (t-1, t), t = cut+1 .. n-cut-1
    got = tof(out, gt)
    assert got.shape == (2,)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOF_TOL)
    assert min(want) > 0.02  # the flows differ measurably: not a trivial zero


def test_tof_of_identical_sequences_is_zero(pair):
    _, gt = pair
    np.testing.assert_array_equal(tof(gt, gt), [0.0, 0.0])


def test_tof_float_inputs_and_cut_override(pair):
    out, gt = pair
    want = [spec_tof(out, gt, t) for t in range(1, len(gt))]
    got = tof([o / 255.0 for o in out], [g / 255.0 for g in gt], cut_frames=0)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOF_TOL)


@pytest.mark.filterwarnings("ignore:.*is scored.*:vsrbench.core.errors.VsrbenchWarning")  # the cut is the point here; its warning is tested in test_trust_io
def test_tof_flows_on_full_frames_after_cutting_a_larger_output(pair, rng):
    out, gt = pair
    bigger = [np.pad(o, ((0, 5), (0, 7), (0, 0)), mode="wrap") for o in out]
    np.testing.assert_allclose(tof(bigger, gt), [spec_tof(out, gt, t) for t in (3, 4)], rtol=0, atol=TOF_TOL)


def test_tof_real_frames():
    gt_seq = open_sequence(shared_path("data", "vid4", "GT", "foliage"))
    out_seq = open_sequence(shared_path("data", "vid4", "DUF-52L", "foliage"))
    gt, out = [gt_seq[i] for i in range(3, 6)], [out_seq[i] for i in range(3, 6)]
    assert gt[0].shape == (480, 720, 3)
    got = tof(out, gt, cut_frames=0)
    np.testing.assert_allclose(got, [spec_tof(out, gt, 1), spec_tof(out, gt, 2)], rtol=0, atol=TOF_TOL)


def test_tof_needs_a_pair_after_the_cut(pair):
    out, gt = pair
    with pytest.raises(InputError) as e:
        tof(out[:5], gt[:5])
    assert str(e.value) == "tOF needs at least 6 frames (a pair after the protocol's cut), got 5"
    with pytest.raises(InputError) as e:
        tof(out[:6], gt)
    assert str(e.value) == "tOF: 6 output frames but 7 GT frames"


def test_tof_rejects_nan(pair):
    out, gt = pair
    bad = [o / 255.0 for o in out]
    bad[4] = bad[4].copy()
    bad[4][0, 0, 0] = np.nan
    with pytest.raises(InputError) as e:
        tof(bad, gt)
    assert str(e.value) == "pred frame 4: contains NaN or inf values"


# ------------------------------------------------------------------ temporal profiles

def test_temporal_profile_is_slicing(rng):
    frames = [rng.integers(0, 256, (20, 30, 3), dtype=np.uint8) for _ in range(6)]
    stack = np.stack(frames)
    np.testing.assert_array_equal(temporal_profile(frames, row=7), stack[:, 7, :, :])
    np.testing.assert_array_equal(temporal_profile(frames, col=11), stack[:, :, 11, :])
    np.testing.assert_array_equal(temporal_profile(frames), stack[:, 10, :, :])  # middle row by default
    as_float = [f / 255.0 for f in frames]
    np.testing.assert_array_equal(temporal_profile(as_float, row=3), stack[:, 3])


def test_default_profile_row_and_col_find_the_moving_stripe():
    frames = stripe_sequence()
    assert 23 <= default_profile_row(frames) < 27
    vertical = [np.ascontiguousarray(f.transpose(1, 0, 2)) for f in frames]
    assert 23 <= default_profile_col(vertical) < 27


@pytest.mark.parametrize("kwargs, message", [
    (dict(row=40), "row 40 is outside the frame height 40"),
    (dict(row=-1), "row -1 is outside the frame height 40"),
    (dict(col=60), "column 60 is outside the frame width 60"),
    (dict(row=1, col=1), "give either row or col, not both"),
])
def test_temporal_profile_errors(kwargs, message):
    with pytest.raises(InputError) as e:
        temporal_profile(stripe_sequence(2), **kwargs)
    assert str(e.value) == message


def test_temporal_profile_bad_frames():
    with pytest.raises(InputError) as e:
        temporal_profile([])
    assert str(e.value) == "a temporal profile needs at least one frame"
    with pytest.raises(InputError) as e:
        temporal_profile([np.zeros((4, 4), np.uint8)])
    assert str(e.value) == "frame 0: expected an RGB array of shape (H, W, 3), got shape (4, 4)"
    with pytest.raises(InputError, match=r"^frame 1 is 9x8 but frame 0 is 8x8: frames of a sequence must have one size$"):
        temporal_profile([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8)], row=2)  # was numpy's ValueError
    with pytest.raises(InputError) as e:
        default_profile_row(stripe_sequence(1))
    assert str(e.value) == "temporal energy needs at least 2 frames"


def test_temporal_profile_reads_integer_frames_on_the_8bit_scale_and_accepts_tensors():
    """An int16 frame of 100 stays 100 (it used to be scaled x255 to 255); torch (3, H, W)
    frames give the same profile as the NumPy (H, W, 3) ones."""
    import torch

    frames = [np.full((6, 5, 3), 100 + 10 * t, np.int16) for t in range(3)]
    prof = temporal_profile(frames, row=2)
    assert prof.dtype == np.uint8 and prof.shape == (3, 5, 3)
    assert prof[:, 0, 0].tolist() == [100, 110, 120]
    u8 = stripe_sequence(3)
    tensors = [torch.from_numpy(f).permute(2, 0, 1) for f in u8]
    np.testing.assert_array_equal(temporal_profile(tensors, row=1), temporal_profile(u8, row=1))
    with pytest.raises(InputError, match=r"float values reach 255, but float frames are read as \[0, 1\]"):
        temporal_profile([np.full((4, 4, 3), 255.0)])


def test_tlp_on_frames_of_mixed_sizes_is_an_input_error():
    from vsrbench.core.errors import InputError
    from vsrbench.metrics import tlp

    frames = [np.zeros((64, 64, 3), np.uint8)] * 3 + [np.zeros((64, 80, 3), np.uint8)] + [np.zeros((64, 64, 3), np.uint8)] * 3
    with pytest.raises(InputError, match=r"^pred frame 3 is 80x64 but pred frame 2 is 64x64: frames of a sequence must have one size$"):
        tlp(frames, frames)  # raised before any LPIPS weights are looked up


def test_default_profile_row_stays_off_the_edges():
    from vsrbench.metrics.profile import profile_margin

    rng = np.random.default_rng(1)
    frames = [np.zeros((64, 48, 3), np.uint8) for _ in range(4)]
    for t, f in enumerate(frames):
        f[0] = rng.integers(0, 256, (48, 3))  # the top row changes most (new content entering at the edge)
        f[30, ::2] = 80 * (t % 2)  # an inner row changes too, less
    assert default_profile_row(frames) == 30 and profile_margin(64) == 8 and profile_margin(480) == 30
    assert profile_margin(5) == 2 and default_profile_row([f[:5] for f in frames]) == 2  # tiny frames keep a row

