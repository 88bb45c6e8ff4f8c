"""Where the scoring of sequences runs: in this process, in local worker processes, or on a Ray cluster.

The *driver* (the process running ``vsrbench run`` / ``vsrbench evaluate``) plans the tasks (one per
sequence, holding every method of it that still needs metrics), hands them to an :class:`Executor`
and stores each result as it arrives: it is the only writer of the results store, so resume, the
definition checks and the run record work the same for every executor.

A task is computed by a *worker*: an object that a picklable, argument-free ``factory`` builds once
per worker process (so models and LPIPS networks load once per worker, not once per task), whose
``compute(task)`` returns a picklable result. Tasks and results must pickle (they cross process and
machine boundaries); an exception raised by ``compute`` comes back in its :class:`Outcome` (never
raised in the driver), with the warnings the task raised as texts, so the driver reports one
sequence's failure and goes on with the others.

Executors: :class:`InProcess` (one worker, this process: exactly scoring without an executor),
:class:`LocalProcesses` (``N`` processes on this machine, forked by a fork server that imported
torch once; spawned where there is none) and ``vsrbench.ray_executor.RayExecutor`` (actors on a
Ray cluster, an optional extra); :func:`make_executor` picks one, :func:`default_workers` says how
many workers by default. A worker process runs torch and OpenCV single-threaded, ignores Ctrl-C
(the driver stops it, and it removes what :func:`on_terminate` names first), and one that dies
has its tasks computed again (:class:`LocalProcesses`).
"""
from __future__ import annotations

import os
import pickle
import warnings
from collections import deque
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol

from vsrbench.core.errors import InputError

EXECUTORS = ("local", "ray")


class Worker(Protocol):
    def compute(self, task: Any) -> Any: ...


@dataclass
class Outcome:
    """What came back for one task: its ``result``, or the ``error`` ``compute`` raised, and the
    texts of the warnings it raised (the driver re-issues them)."""

    task: Any
    result: Any = None
    error: BaseException | None = None
    warnings: list[str] = field(default_factory=list)
    #: the category of each warning, as ``module:qualname`` (re-issued with it when the driver has it)
    categories: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def run_task(worker: Worker, task: Any) -> Outcome:
    """``worker.compute(task)`` as an :class:`Outcome` whose error and result pickle (used by every executor)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = Outcome(task, result=worker.compute(task))
        except Exception as e:  # noqa: BLE001 - reported per task by the driver
            outcome = Outcome(task, error=picklable_error(e))
    for w in caught:
        text = str(w.message)
        if text not in outcome.warnings:
            outcome.warnings.append(text)
            outcome.categories.append(f"{w.category.__module__}:{w.category.__qualname__}")
    return outcome


def picklable_error(e: BaseException) -> BaseException:
    """``e`` itself when it survives pickling, else one with its text that does: a
    :class:`VsrbenchError` stays one (the driver stops the run with its one line), anything else
    becomes a RuntimeError naming its type."""
    from vsrbench.core.errors import VsrbenchError

    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:  # noqa: BLE001
        if isinstance(e, VsrbenchError):
            return VsrbenchError(str(e))
        return RuntimeError(f"{type(e).__name__}: {e}")


def reissue_warnings(outcome: Outcome, category: type[Warning] | None = None) -> None:
    """Issue the warnings a task raised in its worker, in the driver (once per distinct text),
    with their own category when the driver has imported it (else ``category``, by default
    :class:`~vsrbench.core.errors.VsrbenchWarning`)."""
    import sys

    from vsrbench.core.errors import VsrbenchWarning

    for i, text in enumerate(outcome.warnings):
        cat = category or VsrbenchWarning
        if i < len(outcome.categories):
            module, _, qualname = outcome.categories[i].partition(":")
            found: Any = sys.modules.get(module)
            for part in qualname.split("."):
                found = getattr(found, part, None)
            if isinstance(found, type) and issubclass(found, Warning):
                cat = found
        warnings.warn(text, cat, stacklevel=2)


class Executor:
    """Runs tasks on workers built by ``factory``; a context manager.

    :meth:`imap` takes tasks lazily (at most :attr:`capacity` in flight, so a driver may take a
    lock per task when it hands it out) and yields their :class:`Outcome` as they complete.
    """

    name = "executor"
    capacity = 1

    def __init__(self, factory: Callable[[], Worker]):
        self.factory = factory

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass

    def imap(self, tasks: Iterable[Any]) -> Iterator[Outcome]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What the run record says about where the tasks ran."""
        return {"executor": self.name}


