"""Sequences scored in parallel: ``--workers N`` for ``vsrbench run`` and ``vsrbench evaluate``.

The suite runs with one worker (tests/conftest.py sets VSRBENCH_WORKERS=1); here ``--workers 2``
is asked for explicitly. Two workers must store exactly the rows one worker stores: the same
code computes them on the same machine, so values are compared with ``==``. Data are tiny
(64 x 80 frames, 7 per sequence: tecogan cuts 2 at each end) so that the spawned processes' start (importing torch) is
most of the time.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from _support.builders import slow_scoring
from vsrbench.cli import main
from vsrbench.execution.base import InProcess, Outcome, default_workers, parse_workers, reissue_warnings, run_task
from vsrbench.execution.local import LocalProcesses
from vsrbench.execution import make_executor
from vsrbench.core.io import write_frame
from vsrbench.run.making import publish_folder as _publish_folder
from vsrbench.runner import EXECUTION_KEY
from vsrbench.results.loading import load_results, load_runs

H, W, N = 64, 80, 7
SEQS = ("s0", "s1", "s2", "s3")
REPO = Path(__file__).resolve().parents[1]


def ctrl_c_as_at_a_terminal() -> None:
    """In the driver's process before it starts: SIGINT does what Ctrl-C does at a terminal. A shell
    without job control (a CI script that runs the tests in the background) starts its children with
    SIGINT ignored, and Python then installs no KeyboardInterrupt for them."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def frames(seed: int, h: int = H, w: int = W) -> list[np.ndarray]:
    """A smooth random texture drifting one pixel per frame (motion for tOF)."""
    rng = np.random.default_rng(seed)
    base = np.kron(rng.integers(0, 256, (h // 4 + 2, w // 4 + 2, 3)), np.ones((4, 4, 1)))
    return [np.ascontiguousarray(base[1:h + 1, t:t + w]).astype(np.uint8) for t in range(N)]


def noisy(fs: list[np.ndarray], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0, 6, f.shape), 0, 255).round().astype(np.uint8) for f in fs]


def write_seq(folder: Path, fs: list[np.ndarray]) -> None:
    for i, f in enumerate(fs):
        write_frame(folder / f"{i:03d}.png", f)


CALLABLES = '''
import os
import time

import numpy as np


def nearest(lr):
    time.sleep(float(os.environ.get("VSRB_TEST_SLEEP", "0")))
    return [np.kron(f, np.ones((4, 4, 1), np.uint8)) for f in lr]


def broken_on_s2(lr):
    if lr[0].mean() == float(os.environ["VSRB_TEST_S2_MEAN"]):
        raise RuntimeError("model exploded on s2")
    return nearest(lr)
'''


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    """The demo's benchmark shape on tiny frames: GT, LR made by a degradation (in the workers),
    the demo's bicubic model and callables, a precomputed outputs folder, a callable that raises
    for one sequence; psnr, ssim and tof under tecogan."""
    from vsrbench.demo import METHODS

    root = tmp_path_factory.mktemp("workers_bench")
    for k, s in enumerate(SEQS):
        gt = frames(k)
        write_seq(root / "gt" / s, gt)
        write_seq(root / "noisy" / s, noisy(gt, 50 + k))
    (root / "my_sr.py").write_text(CALLABLES)
    methods = {n: src for n, (src, _) in METHODS.items() if n in ("bicubic", "bicubic-flicker", "bicubic-frozen")}
    methods["noisy"] = 'outputs = { demo = "noisy" }'
    methods["nearest"] = 'callable = "my_sr.py:nearest"'
    methods["broken"] = 'callable = "my_sr.py:broken_on_s2"'
    body = textwrap.dedent('''
        name = "workers"
        protocol = "tecogan"
        metrics = ["psnr", "ssim", "tof"]
        [datasets.demo]
        gt = "gt"
        degradation = "bd-tecogan"
        scale = 4
        ''') + "".join(f"\n[methods.{n}]\n{src}\n" for n, src in methods.items())
    (root / "bench.toml").write_text(body)
    return root / "bench.toml"


@pytest.fixture(autouse=True)
def _s2_mean(bench, monkeypatch):
    """The callable ``broken`` knows s2 by its first LR frame's mean (the LR is made by the run)."""
    from vsrbench.baselines.degrade import degrade_uint8

    lr = degrade_uint8(frames(2)[0], "bd-tecogan", 4)
    monkeypatch.setenv("VSRB_TEST_S2_MEAN", repr(float(lr.mean())))


def rows(results: Path) -> set[tuple]:
    df = load_results(results)
    return set(zip(df["method"], df["dataset"], df["sequence"], df["frame"], df["metric"], df["value"]))


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture(scope="module")
def one_worker(bench, tmp_path_factory) -> Path:
    """The benchmark run with one worker (this process): the reference rows."""
    res = tmp_path_factory.mktemp("one") / "res"
    mp = pytest.MonkeyPatch()
    from vsrbench.baselines.degrade import degrade_uint8

    mp.setenv("VSRB_TEST_S2_MEAN", repr(float(degrade_uint8(frames(2)[0], "bd-tecogan", 4).mean())))
    try:
        assert main(["run", str(bench), "--out", str(res), "--workers", "1", "--quiet"]) == 1  # broken/s2 failed
    finally:
        mp.undo()
    return res


# ---------------------------------------------------------------------- vsrbench run


def test_run_with_two_workers_stores_the_rows_of_one_worker(bench, one_worker, tmp_path, capsys):
    res = tmp_path / "res"
    code, out, err = cli(capsys, "run", bench, "--out", res, "--workers", "2")
    assert code == 1, err  # broken on s2 failed; everything else stored
    assert "Traceback" not in err
    got, want = rows(res), rows(one_worker)
    assert len({r[:3] for r in want}) == 6 * 4 - 1  # 6 methods x 4 sequences, but broken/s2
    assert got == want
    assert not any(r[0] == "broken" and r[2] == "s2" for r in got)
    assert {r[2] for r in got if r[0] == "broken"} == {"s0", "s1", "s3"}
    # reported failed once, with the callable's error; the progress lines name each sequence once
    assert out.count("failed: broken/demo/s2: callable failed: RuntimeError: model exploded on s2") == 1
    assert err.count(": psnr=") == 6 * 4 - 1
    # the outputs the workers wrote are the ones one worker wrote
    for m in ("bicubic", "nearest"):
        for s in SEQS:
            a = sorted(p.name for p in (res / "outputs" / m / "demo" / s).iterdir())
            assert a == [f"{i:03d}.png" for i in range(N)]
    # the run record says where the sequences ran
    runs = load_runs(res)
    execution = runs["bench"].iloc[-1][EXECUTION_KEY]
    assert execution == {"executor": "local", "workers": 2, "workers_asked": 2}
    assert load_runs(one_worker)["bench"].iloc[-1][EXECUTION_KEY] == {"executor": "local", "workers": 1,
                                                                       "workers_asked": 1}
    # the models the workers loaded are in the run record, as when this process loads them
    assert runs["weights"].iloc[-1] == load_runs(one_worker)["weights"].iloc[-1]
    assert "bicubic" in runs["weights"].iloc[-1]
    # re-running with two workers: the failed sequence is tried again, the rest is already stored
    code, out, err = cli(capsys, "run", bench, "--out", res, "--workers", "2")
    assert code == 1 and err.count("already stored") == 6 * 4 - 1 and rows(res) == want
    # only one sequence to do: one worker, in this process
    assert load_runs(res)["bench"].iloc[-1][EXECUTION_KEY]["workers"] == 1


def test_a_task_that_raises_fails_its_sequence_and_the_rest_is_stored(bench, one_worker, tmp_path, monkeypatch):
    """An exception out of a worker (not a method's own failure) fails every method of that
    sequence, with no rows; the other sequences are stored; a VsrbenchError stops the run."""
    import vsrbench.runner as runner_mod
    from vsrbench.core.errors import InputError
    from vsrbench.run.worker import SequenceWorker

    real = SequenceWorker.compute

    def compute(self, task):
        if task.sequence == "s1":
            raise MemoryError("no memory left for s1")
        return real(self, task)

    monkeypatch.setattr(SequenceWorker, "compute", compute)
    res = tmp_path / "res"
    summary = runner_mod.run_benchmark(bench, res, device="cpu", progress=False, workers=1)
    assert sorted(f[0] for f in summary.failed if f[2] == "s1") == sorted(
        ["bicubic", "bicubic-flicker", "bicubic-frozen", "noisy", "nearest", "broken"])
    assert {f[3] for f in summary.failed if f[2] == "s1"} == {"failed: MemoryError: no memory left for s1"}
    assert rows(res) == {r for r in rows(one_worker) if r[2] != "s1"}
    assert summary.status == "done"

    def stop(self, task):
        raise InputError("datasets.demo.scale: too large")

    monkeypatch.setattr(SequenceWorker, "compute", stop)
    with pytest.raises(InputError, match="too large"):
        runner_mod.run_benchmark(bench, res, device="cpu", progress=False, workers=1)
    assert list(load_runs(res)["status"]) == ["done", "failed"]


def test_run_interrupted_with_two_workers_cleans_up_and_resumes(bench, one_worker, tmp_path):
    """Ctrl-C (SIGINT to the driver) while workers make outputs: the workers stop, leaving no
    temporary folder and no warning; the re-run stores the rows of an uninterrupted run."""
    res = tmp_path / "res"
    env = {**os.environ, "VSRB_TEST_SLEEP": "1.0", "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "vsrbench.cli", "run", str(bench), "--out", str(res), "--workers", "2"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_at_a_terminal)
    deadline = time.monotonic() + 60
    first = res / "outputs" / "nearest" / "demo" / "s0"
    while time.monotonic() < deadline and not first.is_dir():  # s1's outputs are being made now
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "vsrbench run: interrupted; results written so far are kept", err
    assert "Traceback" not in err and "leaked" not in err
    made = [p.name for p in (res / "outputs" / "nearest" / "demo").iterdir()]
    assert "s0" in made and len(made) < len(SEQS) and not [n for n in made if n.startswith(".")]
    assert list(load_runs(res)["status"]) == ["interrupted"]
    assert main(["run", str(bench), "--out", str(res), "--workers", "1", "--quiet"]) == 1  # broken/s2, as before
    assert rows(res) == rows(one_worker)


def test_workers_default_to_the_cores_and_never_exceed_the_sequences(monkeypatch):
    monkeypatch.delenv("VSRBENCH_WORKERS")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert default_workers("cpu") == 4 and default_workers("cuda:0") == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert default_workers("cpu") == 1
    monkeypatch.setenv("VSRBENCH_WORKERS", "5")
    assert default_workers("cpu") == 5
    factory = _Doubler
    assert isinstance(make_executor("local", factory, workers=4, tasks=1), InProcess)
    assert isinstance(make_executor("local", factory, workers=1, tasks=9), InProcess)
    with make_executor("local", factory, workers=4, tasks=2) as ex:
        assert isinstance(ex, LocalProcesses) and ex.describe() == {"executor": "local", "workers": 2}


# ---------------------------------------------------------------------- bad options


@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5"])
def test_bad_workers_is_one_line(bench, tmp_path, capsys, monkeypatch, value):
    for cmd in (["run", bench], ["evaluate", "--gt", tmp_path, "--pred", tmp_path]):
        code, _, err = cli(capsys, *cmd, "--out", tmp_path / "res", f"--workers={value}")
        assert code != 0 and "Traceback" not in err
        assert err.strip().splitlines()[-1] == (
            f"vsrbench {cmd[0]}: error: --workers: expected a whole number of worker processes >= 1, got {value!r}")
    monkeypatch.setenv("VSRBENCH_WORKERS", value)
    code, _, err = cli(capsys, "run", bench, "--out", tmp_path / "res")
    assert code != 0 and err.strip() == (
        f"vsrbench run: error: VSRBENCH_WORKERS: expected a whole number of worker processes >= 1, got {value!r}")
    assert not (tmp_path / "res").exists()


def test_address_needs_executor_ray(bench, tmp_path, capsys):
    code, _, err = cli(capsys, "run", bench, "--out", tmp_path / "res", "--address", "10.0.0.1:6379")
    assert code != 0 and err.strip() == (
        "vsrbench run: error: --address '10.0.0.1:6379' names a Ray cluster; it needs --executor ray "
        "(or leave --address out to score on this machine)")
    assert not (tmp_path / "res").exists()


def test_executor_ray_without_ray_is_one_line(bench, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as when it is not installed
    monkeypatch.delitem(sys.modules, "vsrbench.execution.ray_executor", raising=False)
    for cmd in (["run", bench], ["evaluate", "--gt", tmp_path, "--pred", tmp_path]):
        code, _, err = cli(capsys, *cmd, "--out", tmp_path / "res", "--executor", "ray")
        lines = err.strip().splitlines()
        assert code != 0 and len(lines) == 1 and "Traceback" not in err, err
        assert lines[0].startswith(f"vsrbench {cmd[0]}: error: ") and "vsrbench[ray]" in lines[0], lines
    monkeypatch.setitem(sys.modules, "vsrbench.execution.ray_executor", None)  # this checkout without the Ray executor
    code, _, err = cli(capsys, "run", bench, "--out", tmp_path / "res", "--executor", "ray")
    assert code != 0 and err.strip() == (
        "vsrbench run: error: --executor ray needs Ray, which is not installed ('vsrbench.execution.ray_executor' not found): "
        "pip install 'vsrbench[ray]', or leave --executor out to run locally")
    assert not (tmp_path / "res").exists()


# ---------------------------------------------------------------------- vsrbench evaluate


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Path:
    """GT and outputs of four sequences; s1's outputs are 2 px larger than GT (tecogan cuts them)."""
    root = tmp_path_factory.mktemp("workers_eval")
    for k, s in enumerate(SEQS):
        gt = frames(10 + k)
        write_seq(root / "GT" / s, gt)
        big = frames(10 + k, H + 2, W + 2) if s == "s1" else gt
        write_seq(root / "out" / s, noisy(big, 70 + k))
    return root


def evaluate(capsys, folders: Path, out: Path, *extra) -> tuple[int, str, str]:
    return cli(capsys, "evaluate", "--gt", folders / "GT", "--pred", folders / "out", "--out", out,
               "--metrics", "psnr,ssim,tof", *extra)


@pytest.fixture(scope="module")
def evaluated_by_one(folders, tmp_path_factory) -> tuple[Path, str, str]:
    """``vsrbench evaluate`` of the folders with one worker: results folder, stdout, stderr."""
    out = tmp_path_factory.mktemp("eval_one") / "one"
    import contextlib
    import io

    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        code = main(["evaluate", "--gt", str(folders / "GT"), "--pred", str(folders / "out"), "--out", str(out),
                     "--metrics", "psnr,ssim,tof", "--workers", "1"])
    assert code == 0, e.getvalue()
    return out, o.getvalue(), e.getvalue()


def test_evaluate_with_two_workers_stores_the_rows_of_one_worker(folders, evaluated_by_one, tmp_path, capsys):
    one, out1, err1 = evaluated_by_one
    code1 = 0
    code2, out2, err2 = evaluate(capsys, folders, tmp_path / "two", "--workers", "2")
    assert code1 == code2 == 0, err2
    assert rows(tmp_path / "two") == rows(one) and len({r[2] for r in rows(one)}) == 4
    assert out2 == out1.replace(str(one), str(tmp_path / "two"))  # the summary table
    a = json.loads((one / "summary.json").read_text())
    b = json.loads((tmp_path / "two" / "summary.json").read_text())
    for key in ("sequences", "frame_avg", "seq_avg", "n_frames", "complete"):
        assert a[key] == b[key], key
    assert (one / "frames.csv").read_text() == (tmp_path / "two" / "frames.csv").read_text()
    # the size rule's warning of s1, raised in a worker process, is shown once, as with one worker
    cut = "vsrbench evaluate: warning: sequence 's1':"
    assert err1.count(cut) == 1 and err2.count(cut) == 1, err2
    assert [ln for ln in err2.splitlines() if ln.startswith(cut)] == [ln for ln in err1.splitlines()
                                                                     if ln.startswith(cut)]
    assert load_runs(tmp_path / "two")["bench"].iloc[-1][EXECUTION_KEY]["workers"] == 2



def test_evaluate_interrupted_with_two_workers_resumes_to_the_rows_of_a_clean_run(folders, evaluated_by_one,
                                                                                    tmp_path, capsys):
    """Ctrl-C (SIGINT to the driver) mid-run keeps what was stored; the re-run finishes it."""
    slow = slow_scoring(tmp_path / "slow", 0.6)  # every process of the command, workers too, is slowed
    # frames.csv after every sequence (VSRBENCH_EXPORT_INTERVAL=0): its appearance says one sequence is stored
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(slow), str(REPO)]), "VSRBENCH_WORKERS": "2",
           "VSRBENCH_EXPORT_INTERVAL": "0"}
    res = tmp_path / "res"
    argv = [sys.executable, "-m", "vsrbench.cli", "evaluate", "--gt", str(folders / "GT"), "--pred",
            str(folders / "out"), "--out", str(res), "--metrics", "psnr,ssim,tof"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_at_a_terminal)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (res / "frames.csv").is_file():  # one sequence stored
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "leaked" not in err and "interrupted; results written so far are kept" in err
    partial = rows(res)
    assert 0 < len({r[2] for r in partial}) < len(SEQS), "the interrupt came too late or too early"
    runs = load_runs(res)
    assert list(runs["status"]) == ["interrupted"]
    code, _, err = evaluate(capsys, folders, res, "--workers", "1")
    assert code == 0, err
    assert rows(res) == rows(evaluated_by_one[0])
    assert json.loads((res / "summary.json").read_text())["complete"] is True


