"""``vsrbench run BENCH.toml --out RESULTS``: run a benchmark, resumably."""
from __future__ import annotations

import argparse

from vsrbench.commands._options import add_device, add_out, add_workers, group, worker_options

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "add_worker_arguments", "run"]

NAME = "run"
HELP = "run a benchmark definition (TOML) and store per-frame results"
DESCRIPTION = (
    "Run every (method, dataset, sequence) of a benchmark that is not already stored in RESULTS: "
    "make LR frames, run models / commands / callables, score, store. Progress goes to stderr, "
    "a summary to stdout. Re-running resumes; Ctrl-C keeps every finished sequence. "
    "Exit status: 0 when done (sequences without outputs are warnings), 1 when a sequence failed."
)


EXAMPLES = (
    "vsrbench run examples/vid4-duf.toml --out results/vid4",
    "vsrbench run bench.toml --out results/ --workers 4 --device cpu",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bench", metavar="BENCH.toml", help="the benchmark definition")
    out = group(parser, "output")
    add_out(out, metavar="RESULTS", required=True, help="results folder (created when missing)")
    out.add_argument("--quiet", action="store_true", help="no progress lines")
    where = group(parser, "where it runs")
    add_device(where)
    add_worker_arguments(where)


def add_worker_arguments(target) -> None:
    """``--workers``, ``--executor`` and ``--address``: :func:`vsrbench.commands._options.add_workers`."""
    add_workers(target)


def run(args: argparse.Namespace) -> int:
    from vsrbench.runner import RunRequest, run_request

    request = RunRequest(bench=args.bench, out=args.out, device=args.device, quiet=args.quiet, **worker_options(args))
    summary = run_request(request)
    print(summary.text())
    return 0 if summary.ok else 1
