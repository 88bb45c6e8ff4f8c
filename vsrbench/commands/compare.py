"""``vsrbench compare RESULTS A B``: is method A really better than B? Paired difference, interval, p-value."""
from __future__ import annotations

import argparse
import sys

from vsrbench.analysis.vocabulary import AVERAGES, INTERVALS, SCHEMES, TESTS
from vsrbench.commands._options import add_metrics, add_results, add_selection, group
from vsrbench.core.text import text_table

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "render", "run"]

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


def render(comparisons, *, average: str, resamples: int, seed: int, interval: str, scheme: str,
           protocol: tuple[str, str] | None = None) -> str:
    """The text ``vsrbench compare`` prints for ``{(dataset, metric): Comparison}``."""
    from vsrbench.metrics import METRICS
    from vsrbench.analysis.stats import format_p

    first = next(iter(comparisons.values()))
    a, b, level = first.method, first.against, first.level
    pct = f"{level * 100:g}%"
    proto = f", protocol {protocol[0]} ({protocol[1]})" if protocol else ""
    lines = [f"{a} (A) vs {b} (B){proto}, {average}; {pct} interval: paired {scheme} bootstrap over clips "
             f"({interval}, {resamples} resamples, seed {seed}); p: {first.test} test, two-sided, α={1 - level:.3g}"]
    header = ["dataset", "metric", "clips", "A", "B", "A − B", f"{pct} CI", "p"]
    rows = []
    for (ds, metric), c in comparisons.items():
        info = METRICS[metric]
        d = info.decimals + 1  # one more than the tables: differences are small
        arrow = "↑" if info.higher_is_better else "↓"
        rows.append([ds, f"{info.label} {arrow}", str(c.n_clips), f"{c.value:.{d}f}", f"{c.against_value:.{d}f}",
                     f"{c.diff:+.{d}f}", f"[{c.lo:+.{d}f}, {c.hi:+.{d}f}]", format_p(c.p)])
    lines += text_table(rows, header=header)
    lines += [c.verdict() for c in comparisons.values()]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from vsrbench.analysis.stats import compare_methods
    from vsrbench.results.store import find_results_dir
    from vsrbench.results.loading import load_results
    from vsrbench.core.errors import InputError
    from vsrbench.results.frame import require_one_protocol

    args.results = str(find_results_dir(args.results))
    df = load_results(args.results, args.protocol)
    comparisons = compare_methods(df, args.a, args.b, metrics=args.metrics,
                                  dataset=args.dataset, average=args.average, level=args.level,
                                  resamples=args.resamples, seed=args.seed, test=args.test,
                                  interval=args.interval, scheme=args.scheme)
    try:
        protocol = require_one_protocol(df[df["method"].isin([args.a, args.b])])
    except InputError:  # different datasets may use different protocols: the header then names none
        protocol = None
    sys.stdout.write(render(comparisons, average=args.average, resamples=args.resamples, seed=args.seed,
                            interval=args.interval, scheme=args.scheme, protocol=protocol))
    return 0
