"""``vsrbench speed``: time the one-pass TecoGAN evaluation against the straightforward loop."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vsrbench.commands._options import group
from vsrbench.core.errors import InputError

if TYPE_CHECKING:  # importing vsrbench.speed imports torch
    from vsrbench.speed import SpeedRequest

__all__ = ["NAME", "HELP", "EXAMPLES", "add_arguments", "run"]

NAME = "speed"
HELP = "measure evaluation speed: one-pass pipeline vs the straightforward loop (same numbers)"


EXAMPLES = (
    "vsrbench speed --frames 20 --repeat 3",
    "vsrbench speed --gt data/vid4/GT/calendar --pred outputs/a/calendar --pred outputs/b/calendar",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    frames = group(p, "frames timed", "synthetic frames (the default), or --gt and --pred")
    frames.add_argument("--frames", type=int, default=None, metavar="N",
                        help="length of the synthetic sequence, in frames (default 10; at least 6); "
                        "not used with --gt/--pred, which time every frame of the given sequences")
    frames.add_argument("--gt", help="GT sequence (default: 10 synthetic 720x576 frames)")
    frames.add_argument("--pred", action="append", help="output sequence (with --gt); repeat it to score several "
                        "outputs of the same sequence, which vsrbench does in one pass sharing the GT work")
    timing = group(p, "timing")
    timing.add_argument("--lpips-weights", default=None, help="AlexNet backbone file (default: looked up; if "
                        "missing, a seeded random backbone is used: the timing is the same, the LPIPS values are "
                        "not meaningful)")
    timing.add_argument("--repeat", type=int, default=1, help="best of N runs (default 1)")


def _request(args: argparse.Namespace) -> "SpeedRequest":
    """The :class:`~vsrbench.speed.SpeedRequest` of a command line (synthetic frames: 10 by default)."""
    from vsrbench.speed import SpeedRequest

    if bool(args.gt) != bool(args.pred):
        raise InputError("give both --gt and --pred, or neither (synthetic frames)")
    if args.repeat < 1:
        raise InputError(f"--repeat: expected a number of runs of at least 1, got {args.repeat}")
    if args.gt and args.frames is not None:
        raise InputError(f"--frames {args.frames}: only sets the number of synthetic frames; with --gt/--pred every "
                         "frame of the given sequences is timed: leave out --frames, or pass shorter sequences")
    frames = 10 if args.frames is None else args.frames
    if not args.gt and frames < 6:  # tecogan cuts 2 frames at each end; tOF/tLP need 2 scored frames
        raise InputError(f"--frames: expected at least 6 synthetic frames (protocol tecogan cuts 2 at each end and "
                         f"tOF/tLP need 2 scored frames), got {frames}")
    return SpeedRequest(gt=args.gt, preds=tuple(args.pred or ()), frames=frames, lpips_weights=args.lpips_weights,
                        repeat=args.repeat)


def run(args: argparse.Namespace) -> int:
    from vsrbench.speed import measure_speed

    sys.stdout.write(measure_speed(_request(args)))
    return 0
