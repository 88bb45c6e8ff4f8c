"""Parts of a suite and the suites of diffusion-VSR papers: Vimeo-90K-T's fast / medium / slow partitions
(BasicSR's lists), a clip list file, im4-only outputs without a suite, and VideoLQ (no ground truth)."""
from __future__ import annotations

import numpy as np
import pytest

from vsrbench.catalog.suites import SUITES, get_suite
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.io import write_frame


def test_vimeo_partitions_are_basicsr_s_lists():
    suite = get_suite("vimeo90k-t")
    parts = {p: suite.partition(p) for p in ("fast", "medium", "slow")}
    assert {p: s.n_clips for p, s in parts.items()} == {"fast": 1225, "medium": 4977, "slow": 1613}
    names = [set(s.names) for s in parts.values()]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])  # disjoint
    rest = set(suite.names) - set().union(*names)  # 7824 - 7815: the test clips in no partition
    assert len(rest) == 9 and "00014/0030" in rest
    assert parts["fast"].names[0] == "00001/0625" and parts["fast"].subset == "fast"
    with pytest.raises(UnknownNameError, match="did you mean 'slow'"):
        suite.partition("slwo")
    with pytest.raises(InputError, match="not in the suite: 99999/0001"):
        suite.select(["00001/0625", "99999/0001"], "mine")


def test_new_suites_have_their_conventions():
    assert {"youhq40", "reds30", "videolq", "realvsr", "mvsr4x"} <= set(SUITES)
    lq = get_suite("videolq")
    assert not lq.ground_truth and lq.protocol().scored_frames(100) == [0, 50, 99]
    assert get_suite("youhq40").n_clips == 40 and get_suite("youhq40").protocol().ssim == "pyiqa"


def _clip(root, name, n, value=100, fmt="im{:d}.png", first=1, size=(12, 16)):
    for i in range(n):
        write_frame(root / name / fmt.format(first + i), np.full((*size, 3), value + i, np.uint8))


def _vimeo(root, clips, n=7, **kw):
    for c in clips:
        _clip(root / "sequences", c, n, **kw)
    return root


def test_evaluate_a_partition_of_vimeo(tmp_path, capsys, monkeypatch):
    suite = get_suite("vimeo90k-t")
    fast = suite.partition("fast").names[:2]
    slow = suite.partition("slow").names[:1]
    small = suite.lookalike(size=(12, 16))  # the test's frames are small; the clip set is the real one
    monkeypatch.setitem(SUITES, "vimeo90k-t", small)
    gt = _vimeo(tmp_path / "gt", [*fast, *slow])
    # im4 only for the outputs, of the fast clips and of one that is not in the partition
    for c in [*fast, *slow]:
        write_frame(tmp_path / "pred" / "sequences" / c / "im4.png", np.full((12, 16, 3), 103, np.uint8))
    monkeypatch.setattr(type(small), "partition", lambda self, name: self.select(fast, name))
    rc = main(["evaluate", "--suite", "vimeo90k-t", "--clips", "fast", "--clips-only", "--gt", str(gt),
               "--pred", str(tmp_path / "pred"), "--metrics", "psnr", "--out", str(tmp_path / "res")])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    from vsrbench import load_results

    df = load_results(tmp_path / "res")
    assert set(df["sequence"]) == set(fast) and set(df["dataset"]) == {"vimeo90k-t-fast"}
    assert df["value"].tolist() == [float("inf")] * 2  # im4 equals GT's centre frame (im4 = 100 + 3)


def test_a_clip_list_file_without_a_suite_and_im4_outputs(tmp_path, capsys):
    gt = tmp_path / "gt"
    for c in ("a", "b", "c"):
        _clip(gt, c, 7)
        write_frame(tmp_path / "pred" / c / "im4.png", np.full((12, 16, 3), 103, np.uint8))
    (tmp_path / "list.txt").write_text("# my subset\nb 7 (12,16,3)\nc\n")
    rc = main(["evaluate", "--gt", str(gt), "--pred", str(tmp_path / "pred"), "--clips", str(tmp_path / "list.txt"),
               "--protocol", "basicsr-y", "--set", "frames_scored=center", "--metrics", "psnr",
               "--out", str(tmp_path / "res")])
    assert rc == 0, capsys.readouterr().err
    from vsrbench import load_results

    df = load_results(tmp_path / "res")
    assert sorted(df["sequence"]) == ["b", "c"] and df["frame"].tolist() == [3, 3]
    assert np.isinf(df["value"]).all()
    assert main(["evaluate", "--gt", str(gt), "--pred", str(tmp_path / "pred"), "--clips", str(tmp_path / "nope.txt"),
                 "--metrics", "psnr", "--out", str(tmp_path / "res2")]) != 0
    assert "--clips" in capsys.readouterr().err


def test_videolq_is_scored_without_gt(tmp_path, capsys, monkeypatch):
    from _support import toy_scorers
    from vsrbench.metrics.info import METRICS, MetricInfo

    monkeypatch.setitem(METRICS, "toy-bright", MetricInfo("toy-bright", "Bright", True, 2, reference=False,
                                                          scorer="_support.toy_scorers:brightness"))
    toy_scorers.SEEN.clear()
    pred = tmp_path / "VideoLQ"
    for c in ("000", "001"):
        _clip(pred, c, 100, value=0, fmt="{:08d}.png", first=0, size=(8, 8))
    monkeypatch.setitem(SUITES, "videolq", get_suite("videolq"))  # its clip count is not validated: 2 clips pass
    rc = main(["evaluate", "--suite", "videolq", "--pred", str(pred), "--metrics", "toy-bright",
               "--out", str(tmp_path / "res")])
    assert rc == 0, capsys.readouterr().err
    from vsrbench import load_results

    df = load_results(tmp_path / "res")
    assert sorted(df["frame"].tolist()) == [0, 0, 50, 50, 99, 99] and set(df["dataset"]) == {"videolq"}
    assert main(["evaluate", "--suite", "videolq", "--gt", str(pred), "--pred", str(pred), "--metrics", "toy-bright",
                 "--out", str(tmp_path / "res2")]) != 0
    assert "has no ground truth" in capsys.readouterr().err


@pytest.mark.parametrize("name, count", [("youhq40", 40), ("reds30", 30)])
def test_diffusion_suites_validate_look_alike_layouts(tmp_path, name, count):
    suite = get_suite(name)
    gt = tmp_path / "GT"
    for i in range(count):
        _clip(gt, f"{i:03d}", 2, size=(8, 8))
    check = suite.validate(gt)
    assert len(check.clips) == count and check.suite.protocol().name == "pyiqa"
    import shutil

    shutil.rmtree(gt / "000")
    with pytest.raises(InputError, match=rf"suite {name}: {count - 1} clip folder\(s\), expected {count}"):
        suite.validate(gt)
