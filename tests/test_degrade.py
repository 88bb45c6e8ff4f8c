"""baselines/degrade.py and ``vsrbench degrade`` against independent constructions.

References, per degradation (metrics-spec.md section 4, models-spec.md section 4):
- kernels: ``cv2.getGaussianKernel``, ``scipy.signal.windows.gaussian`` and the taps printed in
  models-spec.md (9-tap TecoGAN), ``scipy.ndimage.gaussian_filter`` of a delta (DUF's ``gkern``),
  MATLAB's ``fspecial('gaussian')`` formula written out here (meshgrid, eps threshold, normalise);
- pipelines: full 2-D correlations built here with ``np.pad`` / ``scipy.ndimage`` border modes and
  torch ``F.conv2d`` exactly as each source pads, strides and crops;
- real data: TecoGAN's published LR ``calendar`` frames (../shared/data/calendar) against the
  DUF authors' Vid4 GT (../shared/data/vid4/GT/calendar) identify the TecoGAN pipeline.
"""
from __future__ import annotations

import doctest

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage, signal

from _support.paths import shared_path
from vsrbench.baselines import degrade as D
from vsrbench.baselines.resize import imresize_matlab
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.io import decode_image, open_sequence

# The kernels are checked on odd sizes (37 x 45) on purpose; the warning those sizes raise is
# tested in test_trust_progress.py.
pytestmark = pytest.mark.filterwarnings("ignore:frame.*is not a multiple of scale:vsrbench.core.errors.VsrbenchWarning")

KINDS = ("bd-tecogan", "bd-tecogan-train", "bd-duf", "bd-basicvsr", "bi-matlab")


def conv_stride(padded: np.ndarray, kernel2d: np.ndarray, stride: int) -> np.ndarray:
    """VALID 2-D correlation with stride (torch, float64) of an (H, W, C) array."""
    x = torch.from_numpy(np.moveaxis(padded, 2, 0)[:, None].copy())
    k = torch.from_numpy(kernel2d)[None, None]
    return np.moveaxis(F.conv2d(x, k, stride=stride)[:, 0].numpy(), 0, 2)


def fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    """MATLAB fspecial('gaussian', size, sigma), written out from its documented formula."""
    half = (size - 1) / 2
    y, x = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1), indexing="ij")
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def tecogan_pytorch_ref(frame: np.ndarray, mode: str = "reflect") -> np.ndarray:
    """TecoGAN-PyTorch downsample_bd(pad_data=True): pad 4 (F.pad 'reflect' = np 'reflect'), conv stride 4."""
    k = D.tecogan_train_taps()
    padded = np.pad(frame.astype(np.float64), ((4, 4), (4, 4), (0, 0)), mode=mode)
    return conv_stride(padded, np.outer(k, k), 4)


def basicvsr_ref(frame: np.ndarray, mode: str = "edge") -> np.ndarray:
    """mmagic BD_degradation.m: imfilter(img, fspecial('gaussian', 12, 1.6), 'replicate'), img(2:4:end-2, ...)."""
    # imfilter correlates with the kernel centre at tap floor((12+1)/2) = 6 (1-based): offsets -5..+6
    padded = np.pad(frame.astype(np.float64), ((5, 6), (5, 6), (0, 0)), mode=mode)
    blurred = conv_stride(padded, fspecial_gaussian(12, 1.6), 1)
    assert blurred.shape == frame.shape
    rows = np.arange(2, frame.shape[0] - 2 + 1, 4) - 1  # MATLAB 2:4:end-2, made 0-based
    cols = np.arange(2, frame.shape[1] - 2 + 1, 4) - 1
    return blurred[np.ix_(rows, cols)]


@pytest.fixture
def frame(rng):
    return rng.integers(0, 256, (37, 45, 3)).astype(np.uint8)


