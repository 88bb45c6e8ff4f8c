"""``vsrbench agree RESULTS``: how well each metric agrees with human scores (see :mod:`vsrbench.agree`)."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vsrbench.commands._options import add_metrics, add_out, add_results, add_selection, group

if TYPE_CHECKING:
    from vsrbench.agree import AgreeRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "agree"
HELP = "how well each metric agrees with human scores (a user study's Bradley-Terry scores or a MOS file)"
DESCRIPTION = (HELP + ". Per metric: Spearman, Kendall and Pearson (after VQEG's monotonic logistic mapping) "
               "correlations between the per-clip metric values and the human score of each output, with bootstrap "
               "intervals over clips, and paired bootstrap tests of whether one metric agrees better than another. "
               "Lower-is-better metrics are negated first, so agreement is positive for every metric.")
EXAMPLES = (
    "vsrbench agree results/vid4 --metrics psnr,lpips,tlp --plot agree.png",
    "vsrbench agree results/avt --mos mos.csv --within dataset --out agree.json",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results(parser)
    human = group(parser, "human scores (one of them; default: --human human_bt)")
    source = human.add_mutually_exclusive_group()
    source.add_argument("--human", metavar="NAME",
                        help="a human metric stored in RESULTS (human_bt: written by `vsrbench study score`)")
    source.add_argument("--mos", metavar="FILE", help="a CSV file with the columns clip,method,mos[,ci]; clip is "
                        "DATASET/SEQUENCE or SEQUENCE")
    select = group(parser, "what is compared")
    add_metrics(select, help="metrics to judge (default: every stored metric that is not a human score)")
    add_selection(select, dataset="only this dataset",
                  protocol="only results of this protocol (name or hash); needed when they are mixed")
    select.add_argument("--within", choices=("clip", "dataset"), default=None,
                        help="compute the correlations within each clip (or dataset) and average them (default: "
                             "over all outputs at once)")
    stats = group(parser, "statistics")
    stats.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                       help="bootstrap resamples of the clips for the intervals and tests (default 1000; 0: none)")
    stats.add_argument("--seed", type=int, default=0, help="random seed of the resampling (default 0)")
    stats.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    out = group(parser, "output")
    out.add_argument("--plot", metavar="FILE", help="plot each metric against the human score (.png, .pdf, .svg)")
    add_out(out, metavar="FILE", help="write the numbers as JSON (atomically)")


def _request(args: argparse.Namespace) -> "AgreeRequest":
    from vsrbench.agree import AgreeRequest

    return AgreeRequest(results=args.results, human=args.human, mos=args.mos,
                        metrics=None if args.metrics is None else tuple(args.metrics), protocol=args.protocol,
                        dataset=args.dataset, within=args.within, bootstrap=args.bootstrap, seed=args.seed,
                        level=args.level, plot=args.plot, out=args.out)


def run(args: argparse.Namespace) -> int:
    from vsrbench.agree import run_agree

    report = run_agree(_request(args))
    sys.stdout.write(report.text())
    return 0
