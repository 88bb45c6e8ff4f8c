"""vsrbench.metrics.farneback: OpenCV's Farneback optical flow in torch, against cv2 itself.

Fidelity is checked where tOF uses the flow (real Vid4 frames from ../shared: per-pair tOF, the
TecoGAN way) and on synthetic frames that are always available (odd sizes, skipped pyramid levels,
both update filters, other parameters). OpenCV's own output varies in the last bits with the CPU's
vector unit (its filters use fused multiply-adds under AVX2), so the bounds hold with headroom:
on an AVX2 machine the flows are bit for bit OpenCV's on all these frames.

Benchmark (CPU, one calendar pair, one thread each, vsrbench vs cv2):
    pytest tests/test_farneback_torch.py --benchmark-enable --benchmark-group-by=group -k bench
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from _support.paths import shared_path
from vsrbench.core.errors import InputError
from vsrbench.metrics.farneback import FARNEBACK_GAUSSIAN, farneback
from vsrbench.metrics.spatial import center32_window

cv2 = pytest.importorskip("cv2")

TECOGAN = (0.5, 3, 15, 3, 5, 1.2)  # pyr_scale, levels, winsize, iterations, poly_n, poly_sigma
GROUP = "farneback 720x576"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small networks and ops on a shared 2-core machine


def cv_flow(a, b, params=TECOGAN, flags=0):
    return cv2.calcOpticalFlowFarneback(a, b, None, *params, flags)


def grey_frames(folder, n):
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")[:n]
    return [cv2.cvtColor(cv2.imread(str(p))[:, :, ::-1].copy(), cv2.COLOR_RGB2GRAY) for p in files]


def tof(flow_gt, flow_out):
    """TecoGAN's tOF of one pair: mean over the centre crop of |F_gt - F_out|_2 (float64)."""
    (oy, sh), (ox, sw) = center32_window(flow_gt.shape[0]), center32_window(flow_gt.shape[1])
    d = (flow_gt[oy:oy + sh, ox:ox + sw] - flow_out[oy:oy + sh, ox:ox + sw]).astype(np.float64)
    return float(np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2).mean())


def smooth_pair(h, w, dx, dy, seed):
    """Seeded smooth random texture and the same texture moved by (dx, dy) px (uint8)."""
    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.random((h + 40, w + 40)) * 255, (0, 0), 3.0)
    big = (big - big.min()) / (big.max() - big.min()) * 255
    moved = cv2.warpAffine(big, np.float32([[1, 0, dx], [0, 1, dy]]), (w + 40, h + 40), flags=cv2.INTER_CUBIC)
    cut = (slice(20, 20 + h), slice(20, 20 + w))
    return (np.clip(big[cut], 0, 255).round().astype(np.uint8), np.clip(moved[cut], 0, 255).round().astype(np.uint8))


# ------------------------------------------------------------------ real frames (tOF as TecoGAN)

@pytest.mark.parametrize("clip, pairs", [("calendar", 3), ("city", 2)])
def test_tof_per_pair_matches_opencv_on_vid4(clip, pairs):
    gt = grey_frames(shared_path("data", "vid4", "GT", clip), pairs + 1)
    out = grey_frames(shared_path("data", "vid4", "DUF-52L", clip), pairs + 1)
    prev = torch.from_numpy(np.stack(gt[:-1] + out[:-1]))
    nxt = torch.from_numpy(np.stack(gt[1:] + out[1:]))
    mine = farneback(prev, nxt).numpy()  # the 2 * pairs flows as one batch
    assert mine.shape == (2 * pairs,) + gt[0].shape + (2,) and mine.dtype == np.float32
    for t in range(pairs):
        ref_g, ref_o = cv_flow(gt[t], gt[t + 1]), cv_flow(out[t], out[t + 1])
        ours_g, ours_o = mine[t], mine[pairs + t]
        assert abs(tof(ours_g, ours_o) - tof(ref_g, ref_o)) < 1e-4, (clip, t)  # issue: 1e-3, goal 1e-4
        for ours, ref in ((ours_g, ref_g), (ours_o, ref_o)):
            d = np.abs(ours - ref)
            # measured on AVX2: 0 (bit for bit); before the last fixes 1e-8 px mean and 1.5e-3 px
            # max (ill-conditioned pixels amplify last-bit differences), hence the headroom
            assert d.mean() < 1e-5 and d.max() < 0.1, (clip, t, d.mean(), d.max())


