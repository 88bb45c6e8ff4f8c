"""``vsrbench demo``: build, run and report a small offline benchmark (a working example)."""
from __future__ import annotations

import argparse
import sys

NAME = "demo"
HELP = "run a small offline benchmark (rendered videos, bicubic baselines) and write its table and plots"
DESCRIPTION = (HELP + ". Nothing to download: three camera motions rendered from scikit-image photographs, "
               "x4 bd-tecogan inputs, bicubic baselines and flicker / jitter / frozen variants, scored under "
               "the tecogan protocol.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vsrbench.demo import DEFAULT_FRAMES, DEFAULT_OUT

    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help=f"folder to write (default: ./{DEFAULT_OUT}; a previous demo there is replaced)")
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES, metavar="N",
                        help=f"frames per sequence (>= 6, default {DEFAULT_FRAMES})")
    parser.add_argument("--verbose", action="store_true", help="show the runner's progress lines")


def run(args: argparse.Namespace) -> int:
    from vsrbench.demo import run_demo

    def say(line: str) -> None:
        sys.stderr.write(line + "\n")

    result = run_demo(args.out, args.frames, say=say, progress=args.verbose)
    sys.stdout.write(result.markdown)
    print(f"\nbenchmark file: {result.bench}")
    print(f"tables: {', '.join(str(p) for p in result.tables.values())}")
    print(f"figures: {len(result.figures)} in {result.out / 'figures'}")
    print(f"report: {result.report} (open it in a browser)")
    print(f"demo written to {result.out.resolve()}")
    return 0
