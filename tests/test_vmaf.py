"""VMAF and VMAF-NEG through vmaf-torch (metrics/vmaf.py).

Checked against:

- hand computation for the BT.601 limited-range YUV 4:2:0 conversion (exact rationals);
- the facts of Netflix/vmaf ``model/vmaf_v0.6.1.json`` (commit f85a853) for the model vmaf-torch carries;
- ``vmaf_torch.VMAF`` called directly on the whole video (equal where the calls are the same; within
  float32 noise where frames are scored in other batches or as a subset);
- libvmaf 3.2.0 (Netflix/vmaf f85a853, its ``vmaf`` tool, run at development time on the yuv420p files
  ``write_yuv420p`` writes): goldens in tests/golden/vmaf_libvmaf.json on a seeded synthetic video
  (tests/_support/vmaf_video.py) and on Vid4 GT vs DUF-52L (../shared, skipped when absent);
- libvmaf live through ``ffmpeg -lavfi libvmaf`` or the ``vmaf`` tool, where one is on PATH (skipped
  otherwise, saying which).

Speed (``--benchmark-enable`` only): vsrbench per frame and batched against vmaf-torch called on the whole
video, Vid4 calendar GT vs DUF-52L (10 frames 720x576; synthetic frames when ../shared is absent).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from _support.paths import REPO, SHARED
from _support.vmaf_video import FRAMES, SHAPE, distort, video

from vsrbench.core.errors import InputError, WeightsError
from vsrbench.metrics import vmaf as vm
from vsrbench.metrics.info import METRICS

GOLDEN = json.loads((REPO / "tests" / "golden" / "vmaf_libvmaf.json").read_text())
MODELS = {False: "vmaf_v0.6.1", True: "vmaf_v0.6.1neg"}
HAVE_VMAF_TORCH = importlib.util.find_spec("vmaf_torch") is not None
needs_vmaf_torch = pytest.mark.skipif(not HAVE_VMAF_TORCH, reason="needs vmaf-torch (pip install vmaf-torch)")
# float32 noise of vmaf-torch's features when the same frames are computed in other batch sizes, through the SVM
BATCH_TOL = 5e-3
# libvmaf (integer features) against vmaf-torch (float): its README reports 0.0063 mean, 0.027 max
LIBVMAF_MAX, LIBVMAF_MEAN = 0.05, 0.015


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small networks, a shared machine


@pytest.fixture(scope="module")
def clip():
    ref = video()
    return ref, {k: distort(ref, k) for k in ("blur", "sharp", "noise")}


def _direct(ref, dist, neg):
    """vmaf_torch.VMAF called directly on the whole video's luma (clipped as libvmaf)."""
    from vmaf_torch import VMAF

    y = lambda f: torch.from_numpy(vm.rgb_to_luma(f)).float()[:, None]  # noqa: E731
    with torch.inference_mode():
        return VMAF(NEG=neg, clip_score=True)(y(ref), y(dist))[:, 0].double().numpy()


# ------------------------------------------------------------------ the YUV conversion

def _y_exact(r, g, b):
    v = 16 + (Fraction(65481, 1000) * r + Fraction(128553, 1000) * g + Fraction(24966, 1000) * b) / 255
    return int(v + Fraction(1, 2))  # round half up (v > 0)


def test_luma_is_bt601_limited_range_rounded_half_up():
    rgb = [(0, 0, 0), (255, 255, 255), (255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128)]
    assert [int(vm.rgb_to_luma(np.array([[c]], np.uint8))[0, 0]) for c in rgb] == [16, 235, 81, 145, 41, 126]
    # every colour whose exact value ends in .5 among a sweep, and random colours: against exact rationals
    halves = [(r, g, b) for r in range(0, 256, 5) for g in range(0, 256, 7) for b in range(256)
              if (4080000 + 65481 * r + 128553 * g + 24966 * b) % 255000 == 127500]
    assert halves, "the sweep holds colours exactly between two codes"
    rng = np.random.default_rng(0)
    cols = np.concatenate([np.array(halves, np.uint8), rng.integers(0, 256, (3000, 3), dtype=np.uint8)])
    got = vm.rgb_to_luma(cols[None])[0]
    assert got.tolist() == [_y_exact(*map(int, c)) for c in cols]
    assert vm.rgb_to_luma(cols[None, None])[0].shape == (1, len(cols))  # a batch keeps its frame axis


