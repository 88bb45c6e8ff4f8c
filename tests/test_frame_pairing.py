"""Frames paired by the number in their names (issue 16 §1), and the §4 cases of frame files: a broken
symbolic link, lossless video (FFV1) and JPEG frames.

The frames are built so that the right pairing has a hand-computed score: output frame ``n`` is GT frame
``n`` plus or minus 3 in every value, so under ``basicsr-rgb`` (RGB, no crop, no frame cut) every
correctly paired frame has MSE 9 and PSNR ``20 log10(255 / 3)``; a frame paired with another GT frame
(independent noise) scores ~10 dB lower.
"""
from __future__ import annotations

import math
import os
import sqlite3
import warnings
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

import vsrbench.core.io as io_mod
from vsrbench.cli import main
from vsrbench.core.errors import InputError, VsrbenchWarning
from vsrbench.core.io import frame_numbers, open_sequence, pair_frames, write_frame
from vsrbench.evaluate import evaluate_sequence
from vsrbench.results.loading import load_results
from vsrbench.results.store import APPLICATION_ID, STORE_FILENAME, ResultsStore

EXACT_PSNR = 20 * math.log10(255 / 3)  # MSE 9 in every plane
H = W = 32


def gt_frame(n: int) -> np.ndarray:
    """GT frame number ``n``: seeded noise in 10..245 (room for the +-3 of its output)."""
    return np.random.default_rng(1000 + n).integers(10, 246, (H, W, 3), dtype=np.uint8)


def out_frame(n: int) -> np.ndarray:
    """The output for GT frame ``n``: every value moved by +3 or -3 (MSE exactly 9)."""
    sign = np.where(np.random.default_rng(2000 + n).random((H, W, 3)) < 0.5, -3, 3)
    return (gt_frame(n).astype(np.int16) + sign).astype(np.uint8)


def write_gt(folder: Path, numbers, pattern: str = "{:04d}.png") -> Path:
    for n in numbers:
        write_frame(folder / pattern.format(n), gt_frame(n))
    return folder


def write_out(folder: Path, names: dict[int, str]) -> Path:
    """Output frames ``{number: file name}`` (the frame written is the one for that GT number)."""
    for n, name in names.items():
        write_frame(folder / name, out_frame(n))
    return folder


def evaluate_cli(capsys, gt, pred, out, *extra) -> tuple[int, str, str]:
    code = main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--out", str(out), "--protocol", "basicsr-rgb",
                 "--metrics", "psnr", *map(str, extra)])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def one_error(err: str, command: str = "evaluate") -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith(f"vsrbench {command}: error: ")]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0][len(f"vsrbench {command}: error: "):]


def vsrbench_warnings(rec) -> list[str]:
    return [str(w.message) for w in rec if issubclass(w.category, VsrbenchWarning)]


# ------------------------------------------------------------------ the rule

def test_frame_numbers_rule():
    assert frame_numbers(["frame_1.png", "frame_01.png", "Frame 001.png"]) == [1, 1, 1]
    assert frame_numbers(["calendar_0007.png", "calendar_0012.png"]) == [7, 12]
    assert frame_numbers(["0007_x4.png", "0008_x4.png"]) == [7, 8]  # a constant suffix is skipped
    assert frame_numbers(["v9_1.png", "v8_2.png"]) == [1, 2]  # the last run, not all digits
    assert frame_numbers(["im4.png"]) == [4]
    assert frame_numbers(["a.png", "b1.png"]) is None


def test_the_issue_example_is_one_line_naming_5_and_11(tmp_path, capsys):
    gt = write_gt(tmp_path / "GT" / "clip", range(1, 11))
    pred = write_out(tmp_path / "PRED" / "clip", {n: f"{n:04d}.png" for n in [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]})
    message = (f"sequence 'clip': GT frame 5 has no output frame; output frame 11 has no GT frame (frames pair by "
               f"the number in their names; GT {str(gt)!r}, output {str(pred)!r})")
    with pytest.raises(InputError) as e:
        pair_frames(open_sequence(gt), open_sequence(pred)).aligned()
    assert str(e.value) == message
    code, _, err = evaluate_cli(capsys, gt, pred, tmp_path / "res")
    assert code == 2 and one_error(err) == message
    assert not (tmp_path / "res").exists()  # refused before any work


