"""``vsrbench profile``: temporal profiles (x-t slices) of GT and methods, side by side."""
from __future__ import annotations

import argparse
from pathlib import Path

NAME = "profile"
HELP = "render temporal profiles (x-t slices) of GT and one or more outputs side by side"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gt", required=True, help="ground-truth sequence (folder of frames or video)")
    p.add_argument("--pred", required=True, action="append", help="an output sequence (repeatable)")
    p.add_argument("--label", action="append", default=[], help="label of each --pred, in order (default: folder name)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--row", type=int, help="pixel row y (default: the GT row with the most temporal change)")
    where.add_argument("--col", type=int, help="pixel column x instead of a row")
    p.add_argument("--zoom", type=int, default=4, help="pixel replication factor (default 4)")
    p.add_argument("--window", default=None, metavar="START:STOP", help="spatial window along the slice, e.g. 100:260")
    p.add_argument("--out", required=True, help="output PNG")


def run(args) -> int:
    from vsrbench.errors import InputError
    from vsrbench.io import open_sequence
    from vsrbench.metrics.profile import default_profile_row, render_profiles, temporal_profile

    gt = open_sequence(args.gt)
    preds = [open_sequence(p) for p in args.pred]
    if args.label and len(args.label) != len(preds):
        raise InputError(f"{len(args.label)} --label given for {len(preds)} --pred")
    labels = args.label or _labels([Path(p) for p in args.pred])
    gt_frames = list(gt)
    h, w = gt_frames[0].shape[:2]
    if args.col is not None:
        pos = dict(col=args.col)
    else:
        pos = dict(row=default_profile_row(gt_frames) if args.row is None else args.row)
    profiles = {"GT": temporal_profile(gt_frames, **pos)}
    for label, seq in zip(labels, preds):
        if len(seq) != len(gt):
            raise InputError(f"{seq.source}: {len(seq)} frames, GT has {len(gt)}")
        frames = [f[:h, :w] for f in seq]  # an output larger than GT is cut (top-left kept)
        if frames[0].shape[:2] != (h, w):
            raise InputError(f"{seq.source}: frames are {frames[0].shape[1]}x{frames[0].shape[0]}, GT is {w}x{h}")
        profiles[label] = temporal_profile(frames, **pos)
    window = None
    if args.window:
        try:
            a, b = (int(x) for x in args.window.split(":"))
        except ValueError:
            raise InputError(f"--window {args.window!r} is not START:STOP") from None
        window = (a, b)
    where = f"row y={pos['row']}" if "row" in pos else f"column x={pos['col']}"
    render_profiles(profiles, args.out, zoom=args.zoom, window=window, title=f"{gt.name}: temporal profile at {where}")
    print(f"wrote {args.out} ({where}, {len(gt)} frames, {len(profiles)} panels)")
    return 0


def _labels(paths: list[Path]) -> list[str]:
    names = [p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    return [f"{p.parent.name}/{p.name}" for p in paths]