# ---------------------------------------------------------------------- the executors


class _Doubler:
    """A worker and its factory (picklable: a module-level class)."""

    def compute(self, task):
        import warnings

        from vsrbench.core.errors import VsrbenchWarning

        if task == 3:
            raise ValueError("three is not allowed")
        if task == 4:
            warnings.warn("four is a warning", VsrbenchWarning)
            warnings.warn("four is a warning", VsrbenchWarning)
            warnings.warn("four's runtime warning", RuntimeWarning)
        return 2 * task


def test_executors_return_results_errors_and_warnings_per_task():
    """In this process warnings are issued as they happen; a worker process (``run_task``) sends
    each text once with its category, and the driver issues it again."""
    with InProcess(_Doubler) as ex, pytest.warns(Warning) as caught:
        got = {o.task: o for o in ex.imap(iter(range(6)))}
    assert {t: o.result for t, o in got.items() if o.ok} == {0: 0, 1: 2, 2: 4, 4: 8, 5: 10}
    assert isinstance(got[3].error, ValueError) and str(got[3].error) == "three is not allowed"
    assert not got[4].warnings
    live = [(type(w.message).__name__, str(w.message)) for w in caught]
    assert live == [("VsrbenchWarning", "four is a warning")] * 2 + [("RuntimeWarning", "four's runtime warning")]
    worker = _Doubler()
    with pytest.warns(Warning) as caught:
        outcomes = [run_task(worker, t) for t in range(6)]
        assert [o.warnings for o in outcomes if o.warnings] == [["four is a warning", "four's runtime warning"]]
        for o in outcomes:
            reissue_warnings(o)
    assert [(type(w.message).__name__, str(w.message)) for w in caught] == live[1:]
    assert isinstance(outcomes[3].error, ValueError) and outcomes[5].result == 10


