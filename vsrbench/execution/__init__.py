"""Where the scoring of sequences runs: in this process, in local worker processes, or on a Ray cluster.

:mod:`~vsrbench.execution.base` holds the contract (the *driver* plans one task per sequence and is the
only writer of the results store; a *worker*, built once per process, computes the tasks) and the
in-process executor; :mod:`~vsrbench.execution.local` the worker processes of ``--workers N`` on this
machine; :mod:`~vsrbench.execution.ray_executor` the actors of ``--executor ray`` (Ray is an optional
extra).

This package is the registry: :data:`EXECUTORS` maps each executor's name to the ``"module:object"``
of its class, imported on first use (:func:`executor_class`), so importing it never imports Ray unless
``ray`` is asked for, and a missing Ray is one line saying how to install it. :func:`check_executor`
gives the one-line errors of a request before anything is written; :func:`make_executor` builds the
executor (:class:`~vsrbench.execution.base.InProcess` when one worker is enough).

Workers end with their driver. A driver that stops (Ctrl-C, SIGTERM, an error) stops them; one that
dies at once (``kill -9``, out of memory) takes them with it within seconds: each worker process and
each Ray actor watches the driver's process and ends, running its clean-ups first, and a local Ray
instance started for the run is ended by a small reaper process. What they were computing was never
stored, so a resumed run computes it again.
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