def test_calendar_low_resolution_frames_match_opencv():
    """The 180x144 LR frames: 3 pyramid levels, the last ones at widths that are no multiple of 8."""
    lr = grey_frames(shared_path("data", "calendar"), 3)
    for a, b in zip(lr[:-1], lr[1:]):
        for flags in (0, FARNEBACK_GAUSSIAN):
            d = np.abs(farneback(a, b, flags=flags).numpy() - cv_flow(a, b, flags=flags))
            assert d.mean() < 1e-5 and d.max() < 1e-2, (flags, d.mean(), d.max())  # measured 0


# ------------------------------------------------------------------ synthetic frames

@pytest.mark.parametrize("flags", [0, FARNEBACK_GAUSSIAN])
@pytest.mark.parametrize("h, w", [(45, 67), (101, 75), (77, 130), (33, 40)])
def test_matches_opencv_on_moved_smooth_texture(h, w, flags):
    """Odd sizes: 45x67 and 33x40 skip every pyramid level (a side would fall below 32 px),
    101x75 keeps one level of three, 77x130 one (with non-integer resize ratios)."""
    a, b = smooth_pair(h, w, 0.7, -1.3, seed=h * w)
    ref = cv_flow(a, b, flags=flags)
    mine = farneback(torch.from_numpy(a), torch.from_numpy(b), flags=flags)
    assert mine.shape == (h, w, 2) and mine.dtype == torch.float32
    d = np.abs(mine.numpy() - ref)
    assert d.mean() < 1e-5 and d.max() < 1e-3, (d.mean(), d.max())  # measured 0
    inner = mine[8:-8, 8:-8].reshape(-1, 2).mean(0)  # and it is a flow: the known motion, roughly
    assert abs(inner[0] - 0.7) < 0.15 and abs(inner[1] + 1.3) < 0.15, inner


@pytest.mark.parametrize("params", [(0.6, 4, 9, 2, 7, 1.5), (0.4, 5, 21, 4, 5, 1.1), (0.75, 2, 5, 1, 3, 0.9)])
def test_matches_opencv_with_other_parameters(params):
    a, b = smooth_pair(100, 140, -2.4, 1.6, seed=7)
    for flags in (0, FARNEBACK_GAUSSIAN):
        d = np.abs(farneback(a, b, *params, flags=flags).numpy() - cv_flow(a, b, params, flags))
        assert d.mean() < 1e-5 and d.max() < 1e-3, (params, flags, d.mean(), d.max())


@pytest.mark.parametrize("h, w", [(1, 1), (1, 5), (5, 1), (7, 9), (11, 13)])
def test_tiny_frames_like_opencv(h, w):
    """Sides under 10 px: OpenCV's edge weights then fall on only some pixels (an unsigned
    comparison in its code); sides of 1 px have no bilinear neighbours."""
    rng = np.random.default_rng(h * 100 + w)
    a, b = ((rng.random((h, w)) * 255).astype(np.uint8) for _ in range(2))
    for flags in (0, FARNEBACK_GAUSSIAN):
        np.testing.assert_allclose(farneback(a, b, flags=flags).numpy(), cv_flow(a, b, flags=flags), rtol=0, atol=1e-5)


def test_large_motion_samples_outside_the_frame_like_opencv():
    a, b = smooth_pair(96, 128, 6.3, -4.8, seed=3)
    d = np.abs(farneback(a, b).numpy() - cv_flow(a, b))
    assert d.mean() < 1e-5 and d.max() < 1e-3


# ------------------------------------------------------------------ batch, dtypes, devices

def test_batch_equals_per_pair_calls():
    pairs = [smooth_pair(70, 90, dx, dy, seed=s) for s, (dx, dy) in enumerate([(0.5, 0.2), (-1.1, 2.0), (3.0, -0.4)])]
    prev = torch.from_numpy(np.stack([p[0] for p in pairs]))
    nxt = torch.from_numpy(np.stack([p[1] for p in pairs]))
    batch = farneback(prev, nxt)
    assert batch.shape == (3, 70, 90, 2)
    for i, (a, b) in enumerate(pairs):
        torch.testing.assert_close(batch[i], farneback(a, b), rtol=0, atol=1e-6)


