"""``vsrbench profile``: temporal profiles (x-t slices) of GT and methods, side by side."""
from __future__ import annotations

import argparse

from vsrbench.commands._options import add_out, group
from vsrbench.visual.profiles import ProfileRequest

__all__ = ["NAME", "HELP", "EXAMPLES", "add_arguments", "run"]

NAME = "profile"
HELP = "render temporal profiles (x-t slices) of GT and one or more outputs side by side"


EXAMPLES = (
    "vsrbench profile --gt data/vid4/GT/calendar --pred outputs/duf/calendar --out calendar.png",
    "vsrbench profile --gt GT/city --pred A/city --pred B/city --label A --label B --row 120 --window 100:260 "
    "--out city.pdf",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    inputs = group(p, "sequences")
    inputs.add_argument("--gt", required=True, help="ground-truth sequence (folder of frames or video)")
    inputs.add_argument("--pred", required=True, action="append", help="an output sequence (repeatable)")
    inputs.add_argument("--label", action="append", default=[],
                        help="label of each --pred, in order (default: folder name)")
    slice_ = group(p, "the slice")
    where = slice_.add_mutually_exclusive_group()
    where.add_argument("--row", type=int, help="pixel row y (default: the GT row with the most temporal change)")
    where.add_argument("--col", type=int, help="pixel column x instead of a row")
    slice_.add_argument("--window", default=None, metavar="START:STOP",
                        help="spatial window along the slice, e.g. 100:260")
    out = group(p, "output")
    out.add_argument("--zoom", type=int, default=5,
                     help="height of one frame in each strip, in points (pixel replication; default 5)")
    add_out(out, metavar="FILE", required=True, help="output file (.png or .pdf)")


def _request(args: argparse.Namespace) -> ProfileRequest:
    return ProfileRequest(gt=args.gt, preds=tuple(args.pred), out=args.out, labels=tuple(args.label), row=args.row,
                          col=args.col, window=args.window, zoom=args.zoom)


def run(args: argparse.Namespace) -> int:
    from vsrbench.visual.profiles import draw_profiles

    print(draw_profiles(_request(args)))
    return 0
