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
    add_worker_arguments(parser)


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """``--workers``, ``--executor`` and ``--address`` (shared with ``vsrbench evaluate``)."""
    parser.add_argument("--workers", default=None, metavar="N",
                        help="sequences scored at once, each in its own process (default: half the CPU cores, "
                        "$VSRBENCH_WORKERS when set, 1 on a GPU; never more than the sequences to score); "
                        "1 scores in this process; the stored numbers are the same for any N; with --executor ray: "
                        "the Ray actors (default: the cluster's CPUs, or its GPUs with --device cuda)")
    parser.add_argument("--executor", default="local", choices=("local", "ray"),
                        help="local: processes on this machine (default); ray: tasks on a Ray cluster "
                        "(pip install 'vsrbench[ray]')")
    parser.add_argument("--address", default=None, metavar="ADDR",
                        help="with --executor ray: the cluster to join (default: start a local Ray instance)")


def worker_options(args: argparse.Namespace) -> dict:
    """``workers``, ``executor`` and ``address`` from the command line, checked (one-line errors)."""
    from vsrbench.execution import check_executor
    from vsrbench.execution.base import parse_workers

    workers = None if args.workers is None else parse_workers(args.workers)
    check_executor(args.executor, workers=workers, address=args.address)
    return {"workers": workers, "executor": args.executor, "address": args.address}


def run(args: argparse.Namespace) -> int:
    from vsrbench.catalog.benchfile import load_bench
    from vsrbench.runner import run_benchmark

    options = worker_options(args)
    bench = _without_missing_lpips(load_bench(args.bench))
    summary = run_benchmark(bench, args.out, device=args.device, progress=not args.quiet, **options)
    print(summary.text())
    return 0 if summary.ok else 1


def _without_missing_lpips(bench):
    """A benchmark that names no ``metrics`` (its protocol's defaults) and has no AlexNet file scores the
    other metrics with one note, like ``vsrbench evaluate`` and the demo; named LPIPS/tLP still fail."""
    import dataclasses
    import sys

    from vsrbench.core.errors import WeightsError
    from vsrbench.metrics.lpips import BACKBONE_FILES, backbone_missing, require_lpips_weights

    want = [m for m in bench.metrics if m in ("lpips", "tlp")]
    rest = [m for m in bench.metrics if m not in want]
    if bench.metrics_given or bench.lpips_weights is not None or not want or not rest:
        return bench
    proto = bench.protocol
    try:
        require_lpips_weights(proto.lpips_net, proto.lpips_version)
        return bench
    except WeightsError:
        if not backbone_missing(proto.lpips_net):  # found but unusable: the runner reports it in one line
            return bench
    fname = BACKBONE_FILES[proto.lpips_net]
    print(f"note: LPIPS and tLP skipped, scoring {','.join(rest)}: weights file {fname!r} not found; run "
          f"`vsrbench weights download lpips-{proto.lpips_net}` (or set lpips_weights in the benchmark) to score "
          "them; a later run adds them to the stored sequences", file=sys.stderr)
    return dataclasses.replace(bench, metrics=tuple(rest))
