"""The arguments the commands share, spelled the same in every command, and the layout of ``--help``.

One concept, one spelling: the results folder read by a command is the positional ``RESULTS``; a
file or folder a command writes is ``--out``; ``--method`` / ``--dataset`` / ``--protocol`` select
stored results; a metrics list is ``--metrics`` and is accepted as ``a,b``, ``a b`` or ``a, b``
(an unknown name is refused while parsing, in one line, with a did-you-mean); ``--workers``,
``--executor`` and ``--address`` say where sequences are scored; ``--device`` where a model or a
metric runs. A former spelling stays as an alias, named in the option's help.

Each command groups its arguments (:func:`group`) and ends its ``--help`` with example lines
(the module's ``EXAMPLES``, laid out by :func:`epilog`). Nothing here imports torch or pandas:
building the parser stays fast.
"""
from __future__ import annotations

import argparse
import textwrap
from typing import Iterable, Sequence

__all__ = [
    "HelpFormatter", "RESULTS_HELP", "add_device", "add_metrics", "add_out", "add_results", "add_selection",
    "add_workers", "alias_note", "epilog", "group", "metric_names", "worker_options",
]

RESULTS_HELP = "results folder (holds results.sqlite, or has one sub-folder that does)"
_DEVICE_HELP = "where it runs: auto (CUDA when available, the default), cpu, cuda or cuda:N"

#: what a parser group holds: an ``ArgumentParser`` or one of its argument groups
Target = argparse.ArgumentParser | argparse._ArgumentGroup


class HelpFormatter(argparse.HelpFormatter):
    """argparse's layout, except that lines of a description or epilog that start with spaces (the
    examples) are kept as written instead of being joined and re-wrapped."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for line in text.splitlines():
            if line.startswith(" ") or not line.strip():
                out.append(indent + line)
            else:
                out.append(textwrap.fill(" ".join(line.split()), width, initial_indent=indent,
                                         subsequent_indent=indent))
        return "\n".join(out)


def epilog(examples: Iterable[str]) -> str | None:
    """The ``examples:`` block that ends a command's ``--help``: one command line each, indented."""
    lines = [f"  {e}" for e in examples]
    return "examples:\n" + "\n".join(lines) if lines else None


def group(parser: argparse.ArgumentParser, title: str, description: str | None = None) -> argparse._ArgumentGroup:
    """A titled argument group of ``parser`` (``--help`` lists the arguments under it)."""
    return parser.add_argument_group(title, description)


def alias_note(*old: str) -> str:
    """The help text that names former spellings kept as aliases."""
    return f" ({', '.join(old)}: the former spelling, kept as an alias)"


# ------------------------------------------------------------------ results, selection, output


def add_results(target: Target, *, nargs: str | None = None, help: str = RESULTS_HELP) -> None:
    """The positional results folder ``RESULTS`` read by a command."""
    kw = {} if nargs is None else {"nargs": nargs}
    target.add_argument("results", metavar="RESULTS", help=help, **kw)


def add_selection(target: Target, *, method: str | None = None, dataset: str | None = None,
                  protocol: str | None = None) -> None:
    """``--method NAME``, ``--dataset NAME`` and ``--protocol NAME|HASH``, each added when its help is given."""
    if method is not None:
        target.add_argument("--method", metavar="NAME", help=method)
    if dataset is not None:
        target.add_argument("--dataset", metavar="NAME", help=dataset)
    if protocol is not None:
        target.add_argument("--protocol", metavar="NAME|HASH", help=protocol)


def add_out(target: Target, *, metavar: str, help: str, required: bool = False, aliases: Sequence[str] = (),
            default: str | None = None) -> None:
    """``--out`` (what the command writes); ``aliases``: former spellings, still accepted."""
    note = alias_note(*aliases) if aliases else ""
    target.add_argument("--out", *aliases, dest="out", metavar=metavar, required=required, default=default,
                        help=help + note)


def add_device(target: Target, *, help: str = _DEVICE_HELP) -> None:
    """``--device`` (default ``auto``)."""
    target.add_argument("--device", default="auto", help=help)


# ------------------------------------------------------------------ metrics lists


def metric_names(text: str) -> list[str]:
    """``"psnr,SSIM"`` -> ``["psnr", "ssim"]``: the names of one command-line word, lower-cased and
    checked against the metric registry (an unknown name raises its one-line did-you-mean error)."""
    from vsrbench.metrics import METRICS

    names = [v.strip().lower() for v in text.split(",") if v.strip()]
    for n in names:
        METRICS[n]  # UnknownNameError: "unknown metric 'tfo'; did you mean 'tof'? (known: ...)"
    return names


class _MetricsList(argparse.Action):
    """Stores the names of every word given (``a,b``, ``a b`` and ``a, b`` alike), in order, without
    repeats; as one comma-separated string when the command reads it so (``joined``)."""

    def __init__(self, option_strings, dest, joined: bool = False, **kw):
        self.joined = joined
        super().__init__(option_strings, dest, nargs="+", **kw)

    def __call__(self, parser, namespace, values, option_string=None):
        names: list[str] = []
        for word in values:
            names += [n for n in metric_names(word) if n not in names]
        if not names:
            raise argparse.ArgumentError(self, "expected metric names, e.g. psnr,ssim or psnr ssim")
        setattr(namespace, self.dest, ",".join(names) if self.joined else names)


def add_metrics(target: Target, *, help: str, flags: Sequence[str] = ("--metrics",), joined: bool = False) -> None:
    """A metrics list option: ``--metrics psnr,ssim``, ``--metrics psnr ssim`` and ``--metrics psnr, ssim``
    give the same list; an unknown name is refused while parsing with a did-you-mean. ``joined``:
    store ``"psnr,ssim"`` (for a command that reads the list as text) instead of ``["psnr", "ssim"]``."""
    target.add_argument(*flags, dest="metrics", action=_MetricsList, joined=joined, metavar="METRIC",
                        help=help + " (a,b or a b)")


# ------------------------------------------------------------------ where the scoring runs


def add_workers(target: Target) -> None:
    """``--workers``, ``--executor`` and ``--address`` (``vsrbench run`` and ``vsrbench evaluate``)."""
    from vsrbench.execution import EXECUTORS  # a registry of names: imports no executor

    target.add_argument("--workers", default=None, metavar="N",
                        help="sequences scored at once, each in its own process (default: half the CPU cores, "
                        "$VSRBENCH_WORKERS when set, 1 on a GPU; never more than the sequences to score); "
                        "1 scores in this process; the stored numbers are the same for any N; with --executor ray: "
                        "the Ray actors (default: the cluster's CPUs, or its GPUs with --device cuda)")
    target.add_argument("--executor", default="local", choices=tuple(EXECUTORS),
                        help="local: processes on this machine (default); ray: tasks on a Ray cluster "
                        "(pip install 'vsrbench[ray]')")
    target.add_argument("--address", default=None, metavar="ADDR",
                        help="with --executor ray: the cluster to join (default: start a local Ray instance)")


def worker_options(args: argparse.Namespace) -> dict:
    """``workers``, ``executor`` and ``address`` from the command line, checked (one-line errors)."""
    from vsrbench.execution import check_executor
    from vsrbench.execution.base import parse_workers

    workers = None if args.workers is None else parse_workers(args.workers)
    check_executor(args.executor, workers=workers, address=args.address)
    return {"workers": workers, "executor": args.executor, "address": args.address}
