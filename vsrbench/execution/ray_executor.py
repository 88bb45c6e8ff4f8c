"""Scoring sequences on a Ray cluster: ``vsrbench run/evaluate --executor ray [--address ADDR]``.

Ray is an optional extra (``pip install 'vsrbench[ray]'``); this module imports it at the top, so
:func:`vsrbench.execution.make_executor` turns a missing Ray into one line saying how to install it.

Each worker slot is a Ray *actor* (one CPU each; one GPU each with ``--device cuda``) that builds
its worker once with the run's factory, so models and LPIPS networks load once per actor, not once
per task. Each actor holds one task at a time (:data:`PER_ACTOR`): the next goes to an actor
when it is free. An actor whose process dies (killed, out of memory, a lost node) is restarted by
Ray (:data:`ACTOR_RESTARTS`) and its task retried on it (:data:`TASK_RETRIES`); each task still
comes back exactly once, and the driver stores only what comes back, so the store has neither
duplicates nor holes. A task that kills its worker every time is reported as that sequence's error
after its retries, and only that one (no other task was waiting on its actor); an exception the
worker raises comes back in its :class:`~vsrbench.execution.base.Outcome` like in a local run.

Without an address a local Ray instance is started for the run (and stopped after it) with this
machine's cores; with one, the driver joins that cluster. A Ray that this process had already
started or joined (``ray.init`` in a notebook or a test) is used as it is and left running.

A driver that dies at once (``kill -9``, out of memory) takes its local Ray instance with it: Ray
starts the instance's GCS and raylet so that the kernel kills them when the driver ends (Linux);
its node agents, which would wait a minute for the dead GCS, and anything else of the instance
still there are ended by a small process the executor starts with it (:func:`_reaper`), and each
actor watches the driver's process itself (:func:`~vsrbench.execution.base.watch_driver`),
running its task's clean-ups before it exits. All are gone within seconds. On a cluster
joined by its address the actors belong to the driver's Ray job: when the driver's connection is
lost, Ray ends the job and kills its actors (the cluster itself keeps running); what they were
computing was never stored, so a resumed run computes it again. SIGTERM, which ``ray.init``
would turn into an exit that skips the run's clean-up, keeps the handler it had before (the
command line's: an interrupt, as Ctrl-C).
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from typing import Any, Callable, Iterable, Iterator, Mapping

import ray  # noqa: I001 - a ModuleNotFoundError here is make_executor's "install Ray" line
from ray import exceptions as ray_errors

from vsrbench.core.errors import InputError
from vsrbench.execution.base import Executor, Outcome, Worker, run_task

__all__ = [
    "TASK_RETRIES", "ACTOR_RESTARTS", "CONNECT_TIMEOUT_S", "PER_ACTOR", "ACTOR_ENV", "FORWARDED_ENV",
    "RayExecutor", "probe", "LOCAL_GCS_GONE_S", "GCS_GONE_ENV", "INSTANCE_ENV",
]

#: Retries of a task whose actor process died while holding it (the actor is restarted first).
TASK_RETRIES = 2
#: Restarts of one actor after its process died; past them its remaining tasks come back as errors.
ACTOR_RESTARTS = 10
#: Seconds to wait for a TCP connection to ``--address`` (and to Ray's handshake after it).
CONNECT_TIMEOUT_S = 5
#: Tasks handed to one actor at a time. One: a task queued behind another on the same actor would
#: use up its retries each time the task ahead of it kills the actor, and be reported as failed too.
PER_ACTOR = 1
#: What every actor process runs with: no progress bars or lines (the driver draws progress).
ACTOR_ENV = {"VSRBENCH_PROGRESS": "0"}
#: Seconds the processes of a local instance wait for its GCS to answer again before they exit
#: (Ray's default: 60). The GCS of a local instance never comes back: it dies with the driver, and
#: Ray's node agents, which outlive the driver's ``kill -9`` (unlike its other processes), would
#: otherwise wait a minute for it.
LOCAL_GCS_GONE_S = 5
GCS_GONE_ENV = "RAY_gcs_rpc_server_reconnect_timeout_s"
#: Set (to a new id) in the environment of every process of a local instance started by a run
INSTANCE_ENV = "VSRBENCH_RAY_INSTANCE"
#: The driver's variables that actors get too, as local worker processes inherit them (weights folders, ...).
FORWARDED_ENV = ("TORCH_HOME", "XDG_CACHE_HOME")


def _actor_env() -> dict[str, str]:
    """The environment variables of an actor: the driver's ``VSRBENCH_*`` and :data:`FORWARDED_ENV`, then :data:`ACTOR_ENV`."""
    env = {k: v for k, v in os.environ.items() if k.startswith("VSRBENCH_") or k in FORWARDED_ENV}
    return {**env, **ACTOR_ENV}


