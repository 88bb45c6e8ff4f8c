"""``vsrbench demo``: build, run and report a small offline benchmark (a working example)."""
from __future__ import annotations

import argparse
import sys

from vsrbench.commands._options import add_out, group

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "demo"
HELP = "run a small offline benchmark (rendered videos, bicubic baselines) and write its table and plots"
DESCRIPTION = (HELP + ". Nothing to download: three camera motions rendered from scikit-image photographs, "
               "x4 bd-tecogan inputs, bicubic baselines and flicker / jitter / frozen variants, scored under "
               "the tecogan protocol.")


EXAMPLES = (
    "vsrbench demo",
    "vsrbench demo --out /tmp/demo --frames 8 --verbose",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vsrbench.demo import DEFAULT_FRAMES, DEFAULT_OUT

    demo = group(parser, "the demo")
    add_out(demo, metavar="DIR", default=DEFAULT_OUT,
            help=f"folder to write (default: ./{DEFAULT_OUT}; a previous demo there is replaced)")
    demo.add_argument("--frames", type=int, default=DEFAULT_FRAMES, metavar="N",
                      help=f"length of each rendered sequence, in frames (>= 6, default {DEFAULT_FRAMES})")
    demo.add_argument("--verbose", action="store_true", help="show the runner's progress lines")


def run(args: argparse.Namespace) -> int:
    from vsrbench.demo import DemoRequest, demo

    sys.stdout.write(demo(DemoRequest(out=args.out, frames=args.frames, verbose=args.verbose)).summary())
    return 0