def test_run_task_keeps_one_text_per_warning_and_a_picklable_error():
    class Unpicklable(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a} and {b}")

    class W:
        def compute(self, task):
            raise Unpicklable(1, 2)

    o = run_task(W(), "t")
    assert isinstance(o, Outcome) and not o.ok
    assert type(o.error) is RuntimeError and str(o.error) == "Unpicklable: 1 and 2"


def test_a_concurrent_identical_publish_keeps_one_folder(tmp_path):
    """Two writers of the same LR/outputs folder: the second finds it published and drops its copy."""
    final = tmp_path / "lr" / "s0"

    def fill_inner(tmp):
        (tmp / "a.png").write_bytes(b"first")

    def fill_outer(tmp):
        (tmp / "a.png").write_bytes(b"second")
        _publish_folder(final, fill_inner)  # another process publishes meanwhile

    _publish_folder(final, fill_outer)
    assert [p.name for p in final.iterdir()] == ["a.png"] and (final / "a.png").read_bytes() == b"first"
    assert sorted(p.name for p in final.parent.iterdir()) == ["s0"]  # no temporary folder left


def test_parse_workers():
    assert parse_workers("3") == 3 and parse_workers(2) == 2
    with pytest.raises(Exception, match="got 0"):
        parse_workers(0)


