"""The trust issue, results-store part: read-only folders, OS error lines, --tol names, nested
stores, concurrent runs and stale run records."""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import vsrbench.results.store as store_mod
from vsrbench.results.loading import read_store
from vsrbench.analysis.check import read_baseline
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError, os_error, os_error_message
from vsrbench.core.io import write_frame
from vsrbench.metrics import METRICS
from vsrbench.pytest_plugin import assert_matches_baseline
from vsrbench.runner import run_benchmark
from vsrbench.results.store import STORE_FILENAME, ResultsStore, SequenceResult
from vsrbench.results.locks import ProcessLock, run_claim
from vsrbench.results.loading import load_results, load_runs


def test_os_error_message_names_the_path_not_the_temp_file():
    e = OSError(errno.EROFS, "Read-only file system", "/r/.definitions.json.0lj9shil.tmp")
    msg = os_error_message(e, "write results folder", "/r")
    assert msg == "cannot write results folder '/r': read-only file system"
    assert ".tmp" not in msg
    err = os_error(PermissionError(errno.EACCES, "Permission denied"), "write", "/x/out.csv")
    assert isinstance(err, InputError) and str(err) == "cannot write '/x/out.csv': permission denied"
    assert os_error_message(OSError(errno.EIO, "Input/output error"), "read", "/r") == "cannot read '/r': input/output error"


# ---------------------------------------------------------------------- fixtures

H, W, N = 16, 24, 3
SEQS = ("s0", "s1", "s2")
RUN = {"vsrbench_version": "0.1.0", "protocol": "tecogan", "protocol_hash": "aaaaaaaaaaaa",
       "protocol_fields": {}, "metric_versions": {"psnr": "1", "ssim": "1"}}


def seq_result(method="m", sequence="s", offset=0.0) -> SequenceResult:
    rows = [(f, m, 20.0 + f + i + offset) for f in range(3) for i, m in enumerate(("psnr", "ssim"))]
    return SequenceResult(method, "d", sequence, rows, [f"{f}.png" for f in range(3)], {"psnr": "1", "ssim": "1"},
                          "tecogan", "aaaaaaaaaaaa")


def make_store(folder: Path) -> Path:
    with ResultsStore(folder) as s:
        rid = s.start_run(RUN)
        s.add_sequence(rid, seq_result("A", "s0"))
        s.add_sequence(rid, seq_result("B", "s0", 1.0))
        s.finish_run(rid, "done")
    return folder


def snapshot(folder: Path) -> dict:
    """Every file of a folder with its bytes and mtime."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


CALLABLE = """
import os, time
import numpy as np

def nearest(frames):
    with open(os.environ["CALLS"], "a") as f:
        f.write(f"{os.getpid()} {frames[0].mean():.6f}\\n")
    time.sleep(float(os.environ.get("SLEEP", "0")))
    if os.environ.get("HANG_MEAN") and abs(frames[0].mean() - float(os.environ["HANG_MEAN"])) < 1e-3:
        time.sleep(600)
    return [np.repeat(np.repeat(f, 4, axis=0), 4, axis=1) for f in frames]
