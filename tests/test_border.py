"""The broken-border warning of ``vsrbench evaluate`` (issue 20 §2): a hand-computed drop, the look-alike
with a garbage border, and the DUF authors' real Vid4 outputs in ../shared."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from _support.border_lookalike import lookalike_suite, write_lookalike

from vsrbench.analysis.border import THRESHOLD_DB, check_border, cropping_conventions, frame_drop, scores_border
from vsrbench.catalog import suites
from vsrbench.cli import main
from vsrbench.core.io import FrameSequence, open_dataset, pair_datasets, pair_frames
from vsrbench.metrics import get_protocol


def test_the_drop_by_hand():
    gt = np.full((48, 64, 3), 100, np.uint8)
    out = gt + 1  # interior: every channel +1, so luma +219/255, MSE (219/255)^2
    out[:8] = 110  # top strip: +10, luma MSE 100 times the interior's: 20 dB lower
    drop, side = frame_drop(gt, out)
    assert side == "top" and drop == pytest.approx(20.0, abs=1e-9)
    assert frame_drop(gt, gt) == (0.0, "top")  # identical: no drop (both infinite)
    assert frame_drop(gt[:30], out[:30]) is None  # too small for 8 px strips and an interior
    assert frame_drop(gt, out[:40]) is None  # an output smaller than GT is not looked at
    bigger = np.pad(out, ((0, 4), (0, 4), (0, 0)))  # a larger output is cut to GT's size, top left
    assert frame_drop(gt, bigger) == pytest.approx((20.0, "top"))


def test_which_protocols_score_the_border_and_which_crop_it():
    assert scores_border(get_protocol("basicsr-y")) and scores_border(get_protocol("basicsr-rgb", crop_border=4))
    assert not scores_border(get_protocol("duf")) and not scores_border(get_protocol("basicsr-y", crop_border=8))
    assert not scores_border(get_protocol("tecogan"))  # its centre window: not a border crop
    named = cropping_conventions()
    assert named[0].startswith("basicsr-y --set crop_border=8") and any(n.startswith("duf (crop 8 px") for n in named)


@pytest.fixture
def lookalike(tmp_path, rng, monkeypatch):
    suite = lookalike_suite()
    monkeypatch.setitem(suites.SUITES, "vid4", suite)
    write_lookalike(tmp_path, rng, suite)
    return tmp_path


def _evaluate(root, method, capsys, *extra) -> str:
    assert main(["evaluate", "--suite", "vid4", "--gt", str(root / "GT"), "--pred", str(root / method), "--out",
                 str(root / f"res-{method}"), "--metrics", "psnr", *extra]) == 0
    return capsys.readouterr().err


def test_evaluate_warns_once_for_a_broken_border_only(lookalike, capsys):
    err = _evaluate(lookalike, "Broken", capsys)
    lines = [ln for ln in err.splitlines() if "warning: Broken on vid4: the outer 8 px" in ln]
    assert len(lines) == 1, err
    assert "protocol basicsr-y scores that border" in lines[0] and "basicsr-y --set crop_border=8" in lines[0]
    assert f"vsrbench explain --results {lookalike / 'res-Broken'} --method Broken --dataset vid4" in lines[0]
    assert "outer 8 px" not in _evaluate(lookalike, "Clean", capsys)
    # a protocol that crops the border: nothing to say
    assert "outer 8 px" not in _evaluate(lookalike, "Broken", capsys, "--no-resume", "--set", "crop_border=8")


def test_the_duf_authors_vid4_outputs_cross_the_threshold(shared_path):
    vid4 = shared_path("data", "vid4")
    for method in ("DUF-16L", "DUF-52L"):
        pairs = [(g, pair_frames(g, p).aligned()) for g, p in
                 pair_datasets(open_dataset(vid4 / "GT"), open_dataset(vid4 / method))]
        check = check_border(pairs, limit=8)
        assert check.frames == 8 and check.drop_db > THRESHOLD_DB + 3, (method, check)
    # a clean output of the same frames (bicubic of the bi-matlab LR) stays far below the threshold
    from vsrbench.baselines.degrade import degrade_uint8

    clean = []
    for g, _ in pairs:
        frames = [g[i] for i in (0, len(g) - 1)]
        ups = [cv2.resize(degrade_uint8(f, "bi-matlab", 4), f.shape[1::-1], interpolation=cv2.INTER_CUBIC)
               for f in frames]
        clean.append((FrameSequence.from_arrays(g.name, frames), FrameSequence.from_arrays(g.name, ups)))
    check = check_border(clean)
    assert check.frames == 8 and check.drop_db < THRESHOLD_DB - 5, check
