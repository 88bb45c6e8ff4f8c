"""Benchmark suites as data (vsrbench.suites): facts, conventions and validation of small look-alike layouts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.io import write_frame
from vsrbench.suites import SUITE_NAMES, SUITES, Suite, detect_suite, get_suite

REDS4 = ("000", "011", "015", "020")
VIMEO_CLIPS = ("00001/0266", "00001/0268", "00002/0004")


def write_clip(folder: Path, names, size=(8, 12), seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        write_frame(folder / n, rng.integers(0, 256, (*size, 3), dtype=np.uint8))


def reds_lookalike(root: Path, clips=REDS4, frames=3, size=(8, 12), seed=0) -> Path:
    for k, c in enumerate(clips):
        write_clip(root / c, [f"{i:08d}.png" for i in range(frames)], size, seed + k)
    return root


def vimeo_lookalike(root: Path, clips=VIMEO_CLIPS, frames=range(1, 8), size=(8, 12), seed=0) -> Path:
    for k, c in enumerate(clips):
        write_clip(root / "sequences" / c, [f"im{i}.png" for i in frames], size, seed + k)
    return root


# ---------------------------------------------------------------------- facts

def test_the_six_suites_are_registered():
    assert tuple(SUITES) == SUITE_NAMES == ("vid4", "reds4", "vimeo90k-t", "udm10", "spmcs", "tos3")
    assert all(isinstance(s, Suite) for s in SUITES.values())


def test_unknown_suite_suggests_the_closest():
    with pytest.raises(UnknownNameError, match=r"unknown suite 'reds'; did you mean 'reds4'\?"):
        get_suite("reds")


def test_vid4_and_reds4_facts():
    vid4 = get_suite("vid4")
    assert [(s.name, s.frames, s.size) for s in vid4.sequences] == [
        ("calendar", 41, (576, 720)), ("city", 34, (576, 704)), ("foliage", 49, (480, 720)), ("walk", 47, (480, 720))]
    assert vid4.n_frames == 171
    reds = get_suite("reds4")
    assert reds.names == REDS4 and {(s.frames, s.size) for s in reds.sequences} == {(100, (720, 1280))}
    assert reds.layouts[0].frame_name(99) == "00000099.png"


def test_vimeo_clip_list_is_basicsr_meta_info():
    v = get_suite("vimeo90k-t")
    assert v.n_clips == 7824 and len(set(v.names)) == 7824
    assert v.names[:2] == ("00001/0266", "00001/0268")
    assert all(len(n) == 10 and n[5] == "/" and n[:5].isdigit() and n[6:].isdigit() for n in v.names)
    assert {(s.frames, s.size) for s in v.sequences} == {(7, (256, 448))}
    assert v.frames_scored == "center"


def test_conventions():
    assert get_suite("vid4").protocol().name == "basicsr-y"
    assert get_suite("reds4").protocol().color == "rgb"
    p = get_suite("vimeo90k-t").protocol()
    assert (p.color, p.crop_border, p.frames_scored) == ("y", 0, "center")
    assert get_suite("tos3").protocol().name == "tecogan"
    assert get_suite("vid4").protocol(crop_border=8).crop_border == 8


def test_degradations_exist():
    from vsrbench.baselines.degrade import DEGRADATIONS

    for s in SUITES.values():
        for d in s.degradations:
            assert d in DEGRADATIONS, (s.name, d)
    assert "bd-basicvsr" in get_suite("vid4").degradations and "bd-tecogan" in get_suite("tos3").degradations


# ---------------------------------------------------------------------- validation

def test_reds4_lookalike_validates(tmp_path):
    gt = reds_lookalike(tmp_path / "gt")
    suite = get_suite("reds4").lookalike(frames=3, size=(8, 12))
    check = suite.validate(gt)
    assert check.clips == REDS4 and check.layout == "basicsr"
    assert [len(s) for s in check.gt.values()] == [3] * 4


def test_reds4_strict_refuses_wrong_count_and_lenient_accepts(tmp_path):
    gt = reds_lookalike(tmp_path / "gt")
    with pytest.raises(InputError, match=r"GT clip '.*000': 3 frames, expected 100 \(100 frames "
                                         r"00000000.png..00000099.png\) for suite reds4"):
        get_suite("reds4").validate(gt)
    assert get_suite("reds4").validate(gt, strict=False).clips == REDS4


def test_missing_clip(tmp_path):
    gt = reds_lookalike(tmp_path / "gt", clips=("000", "011", "020"))
    with pytest.raises(InputError, match=r"suite reds4: 1 clip\(s\) missing: 015 \(expected 4 clips, found 3\)"):
        get_suite("reds4").lookalike(frames=3, size=(8, 12)).validate(gt)
