"""E*warp with RAFT: Resample2d semantics, the EvalCrafter occlusion, the error's normalisation, which frame is
warped to which, the input range each convention feeds RAFT, and the scorers (seeded random RAFT weights)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from _support.raft_reference import write_weights

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.metrics import ewarp_raft as ew
from vsrbench.metrics.extension import Clip
from vsrbench.metrics.info import METRICS


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small networks, a shared machine


def _rand(shape, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32))


def _resample_np(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Resample2d written from its CUDA kernel, pixel by pixel in plain Python (small frames only)."""
    n, c, h, w = img.shape
    out = np.zeros(img.shape, np.float32)
    for b in range(n):
        for y in range(h):
            for x in range(w):
                xf = np.float32(x) + flow[b, 0, y, x]
                yf = np.float32(y) + flow[b, 1, y, x]
                al, be = float(xf - np.floor(xf)), float(yf - np.floor(yf))
                xl, xr = (min(max(int(np.floor(xf)) + d, 0), w - 1) for d in (0, 1))
                yt, yb = (min(max(int(np.floor(yf)) + d, 0), h - 1) for d in (0, 1))
                for ch in range(c):
                    v = np.float32(0)
                    for wgt, yy, xx in (((1 - al) * (1 - be), yt, xl), (al * (1 - be), yt, xr),
                                        ((1 - al) * be, yb, xl), (al * be, yb, xr)):
                        v = np.float32(v + np.float32(wgt * float(img[b, ch, yy, xx])))
                    out[b, ch, y, x] = v
    return out


def test_integer_shift_reads_the_shifted_pixel_and_clamps_at_the_border():
    img = _rand((1, 3, 6, 9))
    flow = torch.zeros(1, 2, 6, 9)
    flow[:, 0], flow[:, 1] = 2.0, -1.0
    out = ew.resample2d(img, flow)
    ys, xs = np.meshgrid(np.arange(6), np.arange(9), indexing="ij")
    want = img.numpy()[:, :, np.clip(ys - 1, 0, 5), np.clip(xs + 2, 0, 8)]
    assert np.array_equal(out.numpy(), want)


def test_subpixel_shift_is_bilinear():
    img = _rand((1, 2, 5, 7), 1)
    flow = torch.zeros(1, 2, 5, 7)
    flow[:, 0], flow[:, 1] = 0.25, 0.5
    out = ew.resample2d(img, flow).numpy()
    i = img.numpy().astype(np.float64)
    want = (0.75 * 0.5 * i[..., :-1, :-1] + 0.25 * 0.5 * i[..., :-1, 1:] + 0.75 * 0.5 * i[..., 1:, :-1]
            + 0.25 * 0.5 * i[..., 1:, 1:])
    np.testing.assert_allclose(out[..., :-1, :-1], want, atol=1e-6)


def test_resample2d_is_the_cuda_kernel_bit_for_bit_and_grid_sample_border():
    img, flow = _rand((2, 3, 7, 10), 2), (_rand((2, 2, 7, 10), 3) - 0.5) * 9
    out = ew.resample2d(img, flow)
    assert np.array_equal(out.numpy(), _resample_np(img.numpy(), flow.numpy()))
    h, w = 7, 10
    ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    grid = torch.stack([2 * (xs + flow[:, 0]) / (w - 1) - 1, 2 * (ys + flow[:, 1]) / (h - 1) - 1], -1)
    border = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)
    assert (border - out).abs().max() < 1e-5


def _moving_square():
    """A 4-px rightward move of a square: forward flow +4 on it, backward -4 where it lands."""
    h, w = 24, 32
    fw, bw = torch.zeros(1, 2, h, w), torch.zeros(1, 2, h, w)
    fw[0, 0, 8:16, 10:20] = 4.0
    bw[0, 0, 8:16, 14:24] = -4.0
    return fw, bw


def test_disocclusion_and_motion_boundaries_are_masked():
    fw, bw = _moving_square()
    occ = ew.occlusion(fw, bw)[0].numpy()
    f = fw[0, 0].numpy()
    boundary = np.zeros_like(occ)
    boundary[:, :-1] |= f[:, :-1] != f[:, 1:]
    boundary[:-1, :] |= f[:-1, :] != f[1:, :]
    covered = np.zeros_like(occ)
    covered[8:16, 20:24] = True  # background of frame 1 that the square covers in frame 2
    assert np.array_equal(occ, boundary | covered)
    assert not ew.occlusion(torch.full((1, 2, 6, 6), 2.0), torch.full((1, 2, 6, 6), -2.0)).any()


