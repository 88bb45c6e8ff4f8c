"""``--executor ray``: sequences scored by actors on a Ray cluster, stored by the driver alone.

The fault cases of the issue, on ONE local Ray instance with 2 CPUs for the whole module (started
the way ``vsrbench run --executor ray`` starts one, by :class:`RayExecutor` without an address):
a task that raises, an unreachable ``--address``, Ray not installed, a cluster joined by its
address; then real runs: the same stored rows as a local run (``run`` and ``evaluate``), a worker
process killed mid-task during a run (its task is retried) and a driver interrupted and resumed
leave no duplicate or missing row.

The toy workers live here, at module level: the actors import this module by name, so the
instance is started with this folder on its workers' PYTHONPATH.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from vsrbench.core.errors import InputError

HERE = Path(__file__).resolve().parent
NO_RAY = "Ray is not installed (pip install -c constraints.txt -e '.[dev,ray]')"

_BUILT = 0  # workers built in this process (an actor builds one, once)


class Toy:
    """A worker: ``compute(n)`` is ``n * n`` with the process id; a task named in ``raises``
    raises, one in ``kills`` kills its own process the first time it is seen (marked by a file),
    one in ``poison`` every time."""

    def __init__(self, marks: str = "", raises=(), kills=(), poison=()):
        global _BUILT
        _BUILT += 1
        self.built, self.marks, self.raises, self.kills = _BUILT, marks, set(raises), set(kills)
        self.poison = set(poison)

    def compute(self, task):
        if task in self.poison:
            os.kill(os.getpid(), signal.SIGKILL)
        if task in self.kills:
            mark = Path(self.marks) / f"killed-{task}"
            if not mark.exists():
                mark.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-task
        if task in self.raises:
            raise ValueError(f"task {task} cannot be scored")
        warnings.warn(f"toy warning of task {task}")
        return task * task, os.getpid(), self.built


class ToyFactory:
    """A picklable, argument-free factory of :class:`Toy` workers."""

    def __init__(self, **kw):
        self.kw = kw

    def __call__(self) -> Toy:
        return Toy(**self.kw)


@pytest.fixture(scope="module")
def cluster():
    """One local Ray instance with 2 CPUs for the module, started by the executor itself."""
    pytest.importorskip("ray", reason=NO_RAY)
    import ray

    from vsrbench.execution.ray_executor import RayExecutor

    rays_before = {k: v for k, v in os.environ.items() if k.startswith("RAY_") or k == "PYTHONBREAKPOINT"}
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "VSRBENCH_WORKERS")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), saved["PYTHONPATH"]) if p)
    os.environ["VSRBENCH_WORKERS"] = "2"  # the instance's CPUs (default: this machine's cores)
    lines: list[str] = []
    try:
        first = RayExecutor(ToyFactory(), say=lines.append)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield {"executor": first, "lines": lines, "address": ray.get_runtime_context().gcs_address}
    finally:
        first.close()
    assert not ray.is_initialized()  # the instance this executor started is stopped by it
    # and Ray's variables are as they were (ray.init leaves RAY_AUTH_MODE, ... set; processes started later
    # inherited them, and a local instance one of them started then left its node agents behind)
    assert {k: v for k, v in os.environ.items() if k.startswith("RAY_") or k == "PYTHONBREAKPOINT"} == rays_before


def executor(**kw):
    from vsrbench.execution.ray_executor import RayExecutor

    return RayExecutor(ToyFactory(**kw), say=lambda line: None)


# ---------------------------------------------------------------------- the executor on toy workers

def test_a_local_instance_is_started_with_the_cores_and_said_in_one_line(cluster):
    ex = cluster["executor"]
    assert ex.describe() == {"executor": "ray", "address": None, "nodes": 1, "cpus": 2, "gpus": 0, "actors": 2}
    assert ex.started_here and ex.capacity == 2  # one task per actor at a time
    assert cluster["lines"] == ["Ray: a local Ray instance: 1 node(s), 2 CPUs, 0 GPUs; 2 worker(s) with one CPU each"]


def test_tasks_run_on_actors_that_build_their_worker_once_and_a_failure_is_that_tasks_outcome(cluster, tmp_path):
    """A task that raises, and one that kills its worker on every try: each is reported, alone."""
    with executor(raises=[3], poison=[1]) as ex:
        outcomes = list(ex.imap(range(8)))
    assert sorted(o.task for o in outcomes) == list(range(8))
    failed = sorted((o for o in outcomes if not o.ok), key=lambda o: o.task)
    assert [o.task for o in failed] == [1, 3]  # nothing else: no task waited on the dying actor
    assert str(failed[0].error).startswith("the Ray worker computing this sequence died (tried 3 times): ")
    assert isinstance(failed[1].error, ValueError) and str(failed[1].error) == "task 3 cannot be scored"
    done = {o.task: o.result for o in outcomes if o.ok}
    assert {t: r[0] for t, r in done.items()} == {t: t * t for t in range(8) if t not in (1, 3)}
    assert all(o.warnings == [f"toy warning of task {o.task}"] for o in outcomes if o.ok)
    pids = {r[1] for r in done.values()}
    assert os.getpid() not in pids  # computed by actors, not by the driver
    assert {r[2] for r in done.values()} == {1}  # each actor built its worker once (again after a restart)


def test_never_more_actors_than_the_cluster_has_slots_or_the_run_tasks_and_none_without_a_task(cluster):
    from vsrbench.execution.ray_executor import RayExecutor

    with RayExecutor(ToyFactory(), tasks=1, say=lambda line: None) as ex:
        assert ex.describe()["actors"] == 1
    with RayExecutor(ToyFactory(), workers=5, say=lambda line: None) as ex:
        assert ex.describe()["actors"] == 2  # the cluster's 2 CPUs: a third actor would never start
    with executor() as ex:
        assert list(ex.imap([])) == []
        assert ex._actors == []


def test_cuda_on_a_cluster_without_gpus_and_a_numbered_cuda_device_are_one_line(cluster):
    from vsrbench.execution.ray_executor import RayExecutor

    with pytest.raises(InputError) as e:
        RayExecutor(ToyFactory(), device="cuda", say=lambda line: None)
    assert str(e.value) == ("--device cuda: the Ray this process had already started has no GPUs (1 node(s), 2 CPUs); "
                            "start its nodes where GPUs are, or drop --device cuda")
    with pytest.raises(InputError, match=r"^--device cuda:1: with --executor ray each worker gets a GPU of its own; "
                                         r"use --device cuda \(Ray picks the GPUs\)$"):
        RayExecutor(ToyFactory(), device="cuda:1", say=lambda line: None)


def test_an_address_other_than_the_ray_this_process_joined_is_one_line(cluster):
    from vsrbench.execution.ray_executor import RayExecutor

    with pytest.raises(InputError, match=r"^--address 127\.0\.0\.1:1: this process is already connected to the Ray at "):
        RayExecutor(ToyFactory(), address="127.0.0.1:1")
    RayExecutor(ToyFactory(), address=cluster["address"], say=lambda line: None).close()  # its own address is fine


# ---------------------------------------------------------------------- bad input

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_address_is_one_line(bench, tmp_path):
    pytest.importorskip("ray", reason=NO_RAY)
    address = f"127.0.0.1:{closed_port()}"
    p = subprocess.run([sys.executable, "-m", "vsrbench", "run", str(bench), "--out", str(tmp_path / "res"),
                        "--executor", "ray", "--address", address],
                       capture_output=True, text=True, timeout=120, env={**os.environ, "RAY_ADDRESS": ""})
    assert p.returncode != 0
    assert p.stderr.splitlines() == [
        f"vsrbench run: error: --address {address}: cannot reach a Ray cluster there (no connection to {address}: "
        "Connection refused); start one with `ray start --head` or drop --address to run Ray locally"]
    assert not (tmp_path / "res").exists()  # refused before the results folder is made


def test_an_address_that_is_not_host_port_is_one_line():
    pytest.importorskip("ray", reason=NO_RAY)
    from vsrbench.execution.ray_executor import _host_port

    with pytest.raises(InputError, match=r"^--address 'head-node': expected HOST:PORT of a Ray cluster's head"):
        _host_port("head-node")
    assert _host_port("10.0.0.9:6379") == ("10.0.0.9", 6379)
    assert _host_port("[::1]:6379") == ("::1", 6379)
    assert _host_port("auto") == (None, 0)


def test_without_ray_the_executor_is_one_line_saying_how_to_install_it(monkeypatch):
    from vsrbench.execution import make_executor

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    monkeypatch.delitem(sys.modules, "vsrbench.execution.ray_executor", raising=False)
    with pytest.raises(InputError) as e:
        make_executor("ray", ToyFactory())
    assert "--executor ray needs Ray, which is not installed" in str(e.value)
    assert "pip install 'vsrbench[ray]'" in str(e.value) and "\n" not in str(e.value)


JOIN = """
import sys
from vsrbench.execution import make_executor
make_executor("ray", object, address=sys.argv[1])
"""


def test_a_cluster_that_wants_a_token_the_driver_lacks_is_one_line(cluster):
    if os.environ.get("RAY_AUTH_MODE") != "token":
        pytest.skip("this Ray started its local instance without token authentication")
    p = subprocess.run([sys.executable, "-c", JOIN, cluster["address"]], capture_output=True, text=True, timeout=180,
                       env={**os.environ, "RAY_AUTH_MODE": "disabled"})
    assert p.returncode != 0
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith(f"vsrbench.core.errors.InputError: --address {cluster['address']}: the Ray cluster "
                           "there wants its authentication token and this process has none (RAY_AUTH_MODE=disabled)")
    assert "gcs_client" not in p.stderr  # Ray's own retry lines are kept off the terminal


# ---------------------------------------------------------------------- real runs

class KillOnce:
    """Wraps a run's worker factory: the worker computing sequence ``victim`` kills its own
    process the first time (marked by a file), mid-task, as an out-of-memory kill would."""

    def __init__(self, factory, marks: str, victim: str):
        self.factory, self.marks, self.victim = factory, marks, victim

    def __call__(self):
        return _KillingWorker(self.factory(), Path(self.marks) / f"killed-{self.victim}", self.victim)


class _KillingWorker:
    def __init__(self, worker, mark: Path, victim: str):
        self.worker, self.mark, self.victim = worker, mark, victim

    def compute(self, task):
        if task.sequence == self.victim and not self.mark.exists():
            self.mark.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return self.worker.compute(task)


SEQS, KEY = ("s0", "s1", "s2"), ["method", "dataset", "sequence", "frame", "metric"]


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    """A benchmark of 3 short sequences: an outputs folder (X) and a built-in model (Bicubic)."""
    from _support.builders import noisy_outputs

    root = tmp_path_factory.mktemp("raybench")
    noisy_outputs(root, SEQS, seed=0)
    path = root / "bench.toml"
    path.write_text('protocol = "basicsr-rgb"\nmetrics = ["psnr", "ssim", "tof"]\n'
                    '[datasets.syn]\ngt = "data/GT"\ndegradation = "bi-matlab"\nscale = 4\n'
                    '[methods.X]\noutputs = { syn = "data/X" }\n[methods.Bicubic]\nmodel = "bicubic"\n')
    return path


@pytest.fixture(scope="module")
def local_rows(bench, tmp_path_factory):
    """What a local run stores (the reference every Ray run must match)."""
    from vsrbench.runner import run_benchmark
    from vsrbench.results.loading import load_results

    res = tmp_path_factory.mktemp("local") / "res"
    run_benchmark(bench, res, device="cpu", progress=False, workers=1)
    return load_results(res)


def same_rows(res: Path, expected) -> None:
    """The store at ``res`` holds exactly ``expected``'s rows: none missing, none twice, the same values."""
    import numpy as np
    import pandas as pd

    from vsrbench.results.loading import load_results

    got = load_results(res)
    assert not got.duplicated(KEY).any()
    got, want = (df.sort_values(KEY).reset_index(drop=True) for df in (got, expected))
    pd.testing.assert_frame_equal(got.drop(columns="value"), want.drop(columns="value"))
    assert np.allclose(got["value"], want["value"], rtol=1e-6, atol=1e-9)


