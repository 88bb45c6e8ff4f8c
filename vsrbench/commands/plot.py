"""``vsrbench plot RESULTS --out DIR``: per-frame curves, temporal profiles, trade-off and bar charts."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NAME = "plot"
HELP = "draw figures of a results folder (curves, temporal profiles, trade-off, bars) as PNG/PDF"
DESCRIPTION = (HELP + ". A method has the same colour in every figure; profiles read the stored frames "
               "(GT from the run record, outputs from RESULTS/outputs or the method's outputs folder).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vsrbench.commands.table import AVERAGES

    parser.add_argument("results", metavar="RESULTS", help="results folder (holds results.sqlite, "
                        "or has one sub-folder that does)")
    parser.add_argument("--kind", default="all", help="curves, profiles, tradeoff, bars or all "
                                                      "(comma-separated for several; default: all)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the figures (created)")
    parser.add_argument("--format", default="png", help="png, pdf or png,pdf (default: png)")
    parser.add_argument("--metrics", nargs="+", metavar="METRIC", help="metrics to plot (default: all stored)")
    parser.add_argument("--average", choices=AVERAGES, default="seq_avg",
                        help="average used by bars and trade-off (default: seq_avg)")
    parser.add_argument("--dataset", help="only this dataset")
    parser.add_argument("--protocol", help="only results of this protocol (name or hash); needed when they are mixed")


def run(args: argparse.Namespace) -> int:
    from vsrbench.commands.table import split_names
    from vsrbench.core.errors import os_error
    from vsrbench.visual.plots import plot_results
    from vsrbench.results.store import find_results_dir

    def warn(line: str) -> None:
        sys.stderr.write(line + "\n")

    results = find_results_dir(args.results)
    try:
        written = plot_results(results, args.out, kinds=args.kind, formats=args.format,
                               metrics=split_names(args.metrics), average=args.average, protocol=args.protocol,
                               dataset=args.dataset, warn=warn)
    except OSError as e:  # writing a figure (e.g. a read-only --out): name the folder, not a temporary file
        if e.filename is None or not _inside(e.filename, args.out):
            raise
        raise os_error(e, "write figures to", args.out, "choose another --out") from None
    print(f"{len(written)} file(s) written to {args.out}")
    return 0


def _inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    try:
        return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))
    except (TypeError, ValueError):
        return False
