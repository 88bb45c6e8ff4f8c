"""baselines/resize.py against independent references.

References:
- PIL ``Image.resize(BICUBIC)`` on mode 'F' images: the same Keys a = -0.5 kernel, stretched by
  1/scale when shrinking, the same pixel-centre mapping and per-pixel normalisation, but it
  truncates the kernel at the borders instead of mirroring, so only the interior is compared
  (PIL computes in double and stores float32: agreement < 1e-4 on 0..255 values).
- A per-pixel loop written here from MATLAB's ``imresize.m`` (``contributions``: u = x/s +
  0.5(1 - 1/s), mirror look-up ``aux = [1:L, L:-1:1]``, uint8 rounding after each pass), which
  also covers the borders.
- Hand-computed cases: the x1/2 and x2 tap weights of the a = -0.5 kernel, exact dyadic numbers.
- Half-pixel / top-left-aligned a = -0.75 loops for the torch, OpenCV and TF-legacy variants.

MATLAB's own check values quoted in metrics-spec.md (baboon, comic) need those images, which are
not available here.
"""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import torch
from PIL import Image

from vsrbench.baselines import resize as R
from vsrbench.core.errors import InputError


# ----------------------------------------------------------------------------- references
def keys(d: float, a: float) -> float:
    d = abs(d)
    if d <= 1:
        return (a + 2) * d**3 - (a + 3) * d**2 + 1
    if d <= 2:
        return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
    return 0.0