def test_masked_pixels_do_not_count():
    fw, bw = _moving_square()
    img1 = torch.full((1, 3, 24, 32), 0.2)
    img1[..., 8:16, 10:20] = 0.9
    img2 = torch.full((1, 3, 24, 32), 0.2)
    img2[..., 8:16, 14:24] = 0.9
    assert ew.warp_errors(img1, img2, fw, bw).item() == 0.0
    unmasked = ((ew.resample2d(img2, fw) - img1) ** 2).sum()
    assert unmasked > 0  # the covered pixels would count without the mask


def test_error_sums_channels_over_the_pixel_count():
    img1 = _rand((2, 3, 8, 8), 4)
    img2 = img1 + 0.1
    zero = torch.zeros(2, 2, 8, 8)
    np.testing.assert_allclose(ew.warp_errors(img1, img2, zero, zero).numpy(), 3 * 0.01, rtol=1e-5)
    np.testing.assert_allclose(ew.warp_errors(img1, img2, zero, zero, per_element=True).numpy(), 0.01, rtol=1e-5)
    away = torch.full((2, 2, 8, 8), 30.0)  # every pixel fails the forward-backward check: count 3·H·W, sum 0
    assert ew.warp_errors(img1, img2, away, away).tolist() == [0.0, 0.0]


class _FixedFlow(nn.Module):
    """A stand-in RAFT: records its inputs, returns +d px in x for the first half of the batch, -d after."""

    def __init__(self, d=2.0):
        super().__init__()
        self.p, self.d, self.seen = nn.Parameter(torch.zeros(1)), d, []

    def forward(self, a, b, iters):
        self.seen.append((a.min().item(), a.max().item(), iters))
        flow = torch.zeros(a.shape[0], 2, *a.shape[-2:])
        flow[: a.shape[0] // 2, 0], flow[a.shape[0] // 2:, 0] = self.d, -self.d
        return flow


def _panning(n=3, h=64, w=96, step=4):
    """Frames panning right by ``step`` px each (a uniform band at both sides hides the wrap-around)."""
    base = (np.random.default_rng(5).uniform(0, 255, (h, w, 3))).astype(np.uint8)
    base[:, :16] = base[:, -16:] = 128
    return [np.roll(base, step * i, axis=1) for i in range(n)]


def test_frame_t_is_warped_onto_frame_t_minus_1():
    frames = _panning()
    assert ew.ewarp_pairs(frames, _FixedFlow(2.0)) == [0.0, 0.0]  # 4 px at full size = 2 px at half size
    assert min(ew.ewarp_pairs(frames, _FixedFlow(-2.0))) > 1e-3  # warping the other way is not a match


def test_input_range_of_each_convention():
    frames = _panning(2)
    for conv, lo, hi in (("evalcrafter", -1.0, -0.99), ("raft", -1.0, 1.0)):
        m = _FixedFlow()
        ew.ewarp_pairs(frames, m, convention=conv)
        (amin, amax, iters), = m.seen
        assert iters == 20 and amin >= lo - 1e-6 and amax <= hi + 1e-6
        assert (amax - amin) > (0.5 if conv == "raft" else 0.005)


def _evalcrafter_np(img1, img2, fw, bw) -> float:
    """EvalCrafter's detect_occlusion + error for one pair, in NumPy as the original (channels last, float32
    flows, float64 gradient energy), with the pixel-loop Resample2d above."""
    fw_w = _resample_np(bw[None], fw[None])[0].transpose(1, 2, 0)  # the backward flow warped by the forward one
    warp2 = _resample_np(img2[None], fw[None])[0]
    f = fw.transpose(1, 2, 0)
    mag = lambda v: v[:, :, 0] ** 2 + v[:, :, 1] ** 2  # noqa: E731
    mask1 = mag(fw_w + f) > 0.01 * (mag(fw_w) + mag(f)) + 0.5
    h, w = f.shape[:2]
    g = {k: np.zeros((h, w)) for k in ("xu", "xv", "yu", "yv")}
    for c, (u, v) in enumerate((("xu", "xv"), ("yu", "yv"))):
        g[u][:, :-1] = f[:, :-1, c] - f[:, 1:, c]
        g[v][:-1, :] = f[:-1, :, c] - f[1:, :, c]
    mask2 = (g["xu"] ** 2 + g["xv"] ** 2) + (g["yu"] ** 2 + g["yv"] ** 2) > 0.01 * mag(f) + 0.002
    noc = 1.0 - np.logical_or(mask1, mask2)
    diff = (warp2 - img1) * noc
    return float((diff.astype(np.float64) ** 2).sum() / (noc.sum() or diff.size))


class _SmoothFlow(nn.Module):
    """A stand-in RAFT with sub-pixel flows: smooth forward flows, backward flows their negative except in a
    block (there the forward-backward check fails), plus a term of the input so the frames matter."""

    def __init__(self):
        super().__init__()
        self.p = nn.Parameter(torch.zeros(1))

    def forward(self, a, b, iters):
        n, _, h, w = a.shape
        ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
        base = torch.stack([1.5 * torch.sin(xs / 20), 0.7 * torch.cos(ys / 20)])[None] + 0.02 * (a - b)[:, :2]
        fw = base[: n // 2]
        bw = -base[: n // 2].clone()
        bw[..., 4:12, 6:14] += 3.0
        return torch.cat([fw, bw])


def test_pipeline_matches_a_numpy_transcription_of_evalcrafter():
    model = _SmoothFlow()
    frames = _panning(3, 44, 60)  # half size 22x30: padded by one row/column on each side to 24x32
    got = ew.ewarp_pairs(frames, model, batch=2)
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.0
    x = F.pad(F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False), (1, 1, 1, 1), mode="replicate")
    a, b = x[:-1], x[1:]
    flows = model(2 * (torch.cat([a, b]) / 255.0) - 1.0, 2 * (torch.cat([b, a]) / 255.0) - 1.0, 20).numpy()
    want = [_evalcrafter_np(a[i].numpy(), b[i].numpy(), flows[i], flows[2 + i]) for i in range(2)]
    assert all(v > 1e-3 for v in want)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    occ = ew.occlusion(torch.from_numpy(flows[:2]), torch.from_numpy(flows[2:]))
    assert 0.02 < occ.float().mean() < 0.5  # some pixels masked, most not


@pytest.fixture
def weights_home(tmp_path, monkeypatch):
    write_weights(tmp_path / "raft-things.pth")
    monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path))
    return tmp_path


