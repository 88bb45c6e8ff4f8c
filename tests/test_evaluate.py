"""``evaluate_sequence`` (one pass, feature reuse, threads) against ``reference_evaluate`` (the
straightforward loop) and against a transcription, written here, of the loop of the published
TecoGAN evaluation (thunil/TecoGAN ``metrics.py``) extended by SSIM as metrics-spec.md says:
frames ``cut .. n-cut-1`` scored, temporal pairs from ``t = cut+1``, OpenCV Farneback, skimage
SSIM and the ``lpips`` package for LPIPS / tLP.

Plus folder handling (pairing by the number in file names, ``IB*`` ignored, names without
digits first), size rules and the errors a user can hit.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _support.calendar_runs import one_pass, straightforward, untimed
from _support.lpips_reference import reference_model, to_reference_input
from _support.paths import shared_path
from skimage.metrics import structural_similarity
from _support.builders import synthetic_pair
from _support.spec import ref_psnr, ref_ssim, spec_crop

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.evaluate import SequenceScores, evaluate_sequence
from vsrbench.core.io import open_sequence, write_frame
from vsrbench.metrics import get_protocol, psnr, ssim
from vsrbench.metrics.lpips import get_lpips
from vsrbench.reference import reference_evaluate

TOL = {"psnr": 1e-6, "ssim": 1e-7, "lpips": 1e-6, "tof": 1e-6, "tlp": 1e-4}  # tLP is x100
ALL = ("psnr", "ssim", "lpips", "tof", "tlp")


# ------------------------------------------------------------------ the published loop, transcribed

def published_listing(folder: Path) -> list[Path]:
    names = [n for n in os.listdir(folder) if n.endswith(".png") and not n.startswith("IB")]
    names.sort()
    names.sort(key=lambda n: int("".join(filter(str.isdigit, n)) or -1))
    return [folder / n for n in names]


def published_luma(img: np.ndarray) -> np.ndarray:
    flat = img.reshape(-1, 3).astype(np.float32)
    y = np.dot(flat, np.array([0.256788235294118, 0.504129411764706, 0.097905882352941])) + 16.0
    return y.reshape(img.shape[:2])


def published_loop(gt_dir: Path, out_dir: Path, lpips_fn, cut: int = 2) -> dict[tuple[int, str], float]:
    """Per-frame values keyed by (frame, metric), computed as the published evaluation does."""
    targets, outputs = published_listing(gt_dir), published_listing(out_dir)
    rows: dict[tuple[int, str], float] = {}
    prev = None
    for i in range(cut, len(targets) - cut):
        out = cv2.imread(str(outputs[i]))[:, :, ::-1]
        tar = cv2.imread(str(targets[i]))[:, :, ::-1]
        if tar.shape[0] < out.shape[0] or tar.shape[1] < out.shape[1]:
            out = out[:tar.shape[0], :tar.shape[1]]
        out_g, tar_g = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cv2.cvtColor(tar, cv2.COLOR_RGB2GRAY)
        tar_c, out_c = spec_crop(tar), spec_crop(out)
        img0, img1 = to_reference_input(tar_c), to_reference_input(out_c)
        if i > cut:
            params = (None, 0.5, 3, 15, 3, 5, 1.2, 0)
            f_t = spec_crop(cv2.calcOpticalFlowFarneback(prev["tar_g"], tar_g, *params))
            f_o = spec_crop(cv2.calcOpticalFlowFarneback(prev["out_g"], out_g, *params))
            diff = np.absolute(f_t - f_o)
            rows[i, "tof"] = float(np.sqrt(np.sum(diff * diff, axis=-1)).mean())
            d0, d1 = lpips_fn(prev["img0"], img0), lpips_fn(prev["img1"], img1)
            rows[i, "tlp"] = float(np.absolute(float(d0) - float(d1)) * 100.0)
        y_t, y_o = published_luma(tar_c), published_luma(out_c)
        rows[i, "psnr"] = float(20 * np.log10(255.0 / np.sqrt(np.mean((y_t - y_o) ** 2))))
        rows[i, "ssim"] = float(structural_similarity(y_t, y_o, data_range=y_o.max() - y_o.min()))
        rows[i, "lpips"] = float(lpips_fn(img0, img1))
        prev = dict(tar_g=tar_g, out_g=out_g, img0=img0, img1=img1)
    return rows


def as_dict(rows) -> dict[tuple[int, str], float]:
    return {(f, m): v for f, m, v in rows}


def assert_rows_close(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=TOL[key[1]]), key


# ------------------------------------------------------------------ real data: Vid4 calendar, DUF-52L

@pytest.mark.slow
def test_pipeline_reference_and_published_loop_agree_on_real_frames(alexnet_home):
    gt_dir = shared_path("data", "vid4", "GT", "calendar")
    out_dir = shared_path("data", "vid4", "DUF-52L", "calendar")
    package = reference_model("alex")
    with torch.no_grad():
        published = published_loop(gt_dir, out_dir, lambda a, b: package(a, b).flatten()[0])

    gt, out = open_sequence(gt_dir), open_sequence(out_dir)
    fast = as_dict(untimed(one_pass, gt, out))  # shared with test_speed (computed once)
    reference = as_dict(untimed(straightforward, gt, out))

    frames = {m: sorted(f for f, mm in published if mm == m) for m in ALL}
    assert frames["psnr"] == frames["lpips"] == list(range(2, 8))  # n = 10: frames 2 .. n-3
    assert frames["tof"] == frames["tlp"] == list(range(3, 8))  # pairs (t-1, t) from t = 3
    assert_rows_close(fast, published)
    assert_rows_close(reference, published)
    means = {m: np.mean([v for (_, mm), v in fast.items() if mm == m]) for m in ALL}
    assert 23 < means["psnr"] < 26 and 0.7 < means["ssim"] < 0.9 and 0 < means["tof"] < 1  # DUF-52L, calendar


# ------------------------------------------------------------------ synthetic sequences

@pytest.fixture
def seq(rng):
    out, gt = synthetic_pair(rng, n=7)
    return list(out), list(gt)


def test_pipeline_equals_reference_loop(seq, alexnet_home):
    out, gt = seq
    fast = evaluate_sequence(out, gt, device="cpu", workers=2)
    ref = reference_evaluate(gt, out, lpips_fn=get_lpips())
    assert_rows_close(as_dict(fast.rows), as_dict(ref))
    assert [r[:2] for r in fast.rows[:4]] == [(2, "psnr"), (2, "ssim"), (2, "lpips"), (3, "psnr")]


def test_rows_values_and_means(seq):
    out, gt = seq
    scores = evaluate_sequence(out, gt, metrics=["ssim", "psnr"], device="cpu", name="demo")
    assert isinstance(scores, SequenceScores) and scores.name == "demo"
    want_psnr = [ref_psnr(out[i], gt[i]) for i in range(2, 5)]
    np.testing.assert_allclose(scores.values("psnr"), want_psnr, rtol=0, atol=TOL["psnr"])
    np.testing.assert_allclose(scores.values("ssim"), [ref_ssim(out[i], gt[i]) for i in range(2, 5)],
                               rtol=0, atol=TOL["ssim"])
    assert scores.means["psnr"] == pytest.approx(np.mean(want_psnr), abs=1e-9)
    assert [m for _, m, _ in scores.rows[:2]] == ["ssim", "psnr"]  # the order asked for
    assert scores.frame_names == [f"{i:05d}" for i in range(7)]


def test_identical_frames_inf_psnr_left_out_of_the_mean(seq):
    out, gt = seq
    out[3] = gt[3]
    scores = evaluate_sequence(out, gt, metrics=["psnr"], device="cpu")
    assert scores.values("psnr")[1] == math.inf
    assert scores.means["psnr"] == pytest.approx(np.mean([ref_psnr(out[i], gt[i]) for i in (2, 4)]), abs=1e-9)


def test_float_frames_score_like_uint8(seq):
    out, gt = seq
    a = evaluate_sequence(out, gt, metrics=["psnr", "ssim", "tof"], device="cpu")
    b = evaluate_sequence([o / 255.0 for o in out], [g / 255.0 for g in gt], metrics=["psnr", "ssim", "tof"],
                          device="cpu")
    assert_rows_close(as_dict(b.rows), as_dict(a.rows))


def test_basicsr_scores_every_frame(seq):
    out, gt = seq
    scores = evaluate_sequence(out[:3], gt[:3], protocol="basicsr-y", device="cpu")
    assert [(f, m) for f, m, _ in scores.rows] == [(f, m) for f in range(3) for m in ("psnr", "ssim")]
    np.testing.assert_allclose(scores.values("psnr"), psnr(np.stack(out[:3]), np.stack(gt[:3]), protocol="basicsr-y"),
                               rtol=0, atol=1e-12)


def test_progress_is_called_per_scored_frame(seq):
    out, gt = seq
    calls = []
    evaluate_sequence(out, gt, metrics=["psnr"], device="cpu", progress=calls.append)
    assert calls == [1, 1, 1]


@pytest.mark.filterwarnings("ignore:.*is scored.*:vsrbench.core.errors.VsrbenchWarning")  # the cut is the point here; its warning is tested in test_trust_io
def test_output_larger_than_gt_cut_top_left_and_crop_both(seq, rng):
    out, gt = seq
    big = [np.pad(o, ((0, 4), (0, 9), (0, 0)), mode="reflect") for o in out]
    metrics = ["psnr", "ssim", "tof"]
    a = evaluate_sequence(big, gt, metrics=metrics, device="cpu")
    b = evaluate_sequence(out, gt, metrics=metrics, device="cpu")
    assert_rows_close(as_dict(a.rows), as_dict(b.rows))
    # crop-both: an output smaller than GT cuts GT to the common top-left region
    small = [o[:90, :120] for o in out]
    both = get_protocol("tecogan", size_rule="crop-both")
    c = evaluate_sequence(small, gt, protocol=both, metrics=["psnr", "ssim"], device="cpu")
    np.testing.assert_allclose(c.values("psnr"), [ref_psnr(small[i], gt[i][:90, :120]) for i in range(2, 5)],
                               rtol=0, atol=TOL["psnr"])
    np.testing.assert_allclose(c.values("ssim"), [ssim(small[i], gt[i][:90, :120]) for i in range(2, 5)],
                               rtol=0, atol=1e-12)


# ------------------------------------------------------------------ folders

def test_folders_pair_by_the_number_in_the_name(tmp_path, seq, alexnet_home):
    out, gt = seq
    gt_dir, out_dir = tmp_path / "GT" / "demo", tmp_path / "out" / "demo"
    for i in reversed(range(7)):  # written in reverse: order must come from the names
        write_frame(gt_dir / f"Frame {i + 1:03d}.png", gt[i])
        write_frame(out_dir / (f"Frame{i + 1}.png" if i else "cover.png"), out[i])  # no digits: sorts first
    write_frame(gt_dir / "IB_Frame 004.png", np.zeros_like(gt[0]))  # ignored
    write_frame(out_dir / "IBframe2.png", np.zeros_like(out[0]))
    gt_seq, out_seq = open_sequence(gt_dir), open_sequence(out_dir)
    assert out_seq.frame_name(0) == "cover.png" and out_seq.frame_name(6) == "Frame7.png"
    from_dirs = evaluate_sequence(out_seq, gt_seq, device="cpu")
    from_lists = evaluate_sequence(out, gt, device="cpu")
    assert from_dirs.rows == from_lists.rows
    assert from_dirs.name == "demo" and from_dirs.frame_names[:2] == ["Frame 001.png", "Frame 002.png"]
    assert_rows_close(as_dict(from_dirs.rows), published_loop(gt_dir, out_dir, get_lpips()))


# ------------------------------------------------------------------ errors

def test_frame_count_mismatch(seq):
    out, gt = seq
    with pytest.raises(InputError) as e:
        evaluate_sequence(out[:6], gt, device="cpu", name="walk")
    assert str(e.value) == "sequence 'walk': GT has 7 frames but the output has 6"


def test_sequence_too_short(seq):
    out, gt = seq
    with pytest.raises(InputError) as e:
        evaluate_sequence(out[:5], gt[:5], metrics=["psnr", "tof"], device="cpu")
    assert str(e.value) == ("sequence 'sequence' has 5 frames; temporal metrics need at least 6 "
                            "with 2 frame(s) cut at each end (protocol tecogan)")
    assert len(evaluate_sequence(out[:5], gt[:5], metrics=["psnr"], device="cpu").rows) == 1
    with pytest.raises(InputError) as e:
        evaluate_sequence(out[:4], gt[:4], metrics=["psnr"], device="cpu")
    assert str(e.value) == ("sequence 'sequence' has 4 frames; scoring needs at least 5 "
                            "with 2 frame(s) cut at each end (protocol tecogan)")


def test_nan_in_float_frames(seq):
    out, gt = seq
    bad = [o / 255.0 for o in out]
    bad[5] = bad[5].copy()
    bad[5][3, 4, 1] = np.nan
    with pytest.raises(InputError) as e:
        evaluate_sequence(bad, gt, metrics=["psnr"], device="cpu", name="city")
    assert str(e.value) == "city frame 5: contains NaN or inf values"


def test_output_smaller_than_gt(tmp_path, seq):
    out, gt = seq
    for i in range(7):
        write_frame(tmp_path / "gt" / f"{i}.png", gt[i])
        write_frame(tmp_path / "out" / f"{i}.png", out[i] if i != 3 else out[i][:90])
    with pytest.raises(InputError) as e:
        evaluate_sequence(open_sequence(tmp_path / "out"), open_sequence(tmp_path / "gt"), metrics=["psnr"],
                          device="cpu")
    assert str(e.value) == ("sequence 'gt', frame 3 (3.png): output is 128x90 but GT is 128x96 "
                            "(only an output larger than GT is cut, keeping its top-left corner)")


def test_unknown_metric_and_device(seq):
    out, gt = seq
    with pytest.raises(UnknownNameError, match=r"^unknown metric 'ssimm'; did you mean 'ssim'\? \(known: "):
        evaluate_sequence(out, gt, metrics=["psnr", "ssimm"], device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError) as e:
            evaluate_sequence(out, gt, metrics=["psnr"], device="cuda")
        assert str(e.value) == "device 'cuda' requested but no CUDA device is available (use 'cpu' or 'auto')"


def test_reference_loop_refuses_what_it_does_not_cover(seq):
    out, gt = seq
    with pytest.raises(InputError) as e:
        reference_evaluate(gt, out, protocol="basicsr-y", metrics=["psnr"])
    assert str(e.value) == "the reference loop covers the tecogan protocol only, not 'basicsr-y'"
    with pytest.raises(InputError) as e:
        reference_evaluate(gt, out, metrics=["lpips"])
    assert str(e.value) == "lpips/tlp need an lpips_fn"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_pipeline_equals_cpu(seq, alexnet_home):
    out, gt = seq
    cpu = evaluate_sequence(out, gt, device="cpu")
    gpu = evaluate_sequence(out, gt, device="cuda")
    assert_rows_close(as_dict(gpu.rows), as_dict(cpu.rows))


# ---------------------------------------------------------------------- several outputs, one GT

def _rows(scores):
    return {(f, m): v for f, m, v in scores.rows}


def test_evaluate_many_equals_each_output_alone_on_real_frames(alexnet_home):
    from vsrbench.evaluate import evaluate_many

    root = shared_path("data", "vid4")
    gt = open_sequence(root / "GT" / "walk")
    outs = {m: open_sequence(root / m / "walk") for m in ("DUF-16L", "DUF-52L")}
    calls = []
    many = evaluate_many(outs, gt, device="cpu", progress=calls.append)
    assert sum(calls) == 2 * (len(gt) - 4)  # progress counts outputs scored per frame
    for m, seq in outs.items():
        alone = _rows(evaluate_sequence(seq, gt, device="cpu"))
        together = _rows(many[m])
        assert together.keys() == alone.keys()
        for k, v in alone.items():
            assert together[k] == pytest.approx(v, rel=0, abs=1e-6 if k[1] == "tlp" else 1e-9), (m, k)
    assert many["DUF-52L"].means["psnr"] > many["DUF-16L"].means["psnr"]


@pytest.mark.filterwarnings("ignore:.*is scored.*:vsrbench.core.errors.VsrbenchWarning")  # the cut is the point here; its warning is tested in test_trust_io
def test_evaluate_many_with_crop_both_keeps_a_gt_per_size(rng, alexnet_home):
    from vsrbench.evaluate import evaluate_many

    pairs = [synthetic_pair(rng, shape=(80, 112)) for _ in range(7)]
    gt = [g for _, g in pairs]
    big = [np.pad(o, ((0, 4), (0, 8), (0, 0)), mode="edge") for o, _ in pairs]  # larger: cut to GT
    small = [o[:72, :104] for o, _ in pairs]  # smaller: GT cut to it under crop-both
    proto = get_protocol("tecogan", size_rule="crop-both")
    many = evaluate_many({"big": big, "small": small}, gt, protocol=proto, device="cpu")
    for key, out in (("big", big), ("small", small)):
        alone = _rows(evaluate_sequence(out, gt, protocol=proto, device="cpu"))
        assert _rows(many[key]).keys() == alone.keys()
        for k, v in alone.items():
            assert _rows(many[key])[k] == pytest.approx(v, rel=0, abs=1e-6 if k[1] == "tlp" else 1e-9), (key, k)


def test_evaluate_many_errors():
    from vsrbench.evaluate import evaluate_many

    frames = [np.zeros((64, 64, 3), np.uint8)] * 6
    with pytest.raises(InputError, match="^no output sequence to score$"):
        evaluate_many({}, frames)
    with pytest.raises(InputError, match="GT has 6 frames but the output has 5"):
        evaluate_many({"a": frames, "b": frames[:5]}, frames, metrics=["psnr"])
