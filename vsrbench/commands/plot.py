"""``vsrbench plot RESULTS --out DIR``: per-frame curves, temporal profiles, trade-off and bar charts."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vsrbench.analysis.vocabulary import AVERAGES, PLOT_FORMATS, PLOT_KINDS
from vsrbench.commands._options import add_metrics, add_out, add_results, add_selection, group

if TYPE_CHECKING:  # importing vsrbench.visual.plots imports pandas and matplotlib
    from vsrbench.visual.plots import PlotRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "plot"
HELP = "draw figures of a results folder (curves, temporal profiles, trade-off, bars) as PNG/PDF"
DESCRIPTION = (HELP + ". A method has the same colour in every figure; profiles read the stored frames "
               "(GT from the run record, outputs from RESULTS/outputs or the method's outputs folder).")


EXAMPLES = (
    "vsrbench plot results/vid4 --out figures/",
    "vsrbench plot results/vid4 --kind curves,bars --metrics psnr,lpips --format png,pdf --out figures/",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results(parser)
    select = group(parser, "what is drawn")
    select.add_argument("--kind", default="all", help=f"{', '.join(PLOT_KINDS)} or all "
                        "(comma-separated for several; default: all)")
    add_metrics(select, help="metrics to plot (default: all stored)")
    select.add_argument("--average", choices=AVERAGES, default="seq_avg",
                        help="average used by bars and trade-off (default: seq_avg)")
    add_selection(select, dataset="only this dataset",
                  protocol="only results of this protocol (name or hash); needed when they are mixed")
    out = group(parser, "output")
    add_out(out, metavar="DIR", required=True, help="folder for the figures (created)")
    out.add_argument("--format", default="png", help=f"{', '.join(PLOT_FORMATS)} or {','.join(PLOT_FORMATS)} "
                     "(default: png)")


def _request(args: argparse.Namespace) -> "PlotRequest":
    from vsrbench.visual.plots import PlotRequest

    return PlotRequest(results=args.results, out=args.out, kinds=args.kind, formats=args.format,
                       metrics=None if args.metrics is None else tuple(args.metrics), average=args.average,
                       protocol=args.protocol, dataset=args.dataset)


def run(args: argparse.Namespace) -> int:
    from vsrbench.visual.plots import plot

    written = plot(_request(args), warn=lambda line: sys.stderr.write(line + "\n"))
    print(f"{len(written)} file(s) written to {args.out}")
    return 0
