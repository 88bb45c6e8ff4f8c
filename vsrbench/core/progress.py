"""A small frames-per-second progress reporter for the command line.

Progress lines are written only to a terminal, or anywhere when ``VSRBENCH_PROGRESS=1``, and at
most about twice a second; the closing summary line ("N frames in T s (F frames/s)") is always
written.

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

__all__ = ["Progress", "progress_enabled"]

#: Seconds between two progress lines.
INTERVAL_S = 0.5


def progress_enabled(stream: TextIO) -> bool:
    """True when ``stream`` is a terminal or ``VSRBENCH_PROGRESS=1`` is set."""
    if os.environ.get("VSRBENCH_PROGRESS") == "1":
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _duration(seconds: float) -> str:
    """``75.4`` -> ``'1:15'``; ``3725`` -> ``'1:02:05'``."""
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Counts frames; reports frames/s and the time left; a context manager that closes itself."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, *,
                 enabled: bool | None = None, clock: Callable[[], float] = time.monotonic):
        self.total, self.label = total, label
        self.stream = sys.stderr if stream is None else stream
        self.enabled = progress_enabled(self.stream) if enabled is None else enabled
        self.clock = clock
        self.done = 0
        self.start = self._last = clock()
        self._closed = False
        self._tty = bool(getattr(self.stream, "isatty", None) and self.stream.isatty())

    @property
    def elapsed(self) -> float:
        return self.clock() - self.start

    @property
    def rate(self) -> float:
        """Frames per second so far (0 before the first frame)."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0

    def update(self, n: int = 1) -> None:
        """Count ``n`` more frames; print a progress line if enabled and due."""
        self.done += n
        now = self.clock()
        if self.enabled and now - self._last >= INTERVAL_S:
            self._last = now
            self._write(self._line(), final=False)

    def _line(self) -> str:
        rate = self.rate
        eta = (self.total - self.done) / rate if rate > 0 and self.total > self.done else 0.0
        return (f"{self.label}: {self.done}/{self.total} frames, {rate:.2f} frames/s, "
                f"ETA {_duration(eta)}")

    def _write(self, text: str, final: bool) -> None:
        if self._tty:  # redraw in place on a terminal
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Write "N frames in T s (F frames/s)" once."""
        if self._closed:
            return
        self._closed = True
        self._write(f"{self.label}: {self.done} frames in {self.elapsed:.1f} s ({self.rate:.2f} frames/s)",
                    final=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
