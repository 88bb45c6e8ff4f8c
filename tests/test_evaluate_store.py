"""``vsrbench evaluate --out D`` writes the results store of ``vsrbench run`` (D/results.sqlite), with
frames.csv and summary.json as exports of it; ``table`` / ``check`` / ``export`` read D; resume,
refused mixes, ``--no-resume``; ``--suite`` checks the layout and scores under the suite's
convention (overrides noted and recorded).

Data: small synthetic sequences (fixed seed), PSNR/SSIM/tOF only (no weights needed).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _support.builders import synthetic_pair
from _support.spec import ref_psnr

import vsrbench.evaluate
from vsrbench.cli import main
from vsrbench.core.io import decode_image, write_frame
from vsrbench.results.loading import load_results, load_runs

FAST = "psnr,ssim,tof"


def write_dataset(root: Path, seqs: dict, pattern: str = "{:03d}.png") -> Path:
    for name, frames in seqs.items():
        for i, f in enumerate(frames):
            write_frame(root / name / pattern.format(i), f)
    return root


@pytest.fixture
def data(tmp_path, rng):
    gt, out, out2 = {}, {}, {}
    for name in ("walk", "city"):
        o, g = synthetic_pair(rng, n=7)
        gt[name], out[name] = list(g), list(o)
        out2[name] = [np.clip(f.astype(int) + 3, 0, 255).astype(np.uint8) for f in o]
    write_dataset(tmp_path / "GT", gt)
    write_dataset(tmp_path / "duf", out)
    write_dataset(tmp_path / "frvsr", out2)
    return tmp_path, gt, out


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def error_line(err: str, command: str = "evaluate") -> str:
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("evaluate: ", "note: "))]
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith(f"vsrbench {command}: error: ")
    return lines[0][len(f"vsrbench {command}: error: "):]


def store_rows(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "results.sqlite") as c:
        return c.execute("SELECT method, dataset, sequence, frame, metric FROM results").fetchall()


def counting(monkeypatch, fail_on: int | None = None, exc: type[BaseException] = RuntimeError) -> list[str]:
    """Record the sequences evaluate scores; raise ``exc`` on call number ``fail_on``."""
    real = vsrbench.evaluate.evaluate_sequence
    calls: list[str] = []

    def wrapped(p, g, **kw):
        calls.append(kw["name"])
        if fail_on is not None and len(calls) == fail_on:
            raise exc("boom in the second sequence")
        return real(p, g, **kw)

    monkeypatch.setattr(vsrbench.evaluate, "evaluate_sequence", wrapped)
    return calls


# ------------------------------------------------------------------ the store and the readers

def test_evaluate_writes_the_store_that_table_check_export_read(data, capsys, tmp_path):
    root, gt, out = data
    res = root / "res"
    code, stdout, err = cli(capsys, "evaluate", "--gt", root / "GT", "--pred", root / "duf", "--out", res,
                            "--metrics", FAST)
    assert code == 0, err
    assert f"results store: {res / 'results.sqlite'} (method 'duf', dataset 'GT';" in stdout
    df = load_results(res)
    assert set(df["method"]) == {"duf"} and set(df["dataset"]) == {"GT"}
    assert df.groupby("metric").size().to_dict() == {"psnr": 6, "ssim": 6, "tof": 4}
    walk = df[(df["sequence"] == "walk") & (df["metric"] == "psnr")].sort_values("frame")
    np.testing.assert_allclose(walk["value"], [ref_psnr(out["walk"][t], gt["walk"][t]) for t in (2, 3, 4)],
                               rtol=0, atol=1e-6)
    assert list(walk["frame_name"]) == ["002.png", "003.png", "004.png"]
    # frames.csv is the same rows (an export of the store)
    csv = pd.read_csv(res / "frames.csv", dtype={"frame_name": str})
    merged = csv.merge(df, on=["sequence", "frame", "metric"], suffixes=("_csv", "_store"))
    assert len(merged) == len(csv) == len(df)
    np.testing.assert_allclose(merged["value_csv"], merged["value_store"], rtol=0, atol=1e-12)
    summary = json.loads((res / "summary.json").read_text())
    assert summary["method"] == "duf" and summary["dataset"] == "GT" and summary["store"] == "results.sqlite"
    # the run record: protocol, metric versions, libraries, device, argv, and the inputs as a benchmark's
    runs = load_runs(res)
    rec = runs.iloc[-1]
    assert rec["status"] == "done" and rec["protocol"] == "tecogan" and rec["protocol_hash"] == summary["protocol_hash"]
    assert set(rec["metric_versions"]) == {"psnr", "ssim", "tof"} and "numpy" in rec["libraries"]
    assert rec["device"] == summary["device"] and rec["bench_name"] == "evaluate" and rec["argv"]
    assert rec["bench"]["datasets"]["GT"]["gt"] == str((root / "GT").resolve())
    assert rec["bench"]["methods"]["duf"]["outputs"] == {"GT": str((root / "duf").resolve())}
    assert summary["run_id"] == int(rec["run_id"])

    code, stdout, err = cli(capsys, "table", res, "--format", "csv")
    assert code == 0, err
    assert "duf" in stdout and "PSNR" in stdout.upper()
    base = tmp_path / "baseline.json"
    assert cli(capsys, "check", res, "--write-baseline", base)[0] == 0
    code, _, err = cli(capsys, "check", res, "--baseline", base)
    assert code == 0, err
    code, _, err = cli(capsys, "export", res, "--out", tmp_path / "all.csv")
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "all.csv")) == len(df)


def test_two_methods_in_one_folder_are_compared(data, capsys):
    root, _, _ = data
    res = root / "res"
    for method in ("duf", "frvsr"):
        code, _, err = cli(capsys, "evaluate", "--gt", root / "GT", "--pred", root / method, "--out", res,
                           "--metrics", "psnr")
        assert code == 0, err
    df = load_results(res)
    assert sorted(set(df["method"])) == ["duf", "frvsr"] and len(df) == 2 * 2 * 3
    # the exports describe the last evaluate (its method), the store holds both
    assert json.loads((res / "summary.json").read_text())["method"] == "frvsr"
    code, stdout, err = cli(capsys, "table", res, "--format", "csv")
    assert code == 0, err
    assert "duf" in stdout and "frvsr" in stdout
    # --method names the rows; the same outputs under another name are stored again, beside
    code, _, err = cli(capsys, "evaluate", "--gt", root / "GT", "--pred", root / "duf", "--method", "duf-again",
                       "--dataset", "GT", "--out", res, "--metrics", "psnr")
    assert code == 0, err
    assert sorted(set(load_results(res)["method"])) == ["duf", "duf-again", "frvsr"]


# ------------------------------------------------------------------ resume

@pytest.mark.parametrize("exc, status", [(RuntimeError, "failed"), (KeyboardInterrupt, "interrupted")])
def test_failure_in_the_second_sequence_resumes_without_recomputing_or_duplicates(data, capsys, monkeypatch, exc,
                                                                                 status):
    root, _, _ = data
    res = root / "res"
    args = ("evaluate", "--gt", root / "GT", "--pred", root / "duf", "--out", res, "--metrics", FAST)
    calls = counting(monkeypatch, fail_on=2, exc=exc)
    code, _, err = cli(capsys, *args)
    if exc is RuntimeError:
        assert code not in (0, 130) and "vsrbench evaluate: error: RuntimeError: boom in the second sequence" in err
    else:
        assert code == 130
    first = calls[0]
    assert {r[2] for r in store_rows(res)} == {first} and len(store_rows(res)) == 3 + 3 + 2
    runs = load_runs(res)
    assert list(runs["status"]) == [status]
    summary = json.loads((res / "summary.json").read_text())
    assert summary["complete"] is False and summary["done"] == [first]

    calls = counting(monkeypatch)
    code, _, err = cli(capsys, *args)
    assert code == 0, err
    assert calls == [s for s in ("walk", "city") if s != first]  # the first is not recomputed
    rows = store_rows(res)
    assert len(rows) == len(set(rows)) == 2 * (3 + 3 + 2)
    assert list(load_runs(res)["status"]) == [status, "done"]
    calls = counting(monkeypatch)
    assert cli(capsys, *args)[0] == 0 and calls == []  # complete: nothing to do, exports rewritten
    assert len(store_rows(res)) == 2 * (3 + 3 + 2)
    assert json.loads((res / "summary.json").read_text())["complete"] is True


def test_a_run_left_running_by_a_dead_process_is_marked_interrupted(data, capsys):
    import subprocess
    import sys

    root, _, _ = data
    res = root / "res"
    args = ("evaluate", "--gt", root / "GT", "--pred", root / "duf", "--out", res, "--metrics", "psnr")
    assert cli(capsys, *args)[0] == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    with sqlite3.connect(res / "results.sqlite") as c:
        c.execute("UPDATE runs SET status = 'running', pid = ?, pid_start = NULL, claim = NULL", (int(dead),))
    code, _, err = cli(capsys, *args)
    assert code == 0, err
    assert f"note: run 1 (pid {dead} on " in err and "ended without finishing; marked interrupted" in err
    assert list(load_runs(res)["status"]) == ["interrupted", "done"]


# ------------------------------------------------------------------ refused mixes

def test_another_protocol_for_the_same_method_is_refused_and_no_resume_replaces_only_it(data, capsys, monkeypatch):
    root, _, _ = data
    res = root / "res"
    for method in ("duf", "frvsr"):
        assert cli(capsys, "evaluate", "--gt", root / "GT", "--pred", root / method, "--out", res,
                   "--metrics", "psnr")[0] == 0
    before = store_rows(res)
    args = ("evaluate", "--gt", root / "GT", "--pred", root / "duf", "--out", res, "--metrics", "psnr",
            "--protocol", "basicsr-y")
    code, _, err = cli(capsys, *args)
    assert code == 2
    tecogan_hash = load_runs(res)["protocol_hash"].iloc[0]
    assert error_line(err) == (f"{str(res)!r} holds scores computed with protocol tecogan ({tecogan_hash}); "
                               "pass --no-resume to replace them, or choose another --out")
    assert store_rows(res) == before  # nothing stored, nothing lost
    assert len(load_runs(res)) == 2  # and no run record for the refused command
    calls = counting(monkeypatch)
    code, _, err = cli(capsys, *args, "--no-resume")
    assert code == 0, err
    assert sorted(calls) == ["city", "walk"]
    df = load_results(res)
    assert set(df[df["method"] == "duf"]["protocol"]) == {"basicsr-y"}  # replaced: tecogan rows of duf removed
    assert set(df[df["method"] == "frvsr"]["protocol"]) == {"tecogan"}  # the other method is kept


def test_a_dataset_name_against_another_gt_is_refused_even_with_no_resume(data, capsys):
    root, gt, out = data
    res = root / "res"
    assert cli(capsys, "evaluate", "--gt", root / "GT", "--pred", root / "duf", "--out", res, "--metrics", "psnr")[0] == 0
    write_dataset(root / "other" / "GT", out)  # same dataset name "GT", other ground truth
    for extra in ((), ("--no-resume",)):
        code, _, err = cli(capsys, "evaluate", "--gt", root / "other" / "GT", "--pred", root / "frvsr", "--out", res,
                           "--metrics", "psnr", *extra)
        assert code == 2
        assert error_line(err) == (
            f"{str(res)!r} holds scores on dataset 'GT' against ground truth {str((root / 'GT').resolve())!r} (run 1), "
            f"not {str((root / 'other' / 'GT').resolve())!r}; pass --dataset NAME to store these under another "
            "dataset name, or choose another --out")
    code, _, err = cli(capsys, "evaluate", "--gt", root / "other" / "GT", "--pred", root / "frvsr", "--out", res,
                       "--metrics", "psnr", "--dataset", "GT2")
    assert code == 0, err
    assert sorted(set(load_results(res)["dataset"])) == ["GT", "GT2"]


def test_an_old_evaluate_folder_without_a_store_is_refused(data, capsys):
    root, _, _ = data
    res = root / "res"
    res.mkdir()
    (res / "frames.csv").write_text("sequence,frame,frame_name,metric,value,protocol\n")
    (res / "summary.json").write_text("{}\n")
    args = ("evaluate", "--gt", root / "GT", "--pred", root / "duf", "--out", res, "--metrics", "psnr")
    code, _, err = cli(capsys, *args)
    assert code == 2
    assert error_line(err) == (f"{str(res)!r} holds frames.csv and summary.json of an older vsrbench evaluate but no "
                               "results.sqlite, so its scores cannot be resumed; pass --no-resume to score everything "
                               "again into it (they are replaced), or choose another --out")
    assert not (res / "results.sqlite").exists() and (res / "summary.json").read_text() == "{}\n"
    code, _, err = cli(capsys, *args, "--no-resume")
    assert code == 0, err
    assert json.loads((res / "summary.json").read_text())["complete"] is True


def test_empty_method_name_is_one_line(data, capsys):
    root, _, _ = data
    code, _, err = cli(capsys, "evaluate", "--gt", root / "GT", "--pred", root / "duf", "--out", root / "res",
                       "--metrics", "psnr", "--method", " ")
    assert code == 2
    assert error_line(err) == "--method must not be empty; give a name such as --method mine"
    assert not (root / "res").exists()


# ------------------------------------------------------------------ --suite

REDS4 = ("000", "011", "015", "020")


@pytest.fixture
def reds(tmp_path, rng, monkeypatch):
    """A REDS4 look-alike: the four clips, 5 frames of 48x64 each (the suite scaled down to match)."""
    from vsrbench.catalog import suites

    monkeypatch.setitem(suites.SUITES, "reds4", suites.get_suite("reds4").lookalike(frames=5, size=(48, 64)))
    gt, out = {}, {}
    for name in REDS4:
        o, g = synthetic_pair(rng, n=5, shape=(48, 64))
        gt[name], out[name] = list(g), list(o)
    write_dataset(tmp_path / "REDS4" / "GT", gt, "{:08d}.png")
    write_dataset(tmp_path / "mine", out, "{:08d}.png")
    return tmp_path


def test_suite_scores_under_its_convention_and_records_it(reds, capsys):
    res = reds / "res"
    code, _, err = cli(capsys, "evaluate", "--suite", "reds4", "--gt", reds / "REDS4" / "GT", "--pred", reds / "mine",
                       "--out", res, "--metrics", "psnr")
    assert code == 0, err
    assert "note: suite reds4: 4 clip(s), 20 GT frame(s)" in err
    assert "convention" not in err  # nothing overridden: no override note
    summary = json.loads((res / "summary.json").read_text())
    assert summary["suite"] == "reds4" and summary["protocol"] == summary["suite_protocol"] == "basicsr-rgb"
    assert summary["dataset"] == "reds4" and summary["n_frames"] == {"psnr": 20}  # basicsr: every frame
    rec = load_runs(res).iloc[-1]
    assert rec["bench"]["datasets"]["reds4"]["suite"] == "reds4"
    assert rec["bench"]["evaluate"]["suite"] == "reds4" and rec["protocol"] == "basicsr-rgb"
    assert set(load_results(res)["sequence"]) == set(REDS4)


def test_suite_override_is_noted_and_recorded(reds, capsys):
    res = reds / "res"
    code, _, err = cli(capsys, "evaluate", "--suite", "reds4", "--gt", reds / "REDS4" / "GT", "--pred", reds / "mine",
                       "--out", res, "--metrics", "psnr", "--set", "crop_border=4")
    assert code == 0, err
    notes = [ln for ln in err.splitlines() if "convention" in ln]
    assert notes == ["note: scoring with protocol basicsr-rgb[crop_border=4], not suite reds4's convention basicsr-rgb "
                     "(--set crop_border=4); summary.json and the run record name both"]
    summary = json.loads((res / "summary.json").read_text())
    assert summary["suite"] == "reds4" and summary["protocol"] == "basicsr-rgb[crop_border=4]"
    assert summary["suite_protocol"] == "basicsr-rgb"
    rec = load_runs(res).iloc[-1]
    assert rec["protocol"] == "basicsr-rgb[crop_border=4]" and rec["bench"]["evaluate"]["suite_protocol"] == "basicsr-rgb"
    code, _, err = cli(capsys, "evaluate", "--suite", "reds4", "--gt", reds / "REDS4" / "GT", "--pred", reds / "mine",
                       "--out", reds / "res2", "--metrics", "psnr", "--protocol", "basicsr-y")
    assert code == 0, err
    assert ("note: scoring with protocol basicsr-y, not suite reds4's convention basicsr-rgb (--protocol basicsr-y); "
            "summary.json and the run record name both") in err.splitlines()


def test_suite_layout_errors_are_one_line(reds, capsys):
    import shutil

    shutil.rmtree(reds / "mine" / "015")
    code, _, err = cli(capsys, "evaluate", "--suite", "reds4", "--gt", reds / "REDS4" / "GT", "--pred", reds / "mine",
                       "--out", reds / "res", "--metrics", "psnr")
    assert code == 2
    assert error_line(err) == f"PRED {str(reds / 'mine')!r}: suite reds4: outputs missing for 1 clip(s): 015"
    assert not (reds / "res").exists()
    code, _, err = cli(capsys, "evaluate", "--suite", "reds", "--gt", reds / "REDS4" / "GT", "--pred", reds / "mine",
                       "--out", reds / "res", "--metrics", "psnr")
    assert code == 2
    assert error_line(err).startswith("unknown suite 'reds'; did you mean 'reds4'?")
    code, _, err = cli(capsys, "evaluate", "--clips-only", "--gt", reds / "REDS4" / "GT", "--pred", reds / "mine",
                       "--out", reds / "res", "--metrics", "psnr")
    assert code == 2
    assert error_line(err) == "--clips-only applies to --suite checks only; add --suite NAME or leave it out"


def test_table_published_finds_the_suite_of_an_evaluate_folder(reds, capsys):
    res = reds / "res"
    assert cli(capsys, "evaluate", "--suite", "reds4", "--gt", reds / "REDS4" / "GT", "--pred", reds / "mine",
               "--out", res, "--metrics", "psnr")[0] == 0
    code, stdout, err = cli(capsys, "table", res, "--published")
    assert code == 0, err
    assert "no suite known" not in stdout + err
    assert "published numbers for suite reds4" in stdout and "| mine |" in stdout


def test_vimeo_centre_frame_outputs_under_the_suite(tmp_path, capsys, monkeypatch, rng):
    """Vimeo-90K-T scores im4 only (frames_scored="center"); outputs may hold just im4.png; the method
    name defaults to the folder above PRED's ``sequences``."""
    from vsrbench import psnr
    from vsrbench.catalog import suites

    clips = ("00001/0266", "00001/0268")
    monkeypatch.setitem(suites.SUITES, "vimeo90k-t",
                        suites.get_suite("vimeo90k-t").lookalike(size=(48, 64), clips=clips))
    refs = []
    for c in clips:
        o, g = synthetic_pair(rng, n=7, shape=(48, 64))
        for i in range(7):
            write_frame(tmp_path / "vimeo" / "sequences" / c / f"im{i + 1}.png", g[i])
        write_frame(tmp_path / "ours" / "sequences" / c / "im4.png", o[3])
        refs.append(psnr(o[3], g[3], protocol="basicsr-y"))  # the centre frame (im4), nothing else
    res = tmp_path / "res"
    code, _, err = cli(capsys, "evaluate", "--suite", "vimeo90k-t", "--gt", tmp_path / "vimeo",
                       "--pred", tmp_path / "ours" / "sequences", "--out", res, "--metrics", "psnr")
    assert code == 0, err
    assert "outputs: centre frame only in 2 clip(s)" in err
    df = load_results(res)
    assert set(df["method"]) == {"ours"} and set(df["dataset"]) == {"vimeo90k-t"}
    assert sorted(df["sequence"]) == sorted(clips) and set(df["frame_name"]) == {"im4.png"}
    summary = json.loads((res / "summary.json").read_text())
    assert summary["protocol"] == "basicsr-y[frames_scored=center]" and summary["n_frames"] == {"psnr": 2}
    np.testing.assert_allclose(df.sort_values("sequence")["value"], refs, rtol=0, atol=1e-6)
    assert load_runs(res).iloc[-1]["bench"]["datasets"]["vimeo90k-t"]["gt"] == str((tmp_path / "vimeo" / "sequences").resolve())
    # GT given as its sequences/ folder is the same GT: the same command resumes, nothing recomputed
    calls = counting(monkeypatch)
    code, _, err = cli(capsys, "evaluate", "--suite", "vimeo90k-t", "--gt", tmp_path / "vimeo" / "sequences",
                       "--pred", tmp_path / "ours", "--out", res, "--metrics", "psnr")
    assert code == 0, err
    assert calls == [] and len(load_results(res)) == 2
    # the same outputs given as all 7 frames store the same frame (index 3, im4.png) and the same values
    for c in clips:
        for i in range(7):
            src = tmp_path / "ours" / "sequences" / c / "im4.png"
            write_frame(tmp_path / "full" / "sequences" / c / f"im{i + 1}.png",
                        decode_image(src) if i == 3 else np.zeros((48, 64, 3), np.uint8))
    code, _, err = cli(capsys, "evaluate", "--suite", "vimeo90k-t", "--gt", tmp_path / "vimeo",
                       "--pred", tmp_path / "full", "--out", res, "--metrics", "psnr")
    assert code == 0, err
    both = load_results(res).pivot_table(index=["sequence", "frame", "frame_name"], columns="method", values="value")
    assert list(both.index.get_level_values("frame")) == [3, 3] and set(both.columns) == {"ours", "full"}
    np.testing.assert_array_equal(both["ours"].to_numpy(), both["full"].to_numpy())
    # an im4-only output cannot be scored on other frames
    code, _, err = cli(capsys, "evaluate", "--suite", "vimeo90k-t", "--gt", tmp_path / "vimeo",
                       "--pred", tmp_path / "ours", "--out", tmp_path / "res2", "--metrics", "psnr",
                       "--set", "frames_scored=all")
    assert code == 2 and err.strip().splitlines()[-1].endswith(
        "the output holds only its centre frame (im4.png), so it can only be scored with frames_scored=center, "
        "not under protocol basicsr-y")


