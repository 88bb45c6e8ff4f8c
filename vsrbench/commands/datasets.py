"""``vsrbench datasets [NAME]``: the benchmark suites and the convention the literature scores each with."""
from __future__ import annotations

import argparse
import sys

from vsrbench.catalog.listings import DatasetsRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "datasets"
HELP = "list the benchmark suites (Vid4, REDS4, Vimeo-90K-T, ...) and how the literature scores each"
DESCRIPTION = (
    "One row per suite: clips, frames, which frames are scored, colour, border crop, averaging and its "
    "BI/BD degradations. `vsrbench datasets NAME` shows one suite in full: its clips, folder layouts, "
    "protocol, notes and the sources of each fact. Use a suite with `suite = \"NAME\"` in a benchmark "
    "TOML dataset (the GT folder is validated against it). Nothing is downloaded."
)


EXAMPLES = (
    "vsrbench datasets",
    "vsrbench datasets vid4",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import group

    group(parser, "what is listed").add_argument("name", nargs="?", metavar="NAME", help="one suite to show in full")


def run(args: argparse.Namespace) -> int:
    from vsrbench.catalog.listings import describe_datasets

    sys.stdout.write(describe_datasets(DatasetsRequest(name=args.name)))
    return 0
