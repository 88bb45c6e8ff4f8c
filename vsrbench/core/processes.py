"""Whether a process still runs, and what tells it apart from a later one with the same pid.

Shared by the results layer (a run recorded as ``running`` whose process is gone is marked
``interrupted``) and the executors (workers and a Ray instance's reaper that end with their driver).
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["process_alive", "process_start_marker"]


def process_start_marker(pid: int) -> str | None:
    """What tells this process apart from a later one with the same pid (Linux: boot id and start
    time from ``/proc``); None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) ": state is field 3, starttime 22
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def process_alive(pid: int, start: str | None = None) -> bool:
    """True while process ``pid`` runs: it exists, is not a zombie (a process that has ended and that
    its parent has not collected yet; where ``/proc`` says so) and, given its :func:`process_start_marker`
    ``start``, is that process and not a later one with the same pid (an unknown marker counts as it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    except OSError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rpartition(b")")[2].split()[:1]
    except FileNotFoundError:  # gone since, or no /proc (macOS)
        if os.path.isdir("/proc"):
            return False
        state = []
    except OSError:
        state = []
    if state in ([b"Z"], [b"X"]):
        return False
    return start is None or process_start_marker(pid) in (None, start)
