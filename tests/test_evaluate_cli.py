"""``vsrbench evaluate``: files written, resume after an interruption, and every user error as one
line on stderr with a non-zero exit status and no traceback.

The CLI runs in-process through ``vsrbench.cli.main`` (stderr captured), and once through a
subprocess to be sure nothing is printed but the one line. Values in ``frames.csv`` are
checked against the library's PSNR/SSIM/tOF references; ``summary.json``'s averages against
pandas over ``frames.csv``.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest
from _support.builders import synthetic_pair, write_dataset
from _support.spec import ref_psnr, ref_ssim, spec_tof

import vsrbench.evaluate
from vsrbench.cli import main
from vsrbench.core.io import write_frame

FAST = "psnr,ssim,tof"  # the metrics that need no weights


@pytest.fixture
def data(tmp_path, rng):
    """GT and PRED datasets of two 7-frame 96x128 sequences (PRED named like DUF's outputs)."""
    gt, out = {}, {}
    for name in ("walk", "city"):
        o, g = synthetic_pair(rng, n=7)
        gt[name], out[name] = list(g), list(o)
    write_dataset(tmp_path / "GT", gt)
    write_dataset(tmp_path / "PRED", out, "Frame{:03d}.png")
    return tmp_path, gt, out


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["evaluate", *map(str, argv)])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def error_line(err: str) -> str:
    """The one error line, checked to be alone (progress lines excepted) and traceback-free."""
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("evaluate: ")]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("vsrbench evaluate: error: ")
    return lines[0][len("vsrbench evaluate: error: "):]


# ------------------------------------------------------------------ results

def test_frames_csv_and_summary(data, capsys):
    root, gt, out = data
    code, stdout, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res",
                                "--metrics", FAST)
    assert code == 0, err
    df = pd.read_csv(root / "res" / "frames.csv")
    assert list(df.columns) == ["sequence", "frame", "frame_name", "pred_name", "metric", "value", "protocol"]
    assert set(df["protocol"]) == {"tecogan"}
    for seq in ("walk", "city"):
        g, o = gt[seq], out[seq]
        rows = df[df["sequence"] == seq]
        for metric, frames, ref in [("psnr", range(2, 5), lambda t: ref_psnr(o[t], g[t])),
                                    ("ssim", range(2, 5), lambda t: ref_ssim(o[t], g[t])),
                                    ("tof", range(3, 5), lambda t: spec_tof(o, g, t))]:
            sub = rows[rows["metric"] == metric].sort_values("frame")
            assert list(sub["frame"]) == list(frames)
            np.testing.assert_allclose(sub["value"], [ref(t) for t in frames], rtol=0, atol=1e-6)
        assert list(rows[rows["metric"] == "psnr"].sort_values("frame")["frame_name"]) == [
            "Frame 003.png", "Frame 004.png", "Frame 005.png"]
    summary = json.loads((root / "res" / "summary.json").read_text())
    assert summary["complete"] is True and sorted(summary["done"]) == ["city", "walk"]
    assert summary["metrics"] == ["psnr", "ssim", "tof"] and summary["protocol"] == "tecogan"
    for metric in ("psnr", "ssim", "tof"):
        sub = df[df["metric"] == metric]
        seq_means = sub.groupby("sequence")["value"].mean()
        assert summary["frame_avg"][metric] == pytest.approx(sub["value"].mean(), abs=1e-12)
        assert summary["seq_avg"][metric] == pytest.approx(seq_means.mean(), abs=1e-12)
        assert summary["sequences"]["city"][metric] == pytest.approx(seq_means["city"], abs=1e-12)
    assert "seq_avg" in stdout and "PSNR↑" in stdout and "tOF↓" in stdout
    assert f"wrote {root / 'res' / 'frames.csv'}" in stdout


