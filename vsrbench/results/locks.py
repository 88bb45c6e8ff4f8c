"""Locks between processes that share a results folder, and the claim a running run holds.

A :class:`ProcessLock` is an ``flock`` on a file under ``RESULTS/.locks`` that the OS frees when
its process dies, even by SIGKILL; :func:`run_claim` gives a run its own lock and the process
columns of its record, and :func:`run_is_gone` tells, from those columns, whether a run recorded
as ``running`` still has a process.
"""
from __future__ import annotations

import contextlib
import os
import socket
import uuid
from pathlib import Path
from typing import Any

from vsrbench.core.processes import process_alive, process_start_marker

__all__ = ["LOCKS_DIR", "ProcessLock", "run_claim", "run_is_gone"]


try:
    import fcntl as _fcntl
except ImportError:  # Windows: no locks between runs
    _fcntl = None


LOCKS_DIR = ".locks"


# ---------------------------------------------------------------------- locks and processes

class ProcessLock:
    """An exclusive lock on a file (``fcntl.flock``) that the OS releases when its process dies.

    The holder writes ``pid N on HOST`` into the file, so that a waiting process can say who it
    waits for. Where ``fcntl`` is missing (Windows) every acquire succeeds: no coordination.
    """

    def __init__(self, path: Path, *, remove_on_release: bool = False):
        self.path = Path(path)
        self.remove_on_release = remove_on_release  # only for a lock nobody waits for (a run's own)
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        if self._fd is not None:
            return True
        if _fcntl is None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _fcntl.flock(fd, _fcntl.LOCK_EX | (0 if blocking else _fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            if self.remove_on_release:
                with contextlib.suppress(OSError):
                    self.path.unlink()
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def holder(self) -> str:
        """Who holds the lock, as its holder wrote it (``"another process"`` when unknown)."""
        try:
            text = self.path.read_text().strip()
        except OSError:
            text = ""
        return text or "another process"

    def __enter__(self) -> "ProcessLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def run_claim(results_dir: str | os.PathLike) -> tuple[ProcessLock, dict[str, Any]]:
    """A held lock for a new run and the :data:`PROCESS_COLUMNS` of its record.

    Hold the lock (``release()`` it at the end) for as long as the run runs.
    """
    token = uuid.uuid4().hex
    lock = ProcessLock(Path(results_dir) / LOCKS_DIR / f"run-{token}.lock", remove_on_release=True)
    lock.acquire()
    return lock, {"pid": os.getpid(), "pid_start": process_start_marker(os.getpid()), "claim": token}


def run_is_gone(results_dir: Path, host: str | None, pid: int | None, pid_start: str | None,
                 claim: str | None) -> bool:
    if pid is not None and host == socket.gethostname():
        return not process_alive(int(pid), pid_start)
    if claim:
        lock = ProcessLock(Path(results_dir) / LOCKS_DIR / f"run-{claim}.lock", remove_on_release=True)
        try:
            free = lock.acquire(blocking=False)
        except OSError:
            return False
        lock.release()
        return free and _fcntl is not None
    return False