class InProcess(Executor):
    """One worker in this process; tasks run one after the other, in order.

    Its warnings are issued as they happen (not collected), so one worker behaves exactly like
    scoring without an executor; an exception still comes back in the :class:`Outcome`.
    """

    name = "local"

    def __init__(self, factory: Callable[[], Worker]):
        super().__init__(factory)
        self._worker: Worker | None = None

    def imap(self, tasks: Iterable[Any]) -> Iterator[Outcome]:
        for task in tasks:
            if self._worker is None:
                self._worker = self.factory()
            try:
                outcome = Outcome(task, result=self._worker.compute(task))
            except Exception as e:  # noqa: BLE001 - reported per task by the driver
                outcome = Outcome(task, error=e)
            yield outcome

    def describe(self) -> dict[str, Any]:
        return {"executor": "local", "workers": 1}


_PROCESS_WORKER: Worker | None = None
_PROCESS_ERROR: BaseException | None = None  # why this worker process could not build its worker
_ON_TERMINATE: dict[int, Callable[[], Any]] = {}


@contextmanager
def on_terminate(cleanup: Callable[[], Any]) -> Iterator[None]:
    """Run ``cleanup`` if this worker process is stopped by the driver (Ctrl-C or an error that
    stops the run) while inside the block: remove a half-filled temporary folder, kill a command.
    (In the driver's own process the block's ``finally`` does it; this is a no-op there.)"""
    key = id(cleanup)
    _ON_TERMINATE[key] = cleanup
    try:
        yield
    finally:
        _ON_TERMINATE.pop(key, None)


def _terminated(signum, frame) -> None:  # pragma: no cover - runs in a worker process being stopped
    for cleanup in reversed(list(_ON_TERMINATE.values())):
        try:
            cleanup()
        except Exception:  # noqa: BLE001 - stopping anyway
            pass
    os._exit(128 + signum)


def _init_process(factory: Callable[[], Worker]) -> None:
    global _PROCESS_WORKER, _PROCESS_ERROR
    import signal

    import cv2
    import torch

    # Ctrl-C is the driver's: it stores what has come back and stops the workers itself (a
    # terminal sends SIGINT to the whole process group; the workers would print tracebacks)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)  # what the driver sends to stop it: clean up, then exit
    # tqdm's default lock is a multiprocessing semaphore; a worker draws no bars, and a stopped
    # worker would leave it registered (Python warns of "leaked semaphore objects" at exit)
    import threading

    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    # each worker process scores one sequence at a time with its own threads (flows, decoding);
    # torch's and OpenCV's pools on top of N processes would oversubscribe the cores
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        _PROCESS_WORKER = factory()
    except Exception as e:  # noqa: BLE001 - every task of this process reports it (the pool stays whole)
        _PROCESS_ERROR = picklable_error(e)


def _process_task(task: Any) -> Outcome:
    if _PROCESS_WORKER is None:
        return Outcome(task, error=_PROCESS_ERROR or RuntimeError("the worker process has no worker"))
    return run_task(_PROCESS_WORKER, task)


#: what a worker process needs before its first task, imported once by the fork server (not once
#: per worker: importing torch takes seconds, and N processes importing it at once compete for the cores)
PRELOAD = ["torch", "cv2", "vsrbench.execution", "vsrbench.evaluate"]