def test_no_resume_may_move_a_method_alone_on_its_dataset_to_another_gt(data, capsys):
    root, _, out = data
    res = root / "res"
    assert cli(capsys, "evaluate", "--gt", root / "GT", "--pred", root / "duf", "--out", res, "--metrics", "psnr")[0] == 0
    write_dataset(root / "other" / "GT", out)
    args = ("evaluate", "--gt", root / "other" / "GT", "--pred", root / "duf", "--out", res, "--metrics", "psnr")
    assert cli(capsys, *args)[0] == 2  # refused (scores of duf on the old GT)
    code, _, err = cli(capsys, *args, "--no-resume")  # duf alone on dataset GT: replaced
    assert code == 0, err
    assert load_runs(res)["bench"].iloc[-1]["datasets"]["GT"]["gt"] == str((root / "other" / "GT").resolve())
    assert len(load_results(res)) == 2 * 3


def test_a_sequence_being_scored_by_another_run_is_waited_for_and_not_redone(data, capsys, monkeypatch):
    """The store's per-sequence lock: while another process holds (GT, walk), evaluate says so,
    waits, and then keeps what the other stored instead of scoring it again."""
    import threading

    import vsrbench.results.store as store_mod
    from vsrbench.metrics import METRICS
    from vsrbench.metrics import get_protocol
    from vsrbench.results.store import ResultsStore, SequenceResult

    root, _, _ = data
    res = root / "res"
    assert cli(capsys, "evaluate", "--gt", root / "GT", "--pred", root / "duf", "--out", res, "--metrics", "psnr")[0] == 0
    with ResultsStore(res) as store:
        other = store.sequence_lock("GT", "walk")
    assert other.acquire(blocking=False)
    waiting = threading.Event()
    real_holder = store_mod.ProcessLock.holder
    monkeypatch.setattr(store_mod.ProcessLock, "holder", lambda self: waiting.set() or real_holder(self))
    proto = get_protocol("tecogan")

    def the_other_run():
        waiting.wait(timeout=60)
        with ResultsStore(res) as s:
            s.add_sequence(1, SequenceResult(
                method="frvsr", dataset="GT", sequence="walk", rows=[(t, "psnr", 1.0) for t in (2, 3, 4)],
                frame_names=[f"{i:03d}.png" for i in range(7)], metric_versions={"psnr": str(METRICS["psnr"].version)},
                protocol=proto.name, protocol_hash=proto.hash))
        other.release()

    thread = threading.Thread(target=the_other_run)
    thread.start()
    calls = counting(monkeypatch)
    try:
        code, _, err = cli(capsys, "evaluate", "--gt", root / "GT", "--pred", root / "frvsr", "--out", res,
                           "--metrics", "psnr")
    finally:
        thread.join()
    assert code == 0, err
    assert waiting.is_set() and "note: GT/walk is being scored by another run (pid " in err
    assert calls == ["city"]
    df = load_results(res)
    walk = df[(df["method"] == "frvsr") & (df["sequence"] == "walk")]
    assert list(walk["value"]) == [1.0, 1.0, 1.0]  # the other run's rows, not scored again, no duplicates
    assert json.loads((res / "summary.json").read_text())["complete"] is True