class _Slot:
    """One worker slot: builds its worker once (again after a restart) and computes tasks."""

    def __init__(self, factory: Callable[[], Worker], device: str, cwd: str, driver: int | None = None):
        self.restarted = ray.get_runtime_context().was_current_actor_reconstructed
        if driver is not None:  # a local instance: end with the driver, however it ends
            from vsrbench.execution.base import watch_driver

            watch_driver(driver, _driver_gone)
        if os.path.isdir(cwd):  # relative paths (--out results) mean what they mean to the driver
            os.chdir(cwd)
        self.worker: Worker | None = None
        self.error: BaseException | None = None
        if not str(device).startswith("cuda"):
            # one CPU per actor, as a local worker process: no intra-op pools on top of the actors
            import cv2
            import torch

            torch.set_num_threads(1)
            cv2.setNumThreads(1)
        try:
            self.worker = factory()
        except Exception as e:  # noqa: BLE001 - every task of this actor reports it
            from vsrbench.execution.base import picklable_error

            self.error = picklable_error(e)

    def compute(self, task: Any) -> Outcome:
        if self.worker is None:
            return Outcome(task, error=self.error)
        outcome = run_task(self.worker, task)
        if self.restarted:  # the task retried after a restart says so (the driver shows it as a warning)
            self.restarted = False
            node = ray.get_runtime_context().get_node_id()[:8]
            outcome.warnings.append(f"a Ray worker process on node {node} died and was restarted; "
                                    "its task was retried")
            outcome.categories.append("vsrbench.core.errors:VsrbenchWarning")
        return outcome

    def pid(self) -> int:
        return os.getpid()


def _driver_gone() -> None:  # pragma: no cover - runs in an actor whose driver was killed
    """The driver that started this actor's local Ray instance has ended without stopping it
    (``kill -9``): run the clean-ups its task registered
    (:func:`~vsrbench.execution.local.on_terminate`) and exit."""
    from vsrbench.execution.local import _terminated

    _terminated(signal.SIGTERM, None)


