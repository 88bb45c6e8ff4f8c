"""``vsrbench run BENCH.toml --out RESULTS``: run a benchmark, resumably."""
from __future__ import annotations

import argparse

NAME = "run"
HELP = "run a benchmark definition (TOML) and store per-frame results"
DESCRIPTION = (
    "Run every (method, dataset, sequence) of a benchmark that is not already stored in RESULTS: "
    "make LR frames, run models / commands / callables, score, store. Progress goes to stderr, "
    "a summary to stdout. Re-running resumes; Ctrl-C keeps every finished sequence. "
    "Exit status: 0 when done (sequences without outputs are warnings), 1 when a sequence failed."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bench", metavar="BENCH.toml", help="the benchmark definition")
    parser.add_argument("--out", required=True, metavar="RESULTS", help="results folder (created when missing)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    from vsrbench.runner import run_benchmark

    summary = run_benchmark(args.bench, args.out, device=args.device, progress=not args.quiet)
    print(summary.text())
    return 0 if summary.ok else 1
