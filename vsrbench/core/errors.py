"""User-facing errors.

Every problem a user can cause (bad paths, mismatched frames, unknown names, missing
weights) raises a :class:`VsrbenchError` subclass whose message is one readable line.
The CLI prints that line on stderr and exits non-zero; library users can catch it.
"""
from __future__ import annotations

import difflib
import errno
import os
from typing import Iterable

__all__ = [
    "VsrbenchError", "InputError", "VsrbenchWarning", "UnknownNameError", "WeightsError", "closest",
    "unknown_name_message", "os_error_message", "os_error", "Registry",
]


class VsrbenchError(Exception):
    """An error caused by the input, with a message meant for the user (one line)."""

    exit_code = 2


class InputError(VsrbenchError, ValueError):
    """Invalid frames, folders, shapes, values or options."""


class VsrbenchWarning(UserWarning):
    """A result is computed but may not mean what the user thinks (a resized output, gray frames, ...).

    Library code warns with ``warnings.warn(message, VsrbenchWarning, stacklevel=2)``; the message
    is one line. The CLI shows each distinct message once, as ``vsrbench CMD: warning: ...``.
    """


class UnknownNameError(VsrbenchError, KeyError):
    """An unknown metric, protocol, model, degradation, ... name."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        self.kind, self.name = kind, name
        self.known = sorted(known)
        super().__init__(unknown_name_message(kind, name, self.known))

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class WeightsError(VsrbenchError, FileNotFoundError):
    """Weights missing, unreadable, of the wrong format or with a bad checksum."""

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


def closest(name: str, known: Iterable[str]) -> str | None:
    """The closest known name to ``name`` (case-insensitive), or None."""
    known = list(known)
    lowered = {k.lower(): k for k in known}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[hits[0]] if hits else None


def unknown_name_message(kind: str, name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    guess = closest(name, known)
    hint = f"; did you mean {guess!r}?" if guess else ""
    return f"unknown {kind} {name!r}{hint} (known: {', '.join(known)})"


_ERRNO_WORDS = {
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder",
}


def os_error_message(e: OSError, action: str, path: "str | os.PathLike", hint: str = "") -> str:
    """One line for an OSError, naming ``path`` (not a temporary file) and the cause in words.

    >>> os_error_message(OSError(errno.EROFS, "Read-only file system", "/r/.x.tmp"), "write results folder", "/r")
    "cannot write results folder '/r': read-only file system"
    """
    words = _ERRNO_WORDS.get(e.errno) if e.errno is not None else None
    if words is None:
        words = (e.strerror or " ".join(str(e).split()) or type(e).__name__).lower()
    return f"cannot {action} {str(path)!r}: {words}" + (f"; {hint}" if hint else "")


def os_error(e: OSError, action: str, path: "str | os.PathLike", hint: str = "") -> InputError:
    """An :class:`InputError` carrying :func:`os_error_message` (raise it ``from None``)."""
    err = InputError(os_error_message(e, action, path, hint))
    err.errno = e.errno
    return err


class Registry(dict):
    """A name -> object mapping that refuses duplicates and answers typos.

    >>> r = Registry("metric"); _ = r.register("psnr", 1)
    >>> r["psnr"]
    1
    """

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def register(self, name: str, obj):
        if name in self:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self[name] = obj
        return obj

    def __missing__(self, name):
        raise UnknownNameError(self.kind, str(name), self.keys())
