"""Progress reporting (count, rate, ETA) for long work, built on tqdm.

On a terminal a tqdm bar redraws in place; anywhere else (a log file, a pipe, CI) a plain line
``"LABEL: 12/40 frames (30%), 2.31 frames/s, ETA 00:12"`` is written every few seconds, so a
long step is never silent. Closing writes one summary line ``"LABEL: 40 frames in 17.3 s
(2.31 frames/s)"`` (terminal or not). Progress goes to stderr by default; stdout stays free for
tables and results.

Environment:

- ``VSRBENCH_PROGRESS=0`` turns the bar and the periodic lines off (the summary line stays);
  unset or ``1``: on (before tqdm, ``1`` was needed to get lines off a terminal; now that is
  the default);
- ``VSRBENCH_PROGRESS_INTERVAL=SECONDS``: seconds between two plain lines off a terminal
  (default 5; ``0`` writes a line at every update, which the tests use).

>>> import io
>>> out = io.StringIO()
>>> with Progress(3, "demo", stream=out, enabled=False) as p:
...     p.update(3)
>>> out.getvalue().startswith("demo: 3 frames in ")
True
"""
from __future__ import annotations

import os
import sys
import time
from typing import Callable, TextIO

from tqdm import tqdm

__all__ = ["Progress", "LineSink", "progress_enabled", "line_interval", "is_terminal"]

#: Seconds between two plain progress lines off a terminal (``VSRBENCH_PROGRESS_INTERVAL``).
LINE_INTERVAL_S = 5.0
#: Seconds between two redraws of the bar on a terminal.
TTY_INTERVAL_S = 0.5


def progress_enabled(stream: TextIO | None = None) -> bool:
    """False when ``VSRBENCH_PROGRESS=0``; progress is shown on terminals and off them alike."""
    return os.environ.get("VSRBENCH_PROGRESS", "1").strip() != "0"


def line_interval() -> float:
    """Seconds between plain lines off a terminal: ``VSRBENCH_PROGRESS_INTERVAL`` or 5."""
    raw = os.environ.get("VSRBENCH_PROGRESS_INTERVAL")
    if raw is None or not raw.strip():
        return LINE_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also NaN
        from vsrbench.core.errors import InputError

        raise InputError(f"VSRBENCH_PROGRESS_INTERVAL: expected a number of seconds >= 0, got {raw!r}; "
                         "unset it for the default (5)")
    return value


def is_terminal(stream: object) -> bool:
    """A terminal a bar can be drawn on (one that reports 0 columns, as some CI ptys do, gets lines)."""
    isatty = getattr(stream, "isatty", None)
    try:
        if not (isatty and isatty()):
            return False
    except (ValueError, OSError):  # a closed stream
        return False
    try:
        return os.get_terminal_size(stream.fileno()).columns > 0
    except (AttributeError, ValueError, OSError):  # no file descriptor (io.UnsupportedOperation is an OSError)
        return True


def _rate(rate: float) -> str:
    """``2.31``; slow rates keep 2 significant digits (``0.0056``) instead of reading ``0.00``."""
    return f"{rate:.2f}" if rate >= 0.1 or rate == 0 else f"{rate:.2g}"


def _duration(seconds: float | None) -> str:
    return "?" if seconds is None else tqdm.format_interval(seconds)


class LineSink:
    """A write-only text stream that hands each complete line to ``fn`` (never a terminal).

    Lets a ``progress=callable`` API receive progress lines like any other line.
    """

    def __init__(self, fn: Callable[[str], None]):
        self.fn, self._buf = fn, ""

    def write(self, text: str) -> int:
        self._buf += text
        *lines, self._buf = self._buf.split("\n")
        for line in lines:
            line = line.replace("\r", "")
            if line:
                self.fn(line)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class _Bar(tqdm):
    """tqdm with plain, newline-terminated lines when the stream is not a terminal."""

    monitor_interval = 0  # no monitor thread: lines are written from update() only

    def __init__(self, *args, plain: bool, describe: Callable[[], str], **kwargs):
        self._plain, self._describe = plain, describe
        super().__init__(*args, **kwargs)

    def display(self, msg=None, pos=None):
        if not self._plain:
            return super().display(msg, pos)
        if msg is None and self.n > self.initial:  # a due refresh with news (not the opening 0/N)
            self.fp.write(self._describe() + "\n")
            self.fp.flush()
        return False  # nothing to clear on close


