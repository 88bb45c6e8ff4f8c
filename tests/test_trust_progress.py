"""Progress with rate and ETA on every long step, also off a terminal (tqdm), and command behaviour:
``evaluate`` without LPIPS weights, ``degrade`` scale bounds.

The commands run in-process through ``vsrbench.cli.main`` with stderr captured (not a terminal) and
``VSRBENCH_PROGRESS_INTERVAL=0`` (a plain progress line at every update), on tiny synthetic data.
Progress must go to stderr only: stdout carries the tables and results.
"""
from __future__ import annotations

import io
import json
import re
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from vsrbench.cli import main
from vsrbench.core.errors import InputError, VsrbenchWarning
from vsrbench.core.progress import LineSink, Progress, line_interval
from vsrbench.core.io import write_frame

H, W, N = 48, 64, 7
LINE = r"{label}: (\d+)/{total} {unit} \(\d+%\), (\d+\.\d\d|\?) {unit}/s, ETA (\d\d:\d\d|\?)"


@pytest.fixture(autouse=True)
def _plain_progress(monkeypatch):
    monkeypatch.delenv("VSRBENCH_PROGRESS", raising=False)
    monkeypatch.setenv("VSRBENCH_PROGRESS_INTERVAL", "0")


def frames(seed: int, n: int = N, h: int = H, w: int = W) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 4 + 2, w // 4 + 2, 3)).astype(np.float64)
    big = np.kron(base, np.ones((4, 4, 1)))
    return [np.ascontiguousarray(big[1:h + 1, t % 4:t % 4 + w]).astype(np.uint8) for t in range(n)]


def write_seq(folder: Path, seq: list[np.ndarray]) -> None:
    for i, f in enumerate(seq):
        write_frame(folder / f"{i:03d}.png", f)


def progress_lines(err: str, label: str, total: int, unit: str = "frames") -> list[int]:
    """The counts of the plain progress lines of ``label`` (each checked in full)."""
    pat = re.compile(LINE.format(label=re.escape(label), total=total, unit=unit))
    counts = []
    for line in err.splitlines():
        if re.match(rf"{re.escape(label)}: \d+/", line):
            m = pat.fullmatch(line)
            assert m, line
            counts.append(int(m.group(1)))
    return counts


# ----------------------------------------------------------------------------- the reporter
def test_plain_lines_carry_count_rate_and_eta_and_a_summary():
    out = io.StringIO()
    with Progress(6, "job", stream=out) as p:
        for _ in range(3):
            time.sleep(0.02)
            p.update(2)
    lines = out.getvalue().splitlines()
    assert progress_lines(out.getvalue(), "job", 6) == [2, 4, 6]
    assert "ETA 00:00" in lines[0] or "ETA 00:01" in lines[0]
    assert re.fullmatch(r"job: 6 frames in \d+\.\d s \((\d+\.\d\d) frames/s\)", lines[-1])
    rate = float(re.search(r"\((\S+) frames/s\)", lines[-1]).group(1))
    assert 6 / 0.5 < rate < 6 / 0.05  # 3 x 20 ms of work (sleep is never shorter)


def test_interval_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("VSRBENCH_PROGRESS_INTERVAL", "3600")
    assert line_interval() == 3600.0
    out = io.StringIO()
    with Progress(3, "slow", stream=out) as p:
        p.update(3)
    assert out.getvalue().count("\n") == 1 and out.getvalue().startswith("slow: 3 frames in ")
    monkeypatch.delenv("VSRBENCH_PROGRESS_INTERVAL")
    assert line_interval() == 5.0
    monkeypatch.setenv("VSRBENCH_PROGRESS_INTERVAL", "soon")
    with pytest.raises(InputError, match=r"^VSRBENCH_PROGRESS_INTERVAL: expected a number of seconds >= 0, "
                                         r"got 'soon'; unset it for the default \(5\)$"):
        line_interval()


def test_skipped_items_count_as_done_but_not_in_the_rate():
    out = io.StringIO()
    with Progress(4, "run", stream=out, unit="sequences", summary=False) as p:
        p.skip(2)
        time.sleep(0.2)
        p.update(1)
        assert p.done == 3 and p.rate < 1 / 0.15  # one item of work in >= 0.2 s, not three
        remaining = p.remaining_s()
        assert remaining is not None and 0.15 < remaining < 1.0  # one left at ~0.2 s each
    assert progress_lines(out.getvalue(), "run", 4, "sequences") == [3]
    assert "in " not in out.getvalue()  # summary=False


