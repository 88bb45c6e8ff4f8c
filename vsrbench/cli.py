"""The ``vsrbench`` command line.

Sub-commands live in :mod:`vsrbench.commands`, one module each, discovered at start-up.
A command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.

Errors a user can cause are printed as one line on stderr with a non-zero exit status;
set ``VSRBENCH_DEBUG=1`` to see the traceback of unexpected failures.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from vsrbench import __version__
from vsrbench.core.errors import VsrbenchError


class _OneLineErrorParser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, like every other user error
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _command_modules():
    import vsrbench.commands as pkg

    mods = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mods.append(importlib.import_module(f"vsrbench.commands.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrorParser(prog="vsrbench", description="Video super-resolution evaluation with exact, named protocols.")
    parser.add_argument("--version", action="version", version=f"vsrbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineErrorParser)
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP))
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except VsrbenchError as e:
        sys.stderr.write(f"vsrbench {args.command}: error: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"vsrbench {args.command}: interrupted; results written so far are kept\n")
        return 130
    except (OSError, ValueError, RuntimeError) as e:
        if os.environ.get("VSRBENCH_DEBUG"):
            raise
        msg = " ".join(str(e).split()) or type(e).__name__
        sys.stderr.write(f"vsrbench {args.command}: error: {type(e).__name__}: {msg}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