class _Killer:
    """A worker whose task ``"die"`` kills its process every time, ``"once:PATH"`` the first time."""

    def compute(self, task):
        if task == "die" or task.startswith("once:") and not Path(task[5:]).exists():
            if task != "die":
                Path(task[5:]).write_text("died once")
            os.kill(os.getpid(), signal.SIGKILL)
        return task.upper()


class _Unbuildable:
    def __init__(self):
        raise ValueError("no model here")


def test_a_worker_process_that_dies_is_replaced_and_only_its_task_fails(tmp_path):
    once = f"once:{tmp_path / 'marker'}"
    tasks = ["a", once, "b", "c", "d"]
    with LocalProcesses(_Killer, 2) as ex:  # a process dies once: every task in flight is computed again
        got = {o.task: o for o in ex.imap(iter(tasks))}
    assert {t: o.result for t, o in got.items() if o.ok} == {t: t.upper() for t in tasks}
    assert (tmp_path / "marker").read_text() == "died once" and ex.restarts >= 1
    tasks = ["a", "b", "die", "c", "d", "e"]
    with LocalProcesses(_Killer, 2) as ex:  # a task that kills its process each time: only it fails
        got = {o.task: o for o in ex.imap(iter(tasks))}
    assert sorted(got) == sorted(tasks)
    assert {t: o.result for t, o in got.items() if o.ok} == {t: t.upper() for t in tasks if t != "die"}
    assert type(got["die"].error) is RuntimeError and "died, twice" in str(got["die"].error)
    with LocalProcesses(_Unbuildable, 2) as ex:  # a factory that fails: every task says why
        errors = [o.error for o in ex.imap(iter(["x", "y"]))]
    assert [f"{type(e).__name__}: {e}" for e in errors] == ["ValueError: no model here"] * 2
