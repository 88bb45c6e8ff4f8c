"""The protocol field ``frames_scored``: every frame (less the cut) or only the centre frame.

``"center"`` is BasicSR's ``center_frame_only`` for Vimeo-90K-T (im4 of each septuplet): the
expected values below are computed with scikit-image on that frame alone.
"""
from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from vsrbench.core.errors import InputError
from vsrbench.evaluate import evaluate_sequence
from vsrbench.metrics import get_protocol, tof


def septuplet(seed: int):
    rng = np.random.default_rng(seed)
    gt = [rng.integers(0, 256, (64, 112, 3), dtype=np.uint8) for _ in range(7)]
    out = [np.clip(g.astype(np.int16) + rng.integers(-6, 7, g.shape), 0, 255).astype(np.uint8) for g in gt]
    return out, gt


def test_existing_hashes_do_not_move_and_center_is_a_different_protocol():
    assert get_protocol("tecogan").hash == "4af09ddd6ed8"  # stored results keep their key
    assert get_protocol("basicsr-rgb").hash == "d766c9e208e7"
    center = get_protocol("basicsr-rgb", frames_scored="center")
    assert center.hash != get_protocol("basicsr-rgb").hash and center.name == "basicsr-rgb[frames_scored=center]"
    assert get_protocol("basicsr-rgb", frames_scored="all") is get_protocol("basicsr-rgb")


def test_scored_frames():
    assert get_protocol("tecogan").scored_frames(7) == [2, 3, 4]
    assert get_protocol("basicsr-y").scored_frames(7) == list(range(7))
    assert get_protocol("basicsr-y", frames_scored="center").scored_frames(7) == [3]  # im4
    assert get_protocol("basicsr-y", frames_scored="center").scored_frames(100) == [50]


def test_center_scores_only_im4_like_scikit_image():
    out, gt = septuplet(0)
    scores = evaluate_sequence(out, gt, protocol=get_protocol("basicsr-rgb", frames_scored="center"),
                               metrics=["psnr"], device="cpu")
    assert [f for f, _, _ in scores.rows] == [3]
    assert scores.values("psnr")[0] == pytest.approx(peak_signal_noise_ratio(gt[3], out[3], data_range=255), abs=1e-10)


def test_center_refuses_temporal_metrics():
    out, gt = septuplet(1)
    center = get_protocol("basicsr-rgb", frames_scored="center")
    with pytest.raises(InputError, match=r"^tof: temporal metrics are not defined when only the centre frame is scored"):
        evaluate_sequence(out, gt, protocol=center, metrics=["psnr", "tof"], device="cpu")
    with pytest.raises(InputError, match=r"^tOF is a temporal metric: it is not defined when only the centre frame"):
        tof(out, gt, protocol=center)


def test_unknown_value_is_refused():
    with pytest.raises(InputError, match=r"frames_scored='middle' is not one of 'all', 'center'"):
        get_protocol("basicsr-y", frames_scored="middle")