def test_first_few_numbers_are_named(tmp_path):
    gt = write_gt(tmp_path / "GT", range(1, 21))
    pred = write_out(tmp_path / "PRED", {n: f"{n:04d}.png" for n in range(13, 33)})
    problem = pair_frames(open_sequence(gt), open_sequence(pred)).problem
    assert problem.startswith("sequence 'GT': GT frames 1, 2, 3, 4, 5, ... (12 in all) have no output frame; "
                              "output frames 21, 22, 23, 24, 25, ... (12 in all) have no GT frame ("), problem


def test_spellings_of_one_number_pair_and_score_exactly(tmp_path):
    gt = write_gt(tmp_path / "GT", range(1, 7), "Frame {:03d}.png")
    spell = ["frame_1.png", "frame_02.png", "Frame 003.png", "frame0004.png", "x_5.png", "f-006.png"]
    pred = write_out(tmp_path / "PRED", {n: spell[n - 1] for n in range(1, 7)})
    pairing = pair_frames(open_sequence(gt), open_sequence(pred))
    assert pairing.by == "number" and pairing.problem is None and pairing.note is None
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        got = evaluate_sequence(open_sequence(pred), open_sequence(gt), protocol="basicsr-rgb", metrics=["psnr"],
                                device="cpu")
    assert vsrbench_warnings(rec) == []
    np.testing.assert_allclose(got.values("psnr"), [EXACT_PSNR] * 6, rtol=0, atol=1e-9)
    assert got.pred_names == spell and got.frame_names[0] == "Frame 001.png"


def test_reordered_names_pair_by_number(tmp_path):
    """``v{10-n}_{n}.png``: sorted by all their digits (the protocol's order) the names come last frame first."""
    gt = write_gt(tmp_path / "GT", range(1, 11))
    pred = write_out(tmp_path / "PRED", {n: f"v{10 - n}_{n}.png" for n in range(1, 11)})
    seq = open_sequence(pred)
    assert seq.frame_name(0) == "v0_10.png"  # position pairing would compare GT frame 1 with output frame 10
    aligned = pair_frames(open_sequence(gt), seq).aligned()
    assert [p.name for p in aligned.paths] == [f"v{10 - n}_{n}.png" for n in range(1, 11)]
    got = evaluate_sequence(seq, open_sequence(gt), protocol="basicsr-rgb", metrics=["psnr"], device="cpu")
    np.testing.assert_allclose(got.values("psnr"), [EXACT_PSNR] * 10, rtol=0, atol=1e-9)


def test_names_without_numbers_pair_by_position_said_once(tmp_path, capsys):
    letters = "abcdefg"
    for clip in ("one", "two"):
        for i, c in enumerate(letters):
            write_frame(tmp_path / "GT" / clip / f"{c}.png", gt_frame(i))
            write_frame(tmp_path / "PRED" / clip / f"out_{c}.png", out_frame(i))
    code, out, err = evaluate_cli(capsys, tmp_path / "GT", tmp_path / "PRED", tmp_path / "res")
    assert code == 0, err
    note = ("vsrbench evaluate: warning: some GT frame names carry no frame number, so GT and output frames are "
            "paired by position (name frames with their number, e.g. 0001.png, to pair them by number)")
    assert [ln for ln in err.splitlines() if "position" in ln] == [note]  # two sequences, one line
    df = pd.read_csv(tmp_path / "res" / "frames.csv")
    np.testing.assert_allclose(df["value"], EXACT_PSNR, rtol=0, atol=1e-9)