def _clip(frames, options=None, idx=None, weights=None):
    return Clip(name="pan", pred=frames, gt=None, frames=tuple(range(len(frames))) if idx is None else idx,
                protocol=None, options=options or {}, weights=weights or {})


def test_scorers_write_pair_t_at_t(weights_home):
    # random weights: flows of ~10 px that fail the forward-backward check nearly everywhere, so only the
    # rows' placement and finiteness say something here; the values are checked with zero flows below
    frames = _panning(4, 48, 64)
    ec = ew.score_evalcrafter(_clip(frames, {"batch": 2}))
    rf = ew.score_raft(_clip(frames))
    assert [t for t, _ in ec] == [1, 2, 3] == [t for t, _ in rf]
    assert all(np.isfinite(v) and v >= 0 for _, v in ec + rf)
    gap = ew.score_raft(_clip(frames, idx=(0, 1, 3)))  # only the pair (0, 1) is consecutive
    assert [t for t, _ in gap] == [1]


def test_with_zero_flow_the_conventions_are_the_frame_difference_and_its_third(tmp_path):
    from _support.raft_reference import original_layout, random_state_dict

    from vsrbench.core.weights import accept_unverified

    sd = random_state_dict()
    for k in ("update_block.flow_head.conv2.weight", "update_block.flow_head.conv2.bias"):
        sd[k] = torch.zeros_like(sd[k])  # no update: the flow stays 0 whatever the input range
    path = tmp_path / "zero.pth"
    torch.save(original_layout(sd), path)
    accept_unverified(path)
    frames = _panning(4, 44, 60)
    w = {"raft-things": path}
    ec = [v for _, v in ew.score_evalcrafter(_clip(frames, {"batch": 2}, weights=w))]
    one = [v for _, v in ew.score_evalcrafter(_clip(frames, {"batch": 1}, weights=w))]
    rf = [v for _, v in ew.score_raft(_clip(frames, weights=w))]
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).double() / 255.0
    x = F.pad(F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False), (1, 1, 1, 1), mode="replicate")
    want = ((x[1:] - x[:-1]) ** 2).sum(1).mean((1, 2)).numpy()  # 3 channels summed, over the (padded) pixels
    assert min(want) > 1e-3
    np.testing.assert_allclose(ec, want, rtol=1e-5)
    np.testing.assert_allclose(one, ec, rtol=1e-6)
    np.testing.assert_allclose(rf, want / 3, rtol=1e-5)