def test_chroma_is_the_rounded_2x2_mean_with_the_last_row_and_column_repeated():
    rng = np.random.default_rng(1)
    f = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)  # odd sides
    y, u, v = vm.rgb_to_yuv420(f)
    assert y.shape == (5, 7) and u.shape == v.shape == (3, 4) and u.dtype == np.uint8
    assert np.array_equal(y, vm.rgb_to_luma(f))

    def exact(coeffs, i, j):
        rows, cols = [min(2 * i, 4), min(2 * i + 1, 4)], [min(2 * j, 6), min(2 * j + 1, 6)]
        s = sum(128 + sum(Fraction(c, 1000) * int(f[r, c_, k]) for k, c in enumerate(coeffs)) / 255
                for r in rows for c_ in cols)
        return int(s / 4 + Fraction(1, 2))

    assert u.tolist() == [[exact((-37797, -74203, 112000), i, j) for j in range(4)] for i in range(3)]
    assert v.tolist() == [[exact((112000, -93786, -18214), i, j) for j in range(4)] for i in range(3)]
    grey = vm.rgb_to_yuv420(np.full((2, 4, 6, 3), 77, np.uint8))
    assert (grey[1] == 128).all() and (grey[2] == 128).all()  # no colour: chroma at its zero


def test_the_yuv420p_file_reads_back_with_vmaf_torchs_reader(tmp_path, clip):
    pytest.importorskip("yuvio", reason="needs yuvio (a requirement of vmaf-torch)")
    from vmaf_torch import yuv_to_tensor

    ref, _ = clip
    p = vm.write_yuv420p(tmp_path / "ref.yuv", ref)
    h, w = SHAPE
    assert p.stat().st_size == FRAMES * (h * w + 2 * (h // 2) * (w // 2))
    y, u, v = yuv_to_tensor(str(p), w, h, FRAMES, channel="yuv")
    Y, U, V = vm.rgb_to_yuv420(ref)
    assert np.array_equal(y[:, 0].numpy(), Y) and np.array_equal(u[:, 0].numpy(), U)
    assert np.array_equal(v[:, 0].numpy(), V)


# ------------------------------------------------------------------ the model file

@needs_vmaf_torch
def test_the_model_is_found_inside_the_package_and_is_libvmafs_vmaf_v0_6_1():
    from vmaf_torch.svm_predict import SVMPredict

    from vsrbench.metrics.extension import weights_missing

    rec = vm.vmaf_model_record()
    assert rec["verified"] is True and rec["sha256"] == vm.MODEL_SHA256 and rec["package"].startswith("vmaf-torch ")
    assert Path(rec["path"]).as_posix().endswith("vmaf_torch/svm_predict.py")
    assert weights_missing(METRICS["vmaf"]) is None and weights_missing(METRICS["vmaf-neg"]) is None
    # Netflix/vmaf model/vmaf_v0.6.1.json (commit f85a853; vmaf_v0.6.1neg.json holds the same SVM):
    # slopes and intercepts (score first, then the six features), gamma, rho, 211 support vectors
    slopes = [0.012020766332648465, 2.8098077502505414, 0.06264407466686016, 1.222763456258933,
              1.5360318811084146, 1.7620864995501058, 2.08656468286432]
    intercepts = [-0.3092981927591963, -1.7993968597186747, -0.003017198086831897, -0.1728125095425364,
                  -0.5294309090081222, -0.7577185792093722, -1.083428597549764]
    svm = SVMPredict()
    assert svm.slope == slopes[0] and svm.intercept == intercepts[0] and (svm.gamma, svm.rho) == (0.04, -1.33133)
    assert svm.slopes.tolist() == pytest.approx(slopes[1:], rel=1e-7)
    assert svm.intercepts.tolist() == pytest.approx(intercepts[1:], rel=1e-7)
    assert svm.support_vectors.shape == (211, 6) and (svm.score_clip_min, svm.score_clip_max) == (0, 100)
    first = [0.65734273, 0.34681232, 0.093755557, 0.60913934, 0.69117362, 0.73495824]
    last = [0.72124785, 0.047285912, 0.46606653, 0.81323145, 0.84847474, 0.85892657]
    assert svm.support_vectors[0].tolist() == pytest.approx(first, rel=1e-7) and float(svm.alpha[0]) == -4
    assert svm.support_vectors[-1].tolist() == pytest.approx(last, rel=1e-7) and float(svm.alpha[-1]) == -4


@pytest.fixture
def no_vmaf_torch(monkeypatch):
    """vmaf-torch as if not installed: its package is not found, nor importable."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vmaf_torch" else real(name, *a))
    for m in [m for m in sys.modules if m == "vmaf_torch" or m.startswith("vmaf_torch.")]:
        monkeypatch.delitem(sys.modules, m)
    monkeypatch.setitem(sys.modules, "vmaf_torch", None)
    vm._cached.cache_clear()
    yield
    vm._cached.cache_clear()


def test_without_vmaf_torch_a_request_is_one_line_and_a_default_list_skips_it(no_vmaf_torch, capsys, clip):
    from vsrbench.cli import main
    from vsrbench.metrics.extension import weights_missing
    from vsrbench.run.policy import skip_missing_weights

    assert weights_missing(METRICS["vmaf"]) == "vmaf-v0.6.1"
    said: list[str] = []
    assert skip_missing_weights(["psnr", "vmaf", "vmaf-neg"], named=False, say=said.append) == ["psnr"]
    assert said == ["note: vmaf, vmaf-neg skipped: weights file 'vmaf-v0.6.1' not found; "
                    "`pip install vmaf-torch` installs it"]
    assert skip_missing_weights(["vmaf"], named=True, say=said.append) == ["vmaf"]  # named: kept, then refused
    ref, d = clip
    with pytest.raises(WeightsError) as e:
        vm.vmaf(d["blur"], ref)
    assert str(e.value) == ("vmaf-torch 1.1.0's built-in vmaf_v0.6.1 model (vmaf_torch/svm_predict.py) not found: "
                            "the vmaf-torch package is not installed; `pip install vmaf-torch` installs it")
    assert main(["weights", "download", "vmaf-v0.6.1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith("the vmaf-torch package is not installed; "
                                                           "`pip install vmaf-torch` installs it")
    assert "Traceback" not in err


def test_a_missing_requirement_of_vmaf_torch_is_one_line(monkeypatch):
    for m in [m for m in sys.modules if m == "vmaf_torch" or m.startswith("vmaf_torch.")]:
        monkeypatch.delitem(sys.modules, m)
    monkeypatch.setitem(sys.modules, "vmaf_torch", None)
    with pytest.raises(WeightsError, match=r"^VMAF needs the vmaf-torch package, which cannot be imported "
                                           r"\(no module 'vmaf_torch'\); `pip install vmaf-torch` installs it"):
        vm._import_vmaf_torch()


@needs_vmaf_torch
def test_vsrbench_weights_knows_the_package_file(capsys):
    from vsrbench.cli import main

    assert main(["weights", "download", "vmaf-v0.6.1"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("vmaf-v0.6.1: installed with the vmaf-torch package (") and "sha256 ok" in err
    assert main(["weights", "list"]) == 0
    row = [r for r in capsys.readouterr().out.splitlines() if r.startswith("vmaf-v0.6.1 ")]
    assert len(row) == 1 and "svm_predict.py" in row[0] and "present: " in row[0] and "982dfebdfa8a" in row[0]


# ------------------------------------------------------------------ against vmaf-torch itself

@needs_vmaf_torch
@pytest.mark.parametrize("neg", [False, True], ids=["vmaf", "neg"])
def test_equal_to_vmaf_torch_on_the_whole_video(clip, neg):
    ref, d = clip
    for kind in ("blur", "sharp"):
        want = _direct(ref, d[kind], neg)
        assert np.abs(vm.vmaf(d[kind], ref, neg=neg, batch=FRAMES) - want).max() <= 1e-6  # the same calls
        assert np.abs(vm.vmaf(d[kind], ref, neg=neg, batch=4) - want).max() <= BATCH_TOL
        assert np.abs(vm.vmaf(d[kind], ref, neg=neg) - want).max() <= BATCH_TOL  # CPU default: one frame a call
        # a subset, in batches of 2: each frame's value in the whole video (motion from its GT neighbours)
        sub = [1, 2, 4, 5]
        assert np.abs(vm.vmaf(d[kind], ref, neg=neg, frames=sub, batch=2) - want[sub]).max() <= BATCH_TOL


@needs_vmaf_torch
def test_motion2_is_libvmafs_rule_on_vmaf_torchs_sads(clip):
    ref, _ = clip
    model = vm.get_vmaf()
    y = torch.from_numpy(vm.rgb_to_luma(ref)).float()[:, None]
    with torch.inference_mode():
        sad = model.compute_motion(y)[:, 0].tolist()
        whole = model.compute_motion2(y)[:, 0].tolist()
    assert sad[0] == 0 and min(sad[1:]) > 1  # the clip pans: real motion
    n = len(sad)
    assert [vm.motion2(dict(enumerate(sad)), t, n) for t in range(n)] == whole
    assert vm.motion2({1: 3.0, 2: 5.0}, 0, 3) == 0 and vm.motion2({1: 3.0, 2: 5.0}, 1, 3) == 3.0
    assert vm.motion2({1: 3.0, 2: 5.0}, 2, 3) == 5.0 and vm.motion2({}, 0, 1) == 0


# ------------------------------------------------------------------ against libvmaf

@pytest.fixture(scope="module")
def scores(clip):
    if not HAVE_VMAF_TORCH:
        pytest.skip("needs vmaf-torch (pip install vmaf-torch)")
    ref, d = clip
    d = {"ref": ref, **d}
    return {(k, neg): vm.vmaf(d[k], ref, neg=neg) for k in d for neg in (False, True)}


def test_the_synthetic_goldens_are_for_these_files(tmp_path, clip):
    ref, d = clip
    for kind, frames in {"ref": ref, **d}.items():
        data = vm.write_yuv420p(tmp_path / f"{kind}.yuv", frames).read_bytes()
        assert hashlib.sha256(data).hexdigest() == GOLDEN["synthetic"]["yuv_sha256"][kind], kind


@pytest.mark.parametrize("kind", ["ref", "blur", "sharp", "noise"])
@pytest.mark.parametrize("neg", [False, True], ids=["vmaf", "neg"])
def test_close_to_libvmaf_on_the_synthetic_video(scores, kind, neg):
    lib = np.array(GOLDEN["synthetic"][kind][MODELS[neg]])
    diff = np.abs(scores[kind, neg] - lib)
    assert diff.max() <= LIBVMAF_MAX and diff.mean() <= LIBVMAF_MEAN, (scores[kind, neg], lib)


def test_sanity_identical_blurred_sharpened(scores, clip):
    ref, _ = clip
    same = scores["ref", False]
    assert np.abs(same - _direct(ref, ref, False)).max() <= 1e-6 and same.min() > 97  # ~100: as vmaf-torch gives
    assert (scores["blur", False] < same - 5).all()  # a blurred copy scores lower, frame by frame
    assert (vm.vmaf(vm_blur2(ref), ref) < scores["blur", False]).all()  # and more blur lower still
    gap = scores["sharp", False] - scores["sharp", True]
    assert gap.min() > 5  # NEG refuses the gain an over-sharpened copy gets
    assert (scores["blur", True] <= scores["blur", False] + BATCH_TOL).all()
    assert np.abs(scores["blur", False] - scores["blur", True]).max() < 0.5  # no enhancement: NEG ~ VMAF


def vm_blur2(ref):
    return distort(distort(ref, "blur"), "blur")


def test_close_to_libvmaf_on_vid4():
    if not HAVE_VMAF_TORCH:
        pytest.skip("needs vmaf-torch (pip install vmaf-torch)")
    from vsrbench.core.io import open_sequence

    gt_dir, out_dir = SHARED / "data" / "vid4" / "GT" / "calendar", SHARED / "data" / "vid4" / "DUF-52L" / "calendar"
    if not (gt_dir.is_dir() and out_dir.is_dir()):
        pytest.skip(f"needs {gt_dir} and {out_dir} (the team's shared Vid4 frames); not present here")
    gt, out = open_sequence(gt_dir), open_sequence(out_dir)
    for neg in (False, True):  # frames 0..2 of the 10-frame video: frame 2's motion reads GT frame 3
        got = vm.vmaf(out, gt, neg=neg, frames=[0, 1, 2], batch=3)
        lib = np.array(GOLDEN["vid4"]["calendar"][MODELS[neg]][:3])
        assert np.abs(got - lib).max() <= LIBVMAF_MAX, (got, lib)


def _libvmaf_tool(tool: str) -> str:
    """The path of ``tool`` where it computes libvmaf's VMAF, else skip saying why."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"no {tool} on PATH: the live libvmaf check needs "
                    + ("an ffmpeg built with libvmaf" if tool == "ffmpeg" else "libvmaf's vmaf tool"))
    if tool == "ffmpeg":
        filters = subprocess.run([path, "-hide_banner", "-filters"], capture_output=True, text=True).stdout
        if " libvmaf " not in filters:
            pytest.skip(f"the ffmpeg on PATH ({path}) has no libvmaf filter (not built with --enable-libvmaf)")
    return path


def _run_libvmaf(tool, path, folder: Path, neg: bool) -> np.ndarray:
    h, w, model, log = SHAPE[0], SHAPE[1], MODELS[neg], folder / f"{MODELS[neg]}.json"
    if tool == "ffmpeg":  # ffmpeg's libvmaf filter: first input distorted, second reference
        raw = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}"]
        cmd = [path, "-hide_banner", "-loglevel", "error", *raw, "-i", str(folder / "dist.yuv"), *raw, "-i",
               str(folder / "ref.yuv"), "-lavfi", f"libvmaf=model=version={model}:log_fmt=json:log_path={log}",
               "-f", "null", "-"]
    else:
        cmd = [path, "-r", str(folder / "ref.yuv"), "-d", str(folder / "dist.yuv"), "-w", str(w), "-h", str(h),
               "-p", "420", "-b", "8", "--model", f"version={model}", "--json", "-o", str(log), "-q"]
    subprocess.run(cmd, check=True, capture_output=True)
    return np.array([f["metrics"]["vmaf"] for f in json.loads(log.read_text())["frames"]])


