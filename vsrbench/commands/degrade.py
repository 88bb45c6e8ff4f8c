"""``vsrbench degrade``: make LR frames from ground truth with a named degradation (:mod:`vsrbench.degrade`)."""
from __future__ import annotations

import argparse

from vsrbench.commands._options import group
from vsrbench.degrade import DegradeRequest

__all__ = ["NAME", "HELP", "KINDS", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "degrade"
HELP = "make low-resolution frames from ground-truth frames with a named degradation"
KINDS = ("bd-tecogan", "bd-tecogan-train", "bd-duf", "bd-basicvsr", "bi-matlab", "bi-pil", "realbasicvsr")
DESCRIPTION = (
    "Write the LR version of every frame of GT (a sequence folder, a video, or a dataset folder of "
    "sequences) as PNG into OUT, mirroring the tree. Degradations (see vsrbench.baselines.degrade): "
    + ", ".join(KINDS) + ". realbasicvsr (RealBasicVSR's random second-order degradation, x4, video "
    "compression through PyAV) degrades each sequence as a clip from --seed and the sequence's name, and "
    "writes OUT/degradation.json (the label results quote, realbasicvsr[seed=N], the recipe and every "
    "clip's draws)."
)


EXAMPLES = (
    "vsrbench degrade --kind bd-tecogan data/vid4/GT data/vid4/BD_x4",
    "vsrbench degrade --kind realbasicvsr --seed 0 data/UDM10/GT data/UDM10/LQ-realbasicvsr-seed0",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("gt", metavar="GT", help="ground truth: sequence folder, video, or dataset folder")
    parser.add_argument("out", metavar="OUT", help="output folder (created; sequences become sub-folders)")
    how = group(parser, "degradation")
    how.add_argument("--kind", required=True, metavar="NAME", help="degradation: " + ", ".join(KINDS))
    how.add_argument("--scale", type=int, default=4, help="down-sampling factor (default 4)")
    how.add_argument("--seed", type=int, default=None, metavar="N",
                     help="seed of a random degradation (realbasicvsr; required there, refused elsewhere): with "
                     "each sequence's name it fixes every draw; recorded in OUT/degradation.json")


def run(args: argparse.Namespace) -> int:
    from vsrbench.degrade import degrade_frames

    degrade_frames(DegradeRequest(gt=args.gt, out=args.out, kind=args.kind, scale=args.scale,
                                  seed=args.seed))
    return 0