def test_all_five_metrics_with_a_backbone(data, capsys, alexnet_home):
    root, _, _ = data
    code, stdout, err = run_cli(capsys, "--gt", root / "GT" / "walk", "--pred", root / "PRED" / "walk",
                                "--out", root / "res", "--device", "cpu")
    assert code == 0, err
    df = pd.read_csv(root / "res" / "frames.csv")
    assert df.groupby("metric").size().to_dict() == {"lpips": 3, "psnr": 3, "ssim": 3, "tlp": 2, "tof": 2}
    assert "LPIPS↓" in stdout and "tLP↓" in stdout


def test_protocol_override_is_recorded(data, capsys):
    root, gt, out = data
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res",
                           "--protocol", "basicsr-y", "--set", "crop_border=8")
    assert code == 0, err
    summary = json.loads((root / "res" / "summary.json").read_text())
    assert summary["protocol"] == "basicsr-y[crop_border=8]" and summary["protocol_fields"]["crop_border"] == 8
    assert summary["n_frames"] == {"psnr": 14, "ssim": 14}  # basicsr: every frame counts


def test_video_input(tmp_path, capsys, rng):
    gt_frames = [np.full((96, 128, 3), 0, np.uint8) for _ in range(6)]
    for t, f in enumerate(gt_frames):
        f[:, :] = (30, 80, 140)
        f[30:60, 20 + 6 * t:60 + 6 * t] = (230, 200, 40)  # a moving block
    paths = []
    for name, frames in (("gt", gt_frames), ("out", [np.roll(f, 1, axis=1) for f in gt_frames])):
        paths.append(tmp_path / f"{name}.avi")
        writer = cv2.VideoWriter(str(paths[-1]), cv2.VideoWriter_fourcc(*"MJPG"), 10, (128, 96))
        if not writer.isOpened():
            pytest.skip("this OpenCV build cannot write MJPG .avi files (no video backend)")
        for f in frames:
            writer.write(np.ascontiguousarray(f[:, :, ::-1]))
        writer.release()
    code, _, err = run_cli(capsys, "--gt", paths[0], "--pred", paths[1], "--out", tmp_path / "res", "--metrics", FAST)
    assert code == 0, err
    decoded = []
    for p in paths:  # what OpenCV decodes from the files, as RGB
        cap = cv2.VideoCapture(str(p))
        decoded.append([cv2.cvtColor(cap.read()[1], cv2.COLOR_BGR2RGB) for _ in range(6)])
        cap.release()
    df = pd.read_csv(tmp_path / "res" / "frames.csv")
    psnr_rows = df[df["metric"] == "psnr"].sort_values("frame")
    assert list(psnr_rows["sequence"]) == ["gt"] * 2 and list(psnr_rows["frame"]) == [2, 3]
    np.testing.assert_allclose(psnr_rows["value"], [ref_psnr(decoded[1][t], decoded[0][t]) for t in (2, 3)],
                               rtol=0, atol=1e-6)


def test_non_image_file_is_noted_and_ignored(data, capsys):
    root, _, _ = data
    (root / "PRED" / "walk" / "notes.txt").write_text("hello")
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res",
                           "--metrics", "psnr")
    assert code == 0
    assert f"note: ignored 1 non-frame file(s) in {root / 'PRED' / 'walk'}: notes.txt" in err.splitlines()
    assert len(pd.read_csv(root / "res" / "frames.csv")) == 6


# ------------------------------------------------------------------ interruption and resume

