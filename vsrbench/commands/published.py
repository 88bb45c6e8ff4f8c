"""``vsrbench published``: the database of published results, with each number's source."""
from __future__ import annotations

import argparse
import sys

from vsrbench.catalog.listings import PublishedRequest
from vsrbench.commands._options import group

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "published"
HELP = ("list published results (method, suite, degradation, metric, value, averaging, convention, kind: "
        "published / transcribed / reproduced, source)")
DESCRIPTION = (HELP + ". One row per number, from the database shipped with vsrbench (vsrbench/data/published.csv) "
               "or --published-file; `vsrbench table RESULTS --published` puts them beside yours.")


EXAMPLES = (
    "vsrbench published --suite vid4 --metric psnr",
    "vsrbench published --method TecoGAN --format csv",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    select = group(parser, "which rows")
    select.add_argument("--suite", help="only this suite (vid4, reds4, vimeo90k-t, udm10, spmcs, tos3, youhq40, reds30, videolq, "
                        "realvsr, mvsr4x)")
    select.add_argument("--method", help="only this method (as the source names it; case-insensitive)")
    select.add_argument("--metric", help="only this metric (psnr, ssim, lpips, tof, tlp, dists, dover, ewarp-evalcrafter, ...)")
    select.add_argument("--published-file", metavar="CSV",
                        help="read this file (same columns) instead of the database shipped with vsrbench")
    out = group(parser, "output")
    out.add_argument("--format", choices=("text", "csv"), default="text",
                     help="text (default: aligned, each row followed by its source) or csv (the database format)")


def _request(args: argparse.Namespace) -> PublishedRequest:
    return PublishedRequest(suite=args.suite, method=args.method, metric=args.metric,
                            published_file=args.published_file, fmt=args.format)


def run(args: argparse.Namespace) -> int:
    from vsrbench.catalog.listings import describe_published

    sys.stdout.write(describe_published(_request(args)))
    return 0
