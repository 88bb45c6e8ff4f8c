"""Speed of each metric function against the peer libraries, with pytest-benchmark.

One benchmark group per metric (``psnr-y``, ``psnr-rgb``, ``ssim-y``, ``ssim-rgb``, ``lpips-alex``,
``psnr-tecogan``, ``ssim-tecogan``). In each: vsrbench called frame by frame (a loop of single-frame
calls) and batched (one call on ``(N, H, W, 3)``), the straightforward NumPy implementation of the same
convention (tests/_support/peer_reference.py, one frame at a time as the published code is called), and every
installed peer (piq, torchmetrics, pyiqa), frame by frame and batched. The frames are Vid4 calendar,
GT against DUF-52L's output (../shared/data/vid4, 10 frames of 720x576; a synthetic clip when
../shared is absent). vsrbench gets the uint8 frames it reads from PNG; each peer gets its inputs in
the format it wants (float32 NCHW tensors in [0, 1]), converted before the clock starts: the timings
compare computation, not conversion. For PSNR-Y, where the luma is most of the work, a peer computes it
from RGB (pyiqa: BasicSR's luma; piq: its own 0.299/0.587/0.114 luma) or is not timed (torchmetrics);
for SSIM-Y piq and torchmetrics, which have no BasicSR luma, get BasicSR's Y planes (their clock leaves
the luma out). Where a peer computes the same convention its values are checked against vsrbench's.

pyproject's ``addopts`` has ``--benchmark-disable``: then every case runs once, untimed, on the first
2 frames cut to 192x256 (a few seconds in all). To measure (10 full frames, best of up to 3 rounds):

    pip install -e '.[bench]'
    pytest tests/test_bench_peers.py --benchmark-enable --benchmark-json=bench.json
    python tests/_support/bench_table.py bench.json   # the ratio table of docs/performance.md
"""
from __future__ import annotations

import importlib.util
import time

import numpy as np
import pytest
import torch
from _support.lpips_reference import import_lpips
from _support.paths import SHARED

from _support import peer_reference as ref
from vsrbench.metrics import lpips, psnr, ssim

PEERS = ("piq", "torchmetrics", "pyiqa")
INSTALL = "pip install -e '.[bench]'"
# not in the bench extra: pyiqa requires opencv-python-headless, whose cv2 would replace opencv-contrib-python's
INSTALL_PYIQA = "pip install --no-deps pyiqa && pip install pyyaml requests huggingface_hub"
GROUPS = ("psnr-y", "psnr-rgb", "ssim-y", "ssim-rgb", "lpips-alex", "psnr-tecogan", "ssim-tecogan")
SLOW_S = 15.0  # a case slower than this (estimated per round) is timed once instead of best of 3


# ------------------------------------------------------------------ frames

def _read(folder):
    from vsrbench.core.io import open_sequence

    seq = open_sequence(folder)
    return np.stack([np.asarray(seq[i]) for i in range(len(seq))])


def _synthetic(n=10, shape=(576, 720)):
    import cv2

    rng = np.random.default_rng(7)
    gts, outs = [], []
    for _ in range(n):
        base = cv2.GaussianBlur(rng.uniform(0, 255, shape + (3,)), (0, 0), 2.0)
        gt = np.clip(np.round((base - base.min()) * 255 / np.ptp(base)), 0, 255).astype(np.uint8)
        out = cv2.GaussianBlur(gt.astype(np.float64), (0, 0), 0.8) + rng.normal(0, 6, gt.shape)
        gts.append(gt)
        outs.append(np.clip(np.round(out), 0, 255).astype(np.uint8))
    return np.stack(outs), np.stack(gts)


@pytest.fixture(scope="module")
def frames(request):
    """(out, gt): (N, H, W, 3) uint8 RGB, and where they come from."""
    gt_dir, out_dir = SHARED / "data" / "vid4" / "GT" / "calendar", SHARED / "data" / "vid4" / "DUF-52L" / "calendar"
    if gt_dir.is_dir() and out_dir.is_dir():
        out, gt, source = _read(out_dir), _read(gt_dir), "vid4/calendar GT vs DUF-52L"
    else:
        (out, gt), source = _synthetic(), "synthetic (../shared absent)"
    if _untimed(request.config):  # the normal suite: a small, quick case
        out, gt = np.ascontiguousarray(out[:2, :192, :256]), np.ascontiguousarray(gt[:2, :192, :256])
    return out, gt, source


