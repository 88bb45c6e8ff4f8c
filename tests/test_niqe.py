"""NIQE's four flavours against the code each reproduces.

- ``basicsr``: BasicSR's NumPy ``calculate_niqe`` as of v1.3.3.10 (XPixelGroup/BasicSR tag v1.3.3.10,
  commit 798ca1e, ``basicsr/metrics/niqe.py``; OpenCV bilinear half-size resize), and ``basicsr-bicubic``:
  the same function since v1.3.3.11 (commit 8d56e3a; its MATLAB-like torch ``imresize``, rounded luma).
  basicsr is not a dependency (nor installable here without its requirements), so its values are goldens
  (``tests/golden/niqe_basicsr.json``, ``niqe_basicsr_bicubic.json``), computed at development time by
  running that file from a snapshot of the repository, with the command and library versions recorded in
  the JSON, on real Vid4 frames and on the synthetic frames of :func:`synthetic_frame` (integer NumPy
  arithmetic: the same bytes on any machine). Tolerance 1e-6.
- ``pyiqa``: pyiqa's torch ``NIQE`` arch (``pyiqa/archs/niqe_arch.py``; installed without its
  requirements), run here on the same frames with the same pristine parameters (written to a ``.mat``
  file as its ``pretrained_model_path``, since it downloads its own at run time). Tolerance 1e-6.
- ``matlab``: the MATLAB release. pyiqa publishes the values MATLAB's code gives on five TID2013 images
  (chaofengc/IQA-PyTorch ``ResultsCalibra/results_official.csv``); they are not in the repository, so the
  end-to-end check runs where ``VSRBENCH_NIQE_CALIBRA`` names a folder holding ``I04.bmp`` (skipped
  otherwise). At development time: I04 agrees to 2.4e-13; I03, I06, I08, I19 differ by 2e-4 to 0.13, all
  images with exactly flat 7x7 regions, where the local deviation is floating-point noise and the result
  depends on the order of the filter's sums (pyiqa's own port differs from MATLAB by up to 0.47 there).
  The parts are checked here: the half-size resize against vsrbench's MATLAB ``imresize``
  (baselines/resize.py, tested against MATLAB's contribution formula), ``rgb2gray`` by hand.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from _support.lpips_reference import import_lpips
from _support.paths import SHARED

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.metrics import niqe as N
from vsrbench.metrics.niqe import niqe, pristine_params

TOL = 1e-6
GOLDENS = {"basicsr": Path(__file__).parent / "golden" / "niqe_basicsr.json",
           "basicsr-bicubic": Path(__file__).parent / "golden" / "niqe_basicsr_bicubic.json"}
# the real frames of the goldens: (folder under ../shared/data/vid4, file)
REAL = {"gt-calendar-001": ("GT/calendar", "Frame 001.png"), "duf52-walk-010": ("DUF-52L/walk", "Frame010.png"),
        "duf16-foliage-008": ("DUF-16L/foliage", "Frame008.png")}
SYNTHETIC = {"synthetic-200x300": (1, (200, 300)), "synthetic-288x400": (2, (288, 400))}
MATLAB_I04 = 3.65492152353770  # chaofengc/IQA-PyTorch ResultsCalibra/results_official.csv, row niqe, I04.bmp


def synthetic_frame(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """A textured RGB uint8 frame from integer arithmetic only: 4x4 blocks of random colours, a ramp,
    and random noise of +-12 levels."""
    rng = np.random.default_rng(seed)
    h, w = shape
    coarse = rng.integers(0, 256, (h // 4 + 1, w // 4 + 1, 3))
    img = np.repeat(np.repeat(coarse, 4, 0), 4, 1)[:h, :w]
    img = (img * 3 + np.arange(w)[None, :, None] % 64 + rng.integers(-12, 13, (h, w, 3))) // 4 + 32
    return np.clip(img, 0, 255).astype(np.uint8)


def _real(name: str) -> np.ndarray:
    from vsrbench.core.io import decode_image

    folder, file = REAL[name]
    p = SHARED / "data" / "vid4" / folder / file
    if not p.is_file():
        pytest.skip(f"needs {p} (the team's shared Vid4 frames)")
    return decode_image(p)


def _frame(name: str) -> np.ndarray:
    return synthetic_frame(*SYNTHETIC[name]) if name in SYNTHETIC else _real(name)


# ------------------------------------------------------------------ the pristine model

def test_pristine_params_are_the_basicsr_file():
    mu, cov, win = pristine_params()
    assert mu.shape == (36,) and cov.shape == (36, 36) and win.shape == (7, 7)
    np.testing.assert_array_equal(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > 0
    y, x = np.mgrid[-3:4, -3:4]
    g = np.exp(-(x * x + y * y) / (2 * (7 / 6) ** 2))
    np.testing.assert_allclose(win, g / g.sum(), rtol=0, atol=1e-16)  # MATLAB's fspecial('gaussian', 7, 7/6)
    path = Path(N.__file__).resolve().parents[1] / "vsrbench" / "data" / "niqe_pris_params.npz"
    with np.load(path) as p:
        assert N.PARAMS_SOURCE in str(p["source"])


# ------------------------------------------------------------------ basicsr: BasicSR v1.3.3.10's goldens

def _golden(variant: str) -> dict:
    return json.loads(GOLDENS[variant].read_text())


@pytest.mark.parametrize("variant", ["basicsr", "basicsr-bicubic"])
@pytest.mark.parametrize("name", [*REAL, *SYNTHETIC])
def test_basicsr_against_its_numpy_code(name, variant):
    want = _golden(variant)["values"][name]
    frame = _frame(name)
    assert niqe(frame, variant=variant) == pytest.approx(want["crop_border=0"], abs=TOL)
    if "crop_border=4" in want:
        assert niqe(frame, variant=variant, crop_border=4) == pytest.approx(want["crop_border=4"], abs=TOL)


@pytest.mark.parametrize("variant, commit", [("basicsr", "798ca1e654df4382db263fa59ed936ac3cf2bd6d"),
                                             ("basicsr-bicubic", "8d56e3a045f9fb3e1d8872f92ee4a4f07f886b0a")])
def test_golden_records_how_it_was_made(variant, commit):
    g = _golden(variant)
    assert commit in g["reference"] and "calculate_niqe" in g["command"]
    assert set(g["values"]) == set(REAL) | set(SYNTHETIC)


# ------------------------------------------------------------------ pyiqa: its torch code, run here

@pytest.fixture(scope="module")
def pyiqa_niqe(tmp_path_factory):
    """pyiqa's NIQE arch with vsrbench's pristine parameters (it would download its own .mat)."""
    import importlib.util

    if importlib.util.find_spec("pyiqa") is None:
        pytest.skip("pyiqa is not installed: pip install --no-deps pyiqa && "
                    "pip install pyyaml requests huggingface_hub")
    import_lpips()  # torchvision on a CPU-only machine (see _support.lpips_reference.import_lpips)
    import scipy.io

    mu, cov, _ = pristine_params()
    mat = tmp_path_factory.mktemp("niqe") / "niqe_modelparameters.mat"
    scipy.io.savemat(mat, {"mu_prisparam": mu[None], "cov_prisparam": cov})
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyiqa.archs.niqe_arch import NIQE

        model = NIQE(pretrained_model_path=str(mat)).eval()

    return _PyiqaNiqe(model)


class _PyiqaNiqe:
    """pyiqa's model on RGB uint8 frames (its input: float32 RGB in [0, 1])."""

    def __init__(self, model):
        self.model = model

    def __call__(self, frame: np.ndarray, crop_border: int = 0) -> float:
        return float(self.batch(frame[None], crop_border)[0])

    def batch(self, frames: np.ndarray, crop_border: int = 0) -> np.ndarray:
        self.model.crop_border = crop_border
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
        with torch.no_grad():
            return self.model(x).double().flatten().numpy()


