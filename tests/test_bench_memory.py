"""Bounded memory for large frames: PSNR, SSIM and tOF's flow difference in strips of rows give the
numbers of the whole frame, and the peak memory of scoring 4K frames (a pytest-benchmark case).

pyproject's ``addopts`` has ``--benchmark-disable``: in the normal suite the benchmark scores small
frames once (the machinery only). To measure at 4K:

    pytest tests/test_bench_memory.py --benchmark-enable

The peak resident memory (``ru_maxrss`` of the scoring process) is in the benchmark's ``extra_info``.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from vsrbench import evaluate as ev
from vsrbench.evaluate import evaluate_sequence, flow_slots
from vsrbench.metrics import spatial
from vsrbench.metrics.protocol import get_protocol
from vsrbench.metrics.spatial import _prepare_cpu, scores_u8
from vsrbench.metrics.temporal import flow_difference

# (protocol, overrides): TecoGAN (centre crop, uniform 7x7 window, the output's luma range, float64 luma),
# BasicSR's Gaussian 11x11 window on float32 luma and on RGB, with and without a border crop, and DUF
PROTOCOLS = [("tecogan", {}), ("basicsr-y", {}), ("basicsr-y", {"crop_border": 4}), ("basicsr-rgb", {"crop_border": 3}),
             ("duf", {})]
SIZES = [(97, 131), (203, 77), (64, 61)]  # odd sizes: the last strip is short, the crops uneven
ROWS = [1, 2, 5, 6, 11, 13, 64]  # strips thinner than SSIM's window, its radius, its size, and larger


def frames(rng, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    g = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    p = np.clip(g.astype(np.int16) + rng.integers(-25, 26, g.shape), 0, 255).astype(np.uint8)
    return p, g


@pytest.mark.parametrize("name,overrides", PROTOCOLS, ids=[f"{n}{o or ''}" for n, o in PROTOCOLS])
@pytest.mark.parametrize("h,w", SIZES)
def test_strips_give_the_whole_frames_numbers(rng, name, overrides, h, w):
    proto = get_protocol(name, **overrides)
    p, g = frames(rng, h, w)
    (pc,), (gc,) = _prepare_cpu(p, g, proto)
    whole = scores_u8(pc, gc, proto, ("psnr", "ssim"), rows=pc.shape[0])
    assert whole == {"psnr": spatial.psnr(p, g, protocol=proto), "ssim": spatial.ssim(p, g, protocol=proto)}
    for rows in ROWS:
        got = scores_u8(pc, gc, proto, ("psnr", "ssim"), rows=rows)
        assert got["psnr"] == pytest.approx(whole["psnr"], rel=0, abs=1e-12), rows
        assert got["ssim"] == pytest.approx(whole["ssim"], rel=0, abs=1e-12), rows


def test_strips_of_tecogan_ssim_against_scikit_image(rng):
    """An independent check: TecoGAN's SSIM is scikit-image's on float64 luma (range: the output's luma)."""
    proto = get_protocol("tecogan")
    p, g = frames(rng, 203, 131)
    (pc,), (gc,) = _prepare_cpu(p, g, proto)

    def luma(x):
        x = x.astype(np.float64)
        return 16.0 + (spatial.Y_COEFFS[0] * x[..., 0] + spatial.Y_COEFFS[1] * x[..., 1] + spatial.Y_COEFFS[2] * x[..., 2])

    yp, yg = luma(pc), luma(gc)
    want = structural_similarity(yg, yp, data_range=yp.max() - yp.min())
    assert scores_u8(pc, gc, proto, ("ssim",), rows=7)["ssim"] == pytest.approx(want, rel=0, abs=1e-12)


@pytest.mark.parametrize("name,overrides", [("tecogan", {}), ("basicsr-y", {"crop_border": 5})])
@pytest.mark.parametrize("rows", [1, 3, 17, 1000])
def test_flow_difference_in_strips(rng, name, overrides, rows):
    proto = get_protocol(name, **overrides)
    fg = rng.normal(0, 3, (101, 83, 2)).astype(np.float32)
    fp = (fg + rng.normal(0, 0.5, fg.shape)).astype(np.float32)
    whole = flow_difference(fg, fp, proto)
    d = (spatial.crop_hw(fg, proto) - spatial.crop_hw(fp, proto)).astype(np.float64)  # float32 difference
    assert whole == pytest.approx(float(np.hypot(d[..., 0], d[..., 1]).mean()), rel=0, abs=1e-12)
    assert flow_difference(fg, fp, proto, rows=rows) == pytest.approx(whole, rel=0, abs=1e-12)


def sequence(rng, n: int, h: int, w: int) -> tuple[list, list]:
    base = rng.integers(0, 256, (h + 2 * n, w + 2 * n, 3), dtype=np.uint8)
    gt = [np.ascontiguousarray(base[2 * i:2 * i + h, i:i + w]) for i in range(n)]
    out = [np.clip(f.astype(np.int16) + rng.integers(-20, 21, f.shape), 0, 255).astype(np.uint8) for f in gt]
    return out, gt


def test_the_pipeline_in_strips_and_one_flow_at_a_time_gives_the_same_rows(rng, monkeypatch):
    """The pipeline as it runs on 8K frames (strips, one flow at a time, nothing decoded ahead), forced on
    small frames, against the same pipeline on whole frames."""
    out, gt = sequence(rng, 6, 99, 133)
    kw = dict(protocol="tecogan", metrics=["psnr", "ssim", "tof"], device="cpu", pipeline="frames")
    whole = evaluate_sequence(out, gt, **kw).rows
    monkeypatch.setattr(spatial, "STRIP_PIXELS", 1000)  # strips of 64 rows
    monkeypatch.setattr(ev, "LARGE_FRAME", 1000)
    monkeypatch.setattr(ev, "FLOW_MEMORY", 1)  # one flow at a time
    assert ev.flow_slots(99 * 133) == 1
    strips = evaluate_sequence(out, gt, **kw).rows
    assert [r[:2] for r in strips] == [r[:2] for r in whole]
    for (t, m, a), (_, _, b) in zip(strips, whole):
        assert a == pytest.approx(b, rel=0, abs=1e-12), (t, m)


def test_flows_at_once_by_frame_size():
    assert [flow_slots(w * h) for w, h in [(1280, 720), (1920, 1080), (3840, 2160), (7680, 4320)]] == [4, 4, 2, 1]


PEAK = r"""
import json, resource, sys
import numpy as np
from vsrbench.evaluate import evaluate_sequence
from vsrbench.metrics.protocol import get_protocol
h, w = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
base = rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
gt = [np.ascontiguousarray(base[i:i + h, 2 * i:2 * i + w]) for i in range(3)]
out = [np.clip(f.astype(np.int16) + rng.integers(-6, 7, f.shape), 0, 255).astype(np.uint8) for f in gt]
del base
rows = evaluate_sequence(out, gt, protocol=get_protocol("tecogan", cut_frames=0), metrics=["psnr", "ssim", "tof"], device="cpu",
                         pipeline="frames", workers=4, name="s").rows
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": len(rows)}))
"""


def peak_rss(h: int, w: int) -> dict:
    """Score 3 synthetic (h, w) frames (psnr, ssim, tof under tecogan without its frame cut) in a fresh
    process; its peak resident memory in MB."""
    done = subprocess.run([sys.executable, "-c", PEAK, str(h), str(w)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.benchmark(group="peak memory: psnr, ssim, tof on 3 frames")
def test_bench_peak_memory_4k(benchmark):
    h, w = (180, 320) if benchmark.disabled else (2160, 3840)  # disabled (the normal suite): the machinery only
    result = benchmark.pedantic(peak_rss, args=(h, w), rounds=1, iterations=1)
    benchmark.extra_info.update(size=f"{w}x{h}", peak_rss_mb=round(result["peak_mb"]))
    assert result["rows"] == 3 + 3 + 2  # psnr and ssim of 3 frames, tof of 2 pairs
    if not benchmark.disabled:
        assert result["peak_mb"] < 2600  # 4K: ~2.1 GB measured from PNG files (3.0 GB before)