def _untimed(config) -> bool:
    """True under --benchmark-disable (pyproject's default) unless --benchmark-enable overrides it."""
    return bool(config.getoption("benchmark_disable", False)) and not config.getoption("benchmark_enable", False)


def _nchw01(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(0, 3, 1, 2).float().div(255.0).contiguous()


@pytest.fixture(scope="module")
def tensors(frames):
    """The peers' inputs, made once outside the clock: RGB and BasicSR luma as float32 NCHW in [0, 1]."""
    out, gt, _ = frames
    y = lambda x: torch.from_numpy(np.stack([ref.basicsr_y(f) for f in x])).permute(0, 3, 1, 2).div(255.0)  # noqa: E731
    return {"rgb": (_nchw01(out), _nchw01(gt)), "y": (y(out).contiguous(), y(gt).contiguous())}


# ------------------------------------------------------------------ the cases

def _need(module: str):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} not installed: {INSTALL_PYIQA if module == 'pyiqa' else INSTALL}")
    import_lpips()  # torchvision on a CPU-only machine (see lpips_reference.import_lpips)
    return __import__(module)


def _timed(benchmark, group: str, case: str, fn, warm, n_frames: int, source: str):
    """Time ``fn`` (best of 3 rounds when benchmarks are enabled, 1 when a round would take over
    ``SLOW_S``) and return its values. ``warm``: the same call on the first frame, run first outside
    the clock (caches, lazy imports, thread pools), whose time estimates a round's."""
    benchmark.group = group
    benchmark.extra_info.update(case=case, frames=n_frames, source=source)
    if benchmark.disabled:
        return benchmark(fn)
    t0 = time.perf_counter()
    warm()
    rounds = 1 if (time.perf_counter() - t0) * n_frames > SLOW_S else 3
    return benchmark.pedantic(fn, rounds=rounds, iterations=1)


def _per_frame(call, a, b, n=None):
    return lambda: np.array([float(call(a[i:i + 1] if isinstance(a, torch.Tensor) else a[i],
                                        b[i:i + 1] if isinstance(b, torch.Tensor) else b[i]))
                             for i in range(len(a) if n is None else n)])


def _flat(call):
    return lambda a, b: np.asarray(torch.as_tensor(call(a, b)).detach().double().flatten())


def _peer_batched(call, a, b):
    return lambda: _flat(call)(a, b)


VSRBENCH = {
    "psnr-y": lambda o, g: psnr(o, g, protocol="basicsr-y"),
    "psnr-rgb": lambda o, g: psnr(o, g, protocol="basicsr-rgb"),
    "ssim-y": lambda o, g: ssim(o, g, protocol="basicsr-y"),
    "ssim-rgb": lambda o, g: ssim(o, g, protocol="basicsr-rgb"),
    "lpips-alex": lambda o, g: lpips(o, g, protocol="basicsr-rgb"),  # no crop, AlexNet, v0.1
    "psnr-tecogan": lambda o, g: psnr(o, g, protocol="tecogan"),
    "ssim-tecogan": lambda o, g: ssim(o, g, protocol="tecogan"),
}
REFERENCE = {
    "psnr-y": lambda o, g: ref.basicsr_psnr(o, g, test_y_channel=True),
    "psnr-rgb": lambda o, g: ref.basicsr_psnr(o, g, test_y_channel=False),
    "ssim-y": lambda o, g: ref.basicsr_ssim(o, g, test_y_channel=True),
    "ssim-rgb": lambda o, g: ref.basicsr_ssim(o, g, test_y_channel=False),
    "psnr-tecogan": ref.tecogan_psnr,
    "ssim-tecogan": ref.tecogan_ssim,
}
# agreement with vsrbench (the same convention): PSNR in dB, SSIM and LPIPS absolute
REFERENCE_TOL = {"psnr-y": 1e-6, "psnr-rgb": 1e-6, "ssim-y": 1e-7, "ssim-rgb": 1e-7, "psnr-tecogan": 1e-6,
                 "ssim-tecogan": 1e-7}
PEER_TOL = {"psnr-y": 1e-3, "psnr-rgb": 1e-3, "ssim-y": 1e-4, "ssim-rgb": 1e-4, "lpips-alex": 1e-5}


