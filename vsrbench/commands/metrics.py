"""``vsrbench metrics``: the metrics vsrbench computes, what they measure and where they apply."""
from __future__ import annotations

import argparse
import sys

from vsrbench.catalog.listings import MetricsRequest

__all__ = ["NAME", "HELP", "EXAMPLES", "add_arguments", "run"]

NAME = "metrics"
HELP = "list the metrics (direction, unit, kind, version, which protocols score them by default)"


EXAMPLES = (
    "vsrbench metrics",
    "vsrbench metrics tlp",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import group

    group(p, "what is listed").add_argument("name", nargs="?", help="one metric to show in full")


def run(args) -> int:
    from vsrbench.catalog.listings import describe_metrics

    sys.stdout.write(describe_metrics(MetricsRequest(name=args.name)))
    return 0
