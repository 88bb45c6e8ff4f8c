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
    p.add_argument("--zoom", type=int, default=5,
                   help="height of one frame in each strip, in points (pixel replication; default 5)")
    p.add_argument("--window", default=None, metavar="START:STOP", help="spatial window along the slice, e.g. 100:260")
    p.add_argument("--out", required=True, help="output file (.png or .pdf)")


def run(args) -> int:
    from vsrbench.core.errors import InputError
    from vsrbench.io import open_sequence
    from vsrbench.metrics.profile import default_profile_row, temporal_profile
    from vsrbench.plots import method_colors, plot_profiles, save_figure

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".pdf"):
        raise InputError(f"--out {args.out!r}: expected a .png or .pdf file name")
    if args.zoom < 1:
        raise InputError(f"--zoom: expected a positive number of points per frame, got {args.zoom}")
    gt = open_sequence(args.gt)
    preds = [open_sequence(p) for p in args.pred]
    if args.label and len(args.label) != len(preds):
        raise InputError(f"{len(args.label)} --label given for {len(preds)} --pred")
    labels = args.label or _labels([Path(p) for p in args.pred])
    gt_frames = list(gt)
    h, w = gt_frames[0].shape[:2]
    if args.col is not None:
        pos, where = dict(col=args.col), f"column x = {args.col}"
    else:
        row = default_profile_row(gt_frames) if args.row is None else args.row
        pos, where = dict(row=row), f"row y = {row}"
    profiles = {"GT": temporal_profile(gt_frames, **pos)}
    for label, seq in zip(labels, preds):
        if len(seq) != len(gt):
            raise InputError(f"{seq.source}: {len(seq)} frames, GT has {len(gt)}")
        frames = [f[:h, :w] for f in seq]  # an output larger than GT is cut (top-left kept)
        if frames[0].shape[:2] != (h, w):
            raise InputError(f"{seq.source}: frames are {frames[0].shape[1]}x{frames[0].shape[0]}, GT is {w}x{h}")
        profiles[label] = temporal_profile(frames, **pos)
    if args.window:
        try:
            a, b = (int(x) for x in args.window.split(":"))
        except ValueError:
            raise InputError(f"--window {args.window!r} is not START:STOP") from None
        profiles = {k: v[:, a:b] for k, v in profiles.items()}
        where += f", pixels {a}..{b}"
    fig = plot_profiles(profiles, method_colors(labels), title=f"{gt.name}: temporal profiles ({where})",
                        where=where, min_row_px=args.zoom)
    save_figure(fig, out.parent, out.stem, (out.suffix.lower()[1:],))
    print(f"wrote {out} ({where.replace(' = ', '=')}, {len(gt)} frames, {len(profiles)} panels)")
    return 0


def _labels(paths: list[Path]) -> list[str]:
    names = [p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    return [f"{p.parent.name}/{p.name}" for p in paths]
