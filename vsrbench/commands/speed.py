"""``vsrbench speed``: time the one-pass TecoGAN evaluation against the straightforward loop."""
from __future__ import annotations

import argparse
import sys
import tempfile

from vsrbench.commands._options import group

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


def run(args) -> int:
    from vsrbench.speed import time_pipelines, synthetic_pair, write_random_backbone
    from vsrbench.core.errors import InputError
    from vsrbench.core.io import open_sequence
    from vsrbench.metrics.lpips import backbone_missing

    if bool(args.gt) != bool(args.pred):
        raise InputError("give both --gt and --pred, or neither (synthetic frames)")
    if args.repeat < 1:
        raise InputError(f"--repeat: expected a number of runs of at least 1, got {args.repeat}")
    if args.gt and args.frames is not None:
        raise InputError(f"--frames {args.frames}: only sets the number of synthetic frames; with --gt/--pred every "
                         "frame of the given sequences is timed: leave out --frames, or pass shorter sequences")
    if args.frames is None:
        args.frames = 10
    if not args.gt and args.frames < 6:  # tecogan cuts 2 frames at each end; tOF/tLP need 2 scored frames
        raise InputError(f"--frames: expected at least 6 synthetic frames (protocol tecogan cuts 2 at each end and "
                         f"tOF/tLP need 2 scored frames), got {args.frames}")
    if args.gt:
        gt, preds = open_sequence(args.gt), [open_sequence(p) for p in args.pred]
        what = f"{gt.source} vs {', '.join(p.source for p in preds)}"
    else:
        gt, pred = synthetic_pair(args.frames)
        preds, what = [pred], f"{args.frames} synthetic 720x576 frames"
    weights = args.lpips_weights
    with tempfile.TemporaryDirectory(prefix="vsrbench-speed-") as tmp:  # removed afterwards
        if weights is None and backbone_missing():  # a file that is there but unusable is reported instead
            weights = str(write_random_backbone(tmp))
            print("note: no AlexNet backbone found; timing with a seeded random one", file=sys.stderr)
        r = time_pipelines(gt, preds, lpips_weights=weights, repeat=args.repeat)
    print(f"{what}: {r.frames} scored frames ({len(preds)} output(s)), metrics psnr,ssim,lpips,tof,tlp "
          "(protocol tecogan, CPU)")
    print(f"  straightforward loop : {r.reference_s:7.2f} s  ({r.frames / r.reference_s:5.2f} frames/s)")
    print(f"  vsrbench one-pass    : {r.fast_s:7.2f} s  ({r.frames / r.fast_s:5.2f} frames/s)")
    print(f"  speed-up             : {r.speedup:.2f}x")
    print("  max |difference|     : " + ", ".join(f"{m} {d:.1e}" for m, d in r.max_abs_diff.items()))
    return 0
