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
torch once; spawned where there is none) and ``vsrbench.execution.ray_executor.RayExecutor`` (actors on a
Ray cluster, an optional extra); :func:`make_executor` picks one, :func:`default_workers` says how
many workers by default. Executors are found through :data:`EXECUTORS`, a registry of
``"module:object"`` names imported on first use, so this package never imports the Ray plug-in
unless ``ray`` is asked for. A worker process runs torch and OpenCV single-threaded, ignores Ctrl-C
(the driver stops it, and it removes what :func:`on_terminate` names first), and one that dies
has its tasks computed again (:class:`LocalProcesses`).
"""
from __future__ import annotations

import importlib
from typing import Callable

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.execution.base import (
    Executor, InProcess, Outcome, Worker, default_workers, parse_workers, picklable_error, reissue_warnings, run_task,
)

#: executor name -> ``"module:object"`` of its class, imported when it is asked for
EXECUTORS: dict[str, str] = {
    "local": "vsrbench.execution.local:LocalProcesses",
    "ray": "vsrbench.execution.ray_executor:RayExecutor",
}
#: the Python package an executor needs beyond the core install, and the extra that brings it
_EXTRAS = {"ray": ("ray", "pip install 'vsrbench[ray]'")}


def executor_class(kind: str) -> type[Executor]:
    """The class registered as ``kind`` in :data:`EXECUTORS`, imported now.

    Raises :class:`~vsrbench.core.errors.UnknownNameError` for an unknown name and a one-line
    :class:`~vsrbench.core.errors.InputError` when the executor's optional package is missing.
    """
    if kind not in EXECUTORS:
        raise UnknownNameError("executor", kind, tuple(EXECUTORS))
    module, _, name = EXECUTORS[kind].partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as e:
        package, install = _EXTRAS.get(kind, (None, None))
        if package is None or e.name not in (module, package) and not (e.name or "").startswith(package + "."):
            raise
        raise InputError(f"--executor {kind} needs {package.capitalize()}, which is not installed "
                         f"({e.name!r} not found): {install}, or leave --executor out to run locally") from None


def check_executor(kind: str, *, workers: "int | str | None" = None, address: str | None = None) -> None:
    """The one-line errors of :func:`make_executor`, before anything is written: an unknown
    executor, ``--address`` without ``--executor ray``, a bad ``--workers``, Ray not installed."""
    if kind not in EXECUTORS:
        raise UnknownNameError("executor", kind, tuple(EXECUTORS))
    if workers is not None:
        parse_workers(workers)
    elif kind == "local":
        default_workers()  # a bad VSRBENCH_WORKERS is the same one line
    if address is not None and kind != "ray":
        raise InputError(f"--address {address!r} names a Ray cluster; it needs --executor ray "
                         "(or leave --address out to score on this machine)")
    if kind != "local":
        cls = executor_class(kind)
        if address is not None:  # an unreachable cluster is refused before the results folder is touched
            cls.check_address(address)


def make_executor(kind: str, factory: Callable[[], Worker], *, workers: int | None = None,
                  address: str | None = None, device: str = "cpu", tasks: int | None = None) -> Executor:
    """The executor ``kind`` (``local`` or ``ray``). Locally, ``workers`` processes (default
    :func:`default_workers`, and never more than ``tasks``); one worker runs in this process."""
    # for Ray, RayExecutor joins the address itself (and says in one line when it cannot)
    check_executor(kind, workers=workers, address=None if kind == "ray" else address)
    if kind == "ray":
        return executor_class(kind)(factory, address=address, device=device, workers=workers, tasks=tasks)
    n = workers if workers is not None else default_workers(device)
    if tasks is not None:
        n = max(1, min(n, tasks))
    return InProcess(factory) if n == 1 else executor_class("local")(factory, n)


__all__ = [
    "EXECUTORS", "Executor", "InProcess", "Outcome", "Worker", "check_executor", "default_workers", "executor_class",
    "make_executor", "parse_workers", "picklable_error", "reissue_warnings", "run_task",
]