@pytest.mark.parametrize("tool", ["ffmpeg", "vmaf"])
def test_live_libvmaf_parity(tool, tmp_path, clip, scores):
    path = _libvmaf_tool(tool)
    ref, d = clip
    vm.write_yuv420p(tmp_path / "ref.yuv", ref)
    for kind in ("blur", "sharp"):
        vm.write_yuv420p(tmp_path / "dist.yuv", d[kind])
        for neg in (False, True):
            lib = _run_libvmaf(tool, path, tmp_path, neg)
            diff = np.abs(scores[kind, neg] - lib)
            assert diff.max() <= LIBVMAF_MAX and diff.mean() <= LIBVMAF_MEAN, (tool, kind, neg, lib)


# ------------------------------------------------------------------ the scorers and errors

@needs_vmaf_torch
def test_scorers_through_evaluate_many_write_each_frame_its_whole_video_value(clip):
    from vsrbench.evaluate import evaluate_many

    ref, d = clip
    preds = {"blur": list(d["blur"]), "sharp": list(d["sharp"])}
    whole = {(k, neg): _direct(ref, d[k], neg) for k in preds for neg in (False, True)}
    got = evaluate_many(preds, list(ref), protocol="tecogan", metrics=["vmaf", "vmaf-neg"], device="cpu",
                        options={"vmaf": {"batch": 1}})
    for k in preds:  # tecogan scores frames 2..n-3; their motion still reads frames 1 and n-2
        frames = [r[0] for r in got[k].rows if r[1] == "vmaf"]
        assert frames == [2, 3]
        assert np.abs(got[k].values("vmaf") - whole[k, False][2:4]).max() <= BATCH_TOL
        assert np.abs(got[k].values("vmaf-neg") - whole[k, True][2:4]).max() <= BATCH_TOL