def test_interrupted_run_keeps_the_first_sequence_and_resumes(data, capsys, monkeypatch):
    root, gt, out = data
    real = vsrbench.evaluate.evaluate_sequence
    calls: list[str] = []

    def failing_on_second(g, p, **kw):
        calls.append(kw["name"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(g, p, **kw)

    monkeypatch.setattr(vsrbench.evaluate, "evaluate_sequence", failing_on_second)
    args = ("--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res", "--metrics", FAST)
    code, _, err = run_cli(capsys, *args)
    assert code == 130 and "vsrbench evaluate: interrupted; results written so far are kept" in err
    first = calls[0]
    summary = json.loads((root / "res" / "summary.json").read_text())
    assert summary["complete"] is False and summary["done"] == [first]
    df = pd.read_csv(root / "res" / "frames.csv")
    assert set(df["sequence"]) == {first} and len(df) == 3 + 3 + 2
    np.testing.assert_allclose(df[df["metric"] == "psnr"].sort_values("frame")["value"],
                               [ref_psnr(out[first][t], gt[first][t]) for t in range(2, 5)], rtol=0, atol=1e-6)

    calls.clear()
    monkeypatch.setattr(vsrbench.evaluate, "evaluate_sequence", lambda g, p, **kw: calls.append(kw["name"]) or real(g, p, **kw))
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    assert calls == [s for s in ("city", "walk") if s != first]  # the first is not recomputed
    resumed = json.loads((root / "res" / "summary.json").read_text())
    code, _, _ = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "fresh",
                         "--metrics", FAST)
    fresh = json.loads((root / "fresh" / "summary.json").read_text())
    assert resumed["complete"] is True and sorted(resumed["done"]) == ["city", "walk"]
    for key in ("frame_avg", "seq_avg", "sequences", "n_frames"):
        assert resumed[key] == pytest.approx(fresh[key]) if key != "sequences" else resumed[key] == fresh[key]
    a = pd.read_csv(root / "res" / "frames.csv").sort_values(["sequence", "metric", "frame"]).reset_index(drop=True)
    b = pd.read_csv(root / "fresh" / "frames.csv").sort_values(["sequence", "metric", "frame"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_resume_with_numeric_sequence_names(tmp_path, capsys, monkeypatch, rng):
    """REDS4's sequences are called 000, 011, ...: a resumed run must keep them as names."""
    gt, out = {}, {}
    for name in ("000", "011"):
        o, g = synthetic_pair(rng, n=5)
        gt[name], out[name] = list(g), list(o)
    write_dataset(tmp_path / "GT", gt, "{:08d}.png")
    write_dataset(tmp_path / "PRED", out, "{:08d}.png")
    args = ("--gt", tmp_path / "GT", "--pred", tmp_path / "PRED", "--out", tmp_path / "res", "--metrics", "psnr")
    assert run_cli(capsys, *args)[0] == 0
    first = json.loads((tmp_path / "res" / "summary.json").read_text())
    real = vsrbench.evaluate.evaluate_sequence
    calls = []
    monkeypatch.setattr(vsrbench.evaluate, "evaluate_sequence", lambda g, p, **kw: calls.append(kw["name"]) or real(g, p, **kw))
    assert run_cli(capsys, *args)[0] == 0
    again = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert calls == [] and again["sequences"] == first["sequences"] and again["seq_avg"] == first["seq_avg"]
    df = pd.read_csv(tmp_path / "res" / "frames.csv", dtype={"sequence": str, "frame_name": str})
    assert sorted(set(df["sequence"])) == ["000", "011"] and "00000003.png" in set(df["frame_name"])


def test_protocol_name_with_commas_survives_csv_and_resume(data, capsys, monkeypatch):
    root, gt, out = data
    args = ("--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res", "--metrics", "psnr",
            "--protocol", "basicsr-y", "--set", "crop_border=4", "--set", "cut_frames=1")
    assert run_cli(capsys, *args)[0] == 0
    df = pd.read_csv(root / "res" / "frames.csv")
    assert list(df.columns) == ["sequence", "frame", "frame_name", "pred_name", "metric", "value", "protocol"]
    assert set(df["protocol"]) == {"basicsr-y[crop_border=4,cut_frames=1]"} and len(df) == 2 * 5
    first = json.loads((root / "res" / "summary.json").read_text())
    calls = []
    real = vsrbench.evaluate.evaluate_sequence
    monkeypatch.setattr(vsrbench.evaluate, "evaluate_sequence", lambda g, p, **kw: calls.append(kw["name"]) or real(g, p, **kw))
    assert run_cli(capsys, *args)[0] == 0
    again = json.loads((root / "res" / "summary.json").read_text())
    assert calls == [] and again["seq_avg"] == first["seq_avg"] and again["sequences"] == first["sequences"]
    assert again["seq_avg"]["psnr"] > 0


def test_other_metrics_are_added_to_the_stored_sequences_and_no_resume_replaces(data, capsys, monkeypatch):
    """The resume rule of every writer (as `vsrbench run`): metrics missing from the stored sequences are
    computed and added; the stored ones are kept, not recomputed."""
    root, _, _ = data
    base = ("--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res")
    assert run_cli(capsys, *base, "--metrics", "psnr")[0] == 0
    psnr_rows = pd.read_csv(root / "res" / "frames.csv")
    real = vsrbench.evaluate.evaluate_sequence
    calls = []
    monkeypatch.setattr(vsrbench.evaluate, "evaluate_sequence",
                        lambda g, p, **kw: calls.append((kw["name"], list(kw["metrics"]))) or real(g, p, **kw))
    code, _, err = run_cli(capsys, *base, "--metrics", "psnr,ssim")
    assert code == 0, err
    assert sorted(calls) == [("city", ["ssim"]), ("walk", ["ssim"])]  # psnr is not computed again
    both = pd.read_csv(root / "res" / "frames.csv")
    assert set(both["metric"]) == {"psnr", "ssim"}
    kept = both[both["metric"] == "psnr"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept[["sequence", "frame", "value"]], psnr_rows[["sequence", "frame", "value"]])
    calls.clear()
    assert run_cli(capsys, *base, "--metrics", "psnr,ssim", "--no-resume")[0] == 0
    assert sorted(calls) == [("city", ["psnr", "ssim"]), ("walk", ["psnr", "ssim"])]
    assert set(pd.read_csv(root / "res" / "frames.csv")["metric"]) == {"psnr", "ssim"}


def test_other_inputs_are_refused_not_served_stale_scores(data, capsys):
    """Other outputs under the same method name (--method; by default the PRED folder's name) are
    refused; under another name they are stored beside (tests/test_evaluate_store.py)."""
    root, _, _ = data
    assert run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res", "--metrics", "psnr")[0] == 0
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "GT", "--method", "PRED", "--out", root / "res",
                           "--metrics", "psnr")
    assert code == 2
    assert error_line(err) == (f"{str(root / 'res')!r} holds scores computed with other inputs (GT/PRED folders or "
                               "sequences); pass --no-resume to replace them, or choose another --out")


def test_summary_is_strict_json_with_non_finite_values_as_strings(data, capsys):
    root, _, _ = data
    assert run_cli(capsys, "--gt", root / "GT", "--pred", root / "GT", "--out", root / "same", "--metrics", "psnr")[0] == 0
    text = (root / "same" / "summary.json").read_text()
    summary = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert summary["seq_avg"]["psnr"] == "NaN"  # every frame identical: all inf, none finite
    assert summary["n_nonfinite"]["psnr"] == summary["n_frames"]["psnr"] > 0


# ------------------------------------------------------------------ bad input: one line, exit 2

def test_frame_count_mismatch(data, capsys):
    root, _, _ = data
    (root / "PRED" / "city" / "Frame007.png").unlink()
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res", "--metrics", FAST)
    assert code == 2
    assert error_line(err) == "sequence 'city': GT has 7 frames but the output has 6"
    assert not (root / "res").exists()  # checked before any work


def test_sequence_names_differ(data, capsys):
    root, _, _ = data
    (root / "PRED" / "city").rename(root / "PRED" / "cty")
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res", "--metrics", FAST)
    assert code == 2
    assert error_line(err) == "GT and PRED sequences differ (missing in PRED: city; not in GT: cty)"


def test_output_smaller_than_gt(data, capsys):
    root, _, out = data
    write_frame(root / "PRED" / "walk" / "Frame004.png", out["walk"][3][:80, :120])
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res", "--metrics", FAST)
    assert code == 2
    assert error_line(err) == ("sequence 'walk', frame 3 (Frame 004.png): output is 120x80 but GT is 128x96 "
                               "(only an output larger than GT is cut, keeping its top-left corner)")


@pytest.mark.parametrize("which", ["missing", "empty"])
def test_missing_or_empty_folder(data, capsys, which):
    root, _, _ = data
    pred = root / "nothing"
    if which == "empty":
        pred.mkdir()
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", pred, "--out", root / "res", "--metrics", FAST)
    assert code == 2
    want = f"path not found: '{pred}'" if which == "missing" else (
        f"no frames, sequence folders or videos in '{pred}' (empty folder)")
    assert error_line(err) == want


def test_unreadable_png(data, capsys):
    root, _, _ = data
    bad = root / "PRED" / "walk" / "Frame003.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res", "--metrics", FAST)
    assert code == 2
    assert error_line(err) == f"cannot decode frame '{bad}': corrupt PNG (invalid chunk header at byte 8); copy or export the frame again"


def test_unknown_metric_and_protocol(data, capsys):
    root, _, _ = data
    base = ("--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res")
    code, _, err = run_cli(capsys, *base, "--metrics", "psnr,ssimm")
    assert code == 2
    assert error_line(err).startswith("unknown metric 'ssimm'; did you mean 'ssim'? (known: ")
    code, _, err = run_cli(capsys, *base, "--protocol", "tecogn")
    assert code == 2
    assert error_line(err).startswith("unknown protocol 'tecogn'; did you mean 'tecogan'? (known: ")
    code, _, err = run_cli(capsys, *base, "--set", "crop_border")
    assert code == 2
    assert error_line(err) == "protocol override 'crop_border' is not of the form FIELD=VALUE"


def test_lpips_weights_missing(data, capsys):
    """Asked for explicitly, LPIPS/tLP without weights are an error (by default they are skipped:
    test_trust_progress.py)."""
    root, _, _ = data
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "res",
                           "--metrics", "psnr,ssim,lpips,tof,tlp")
    assert code == 2
    line = error_line(err)
    assert line.startswith("weights file 'alexnet-owt-7be5be79.pth' not found (searched: ")
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in line
    assert line.endswith("; to score without LPIPS/tLP use --metrics psnr,ssim,tof")
    assert not (root / "res").exists()


