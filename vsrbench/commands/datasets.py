"""``vsrbench datasets [NAME]``: the benchmark suites and the convention the literature scores each with."""
from __future__ import annotations

import argparse
import sys

from vsrbench.core.text import text_table

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "render_table", "render_suite", "run"]

NAME = "datasets"
HELP = "list the benchmark suites (Vid4, REDS4, Vimeo-90K-T, ...) and how the literature scores each"
DESCRIPTION = (
    "One row per suite: clips, frames, which frames are scored, colour, border crop, averaging and its "
    "BI/BD degradations. `vsrbench datasets NAME` shows one suite in full: its clips, folder layouts, "
    "protocol, notes and the sources of each fact. Use a suite with `suite = \"NAME\"` in a benchmark "
    "TOML dataset (the GT folder is validated against it). Nothing is downloaded."
)


EXAMPLES = (
    "vsrbench datasets",
    "vsrbench datasets vid4",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import group

    group(parser, "what is listed").add_argument("name", nargs="?", metavar="NAME", help="one suite to show in full")


def _row(s) -> tuple[str, ...]:
    p = s.protocol()
    crop = "centre/32" if p.crop == "center32" else str(p.crop_border)
    scored = "centre" if s.frames_scored == "center" else ("all" if not p.cut_frames else f"all-{p.cut_frames}/end")
    return (s.name, "?" if s.n_clips is None else str(s.n_clips), "?" if s.n_frames is None else str(s.n_frames),
            scored, p.color.upper(), crop, p.average, p.name, ", ".join(s.degradations))


def render_table(suites) -> str:
    header = ("SUITE", "CLIPS", "FRAMES", "SCORED", "COLOUR", "CROP", "AVERAGE", "PROTOCOL", "DEGRADATIONS")
    return "\n".join(text_table([_row(s) for s in suites], header=header)) + "\n"


def render_suite(s) -> str:
    p = s.protocol()
    lines = [f"{s.name}: {s.title}",
             f"  convention: {s.convention()}  [hash {p.hash}]",
             f"  frames scored: {s.frames_scored}",
             f"  degradations: {', '.join(s.degradations) or '-'}"]
    if s.sequences:
        lines.append(f"  clips: {len(s.sequences)}" + ("" if s.n_frames is None else f", {s.n_frames} frames"))
        for q in s.sequences[:12]:
            size = f"  {q.size[0]}x{q.size[1]} (HxW)" if q.size else ""
            lines.append(f"    {q.name}  {q.frames if q.frames is not None else '?'} frames{size}")
        if len(s.sequences) > 12:
            lines.append(f"    ... {len(s.sequences) - 12} more (the full list ships with vsrbench)")
    elif s.clip_count:
        lines.append(f"  clips: {s.clip_count} (names not known here: only the count is validated)")
    else:
        lines.append("  clips: not known here (not validated)")
    if s.layouts:
        lines.append("  layouts:")
        for lay in s.layouts:
            lines.append(f"    {lay.name}: {lay.frame_name(0)}, {lay.frame_name(1)}, ...  ({lay.source})")
    lines += ["  notes:"] + [f"    - {n}" for n in s.notes]
    lines += ["  sources:"] + [f"    - {src}" for src in s.sources]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from vsrbench.catalog.suites import SUITES, get_suite

    if args.name:
        sys.stdout.write(render_suite(get_suite(args.name)))
    else:
        sys.stdout.write(render_table(SUITES.values()))
    return 0