# ----------------------------------------------------------------------------- kernels
def test_tecogan_train_taps_match_opencv_scipy_and_the_spec():
    taps = D.tecogan_train_taps()
    assert taps.shape == (9,)
    np.testing.assert_allclose(taps, cv2.getGaussianKernel(9, 1.5, cv2.CV_64F)[:, 0], rtol=0, atol=1e-15)
    g = signal.windows.gaussian(9, std=1.5)
    np.testing.assert_allclose(np.outer(taps, taps), np.outer(g, g) / np.outer(g, g).sum(), rtol=0, atol=1e-15)
    printed = [0.007614, 0.036075, 0.109586, 0.213445, 0.266560, 0.213445, 0.109586, 0.036075, 0.007614]
    np.testing.assert_allclose(taps, printed, rtol=0, atol=1e-6)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_duf_kernel_is_gaussian_filter_of_a_delta(scale):
    delta = np.zeros((13, 13))
    delta[6, 6] = 1.0
    taps = D.duf_taps(scale)
    np.testing.assert_allclose(np.outer(taps, taps), ndimage.gaussian_filter(delta, 0.4 * scale),
                               rtol=0, atol=1e-15)


def test_fspecial_taps_match_the_matlab_formula():
    taps = D.fspecial_gaussian_taps(12, 1.6)
    assert taps.shape == (12,)
    np.testing.assert_allclose(np.outer(taps, taps), fspecial_gaussian(12, 1.6), rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------- pipelines
def test_bd_tecogan_is_a_13_tap_reflect101_blur_sampled_from_0(frame):
    k = cv2.getGaussianKernel(13, 1.5, cv2.CV_64F)[:, 0]
    full = ndimage.correlate(frame.astype(np.float64), np.outer(k, k)[:, :, None], mode="mirror")
    ours = D.degrade(frame, "bd-tecogan")
    np.testing.assert_allclose(ours, full[::4, ::4], rtol=0, atol=2e-4)  # OpenCV computes in float32
    k9 = D.tecogan_train_taps()
    nine = ndimage.correlate(frame.astype(np.float64), np.outer(k9, k9)[:, :, None], mode="mirror")
    assert np.abs(ours - nine[::4, ::4]).max() > 0.05  # the automatic size is 13, not 9


def test_bd_tecogan_train_is_tecogan_pytorch_downsample_bd(frame):
    np.testing.assert_allclose(D.degrade(frame, "bd-tecogan-train"), tecogan_pytorch_ref(frame), rtol=0, atol=1e-10)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bd_duf_is_the_duf_test_py_pipeline(frame, scale):
    delta = np.zeros((13, 13))
    delta[6, 6] = 1.0
    kernel = ndimage.gaussian_filter(delta, 0.4 * scale)
    hr = frame.astype(np.float64)
    pre = np.pad(hr, ((2 * scale,) * 2, (2 * scale,) * 2, (0, 0)), mode="reflect")  # test.py's np.lib.pad
    tf_pad = np.pad(pre, ((6, 6), (6, 6), (0, 0)), mode="reflect")                 # DownSample's tf.pad REFLECT
    duf = conv_stride(tf_pad, kernel, scale)[2:-2, 2:-2]                            # L_[:, :, 2:-2, 2:-2]
    ours = D.degrade(frame, "bd-duf", scale)
    np.testing.assert_allclose(ours, duf, rtol=0, atol=1e-10)
    once = np.pad(hr, ((6 + 2 * scale,) * 2, (6 + 2 * scale,) * 2, (0, 0)), mode="reflect")  # BasicSR
    np.testing.assert_allclose(ours, conv_stride(once, kernel, scale)[2:-2, 2:-2], rtol=0, atol=1e-10)


def test_bd_basicvsr_is_imfilter_replicate_then_rows_2_6_10(frame):
    np.testing.assert_allclose(D.degrade(frame, "bd-basicvsr"), basicvsr_ref(frame), rtol=0, atol=1e-10)


def test_bi_matlab_is_imresize_one_quarter(frame):
    np.testing.assert_allclose(D.degrade(frame, "bi-matlab"), imresize_matlab(frame.astype(np.float64), scale=0.25),
                               rtol=0, atol=0)
    np.testing.assert_array_equal(D.degrade_uint8(frame, "bi-matlab"), imresize_matlab(frame, scale=0.25))


# ----------------------------------------------------------------------------- borders and phase
@pytest.mark.parametrize("kind, ref, mode, other", [
    ("bd-tecogan-train", tecogan_pytorch_ref, "reflect", "symmetric"),
    ("bd-basicvsr", basicvsr_ref, "edge", "reflect"),
])
def test_border_rule_is_the_right_np_pad_mode(kind, ref, mode, other):
    # a bright first row and last column: the border rule decides what the kernel sees beyond them
    img = np.zeros((16, 20, 1))
    img[0] = 50.0
    img[:, -1] = 100.0
    ours = D.degrade(img, kind)
    np.testing.assert_allclose(ours, ref(img, mode), rtol=0, atol=1e-10)
    assert np.abs(ours - ref(img, other)).max() > 1.0


@pytest.mark.parametrize("kind", ["bd-tecogan", "bd-tecogan-train", "bd-duf"])
def test_delta_at_4i_lands_on_lr_pixel_i(kind):
    img = np.zeros((40, 48))
    img[4 * 3, 4 * 5] = 255.0
    lr = D.degrade(img, kind)
    assert np.unravel_index(np.argmax(lr), lr.shape) == (3, 5)
    assert lr[3, 4] == pytest.approx(lr[3, 6], abs=1e-6)  # symmetric around it


@pytest.mark.parametrize("kind", ["bd-basicvsr", "bi-matlab"])
def test_block_centre_sampling_puts_lr_pixel_i_at_4i_plus_1_5(kind):
    # HR pixels 4i+1 and 4i+2 are equally far from 4i+1.5: a delta at either gives the same LR pixel i
    lrs = []
    for off in (1, 2):
        img = np.zeros((40, 48))
        img[4 * 3 + off, 4 * 5 + off] = 255.0
        lrs.append(D.degrade(img, kind))
        assert np.unravel_index(np.argmax(lrs[-1]), lrs[-1].shape) == (3, 5)
    assert lrs[0][3, 5] == pytest.approx(lrs[1][3, 5], abs=1e-9)
    taps = D.fspecial_gaussian_taps()
    if kind == "bd-basicvsr":
        assert lrs[0][3, 5] == pytest.approx(255.0 * taps[5] * taps[5], abs=1e-9)


@pytest.mark.parametrize("scale, sizes", [
    (4, {"bd-tecogan": (10, 12), "bd-tecogan-train": (10, 12), "bd-duf": (10, 12), "bd-basicvsr": (9, 11),
         "bi-matlab": (10, 12)}),
    (2, {"bd-tecogan": (19, 23), "bd-tecogan-train": (19, 23), "bd-duf": (19, 23), "bd-basicvsr": (18, 22),
         "bi-matlab": (19, 23)}),
])
def test_output_sizes(frame, scale, sizes):
    for kind, hw in sizes.items():
        assert D.degrade(frame, kind, scale).shape == hw + (3,)
        assert D.degrade_uint8(frame, kind, scale).shape == hw + (3,)


def test_float_output_is_not_rounded_and_uint8_output_rounds_like_its_source(frame):
    for kind in KINDS:
        lr = D.degrade(frame, kind)
        assert lr.dtype == np.float64 and not np.array_equal(lr, np.round(lr))
        u8 = D.degrade_uint8(frame, kind)
        assert u8.dtype == np.uint8
        if kind != "bi-matlab":  # bi-matlab on uint8 runs MATLAB's uint8 imresize (rounded per pass)
            np.testing.assert_array_equal(u8, D.DEGRADATIONS[kind].round(lr))
    assert D.DEGRADATIONS["bd-basicvsr"].round(np.array([2.5])) == 3  # MATLAB: half away from zero
    assert D.DEGRADATIONS["bd-duf"].round(np.array([2.5])) == 2       # numpy: half to even


def test_docstring_examples():
    result = doctest.testmod(D)
    assert result.attempted > 0 and result.failed == 0


def test_grey_frames_work(rng):
    grey = rng.uniform(0, 255, (24, 29))
    for kind in KINDS:
        assert D.degrade(grey, kind).shape == ((6, 7) if kind == "bd-basicvsr" else (6, 8))


# ----------------------------------------------------------------------------- real data
def test_tecogan_calendar_lr_was_made_with_the_9_tap_kernel():
    gt_dir = shared_path("data", "vid4", "GT", "calendar")
    lr_dir = shared_path("data", "calendar")
    gt, lr = open_sequence(gt_dir), open_sequence(lr_dir)
    for i in range(2):
        g, l = gt[i], lr[i].astype(np.float64)
        err = {k: D.degrade(g, k) - l for k in ("bd-tecogan-train", "bd-tecogan", "bd-duf")}
        rmse = {k: float(np.sqrt(np.mean(e**2))) for k, e in err.items()}
        # within rounding of TecoGAN's 8-bit LR (rounding alone gives rmse 0.289)
        assert np.abs(err["bd-tecogan-train"]).max() < 1.0 and rmse["bd-tecogan-train"] < 0.30
        assert (D.degrade_uint8(g, "bd-tecogan-train") == lr[i]).mean() > 0.95
        assert rmse["bd-tecogan"] > rmse["bd-tecogan-train"] and rmse["bd-duf"] > 1.0


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, message", [
    (lambda f: D.degrade(f, "bd-tecogan", 0), "scale: expected an integer >= 1, got 0"),
    (lambda f: D.degrade(f, "bd-tecogan", 2.5), "scale: expected an integer >= 1, got 2.5"),
    (lambda f: D.degrade(f, "bd-basicvsr", 3),
     "scale: bd-basicvsr keeps rows scale/2:scale:end-scale/2 (MATLAB), which needs an even scale, got 3"),
    (lambda f: D.degrade(f[:3], "bd-basicvsr", 4),
     "scale: 4 is too large for the 45x3 HR frame: its LR frame would be 11x0 px, under the 4 px minimum; "
     "frames need at least 4 px per side"),
    (lambda f: D.degrade(f[None], "bd-duf"),
     "frame: expected a non-empty array of shape (H, W) or (H, W, C), got shape (1, 37, 45, 3)"),
])
def test_error_messages(frame, call, message):
    with pytest.raises(InputError) as err:
        call(frame)
    assert str(err.value) == message