def matlab_axis_ref(v: np.ndarray, out_len: int, scale: float) -> np.ndarray:
    """imresize.m along axis 0 of ``v``, one output pixel at a time (1-based as in MATLAB)."""
    n = v.shape[0]
    width = 4 / scale if scale < 1 else 4
    aux = list(range(1, n + 1)) + list(range(n, 0, -1))
    out = np.zeros((out_len,) + v.shape[1:])
    for x in range(1, out_len + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        ws, idx = [], []
        for p in range(math.ceil(width) + 2):
            j = left + p
            ws.append(scale * keys(scale * (u - j), -0.5) if scale < 1 else keys(u - j, -0.5))
            idx.append(aux[(j - 1) % len(aux)] - 1)
        total = sum(ws)
        out[x - 1] = sum(w / total * v[i].astype(np.float64) for w, i in zip(ws, idx))
    return out


def matlab_ref(img: np.ndarray, out_hw: tuple[int, int], scales: tuple[float, float]) -> np.ndarray:
    """Both axes in MATLAB's order (smaller scale first); uint8 rounded half away after each pass."""
    out = img
    for axis in sorted((0, 1), key=lambda k: scales[k]):
        moved = np.moveaxis(out, axis, 0)
        res = np.moveaxis(matlab_axis_ref(moved, out_hw[axis], scales[axis]), 0, axis)
        out = np.clip(np.floor(res + 0.5), 0, 255).astype(np.uint8) if img.dtype == np.uint8 else res
    return out


def pil_resize(img: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    pil = Image.fromarray(img.astype(np.float32), mode="F")
    return np.asarray(pil.resize((out_hw[1], out_hw[0]), Image.BICUBIC), dtype=np.float64)


def interior(in_len: int, out_len: int) -> slice:
    """Output pixels whose kernel support lies inside the input (no border rule involved)."""
    s = out_len / in_len
    half = 2 / s if s < 1 else 2.0
    centres = (np.arange(out_len) + 0.5) / s - 0.5
    ok = np.nonzero((centres - half >= -0.5) & (centres + half <= in_len - 0.5))[0]
    return slice(ok[0], ok[-1] + 1)


def half_pixel_cubic_ref(v: np.ndarray, out_len: int, a: float = -0.75) -> np.ndarray:
    """torch/OpenCV bicubic along axis 0: src = (o + 0.5)/s - 0.5, taps clamped to the image."""
    n = v.shape[0]
    s = out_len / n
    out = np.zeros((out_len,) + v.shape[1:])
    for o in range(out_len):
        src = (o + 0.5) / s - 0.5
        i = math.floor(src)
        for j in range(i - 1, i + 3):
            out[o] += keys(src - j, a) * v[min(max(j, 0), n - 1)]
    return out


def separable(ref, img: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    rows = ref(img, out_hw[0])
    return np.swapaxes(ref(np.swapaxes(rows, 0, 1), out_hw[1]), 0, 1)


# ----------------------------------------------------------------------------- MATLAB imresize
@pytest.mark.parametrize("shape, kwargs", [
    ((40, 52), {"scale": 0.25}), ((40, 52), {"scale": 0.5}), ((40, 52), {"scale": 4}),
    ((23, 31), {"scale": 3}), ((40, 52), {"output_shape": (13, 17)}), ((40, 52), {"output_shape": (11, 29)}),
])
def test_interior_matches_pil_bicubic(rng, shape, kwargs):
    img = rng.uniform(0, 255, shape)
    ours = R.imresize_matlab(img, **kwargs)
    pil = pil_resize(img, ours.shape)
    rows, cols = interior(shape[0], ours.shape[0]), interior(shape[1], ours.shape[1])
    assert ours[rows, cols].size > 20
    np.testing.assert_allclose(ours[rows, cols], pil[rows, cols], rtol=0, atol=1e-4)


@pytest.mark.parametrize("shape, scale", [((17, 23), 0.25), ((17, 23), 0.5), ((9, 11), 4), ((10, 7), 3),
                                          ((12, 12), (2, 0.5)), ((12, 12), (0.5, 3))])
def test_matches_matlab_loop_reference_including_borders(rng, shape, scale):
    img = rng.uniform(0, 255, shape + (2,))
    scales = scale if isinstance(scale, tuple) else (scale, scale)
    out_hw = tuple(math.ceil(n * s) for n, s in zip(shape, scales))
    np.testing.assert_allclose(R.imresize_matlab(img, scale=scale), matlab_ref(img, out_hw, scales),
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("scale", [0.25, 4, (2, 0.5)])
def test_uint8_rounds_after_each_pass_like_matlab(rng, scale):
    img = rng.integers(0, 256, (16, 20, 3)).astype(np.uint8)
    scales = scale if isinstance(scale, tuple) else (scale, scale)
    out_hw = tuple(math.ceil(n * s) for n, s in zip(img.shape[:2], scales))
    ours = R.imresize_matlab(img, scale=scale)
    assert ours.dtype == np.uint8
    np.testing.assert_array_equal(ours, matlab_ref(img, out_hw, scales))
    # and it is not the float result rounded once: the intermediate rounding shows somewhere
    once = np.clip(np.floor(R.imresize_matlab(img.astype(np.float64), scale=scale) + 0.5), 0, 255)
    assert (ours != once).any()


def test_hand_computed_downscale_by_two_of_a_delta():
    # x1/2: output o (0-based) is centred on input 2o + 0.5; tap j weighs 0.5 * k(0.5 (j - 2o - 0.5)),
    # k the a = -0.5 cubic: k(0.25) = 0.8671875, k(0.75) = 0.2265625, k(1.25) = -0.0703125,
    # k(1.75) = -0.0234375 (they sum to 1 over the 8 taps, so no renormalisation in the interior).
    # A delta at input 3 reaches outputs 0..3 at distances 2.5, 0.5, -1.5, -3.5 and is never mirrored.
    expected_1d = np.array([-0.0703125, 0.8671875, 0.2265625, -0.0234375]) / 2
    delta = np.zeros((8, 8))
    delta[3, 3] = 1.0
    np.testing.assert_allclose(R.imresize_matlab(delta, scale=0.5), np.outer(expected_1d, expected_1d),
                               rtol=0, atol=1e-15)


def test_hand_computed_upscale_by_two_with_mirrored_border():
    # x2: output o (0-based) sits at input o/2 - 0.25; a delta at input 1 is seen at distances
    # 0.75, 0.25, 0.25, 0.75, 1.25, 1.75 by outputs 1..6 -> k(.75), k(.25), k(.25), k(.75), k(1.25), k(1.75).
    # Output 0 (at -0.25) sees it twice: directly at 1.25 and mirrored (input -2 = input 1) at 1.75:
    # k(1.25) + k(1.75) = -0.0703125 - 0.0234375 = -0.09375.
    v = np.array([[0.0], [1.0], [0.0], [0.0], [0.0]])
    expected = [-0.09375, 0.2265625, 0.8671875, 0.8671875, 0.2265625, -0.0703125, -0.0234375, 0, 0, 0]
    np.testing.assert_allclose(R.imresize_matlab(v, output_shape=(10, 1))[:, 0], expected, rtol=0, atol=1e-15)


def test_constant_image_stays_constant():
    for img, scale in ((np.full((9, 13, 3), 87.25), 4), (np.full((9, 13), 3.5), 0.25), (np.full((5, 5), 200.0), 3)):
        np.testing.assert_allclose(R.imresize_matlab(img, scale=scale), img.flat[0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(R.imresize_matlab(np.full((8, 8), 77, np.uint8), scale=4), 77)


def test_nyquist_checkerboard_is_removed_by_antialiasing():
    # Interior x1/2 outputs weigh the "ones" of a 0/1 pixel checkerboard with
    # 0.5 * (k(1.75) + k(0.75) + k(0.25) + k(1.25)) = 0.5 per axis: exactly flat 0.5 (MATLAB's antialiasing).
    board = (np.indices((16, 16)).sum(axis=0) % 2).astype(np.float64)
    out = R.imresize_matlab(board, scale=0.5)
    np.testing.assert_allclose(out[2:-2, 2:-2], 0.5, rtol=0, atol=1e-15)


def test_linear_ramp_downscale_samples_block_centres():
    # x1/4 weights are symmetric about 4i + 1.5, so a ramp is sampled exactly at the 4x4 block centres.
    ramp = np.tile(np.arange(64, dtype=np.float64) * 3.0, (8, 1))
    out = R.imresize_matlab(ramp, scale=0.25)
    centres = 3.0 * (4 * np.arange(16) + 1.5)
    np.testing.assert_allclose(out[:, 2:-2], np.tile(centres[2:-2], (2, 1)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape, scale, expected", [
    ((13, 7), 0.25, (4, 2)), ((5, 9), 3, (15, 27)), ((7, 7), 1 / 3, (3, 3)), ((144, 180), 4, (576, 720)),
    ((577, 721), 0.25, (145, 181)), ((6, 10), (0.5, 2), (3, 20)),
])
def test_output_size_is_ceil(shape, scale, expected):
    assert R.imresize_matlab(np.zeros(shape), scale=scale).shape == expected


def test_ceil_never_makes_an_empty_image():
    assert R.imresize_matlab(np.zeros((4, 4)), scale=0.1).shape == (1, 1)


def test_output_shape_argument_and_dtypes(rng):
    img = rng.uniform(0, 1, (10, 12, 3)).astype(np.float32)
    out = R.imresize_matlab(img, output_shape=(7, 30))
    assert out.shape == (7, 30, 3) and out.dtype == np.float32
    assert R.imresize_matlab(img.astype(np.float64), scale=2).dtype == np.float64


def test_torch_version_equals_numpy_version(rng):
    img = rng.uniform(0, 255, (3, 11, 14))
    for kwargs in ({"scale": 4}, {"scale": 0.25}, {"output_shape": (5, 33)}):
        ours = R.imresize_matlab_torch(torch.from_numpy(img), **kwargs).numpy()
        ref = np.moveaxis(R.imresize_matlab(np.moveaxis(img, 0, 2), **kwargs), 2, 0)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device; none here")
def test_torch_version_on_cuda_equals_numpy_version(rng):
    img = rng.uniform(0, 255, (2, 36, 45))
    ours = R.imresize_matlab_torch(torch.from_numpy(img).cuda(), scale=4).cpu().numpy()
    np.testing.assert_allclose(ours, np.moveaxis(R.imresize_matlab(np.moveaxis(img, 0, 2), scale=4), 2, 0),
                               rtol=0, atol=1e-10)


def test_docstring_examples():
    result = doctest.testmod(R)
    assert result.attempted > 0 and result.failed == 0


def test_round_like_matlab_rounds_half_away_and_saturates():
    np.testing.assert_array_equal(R.round_like_matlab(np.array([0.5, 1.5, 2.5, 254.5, 0.49, -0.5, 300.0])),
                                  [1, 2, 3, 255, 0, 0, 255])


# ----------------------------------------------------------------------------- other libraries
def test_torch_bicubic_matches_half_pixel_reference(rng):
    img = rng.uniform(0, 255, (9, 12, 2))
    out = R.resize_bicubic_torch(img, scale=4)
    np.testing.assert_allclose(out, separable(half_pixel_cubic_ref, img, (36, 48)), rtol=0, atol=1e-9)
    assert R.resize_bicubic_torch(np.zeros((9, 13)), scale=0.5).shape == (4, 6)  # floor


def test_cv2_bicubic_matches_half_pixel_reference(rng):
    img = rng.uniform(0, 255, (9, 12, 3))
    out = R.resize_bicubic_cv2(img, scale=4)
    np.testing.assert_allclose(out, separable(half_pixel_cubic_ref, img, (36, 48)), rtol=0, atol=1e-4)
    assert R.resize_bicubic_cv2(np.zeros((9, 13)), scale=0.5).shape == (4, 6)  # 4.5, 6.5 round to even
    assert R.resize_bicubic_cv2(np.zeros((11, 15)), scale=0.5).shape == (6, 8)  # 5.5, 7.5 round to even
    assert R.resize_bicubic_cv2(np.zeros((9, 13, 1)), scale=2).shape == (18, 26, 1)


def test_tf_legacy_bicubic_matches_top_left_reference(rng):
    img = rng.uniform(0, 255, (6, 7))

    def top_left(v, out_len):
        n, s = v.shape[0], out_len // v.shape[0]
        out = np.zeros((out_len,) + v.shape[1:])
        for o in range(out_len):
            i, t = divmod(o, s)
            for j in range(i - 1, i + 3):
                out[o] += keys(t / s - (j - i), -0.75) * v[min(max(j, 0), n - 1)]
        return out

    np.testing.assert_allclose(R.resize_bicubic_tf_legacy(img, 4), separable(top_left, img, (24, 28)),
                               rtol=0, atol=1e-10)


def test_the_variants_really_differ(rng):
    img = rng.uniform(0, 255, (12, 12))
    outs = [R.imresize_matlab(img, scale=4), R.resize_bicubic_torch(img, scale=4), R.resize_bicubic_tf_legacy(img, 4)]
    for a, b in ((0, 1), (1, 2), (0, 2)):
        assert np.abs(outs[a] - outs[b]).max() > 1.0


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, message", [
    (lambda: R.imresize_matlab(np.zeros((4, 4, 3, 1)), scale=2),
     "img: expected a non-empty array of shape (H, W) or (H, W, C), got shape (4, 4, 3, 1)"),
    (lambda: R.imresize_matlab(np.zeros((0, 4)), scale=2),
     "img: expected a non-empty array of shape (H, W) or (H, W, C), got shape (0, 4)"),
    (lambda: R.imresize_matlab(np.array([[np.nan, 1.0]]), scale=2), "img: contains NaN or inf values"),
    (lambda: R.imresize_matlab(np.zeros((4, 4), bool), scale=2),
     "img: unsupported dtype bool"),
    (lambda: R.imresize_matlab(torch.zeros(4, 4), scale=2),
     "img: expected a numpy array of shape (H, W) or (H, W, C), got a torch.Tensor "
     "(use imresize_matlab_torch for tensors)"),
    (lambda: R.imresize_matlab(np.zeros((4, 4))),
     "give exactly one of scale and output_shape, got scale=None, output_shape=None"),
    (lambda: R.imresize_matlab(np.zeros((4, 4)), scale=2, output_shape=(8, 8)),
     "give exactly one of scale and output_shape, got scale=2, output_shape=(8, 8)"),
    (lambda: R.imresize_matlab(np.zeros((4, 4)), scale=-1), "scale: expected a positive number, got -1"),
    (lambda: R.imresize_matlab(np.zeros((4, 4)), scale="4"),
     "scale: expected one number or a pair (height, width), got '4'"),
    (lambda: R.imresize_matlab(np.zeros((4, 4)), scale=(1, 2, 3)),
     "scale: expected one number or a pair (height, width), got (1, 2, 3)"),
    (lambda: R.imresize_matlab(np.zeros((4, 4)), output_shape=(8, 0)),
     "output_shape: expected two positive integers (height, width), got (8, 0)"),
    (lambda: R.resize_bicubic_torch(np.zeros((4, 4)), scale=0.1),
     "scale: 0.1 turns an image of size (4, 4) into size (0, 0)"),
    (lambda: R.resize_bicubic_tf_legacy(np.zeros((4, 4)), 2.5),
     "scale: the TF legacy bicubic takes an integer factor >= 1, got 2.5"),
    (lambda: R.imresize_matlab_torch(torch.zeros(4, 4, dtype=torch.int64), scale=2),
     "x: expected a floating-point torch.Tensor of shape (..., H, W), got dtype torch.int64, shape (4, 4)"),
])
def test_error_messages(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value) == message


def test_benchmark_upscale_vid4_frame(benchmark, rng):
    """x4 MATLAB bicubic of a 144x180 RGB frame (a Vid4 LR frame)."""
    lr = rng.uniform(0, 1, (144, 180, 3))
    out = benchmark(R.imresize_matlab, lr, scale=4)
    assert out.shape == (576, 720, 3)