def test_numbered_from_0_against_numbered_from_1_pairs_in_order_with_a_note(tmp_path):
    gt = write_gt(tmp_path / "GT", range(1, 8), "Frame {:03d}.png")  # the DUF layout of Vid4
    pred = write_out(tmp_path / "PRED", {n: f"{n - 1:08d}.png" for n in range(1, 8)})  # BasicSR's
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        got = evaluate_sequence(open_sequence(pred), open_sequence(gt), protocol="basicsr-rgb", metrics=["psnr"],
                                device="cpu")
    assert vsrbench_warnings(rec) == ["GT frames are numbered from 1, output frames from 0: frames are paired in the "
                                      "order of their numbers"]
    np.testing.assert_allclose(got.values("psnr"), [EXACT_PSNR] * 7, rtol=0, atol=1e-9)


def test_an_output_that_stops_early_keeps_the_count_message(tmp_path):
    gt = write_gt(tmp_path / "GT", range(1, 8))
    pred = write_out(tmp_path / "PRED", {n: f"{n:04d}.png" for n in range(1, 7)})
    assert pair_frames(open_sequence(gt), open_sequence(pred)).problem == \
        "sequence 'GT': GT has 7 frames but the output has 6"
    (tmp_path / "PRED" / "0003.png").unlink()  # a gap says more than the count: which frames
    write_frame(tmp_path / "PRED" / "0006.png", out_frame(6))
    assert pair_frames(open_sequence(gt), open_sequence(pred)).problem.startswith(
        "sequence 'GT': GT frames 3, 7 have no output frame (frames pair by the number in their names; ")


# ------------------------------------------------------------------ every command uses the rule

def test_evaluate_end_to_end_stores_and_exports_both_names(tmp_path, capsys):
    gt = write_gt(tmp_path / "GT" / "clip", range(1, 9))
    pred = write_out(tmp_path / "PRED" / "clip", {n: f"v{10 - n}_{n}.png" for n in range(1, 9)})
    code, _, err = evaluate_cli(capsys, gt.parent, pred.parent, tmp_path / "res")
    assert code == 0, err
    csv = pd.read_csv(tmp_path / "res" / "frames.csv", dtype={"frame_name": str, "pred_name": str})
    assert list(csv.columns) == ["sequence", "frame", "frame_name", "pred_name", "metric", "value", "protocol"]
    assert list(csv["frame_name"]) == [f"{n:04d}.png" for n in range(1, 9)]
    assert list(csv["pred_name"]) == [f"v{10 - n}_{n}.png" for n in range(1, 9)]
    np.testing.assert_allclose(csv["value"], EXACT_PSNR, rtol=0, atol=1e-9)
    df = load_results(tmp_path / "res")
    assert list(df["pred_name"]) == list(csv["pred_name"]) and list(df["frame_name"]) == list(csv["frame_name"])


def _bench(tmp_path: Path, pred: Path, gt: Path) -> Path:
    bench = tmp_path / "bench.toml"
    bench.write_text(f'protocol = "basicsr-rgb"\nmetrics = ["psnr"]\n[datasets.syn]\ngt = "{gt}"\nlr = "{gt}"\n'
                     f'scale = 1\n[methods.A]\noutputs = {{ syn = "{pred}" }}\n')
    return bench