def test_unknown_kind_suggests_the_closest(frame):
    with pytest.raises(UnknownNameError) as err:
        D.degrade(frame, "bd-tecgan")
    assert str(err.value) == ("unknown degradation 'bd-tecgan'; did you mean 'bd-tecogan'? "
                              "(known: bd-basicvsr, bd-duf, bd-tecogan, bd-tecogan-train, bi-matlab, bi-pil, realbasicvsr)")


# ----------------------------------------------------------------------------- CLI
def _write_dataset(root, rng, names=("seq_a", "seq_b"), frames=("f1.png", "f2.png")):
    for seq in names:
        (root / seq).mkdir(parents=True)
        for f in frames:
            cv2.imwrite(str(root / seq / f), rng.integers(0, 256, (20, 24, 3)).astype(np.uint8))


def test_cli_degrades_a_dataset_mirroring_the_tree(tmp_path, rng, capsys):
    _write_dataset(tmp_path / "gt", rng)
    assert main(["degrade", "--kind", "bd-duf", "--scale", "4", str(tmp_path / "gt"), str(tmp_path / "lr")]) == 0
    for seq in ("seq_a", "seq_b"):
        assert sorted(p.name for p in (tmp_path / "lr" / seq).iterdir()) == ["f1.png", "f2.png"]
        for f in ("f1.png", "f2.png"):
            gt = decode_image(tmp_path / "gt" / seq / f)
            np.testing.assert_array_equal(decode_image(tmp_path / "lr" / seq / f), D.degrade_uint8(gt, "bd-duf"))
    assert "degrade bd-duf x4: 4 frames in " in capsys.readouterr().err