class Progress:
    """Counts work items (frames by default); shows count, rate and ETA; a context manager.

    ``update(n)`` counts done items, ``skip(n)`` counts items that took no work (already stored)
    so they do not inflate the rate, ``write(line)`` prints a line without breaking a terminal
    bar, ``eta()`` is the remaining time as text. ``summary=False`` leaves out the closing line
    (for callers that print their own).
    """

    def __init__(self, total: int, label: str, stream: TextIO | None = None, *, unit: str = "frames",
                 enabled: bool | None = None, interval: float | None = None, summary: bool = True):
        self.total, self.label, self.unit = int(total), label, unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = progress_enabled(self.stream) if enabled is None else enabled
        self.summary = summary
        self.tty = is_terminal(self.stream)
        self.done = self.skipped = 0
        self.start = time.monotonic()
        self._closed = False
        plain = not self.tty
        if interval is None:
            interval = line_interval() if plain else TTY_INTERVAL_S
        self._bar = _Bar(
            total=self.total, desc=label, unit=f" {unit}", file=self.stream, disable=not self.enabled,
            mininterval=interval, miniters=1, leave=False, dynamic_ncols=self.tty,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{unit} "
                       "[{elapsed}, ETA {remaining}, {rate_noinv_fmt}]",
            plain=plain, describe=self.line,
        )

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    @property
    def rate(self) -> float:
        """Items per second of work so far (skipped items excluded; 0 before the first)."""
        elapsed = self.elapsed
        worked = self.done - self.skipped
        return worked / elapsed if elapsed > 0 and worked > 0 else 0.0

    def remaining_s(self) -> float | None:
        """Seconds left at the current rate; None while unknown, 0 when done."""
        left = self.total - self.done
        if left <= 0:
            return 0.0
        rate = self.current_rate()
        return left / rate if rate else None

    def current_rate(self) -> float:
        """tqdm's smoothed rate (recent items/s) once known, else :attr:`rate`."""
        recent = self._bar.format_dict.get("rate") if self.enabled and not self._closed else None
        return recent or self.rate

    def eta(self) -> str:
        """``"ETA 01:05"``, or ``"ETA ?"`` before anything was done."""
        return f"ETA {_duration(self.remaining_s())}"

    def line(self) -> str:
        """``"LABEL: 12/40 frames (30%), 2.31 frames/s, ETA 00:12"``."""
        pct = f" ({100 * self.done // self.total}%)" if self.total > 0 else ""
        rate = self.current_rate()
        rate_text = _rate(rate) if rate > 0 else "?"
        return f"{self.label}: {self.done}/{self.total} {self.unit}{pct}, {rate_text} {self.unit}/s, {self.eta()}"

    def update(self, n: int = 1) -> None:
        """Count ``n`` more items; show the bar or a line when one is due."""
        self.done += n
        self._bar.update(n)

    def skip(self, n: int = 1) -> None:
        """Count ``n`` items that needed no work (they count as done, not in the rate)."""
        self.done += n
        self.skipped += n
        bar = self._bar
        bar.n += n
        bar.initial += n  # tqdm's rate and ETA leave out the initial count
        bar.last_print_n += n

    def write(self, line: str) -> None:
        """Print ``line`` on the stream, clearing and redrawing a terminal bar around it."""
        if self.tty and self.enabled and not self._closed:
            self._bar.write(line, file=self.stream)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Remove the bar and write "N frames in T s (F frames/s)" once (unless ``summary=False``)."""
        if self._closed:
            return
        self._closed = True
        self._bar.close()
        if self.summary:
            self.stream.write(f"{self.label}: {self.done} {self.unit} in {self.elapsed:.1f} s "
                              f"({_rate(self.rate)} {self.unit}/s)\n")
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