def test_too_short_for_temporal_metrics(tmp_path, capsys, rng):
    o, g = synthetic_pair(rng, n=5)
    write_dataset(tmp_path / "GT", {"s": list(g)})
    write_dataset(tmp_path / "PRED", {"s": list(o)})
    code, _, err = run_cli(capsys, "--gt", tmp_path / "GT", "--pred", tmp_path / "PRED", "--out", tmp_path / "res",
                           "--metrics", FAST)
    assert code == 2
    assert error_line(err) == ("sequence 's' has 5 frames; temporal metrics need at least 6 "
                               "with 2 frame(s) cut at each end (protocol tecogan)")


def test_subprocess_prints_one_line_without_traceback(data):
    root, _, _ = data
    proc = subprocess.run([sys.executable, "-m", "vsrbench", "evaluate", "--gt", str(root / "GT"), "--pred",
                           str(root / "PRED"), "--out", str(root / "res"), "--metrics", "psnr,ssimm"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("vsrbench evaluate: error: unknown metric 'ssimm'; did you mean 'ssim'?")


def test_nan_is_rejected_by_the_library():
    from vsrbench.core.errors import InputError

    frames = [np.zeros((64, 64, 3)) for _ in range(5)]
    frames[2][0, 0, 0] = math.nan
    with pytest.raises(InputError, match=r"^gt frame 2: contains NaN or inf values$"):
        vsrbench.evaluate.evaluate_sequence([np.zeros((64, 64, 3))] * 5, frames, metrics=["psnr"], name="gt")


def test_out_that_is_a_file_is_one_line(data, capsys):
    root, _, _ = data
    (root / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "--gt", root / "GT", "--pred", root / "PRED", "--out", root / "notes.txt",
                           "--metrics", "psnr")
    assert code == 2
    assert error_line(err) == f"--out {str(root / 'notes.txt')!r} is a file, not a folder"
    assert (root / "notes.txt").read_text() == "mine"