def test_cli_single_sequence_writes_into_out(tmp_path, rng):
    _write_dataset(tmp_path / "gt", rng, names=("only",), frames=("0001.png", "0002.png", "IB_skip.png"))
    assert main(["degrade", "--kind", "bi-matlab", str(tmp_path / "gt" / "only"), str(tmp_path / "lr")]) == 0
    assert sorted(p.name for p in (tmp_path / "lr").iterdir()) == ["0001.png", "0002.png"]
    assert decode_image(tmp_path / "lr" / "0001.png").shape == (5, 6, 3)


def test_cli_errors_are_one_line(tmp_path, rng, capsys):
    _write_dataset(tmp_path / "gt", rng, names=("only",))
    assert main(["degrade", "--kind", "bd-tecgan", str(tmp_path / "gt"), str(tmp_path / "lr")]) == 2
    err = capsys.readouterr().err
    assert err == ("vsrbench degrade: error: unknown degradation 'bd-tecgan'; did you mean 'bd-tecogan'? "
                   "(known: bd-basicvsr, bd-duf, bd-tecogan, bd-tecogan-train, bi-matlab, bi-pil, realbasicvsr)\n")
    src = tmp_path / "gt" / "only"
    assert main(["degrade", "--kind", "bd-duf", str(src), str(src)]) == 2
    assert capsys.readouterr().err == (f"vsrbench degrade: error: output folder {str(src)!r} is the input "
                                       "sequence folder; choose another OUT\n")
    assert not (tmp_path / "lr").exists()