def test_line_sink_hands_over_whole_lines():
    got: list[str] = []
    sink = LineSink(got.append)
    sink.write("a: 1/2")
    sink.write(" frames\nb\n\r\n")
    assert got == ["a: 1/2 frames", "b"] and not sink.isatty()


# ----------------------------------------------------------------------------- upscale
def test_upscale_reports_frames_per_second_and_eta_on_stderr(tmp_path, capsys):
    for s in ("a", "b"):
        write_seq(tmp_path / "lr" / s, [f[::4, ::4] for f in frames(1)][:4])
    assert main(["upscale", "--model", "bicubic", "--input", str(tmp_path / "lr"),
                 "--output", str(tmp_path / "hr"), "--device", "cpu"]) == 0
    cap = capsys.readouterr()
    assert cap.out == ""
    assert progress_lines(cap.err, "upscale bicubic on cpu", 8) == list(range(1, 9))  # ETA across both sequences
    assert re.fullmatch(r"upscale bicubic on cpu: 8 frames in \d+\.\d s \(\d+\.\d\d frames/s\)",
                        cap.err.splitlines()[-1])


# ----------------------------------------------------------------------------- evaluate
def evaluate_data(root: Path) -> None:
    for k, s in enumerate(("s0", "s1")):
        gt = frames(k)
        write_seq(root / "GT" / s, gt)
        write_seq(root / "PRED" / s, [np.clip(f.astype(int) + 3, 0, 255).astype(np.uint8) for f in gt])


def test_evaluate_reports_frames_scored_across_all_sequences(tmp_path, capsys):
    evaluate_data(tmp_path)
    assert main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"),
                 "--out", str(tmp_path / "res"), "--metrics", "psnr,ssim", "--device", "cpu"]) == 0
    cap = capsys.readouterr()
    total = 2 * (N - 4)  # tecogan cuts 2 frames at each end
    assert progress_lines(cap.err, "evaluate", total) == list(range(1, total + 1))
    assert re.fullmatch(rf"evaluate: {total} frames in \d+\.\d s \(\d+\.\d\d frames/s\)", cap.err.splitlines()[-1])
    assert "frames/s" not in cap.out and "ETA" not in cap.out
    assert cap.out.splitlines()[0].split()[0] == "sequence" and "seq_avg" in cap.out


def test_evaluate_without_lpips_weights_scores_the_rest_with_one_note(tmp_path, capsys, monkeypatch):
    for var in ("TORCH_HOME", "VSRBENCH_HOME"):  # empty folders: no AlexNet file anywhere
        (tmp_path / var).mkdir()
        monkeypatch.setenv(var, str(tmp_path / var))
    evaluate_data(tmp_path)
    assert main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"),
                 "--out", str(tmp_path / "res"), "--device", "cpu"]) == 0
    cap = capsys.readouterr()
    notes = [line for line in cap.err.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: LPIPS and tLP skipped, scoring psnr,ssim,tof: weights file 'alexnet-owt-7be5be79.pth' not found; "
        "`vsrbench weights download lpips-alex` fetches it (or give its path: evaluate --lpips-weights, a "
        "benchmark's lpips_weights); a later run adds LPIPS and tLP to the stored sequences"]
    assert "error" not in cap.err
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert summary["metrics"] == ["psnr", "ssim", "tof"] and summary["metrics_skipped"] == ["lpips", "tlp"]
    assert set(summary["seq_avg"]) == {"psnr", "ssim", "tof"}
    assert "LPIPS" not in cap.out and "tOF" in cap.out

    for asked in ("lpips", "psnr,tlp"):  # asked for explicitly: the existing one-line error
        code = main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"),
                     "--out", str(tmp_path / f"res-{asked}"), "--metrics", asked, "--device", "cpu"])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert err.startswith("vsrbench evaluate: error: weights file 'alexnet-owt-7be5be79.pth' not found")
        assert not (tmp_path / f"res-{asked}").exists()