@needs_vmaf_torch
def test_bad_input_is_one_line(clip):
    from types import SimpleNamespace

    ref, d = clip
    with pytest.raises(InputError, match="expected uint8 RGB frames, got float32"):
        vm.vmaf(d["blur"].astype(np.float32), ref)
    with pytest.raises(InputError, match=r"5 output frames but 6 GT frames"):
        vm.vmaf(d["blur"][:5], ref)
    with pytest.raises(InputError, match=r"frame 6 is outside the GT's 6 frames"):
        vm.vmaf(d["blur"], ref, frames=[6])
    bigger = np.pad(d["blur"], ((0, 0), (0, 2), (0, 2), (0, 0)), mode="edge")
    with pytest.raises(InputError, match="output is 178x146 but GT is 176x144"):
        vm.vmaf(bigger, ref, frames=[1])
    cut = vm.vmaf(bigger, ref, frames=[1, 2], size_rule="crop-pred")
    assert np.abs(cut - vm.vmaf(d["blur"], ref, frames=[1, 2])).max() <= 1e-6
    clip_ = SimpleNamespace(name="a", pred=d["blur"], gt=None, frames=(0,), protocol=None, device="cpu", options={})
    with pytest.raises(InputError, match=r"sequence 'a': this metric needs the ground truth \(--gt\)"):
        vm.score_vmaf(clip_)
    assert vm.vmaf(d["blur"], ref, frames=[]).shape == (0,)


