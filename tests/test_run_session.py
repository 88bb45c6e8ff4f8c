"""One run session for every writer of a results store (``vsrbench run``, ``evaluate``, ``drift --out``).

- a writer killed with SIGKILL in the middle of its run leaves a record that the next command marks
  ``interrupted`` (one ``note:`` line), and resuming gives the rows of an uninterrupted run;
- one resume rule: metrics missing from stored sequences are added, another protocol is refused;
- one LPIPS-missing policy and message for run, evaluate and the demo;
- issue 16's cases on these commands: drift into a folder of evaluate results of the same method and
  dataset is refused; a validation error is not preceded by a "0 frames in" line; a dataset of many
  sequences prints a summary, not every sequence; the mixed-protocols message speaks CLI.

Data: small synthetic frames (fixed seed); PSNR/SSIM only, under basicsr-rgb (no weights needed).
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from vsrbench.cli import main
from vsrbench.core.io import write_frame
from vsrbench.results.loading import load_runs

SEQS = ("s0", "s1", "s2")


def frames(seed: int, n: int = 5, shape=(32, 32)) -> list[np.ndarray]:
    r = np.random.default_rng(seed)
    return [r.integers(0, 256, (*shape, 3), dtype=np.uint8) for _ in range(n)]


def write_seq(folder: Path, seq: list[np.ndarray]) -> Path:
    for i, f in enumerate(seq):
        write_frame(folder / f"{i:03d}.png", f)
    return folder


@pytest.fixture
def data(tmp_path) -> Path:
    for k, s in enumerate(SEQS):
        gt = frames(k)
        write_seq(tmp_path / "GT" / s, gt)
        write_seq(tmp_path / "PRED" / s, [np.clip(f.astype(int) + 5 * (k + 1), 0, 255).astype(np.uint8) for f in gt])
        write_seq(tmp_path / "LR" / s, [f[::4, ::4] for f in gt])
    (tmp_path / "bench.toml").write_text(textwrap.dedent("""
        protocol = "basicsr-rgb"
        metrics = ["psnr", "ssim"]
        [datasets.d]
        gt = "GT"
        [methods.M]
        outputs = { d = "PRED" }
    """))
    return tmp_path


def argv(writer: str, root: Path, out: Path) -> list[str]:
    if writer == "run":
        return ["run", str(root / "bench.toml"), "--out", str(out), "--workers", "1", "--device", "cpu"]
    if writer == "evaluate":
        return ["evaluate", "--gt", str(root / "GT"), "--pred", str(root / "PRED"), "--out", str(out),
                "--protocol", "basicsr-rgb", "--metrics", "psnr,ssim", "--workers", "1", "--device", "cpu"]
    return ["drift", "--model", "bicubic", "--input", str(root / "LR"), "--out", str(out), "--device", "cpu"]


# the function each writer calls once per sequence; the second call announces itself and hangs
HANG = {"run": ("vsrbench.evaluate", "evaluate_many"), "evaluate": ("vsrbench.evaluate", "evaluate_sequence"),
        "drift": ("vsrbench.drift", "pingpong_drift")}

HANGING = """
import importlib, pathlib, sys, time
module, name, marker = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
mod = importlib.import_module(module)
real, calls = getattr(mod, name), []
def hang(*a, **k):
    calls.append(1)
    if len(calls) == 2:
        marker.write_text("hanging")
        time.sleep(120)
    return real(*a, **k)