def test_run_without_lpips_weights_and_without_metrics_scores_the_rest_with_one_note(tmp_path, capsys, monkeypatch):
    """Like evaluate and the demo: a tecogan benchmark that names no metrics scores psnr/ssim/tof when the
    AlexNet file is missing (one note); a benchmark that names lpips still fails in one line."""
    from vsrbench.results.loading import load_results

    for var in ("TORCH_HOME", "VSRBENCH_HOME"):
        (tmp_path / var).mkdir()
        monkeypatch.setenv(var, str(tmp_path / var))
    evaluate_data(tmp_path)
    body = 'protocol = "tecogan"\n[datasets.d]\ngt = "GT"\n[methods.M]\noutputs = { d = "PRED" }\n'
    (tmp_path / "b.toml").write_text(body)
    assert main(["run", str(tmp_path / "b.toml"), "--out", str(tmp_path / "res"), "--device", "cpu", "--quiet"]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if line.startswith("note: LPIPS")]
    assert len(notes) == 1 and notes[0].startswith("note: LPIPS and tLP skipped, scoring psnr,ssim,tof: weights "
                                                   "file 'alexnet-owt-7be5be79.pth' not found")
    assert set(load_results(tmp_path / "res")["metric"]) == {"psnr", "ssim", "tof"}
    (tmp_path / "named.toml").write_text(body.replace('protocol = "tecogan"\n',
                                                      'protocol = "tecogan"\nmetrics = ["psnr", "lpips"]\n'))
    code = main(["run", str(tmp_path / "named.toml"), "--out", str(tmp_path / "res2"), "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "weights file 'alexnet-owt-7be5be79.pth' not found" in err and "Traceback" not in err
    # a backbone file that is there but is not the published one is an error, not a "not found" skip
    bad = tmp_path / "TORCH_HOME" / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not alexnet")
    code = main(["run", str(tmp_path / "b.toml"), "--out", str(tmp_path / "res3"), "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "note: LPIPS" not in err and "it is not torchvision's published file" in err, err


# ----------------------------------------------------------------------------- run
RUN_BENCH = """
protocol = "basicsr-rgb"
metrics = ["psnr"]
[datasets.syn]
gt = "GT"
lr = "LR"
[methods.slow]
callable = "slowmod:upscale"
[methods.ready]
outputs = { syn = "READY" }
"""

SLOW_MODULE = """
import time
import numpy as np

def upscale(frames):
    time.sleep({sleep})
    return [np.kron(f, np.ones((4, 4, 1), dtype=np.uint8)) for f in frames]
"""


def run_data(root: Path, sleep: float) -> Path:
    for k, s in enumerate(("s0", "s1")):
        gt = frames(k, n=4)
        write_seq(root / "GT" / s, gt)
        write_seq(root / "LR" / s, [f[::4, ::4] for f in gt])
        write_seq(root / "READY" / s, gt)
    (root / "slowmod.py").write_text(textwrap.dedent(SLOW_MODULE.format(sleep=sleep)))
    bench = root / "bench.toml"
    bench.write_text(textwrap.dedent(RUN_BENCH))
    return bench


def test_run_shows_sequences_done_with_eta_and_each_methods_own_time(tmp_path, capsys):
    bench = run_data(tmp_path, sleep=0.3)
    assert main(["run", str(bench), "--out", str(tmp_path / "res"), "--device", "cpu"]) == 1 - 1
    cap = capsys.readouterr()
    assert progress_lines(cap.err, "run", 4, "sequences") == [1, 2, 3, 4]
    done = [line for line in cap.err.splitlines() if line.startswith("[")]
    pat = re.compile(r"\[(\d)/4\] (\w+) syn/(s\d): psnr=(?:[\d.]+|inf \(identical frames\)) \(4 frames; outputs (\d+\.\d) s, "
                     r"scoring \d+\.\d s for 2 methods together; run ETA (\d\d:\d\d)\)")
    seen = {}
    for line in done:
        m = pat.fullmatch(line)
        assert m, line
        seen[(m.group(2), m.group(3))] = float(m.group(4))
    assert set(seen) == {(m, s) for m in ("slow", "ready") for s in ("s0", "s1")}
    for s in ("s0", "s1"):  # each method's own time to get its outputs, not the group's
        assert seen[("slow", s)] >= 0.3 and seen[("ready", s)] < 0.3
    assert done[-1].endswith("run ETA 00:00)")
    assert any(re.fullmatch(LINE.format(label=r"scoring s\d \(slow, ready\)", total=8, unit="frames"), line)
               for line in cap.err.splitlines())
    assert "ETA" not in cap.out and "2 sequence(s)" not in cap.err
    assert cap.out.startswith("4 sequence(s) scored, 0 already stored")

    again = main(["run", str(bench), "--out", str(tmp_path / "res"), "--device", "cpu"])
    cap = capsys.readouterr()
    assert again == 0 and cap.out.startswith("0 sequence(s) scored, 4 already stored")
    assert sum(line.endswith(": already stored") for line in cap.err.splitlines()) == 4


def test_run_with_a_callable_progress_gets_the_plain_lines(tmp_path):
    from vsrbench.runner import run_benchmark

    lines: list[str] = []
    assert run_benchmark(run_data(tmp_path, sleep=0.0), tmp_path / "res", device="cpu", progress=lines.append).ok
    assert progress_lines("\n".join(lines), "run", 4, "sequences") == [1, 2, 3, 4]
    assert progress_lines("\n".join(lines), "slow syn/s0: outputs", 4) == [1, 2, 3, 4]
    quiet: list[str] = []
    assert run_benchmark(run_data(tmp_path / "q", sleep=0.0), tmp_path / "q" / "res", device="cpu",
                         progress=False).ok and quiet == []


# ----------------------------------------------------------------------------- degrade
def test_degrade_reports_progress_and_refuses_a_scale_that_leaves_no_pixels(tmp_path, capsys):
    write_seq(tmp_path / "gt" / "s0", frames(0, n=3))
    assert main(["degrade", "--kind", "bd-tecogan", "--scale", "4", str(tmp_path / "gt"), str(tmp_path / "lr")]) == 0
    cap = capsys.readouterr()
    assert cap.out == "" and progress_lines(cap.err, "degrade bd-tecogan x4", 3) == [1, 2, 3]
    assert cap.err.splitlines()[-1].startswith("degrade bd-tecogan x4: 3 frames in ")

    assert main(["degrade", "--kind", "bd-tecogan", "--scale", "1000", str(tmp_path / "gt"),
                 str(tmp_path / "big")]) == 2
    assert capsys.readouterr().err == (
        "vsrbench degrade: error: --scale 1000 is too large for the 64x48 HR frame: its LR frame would be 0x0 px, "
        "under the 4 px minimum; use a scale of at most 12 for this frame (sequence 's0')\n")
    assert not (tmp_path / "big").exists()
    assert main(["degrade", "--kind", "bd-tecogan", "--scale", "13", str(tmp_path / "gt"), str(tmp_path / "big")]) == 2
    assert "LR frame would be 4x3 px" in capsys.readouterr().err
    assert main(["degrade", "--kind", "bd-tecogan", "--scale", "12", str(tmp_path / "gt"), str(tmp_path / "ok")]) == 0
    capsys.readouterr()
    assert main(["degrade", "--kind", "bd-tecogan", "--scale", "0", str(tmp_path / "gt"), str(tmp_path / "z")]) == 2
    assert capsys.readouterr().err == "vsrbench degrade: error: --scale: expected an integer >= 1, got 0\n"
    with pytest.raises(SystemExit):
        main(["degrade", "--kind", "bd-tecogan", "--scale", "2.5", str(tmp_path / "gt"), str(tmp_path / "z")])
    assert capsys.readouterr().err == ("vsrbench degrade: error: argument --scale: invalid int value: '2.5'\n")


def test_the_python_api_gives_the_same_scale_messages():
    from vsrbench.baselines.degrade import degrade, degrade_uint8

    hr = frames(0, n=1)[0]
    for fn in (degrade, degrade_uint8):
        for kind in ("bd-tecogan", "bi-pil"):
            with pytest.raises(InputError) as e:
                fn(hr, kind, 1000)
            assert str(e.value) == ("scale: 1000 is too large for the 64x48 HR frame: its LR frame would be 0x0 px, "
                                    "under the 4 px minimum; use a scale of at most 12 for this frame")
        for bad in (0, -2, 2.5, True):
            with pytest.raises(InputError, match=r"^scale: expected an integer >= 1, got "):
                fn(hr, "bd-tecogan", bad)
    assert degrade(hr, "bd-tecogan", 8).shape == (6, 8, 3)


def test_sides_not_multiple_of_the_scale_warn_once(tmp_path, capsys):
    from vsrbench.baselines.degrade import degrade, degrade_uint8

    hr = frames(0, n=1, h=50, w=64)[0]
    for fn in (degrade, degrade_uint8):
        with pytest.warns(VsrbenchWarning) as rec:
            lr = fn(hr, "bd-tecogan", 4)
        assert [str(w.message) for w in rec] == [
            "frame: 64x50 is not a multiple of scale 4, so bd-tecogan makes a 16x13 LR frame whose x4 outputs "
            "are 64x52, not the GT size; crop GT to 64x48 first for matching sizes"]
        assert rec[0].filename == __file__  # points at the caller
        assert lr.shape == (13, 16, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", VsrbenchWarning)  # multiples of the scale: no warning
        degrade_uint8(frames(0, n=1)[0], "bi-matlab", 4)

    write_seq(tmp_path / "gt" / "s0", frames(0, n=3, h=50, w=64))
    assert main(["degrade", "--kind", "bi-pil", "--scale", "4", str(tmp_path / "gt"), str(tmp_path / "lr")]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warned == ["vsrbench degrade: warning: frame: 64x50 is not a multiple of scale 4, so bi-pil makes a "
                      "16x12 LR frame whose x4 outputs are 64x48, not the GT size; crop GT to 64x48 first "
                      "for matching sizes"]


def test_run_counts_the_frames_a_command_writes_while_it_runs(tmp_path):
    """A command method is watched: the frames in its output folder are counted every second."""
    from vsrbench.runner import run_benchmark

    gt = frames(0, n=3)
    write_seq(tmp_path / "GT" / "s0", gt)
    write_seq(tmp_path / "LR" / "s0", [f[::4, ::4] for f in gt])
    (tmp_path / "slowcmd.py").write_text(textwrap.dedent("""
        import sys, time
        from pathlib import Path
        import numpy as np
        from vsrbench.core.io import open_sequence, write_frame
        lr, out = open_sequence(sys.argv[1]), Path(sys.argv[2])
        for i, f in enumerate(lr):
            write_frame(out / f"{i:03d}.png", np.kron(f, np.ones((4, 4, 1), dtype=np.uint8)))
            time.sleep(0.6)
    """))
    (tmp_path / "bench.toml").write_text(textwrap.dedent(f"""
        protocol = "basicsr-rgb"
        metrics = ["psnr"]
        [datasets.syn]
        gt = "GT"
        lr = "LR"
        [methods.cmd]
        command = "{sys.executable} slowcmd.py {{lr}} {{out}}"
    """))
    lines: list[str] = []
    assert run_benchmark(tmp_path / "bench.toml", tmp_path / "res", device="cpu", progress=lines.append).ok
    counts = progress_lines("\n".join(lines), "cmd syn/s0: command", 3)
    assert counts and counts == sorted(counts) and set(counts) <= {1, 2, 3}, lines


@pytest.mark.parametrize("columns, bar", [(100, True), (0, False)])
def test_a_terminal_gets_a_bar_unless_it_reports_no_width(columns, bar):
    pty = pytest.importorskip("pty", reason="pseudo-terminals are POSIX-only")
    import fcntl
    import os
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    with open(slave, "w", closefd=True) as stream:
        with Progress(3, "tty", stream) as p:
            time.sleep(0.01)
            p.update(3)
    text = b""
    os.set_blocking(master, False)
    try:
        while chunk := os.read(master, 65536):
            text += chunk
    except (BlockingIOError, OSError):
        pass
    os.close(master)
    text = text.decode()
    assert p.tty is bar
    assert ("|" in text and "/3 frames [" in text) is bar, text
    assert text.rstrip().endswith("frames/s)") and "tty: 3 frames in " in text


def test_run_refuses_a_dataset_scale_too_large_for_its_frames(tmp_path, capsys):
    write_seq(tmp_path / "GT" / "s0", frames(0, n=3))
    (tmp_path / "bench.toml").write_text(textwrap.dedent("""
        protocol = "basicsr-rgb"
        metrics = ["psnr"]
        [datasets.syn]
        gt = "GT"
        degradation = "bd-tecogan"
        scale = 16
        [methods.slow]
        callable = "slowmod:upscale"
    """))
    (tmp_path / "slowmod.py").write_text(textwrap.dedent(SLOW_MODULE.format(sleep=0)))
    assert main(["run", str(tmp_path / "bench.toml"), "--out", str(tmp_path / "res"), "--device", "cpu"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == ("vsrbench run: error: datasets.syn.scale: 16 is too large for the 64x48 HR frame: its LR "
                       "frame would be 4x3 px, under the 4 px minimum; use a scale of at most 12 for this frame "
                       "(sequence 's0')")
    assert not (tmp_path / "res" / "lr" / "syn" / "bd-tecogan-x16" / "s0").exists()


def test_slow_rates_keep_two_significant_digits():
    from vsrbench.core.progress import _rate

    assert [_rate(r) for r in (0.0056, 0.05, 0.1, 2.314, 0.0)] == ["0.0056", "0.05", "0.10", "2.31", "0.00"]