class RayExecutor(Executor):
    """Actors on a Ray cluster (a local instance without ``address``), one per worker slot.

    ``workers``: the actors (default: the cluster's CPUs, or its GPUs with a ``cuda`` device;
    never more than those, nor than ``tasks`` when that is given). ``say`` prints the one line saying where the
    run goes (stderr by default).
    """

    name = "ray"

    @classmethod
    def check_address(cls, address: str) -> None:
        probe(address)

    def __init__(self, factory: Callable[[], Worker], address: str | None = None, device: str = "cpu",
                 workers: int | None = None, tasks: int | None = None,
                 say: Callable[[str], None] | None = None):
        super().__init__(factory)
        self.device = str(device)
        self.gpu = self.device.startswith("cuda")
        if self.gpu and self.device != "cuda":  # Ray shows each GPU actor its own GPU only, as cuda:0
            raise InputError(f"--device {self.device}: with --executor ray each worker gets a GPU of its own; "
                             "use --device cuda (Ray picks the GPUs)")
        self._say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.started_here = False
        self._reaper: subprocess.Popen | None = None
        self._environ: dict[str, str] | None = None
        self._actors: list[Any] = []
        if not address and os.environ.get("RAY_ADDRESS"):  # a driver that `ray job submit` started
            address, flag = os.environ["RAY_ADDRESS"], "RAY_ADDRESS"
        else:
            flag = "--address"
        self.address = address or None
        if ray.is_initialized():
            joined = ray.get_runtime_context().gcs_address
            if address and address not in ("auto", joined):
                raise InputError(f"{flag} {address}: this process is already connected to the Ray at {joined} "
                                 "(ray.init before this run); call ray.shutdown() first or drop the address")
            where = "the Ray this process had already started"
        else:
            with _sigterm_kept():
                if address:
                    _join(address, flag)
                    where = f"the Ray cluster at {address}"
                else:
                    self._environ = dict(os.environ)  # put back by close(): ray.init leaves RAY_* variables set
                    self._reaper = _start_local()
                    self.started_here = True
                    where = "a local Ray instance"
        _ray_messages_to_stderr()
        resources = ray.cluster_resources()
        self.cpus = int(resources.get("CPU", 0))
        self.gpus = int(resources.get("GPU", 0))
        self.nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        slots = self.gpus if self.gpu else self.cpus  # an actor more than these would never start
        if slots == 0:
            self.close()
            if self.gpu:
                raise InputError(f"--device {self.device}: {where} has no GPUs ({self.nodes} node(s), {self.cpus} CPUs); "
                                 "start its nodes where GPUs are, or drop --device cuda")
            raise InputError(f"{where} has no CPUs for workers ({self.nodes} node(s)); "
                             "add a node with `ray start --address HEAD:PORT` (not --num-cpus 0)")
        n = slots if workers is None else min(workers, slots)
        if tasks is not None:
            n = min(n, tasks)
        self.workers = max(1, n)
        self.capacity = PER_ACTOR * self.workers
        self._say(f"Ray: {where}: {self.nodes} node(s), {self.cpus} CPUs, {self.gpus} GPUs; "
                  f"{self.workers} worker(s) with one {'GPU' if self.gpu else 'CPU'} each")

    # ------------------------------------------------------------------ tasks
    def _start_actors(self) -> None:
        slot = ray.remote(_Slot).options(
            num_cpus=1, num_gpus=1 if self.gpu else 0,
            max_restarts=ACTOR_RESTARTS, max_task_retries=TASK_RETRIES,
            runtime_env={"env_vars": _actor_env()})
        driver = os.getpid() if self.started_here else None  # on a cluster the driver may be on another machine
        self._actors = [slot.remote(self.factory, self.device, os.getcwd(), driver) for _ in range(self.workers)]

    def imap(self, tasks: Iterable[Any]) -> Iterator[Outcome]:
        it = iter(tasks)
        inflight: dict[Any, tuple[Any, int]] = {}  # object ref -> (task, actor index)

        def fill() -> None:
            while len(inflight) < self.capacity:
                try:
                    task = next(it)
                except StopIteration:
                    return
                if not self._actors:  # only once there is something to do: a finished run starts none
                    self._start_actors()
                load = [0] * len(self._actors)
                for _, i in inflight.values():
                    load[i] += 1
                i = min(range(len(load)), key=load.__getitem__)
                inflight[self._actors[i].compute.remote(task)] = (task, i)

        fill()
        while inflight:
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                task, _ = inflight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray_errors.RayError as e:  # the actor died past its retries or restarts
                    outcome = Outcome(task, error=RuntimeError(_ray_error_line(e)))
                yield outcome
            fill()

    # ------------------------------------------------------------------ the end
    def close(self) -> None:
        """Stop the actors (on Ctrl-C too: their tasks in flight are dropped; nothing of them was stored),
        and the local Ray instance if this executor started it."""
        for actor in self._actors:
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)
        self._actors = []
        if self.started_here and ray.is_initialized():
            ray.shutdown()
        if self.started_here and self._environ is not None:
            _restore_environ(self._environ)
            self._environ = None
        self.started_here = False
        if self._reaper is not None:  # the instance ended cleanly: nothing is left to end
            self._reaper.kill()
            self._reaper.wait()
            self._reaper = None

    def describe(self) -> dict[str, Any]:
        return {"executor": "ray", "address": self.address, "nodes": self.nodes, "cpus": self.cpus,
                "gpus": self.gpus, "actors": self.workers}


