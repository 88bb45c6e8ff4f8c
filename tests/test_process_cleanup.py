"""No process of a run outlives its driver: ``kill -9`` and SIGTERM of ``vsrbench run`` / ``vsrbench
evaluate`` with two local workers and with ``--executor ray`` (a local Ray instance).

Each driver runs in a subprocess whose environment carries a token of its own
(``VSRBENCH_TEST_TOKEN``); every process it starts inherits it (the fork server, the resource
tracker, the workers; Ray's GCS, raylet, agents and actors), so the run's processes are those
whose ``/proc/PID/environ`` holds the token. Once a first sequence is stored the driver is killed
or sent SIGTERM; then no process with the token may be left after a few seconds (zombies, which
hold no memory and wait only for ``init`` to collect them, are not counted). SIGTERM is an
interrupt as Ctrl-C is: exit 143, the "interrupted" line, the run marked interrupted. Resuming
(in this process, one worker) stores exactly the rows of an uninterrupted run.

Every call of ``evaluate_many`` sleeps (a ``sitecustomize`` on the subprocess's path), so that
the driver is still scoring when it is killed.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from _support.builders import noisy_outputs, slow_scoring
from vsrbench.cli import main
from vsrbench.results.loading import load_results, load_runs

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").is_file(),
                                reason="counts a run's processes through /proc/PID/environ (Linux)")

REPO = Path(__file__).resolve().parents[1]
SEQS = ("s0", "s1", "s2", "s3", "s4")
TOKEN = "VSRBENCH_TEST_TOKEN"
NO_RAY = "Ray is not installed (pip install -c constraints.txt -e '.[dev,ray]')"
#: seconds the run's processes get to end after the driver did (the workers see it at once; a
#: local Ray instance's processes give up on its GCS after 5 s)
GONE_WITHIN_S = 15



@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Five sequences of four 48 x 64 frames, outputs with noise, a benchmark scoring them, and
    the ``sitecustomize`` that slows scoring down."""
    root = tmp_path_factory.mktemp("cleanup")
    noisy_outputs(root, SEQS, seed=7)
    (root / "bench.toml").write_text('protocol = "basicsr-rgb"\nmetrics = ["psnr", "ssim"]\n'
                                     '[datasets.syn]\ngt = "data/GT"\ndegradation = "bi-matlab"\nscale = 4\n'
                                     '[methods.X]\noutputs = { syn = "data/X" }\n')
    slow_scoring(root / "slow", 1.0)
    return root


def command(data: Path, kind: str, out: Path) -> list[str]:
    """The arguments of ``vsrbench run`` or ``vsrbench evaluate`` of the data into ``out``."""
    if kind == "run":
        return ["run", str(data / "bench.toml"), "--out", str(out), "--quiet"]
    return ["evaluate", "--gt", str(data / "data" / "GT"), "--pred", str(data / "data" / "X"), "--out", str(out),
            "--metrics", "psnr,ssim", "--protocol", "basicsr-rgb"]


def rows(results: Path) -> set[tuple]:
    df = load_results(results)
    return set(zip(df["method"], df["dataset"], df["sequence"], df["frame"], df["metric"], df["value"]))


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory) -> dict[str, set[tuple]]:
    """The rows of an uninterrupted run and evaluate (one worker, this process)."""
    ref = {}
    for kind in ("run", "evaluate"):
        out = tmp_path_factory.mktemp("ref") / kind
        mp = pytest.MonkeyPatch()
        mp.setenv("VSRBENCH_WORKERS", "1")
        try:
            assert main(command(data, kind, out)) == 0
        finally:
            mp.undo()
        ref[kind] = rows(out)
        assert len({r[2] for r in ref[kind]}) == len(SEQS)
    return ref


def stored_sequences(out: Path) -> int:
    """How many sequences the store at ``out`` marks complete (0 before it exists)."""
    path = out / "results.sqlite"
    if not path.is_file():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as c:
            return c.execute("SELECT COUNT(DISTINCT sequence) FROM completed").fetchone()[0]
    except sqlite3.OperationalError:  # not yet made, or busy
        return 0


def processes_with(token: str) -> dict[int, str]:
    """pid -> command line of every live (not zombie) process whose environment holds ``token``."""
    found = {}
    needle = f"{TOKEN}={token}".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                if f.read().rpartition(b")")[2].split()[0] in (b"Z", b"X"):
                    continue
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                found[int(entry.name)] = f.read().replace(b"\0", b" ").decode(errors="replace")[:120]
        except (OSError, IndexError):  # gone meanwhile, or not ours to read
            continue
    return found


