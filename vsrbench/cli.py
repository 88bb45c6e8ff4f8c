"""The ``vsrbench`` command line.

Sub-commands live in :mod:`vsrbench.commands`, one module each, discovered at start-up.
A command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``, and
optionally ``DESCRIPTION`` and ``EXAMPLES`` (command lines shown at the end of its ``--help``); the
arguments several commands share are in :mod:`vsrbench.commands._options`. :func:`build_parser`
returns the whole parser without running anything (the CLI reference of the docs is made from it).

Errors a user can cause are printed as one line on stderr with a non-zero exit status;
set ``VSRBENCH_DEBUG=1`` to see the traceback of unexpected failures.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import warnings
from contextlib import contextmanager

from vsrbench import __version__
from vsrbench.core.errors import VsrbenchError, VsrbenchWarning

__all__ = ["build_parser", "one_line_warnings", "main"]


class _ParseError(Exception):
    """A :class:`VsrbenchError` raised while parsing (e.g. an unknown metric name), with the ``prog``
    of the (sub-)parser that met it."""

    def __init__(self, prog: str, error: VsrbenchError):
        super().__init__(str(error))
        self.prog, self.error = prog, error


class _OneLineErrorParser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, like every other user error
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)

    def parse_known_args(self, args=None, namespace=None):
        try:
            return super().parse_known_args(args, namespace)
        except VsrbenchError as e:  # the innermost parser names the command
            raise _ParseError(self.prog, e) from None


def _command_modules():
    import vsrbench.commands as pkg

    mods = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mods.append(importlib.import_module(f"vsrbench.commands.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    """The ``vsrbench`` parser with every sub-command (imports no torch or pandas, runs nothing)."""
    from vsrbench.commands._options import HelpFormatter, epilog

    parser = _OneLineErrorParser(prog="vsrbench", description="Video super-resolution evaluation with exact, named protocols.")
    parser.add_argument("--version", action="version", version=f"vsrbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineErrorParser)
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           epilog=epilog(getattr(mod, "EXAMPLES", ())), formatter_class=HelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


@contextmanager
def one_line_warnings(command: str):
    """Show each distinct :class:`VsrbenchWarning` once, as one line ``vsrbench CMD: warning: ...``.

    Other warnings keep Python's usual display.
    """
    seen: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", VsrbenchWarning)  # dedupe by message here, not per code line
        previous = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if not issubclass(category, VsrbenchWarning):
                return previous(message, category, filename, lineno, file, line)
            text = " ".join(str(message).split())
            if text in seen:
                return None
            seen.add(text)
            (file or sys.stderr).write(f"vsrbench {command}: warning: {text}\n")
            return None

        warnings.showwarning = show
        yield


@contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGTERM (what ``timeout``, SLURM and ``docker stop`` send) raises
    KeyboardInterrupt in the main thread, as Ctrl-C does: rows already stored are kept and the run
    record is marked interrupted. Only the first SIGTERM interrupts (one that comes while that
    interrupt is handled does not break the clean-up; ``kill -9`` still stops at once). Yields a
    list that holds the signal number once one came; the previous handler is restored after the
    block. Outside the main thread it changes nothing."""
    import signal
    import threading

    came: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield came
        return

    def interrupt(signum, frame):
        came.append(signum)
        if len(came) == 1:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield came
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ParseError as e:  # one line, like the same error met while running
        sys.stderr.write(f"{e.prog}: error: {e}\n")
        return e.error.exit_code
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    with sigterm_as_interrupt() as terminated:
        return _run_command(args, terminated)


def _run_command(args: argparse.Namespace, terminated: list[int]) -> int:
    """Run the parsed command; a user's error is one line; an interrupt exits 130 (Ctrl-C) or
    143 (SIGTERM, ``terminated`` not empty), as a shell reports those signals."""
    try:
        with one_line_warnings(args.command):
            return int(args._run(args) or 0)
    except VsrbenchError as e:
        sys.stderr.write(f"vsrbench {args.command}: error: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        how = " by SIGTERM" if terminated else ""
        sys.stderr.write(f"vsrbench {args.command}: interrupted{how}; results written so far are kept\n")
        return 143 if terminated else 130
    except (OSError, ValueError, RuntimeError) as e:
        if os.environ.get("VSRBENCH_DEBUG"):
            raise
        msg = " ".join(str(e).split()) or type(e).__name__
        sys.stderr.write(f"vsrbench {args.command}: error: {type(e).__name__}: {msg}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
