"""``vsrbench compare RESULTS A B``: is method A really better than B? Paired difference, interval, p-value."""
from __future__ import annotations

import argparse
import sys

from vsrbench.analysis.vocabulary import AVERAGES, INTERVALS, SCHEMES, TESTS
from vsrbench.commands._options import add_metrics, add_results, add_selection, group
from vsrbench.analysis.comparison import CompareRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "compare"
HELP = "paired comparison of two methods: difference A - B per metric, its interval and p-value"
DESCRIPTION = (HELP + ". Clips are the unit: a paired cluster bootstrap gives the interval, a paired approximate "
               "randomisation test (or the paired bootstrap) the two-sided p-value; see vsrbench.analysis.stats.")
EXAMPLES = (
    "vsrbench compare results/vid4 DUF-52L DUF-16L",
    "vsrbench compare results/vid4 Mine Bicubic --metrics psnr,lpips --test bootstrap --seed 1",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results(parser)
    parser.add_argument("a", metavar="A", help="a method name (the difference is A - B)")
    parser.add_argument("b", metavar="B", help="the method to compare A with")
    select = group(parser, "what is compared")
    add_metrics(select, flags=("--metrics", "--metric"), help="metrics to compare (default: all stored)")
    add_selection(select, dataset="only this dataset (default: every dataset both methods have)",
                  protocol="only results of this protocol (name or hash); needed when they are mixed")
    select.add_argument("--average", choices=AVERAGES, default="seq_avg",
                        help="seq_avg = mean of per-sequence means (default); frame_avg = mean over all frames")
    stats = group(parser, "statistics")
    stats.add_argument("--level", type=float, default=0.95, help="confidence level of the interval; "
                       "α = 1 - level for the test (default 0.95)")
    stats.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples / shuffles (default 2000)")
    stats.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same output "
                       "(default 0)")
    stats.add_argument("--test", choices=TESTS, default="randomization",
                       help="randomization = paired approximate randomisation over clips (default); "
                            "bootstrap = paired bootstrap sign flips (Koehn 2004)")
    stats.add_argument("--interval", choices=INTERVALS, default="percentile",
                       help="bootstrap interval: percentile (default) or bca")
    stats.add_argument("--scheme", choices=SCHEMES, default="cluster",
                       help="cluster = resample clips (default); two-stage = clips, then frames within them")


def _request(args: argparse.Namespace) -> CompareRequest:
    return CompareRequest(results=args.results, a=args.a, b=args.b,
                          metrics=None if args.metrics is None else tuple(args.metrics), dataset=args.dataset,
                          protocol=args.protocol, average=args.average, level=args.level, resamples=args.resamples,
                          seed=args.seed, test=args.test, interval=args.interval, scheme=args.scheme)


def run(args: argparse.Namespace) -> int:
    from vsrbench.analysis.comparison import compare

    sys.stdout.write(compare(_request(args)))
    return 0