def _lpips_model(peer: str):
    """An LPIPS peer built offline: its backbone is torchvision's AlexNet read from $TORCH_HOME (the
    alexnet_home fixture's seeded random one) and its linear layers the lpips package's file, as
    vsrbench's."""
    from vsrbench.metrics.lpips import lin_weights_path

    if peer == "torchmetrics":
        from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

        net = LearnedPerceptualImagePatchSimilarity(net_type="alex", normalize=True).net.eval()
        return lambda a, b: net(a, b, normalize=True)
    if peer == "pyiqa":
        import contextlib
        import io

        from pyiqa.archs.lpips_arch import LPIPS

        with contextlib.redirect_stdout(io.StringIO()):
            net = LPIPS(net="alex", version="0.1", pretrained_model_path=str(lin_weights_path("alex"))).eval()
        return lambda a, b: net(a, b, normalize=True)
    pytest.skip("piq's LPIPS is VGG16 only (no AlexNet backbone), not LPIPS-alex")


def _peer_call(peer: str, group: str):
    """(function of (pred, gt) float32 NCHW tensors, input kind, same convention as vsrbench?)"""
    mod = _need(peer)
    if group.endswith("tecogan"):
        pytest.skip(f"{peer} has no TecoGAN convention (centre-32 crop, float64 luma, skimage SSIM); "
                    "timed against the NumPy reference only")
    if group == "lpips-alex":
        return _lpips_model(peer), "rgb", True
    metric, color = group.split("-")
    kind = "y" if color == "y" else "rgb"
    if group == "psnr-y":  # the luma is most of PSNR-Y's work: a peer computes it from RGB itself, or is not timed
        if peer == "torchmetrics":
            pytest.skip("torchmetrics' PSNR has no luma conversion (given luma planes it would time an MSE only)")
        if peer == "piq":  # piq's own luma (0.299, 0.587, 0.114 on [0, 1]): timed, not compared
            return (lambda a, b: mod.psnr(a, b, data_range=1.0, reduction="none", convert_to_greyscale=True)), \
                "rgb", False
    if peer == "piq":
        if metric == "psnr":
            return (lambda a, b: mod.psnr(a, b, data_range=1.0, reduction="none")), kind, True
        return (lambda a, b: mod.ssim(a, b, data_range=1.0, reduction="none", downsample=False)), kind, True
    if peer == "torchmetrics":
        from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

        if metric == "psnr":
            return (lambda a, b: peak_signal_noise_ratio(a, b, data_range=1.0, reduction="none",
                                                         dim=(1, 2, 3))), kind, True
        # torchmetrics averages the SSIM map over the whole (reflect-padded) frame, BasicSR/piq/vsrbench
        # over the valid region only: another convention (about 0.02 apart on Vid4), timed, not compared
        return (lambda a, b: structural_similarity_index_measure(a, b, data_range=1.0, reduction="none")), kind, False
    # pyiqa: BasicSR's luma with color_space="ycbcr" (its default "yiq" is another convention)
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        m = mod.create_metric(metric, device="cpu", as_loss=False, test_y_channel=color == "y",
                              color_space="ycbcr")
    # pyiqa's SSIM sets a negative contrast-structure term to 0 (a ReLU): another convention, not compared
    return (lambda a, b: m(a, b)), "rgb", metric == "psnr"


@pytest.fixture
def lpips_ready(request, frames):
    """For the LPIPS group: a backbone found offline (the seeded random AlexNet) and the model loaded."""
    request.getfixturevalue("alexnet_home")
    from vsrbench.metrics.lpips import get_lpips

    get_lpips(device="cpu")


def _setup(group, request):
    if group == "lpips-alex":
        request.getfixturevalue("lpips_ready")


def _check(got, want, tol, what):
    np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=what)


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("mode", ["per-frame", "batched"])
def test_vsrbench(benchmark, frames, group, mode, request):
    _setup(group, request)
    out, gt, source = frames
    call = VSRBENCH[group]
    fn = _per_frame(call, out, gt) if mode == "per-frame" else (lambda: np.asarray(call(out, gt), dtype=np.float64))
    values = _timed(benchmark, group, f"vsrbench {mode}", fn, _per_frame(call, out, gt, 1), len(out), source)
    assert values.shape == (len(out),) and np.isfinite(values).all()
    if group in REFERENCE:  # the straightforward implementation of the same convention
        want = [REFERENCE[group](o, g) for o, g in zip(out, gt)]
        _check(values, want, REFERENCE_TOL[group], f"{group}: vsrbench {mode} vs the NumPy reference")


