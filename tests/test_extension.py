"""Metrics computed by a scorer (:mod:`vsrbench.metrics.extension`): every registered scorer exists, a
scorer's rows reach the results like a built-in metric's, a no-reference scorer never sees the GT, and
a missing weights file is one line naming the file, where it was looked for and the download command."""
from __future__ import annotations

import importlib

import numpy as np
import pytest
from _support import toy_scorers

from vsrbench.core.errors import WeightsError
from vsrbench.evaluate import evaluate_many
from vsrbench.metrics.extension import (
    METRIC_WEIGHTS, MetricWeights, metric_weights, register_weights, require_weights, weights_missing,
)
from vsrbench.metrics.info import METRICS, MetricInfo
from vsrbench.run.policy import skip_missing_weights


@pytest.mark.parametrize("name", sorted(m for m, i in METRICS.items() if i.scorer))
def test_every_registered_scorer_exists(name):
    module, _, func = METRICS[name].scorer.partition(":")
    assert callable(getattr(importlib.import_module(module), func))
    for file in METRICS[name].weights:  # every weights file it needs is known to `vsrbench weights`
        assert file in metric_weights() or file.startswith("lpips-"), file


@pytest.fixture
def toys(monkeypatch):
    toy_scorers.SEEN.clear()
    monkeypatch.setitem(METRICS, "toy-bright", MetricInfo("toy-bright", "Bright", True, 2, reference=False,
                                                          scorer="_support.toy_scorers:brightness"))
    monkeypatch.setitem(METRICS, "toy-mad", MetricInfo("toy-mad", "MAD", False, 2, per_clip=True,
                                                       scorer="_support.toy_scorers:clip_mad"))
    return toy_scorers.SEEN


def _clip(values):
    return [np.full((16, 16, 3), v, np.uint8) for v in values]


def test_scorer_rows_come_back_with_the_built_in_metrics(toys):
    gt = _clip([100, 100, 100, 100, 100])
    preds = {"a": _clip([110, 120, 130, 140, 150]), "b": _clip([100] * 5)}
    scores = evaluate_many(preds, gt, protocol="basicsr-rgb", metrics=["psnr", "toy-bright", "toy-mad"])
    a = scores["a"]
    assert a.values("toy-bright").tolist() == [110.0, 120.0, 130.0, 140.0, 150.0]  # cut_frames=0: every frame
    assert a.values("toy-mad").tolist() == [30.0] and scores["b"].values("toy-mad").tolist() == [0.0]
    assert [r for r in a.rows if r[1] == "toy-mad"][0][0] == 0  # a per-clip value sits at the first scored frame
    assert a.values("psnr")[0] == pytest.approx(10 * np.log10(255 ** 2 / 100))
    assert a.rows == sorted(a.rows, key=lambda r: (r[0], ["psnr", "toy-bright", "toy-mad"].index(r[1])))
    # the no-reference scorer never got the GT; the full-reference one did
    assert {(gt_none, tuple(fr)) for _, gt_none, fr in toys} == {(True, (0, 1, 2, 3, 4)), (False, (0, 1, 2, 3, 4))}


def test_scorer_scores_the_protocol_frames(toys):
    scores = evaluate_many({"a": _clip(range(10, 80, 10))}, _clip([0] * 7), protocol="tecogan", metrics=["toy-bright"])
    assert scores["a"].values("toy-bright").tolist() == [30.0, 40.0, 50.0]  # tecogan cuts 2 frames at each end


@pytest.fixture
def toy_file(monkeypatch, tmp_path):
    monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setitem(METRIC_WEIGHTS, "toy-net", MetricWeights("toy-net", "toy_net.pth", "https://example.org/toy_net.pth",
                                                                 "example.org's releases", sha256="0" * 64))
    info = MetricInfo("toy-learned", "Toy", True, 2, scorer="_support.toy_scorers:brightness", weights=("toy-net",))
    monkeypatch.setitem(METRICS, "toy-learned", info)
    return info


def test_a_missing_weights_file_is_one_line_with_the_download_command(toy_file, tmp_path):
    with pytest.raises(WeightsError) as e:
        require_weights("toy-net")
    msg = str(e.value)
    assert "\n" not in msg and "'toy_net.pth' not found" in msg and str(tmp_path / "home") in msg
    assert "`vsrbench weights download toy-net`" in msg
    assert weights_missing(toy_file) == "toy-net"


def test_a_file_without_a_download_url_says_where_it_is_published(toy_file, monkeypatch):
    monkeypatch.setitem(METRIC_WEIGHTS, "toy-net", MetricWeights("toy-net", "toy_net.pth", None,
                                                                 "the authors' Dropbox (models.zip)"))
    with pytest.raises(WeightsError) as e:
        require_weights("toy-net")
    msg = str(e.value)
    assert msg.endswith("; no direct download is published: get it from the authors' Dropbox (models.zip)")
    assert "weights download" not in msg and msg.count("Dropbox") == 1


def test_a_file_of_other_content_is_refused(toy_file, tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "toy_net.pth").write_bytes(b"not the file")
    with pytest.raises(WeightsError, match="expected|sha256"):
        require_weights("toy-net")
    assert weights_missing(toy_file) is None  # found: using it reports why, it is not skipped as missing


def test_default_lists_skip_a_metric_without_its_file_with_one_note(toy_file):
    said = []
    assert skip_missing_weights(["psnr", "toy-learned"], named=False, say=said.append) == ["psnr"]
    assert said == ["note: toy-learned skipped: weights file 'toy-net' not found; "
                    "`vsrbench weights download toy-net` fetches it"]
    assert skip_missing_weights(["psnr", "toy-learned"], named=True, say=said.append) == ["psnr", "toy-learned"]


