"""``vsrbench check RESULTS --baseline BASELINE.json``: fail when a metric moved."""
from __future__ import annotations

import argparse

from vsrbench.analysis.check import DEFAULT_ATOL, CheckRequest, parse_tolerances
from vsrbench.commands._options import add_results, group

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "check"
HELP = "compare stored results with a baseline (exit 0 same, 1 moved, 2 unusable input)"
DESCRIPTION = (
    "Compare every per-sequence metric mean in RESULTS with BASELINE.json. A value is within "
    "tolerance when |current - baseline| <= atol + rtol*|baseline| (atol per metric with --tol; a --tol "
    "for a metric neither side holds is an error). "
    "Exit 0 when everything matches, 1 with a diff table when something moved or the methods, "
    "sequences or metrics differ, 2 on unusable input. --write-baseline records one instead."
)
EXAMPLES = (
    "vsrbench check results/vid4 --write-baseline baseline.json",
    "vsrbench check results/vid4 --baseline baseline.json --tol psnr=0.01,tlp=0.05",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results(parser)
    baseline = group(parser, "baseline")
    what = baseline.add_mutually_exclusive_group(required=True)
    what.add_argument("--baseline", metavar="BASELINE.json", help="compare with this baseline")
    what.add_argument("--write-baseline", metavar="BASELINE.json", help="record the current means as a baseline")
    baseline.add_argument("--protocol", metavar="NAME|HASH",
                          help="with --write-baseline: the protocol to record when RESULTS holds several")
    tol = group(parser, "tolerances")
    tol.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (default 0)")
    tol.add_argument("--atol", type=float, default=DEFAULT_ATOL, help=f"absolute tolerance (default {DEFAULT_ATOL:g})")
    tol.add_argument("--tol", action="append", default=[], metavar="METRIC=X[,METRIC=Y]",
                     help="absolute tolerance per metric, e.g. psnr=0.01,tlp=0.05 (repeatable)")


def _request(args: argparse.Namespace) -> CheckRequest:
    return CheckRequest(results=args.results, baseline=args.baseline, write_baseline=args.write_baseline,
                        protocol=args.protocol, rtol=args.rtol, atol=args.atol, tol=parse_tolerances(args.tol))


def run(args: argparse.Namespace) -> int:
    from vsrbench.analysis.check import check

    outcome = check(_request(args))
    print(outcome.text)
    return 0 if outcome.ok else 1
