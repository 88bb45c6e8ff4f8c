"""``--executor ray``: sequences scored by actors on a Ray cluster, stored by the driver alone.

The fault cases of the issue, on ONE local Ray instance with 2 CPUs for the whole module (started
the way ``vsrbench run --executor ray`` starts one, by :class:`RayExecutor` without an address):
a task that raises, a worker process killed mid-task, an unreachable ``--address``, Ray not
installed; then real runs: the same stored rows as a local run, a worker killed during a run and
a driver interrupted and resumed leave no duplicate or missing row.

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
    raises, one in ``kills`` kills its own process the first time it is seen (marked by a file)."""

    def __init__(self, marks: str = "", raises=(), kills=()):
        global _BUILT
        _BUILT += 1
        self.built, self.marks, self.raises, self.kills = _BUILT, marks, set(raises), set(kills)

    def compute(self, task):
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

    from vsrbench.ray_executor import RayExecutor

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


def executor(**kw):
    from vsrbench.ray_executor import RayExecutor

    return RayExecutor(ToyFactory(**kw), say=lambda line: None)


# ---------------------------------------------------------------------- the executor on toy workers

def test_a_local_instance_is_started_with_the_cores_and_said_in_one_line(cluster):
    ex = cluster["executor"]
    assert ex.describe() == {"executor": "ray", "address": None, "nodes": 1, "cpus": 2, "gpus": 0, "actors": 2}
    assert ex.started_here and ex.capacity == 4
    assert cluster["lines"] == ["Ray: a local Ray instance: 1 node(s), 2 CPUs, 0 GPUs; 2 worker(s) with one CPU each"]


def test_tasks_run_on_actors_that_build_their_worker_once_and_an_error_is_that_tasks_outcome(cluster, tmp_path):
    with executor(raises=[3]) as ex:
        outcomes = list(ex.imap(range(8)))
    assert sorted(o.task for o in outcomes) == list(range(8))
    failed = [o for o in outcomes if not o.ok]
    assert [o.task for o in failed] == [3]
    assert isinstance(failed[0].error, ValueError) and str(failed[0].error) == "task 3 cannot be scored"
    done = {o.task: o.result for o in outcomes if o.ok}
    assert {t: r[0] for t, r in done.items()} == {t: t * t for t in range(8) if t != 3}
    assert all(o.warnings == [f"toy warning of task {o.task}"] for o in outcomes if o.ok)
    pids = {r[1] for r in done.values()}
    assert len(pids) == 2 and os.getpid() not in pids  # two actors, neither is the driver
    assert {r[2] for r in done.values()} == {1}  # each actor built its worker once for all its tasks


def test_a_worker_killed_mid_task_has_the_task_retried_and_each_task_comes_back_once(cluster, tmp_path):
    with executor(marks=str(tmp_path), kills=[2]) as ex:
        outcomes = list(ex.imap(range(6)))
    assert sorted(o.task for o in outcomes) == list(range(6))  # none lost, none twice
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    killed = int((tmp_path / "killed-2").read_text())
    again = next(o for o in outcomes if o.task == 2)
    assert again.result[0] == 4 and again.result[1] != killed  # computed again, by a restarted actor
    assert any("died and was restarted; the tasks it held were retried" in w for w in again.warnings)


def test_nothing_to_do_starts_no_actor(cluster):
    with executor() as ex:
        assert list(ex.imap([])) == []
        assert ex._actors == []


# ---------------------------------------------------------------------- bad input

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_address_is_one_line(tmp_path):
    pytest.importorskip("ray", reason=NO_RAY)
    address = f"127.0.0.1:{closed_port()}"
    code = ("from vsrbench.execution import make_executor\n"
            f"make_executor('ray', object, address={address!r})\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "RAY_ADDRESS": ""})
    assert p.returncode != 0
    last = p.stderr.strip().splitlines()[-1]
    assert last == (f"vsrbench.core.errors.InputError: --address {address}: cannot reach a Ray cluster there "
                    f"(no connection to {address}: Connection refused); start one with `ray start --head` "
                    "or drop --address to run Ray locally")


def test_an_address_that_is_not_host_port_is_one_line():
    pytest.importorskip("ray", reason=NO_RAY)
    from vsrbench.ray_executor import _host_port

    with pytest.raises(InputError, match=r"^--address 'head-node': expected HOST:PORT of a Ray cluster's head"):
        _host_port("head-node")
    assert _host_port("10.0.0.9:6379") == ("10.0.0.9", 6379)
    assert _host_port("[::1]:6379") == ("::1", 6379)
    assert _host_port("auto") == (None, 0)


def test_without_ray_the_executor_is_one_line_saying_how_to_install_it(monkeypatch):
    from vsrbench.execution import make_executor

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    monkeypatch.delitem(sys.modules, "vsrbench.ray_executor", raising=False)
    with pytest.raises(InputError) as e:
        make_executor("ray", ToyFactory())
    assert "--executor ray needs Ray, which is not installed" in str(e.value)
    assert "pip install 'vsrbench[ray]'" in str(e.value) and "\n" not in str(e.value)


JOIN = """
import json, sys
from vsrbench.execution import make_executor
from test_ray import ToyFactory
with make_executor("ray", ToyFactory(), address=sys.argv[1]) as ex:
    out = sorted(o.result[0] for o in ex.imap(range(4)))
    print(json.dumps({**ex.describe(), "out": out}))
"""


def join(address: str, **env) -> subprocess.CompletedProcess:
    """A driver in another process joining the cluster at ``address`` with ``--address``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(HERE), os.environ.get("PYTHONPATH")))), **env}
    return subprocess.run([sys.executable, "-c", JOIN, address], capture_output=True, text=True, timeout=180, env=env)


def test_a_driver_joins_a_running_cluster_with_its_address_and_leaves_it_running(cluster):
    import ray

    p = join(cluster["address"])
    assert p.returncode == 0, p.stderr
    import json

    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got == {"executor": "ray", "address": cluster["address"], "nodes": 1, "cpus": 2, "gpus": 0, "actors": 2,
                   "out": [0, 1, 4, 9]}
    assert p.stderr.strip().splitlines() == [
        f"Ray: the Ray cluster at {cluster['address']}: 1 node(s), 2 CPUs, 0 GPUs; 2 worker(s) with one CPU each"]
    assert ray.is_initialized() and ray.cluster_resources().get("CPU") == 2  # still up for the others


def test_a_cluster_that_wants_a_token_the_driver_lacks_is_one_line(cluster):
    if os.environ.get("RAY_AUTH_MODE") != "token":
        pytest.skip("this Ray started its local instance without token authentication")
    p = join(cluster["address"], RAY_AUTH_MODE="disabled")
    assert p.returncode != 0
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith(f"vsrbench.core.errors.InputError: --address {cluster['address']}: the Ray cluster "
                           "there wants its authentication token and this process has none (RAY_AUTH_MODE=disabled)")
    assert "gcs_client" not in p.stderr  # Ray's own retry lines are kept off the terminal