def test_degradation_is_recorded_checked_and_used_by_table_published(reds, capsys):
    res = reds / "res"
    base = ("evaluate", "--suite", "reds4", "--gt", reds / "REDS4" / "GT", "--out", res, "--metrics", "psnr")
    code, _, err = cli(capsys, *base, "--pred", reds / "mine", "--degradation", "bi-matlb")
    assert code == 2
    assert error_line(err).startswith("unknown degradation 'bi-matlb'; did you mean 'bi-matlab'? (known: ")
    assert not res.exists()
    assert cli(capsys, *base, "--pred", reds / "mine", "--degradation", "bi-matlab")[0] == 0
    assert load_runs(res).iloc[-1]["bench"]["datasets"]["reds4"]["degradation"] == "bi-matlab"
    assert json.loads((res / "summary.json").read_text())["degradation"] == "bi-matlab"
    code, stdout, err = cli(capsys, "table", res, "--published")
    assert code == 0, err
    assert "records no degradation" not in stdout + err and "BI;" in stdout and "BD;" not in stdout
    code, _, err = cli(capsys, *base, "--pred", reds / "mine", "--method", "theirs", "--degradation", "bd-duf")
    assert code == 2
    assert error_line(err) == (f"{str(res)!r} holds scores on dataset 'reds4' of outputs made from degradation "
                               "bi-matlab (run 1), not bd-duf: methods of two degradations must not be ranked together; "
                               "pass --dataset NAME to store these under another dataset name, or choose another --out")


def test_profiles_find_methods_scored_by_separate_evaluates(data, capsys):
    """The frames of every method come from every run record (one store, several evaluate runs),
    so a temporal profile of the folder shows both methods, not only the last run's."""
    from vsrbench.visual.plots import sequence_frames
    from vsrbench.results.loading import recorded_inputs

    root, _, _ = data
    res = root / "res"
    for method, pred in (("one", root / "duf"), ("two", root / "frvsr")):
        code, _, err = cli(capsys, "evaluate", "--gt", root / "GT", "--pred", pred, "--method", method,
                           "--out", res, "--metrics", "psnr")
        assert code == 0, err
    rec = recorded_inputs(res)
    assert set(rec["outputs"]) == {"one", "two"} and rec["datasets"]["GT"]["gt"] == str((root / "GT").resolve())
    gt, outs = sequence_frames(res, "GT", "walk", ["one", "two"])
    assert set(outs) == {"one", "two"} and len(gt) == len(outs["two"])