@pytest.mark.parametrize("name", ["duf52-walk-010", "gt-calendar-001", *SYNTHETIC])
def test_pyiqa_against_its_torch_code(pyiqa_niqe, name):
    frame = _frame(name)
    want = pyiqa_niqe(frame)
    assert niqe(frame, variant="pyiqa") == pytest.approx(want, abs=TOL)


def test_pyiqa_flat_regions(pyiqa_niqe):
    """Constant 7x7 windows: the local deviation there is the rounding noise of the filter's sums, which
    decides the normalised values; vsrbench gives those pixels torch's float64 filter values, as pyiqa."""
    frame = synthetic_frame(4, (288, 384))
    frame[:100, :200] = 255
    frame[150:250, 100:300] = (40, 90, 200)
    frame[200:, 300:] = 0
    assert niqe(frame, variant="pyiqa") == pytest.approx(pyiqa_niqe(frame), abs=TOL)


def test_pyiqa_crop_border(pyiqa_niqe):
    frame = synthetic_frame(5, (200, 210))
    assert niqe(frame, variant="pyiqa", crop_border=3) == pytest.approx(pyiqa_niqe(frame, 3), abs=TOL)


# ------------------------------------------------------------------ matlab: published values, parts

def test_matlab_published_value():
    folder = os.environ.get("VSRBENCH_NIQE_CALIBRA")
    if not folder or not (Path(folder) / "I04.bmp").is_file():
        pytest.skip("set VSRBENCH_NIQE_CALIBRA to a folder holding I04.bmp of chaofengc/IQA-PyTorch "
                    "ResultsCalibra/dist_dir (MATLAB's published NIQE value)")
    from PIL import Image

    frame = np.asarray(Image.open(Path(folder) / "I04.bmp").convert("RGB"))
    assert niqe(frame, variant="matlab") == pytest.approx(MATLAB_I04, abs=1e-9)


def test_matlab_resize_is_matlabs_imresize():
    from vsrbench.baselines.resize import matlab_resize_matrix

    for n in (96, 192, 576, 97):
        np.testing.assert_allclose(N._half_matrix(n), matlab_resize_matrix(n, math.ceil(n / 2), 0.5),
                                   rtol=0, atol=1e-15)


