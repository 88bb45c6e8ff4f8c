"""Temporal profiles (x-t slices) of GT and outputs side by side, from frame folders: what
``vsrbench profile`` draws, in one request.

A profile stacks one pixel row (or column) of every frame (:func:`vsrbench.metrics.profile.temporal_profile`);
flicker and jitter show up as broken lines. The outputs' frames pair with GT's by the number in their
names; an output larger than GT is cut (top-left kept), as the tecogan protocol scores it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from vsrbench.core.errors import InputError, VsrbenchWarning

__all__ = ["ProfileRequest", "draw_profiles"]


@dataclass(frozen=True)
class ProfileRequest:
    """The profiles of ``gt`` and each of ``preds`` (labelled ``labels``, default: their folder
    names) at pixel ``row`` (default: the GT row with the most temporal change) or ``col``, within
    ``window`` (``START:STOP`` along the slice), ``zoom`` points per frame, written to ``out``
    (``.png`` or ``.pdf``)."""

    gt: str
    preds: tuple[str, ...]
    out: str
    labels: tuple[str, ...] = ()
    row: int | None = None
    col: int | None = None
    window: str | None = None
    zoom: int = 5


def draw_profiles(request: ProfileRequest) -> str:
    """Draw ``request`` into its ``out`` file; returns the line that says what was written."""
    from vsrbench.core.io import open_sequence, pair_frames
    from vsrbench.visual.plots import method_colors, plot_profiles, save_figure

    r = request
    out = Path(r.out)
    if out.suffix.lower() not in (".png", ".pdf"):
        raise InputError(f"--out {r.out!r}: expected a .png or .pdf file name")
    if r.zoom < 1:
        raise InputError(f"--zoom: expected a positive number of points per frame, got {r.zoom}")
    gt = open_sequence(r.gt)
    preds = [open_sequence(p) for p in r.preds]
    if r.labels and len(r.labels) != len(preds):
        raise InputError(f"{len(r.labels)} --label given for {len(preds)} --pred")
    # frames pair by the number in their names (a different count is refused below, in this command's words)
    preds = [pair_frames(gt, seq).aligned() if len(seq) == len(gt) else seq for seq in preds]
    labels = list(r.labels) or _labels([Path(p) for p in r.preds])
    window = _window(r.window)
    gt_frames = list(gt)
    h, w = gt_frames[0].shape[:2]
    _same_size(gt, gt_frames, (h, w))
    pos, where = _position(r, gt, gt_frames, (h, w))
    if window:
        length, axis = (h, "column") if r.col is not None else (w, "row")
        if window[1] > length:
            raise InputError(f"--window {r.window}: STOP {window[1]} is past the end of the {axis} "
                             f"({length} pixels); expected START:STOP with 0 <= START < STOP <= {length}")
    profiles = _profiles(gt, gt_frames, list(zip(labels, preds)), pos, (h, w))
    if window:
        a, b = window
        profiles = {k: v[:, a:b] for k, v in profiles.items()}
        where += f", pixels {a}..{b}"
    fig = plot_profiles(profiles, method_colors(labels), title=f"{gt.name}: temporal profiles ({where})",
                        where=where, min_row_px=r.zoom)
    save_figure(fig, out.parent, out.stem, (out.suffix.lower()[1:],))
    return f"wrote {out} ({where.replace(' = ', '=')}, {len(gt)} frames, {len(profiles)} panels)"


def _position(r: ProfileRequest, gt, gt_frames, hw: tuple[int, int]) -> tuple[dict, str]:
    """The slice's keyword for :func:`temporal_profile` and its words (``row y = 120``), checked against the frames."""
    from vsrbench.metrics.profile import default_profile_row

    h, w = hw
    if r.col is not None:
        _inside("--col", r.col, w, f"columns 0..{w - 1} of the {w}x{h} GT frames")
        return dict(col=r.col), f"column x = {r.col}"
    if r.row is None and len(gt_frames) < 2:
        raise InputError(f"{gt.source}: 1 frame; the default row (the most temporal change) needs at least 2, "
                         "give --row or --col")
    if r.row is not None:
        _inside("--row", r.row, h, f"rows 0..{h - 1} of the {w}x{h} GT frames")
    row = default_profile_row(gt_frames) if r.row is None else r.row
    return dict(row=row), f"row y = {row}"


def _profiles(gt, gt_frames, preds: list[tuple[str, object]], pos: dict, hw: tuple[int, int]) -> dict:
    """label -> profile, GT first; each output checked for its frame count and size (cut to GT's)."""
    from vsrbench.metrics._kernels import size_rule_note
    from vsrbench.metrics.profile import temporal_profile

    h, w = hw
    profiles = {"GT": temporal_profile(gt_frames, **pos)}
    for label, seq in preds:
        if len(seq) != len(gt):
            raise InputError(f"{seq.source}: {len(seq)} frames, GT has {len(gt)}")
        frames = list(seq)
        fh, fw = frames[0].shape[:2]
        note = size_rule_note((fh, fw), (h, w), "crop-pred")
        if note:  # an output larger than GT is cut (top-left kept), as the tecogan protocol scores it
            warnings.warn(f"{seq.source}: {note}", VsrbenchWarning, stacklevel=3)
        frames = [f[:h, :w] for f in frames]
        if frames[0].shape[:2] != (h, w):
            raise InputError(f"{seq.source}: frames are {frames[0].shape[1]}x{frames[0].shape[0]}, GT is {w}x{h}")
        _same_size(seq, frames, (h, w))
        profiles[label] = temporal_profile(frames, **pos)
    return profiles


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