def test_cpu_batch_in_chunks_equals_one_batch(monkeypatch):
    """Large CPU batches go through in chunks of pairs (cache-sized); the flows are the same."""
    import vsrbench.metrics.farneback as fb

    pairs = [smooth_pair(48, 60, dx, 0.5, seed=s) for s, dx in enumerate([0.3, -1.0, 2.2])]
    prev = torch.from_numpy(np.stack([p[0] for p in pairs]))
    nxt = torch.from_numpy(np.stack([p[1] for p in pairs]))
    whole = farneback(prev, nxt)
    calls = []
    real = fb._flow_batch
    monkeypatch.setattr(fb, "_flow_batch", lambda a, b, *args: calls.append(a.shape[0]) or real(a, b, *args))
    monkeypatch.setattr(fb, "_CPU_CHUNK_PIXELS", 2 * 48 * 60)
    assert torch.equal(farneback(prev, nxt), whole)
    assert calls == [2, 1]


def test_uint8_float_and_numpy_inputs_give_the_same_flow():
    a, b = smooth_pair(50, 64, 1.2, 0.3, seed=11)
    ref = farneback(torch.from_numpy(a), torch.from_numpy(b))
    assert torch.equal(farneback(torch.from_numpy(a).float(), torch.from_numpy(b).float()), ref)
    assert torch.equal(farneback(torch.from_numpy(a).double(), torch.from_numpy(b).double()), ref)
    assert torch.equal(farneback(a, b), ref)  # NumPy arrays: a CPU tensor comes back
    assert ref.device.type == "cpu"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    pairs = [smooth_pair(144, 180, 0.7, -1.3, seed=1), smooth_pair(144, 180, -2.0, 0.9, seed=2)]
    prev = torch.from_numpy(np.stack([p[0] for p in pairs]))
    nxt = torch.from_numpy(np.stack([p[1] for p in pairs]))
    for flags in (0, FARNEBACK_GAUSSIAN):
        cpu = farneback(prev, nxt, flags=flags)
        gpu = farneback(prev.cuda(), nxt.cuda(), flags=flags)
        assert gpu.device.type == "cuda" and gpu.dtype == torch.float32
        d = (gpu.cpu() - cpu).abs()
        assert float(d.max()) < 1e-3 and float(d.mean()) < 1e-6, (flags, float(d.max()), float(d.mean()))


# ------------------------------------------------------------------ bad input: one line each

@pytest.mark.parametrize("call, words", [
    (lambda a: farneback(a, a, flags=4), "OPTFLOW_USE_INITIAL_FLOW"),
    (lambda a: farneback(a, a, flags=1), "got 1"),
    (lambda a: farneback(a, a, flags=256 | 512), "got 768"),
    (lambda a: farneback(a, a[:-1]), "same shape"),
    (lambda a: farneback(a[None, None], a[None, None]), "(H, W) or (N, H, W)"),
    (lambda a: farneback(a[0], a[0]), "(H, W) or (N, H, W)"),
    (lambda a: farneback(a.int(), a.int()), "uint8 or float"),
    (lambda a: farneback([[1, 2]], [[1, 2]]), "torch tensor or NumPy array"),
    (lambda a: farneback(a, a, pyr_scale=1.0), "pyr_scale"),
    (lambda a: farneback(a, a, winsize=0), "winsize"),
    (lambda a: farneback(a[:0], a[:0]), "at least one 1x1 frame"),
])
def test_bad_input_is_one_line_error(call, words):
    a = torch.from_numpy(smooth_pair(40, 40, 0, 0, seed=0)[0])
    with pytest.raises(InputError) as e:
        call(a)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_nan_input_is_refused():
    a = torch.full((40, 40), 100.0)
    b = a.clone()
    b[3, 5] = float("nan")
    with pytest.raises(InputError, match="nxt contains NaN") as e:
        farneback(a, b)
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------ benchmark (no speed assertion)

@pytest.fixture(scope="module")
def calendar_pair():
    return tuple(grey_frames(shared_path("data", "vid4", "GT", "calendar"), 2))


@pytest.mark.benchmark(group=GROUP)
def test_bench_farneback_torch_cpu(benchmark, calendar_pair):
    a, b = (torch.from_numpy(x) for x in calendar_pair)
    flow = benchmark(farneback, a, b)
    assert flow.shape == (576, 720, 2)


@pytest.mark.benchmark(group=GROUP)
def test_bench_farneback_opencv(benchmark, calendar_pair):
    flow = benchmark(cv_flow, *calendar_pair)
    assert flow.shape == (576, 720, 2)
