"""Local worker processes: a pool of ``--workers`` processes on this machine, each building its
worker once; the driver alone writes the store.
"""
from __future__ import annotations

import os
from collections import deque
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

from vsrbench.execution.base import (
    Executor, Outcome, Worker, parent_death_signal, picklable_error, run_task, watch_driver,
)

__all__ = ["on_terminate", "PRELOAD", "LocalProcesses", "DRIVER_GONE_GRACE_S"]


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


#: Seconds a worker process whose driver died gives its main thread to clean up (see
#: :func:`_driver_died`) before it exits anyway
DRIVER_GONE_GRACE_S = 5.0


def _terminated(signum, frame) -> None:  # pragma: no cover - runs in a worker process being stopped
    for cleanup in reversed(list(_ON_TERMINATE.values())):
        try:
            cleanup()
        except Exception:  # noqa: BLE001 - stopping anyway
            pass
    os._exit(128 + signum)


def _driver_died() -> None:  # pragma: no cover - runs in a worker process whose driver is gone
    """The driver of this worker process ended without stopping it (``kill -9``, a crash): stop
    as the driver would have stopped it, by SIGTERM (:func:`_terminated` runs the cleanups in the
    main thread, between two Python instructions); a main thread stuck longer in native code is
    not waited for past :data:`DRIVER_GONE_GRACE_S`."""
    import signal
    import time

    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(DRIVER_GONE_GRACE_S)
    os._exit(128 + signal.SIGTERM)


def _init_process(factory: Callable[[], Worker], driver: int | None = None) -> None:
    global _PROCESS_WORKER, _PROCESS_ERROR
    import signal

    import cv2
    import torch

    # Ctrl-C is the driver's: it stores what has come back and stops the workers itself (a
    # terminal sends SIGINT to the whole process group; the workers would print tracebacks)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)  # what the driver sends to stop it: clean up, then exit
    if driver is not None:
        # A driver killed at once (kill -9, out of memory) cannot stop its workers, and nothing
        # else would: each holds the pipes the pool's queues and the fork server wait on, so the
        # workers, the fork server and the resource tracker all waited for each other, for ever.
        # A worker ends when the driver does (the fork server and the resource tracker follow:
        # the last holder of their pipes is gone), and with the fork server (its parent, which
        # is single-threaded) should that be killed alone.
        if os.getppid() != driver:
            parent_death_signal(signal.SIGTERM)
        watch_driver(driver, _driver_died)
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
PRELOAD = ["torch", "cv2", "vsrbench.execution.local", "vsrbench.evaluate"]


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
                                   initializer=_init_process, initargs=(self.factory, os.getpid()))

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
