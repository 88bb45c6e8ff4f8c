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
from conftest import shared_path
from test_metrics_spatial import spec_crop

from vsrbench.core.errors import InputError
from vsrbench.core.io import open_sequence
from vsrbench.metrics import default_profile_col, default_profile_row, temporal_profile, tof

TOF_TOL = 1e-6


def spec_flow(prev_rgb: np.ndarray, cur_rgb: np.ndarray) -> np.ndarray:
    prev = cv2.cvtColor(prev_rgb, cv2.COLOR_RGB2GRAY)
    cur = cv2.cvtColor(cur_rgb, cv2.COLOR_RGB2GRAY)
    return cv2.calcOpticalFlowFarneback(prev, cur, None, 0.5, 3, 15, 3, 5, 1.2, 0)


def spec_tof(out: list, gt: list, t: int) -> float:
    d = spec_crop(spec_flow(gt[t - 1], gt[t])).astype(np.float64) - spec_crop(spec_flow(out[t - 1], out[t]))
    return float(np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2).mean())


def moving_sequence(rng, n: int = 7, shape=(96, 128), step=(0.6, 1.3), noise: float = 0.0) -> list[np.ndarray]:
    """A blurred random texture translating by ``step`` px per frame (optionally with noise)."""
    h, w = shape
    base = cv2.GaussianBlur(rng.uniform(0, 255, (h + 40, w + 40, 3)).astype(np.float32), (0, 0), 2.0)
    base = cv2.normalize(base, None, 0, 255, cv2.NORM_MINMAX)
    frames = []
    for t in range(n):
        m = np.float32([[1, 0, -step[1] * t], [0, 1, -step[0] * t]])
        f = cv2.warpAffine(base, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        f = f + rng.normal(0, noise, f.shape) if noise else f
        frames.append(np.clip(np.round(f), 0, 255).astype(np.uint8))
    return frames


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


def stripe_sequence(n: int = 8, shape=(40, 60), row=(23, 27)) -> list[np.ndarray]:
    """A static background with a bright vertical stripe moving right, only in rows row[0]..row[1]-1."""
    frames = []
    for t in range(n):
        f = np.full(shape + (3,), 60, np.uint8)
        f[:, ::7] = 90  # static texture everywhere
        f[row[0]:row[1], 5 + 4 * t:8 + 4 * t] = 250
        frames.append(f)
    return frames


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