def test_matlab_gray_is_rgb2gray():
    f = np.array([[[255, 255, 255], [0, 0, 0], [10, 200, 30], [1, 1, 2]]], np.uint8)
    # 0.298936021293775 R + 0.587043074451121 G + 0.114020904255103 B, rounded half away from zero
    np.testing.assert_array_equal(N._luma(f, "matlab"), [[255, 0, 124, 1]])
    gray = N._luma(synthetic_frame(3, (96, 96)), "matlab")
    assert gray.dtype == np.float64 and np.array_equal(gray, np.round(gray))


def test_variants_differ_as_documented():
    """The flavours are different numbers (here within 2% of each other), each a deterministic one."""
    frame = synthetic_frame(1, (200, 300))
    v = {k: niqe(frame, variant=k) for k in N.VARIANTS}
    assert len({round(x, 6) for x in v.values()}) == len(N.VARIANTS)
    assert max(v.values()) < 1.02 * min(v.values())
    assert niqe(frame, variant="matlab") == v["matlab"]


# ------------------------------------------------------------------ API, scorer, errors

def test_batches_and_gray_frames():
    frames = np.stack([synthetic_frame(s, (192, 192)) for s in (1, 2)])
    got = niqe(frames)
    assert got.shape == (2,)
    assert got[1] == niqe(frames[1])
    assert niqe(list(frames)).tolist() == got.tolist()
    gray = N._luma(frames[0], "matlab").astype(np.uint8)
    assert niqe(gray) == pytest.approx(got[0], abs=1e-12)  # a gray frame is scored as given


def test_scorers_through_evaluate_without_gt(tmp_path):
    from vsrbench.evaluate import evaluate_sequence
    from vsrbench.metrics.extension import Clip, scorer_of
    from vsrbench.metrics.info import METRICS

    frames = [synthetic_frame(s, (192, 200)) for s in (1, 2, 3)]
    for metric, variant in (("niqe", "matlab"), ("niqe-basicsr", "basicsr"),
                            ("niqe-basicsr-bicubic", "basicsr-bicubic"), ("niqe-pyiqa", "pyiqa")):
        clip = Clip(name="x", pred=frames, gt=None, frames=(0, 2), protocol=None, options={"crop_border": 2})
        rows = scorer_of(METRICS[metric])(clip)
        assert [t for t, _ in rows] == [0, 2]
        assert rows[1][1] == niqe(frames[2], variant=variant, crop_border=2)
    try:
        scores = evaluate_sequence(frames, frames, metrics=["niqe"], device="cpu", protocol="basicsr-rgb")
    except InputError as e:  # a harness that insists on the GT for every metric: not this module's concern
        pytest.skip(f"evaluate_sequence: {e}")
    assert [v for _, m, v in scores.rows if m == "niqe"] == pytest.approx(niqe(np.stack(frames)).tolist(), abs=0)


def test_bad_input():
    f = synthetic_frame(1, (192, 192))
    with pytest.raises(InputError, match="at least 96x96"):
        niqe(f[:95])
    with pytest.raises(InputError, match="at least 96x96"):
        niqe(f[:100, :100], crop_border=3)
    with pytest.raises(InputError, match="uint8"):
        niqe(f.astype(np.float32))
    with pytest.raises(InputError, match="uint8 frames as NumPy arrays"):
        niqe(torch.zeros(3, 96, 96))
    with pytest.raises(UnknownNameError, match="matlab"):
        niqe(f, variant="matlb")
    assert math.isnan(niqe(f[:96, :96]))  # one block: no covariance (NaN, as the published code)


# ------------------------------------------------------------------ speed (--benchmark-enable only)

@pytest.mark.parametrize("who", ["vsrbench matlab", "vsrbench pyiqa", "vsrbench basicsr", "vsrbench basicsr-bicubic",
                                 "pyiqa niqe"])
@pytest.mark.parametrize("mode", ["per-frame", "batched"])
def test_speed(benchmark, request, who, mode):
    if benchmark.disabled:
        pytest.skip("a benchmark: run with --benchmark-enable")
    from vsrbench.core.io import open_sequence

    d = SHARED / "data" / "vid4" / "DUF-52L" / "calendar"
    if d.is_dir():
        seq = open_sequence(d)
        frames, source = np.stack([np.asarray(seq[i]) for i in range(4)]), "vid4/calendar DUF-52L, 4 frames 720x576"
    else:
        frames, source = np.stack([synthetic_frame(s, (576, 720)) for s in range(4)]), "synthetic 4 frames 720x576"
    if who.startswith("vsrbench"):
        variant = who.split()[1]
        niqe(frames[0], variant=variant)
        call = (lambda: [niqe(f, variant=variant) for f in frames]) if mode == "per-frame" \
            else (lambda: niqe(frames, variant=variant))
    else:
        peer = request.getfixturevalue("pyiqa_niqe")
        peer(frames[0])
        call = (lambda: [peer(f) for f in frames]) if mode == "per-frame" else (lambda: peer.batch(frames))
    benchmark.group = "niqe"
    benchmark.extra_info.update(case=f"{who} {mode}", frames=len(frames), source=source)
    benchmark.pedantic(call, rounds=3, iterations=1)