@pytest.mark.parametrize("group", [g for g in GROUPS if g in REFERENCE])
def test_numpy_reference(benchmark, frames, group):
    out, gt, source = frames
    values = _timed(benchmark, group, "numpy reference per-frame", _per_frame(REFERENCE[group], out, gt),
                    _per_frame(REFERENCE[group], out, gt, 1), len(out), source)
    _check(values, VSRBENCH[group](out, gt), REFERENCE_TOL[group], f"{group}: NumPy reference vs vsrbench")


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("mode", ["per-frame", "batched"])
@pytest.mark.parametrize("peer", PEERS)
def test_peer(benchmark, frames, tensors, peer, group, mode, request):
    _need(peer)
    _setup(group, request)
    call, kind, same = _peer_call(peer, group)
    out, gt, source = frames
    a, b = tensors[kind]
    with torch.inference_mode():
        fn = _per_frame(call, a, b) if mode == "per-frame" else _peer_batched(call, a, b)
        values = _timed(benchmark, group, f"{peer} {mode}", fn, _per_frame(call, a, b, 1), len(out), source)
    assert values.shape == (len(out),)
    if same:
        _check(values, VSRBENCH[group](out, gt), PEER_TOL[group], f"{group}: {peer} {mode} vs vsrbench")


def test_vsrbench_batch_equals_frames(frames):
    """A batch scores exactly as its frames one by one (the CPU path runs frame by frame)."""
    out, gt, _ = frames
    for group in ("psnr-y", "ssim-rgb", "psnr-tecogan", "ssim-tecogan"):
        call = VSRBENCH[group]
        np.testing.assert_array_equal(call(out, gt), [call(o, g) for o, g in zip(out, gt)], err_msg=group)


def test_bench_table_from_a_run(tmp_path):
    """The table of docs/performance.md: frames/s per case, vsrbench over the fastest peer per metric and mode."""
    import json

    from _support.bench_table import best_of, ratio_rows, render

    def case(group, name, seconds, frames=10):
        return {"group": group, "name": "test_x", "stats": {"min": seconds},
                "extra_info": {"case": name, "frames": frames}}

    run = {"machine_info": {"cpu": {"brand_raw": "Test CPU"}}, "datetime": "2026-11-30T22:00:00",
           "benchmarks": [case("psnr-y", "vsrbench per-frame", 0.1), case("psnr-y", "vsrbench batched", 0.05),
                          case("psnr-y", "numpy reference per-frame", 0.4), case("psnr-y", "piq per-frame", 0.2),
                          case("psnr-y", "piq batched", 0.1), case("psnr-y", "pyiqa batched", 0.025)]}
    rows = ratio_rows(run["benchmarks"])
    assert rows == [{"group": "psnr-y", "vsrbench per-frame": 100.0, "vsrbench batched": 200.0,
                     "numpy reference per-frame": 25.0, "peer per-frame": ("piq", 50.0),
                     "peer batched": ("pyiqa", 400.0), "ratio per-frame": 2.0, "ratio batched": 0.5,
                     "ratio vs numpy": 4.0}]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(run))
    text = render(json.loads(path.read_text()))
    assert "| psnr-y | 100 | 200 | piq 50 | pyiqa 400 | **2.00** | 0.50 (slower) | 25 | **4.00** |" in text
    assert "Test CPU" in text and "2026-11-30" in text
    # two runs: each case's best round counts (a slower repeat of vsrbench per frame changes nothing)
    slower = {**run, "benchmarks": [case("psnr-y", "vsrbench per-frame", 0.3), case("psnr-y", "piq per-frame", 0.1)]}
    merged = best_of([run, slower])
    assert merged["runs"] == 2
    (row,) = ratio_rows(merged["benchmarks"])
    assert row["vsrbench per-frame"] == 100.0 and row["peer per-frame"] == ("piq", 100.0) and row["ratio per-frame"] == 1.0
    assert "best round of 2 runs" in render(merged)