@pytest.fixture
def driver(data, tmp_path):
    """Start a driver (``start(kind, *extra)``) in a subprocess with a token of its own, once a
    first sequence is stored; afterwards any process still holding the token is killed (by pid),
    so that a failing test leaves nothing behind."""
    token = uuid.uuid4().hex
    started: list[subprocess.Popen] = []

    def start(kind: str, *extra: str) -> tuple[subprocess.Popen, Path]:
        out = tmp_path / "res"
        env = {**os.environ, TOKEN: token, "VSRBENCH_WORKERS": "2", "VSRBENCH_EXPORT_INTERVAL": "0",
               "PYTHONPATH": os.pathsep.join([str(data / "slow"), str(REPO)])}
        argv = [sys.executable, "-m", "vsrbench.cli", *command(data, kind, out), "--workers", "2", *extra]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        deadline = time.monotonic() + 120
        while stored_sequences(out) == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, f"the driver ended before it was stopped: {proc.communicate()[1]}"
        assert 0 < stored_sequences(out) < len(SEQS), "the driver was stopped too early or too late"
        return proc, out

    start.token = token  # type: ignore[attr-defined]
    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    for pid in processes_with(token):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def assert_none_left(token: str) -> float:
    """Wait (up to :data:`GONE_WITHIN_S`) until no process holds ``token``; the seconds it took."""
    start = time.monotonic()
    left = processes_with(token)
    while left and time.monotonic() - start < GONE_WITHIN_S:
        time.sleep(0.2)
        left = processes_with(token)
    assert not left, f"still running {GONE_WITHIN_S} s after the driver ended: {left}"
    return time.monotonic() - start


def resume_matches(data: Path, kind: str, out: Path, reference: set[tuple], monkeypatch) -> None:
    """Resuming with one worker in this process stores exactly the rows of an uninterrupted run,
    the earlier run marked interrupted."""
    monkeypatch.setenv("VSRBENCH_WORKERS", "1")
    assert main(command(data, kind, out)) == 0
    assert rows(out) == reference
    assert list(load_runs(out)["status"]) == ["interrupted", "done"]


def killed(driver, data, kind, reference, monkeypatch, *extra: str) -> None:
    proc, out = driver(kind, *extra)
    children = processes_with(driver.token)
    assert len(children) >= 3, children  # the driver and what it started (workers, or Ray's processes)
    proc.kill()
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert_none_left(driver.token)
    partial = rows(out)
    assert partial and partial < reference[kind]
    resume_matches(data, kind, out, reference[kind], monkeypatch)


def terminated(driver, data, kind, reference, monkeypatch, *extra: str) -> None:
    proc, out = driver(kind, *extra)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == f"vsrbench {kind}: interrupted by SIGTERM; results written so far are kept"
    assert "Traceback" not in err, err
    assert list(load_runs(out)["status"]) == ["interrupted"]
    assert_none_left(driver.token)
    partial = rows(out)
    assert partial and partial < reference[kind]
    resume_matches(data, kind, out, reference[kind], monkeypatch)


# ---------------------------------------------------------------------- two local worker processes

@pytest.mark.parametrize("kind", ["run", "evaluate"])
def test_a_killed_driver_takes_its_workers_fork_server_and_resource_tracker_with_it(driver, data, reference, kind,
                                                                                      monkeypatch):
    killed(driver, data, kind, reference, monkeypatch)


@pytest.mark.parametrize("kind", ["run", "evaluate"])
def test_sigterm_is_an_interrupt_that_keeps_the_rows_and_exits_143(driver, data, reference, kind, monkeypatch):
    terminated(driver, data, kind, reference, monkeypatch)


# ---------------------------------------------------------------------- a local Ray instance

def test_a_killed_driver_takes_its_local_ray_instance_with_it(driver, data, reference, monkeypatch):
    pytest.importorskip("ray", reason=NO_RAY)
    killed(driver, data, "run", reference, monkeypatch, "--executor", "ray")


def test_sigterm_on_ray_is_an_interrupt_that_stops_the_local_instance(driver, data, reference, monkeypatch):
    pytest.importorskip("ray", reason=NO_RAY)
    terminated(driver, data, "evaluate", reference, monkeypatch, "--executor", "ray")


# ---------------------------------------------------------------------- the pieces

def test_sigterm_raises_keyboardinterrupt_only_inside_a_command_and_the_handler_is_restored(tmp_path):
    """``main`` is called in-process (by tests, by notebooks): the handler it sets is its own."""
    from vsrbench.cli import sigterm_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt() as came:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted long before
    assert came == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) is before
    assert main(["evaluate", "--gt", str(tmp_path / "none"), "--pred", str(tmp_path / "none"),
                 "--out", str(tmp_path / "res")]) != 0
    assert signal.getsignal(signal.SIGTERM) is before


def test_watch_driver_calls_back_once_the_process_has_ended():
    import threading

    from vsrbench.core.processes import process_alive
    from vsrbench.execution.base import watch_driver

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ended = threading.Event()
    try:
        watch_driver(child.pid, ended.set)
        assert process_alive(child.pid) and not ended.wait(0.3)
        child.kill()  # a zombie until it is waited for: ended all the same
        assert ended.wait(5)
        assert not process_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not process_alive(child.pid)