def test_registered_files_are_listed_by_vsrbench_weights(toy_file):
    from vsrbench.catalog.weights import known_weights

    register_weights(METRIC_WEIGHTS["toy-net"])
    assert known_weights()["toy-net"].filename == "toy_net.pth"


# ---------------------------------------------------------------------- no-reference scoring without GT

def _write_clips(root, clips: dict[str, list[int]]):
    from vsrbench.core.io import write_frame

    for name, values in clips.items():
        for i, v in enumerate(values):
            write_frame(root / name / f"{i:04d}.png", np.full((16, 16, 3), v, np.uint8))
    return root


def test_evaluate_without_gt_scores_no_reference_metrics(toys, tmp_path, capsys):
    from vsrbench.cli import main
    from vsrbench import load_results

    pred = _write_clips(tmp_path / "videolq" / "mine", {"a": list(range(0, 120)), "b": [7] * 60})
    out = tmp_path / "res"
    rc = main(["evaluate", "--pred", str(pred), "--metrics", "toy-bright", "--set", "frames_scored=0,50,99",
               "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    df = load_results(out)
    got = {(r.sequence, int(r.frame)): r.value for r in df.itertuples()}
    assert got == {("a", 0): 0.0, ("a", 50): 50.0, ("a", 99): 99.0, ("b", 0): 7.0, ("b", 50): 7.0}  # b: 60 frames
    assert {True} == {gt_none for _, gt_none, _ in toys}
    # again: resumed, nothing scored twice
    toys.clear()
    assert main(["evaluate", "--pred", str(pred), "--metrics", "toy-bright", "--set", "frames_scored=0,50,99",
                 "--out", str(out)]) == 0
    assert toys == [] and len(load_results(out)) == 5


@pytest.mark.parametrize("args, message", [
    (["--metrics", "psnr,toy-bright"], "psnr: full-reference metric(s) need --gt"),
    ([], "without --gt, name the no-reference metrics to score with --metrics"),
])
def test_evaluate_without_gt_refuses_full_reference_metrics_in_one_line(toys, tmp_path, capsys, args, message):
    from vsrbench.cli import main

    pred = _write_clips(tmp_path / "p", {"a": [1, 2, 3]})
    assert main(["evaluate", "--pred", str(pred), "--out", str(tmp_path / "o"), *args]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and not (tmp_path / "o").exists()


def test_a_frame_list_protocol_refuses_temporal_metrics_and_empty_clips():
    from vsrbench.core.errors import InputError
    from vsrbench.metrics import get_protocol

    proto = get_protocol("basicsr-rgb", frames_scored="99, 0,50")
    assert proto.frames_scored == "99, 0,50" and proto.scored_frames(60) == [0, 50]
    with pytest.raises(InputError, match="temporal metrics are not defined when only frames"):
        evaluate_many({"a": _clip([1] * 5)}, _clip([1] * 5), protocol=proto, metrics=["tof"])
    with pytest.raises(InputError, match="is not one of"):
        get_protocol("basicsr-rgb", frames_scored="0,a")


# ---------------------------------------------------------------------- metric options

def test_metric_options_are_parsed_checked_and_part_of_the_version():
    from vsrbench.core.errors import InputError, UnknownNameError
    from vsrbench.metrics.extension import metric_version, parse_metric_options

    opts = parse_metric_options(["dover.seed=3", "dover.repeats=2", "ewarp.raft_weights=raft-large-c-t-v1",
                                 "dover.antialias=true"])
    assert opts == {"dover": {"seed": 3, "repeats": 2, "antialias": True}, "ewarp": {"raft_weights": "raft-large-c-t-v1"}}
    assert metric_version("dover-technical", opts) == "1+antialias=True,repeats=2,seed=3"
    assert metric_version("dover", {}) == "1" and metric_version("psnr", opts) == "1"
    with pytest.raises(UnknownNameError, match="did you mean 'dover'"):
        parse_metric_options(["dovr.seed=1"])
    with pytest.raises(InputError, match="FAMILY.NAME=VALUE"):
        parse_metric_options(["seed=1"])


def test_evaluate_passes_metric_options_to_the_scorer_and_stores_their_version(toys, tmp_path, capsys, monkeypatch):
    from vsrbench import load_results
    from vsrbench.cli import main

    seen = []
    monkeypatch.setattr(toy_scorers, "brightness", lambda clip: seen.append(dict(clip.options)) or
                        [(t, float(clip.options.get("gain", 1))) for t in clip.frames])
    monkeypatch.setitem(METRICS, "toy-bright", MetricInfo("toy-bright", "Bright", True, 2, reference=False, family="toy",
                                                          scorer="_support.toy_scorers:brightness"))
    pred = _write_clips(tmp_path / "p", {"a": [1, 2, 3]})
    args = ["evaluate", "--pred", str(pred), "--metrics", "toy-bright", "--set", "frames_scored=0", "--out",
            str(tmp_path / "o")]
    assert main([*args, "--metric-option", "toy.gain=7"]) == 0, capsys.readouterr().err
    assert seen == [{"gain": 7}]
    df = load_results(tmp_path / "o")
    assert df["metric_version"].tolist() == ["1+gain=7"] and df["value"].tolist() == [7.0]
    assert main([*args, "--metric-option", "toy.gain=7"]) == 0 and len(seen) == 1  # the same settings: resumed
    assert main(args) == 0 and seen[-1] == {}  # default settings: another version, scored again
    df = load_results(tmp_path / "o")
    assert df["metric_version"].tolist() == ["1"] and df["value"].tolist() == [1.0]  # the latest is shown