"""


def gt(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (H, W, 3)).astype(np.uint8) for _ in range(N)]


@pytest.fixture
def bench(tmp_path, monkeypatch) -> Path:
    """A benchmark of one callable method (x4 nearest) on three 3-frame sequences; the callable
    appends one line per sequence it upscales to $CALLS."""
    for k, s in enumerate(SEQS):
        for i, f in enumerate(gt(k)):
            write_frame(tmp_path / "data" / "GT" / s / f"{i:03d}.png", f)
            write_frame(tmp_path / "data" / "LR" / s / f"{i:03d}.png", f[::4, ::4])
    (tmp_path / "my_sr.py").write_text(CALLABLE)
    path = tmp_path / "bench.toml"
    path.write_text(textwrap.dedent("""
        protocol = "basicsr-rgb"
        metrics = ["psnr"]
        [datasets.syn]
        gt = "data/GT"
        lr = "data/LR"
        scale = 4
        [methods.B]
        callable = "my_sr.py:nearest"
        """))
    monkeypatch.setenv("CALLS", str(tmp_path / "calls.txt"))
    return path


def lr_mean(seq: int) -> float:
    return float(gt(seq)[0][::4, ::4].mean())


def calls(tmp_path: Path) -> list[str]:
    p = tmp_path / "calls.txt"
    return p.read_text().splitlines() if p.exists() else []


def vsrbench_process(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vsrbench", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})


# ---------------------------------------------------------------------- 1. reading never writes

def test_reading_commands_never_create_or_change_a_store(tmp_path, capsys):
    res = make_store(tmp_path / "res")
    before = snapshot(res)
    assert set(before) == {STORE_FILENAME}  # a closed WAL store leaves no side file
    assert len(load_results(res)) == 12 and list(load_runs(res)["status"]) == ["done"]
    out = tmp_path / "out"
    assert main(["table", str(res)]) == 0
    assert main(["export", str(res), "--out", str(out / "r.csv")]) == 0
    assert main(["check", str(res), "--write-baseline", str(out / "b.json")]) == 0
    assert main(["check", str(res), "--baseline", str(out / "b.json")]) == 0
    assert snapshot(res) == before  # same bytes, same mtime, no -wal/-shm created
    # a folder without a store stays empty; a missing one is not created
    (tmp_path / "empty").mkdir()
    capsys.readouterr()
    assert main(["table", str(tmp_path / "empty")]) == 2
    assert "no results store in" in capsys.readouterr().err
    assert list((tmp_path / "empty").iterdir()) == []
    assert main(["export", str(tmp_path / "nope"), "--out", str(out / "x.csv")]) == 2
    assert not (tmp_path / "nope").exists()


def test_an_empty_store_file_is_read_without_being_given_tables(tmp_path):
    (tmp_path / STORE_FILENAME).write_bytes(b"")
    with pytest.raises(InputError, match="holds no results yet"):
        load_results(tmp_path)
    assert (tmp_path / STORE_FILENAME).read_bytes() == b"" and len(list(tmp_path.iterdir())) == 1


def killed_writer(folder: Path) -> None:
    """A process that stores rows and dies without closing: its -wal holds them, not the main file."""
    code = textwrap.dedent(f"""
        import os
        from vsrbench.results.store import ResultsStore, SequenceResult
        s = ResultsStore({str(folder)!r})
        rid = s.start_run({RUN!r})
        s.add_sequence(rid, SequenceResult("C", "d", "s0", [(0, "psnr", 9.0)], ["0.png"], {{"psnr": "1"}},
                                           "tecogan", "aaaaaaaaaaaa"))
        os._exit(0)
        """)
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (folder / (STORE_FILENAME + "-wal")).stat().st_size > 0


def refuse_side_files(monkeypatch, folder: Path) -> list[str]:
    """Make SQLite fail like in a folder that cannot hold a -shm file: a shared (mode=ro, not
    immutable) open of a store in ``folder`` cannot open. Returns the URIs opened."""
    real, opened = store_mod._connect, []

    def connect(target, timeout, *, uri=False):
        opened.append(target)
        if uri and "immutable" not in target and str(folder) in target:
            conn = sqlite3.connect(":memory:")
            conn.close()  # any query: sqlite3.ProgrammingError; we want SQLite's own open error
            raise_on = sqlite3.OperationalError("unable to open database file")

            class Failing:
                def execute(self, *a):
                    raise raise_on

                def close(self):
                    pass
            return Failing()
        return real(target, timeout, uri=uri)

    monkeypatch.setattr(store_mod, "_connect", connect)
    return opened


def test_a_read_only_folder_is_read_immutable_or_from_a_copy_of_its_wal(tmp_path, monkeypatch):
    res = make_store(tmp_path / "res")
    killed_writer(res)  # its run and row C are only in the -wal
    before = snapshot(res)
    opened = refuse_side_files(monkeypatch, res)
    df = load_results(res)
    assert sorted(set(df.method)) == ["A", "B", "C"]  # the -wal's rows are not lost
    assert any("mode=ro" in u and str(res) not in u for u in opened)  # read from a private copy
    assert snapshot(res) == before
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("vsrbench-store-*"))
    # an empty -wal (everything checkpointed) and no writer: read the file immutable
    res2 = make_store(tmp_path / "res2")
    (res2 / (STORE_FILENAME + "-wal")).write_bytes(b"")
    before = snapshot(res2)
    opened.clear()
    assert sorted(set(load_results(res2).method)) == ["A", "B"]
    assert any("immutable=1" in u for u in opened)
    assert snapshot(res2) == before


def test_a_store_a_writer_keeps_open_is_read_under_its_locks(tmp_path):
    res = make_store(tmp_path / "res")
    with ResultsStore(res) as writer:  # a run in progress: -wal and -shm exist
        rid = writer.start_run(RUN)
        writer.add_sequence(rid, seq_result("C", "s0"))
        assert sorted(set(load_results(res).method)) == ["A", "B", "C"]


def test_an_unlocked_read_that_saw_a_writer_reads_again(tmp_path, monkeypatch):
    res = make_store(tmp_path / "res")
    reads = []

    def read(store):
        reads.append(store._stat is not None)
        if len(reads) == 1:  # a writer commits and checkpoints while the first (immutable) read runs
            with ResultsStore(res) as w:
                w.add_sequence(w.start_run(RUN), seq_result("C", "s0"))
        return store.query("SELECT DISTINCT method FROM results ORDER BY method")

    assert read_store(res, read) == [("A",), ("B",), ("C",)]
    assert reads == [True, False]


def ro_mount_available() -> bool:
    if not shutil.which("unshare") or not shutil.which("mount"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind / /mnt && mount -o remount,bind,ro /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not ro_mount_available(), reason="needs `unshare -m` and `mount` (root in a mount namespace) "
                                                     "for a real read-only bind mount")
def test_commands_on_a_real_read_only_mount(tmp_path, bench):
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    mnt.mkdir()
    make_store(src)
    killed_writer(src)
    before = snapshot(src)
    py = sys.executable
    script = textwrap.dedent(f"""
        set -u
        mount --bind {src} {mnt} && mount -o remount,bind,ro {mnt} || exit 99
        cd {tmp_path}
        echo "== table"; {py} -m vsrbench table {mnt} 2>&1; echo "rc=$?"
        echo "== check"; {py} -m vsrbench check {mnt} --write-baseline {tmp_path}/b.json 2>&1; echo "rc=$?"
        echo "== export"; {py} -m vsrbench export {mnt} --out {tmp_path}/r.json 2>&1; echo "rc=$?"
        echo "== baseline-into-ro"; {py} -m vsrbench check {mnt} --write-baseline {mnt}/b.json 2>&1; echo "rc=$?"
        echo "== run"; {py} -m vsrbench run {bench} --out {mnt} --quiet 2>&1; echo "rc=$?"
        """)
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    out = p.stdout + p.stderr
    assert "sqlite3" not in out and "Traceback" not in out and "Errno" not in out, out
    blocks = {b.split("\n", 1)[0]: b for b in out.split("== ")[1:]}
    assert "| C |" in blocks["table"] and "rc=0" in blocks["table"]
    assert "rc=0" in blocks["check"] and len(read_baseline(tmp_path / "b.json")[0]) == 5
    assert "rc=0" in blocks["export"] and {r["method"] for r in json.loads((tmp_path / "r.json").read_text())["results"]} == {"A", "B", "C"}
    assert f"vsrbench check: error: cannot write baseline '{mnt}/b.json': read-only file system; " \
           "choose another place for it" in blocks["baseline-into-ro"]
    assert f"vsrbench run: error: cannot write results folder '{mnt}': read-only file system; copy it to a " \
           "writable place or choose another --out" in blocks["run"]
    assert "rc=2" in blocks["run"] and ".tmp" not in blocks["run"]
    assert snapshot(src) == before


# ---------------------------------------------------------------------- 2. one line, no temp-file name

def test_run_into_a_read_only_folder_is_one_line_naming_it(tmp_path, bench, monkeypatch, capsys):
    res = tmp_path / "res"

    def read_only(*a, **k):  # what the OS answers in a read-only folder (root included)
        raise OSError(30, "Read-only file system", str(res / ".definitions.json.0lj9shil.tmp"))

    monkeypatch.setattr(ProcessLock, "acquire", read_only)  # the first write into the folder
    assert main(["run", str(bench), "--out", str(res), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"vsrbench run: error: cannot write results folder {str(res)!r}: read-only file system; "
        "copy it to a writable place or choose another --out\n")


def test_a_writing_open_of_a_read_only_store_is_refused_in_one_line(tmp_path, monkeypatch):
    res = make_store(tmp_path / "res")

    class RO:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(store_mod.os, "statvfs", lambda p: RO())
    with pytest.raises(InputError) as e:
        ResultsStore(res)
    assert str(e.value) == (f"cannot write results folder {str(res)!r}: read-only file system; copy the results "
                            "folder to a writable place or choose another one")
    assert len(load_results(res)) == 12  # reading still works


def test_export_and_baseline_write_failures_name_the_file(tmp_path, monkeypatch, capsys):
    import vsrbench.core.io

    res = make_store(tmp_path / "res")

    def fail(path, text):
        raise OSError(13, "Permission denied", str(Path(path).parent / ".vsrb-abcdefgh.tmp"))

    monkeypatch.setattr(vsrbench.core.io, "atomic_write_text", fail)
    out = tmp_path / "o"
    assert main(["export", str(res), "--out", str(out / "r.csv")]) == 2
    assert main(["check", str(res), "--write-baseline", str(out / "b.json")]) == 2
    assert main(["table", str(res), "--out", str(out / "t.md")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"vsrbench export: error: cannot write {str(out / 'r.csv')!r}: permission denied; choose another --out",
        f"vsrbench check: error: cannot write baseline {str(out / 'b.json')!r}: permission denied; "
        "choose another place for it",
        f"vsrbench table: error: cannot write {str(out / 't.md')!r}: permission denied; choose another --out",
    ]


# ---------------------------------------------------------------------- 3. --tol names

@pytest.fixture
def baseline(tmp_path) -> tuple[Path, Path]:
    res = make_store(tmp_path / "res")
    path = tmp_path / "b.json"
    assert main(["check", str(res), "--write-baseline", str(path)]) == 0
    return res, path


def test_a_misspelt_or_unstored_tol_metric_is_an_error(baseline, capsys):
    res, path = baseline
    capsys.readouterr()
    assert main(["check", str(res), "--baseline", str(path), "--tol", "psrn=0.01"]) == 2
    assert main(["check", str(res), "--baseline", str(path), "--tol", "psnr=0.01,tof=0.5"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"vsrbench check: error: unknown --tol metric 'psrn'; did you mean 'psnr'? (known: {', '.join(sorted(METRICS))})",
        "vsrbench check: error: --tol: metric 'tof' is in neither the baseline nor the results (they hold psnr, "
        "ssim); drop its tolerance or store tof too",
    ]
    assert main(["check", str(res), "--baseline", str(path), "--tol", "psnr=0.01,ssim=0"]) == 0


def test_the_pytest_plugin_refuses_unknown_tolerances_too(baseline):
    res, path = baseline
    with pytest.raises(UnknownNameError, match=r"^unknown tol metric 'ssmi'; did you mean 'ssim'\?"):
        assert_matches_baseline(res, path, tol={"ssmi": 0.1})
    with pytest.raises(InputError, match=r"^tol: metric 'tlp' is in neither the baseline nor the results \(they hold "
                                         r"psnr, ssim\)"):
        assert_matches_baseline(res, path, tol="tlp=0.1")
    with pytest.raises(InputError, match="metric 'lpips' is in neither"):  # one sequence's scores
        assert_matches_baseline({"psnr": 21.5}, path, tol={"lpips": 0.1}, method="A", sequence="s0")
    assert assert_matches_baseline(res, path, tol={"psnr": 0.1}).ok


# ---------------------------------------------------------------------- 4. a store in a sub-folder

def test_reading_commands_find_the_store_in_a_demo_like_folder(tmp_path, capsys):
    demo = tmp_path / "demo"
    make_store(demo / "results")
    (demo / "data").mkdir()
    note = f"note: {str(demo)!r} holds no {STORE_FILENAME}; reading the one in {str(demo / 'results')!r}"
    assert main(["table", str(demo)]) == 0
    cap = capsys.readouterr()
    assert cap.err == note + "\n" and "| A |" in cap.out
    assert main(["check", str(demo), "--write-baseline", str(tmp_path / "b.json")]) == 0
    assert main(["check", str(demo), "--baseline", str(tmp_path / "b.json")]) == 0
    assert main(["export", str(demo), "--out", str(tmp_path / "r.csv")]) == 0
    assert capsys.readouterr().err == (note + "\n") * 3
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 13
    assert not (demo / STORE_FILENAME).exists()


def test_several_stores_in_sub_folders_are_listed(tmp_path, capsys):
    make_store(tmp_path / "top" / "b")
    make_store(tmp_path / "top" / "a")
    assert main(["plot", str(tmp_path / "top"), "--out", str(tmp_path / "fig")]) == 2
    assert capsys.readouterr().err == (
        f"vsrbench plot: error: {str(tmp_path / 'top')!r} holds no {STORE_FILENAME}, but 2 of its sub-folders do "
        "(a, b); pass one of them as RESULTS\n")
    assert store_mod.find_results_dir(tmp_path / "top" / "a") == tmp_path / "top" / "a"


# ---------------------------------------------------------------------- 5. concurrent runs

def test_a_sequence_another_run_holds_is_done_after_the_others(tmp_path, bench):
    res = tmp_path / "res"
    with ResultsStore(res) as s:
        held = s.sequence_lock("syn", "s1")
    assert held.acquire(blocking=False)  # "another run" scores syn/s1 (flock: per open file, even in one process)
    lines: list[str] = []
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(
        summary=run_benchmark(bench, res, device="cpu", progress=lines.append)))
    t.start()
    deadline = time.monotonic() + 120
    while not any("being scored" in ln for ln in lines) and t.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    wait_line = [ln for ln in lines if "being scored" in ln]
    assert wait_line == [f"syn/s1: being scored by another run (pid {os.getpid()} on {socket.gethostname()}); "
                         "waiting for it after the other sequences"]
    while not any(ln.startswith("[3/3] B syn/s2: psnr=") for ln in lines) and t.is_alive() \
            and time.monotonic() < deadline:  # said once s2 is stored
        time.sleep(0.05)
    time.sleep(0.3)
    assert t.is_alive()  # s0 and s2 are done; it waits for s1
    assert sorted(set(load_results(res).sequence)) == ["s0", "s2"]
    held.release()
    t.join(120)
    assert result["summary"].ok and [k[2] for k in result["summary"].scored] == ["s0", "s2", "s1"]


def test_two_runs_into_one_folder_do_the_work_once(tmp_path, bench):
    res = tmp_path / "res"
    procs = [vsrbench_process("run", str(bench), "--out", str(res), SLEEP="1.5") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert len(calls(tmp_path)) == 3  # each sequence upscaled once, by one of them
    scored = [int(out.split(" sequence(s) scored")[0].split()[-1]) for out, _ in outs]
    stored = [int(out.split(" already stored")[0].split()[-1]) for out, _ in outs]
    assert sum(scored) == 3 and [a + b for a, b in zip(scored, stored)] == [3, 3], outs
    df = load_results(res)
    assert len(df) == 3 * N and not df.duplicated(["sequence", "frame", "metric"]).any()
    assert list(load_runs(res)["status"]) == ["done", "done"]


# ---------------------------------------------------------------------- 6. killed runs

def test_a_killed_runs_record_is_marked_interrupted_by_the_next_run(tmp_path, bench):
    res = tmp_path / "res"
    p = vsrbench_process("run", str(bench), "--out", str(res), HANG_MEAN=f"{lr_mean(1):.6f}")
    deadline = time.monotonic() + 120
    while len(calls(tmp_path)) < 2 and time.monotonic() < deadline:  # s0 done, s1 hangs
        time.sleep(0.1)
    assert len(calls(tmp_path)) == 2
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    assert list(load_runs(res)["status"]) == ["running"]  # nothing ran to say otherwise
    lines: list[str] = []
    summary = run_benchmark(bench, res, device="cpu", progress=lines.append)
    assert summary.ok and [k[2] for k in summary.scored] == ["s1", "s2"] and summary.skipped == [("B", "syn", "s0")]
    assert f"note: run 1 (pid {p.pid} on {socket.gethostname()}) ended without finishing; marked interrupted" in lines
    assert list(load_runs(res)["status"]) == ["interrupted", "done"]


def test_only_runs_whose_process_is_gone_are_marked(tmp_path):
    res = tmp_path / "res"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    other_host_lock, other = run_claim(res)  # a live run elsewhere: its lock is held
    gone_token = "0" * 32
    with ResultsStore(res) as s:
        live_lock, live = run_claim(res)
        ids = {
            "live": s.start_run({**RUN, "host": socket.gethostname(), **live}),
            "dead pid": s.start_run({**RUN, "host": socket.gethostname(), "pid": dead.pid, "claim": gone_token}),
            "reused pid": s.start_run({**RUN, "host": socket.gethostname(), "pid": os.getpid(),
                                       "pid_start": "another-boot:1"}),
            "other host, held": s.start_run({**RUN, "host": "elsewhere", **other}),
            "other host, free": s.start_run({**RUN, "host": "elsewhere", "pid": 1, "claim": gone_token}),
            "no process recorded": s.start_run({**RUN, "host": socket.gethostname()}),
        }
        marked = dict(s.mark_stale_runs())
        assert marked == {ids["dead pid"]: f"pid {dead.pid} on {socket.gethostname()}",
                          ids["reused pid"]: f"pid {os.getpid()} on {socket.gethostname()}",
                          ids["other host, free"]: "pid 1 on elsewhere"}
        assert s.mark_stale_runs() == []
        live_lock.release()
        other_host_lock.release()
    status = dict(zip(load_runs(res)["run_id"], load_runs(res)["status"]))
    assert [status[ids[k]] for k in ids] == ["running", "interrupted", "interrupted", "running", "interrupted",
                                            "running"]
    assert not (res / ".locks" / f"run-{other['claim']}.lock").exists()  # a run's own lock goes with it


# ---------------------------------------------------------------------- schema 1 -> 2

V1_RUNS = """CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT,
    status TEXT NOT NULL, vsrbench_version TEXT NOT NULL, bench_name TEXT, bench TEXT, protocol TEXT NOT NULL,
    protocol_hash TEXT NOT NULL, protocol_fields TEXT NOT NULL, metric_versions TEXT NOT NULL,
    weights TEXT NOT NULL DEFAULT '{}', libraries TEXT NOT NULL DEFAULT '{}', device TEXT, host TEXT, python TEXT,
    argv TEXT)"""


def test_a_schema_1_store_is_read_as_is_and_migrated_by_a_writer(tmp_path):
    res = make_store(tmp_path / "res")
    with sqlite3.connect(res / STORE_FILENAME) as c:  # rebuild runs as schema 1 had it
        c.execute("ALTER TABLE runs RENAME TO runs2")
        c.execute(V1_RUNS)
        c.execute(f"INSERT INTO runs SELECT {', '.join(store_mod.RUN_COLUMNS)} FROM runs2")
        c.execute("UPDATE runs SET status = 'running'")
        c.execute("DROP TABLE runs2")
        c.execute("PRAGMA user_version = 1")
    c.close()
    before = snapshot(res)
    assert list(load_runs(res)["status"]) == ["running"] and len(load_results(res)) == 12
    assert snapshot(res) == before  # reading does not migrate
    with ResultsStore(res) as s:
        assert s.query("PRAGMA user_version") == [(store_mod.SCHEMA_VERSION,)]
        assert {"pid", "pid_start", "claim"} <= {r[1] for r in s.query("PRAGMA table_info(runs)")}
        assert s.mark_stale_runs() == []  # nothing tells whether a schema-1 run still runs
        s.start_run({**RUN, "pid": os.getpid()})
    assert list(load_runs(res)["status"]) == ["running", "running"] and len(load_results(res)) == 12