def cli(capsys, *argv) -> tuple[int, str, str]:
    from vsrbench.cli import main

    code = main([*map(str, argv)])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_run_joining_a_cluster_by_its_address_stores_the_rows_of_a_local_run(cluster, bench, local_rows, tmp_path):
    """`vsrbench run --executor ray --address ADDR` in another process, as on a cluster's head node."""
    import ray

    from vsrbench.results.loading import load_runs

    res, address = tmp_path / "res", cluster["address"]
    p = subprocess.run([sys.executable, "-m", "vsrbench", "run", str(bench), "--out", str(res), "--executor", "ray",
                        "--address", address], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert f"Ray: the Ray cluster at {address}: 1 node(s), 2 CPUs, 0 GPUs; 2 worker(s) with one CPU each" in p.stderr
    assert "6 sequence(s) scored, 0 already stored, 0 without outputs, 0 failed" in p.stdout
    same_rows(res, local_rows)
    runs = load_runs(res)
    assert runs["status"].tolist() == ["done"]
    execution = runs.iloc[0]["bench"]["execution"]
    assert {k: execution[k] for k in ("executor", "address", "nodes", "cpus", "gpus", "actors")} == {
        "executor": "ray", "address": address, "nodes": 1, "cpus": 2, "gpus": 0, "actors": 2}
    assert ray.is_initialized() and ray.cluster_resources().get("CPU") == 2  # the joined cluster is left running


def test_a_worker_killed_during_a_run_leaves_no_duplicate_or_missing_row(cluster, bench, local_rows, tmp_path,
                                                                          monkeypatch, capsys):
    import vsrbench.run.driver
    from vsrbench.execution import make_executor
    from vsrbench.results.loading import load_runs

    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setattr(vsrbench.run.driver, "make_executor", lambda kind, factory, **kw: make_executor(
        kind, KillOnce(factory, str(marks), victim="s1"), **kw))
    res = tmp_path / "res"
    code, out, err = cli(capsys, "run", bench, "--out", res, "--executor", "ray")
    assert code == 0, err
    assert (marks / "killed-s1").exists()  # a worker did die mid-task
    assert "died and was restarted; its task was retried" in err
    assert "(raylet)" not in out and "worker died" not in out  # Ray's own lines about it stay off stdout
    assert "6 sequence(s) scored, 0 already stored, 0 without outputs, 0 failed" in out
    same_rows(res, local_rows)
    assert load_runs(res)["status"].tolist() == ["done"]


def test_an_interrupted_driver_resumes_to_the_rows_of_a_local_run(cluster, bench, local_rows, tmp_path, monkeypatch,
                                                                   capsys):
    import ray

    from vsrbench.results.store import ResultsStore
    from vsrbench.results.loading import load_results, load_runs

    real_add, calls = ResultsStore.add_sequence, []

    def add_then_interrupt(self, run_id, result):
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C while the driver stores the second sequence's second method
        calls.append(result.sequence)
        return real_add(self, run_id, result)

    monkeypatch.setattr(ResultsStore, "add_sequence", add_then_interrupt)
    res = tmp_path / "res"
    code, _, err = cli(capsys, "run", bench, "--out", res, "--executor", "ray")
    assert code == 130, err
    partial = load_results(res)  # the first sequence to come back, both its methods, and nothing else
    first = set(partial.sequence)
    assert len(first) == 1 and set(partial.method) == {"X", "Bicubic"}
    same_rows(res, local_rows[local_rows.sequence.isin(first)])
    assert ray.is_initialized()  # the instance this run joined is left running; its actors are gone
    monkeypatch.setattr(ResultsStore, "add_sequence", real_add)
    code, out, err = cli(capsys, "run", bench, "--out", res, "--executor", "ray")
    assert code == 0, err
    assert "4 sequence(s) scored, 2 already stored, 0 without outputs, 0 failed" in out
    same_rows(res, local_rows)
    assert load_runs(res)["status"].tolist() == ["interrupted", "done"]


def test_evaluate_on_ray_stores_the_rows_of_a_local_evaluate(cluster, bench, tmp_path, capsys):
    gt, pred = bench.parent / "data" / "GT", bench.parent / "data" / "X"
    args = ["evaluate", "--gt", gt, "--pred", pred, "--metrics", "psnr,ssim,tof", "--protocol", "basicsr-rgb"]
    code, _, err = cli(capsys, *args, "--out", tmp_path / "local")
    assert code == 0, err
    from vsrbench.results.loading import load_results, load_runs

    code, _, err = cli(capsys, *args, "--out", tmp_path / "ray", "--executor", "ray", "--workers", "1")
    assert code == 0, err
    assert "Ray: the Ray this process had already started: 1 node(s), 2 CPUs, 0 GPUs; 1 worker(s) with one CPU each" in err
    same_rows(tmp_path / "ray", load_results(tmp_path / "local"))
    execution = load_runs(tmp_path / "ray").iloc[0]["bench"]["execution"]
    assert (execution["executor"], execution["actors"], execution["workers_asked"]) == ("ray", 1, 1)