setattr(mod, name, hang)
from vsrbench.cli import main
sys.exit(main(sys.argv[4:]))
"""


def rows(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "results.sqlite") as c:
        return sorted(c.execute("SELECT method, dataset, sequence, frame, frame_name, metric, value, protocol_hash, "
                                "metric_version FROM results").fetchall())


@pytest.mark.parametrize("writer", ["run", "evaluate", "drift"])
def test_a_sigkilled_writer_is_marked_interrupted_by_the_next_and_resumes_to_the_same_rows(writer, data, capsys):
    out, marker = data / "killed", data / "hanging"
    proc = subprocess.Popen([sys.executable, "-c", HANGING, *HANG[writer], str(marker), *argv(writer, data, out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=data)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():  # one sequence stored, the second one in progress
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the writer never reached its second sequence"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert list(load_runs(out)["status"]) == ["running"]  # what the dead process left behind
    stored = [r for r in rows(out)]
    assert len({r[2] for r in stored}) <= 1  # at most the first sequence (whole): the store was not torn

    assert main(argv(writer, data, out)) == 0
    err = capsys.readouterr().err
    assert f"note: run 1 (pid {proc.pid} on " in err and "ended without finishing; marked interrupted" in err
    runs = load_runs(out)
    assert list(runs["status"]) == ["interrupted", "done"]
    with sqlite3.connect(out / "results.sqlite") as c:
        pid, host, claim = c.execute("SELECT pid, host, claim FROM runs WHERE run_id = 1").fetchone()
    assert pid == proc.pid and host and claim  # what told the next command that the process is gone

    fresh = data / "fresh"
    assert main(argv(writer, data, fresh)) == 0
    capsys.readouterr()
    assert rows(out) == rows(fresh) and {r[2] for r in rows(fresh)} == set(SEQS)


# ---------------------------------------------------------------------- one resume rule

def test_evaluate_adds_a_metric_to_the_sequences_a_run_stored(data, capsys):
    """`run` stored PSNR only; `evaluate` of the same method and dataset with PSNR and SSIM adds SSIM."""
    out = data / "res"
    base = ["evaluate", "--gt", str(data / "GT"), "--pred", str(data / "PRED"), "--out", str(out),
            "--protocol", "basicsr-rgb", "--method", "M", "--dataset", "d"]
    assert main([*base, "--metrics", "psnr"]) == 0
    psnr = [r for r in rows(out) if r[5] == "psnr"]
    assert main([*base, "--metrics", "psnr,ssim"]) == 0
    both = rows(out)
    assert [r for r in both if r[5] == "psnr"] == psnr  # kept as stored
    assert {r[2] for r in both if r[5] == "ssim"} == set(SEQS)
    with sqlite3.connect(out / "results.sqlite") as c:
        marks = c.execute("SELECT run_id, metric, count(*) FROM completed GROUP BY run_id, metric").fetchall()
    assert sorted(marks) == [(1, "psnr", 3), (2, "ssim", 3)]
    capsys.readouterr()
    code = main([*base, "--metrics", "psnr,ssim", "--protocol", "basicsr-y"])
    err = capsys.readouterr().err
    proto_hash = load_runs(out)["protocol_hash"].iloc[0]
    assert code == 2 and err == (f"vsrbench evaluate: error: {str(out)!r} holds scores computed with protocol "
                                 f"basicsr-rgb ({proto_hash}); pass --no-resume to replace them, or choose another "
                                 "--out\n")
    assert len(load_runs(out)) == 2  # no run record for the refused command


# ---------------------------------------------------------------------- one LPIPS-missing policy

NOTE = ("note: LPIPS and tLP skipped, scoring psnr,ssim,tof: weights file 'alexnet-owt-7be5be79.pth' not found; "
        "`vsrbench weights download lpips-alex` fetches it (or give its path: evaluate --lpips-weights, a "
        "benchmark's lpips_weights); a later run adds LPIPS and tLP to the stored sequences")


def test_one_lpips_missing_message_for_run_evaluate_and_the_demo(tmp_path, capsys, monkeypatch):
    from vsrbench.demo import demo_metrics

    for var in ("TORCH_HOME", "VSRBENCH_HOME"):  # empty: no AlexNet file anywhere
        (tmp_path / var).mkdir()
        monkeypatch.setenv(var, str(tmp_path / var))
    for k, s in enumerate(("a", "b")):
        gt = frames(k, n=7, shape=(64, 64))
        write_seq(tmp_path / "GT" / s, gt)
        write_seq(tmp_path / "PRED" / s, [np.clip(f.astype(int) + 3, 0, 255).astype(np.uint8) for f in gt])
    (tmp_path / "b.toml").write_text('protocol = "tecogan"\n[datasets.d]\ngt = "GT"\n[methods.M]\n'
                                     'outputs = { d = "PRED" }\n')
    notes = []
    assert main(["run", str(tmp_path / "b.toml"), "--out", str(tmp_path / "r1"), "--quiet", "--device", "cpu"]) == 0
    notes.append([ln for ln in capsys.readouterr().err.splitlines() if "LPIPS" in ln])
    assert main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"), "--out",
                 str(tmp_path / "r2"), "--device", "cpu"]) == 0
    notes.append([ln for ln in capsys.readouterr().err.splitlines() if "LPIPS" in ln])
    said: list[str] = []
    assert demo_metrics(said.append) == ["psnr", "ssim", "tof"]
    notes.append(said)
    assert notes == [[NOTE]] * 3


# ---------------------------------------------------------------------- issue 16's cases

def test_drift_into_a_folder_with_evaluate_results_of_the_same_method_and_dataset_is_refused(data, capsys):
    out = data / "res"
    assert main(["evaluate", "--gt", str(data / "LR"), "--pred", str(data / "LR"), "--out", str(out),
                 "--protocol", "basicsr-rgb", "--metrics", "psnr", "--method", "bicubic"]) == 0
    capsys.readouterr()
    before = rows(out)
    code = main(["drift", "--model", "bicubic", "--input", str(data / "LR"), "--out", str(out), "--device", "cpu"])
    err = capsys.readouterr().err
    proto_hash = load_runs(out)["protocol_hash"].iloc[0]
    assert code == 2 and err == (
        f"vsrbench drift: error: {str(out)!r} holds scores of method 'bicubic' on dataset 'LR' under protocol "
        f"basicsr-rgb ({proto_hash}); drift values (protocol pingpong) beside them would mix two protocols in its "
        "tables: pass --method NAME or --dataset NAME to store them under another name, or choose another --out\n")
    assert rows(out) == before and len(load_runs(out)) == 1  # nothing written, no run record
    assert main(["table", str(out)]) == 0  # the folder still makes its table
    assert main(["drift", "--model", "bicubic", "--input", str(data / "LR"), "--out", str(out), "--device", "cpu",
                 "--method", "bicubic-drift"]) == 0


def test_evaluate_prints_no_frames_line_before_a_validation_error(tmp_path, capsys):
    write_seq(tmp_path / "GT" / "a", frames(0, n=7))
    write_seq(tmp_path / "PRED" / "a", frames(1, n=7))  # 32 px: too small for TecoGAN's crop
    code = main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"), "--out",
                 str(tmp_path / "res"), "--metrics", "psnr"])
    err = capsys.readouterr().err
    assert code == 2 and "frames in" not in err
    assert err.splitlines()[-1] == ("vsrbench evaluate: error: frame side 32 px is too small for TecoGAN's crop "
                                    "(needs at least 48 px)")
    assert list(load_runs(tmp_path / "res")["status"]) == ["failed"]


def test_evaluate_of_many_sequences_prints_the_worst_and_best_few(tmp_path, capsys):
    from vsrbench.commands.evaluate import SUMMARY_EXTREMES, SUMMARY_ROWS

    n = SUMMARY_ROWS + 5
    for k in range(n):  # sequence k is off by k + 1 grey levels: s00 is the best, s24 the worst
        gt = frames(k, n=2, shape=(16, 16))
        write_seq(tmp_path / "GT" / f"s{k:02d}", gt)
        write_seq(tmp_path / "PRED" / f"s{k:02d}", [np.clip(f.astype(int) + k + 1, 0, 255).astype(np.uint8)
                                                     for f in gt])
    assert main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"), "--out",
                 str(tmp_path / "res"), "--protocol", "basicsr-rgb", "--metrics", "psnr", "--workers", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    shown = [ln.split()[0] for ln in out[2:] if ln.startswith("s") and not ln.startswith("seq_avg")]
    k = SUMMARY_EXTREMES
    assert shown == [f"s{i:02d}" for i in range(n - 1, n - 1 - k, -1)] + [f"s{i:02d}" for i in range(k - 1, -1, -1)]
    assert out[2 + k].split() == ["..."]
    assert out[2 + 2 * k + 1].startswith("frame_avg") and out[2 + 2 * k + 2].startswith("seq_avg")
    assert out[2 + 2 * k + 3] == (f"{n} sequences: the {k} worst and the {k} best by PSNR are shown; every sequence "
                                  "is in summary.json and frames.csv")
    import json

    assert len(json.loads((tmp_path / "res" / "summary.json").read_text())["sequences"]) == n
