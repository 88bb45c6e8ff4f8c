"""``vsrbench profile``: temporal profiles (x-t slices) of GT and methods, side by side."""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from vsrbench.commands._options import add_out, group
from vsrbench.core.errors import InputError, VsrbenchWarning

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


def run(args) -> int:
    from vsrbench.core.io import open_sequence, pair_frames
    from vsrbench.metrics._kernels import size_rule_note
    from vsrbench.metrics.profile import default_profile_row, temporal_profile
    from vsrbench.visual.plots import method_colors, plot_profiles, save_figure

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".pdf"):
        raise InputError(f"--out {args.out!r}: expected a .png or .pdf file name")
    if args.zoom < 1:
        raise InputError(f"--zoom: expected a positive number of points per frame, got {args.zoom}")
    gt = open_sequence(args.gt)
    preds = [open_sequence(p) for p in args.pred]
    if args.label and len(args.label) != len(preds):
        raise InputError(f"{len(args.label)} --label given for {len(preds)} --pred")
    # frames pair by the number in their names (a different count is refused below, in this command's words)
    preds = [pair_frames(gt, seq).aligned() if len(seq) == len(gt) else seq for seq in preds]
    labels = args.label or _labels([Path(p) for p in args.pred])
    window = _window(args.window)
    gt_frames = list(gt)
    h, w = gt_frames[0].shape[:2]
    _same_size(gt, gt_frames, (h, w))
    if args.col is not None:
        _inside("--col", args.col, w, f"columns 0..{w - 1} of the {w}x{h} GT frames")
        pos, where = dict(col=args.col), f"column x = {args.col}"
    else:
        if args.row is None and len(gt_frames) < 2:
            raise InputError(f"{gt.source}: 1 frame; the default row (the most temporal change) needs at least 2, "
                             "give --row or --col")
        if args.row is not None:
            _inside("--row", args.row, h, f"rows 0..{h - 1} of the {w}x{h} GT frames")
        row = default_profile_row(gt_frames) if args.row is None else args.row
        pos, where = dict(row=row), f"row y = {row}"
    if window:
        length, axis = (h, "column") if args.col is not None else (w, "row")
        a, b = window
        if b > length:
            raise InputError(f"--window {args.window}: STOP {b} is past the end of the {axis} "
                             f"({length} pixels); expected START:STOP with 0 <= START < STOP <= {length}")
    profiles = {"GT": temporal_profile(gt_frames, **pos)}
    for label, seq in zip(labels, preds):
        if len(seq) != len(gt):
            raise InputError(f"{seq.source}: {len(seq)} frames, GT has {len(gt)}")
        frames = list(seq)
        fh, fw = frames[0].shape[:2]
        note = size_rule_note((fh, fw), (h, w), "crop-pred")
        if note:  # an output larger than GT is cut (top-left kept), as the tecogan protocol scores it
            warnings.warn(f"{seq.source}: {note}", VsrbenchWarning, stacklevel=2)
        frames = [f[:h, :w] for f in frames]
        if frames[0].shape[:2] != (h, w):
            raise InputError(f"{seq.source}: frames are {frames[0].shape[1]}x{frames[0].shape[0]}, GT is {w}x{h}")
        _same_size(seq, frames, (h, w))
        profiles[label] = temporal_profile(frames, **pos)
    if window:
        a, b = window
        profiles = {k: v[:, a:b] for k, v in profiles.items()}
        where += f", pixels {a}..{b}"
    fig = plot_profiles(profiles, method_colors(labels), title=f"{gt.name}: temporal profiles ({where})",
                        where=where, min_row_px=args.zoom)
    save_figure(fig, out.parent, out.stem, (out.suffix.lower()[1:],))
    print(f"wrote {out} ({where.replace(' = ', '=')}, {len(gt)} frames, {len(profiles)} panels)")
    return 0


def _window(text: str | None) -> tuple[int, int] | None:
    """``START:STOP`` -> (start, stop), checked for order (the frame size is checked later)."""
    if not text:
        return None
    try:
        a, b = (int(x) for x in text.split(":"))
    except ValueError:
        raise InputError(f"--window {text!r} is not START:STOP") from None
    if a < 0 or b <= a:
        raise InputError(f"--window {text}: expected START:STOP with 0 <= START < STOP (pixels along the slice), "
                         f"got START={a}, STOP={b}")
    return a, b


def _inside(option: str, value: int, size: int, what: str) -> None:
    if not 0 <= value < size:
        raise InputError(f"{option} {value} is outside the frames: expected {what}")


def _same_size(seq, frames, hw: tuple[int, int]) -> None:
    """Every frame of a sequence must have one size (after the cut), or the slices cannot be stacked."""
    for i, f in enumerate(frames):
        if f.shape[:2] != hw:
            raise InputError(f"{seq.source}: frame {i} ({seq.frame_name(i)}) is {f.shape[1]}x{f.shape[0]} but frame 0 "
                             f"is {hw[1]}x{hw[0]}: the frames of a sequence must have one size")


def _labels(paths: list[Path]) -> list[str]:
    names = [p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    return [f"{p.parent.name}/{p.name}" for p in paths]