# ---------------------------------------------------------------------- connecting

def _start_local() -> subprocess.Popen | None:
    """A local Ray instance with this machine's cores, started quietly (no dashboard, no usage
    report), whose processes give up on its GCS after :data:`LOCAL_GCS_GONE_S` seconds; returns
    the process that ends them if this one is killed (see :func:`_reaper`)."""
    import uuid

    from vsrbench.execution.base import default_workers

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # the instance's processes read these when they start (they are not left set for a later ray.init)
    marker = f"{INSTANCE_ENV}={uuid.uuid4().hex}"
    added = {GCS_GONE_ENV: str(LOCAL_GCS_GONE_S), INSTANCE_ENV: marker.partition("=")[2]}
    saved = {k: os.environ.get(k) for k in added}
    os.environ.update({k: v for k, v in added.items() if k == INSTANCE_ENV or saved[k] is None})
    try:
        ray.init(address="local", num_cpus=default_workers("cpu"), include_dashboard=False,
                 logging_level=logging.ERROR, log_to_driver=False)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return _reaper(marker)


def _restore_environ(before: Mapping[str, str]) -> None:
    """Put Ray's variables of this process's environment (``RAY_*`` and ``PYTHONBREAKPOINT``) back as
    they were before a local instance was started: ``ray.init`` leaves some set (``RAY_AUTH_MODE``,
    ``RAY_CLIENT_MODE``, ...), which processes started from here later inherit, and a local instance
    that one of them starts then behaves otherwise. Other variables are left as they are."""
    def rays(key: str) -> bool:
        return key.startswith("RAY_") or key == "PYTHONBREAKPOINT"

    for key in [k for k in os.environ if rays(k) and k not in before]:
        del os.environ[key]
    for key, value in before.items():
        if rays(key) and os.environ.get(key) != value:
            os.environ[key] = value


