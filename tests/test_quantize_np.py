"""The NumPy 8-bit rule (``quantize255_np``, the CPU path of float frames) equals the tensor rule
(``quantize255``) value for value, ties and out-of-range values included, and PSNR/SSIM of float
frames equal those of the same frames as uint8."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vsrbench.core.errors import InputError
from vsrbench.core.frames import quantize255, quantize255_np
from vsrbench.metrics import psnr, ssim


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value_range", [1.0, 255.0])
def test_numpy_rule_equals_the_tensor_rule(dtype, value_range):
    rng = np.random.default_rng(3)
    a = (rng.random((3, 70, 45, 3)) * 1.03 - 0.01) * value_range  # a little below 0 and above the unit
    a[0, 0, :4, 0] = np.array([0.5, 1.5, 2.5, 254.5]) * value_range / 255  # ties: half to even
    a = a.astype(dtype)
    want = quantize255(torch.from_numpy(a), value_range).to(torch.uint8).numpy()
    got = quantize255_np(a, value_range, rows=16)  # strips that do not divide the rows
    assert got.dtype == np.uint8 and np.array_equal(got, want)
    if dtype == np.float64:  # exact ties (in float32, 0.5 / 255 is not one)
        assert got[0, 0, :4, 0].tolist() == [0, 2, 2, 254]


def test_integers_are_clipped_and_a_scale_mix_up_refused():
    assert quantize255_np(np.array([[[-3, 100, 300]]], np.int16)).tolist() == [[[0, 100, 255]]]
    with pytest.raises(InputError, match="float values reach 200"):
        quantize255_np(np.full((4, 4, 3), 200.0, np.float32))


def test_float_frames_score_as_their_8_bit_values():
    rng = np.random.default_rng(5)
    gt = rng.integers(0, 256, (2, 40, 48, 3), dtype=np.uint8)
    out = rng.integers(0, 256, (2, 40, 48, 3), dtype=np.uint8)
    for metric in (psnr, ssim):
        np.testing.assert_array_equal(metric(out.astype(np.float32) / 255, gt.astype(np.float32) / 255,
                                             protocol="basicsr-y"), metric(out, gt, protocol="basicsr-y"))
    with pytest.raises(InputError, match="NaN"):
        psnr(np.full((8, 8, 3), np.nan, np.float32), gt[0, :8, :8] / 255.0)