def test_run_end_to_end_pairs_by_number(tmp_path, capsys):
    gt = write_gt(tmp_path / "GT" / "clip", range(1, 9))
    pred = write_out(tmp_path / "A" / "clip", {n: f"v{10 - n}_{n}.png" for n in range(1, 9)})
    code = main(["run", str(_bench(tmp_path, pred.parent, gt.parent)), "--out", str(tmp_path / "res"),
                 "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    df = load_results(tmp_path / "res")
    np.testing.assert_allclose(df["value"], EXACT_PSNR, rtol=0, atol=1e-9)
    assert list(df["pred_name"]) == [f"v{10 - n}_{n}.png" for n in range(1, 9)]


def test_run_skips_a_sequence_whose_numbers_differ(tmp_path, capsys):
    gt = write_gt(tmp_path / "GT" / "clip", range(1, 11))
    pred = write_out(tmp_path / "A" / "clip", {n: f"{n:04d}.png" for n in [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]})
    code = main(["run", str(_bench(tmp_path, pred.parent, gt.parent)), "--out", str(tmp_path / "res"),
                 "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 1
    assert (f"failed: A/syn/clip: sequence 'clip': GT frame 5 has no output frame; output frame 11 has no GT frame "
            f"(frames pair by the number in their names; GT {str(gt)!r}, output {str(pred)!r})") in out, out


def test_explain_and_profile_refuse_the_issue_example(tmp_path, capsys):
    from vsrbench.explain import explain, parse_target

    gt = write_gt(tmp_path / "GT", range(1, 11))
    pred = write_out(tmp_path / "PRED", {n: f"{n:04d}.png" for n in [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]})
    with pytest.raises(InputError, match=r"^sequence 'GT': GT frame 5 has no output frame; output frame 11 has no "
                                         r"GT frame \(frames pair by the number"):
        explain([(open_sequence(gt), open_sequence(pred))], [parse_target("psnr=30")])
    code = main(["profile", "--gt", str(gt), "--pred", str(pred), "--out", str(tmp_path / "p.png")])
    err = capsys.readouterr().err
    assert code == 2 and one_error(err, "profile").startswith("sequence 'GT': GT frame 5 has no output frame; ")
    assert not (tmp_path / "p.png").exists()


def test_explain_scores_reordered_names_by_number(tmp_path):
    from vsrbench.explain import explain, parse_target

    gt = write_gt(tmp_path / "GT", range(1, 9))  # 8 frames: by position, even the centre frames differ
    pred = write_out(tmp_path / "PRED", {n: f"v{10 - n}_{n}.png" for n in range(1, 9)})
    ex = explain([(open_sequence(gt), open_sequence(pred))], [parse_target(f"psnr={EXACT_PSNR:.2f}")])
    best = ex.rows[0]
    # RGB, every frame MSE 9: whatever the crop or frame rule, an RGB variant reaches the exact value
    assert best.values["psnr"] == pytest.approx(EXACT_PSNR, abs=1e-9)


def _decoded(monkeypatch) -> list[str]:
    """The file names decoded from now on (every frame read goes through ``decode_image``)."""
    seen: list[str] = []
    real = io_mod.decode_image

    def spy(path):
        seen.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(io_mod, "decode_image", spy)
    return seen


def test_figure_and_report_show_the_paired_output_frame(tmp_path, capsys, monkeypatch):
    from vsrbench.visual.figures import crop_figure
    from vsrbench.visual.report import build_report

    gt = write_gt(tmp_path / "GT" / "clip", range(1, 9))
    pred = write_out(tmp_path / "PRED" / "clip", {n: f"v{10 - n}_{n}.png" for n in range(1, 9)})
    assert evaluate_cli(capsys, gt.parent, pred.parent, tmp_path / "res", "--method", "m")[0] == 0
    seen = _decoded(monkeypatch)
    crop_figure(tmp_path / "res", "GT", "clip", frame=2, box=(0, 0, 8, 8))
    assert seen == ["0003.png", "v7_3.png"]  # GT frame 3 beside output frame 3 (by position: v7_3 is index 7)
    seen.clear()
    build_report(tmp_path / "res", tmp_path / "report", profiles=False)
    gt_read = [n for n in seen if not n.startswith("v")]
    out_read = [n for n in seen if n.startswith("v")]
    assert gt_read and sorted(int(n[-6:-4].strip("_")) for n in out_read) == sorted(int(n[:4]) for n in gt_read)


def test_figure_of_a_store_without_output_names_pairs_by_number(tmp_path, capsys, monkeypatch):
    from vsrbench.visual.figures import crop_figure

    gt = write_gt(tmp_path / "GT" / "clip", range(1, 9))
    pred = write_out(tmp_path / "PRED" / "clip", {n: f"v{10 - n}_{n}.png" for n in range(1, 9)})
    assert evaluate_cli(capsys, gt.parent, pred.parent, tmp_path / "res", "--method", "m")[0] == 0
    with sqlite3.connect(tmp_path / "res" / STORE_FILENAME) as c:  # as a store of schema 2 holds them
        c.execute("UPDATE results SET pred_name = NULL")
    c.close()
    seen = _decoded(monkeypatch)
    crop_figure(tmp_path / "res", "GT", "clip", frame=5, box=(0, 0, 8, 8))
    assert seen == ["0006.png", "v4_6.png"]


# ------------------------------------------------------------------ the store: schema 3

V2_SCHEMA = f"""
CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT,
    status TEXT NOT NULL, vsrbench_version TEXT NOT NULL, bench_name TEXT, bench TEXT, protocol TEXT NOT NULL,
    protocol_hash TEXT NOT NULL, protocol_fields TEXT NOT NULL, metric_versions TEXT NOT NULL,
    weights TEXT NOT NULL DEFAULT '{{}}', libraries TEXT NOT NULL DEFAULT '{{}}', device TEXT, host TEXT,
    python TEXT, argv TEXT, pid INTEGER, pid_start TEXT, claim TEXT);
CREATE TABLE results (run_id INTEGER NOT NULL REFERENCES runs(run_id), method TEXT NOT NULL,
    dataset TEXT NOT NULL, sequence TEXT NOT NULL, frame INTEGER NOT NULL, frame_name TEXT NOT NULL,
    metric TEXT NOT NULL, value REAL, protocol TEXT NOT NULL, protocol_hash TEXT NOT NULL,
    metric_version TEXT NOT NULL, UNIQUE (method, dataset, sequence, frame, metric, protocol_hash, metric_version));
CREATE TABLE completed (run_id INTEGER NOT NULL REFERENCES runs(run_id), method TEXT NOT NULL,
    dataset TEXT NOT NULL, sequence TEXT NOT NULL, metric TEXT NOT NULL, protocol TEXT NOT NULL,
    protocol_hash TEXT NOT NULL, metric_version TEXT NOT NULL, n_values INTEGER NOT NULL,
    completed_at TEXT NOT NULL, UNIQUE (method, dataset, sequence, metric, protocol_hash, metric_version));
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = 2;
"""


def test_a_schema_2_store_reads_null_and_is_migrated_by_a_writer(tmp_path):
    res = tmp_path / "res"
    res.mkdir()
    with sqlite3.connect(res / STORE_FILENAME) as c:
        c.executescript(V2_SCHEMA)
        c.execute("INSERT INTO runs (started, status, vsrbench_version, protocol, protocol_hash, protocol_fields, "
                  "metric_versions) VALUES ('2024-01-01T00:00:00', 'done', '0.1', 'tecogan', 'h', '{}', '{}')")
        c.executemany("INSERT INTO results VALUES (1, 'm', 'd', 's', ?, ?, 'psnr', ?, 'tecogan', 'h', '1')",
                      [(0, "0001.png", 30.5), (1, "0002.png", 31.25)])
        c.execute("INSERT INTO completed VALUES (1, 'm', 'd', 's', 'psnr', 'tecogan', 'h', '1', 2, 'x')")
    c.close()
    before = (res / STORE_FILENAME).read_bytes()
    df = load_results(res)
    assert list(df["pred_name"]) == [None, None] and list(df["value"]) == [30.5, 31.25]
    assert (res / STORE_FILENAME).read_bytes() == before  # a reader does not migrate
    with ResultsStore(res) as s:
        assert s.query("PRAGMA user_version") == [(3,)]
        assert s.query("SELECT frame, frame_name, pred_name, value FROM results ORDER BY frame") == [
            (0, "0001.png", None, 30.5), (1, "0002.png", None, 31.25)]
    df = load_results(res)
    assert list(df["frame_name"]) == ["0001.png", "0002.png"] and list(df["pred_name"]) == [None, None]


# ------------------------------------------------------------------ §4: links, video codecs, JPEG

def test_a_broken_symlink_among_frames_is_named(tmp_path, capsys):
    gt = write_gt(tmp_path / "GT" / "clip", range(1, 11))
    pred = write_out(tmp_path / "PRED" / "clip", {n: f"{n:04d}.png" for n in range(1, 11) if n != 5})
    os.symlink(tmp_path / "gone" / "0005.png", pred / "0005.png")
    message = f"frame {str(pred / '0005.png')!r} is a broken symbolic link (to {str(tmp_path / 'gone' / '0005.png')!r}); " \
              "restore its target or remove the link"
    with pytest.raises(InputError) as e:
        open_sequence(pred)
    assert str(e.value) == message
    code, _, err = evaluate_cli(capsys, gt.parent, pred.parent, tmp_path / "res")
    assert code == 2 and one_error(err) == message


def _video(path: Path, fourcc: str, n: int = 4) -> Path | None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 5, (W, H))
    if not writer.isOpened():
        return None
    for i in range(n):
        writer.write(np.ascontiguousarray(gt_frame(i)[:, :, ::-1]))
    writer.release()
    return path


def test_lossless_ffv1_video_gets_no_lossy_note(tmp_path):
    path = _video(tmp_path / "gt.mkv", "FFV1")
    if path is None:
        pytest.skip("this OpenCV build cannot write FFV1")
    seq = open_sequence(path)
    np.testing.assert_array_equal(seq[1], gt_frame(1))  # lossless indeed: RGB stored as is
    assert seq.codec.upper() == "FFV1" and seq.input_notes() == []


def test_a_lossless_codec_storing_yuv_and_a_lossy_codec_are_noted(tmp_path):
    from vsrbench.core.io import video_note

    assert video_note("x/a.mkv", "FFVH", "I420") == (
        "frames are decoded from video 'a.mkv' (codec FFVH, lossless, pixel format I420); its YUV pixel format "
        "changes the colours (RGB to YUV and back, chroma subsampled), which the scores then include (use PNG "
        "frames or an RGB pixel format to score the frames themselves)")
    assert video_note("x/a.avi", "HFYU", "BGR") is None
    path = _video(tmp_path / "out.mp4", "mp4v")
    if path is None:
        pytest.skip("this OpenCV build cannot write MPEG-4")
    assert open_sequence(path).input_notes() == [
        "frames are decoded from video 'out.mp4' (codec FMP4, .mp4); lossy video frames include the compression "
        "loss, which the scores then include (use PNG frames to score the frames themselves)"]


def test_jpeg_frames_are_noted_and_a_mixed_folder_too(tmp_path, capsys):
    gt = write_gt(tmp_path / "GT" / "clip", range(1, 6))
    pred = write_out(tmp_path / "PRED" / "clip", {n: f"{n:04d}.jpg" for n in range(1, 6)})
    jpeg = ("frames are JPEG files, a lossy format: the scores include its compression artefacts (use PNG frames "
            "to score the frames themselves)")
    assert open_sequence(pred).input_notes() == [jpeg] and open_sequence(gt).input_notes() == []
    code, _, err = evaluate_cli(capsys, gt.parent, pred.parent, tmp_path / "res")
    assert code == 0, err
    assert [ln for ln in err.splitlines() if "warning" in ln] == [
        f"vsrbench evaluate: warning: sequence 'clip': output {jpeg}"]
    (pred / "0002.jpg").unlink()
    (pred / "0004.jpg").unlink()
    write_out(pred, {2: "0002.png", 4: "0004.png"})
    assert open_sequence(pred).input_notes() == [
        "frames mix JPEG and PNG files (3 of 5 are JPEG, e.g. '0001.jpg'): JPEG is lossy, and the scores of those "
        "frames include its compression artefacts"]
