"""baselines/tfops.py against independent references.

References: per-pixel NumPy loops written here from the TF1 formulas (models-spec.md 1.2-1.3),
OpenCV (``warpAffine`` with an inverse map x/s reproduces top-left-aligned resizes; ``resize``
gives half-pixel bilinear), ``np.pad``, ``scipy.ndimage.map_coordinates`` and the phase weights
printed in the spec.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from vsrbench.baselines import tfops
from vsrbench.core.errors import InputError
from _support.spec import keys_cubic_ref


# ----------------------------------------------------------------------------- NumPy references
def resize_1d_ref(v: np.ndarray, scale: int, kind: str) -> np.ndarray:
    """TF1 legacy resize along one axis: src = dst/scale, indices clamped to the image."""
    n = len(v)
    out = np.zeros(n * scale)
    for o in range(n * scale):
        src = o / scale
        i = int(np.floor(src))
        t = src - i
        if kind == "cubic":
            for j in (-1, 0, 1, 2):
                out[o] += keys_cubic_ref(t - j) * v[min(max(i + j, 0), n - 1)]
        else:
            out[o] = (1 - t) * v[i] + t * v[min(i + 1, n - 1)]
    return out


def resize_2d_ref(img: np.ndarray, scale: int, kind: str) -> np.ndarray:
    """Separable reference on an (H, W) array."""
    rows = np.stack([resize_1d_ref(r, scale, kind) for r in img])
    return np.stack([resize_1d_ref(c, scale, kind) for c in rows.T]).T


def bilinear_clamped_ref(img: np.ndarray, qy: float, qx: float) -> float:
    """TF ``interpolate_bilinear`` for one query point on an (H, W) image."""
    h, w = img.shape
    y0 = int(min(max(np.floor(qy), 0), h - 2))
    x0 = int(min(max(np.floor(qx), 0), w - 2))
    ay = min(max(qy - y0, 0.0), 1.0)
    ax = min(max(qx - x0, 0.0), 1.0)
    top = img[y0, x0] * (1 - ax) + img[y0, x0 + 1] * ax
    bottom = img[y0 + 1, x0] * (1 - ax) + img[y0 + 1, x0 + 1] * ax
    return top * (1 - ay) + bottom * ay


def dense_image_warp_ref(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """(N, C, H, W) image, (N, 2, H, W) flow (dy, dx): out(y, x) = img(y - dy, x - dx)."""
    n, c, h, w = img.shape
    out = np.zeros_like(img)
    for b in range(n):
        for y in range(h):
            for x in range(w):
                qy, qx = y - flow[b, 0, y, x], x - flow[b, 1, y, x]
                for ch in range(c):
                    out[b, ch, y, x] = bilinear_clamped_ref(img[b, ch], qy, qx)
    return out


def to_t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def cv2_top_left_resize(img: np.ndarray, scale: int, interpolation: int) -> np.ndarray:
    """OpenCV resize with the TF1 legacy (top-left aligned) mapping dst(x) = src(x / scale)."""
    h, w = img.shape
    m = np.array([[1.0 / scale, 0, 0], [0, 1.0 / scale, 0]])
    return cv2.warpAffine(img, m, (w * scale, h * scale), flags=interpolation | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


# ----------------------------------------------------------------------------- resizes
SPEC_PHASES_X4 = np.array([
    [0, 1, 0, 0],
    [-0.10547, 0.87891, 0.26172, -0.03516],
    [-0.09375, 0.59375, 0.59375, -0.09375],
    [-0.03516, 0.26172, 0.87891, -0.10547],
])


def test_cubic_phase_weights_equal_the_spec_table():
    np.testing.assert_allclose(tfops.cubic_phase_weights(4), SPEC_PHASES_X4, atol=5e-6)
    np.testing.assert_allclose(tfops.cubic_phase_weights(4).sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("scale", [1, 2, 3, 4])
def test_resize_bicubic_legacy_matches_loop_reference(rng, scale):
    img = rng.random((5, 7))
    got = tfops.resize_bicubic_legacy(to_t(img)[None, None], scale)[0, 0].numpy()
    np.testing.assert_allclose(got, resize_2d_ref(img, scale, "cubic"), atol=1e-12)


def test_resize_bicubic_legacy_x4_applies_the_spec_phase_weights_by_hand():
    """A 1-row ramp: output 4i+k = sum_j w_k[j] * in[clamp(i-1+j)] with the printed weights."""
    v = np.array([0.0, 1.0, 4.0, 9.0, 2.0])
    got = tfops.resize_bicubic_legacy(to_t(v).view(1, 1, 1, 5), 4)[0, 0, 0].numpy()
    padded = np.concatenate([[v[0]], v, [v[-1], v[-1]]])
    for i in range(5):
        for k in range(4):
            assert got[4 * i + k] == pytest.approx(SPEC_PHASES_X4[k] @ padded[i:i + 4], abs=1e-4)  # 5 printed decimals


def test_resize_bicubic_legacy_matches_opencv_top_left_cubic(rng):
    img = rng.random((9, 11)).astype(np.float32)
    got = tfops.resize_bicubic_legacy(to_t(img)[None, None], 4)[0, 0].numpy()
    np.testing.assert_allclose(got, cv2_top_left_resize(img, 4, cv2.INTER_CUBIC), atol=2e-5)


def test_resize_bicubic_legacy_is_top_left_aligned_and_not_torch_bicubic(rng):
    x = to_t(rng.random((2, 3, 6, 8)))
    y = tfops.resize_bicubic_legacy(x, 4)
    assert y.shape == (2, 3, 24, 32)
    assert torch.equal(y[..., ::4, ::4], x)
    half_pixel = F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    assert (y - half_pixel).abs().max() > 0.1


@pytest.mark.parametrize("scale", [2, 4])
def test_resize_bilinear_legacy_matches_loop_reference_and_opencv(rng, scale):
    img = rng.random((6, 9))
    got = tfops.resize_bilinear_legacy(to_t(img)[None, None], scale)[0, 0].numpy()
    np.testing.assert_allclose(got, resize_2d_ref(img, scale, "linear"), atol=1e-12)
    f32 = img.astype(np.float32)
    got32 = tfops.resize_bilinear_legacy(to_t(f32)[None, None], scale)[0, 0].numpy()
    np.testing.assert_allclose(got32, cv2_top_left_resize(f32, scale, cv2.INTER_LINEAR), atol=1e-5)


def test_resize_bilinear_legacy_x2_formula_and_difference_from_half_pixel(rng):
    v = to_t(rng.random(7)).view(1, 1, 1, 7)
    y = tfops.resize_bilinear_legacy(v, 2)[0, 0, 0]
    v = v[0, 0, 0]
    assert torch.equal(y[0::2], v)
    torch.testing.assert_close(y[1:-1:2], (v[:-1] + v[1:]) / 2, rtol=0, atol=1e-15)
    assert y[-1] == v[-1]
    x = to_t(rng.random((1, 2, 8, 8)))
    assert (tfops.resize_bilinear_legacy(x, 2) - tfops.resize_bilinear_half_pixel(x, 2)).abs().max() > 0.1


def test_resize_bilinear_half_pixel_matches_opencv(rng):
    img = rng.random((7, 10)).astype(np.float32)
    got = tfops.resize_bilinear_half_pixel(to_t(img)[None, None], 4)[0, 0].numpy()
    np.testing.assert_allclose(got, cv2.resize(img, (40, 28), interpolation=cv2.INTER_LINEAR), atol=1e-5)


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_resize_nearest_legacy_matches_numpy_repeat_and_torch_nearest(rng, scale):
    x = rng.random((1, 2, 3, 5))
    got = tfops.resize_nearest_legacy(to_t(x), scale)
    assert np.array_equal(got.numpy(), x.repeat(scale, axis=2).repeat(scale, axis=3))
    assert torch.equal(got, F.interpolate(to_t(x), scale_factor=scale, mode="nearest"))


# ----------------------------------------------------------------------------- space <-> depth
def test_space_to_depth_explicit_channel_index_formula(rng):
    n, c, h, w, b = 2, 3, 8, 12, 4
    x = rng.random((n, c, h, w))
    got = tfops.space_to_depth(to_t(x), b).numpy()
    assert got.shape == (n, c * b * b, h // b, w // b)
    for dy in range(b):
        for dx in range(b):
            for ch in range(c):
                np.testing.assert_array_equal(got[:, (dy * b + dx) * c + ch], x[:, ch, dy::b, dx::b])


def test_space_to_depth_is_pixel_unshuffle_with_channels_permuted(rng):
    x = to_t(rng.random((1, 3, 8, 8)))
    ours, unshuffled = tfops.space_to_depth(x, 4), F.pixel_unshuffle(x, 4)
    assert not torch.equal(ours, unshuffled)
    perm = [c * 16 + d for d in range(16) for c in range(3)]  # (dy, dx, c) <- (c, dy, dx)
    assert torch.equal(ours, unshuffled[:, perm])


@pytest.mark.parametrize("block", [2, 4])
def test_depth_to_space_inverts_space_to_depth(rng, block):
    x = to_t(rng.random((2, 3, 4 * block, 2 * block)))
    assert torch.equal(tfops.depth_to_space(tfops.space_to_depth(x, block), block), x)
    d = to_t(rng.random((2, 3 * block * block, 3, 5)))
    assert torch.equal(tfops.space_to_depth(tfops.depth_to_space(d, block), block), d)


def test_depth_to_space_explicit_channel_index_formula(rng):
    """DUF convention: HR pixel (R*i + dy, R*j + dx, c) comes from channel (dy*R + dx)*3 + c."""
    r = 4
    d = rng.random((1, 3 * r * r, 2, 3))
    hr = tfops.depth_to_space(to_t(d), r)[0].numpy()
    for i in range(2):
        for j in range(3):
            for dy in range(r):
                for dx in range(r):
                    for c in range(3):
                        assert hr[c, r * i + dy, r * j + dx] == d[0, (dy * r + dx) * 3 + c, i, j]


# ----------------------------------------------------------------------------- warps
def test_dense_image_warp_matches_per_pixel_reference(rng):
    img = rng.random((2, 3, 6, 7))
    flow = rng.normal(0, 2.5, (2, 2, 6, 7))  # pushes many samples outside the image
    got = tfops.dense_image_warp(to_t(img), to_t(flow)).numpy()
    np.testing.assert_allclose(got, dense_image_warp_ref(img, flow), atol=1e-12)


def test_dense_image_warp_matches_scipy_map_coordinates(rng):
    img = rng.random((1, 1, 9, 11))
    flow = rng.normal(0, 3.0, (1, 2, 9, 11))
    yy, xx = np.mgrid[0:9, 0:11].astype(float)
    ref = ndimage.map_coordinates(img[0, 0], [yy - flow[0, 0], xx - flow[0, 1]], order=1, mode="nearest")
    got = tfops.dense_image_warp(to_t(img), to_t(flow))[0, 0].numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12)


def test_dense_image_warp_integer_shift_by_hand():
    img = torch.arange(20.0).view(1, 1, 4, 5)
    flow = torch.zeros(1, 2, 4, 5)
    flow[:, 1] = 1.0  # dx = 1: out(y, x) = img(y, x - 1), border column repeated
    out = tfops.dense_image_warp(img, flow)[0, 0]
    assert torch.equal(out[:, 1:], img[0, 0, :, :-1])
    assert torch.equal(out[:, 0], img[0, 0, :, 0])


def test_backward_warp_matches_per_pixel_reference(rng):
    """PT semantics: sample at (x + u, y + v), bilinear, border clamp (= TF with flow (-v, -u))."""
    img = rng.random((1, 2, 5, 6)).astype(np.float32)
    flow_pt = rng.normal(0, 2.0, (1, 2, 5, 6)).astype(np.float32)
    got = tfops.backward_warp(to_t(img), to_t(flow_pt)).numpy()
    ref = np.zeros_like(img)
    for y in range(5):
        for x in range(6):
            for c in range(2):
                ref[0, c, y, x] = bilinear_clamped_ref(img[0, c].astype(np.float64),
                                                       y + flow_pt[0, 1, y, x], x + flow_pt[0, 0, y, x])
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_pt_flow_mapping_gives_the_same_warp(rng):
    img = to_t(rng.random((2, 3, 16, 20)).astype(np.float32))
    flow_tf = to_t(rng.normal(0, 4.0, (2, 2, 16, 20)).astype(np.float32))
    flow_pt = tfops.tf_flow_to_pt(flow_tf)
    assert torch.equal(flow_pt[:, 0], -flow_tf[:, 1]) and torch.equal(flow_pt[:, 1], -flow_tf[:, 0])
    assert torch.equal(tfops.pt_flow_to_tf(flow_pt), flow_tf)
    diff = (tfops.backward_warp(img, flow_pt) - tfops.dense_image_warp(img, flow_tf)).abs().max()
    assert diff < 1e-5


# ----------------------------------------------------------------------------- padding
@pytest.mark.parametrize("bottom,right", [(0, 0), (3, 0), (0, 5), (7, 2), (8, 1)])
def test_pad_symmetric_matches_numpy_symmetric(rng, bottom, right):
    x = rng.random((1, 2, 8, 9))
    got = tfops.pad_symmetric(to_t(x), bottom, right).numpy()
    np.testing.assert_array_equal(got, np.pad(x, ((0, 0), (0, 0), (0, bottom), (0, right)), mode="symmetric"))


@pytest.mark.parametrize("bottom,right", [(0, 0), (3, 0), (0, 5), (7, 2)])
def test_pad_reflect_matches_numpy_reflect(rng, bottom, right):
    x = rng.random((1, 2, 8, 9))
    got = tfops.pad_reflect(to_t(x), bottom, right).numpy()
    np.testing.assert_array_equal(got, np.pad(x, ((0, 0), (0, 0), (0, bottom), (0, right)), mode="reflect"))


def test_symmetric_repeats_the_edge_and_reflect_does_not():
    row = torch.arange(6.0).view(1, 1, 1, 6)
    assert tfops.pad_symmetric(row, 0, 2)[0, 0, 0].tolist() == [0, 1, 2, 3, 4, 5, 5, 4]
    assert tfops.pad_reflect(row, 0, 2)[0, 0, 0].tolist() == [0, 1, 2, 3, 4, 5, 4, 3]


# ----------------------------------------------------------------------------- devices and dtypes
def test_ops_keep_dtype(rng):
    x = torch.rand(1, 3, 8, 8, dtype=torch.float32)
    flow = torch.zeros(1, 2, 8, 8)
    for out in (tfops.resize_bicubic_legacy(x, 4), tfops.resize_bilinear_legacy(x, 4),
                tfops.space_to_depth(x, 4), tfops.dense_image_warp(x, flow), tfops.pad_symmetric(x, 1, 1)):
        assert out.dtype == torch.float32


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device; none is available")
def test_ops_on_cuda_match_cpu(rng):
    x = to_t(rng.random((1, 3, 10, 12)).astype(np.float32))
    flow = to_t(rng.normal(0, 3, (1, 2, 10, 12)).astype(np.float32))
    for fn in (lambda t: tfops.resize_bicubic_legacy(t, 4), lambda t: tfops.resize_bilinear_legacy(t, 4),
               lambda t: tfops.space_to_depth(t[..., :8, :12], 4), lambda t: tfops.pad_symmetric(t, 3, 4)):
        torch.testing.assert_close(fn(x.cuda()).cpu(), fn(x), rtol=0, atol=1e-6)
    torch.testing.assert_close(tfops.dense_image_warp(x.cuda(), flow.cuda()).cpu(),
                               tfops.dense_image_warp(x, flow), rtol=0, atol=1e-5)


# ----------------------------------------------------------------------------- error messages
@pytest.mark.parametrize("call,message", [
    (lambda: tfops.resize_bicubic_legacy(torch.zeros(1, 3, 4, 4), 0), "scale must be an integer >= 1, got 0"),
    (lambda: tfops.resize_bilinear_legacy(torch.zeros(1, 3, 4, 4), 2.5), "scale must be an integer >= 1, got 2.5"),
    (lambda: tfops.resize_bicubic_legacy(torch.zeros(3, 4, 4), 4),
     "x must have shape (N, C, H, W), got shape (3, 4, 4)"),
    (lambda: tfops.resize_nearest_legacy(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), 2),
     "x must be a floating-point tensor, got dtype torch.uint8"),
    (lambda: tfops.space_to_depth(np.zeros((1, 3, 4, 4)), 2),
     "x must be a torch.Tensor of shape (N, C, H, W), got ndarray"),
    (lambda: tfops.space_to_depth(torch.zeros(1, 3, 6, 8), 4),
     "space_to_depth needs H and W divisible by block=4, got H=6, W=8"),
    (lambda: tfops.depth_to_space(torch.zeros(1, 20, 2, 2), 4),
     "depth_to_space needs channels divisible by block**2=16, got 20"),
    (lambda: tfops.dense_image_warp(torch.zeros(1, 3, 4, 4), torch.zeros(1, 2, 4, 5)),
     "flow must have shape (1, 2, 4, 4) to match img, got (1, 2, 4, 5)"),
    (lambda: tfops.backward_warp(torch.zeros(1, 3, 1, 4), torch.zeros(1, 2, 1, 4)),
     "warping needs an image of at least 2x2 pixels, got H=1, W=4"),
    (lambda: tfops.pad_symmetric(torch.zeros(1, 1, 4, 4), 5, 0),
     "padding must be <= the size it mirrors: got bottom=5, right=0 for H=4, W=4"),
    (lambda: tfops.pad_reflect(torch.zeros(1, 1, 4, 4), 0, 4),
     "padding must be < the size it mirrors: got bottom=0, right=4 for H=4, W=4"),
    (lambda: tfops.pad_reflect(torch.zeros(1, 1, 4, 4), -1, 0), "bottom must be an integer >= 0, got -1"),
])
def test_bad_input_messages(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value) == message
