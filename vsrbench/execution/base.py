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
many workers by default. A worker process runs torch and OpenCV single-threaded, ignores Ctrl-C
(the driver stops it, and it removes what :func:`on_terminate` names first), ends when the
driver ends, however it ends (:func:`watch_driver`), and one that dies has its tasks computed
again (:class:`LocalProcesses`).
"""
from __future__ import annotations

import os
import pickle
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol

from vsrbench.core.errors import InputError
from vsrbench.core.processes import process_alive, process_start_marker

__all__ = [
    "Worker", "Outcome", "run_task", "picklable_error", "reissue_warnings", "Executor", "InProcess",
    "default_workers", "parse_workers", "DRIVER_POLL_S", "watch_driver", "marked_processes",
    "end_marked_after", "parent_death_signal",
]


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

    @classmethod
    def check_address(cls, address: str) -> None:
        """Refuse, in one line, a cluster address this executor cannot reach, before anything is
        written (executors that take no address accept none: :func:`check_executor` says so)."""

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


#: Seconds between two looks at whether the driver is alive, where the kernel cannot wake a
#: thread when it ends (no ``pidfd_open``: macOS, Linux before 5.3)
DRIVER_POLL_S = 0.5


def watch_driver(pid: int, on_death: Callable[[], Any], poll_s: float = DRIVER_POLL_S) -> threading.Thread:
    """Call ``on_death()`` in a daemon thread as soon as process ``pid`` (the driver) has ended,
    however it ended (``kill -9`` included); returns the thread.

    On Linux the thread sleeps on a ``pidfd`` of the driver, which the kernel makes readable when
    it exits; elsewhere it looks every ``poll_s`` seconds. Used by the workers of
    :class:`~vsrbench.execution.local.LocalProcesses` and the actors of a local Ray instance, which
    would otherwise wait for tasks from a driver that is gone, holding their memory.
    """

    def wait() -> None:
        fd = None
        try:
            fd = os.pidfd_open(pid)  # type: ignore[attr-defined]  # Linux >= 5.3, Python >= 3.9
        except ProcessLookupError:  # already gone
            on_death()
            return
        except (AttributeError, OSError):  # no pidfd here: look now and then
            fd = None
        if fd is not None:
            import select

            poller = select.poll()
            poller.register(fd, select.POLLIN)
            while not poller.poll():  # readable once the driver has exited (a zombie counts)
                pass
            os.close(fd)
        else:
            while process_alive(pid):
                time.sleep(poll_s)
        on_death()

    thread = threading.Thread(target=wait, name=f"vsrbench-watch-driver-{pid}", daemon=True)
    thread.start()
    return thread


def marked_processes(marker: str) -> list[int]:
    """The processes whose environment holds the line ``marker`` (``NAME=VALUE``), this one
    excepted; empty where there is no ``/proc`` to read it from."""
    found = []
    needle = marker.encode()
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def end_marked_after(driver: int, marker: str, grace_s: float = 2.0, settle_s: float = 3.0,
                     limit_s: float = 60.0) -> None:
    """Wait until process ``driver`` has ended, then end the processes it left: those whose
    environment holds ``marker`` and those that were below it in the process tree while it ran
    (looked at every half second; a process of Ray's that starts its own children, such as the
    raylet's node agents, does not always pass the marker on). SIGTERM, then SIGKILL for those
    still there after ``grace_s`` seconds; repeated until none has been seen for ``settle_s``
    seconds (at most ``limit_s``), since one may still be starting on a busy machine.

    Run in a small process of its own by a driver that starts processes which could outlive it
    (a local Ray instance), with the marker in their environment, not in its own."""
    done = threading.Event()
    watch_driver(driver, done.set)
    below: dict[int, str | None] = {}
    while not done.wait(0.5):
        below.update(_descendants(driver))

    def left() -> list[int]:
        return sorted({*marked_processes(marker),
                       *(pid for pid, start in below.items() if start is not None and process_alive(pid, start))})

    stop = time.monotonic() + limit_s
    quiet_since = time.monotonic()
    while time.monotonic() < stop and time.monotonic() - quiet_since < settle_s:
        if _end_all(left, grace_s):
            quiet_since = time.monotonic()
        time.sleep(0.2)


def _descendants(root: int) -> dict[int, str | None]:
    """pid -> start time of every process below ``root`` in the process tree (this one excepted)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                ppid = int(f.read().rpartition(b")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, str | None] = {}
    todo = [root]
    while todo:
        for pid in children.get(todo.pop(), ()):
            if pid not in found and pid != os.getpid():
                found[pid] = process_start_marker(pid)
                todo.append(pid)
    return found


def _end_all(left: Callable[[], list[int]], grace_s: float) -> bool:
    """SIGTERM to the processes ``left()`` names, SIGKILL to those still there after ``grace_s``;
    whether there were any."""
    import signal

    found = False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = left()
        found = found or bool(pids)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + grace_s
        while pids and left() and time.monotonic() < deadline:
            time.sleep(0.1)
    return found


def parent_death_signal(signum: int) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent process ends (Linux's
    ``prctl(PR_SET_PDEATHSIG)``); False where that is not available. The parent is the *thread*
    that created this process: use it only where the parent is single-threaded (a fork server)."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1  # linux/prctl.h
        return libc.prctl(pr_set_pdeathsig, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


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