# ------------------------------------------------------------------ speed (--benchmark-enable only)

def _bench_frames():
    from vsrbench.core.io import open_sequence

    gt_dir, out_dir = SHARED / "data" / "vid4" / "GT" / "calendar", SHARED / "data" / "vid4" / "DUF-52L" / "calendar"
    if gt_dir.is_dir() and out_dir.is_dir():
        read = lambda d: np.stack([np.asarray(open_sequence(d)[i]) for i in range(10)])  # noqa: E731
        return read(out_dir), read(gt_dir), "vid4/calendar GT vs DUF-52L, 10 frames 720x576"
    gt = video(10, (576, 720))
    return distort(gt, "blur"), gt, "synthetic 10 frames 720x576"


@needs_vmaf_torch
@pytest.mark.parametrize("who", ["vsrbench per-frame", "vsrbench video", "vsrbench batch-4", "vmaf-torch video"])
def test_speed(benchmark, who):
    """per-frame: one call per frame (its neighbours read for the motion); video: one call, the default
    batch (1 frame per vmaf-torch call on the CPU); batch-4: 4 frames per vmaf-torch call; vmaf-torch video:
    ``vmaf_torch.VMAF`` on all frames at once (the luma conversion inside the clock, as for vsrbench)."""
    if benchmark.disabled:
        pytest.skip("a benchmark: run with --benchmark-enable")
    out, gt, source = _bench_frames()
    vm.vmaf(out[:2], gt[:2])  # model load and warm-up outside the clock
    calls = {"vsrbench per-frame": lambda: [vm.vmaf(out, gt, frames=[t]) for t in range(len(out))],
             "vsrbench video": lambda: vm.vmaf(out, gt), "vsrbench batch-4": lambda: vm.vmaf(out, gt, batch=4),
             "vmaf-torch video": lambda: _direct(gt, out, False)}
    call = calls[who]
    benchmark.group = "vmaf"
    benchmark.extra_info.update(case=who, frames=len(out), source=source)
    benchmark.pedantic(call, rounds=2, iterations=1)
