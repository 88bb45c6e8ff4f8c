"""The batched (GPU) pipeline and the torch-flow protocol ``tecogan-gpu``.

``evaluate_many(..., pipeline="batched")`` scores chunks of frames as batched tensor operations; on
CPU it runs the same code as on CUDA, so it is checked here against the frame-by-frame pipeline
(itself checked against the straightforward loop and the published code elsewhere): the same rows,
chunk boundaries inside the sequence included. ``grey_batch`` is checked against OpenCV on every
8-bit colour. The CUDA tests run where a device is present.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from _support.paths import shared_path
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.evaluate import evaluate_many, evaluate_sequence
from vsrbench.core.io import open_sequence
from vsrbench.metrics import get_protocol
from vsrbench.metrics._kernels import grey_batch
from vsrbench.speed import synthetic_pair, write_random_backbone

ALL = ["psnr", "ssim", "lpips", "tof", "tlp", "ewarp"]


@pytest.fixture(scope="module")
def backbone(tmp_path_factory):
    return str(write_random_backbone(tmp_path_factory.mktemp("alex")))


def _rows(scores) -> dict:
    return {(f, m): v for f, m, v in scores.rows}


def _same(a, b, tol: float = 0.0) -> None:
    ra, rb = _rows(a), _rows(b)
    assert sorted(ra) == sorted(rb)
    for k in ra:
        if np.isinf(ra[k]):
            assert ra[k] == rb[k], k
        else:
            assert abs(ra[k] - rb[k]) <= tol * max(1.0, abs(ra[k])), (k, ra[k], rb[k])


def test_grey_batch_is_opencv_on_every_colour():
    r, g, b = np.meshgrid(np.arange(256), np.arange(256), np.arange(256), indexing="ij")
    cube = np.stack([r, g, b], -1).reshape(4096, 4096, 3).astype(np.uint8)
    ours = grey_batch(torch.from_numpy(cube).permute(2, 0, 1)[None])[0].numpy()
    assert np.array_equal(ours, cv2.cvtColor(cube, cv2.COLOR_RGB2GRAY))


@pytest.fixture(scope="module")
def synthetic():
    gt, out = synthetic_pair(9, size=(96, 128), seed=3)
    blurred = [cv2.GaussianBlur(f, (0, 0), 1.3) for f in gt]
    bigger = [cv2.resize(f, (136, 100), interpolation=cv2.INTER_CUBIC) for f in out]  # cut by crop-pred
    return gt, {"noisy": out, "blurred": blurred, "bigger": bigger}


@pytest.mark.parametrize("chunk", [1, 3, 16])
def test_batched_equals_frames_on_synthetic_frames(synthetic, backbone, chunk):
    gt, outs = synthetic
    with pytest.warns(Warning, match="top-left 128x96"):
        a = evaluate_many(outs, gt, metrics=ALL, device="cpu", lpips_weights=backbone, pipeline="frames")
    with pytest.warns(Warning, match="top-left 128x96"):
        b = evaluate_many(outs, gt, metrics=ALL, device="cpu", lpips_weights=backbone, pipeline="batched", chunk=chunk)
    for k in outs:
        # LPIPS's convolutions may sum in another order for another batch size: 1e-6 relative
        _same(a[k], b[k], tol=1e-6)
        assert len(b[k].rows) == 3 * 5 + 3 * 4  # 5 scored frames (9 - 2 cut at each end): 4 pairs


@pytest.mark.parametrize("protocol", ["basicsr-y", "basicsr-rgb", "duf", "basicsr-y/center"])
def test_batched_equals_frames_under_other_protocols(synthetic, protocol):
    gt, outs = synthetic
    name, _, centre = protocol.partition("/")
    proto = get_protocol(name, frames_scored="center") if centre else get_protocol(name)
    sub = {"noisy": outs["noisy"], "blurred": outs["blurred"]}
    metrics = ["psnr", "ssim"] if proto.frames_scored == "center" else ["psnr", "ssim", "tof"]
    a = evaluate_many(sub, gt, protocol=proto, metrics=metrics, device="cpu", pipeline="frames")
    b = evaluate_many(sub, gt, protocol=proto, metrics=metrics, device="cpu", pipeline="batched", chunk=2)
    for k in sub:
        _same(a[k], b[k], tol=1e-12)  # tOF's mean sums in another order


def test_batched_identical_frames_score_inf(synthetic):
    gt, _ = synthetic
    s = evaluate_sequence(gt, gt, metrics=["psnr", "tof"], device="cpu", pipeline="batched", chunk=2)
    assert all(np.isinf(v) for _, m, v in s.rows if m == "psnr")
    assert [v for _, m, v in s.rows if m == "tof"] == [0.0] * 4


def test_batched_refuses_frames_of_two_sizes(synthetic):
    gt, outs = synthetic
    odd = list(outs["noisy"])
    odd[4] = odd[4][:90]
    with pytest.raises(InputError, match="frames of a sequence must have one size"):
        evaluate_sequence(odd, gt, metrics=["psnr"], device="cpu", pipeline="batched", chunk=16)


def test_unknown_pipeline_and_bad_chunk(synthetic):
    gt, outs = synthetic
    with pytest.raises(UnknownNameError, match="did you mean 'batched'"):
        evaluate_sequence(outs["noisy"], gt, metrics=["psnr"], device="cpu", pipeline="batchd")
    with pytest.raises(InputError, match="chunk: expected a number of frames >= 1, got 0"):
        evaluate_sequence(outs["noisy"], gt, metrics=["psnr"], device="cpu", pipeline="batched", chunk=0)


def test_batched_equals_frames_on_vid4_calendar():
    gt = open_sequence(shared_path("data", "vid4", "GT", "calendar"))
    out = open_sequence(shared_path("data", "vid4", "DUF-52L", "calendar"))
    metrics = ["psnr", "ssim", "tof", "ewarp"]  # LPIPS/tLP: on the synthetic frames (CPU time)
    a = evaluate_sequence(out, gt, metrics=metrics, device="cpu", pipeline="frames")
    b = evaluate_sequence(out, gt, metrics=metrics, device="cpu", pipeline="batched", chunk=4)
    _same(a, b, tol=1e-12)


def test_tecogan_gpu_differs_from_tecogan_only_in_the_flow():
    a, b = get_protocol("tecogan").to_dict(), get_protocol("tecogan-gpu").to_dict()
    diff = {k for k in a if a[k] != b[k]}
    assert diff == {"name", "flow"} and b["flow"] == "farneback-torch"
    assert get_protocol("tecogan").hash != get_protocol("tecogan-gpu").hash
    assert get_protocol("tecogan").hash == "4af09ddd6ed8"  # the stored tecogan results stay valid


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("protocol", ["tecogan", "tecogan-gpu"])
def test_cuda_batched_equals_cpu_frames(backbone, protocol):
    gt = open_sequence(shared_path("data", "vid4", "GT", "calendar"))
    out = open_sequence(shared_path("data", "vid4", "DUF-52L", "calendar"))
    a = evaluate_sequence(out, gt, protocol=protocol, metrics=ALL, device="cpu", lpips_weights=backbone,
                          pipeline="frames")
    b = evaluate_sequence(out, gt, protocol=protocol, metrics=ALL, device="cuda", lpips_weights=backbone)
    ra, rb = _rows(a), _rows(b)
    assert sorted(ra) == sorted(rb)
    # the torch flow on CUDA agrees with OpenCV's to ~1e-7 px (docs/performance.md); LPIPS in IEEE fp32 to ~1e-7
    tol = {"psnr": 1e-9, "ssim": 1e-9, "lpips": 1e-6, "tlp": 1e-4, "tof": 1e-4, "ewarp": 1e-6}
    for (f, m), v in ra.items():
        assert abs(v - rb[(f, m)]) <= tol[m], (f, m, v, rb[(f, m)])


def test_the_gpu_window_filter_equals_the_cpu_one():
    """SSIM's window means on a GPU are shifted multiply-adds (spatial._separable_valid); the same
    function runs on CPU tensors here, against OpenCV's valid-region filter (spatial.valid_filter)."""
    from vsrbench.metrics.spatial import _separable_valid, gaussian_taps, valid_filter

    x = torch.from_numpy(np.random.default_rng(5).uniform(0, 255, (2, 3, 41, 57)))
    for taps in (np.full(7, 1 / 7), gaussian_taps(11, 1.5)):
        a = _separable_valid(x, taps)
        b = torch.from_numpy(np.stack([[valid_filter(x[n, c].numpy(), taps) for c in range(3)] for n in range(2)]))
        assert a.shape == b.shape == (2, 3, 41 - len(taps) + 1, 57 - len(taps) + 1)
        assert torch.allclose(a, b, rtol=1e-13, atol=1e-10)


@pytest.mark.gpu
@needs_cuda
def test_cuda_graph_flows_equal_eager_launches(monkeypatch):
    """On CUDA the torch Farneback is captured as a CUDA graph per batch shape and replayed: the same
    kernels on the same data, so the same bits as launching them one by one."""
    from vsrbench.metrics import farneback as fb

    gt, out = synthetic_pair(6, size=(96, 128), seed=8)
    g = torch.from_numpy(np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in gt + out])).cuda()
    a, b = g[:-1], g[1:]
    monkeypatch.setenv("VSRBENCH_CUDA_GRAPHS", "0")
    eager = fb.farneback(a, b)
    monkeypatch.setenv("VSRBENCH_CUDA_GRAPHS", "1")
    first = fb.farneback(a, b)  # captured
    again = fb.farneback(b, a)  # replayed with other data
    assert not fb._GRAPHS_FAILED, fb._GRAPHS_FAILED
    assert any(k[1] == tuple(a.shape) for k in fb._GRAPHS)
    assert torch.equal(first, eager)
    monkeypatch.setenv("VSRBENCH_CUDA_GRAPHS", "0")
    assert torch.equal(again, fb.farneback(b, a))