def _process_context():
    """Where available (Linux, macOS) a fork server that has imported :data:`PRELOAD` forks the
    workers (a fresh process, single-threaded: safe to fork, unlike this one); elsewhere spawn."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


class LocalProcesses(Executor):
    """``workers`` processes on this machine, each with one worker (built once).

    A worker process that dies (killed, out of memory) breaks the whole pool, and every task in
    flight comes back failed: the pool is started again and each of those tasks is computed
    again alone, one after the other, so a task that kills its process is told apart from the
    others and comes back as an error (the rest are not retried with it).
    """

    name = "local"

    def __init__(self, factory: Callable[[], Worker], workers: int):
        super().__init__(factory)
        self.workers = workers
        self.capacity = 2 * workers  # one running and one queued per process
        self.restarts = 0  # pools started again after a worker process died
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=_process_context(),
                                   initializer=_init_process, initargs=(self.factory,))

    def imap(self, tasks: Iterable[Any]) -> Iterator[Outcome]:
        it = iter(tasks)
        running: dict[Future, Any] = {}
        order: deque = deque()
        suspects: deque = deque()  # in flight when a worker process died: each is computed again, alone
        alone: set[Future] = set()

        def submit(task: Any) -> Future:
            try:
                fut = self._pool.submit(_process_task, task)
            except BrokenProcessPool:  # a worker process died: start the pool again
                old, self._pool = self._pool, self._new_pool()
                old.shutdown(wait=False, cancel_futures=True)
                self.restarts += 1
                fut = self._pool.submit(_process_task, task)
            running[fut] = task
            order.append(fut)
            return fut

        def fill() -> None:
            if suspects:
                if not running:  # what the broken pool held has all come back
                    alone.add(submit(suspects.popleft()))
                return
            while len(running) < self.capacity:
                try:
                    task = next(it)
                except StopIteration:
                    return
                submit(task)

        fill()
        while running:
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in [f for f in order if f in done]:  # in submission order among the finished ones
                order.remove(fut)
                task = running.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenProcessPool as e:
                    if fut not in alone:
                        suspects.append(task)
                        continue
                    outcome = Outcome(task, error=RuntimeError(
                        f"the worker process computing it died, twice (killed, or out of memory?): {e}"))
                except Exception as e:  # noqa: BLE001 - e.g. the task or its result does not pickle
                    outcome = Outcome(task, error=picklable_error(e))
                alone.discard(fut)
                yield outcome
            fill()

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:  # Ctrl-C or an error that stops the run: the tasks in flight are not waited for
            self.terminate()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Stop the worker processes now (what they were computing is lost; nothing was stored;
        each removes its temporary folders first, see :func:`on_terminate`)."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()
        self._pool.shutdown(wait=True, cancel_futures=True)  # the pool sees its workers gone and closes its queues

    def describe(self) -> dict[str, Any]:
        return {"executor": "local", "workers": self.workers}


def default_workers(device: str = "cpu") -> int:
    """Worker processes when ``--workers`` is not given: half the cores on CPU, since one
    sequence's pipeline keeps about two busy with its threads (flows, decoding, LPIPS), so that a
    2-core machine scores in this process, without the workers' start-up (measured: two workers
    were slower there); one on a GPU (it batches a sequence's frames itself). ``VSRBENCH_WORKERS``
    overrides both."""
    env = os.environ.get("VSRBENCH_WORKERS")
    if env:
        return parse_workers(env, "VSRBENCH_WORKERS")
    if str(device).startswith("cuda"):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // 2)


def parse_workers(value: "str | int", what: str = "--workers") -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if n < 1:
        raise InputError(f"{what}: expected a whole number of worker processes >= 1, got {value!r}")
    return n


def check_executor(kind: str, *, workers: "int | str | None" = None, address: str | None = None) -> None:
    """The one-line errors of :func:`make_executor`, before anything is written: an unknown
    executor, ``--address`` without ``--executor ray``, a bad ``--workers``, Ray not installed."""
    if kind not in EXECUTORS:
        from vsrbench.core.errors import UnknownNameError

        raise UnknownNameError("executor", kind, EXECUTORS)
    if workers is not None:
        parse_workers(workers)
    elif kind == "local":
        default_workers()  # a bad VSRBENCH_WORKERS is the same one line
    if address is not None and kind != "ray":
        raise InputError(f"--address {address!r} names a Ray cluster; it needs --executor ray "
                         "(or leave --address out to score on this machine)")
    if kind == "ray":
        _ray_executor_class()
        if address is not None:  # an unreachable cluster is refused before the results folder is touched
            from vsrbench.ray_executor import probe

            probe(address)


def _ray_executor_class():
    try:
        from vsrbench.ray_executor import RayExecutor  # its own one line when Ray is missing
    except ModuleNotFoundError as e:
        if e.name not in ("vsrbench.ray_executor", "ray") and not (e.name or "").startswith("ray."):
            raise
        raise InputError(f"--executor ray needs Ray, which is not installed ({e.name!r} not found): "
                         "pip install 'vsrbench[ray]', or leave --executor out to run locally") from None
    return RayExecutor


def make_executor(kind: str, factory: Callable[[], Worker], *, workers: int | None = None,
                  address: str | None = None, device: str = "cpu", tasks: int | None = None) -> Executor:
    """The executor ``kind`` (``local`` or ``ray``). Locally, ``workers`` processes (default
    :func:`default_workers`, and never more than ``tasks``); one worker runs in this process."""
    # for Ray, RayExecutor joins the address itself (and says in one line when it cannot)
    check_executor(kind, workers=workers, address=None if kind == "ray" else address)
    if kind == "ray":
        return _ray_executor_class()(factory, address=address, device=device, workers=workers, tasks=tasks)
    n = workers if workers is not None else default_workers(device)
    if tasks is not None:
        n = max(1, min(n, tasks))
    return InProcess(factory) if n == 1 else LocalProcesses(factory, n)