def test_cli_help_lists_every_registered_kind():
    from vsrbench.commands import degrade as cmd

    assert set(cmd.KINDS) == set(D.DEGRADATIONS)


def test_benchmark_bd_duf_vid4_frame(benchmark, rng):
    """bd-duf of one 576x720 RGB frame (Vid4 calendar size)."""
    hr = rng.integers(0, 256, (576, 720, 3)).astype(np.uint8)
    assert benchmark(D.degrade, hr, "bd-duf").shape == (144, 180, 3)


# ----------------------------------------------------------------------------- bi-pil (EnhanceNet's LR)
def test_bi_pil_matches_pil_lanczos_and_floors_the_size():
    from PIL import Image

    rng = np.random.default_rng(7)
    hr = rng.integers(0, 256, (37, 50, 3), dtype=np.uint8)
    lr = D.degrade_uint8(hr, "bi-pil", 4)
    assert lr.shape == (37 // 4, 50 // 4, 3)
    expected = np.asarray(Image.fromarray(hr).resize((50 // 4, 37 // 4), Image.LANCZOS))
    np.testing.assert_array_equal(lr, expected)


def test_bi_pil_float_path_agrees_with_the_8bit_path_within_rounding():
    rng = np.random.default_rng(8)
    hr = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    f = D.degrade(hr, "bi-pil", 4)  # float64 frame -> PIL float mode, channel by channel
    assert f.dtype == np.float64 and f.shape == (10, 12, 3)
    assert np.abs(f - D.degrade_uint8(hr, "bi-pil", 4)).max() <= 1.0


def test_bi_pil_constant_image_stays_constant():
    np.testing.assert_allclose(D.degrade(np.full((16, 16, 3), 77.0), "bi-pil", 4), 77.0, atol=1e-4)
