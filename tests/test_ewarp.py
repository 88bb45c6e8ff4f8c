"""E_warp, the flow warping error of Lai et al. (ECCV 2018), against an implementation written here
from the paper's formula and the conventions of their ``evaluate_WarpError.py`` /
``utils.detect_occlusion``:

- flows of the reference (GT) video, forward F (t-1 -> t) and backward B (t -> t-1), here
  OpenCV Farneback with TecoGAN's parameters called directly;
- output frame t is warped back onto frame t-1: W(x) = O_t(x + F(x)), bilinear, positions
  outside the frame take the border value (``scipy.ndimage.map_coordinates``, order 1,
  mode "nearest", instead of the library's own gather);
- occluded where |F(x) + B(x + F(x))|^2 > 0.01 (|F(x)|^2 + |B(x + F(x))|^2) + 0.5, or where
  the squared forward differences of F exceed 0.01 |F|^2 + 0.002 (motion boundaries);
- E_warp = sum over non-occluded pixels and RGB channels of (W - O_t-1)^2, frames in [0, 1],
  divided by 3 x the number of non-occluded pixels (the pixel count when none is left).

Both sides compute in float64 from the same float32 flows, so they agree to ~1e-15; the
tolerance is 1e-12 relative. (A pixel whose mask test lands within rounding of a threshold could
flip; on these sequences none does, and such a flip would show as a failure, not pass silently.)
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from _support.paths import shared_path
from scipy.ndimage import map_coordinates
from _support.builders import moving_sequence
from _support.spec import spec_crop, spec_flow

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.evaluate import evaluate_many, evaluate_sequence
from vsrbench.metrics import METRICS, PROTOCOLS, check_metrics, ewarp, get_protocol, tof
from vsrbench.metrics._kernels import occlusion_mask, sampling, warp, warp_error

RTOL = 1e-12


# ------------------------------------------------------------------ the formula, written independently

def ref_warp(img: np.ndarray, flo: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    coords = [ys + flo[..., 1].astype(np.float64), xs + flo[..., 0].astype(np.float64)]
    planes = img[..., None] if img.ndim == 2 else img
    out = np.stack([map_coordinates(planes[..., c].astype(np.float64), coords, order=1, mode="nearest")
                    for c in range(planes.shape[-1])], axis=-1)
    return out[..., 0] if img.ndim == 2 else out


def ref_occluded(fw: np.ndarray, bw: np.ndarray) -> np.ndarray:
    fw = fw.astype(np.float64)
    bw_at = ref_warp(bw.astype(np.float64), fw)
    fb = fw + bw_at
    sq = lambda v: v[..., 0] ** 2 + v[..., 1] ** 2  # noqa: E731
    inconsistent = sq(fb) > 0.01 * (sq(fw) + sq(bw_at)) + 0.5
    grad = np.zeros(fw.shape[:2])
    for c in range(2):
        dx = np.concatenate([-np.diff(fw[..., c], axis=1), np.zeros((fw.shape[0], 1))], axis=1)
        dy = np.concatenate([-np.diff(fw[..., c], axis=0), np.zeros((1, fw.shape[1]))], axis=0)
        grad += dx ** 2 + dy ** 2
    boundary = grad > 0.01 * sq(fw) + 0.002
    return inconsistent | boundary


def ref_pair(out: list, gt: list, t: int, crop=spec_crop) -> float:
    fw, bw = spec_flow(gt[t - 1], gt[t]), spec_flow(gt[t], gt[t - 1])
    noc = np.repeat((~ref_occluded(fw, bw))[..., None], 3, axis=2).astype(np.float64)
    img1, img2 = out[t - 1].astype(np.float64) / 255, out[t].astype(np.float64) / 255
    diff = crop((ref_warp(img2, fw) - img1) * noc)
    noc = crop(noc)
    n = noc.sum() or diff.size
    return float(np.sum(diff ** 2) / n)


def blurred_noisy(frames, rng, sigma=1.0, noise=4.0):
    return [np.clip(np.round(cv2.GaussianBlur(f.astype(np.float64), (0, 0), sigma) + rng.normal(0, noise, f.shape)),
                    0, 255).astype(np.uint8) for f in frames]


@pytest.fixture
def pair(rng):
    gt = moving_sequence(rng, n=8, step=(0.7, 1.6))
    return blurred_noisy(gt, rng), gt


# ------------------------------------------------------------------ building blocks

def test_warp_is_bilinear_with_border_values(rng):
    img = rng.random((20, 30, 3))
    flo = rng.uniform(-6, 6, (20, 30, 2)).astype(np.float32)  # many positions fall outside the frame
    np.testing.assert_allclose(warp(img, flo), ref_warp(img, flo), rtol=0, atol=1e-13)
    np.testing.assert_allclose(warp(img[..., 0], flo), ref_warp(img[..., 0], flo), rtol=0, atol=1e-13)
    shift = np.zeros((20, 30, 2), np.float32)
    shift[..., 0] = 2  # out(x) = img(x + 2): the content moves left by 2
    np.testing.assert_array_equal(warp(img, shift)[:, :-2], img[:, 2:])
    at = sampling(flo)  # computed once, reused for several images: the same numbers
    np.testing.assert_array_equal(warp(img, at), warp(img, flo))
    np.testing.assert_array_equal(warp(img[..., :2], at), warp(img[..., :2], flo))
    with pytest.raises(InputError, match=r"^warp: the image is 29x20 but the flow is 30x20; they must match$"):
        warp(img[:, :29], at)


def test_occlusion_mask_rules():
    h, w = 16, 24
    fw = np.zeros((h, w, 2), np.float32)
    fw[..., 0] = 2.0
    assert not occlusion_mask(fw, -fw).any()  # consistent translation: nothing occluded
    assert occlusion_mask(fw, np.zeros_like(fw)).all()  # |2|^2 > 0.01 * 4 + 0.5 everywhere
    # either side of the threshold: mismatch 0.72 px: 0.5184 <= 0.01 * (4 + 1.28^2) + 0.5 = 0.5564;
    # 0.75 px: 0.5625 > 0.01 * (4 + 1.25^2) + 0.5 = 0.5556
    near = np.zeros_like(fw)
    near[..., 0] = -2.0 + 0.72
    assert not occlusion_mask(fw, near).any()
    near[..., 0] = -2.0 + 0.75
    assert occlusion_mask(fw, near).all()
    step = fw.copy()
    step[:, 12:, 0] = 4.0  # a motion boundary between columns 11 and 12
    back = -step
    occ = occlusion_mask(step, back)
    assert occ[:, 11].all() and not occ[:, :10].any()
    np.testing.assert_array_equal(occ, ref_occluded(step, back))


def test_everything_occluded_scores_zero_as_in_the_original(rng):
    prev, cur = (rng.uniform(0, 255, (64, 64, 3)).astype(np.uint8) for _ in range(2))
    fw = np.zeros((64, 64, 2), np.float32)
    fw[..., 0] = 2.0
    proto = get_protocol("tecogan")
    assert warp_error(prev, cur, fw, np.zeros_like(fw), proto) == 0.0  # every pixel fails the check
    assert warp_error(prev, cur, fw, -fw, proto) > 0.05  # none does: unrelated frames differ a lot


def test_occlusion_mask_matches_reference_on_real_flows(pair):
    _, gt = pair
    fw, bw = spec_flow(gt[2], gt[3]), spec_flow(gt[3], gt[2])
    occ = occlusion_mask(fw, bw)
    np.testing.assert_array_equal(occ, ref_occluded(fw, bw))
    assert 0 < occ.mean() < 0.5  # the borders of a translating texture, not everything


# ------------------------------------------------------------------ E_warp against the formula

def test_ewarp_matches_the_formula(pair):
    out, gt = pair
    got = ewarp(out, gt)
    want = [ref_pair(out, gt, t) for t in range(3, len(gt) - 2)]  # pairs (t-1, t), t = cut+1 .. n-cut-1
    assert len(got) == len(want) == 3
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)
    assert (got > 1e-5).all()


def test_ewarp_border_crop_and_no_cut(pair):
    out, gt = pair
    got = ewarp(out, gt, protocol="basicsr-rgb", crop_border=5)
    want = [ref_pair(out, gt, t, crop=lambda a: a[5:-5, 5:-5]) for t in range(1, len(gt))]
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)


def test_static_video_scores_zero_and_translation_follows_the_flow(rng):
    still = [moving_sequence(rng, n=1)[0]] * 6
    assert np.abs(ewarp(still, still)).max() < 1e-12
    gt = moving_sequence(rng, n=6, step=(1.0, 2.0))
    own = ewarp(gt, gt)
    assert own.max() < 2e-4  # warping with the right flow direction nearly cancels the motion
    # the other direction (frame t-1 sampled at x + F(x)) does not: the test can fail
    fw = spec_flow(gt[2], gt[3])
    wrong = np.mean((ref_warp(gt[2] / 255.0, fw) - gt[3] / 255.0) ** 2)
    assert wrong > 20 * own.max()


def test_flicker_scores_worse_than_a_stable_output(rng):
    gt = moving_sequence(rng, n=8)
    stable = blurred_noisy(gt, rng, noise=1.0)
    flicker = [np.clip(f.astype(np.int16) + (12 if t % 2 else -12), 0, 255).astype(np.uint8)
               for t, f in enumerate(stable)]
    e_stable, e_flicker = ewarp(stable, gt), ewarp(flicker, gt)
    assert (e_flicker > 5 * e_stable).all()
    assert (e_flicker > (20 / 255) ** 2).all()  # a 24-level jump, most pixels unoccluded


# ------------------------------------------------------------------ the one-pass pipeline

def test_pipeline_equals_the_function_and_keeps_tof(pair):
    out, gt = pair
    sc = evaluate_sequence(out, gt, metrics=["psnr", "tof", "ewarp"], device="cpu")
    frames = [t for t, m, _ in sc.rows if m == "ewarp"]
    assert frames == list(range(3, 6))  # stored at the pair's t, like tOF
    np.testing.assert_allclose(sc.values("ewarp"), ewarp(out, gt), rtol=RTOL, atol=0)
    alone = evaluate_sequence(out, gt, metrics=["psnr", "tof"], device="cpu")
    np.testing.assert_array_equal(sc.values("tof"), alone.values("tof"))
    np.testing.assert_array_equal(sc.values("psnr"), alone.values("psnr"))
    only = evaluate_sequence(out, gt, metrics=["ewarp"], device="cpu")
    np.testing.assert_array_equal(only.values("ewarp"), sc.values("ewarp"))


def test_pipeline_several_outputs(pair, rng):
    out, gt = pair
    other = blurred_noisy(gt, rng, sigma=2.0)
    many = evaluate_many({"a": out, "b": other}, gt, metrics=["ewarp", "tof"], device="cpu")
    for key, frames in (("a", out), ("b", other)):
        np.testing.assert_allclose(many[key].values("ewarp"), ewarp(frames, gt), rtol=RTOL, atol=0)
        np.testing.assert_allclose(many[key].values("tof"), tof(frames, gt), rtol=0, atol=1e-6)


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
def test_pipeline_on_cuda_equals_cpu(pair):
    out, gt = pair
    cuda = evaluate_sequence(out, gt, metrics=["psnr", "ewarp"], device="cuda")
    np.testing.assert_allclose(cuda.values("ewarp"), ewarp(out, gt), rtol=RTOL, atol=0)


# ------------------------------------------------------------------ registry, errors, CLI

def test_registered_opt_in_temporal_lower_is_better():
    info = METRICS["ewarp"]
    assert (info.label, info.higher_is_better, info.temporal, info.version) == ("E_warp", False, True, "1")
    assert "not comparable with FlowNet2" in info.description
    assert all("ewarp" not in PROTOCOLS[p].default_metrics for p in PROTOCOLS)
    assert check_metrics(["PSNR", "ewarp"]) == ("psnr", "ewarp")
    with pytest.raises(UnknownNameError, match="did you mean 'ewarp'"):
        check_metrics(["ewrap"])
    from vsrbench.analysis.table_model import metric_label
    assert metric_label("ewarp") == "E_warp ↓"


def test_errors_are_one_line(pair):
    out, gt = pair
    with pytest.raises(InputError, match=r"^E_warp needs at least 6 frames \(a pair after the protocol's cut\), got 5$"):
        ewarp(out[:5], gt[:5])
    with pytest.raises(InputError, match=r"^E_warp: 7 output frames but 8 GT frames$"):
        ewarp(out[:7], gt)
    with pytest.raises(InputError, match="temporal metric"):
        ewarp(out, gt, frames_scored="center")


def test_cli_evaluate_with_ewarp(tmp_path, capsys, pair):
    import pandas as pd
    from _support.builders import write_dataset

    from vsrbench.cli import main

    out, gt = pair
    write_dataset(tmp_path / "GT", {"walk": gt})
    write_dataset(tmp_path / "PRED", {"walk": out})
    code = main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"),
                 "--out", str(tmp_path / "res"), "--metrics", "psnr,ewarp"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    df = pd.read_csv(tmp_path / "res" / "frames.csv")
    sub = df[df["metric"] == "ewarp"].sort_values("frame")
    assert list(sub["frame"]) == [3, 4, 5]
    np.testing.assert_allclose(sub["value"], ewarp(out, gt), rtol=1e-9, atol=0)  # via CSV text
    assert "E_warp↓" in cap.out


# ------------------------------------------------------------------ real frames

def test_real_vid4_pair_matches_the_formula():
    """One pair of real Vid4 frames (calendar, DUF-16L) where the mask removes a real share of pixels."""
    from vsrbench.core.io import open_sequence

    gt_seq = open_sequence(shared_path("data", "vid4", "GT", "calendar"))
    out_seq = open_sequence(shared_path("data", "vid4", "DUF-16L", "calendar"))
    gt = [gt_seq[i] for i in range(2, 6)]
    out = [out_seq[i] for i in range(2, 6)]
    got = ewarp(out, gt, protocol="tecogan", cut_frames=0)
    want = [ref_pair(out, gt, t) for t in range(1, 4)]
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)