def test_scorer_errors_are_one_line(weights_home):
    frames = _panning(2, 48, 64)
    with pytest.raises(UnknownNameError, match="raft_weights"):
        ew.score_raft(_clip(frames, {"raft_weight": "raft-things"}))
    with pytest.raises(UnknownNameError, match="raft-things"):
        ew.score_raft(_clip(frames, {"raft_weights": "raft-thing"}))
    with pytest.raises(InputError, match="two consecutive"):
        ew.score_raft(_clip(frames[:1]))
    with pytest.raises(InputError, match="one size"):
        ew.score_raft(_clip([frames[0], frames[1][:40]]))
    with pytest.raises(InputError, match="at least"):
        ew.score_raft(_clip([f[:16, :16] for f in frames]))


def test_metric_entries():
    for name in ("ewarp-evalcrafter", "ewarp-raft"):
        info = METRICS[name]
        assert info.family == "ewarp" and info.temporal and not info.reference and not info.higher_is_better
        assert info.weights == ("raft-things",) and info.display == (1e3, "x10^-3")
        assert info.scorer == f"vsrbench.metrics.ewarp_raft:score_{name.split('-')[1]}"


@pytest.mark.parametrize("hw", [(270, 480), (576, 720)], ids=["480x270", "720x576"])
def test_bench_ewarp_raft_cpu(benchmark, request, tmp_path, hw):
    """CPU frames/s of ``ewarp-raft`` (seeded random weights: speed does not depend on them), one intra-op
    thread (this module's fixture). Timed only with ``--benchmark-enable`` (4 frames = 3 pairs, one round);
    otherwise one untimed run on 3 frames of 48x64."""
    from vsrbench.metrics.raft import load_raft

    untimed = request.config.getoption("benchmark_disable", False) and not request.config.getoption(
        "benchmark_enable", False)
    if untimed and hw != (270, 480):
        pytest.skip("untimed (--benchmark-disable): the one small case of the first size is enough")
    model = load_raft(write_weights(tmp_path / "raft-things.pth"))
    n, (h, w) = (3, (48, 64)) if untimed else (4, hw)
    rng = np.random.default_rng(7)
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]
    benchmark.group = "ewarp-raft-cpu"
    benchmark.extra_info.update(frames=n, size=f"{w}x{h}", threads=torch.get_num_threads())
    values = benchmark.pedantic(ew.ewarp_pairs, args=(frames, model), kwargs={"convention": "raft"},
                                rounds=1, iterations=1)
    assert len(values) == n - 1 and all(np.isfinite(values))
    if not untimed:
        benchmark.extra_info["frames_per_s"] = (n - 1) / benchmark.stats.stats.mean


def test_evaluate_many_scores_both_variants_from_the_output_alone(tmp_path):
    from vsrbench.evaluate import evaluate_many
    from vsrbench.metrics.protocol import get_protocol

    path = write_weights(tmp_path / "weights.pth")
    frames = _panning(6, 40, 56)
    gt = [np.zeros_like(f) for f in frames]  # E*warp never reads the GT: a black one changes nothing
    res = evaluate_many({"m": frames}, gt, protocol="tecogan", metrics=["ewarp-evalcrafter", "ewarp-raft"],
                        device="cpu", weights={"raft-things": path})["m"]
    scored = get_protocol("tecogan").scored_frames(6)
    want = [t for t in scored if t - 1 in scored]
    for m in ("ewarp-evalcrafter", "ewarp-raft"):
        assert [t for t, name, _ in res.rows if name == m] == want
    direct = ew.score_raft(_clip(frames, idx=tuple(scored), weights={"raft-things": path}))
    assert [v for _, name, v in res.rows if name == "ewarp-raft"] == pytest.approx([v for _, v in direct], rel=1e-6)