def _reaper(marker: str) -> subprocess.Popen | None:
    """A small process that waits for this one to end and then ends the processes of the local
    instance (those with ``marker`` in their environment) still there: Ray kills its GCS and
    raylet with the driver, but its node agents wait a while for the dead GCS, and an actor may
    be busy in native code. Stopped by :meth:`RayExecutor.close` after a clean end; None where
    processes cannot be found by their environment (no ``/proc``)."""
    if not os.path.isdir("/proc"):
        return None
    code = ("import sys; from vsrbench.execution.base import end_marked_after; "
            "end_marked_after(int(sys.argv[1]), sys.argv[2])")
    # a session of its own: the terminal's Ctrl-C is for the driver, not for it
    return subprocess.Popen([sys.executable, "-c", code, str(os.getpid()), marker], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


@contextlib.contextmanager
def _sigterm_kept():
    """Keep this process's SIGTERM handler through ``ray.init``, which replaces it with an exit
    (skipping the run's clean-up: rows in flight, the run record); restored even when it fails."""
    import threading

    if threading.current_thread() is not threading.main_thread():  # only the main thread sets handlers
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        if previous is not None:  # None: set outside Python, cannot be put back
            signal.signal(signal.SIGTERM, previous)


def _hint(flag: str) -> str:
    return ("start one with `ray start --head` or "
            f"{'drop --address' if flag == '--address' else 'unset ' + flag} to run Ray locally")


def probe(address: str, flag: str = "--address") -> None:
    """One line unless ``address`` is ``HOST:PORT`` where something accepts a connection (within
    seconds): checked before a run writes anything into its results folder."""
    host, port = _host_port(address, flag)
    if host is not None:
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as e:
            why = "timed out" if isinstance(e, TimeoutError) else (e.strerror or str(e) or type(e).__name__)
            raise InputError(f"{flag} {address}: cannot reach a Ray cluster there "
                             f"(no connection to {host}:{port}: {why}); {_hint(flag)}") from None


def _join(address: str, flag: str = "--address") -> None:
    """Join the cluster at ``address`` or raise one InputError line (within seconds, not minutes)."""
    hint = _hint(flag)
    probe(address, flag)
    # something listens there: Ray's own handshake, with its retries cut to CONNECT_TIMEOUT_S and its
    # C++ log lines (one per retry) kept off the terminal
    saved = os.environ.get("RAY_gcs_server_port_wait_time_s")
    os.environ.setdefault("RAY_gcs_server_port_wait_time_s", str(CONNECT_TIMEOUT_S))
    try:
        with _stderr_captured() as captured:
            try:
                ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            except Exception as e:  # noqa: BLE001 - ConnectionError, AuthenticationError, ValueError, ...
                log = captured()
                if "InvalidAuthToken" in log or _caused_by(e, "AuthenticationError"):
                    raise InputError(
                        f"{flag} {address}: the Ray cluster there wants its authentication token and this "
                        f"process has none (RAY_AUTH_MODE={os.environ.get('RAY_AUTH_MODE', 'unset')}); "
                        "set RAY_AUTH_MODE=token and put the cluster's token in ~/.ray/auth_token "
                        "(`ray get-auth-token` on the head node prints it) or in RAY_AUTH_TOKEN") from None
                last = _last_log_line(log)
                detail = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".rstrip(": ")
                if last:
                    detail += f"; {last}"
                raise InputError(f"{flag} {address}: cannot reach a Ray cluster there ({detail}); {hint}") from None
    finally:
        if saved is None:
            os.environ.pop("RAY_gcs_server_port_wait_time_s", None)


def _ray_messages_to_stderr() -> None:
    """Ray prints the messages of its raylets (a worker died, a task is retried) on stdout; stdout
    carries only results here, so they go to stderr (a no-op where Ray's internals differ)."""
    try:
        from ray._private import worker as ray_worker
    except ImportError:
        return
    original = getattr(ray_worker, "print_to_stdstream", None)
    if not callable(original) or getattr(original, "vsrbench_stderr", False):
        return

    def to_stderr(data, *args, **kwargs):
        if isinstance(data, dict) and data.get("pid") == "raylet":
            data = {**data, "is_err": True}
        return original(data, *args, **kwargs)

    to_stderr.vsrbench_stderr = True  # type: ignore[attr-defined]
    ray_worker.print_to_stdstream = to_stderr


def _host_port(address: str, flag: str = "--address") -> tuple[str | None, int]:
    """``host, port`` of ``HOST:PORT`` (``None`` for what Ray resolves itself: ``auto``, ``ray://``)."""
    if address in ("auto", "local") or "://" in address:
        return None, 0
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise InputError(f"{flag} {address!r}: expected HOST:PORT of a Ray cluster's head "
                         "(as `ray start --head` prints it, e.g. 10.0.0.9:6379)")
    return host.strip("[]") or "127.0.0.1", int(port)


@contextlib.contextmanager
def _stderr_captured():
    """Send file descriptor 2 (where Ray's C++ code logs) to a temporary file; yields a reader."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)

        def read() -> str:
            tmp.flush()
            tmp.seek(0)
            return tmp.read().decode(errors="replace")

        try:
            yield read
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _caused_by(e: BaseException | None, name: str) -> bool:
    """True when ``e`` or an exception it came from is of a class called ``name``."""
    seen = 0
    while e is not None and seen < 10:
        if type(e).__name__ == name:
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


_GLOG = re.compile(r"^\[[^\]]*\]\s+\S+:\d+:\s*")  # "[2026-.. W 123 123] gcs_client.cc:210: "


def _last_log_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _GLOG.sub("", lines[-1])[:200] if lines else ""


def _ray_error_line(e: BaseException) -> str:
    first = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
    return (f"the Ray worker computing this sequence died (tried {TASK_RETRIES + 1} times): "
            f"{type(e).__name__}: {first[:300]}")
