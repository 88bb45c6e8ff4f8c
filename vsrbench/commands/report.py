"""``vsrbench report RESULTS --out site/``: a self-contained static HTML report (open index.html from disk)."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vsrbench.analysis.vocabulary import AVERAGES
from vsrbench.commands._options import add_metrics, add_out, add_results, add_selection, alias_note, group

if TYPE_CHECKING:
    from vsrbench.visual.report import ReportRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "report"
HELP = "write a static HTML report of a results folder (leaderboard, per-frame curves, profiles, frame viewer)"
DESCRIPTION = (HELP + ". The folder opens from disk (no server, no network): sortable leaderboard, per-frame "
               "curves whose points open the frame, temporal profiles, and a viewer with GT and the methods side "
               "by side at native pixels (frames stored at full resolution, shown 1:1 or zoomed 2x/4x/8x "
               "nearest-neighbour; one pan for every panel; left/right or j/k flip the method).")


EXAMPLES = (
    "vsrbench report results/vid4 --out site/ --published --viewer-frames 8 --no-profiles",
    "vsrbench report results/reds --out site/ --max-frames 24",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results(parser)
    select = group(parser, "what is shown")
    add_metrics(select, help="metrics to show (default: all stored)")
    select.add_argument("--average", choices=AVERAGES, default="seq_avg",
                        help="average of the leaderboard: seq_avg = mean of per-sequence means (default)")
    add_selection(select, dataset="only this dataset",
                  protocol="only results of this protocol (name or hash); needed when they are mixed")
    select.add_argument("--published", action="store_true",
                        help="add the published numbers of each dataset's suite to the leaderboard (as vsrbench "
                             "table --published)")
    select.add_argument("--published-file", metavar="CSV", help="with --published: read this file instead")
    out = group(parser, "output")
    add_out(out, metavar="DIR", required=True,
            help="folder for the report (created; a folder holding an earlier report is rewritten)")
    out.add_argument("--viewer-frames", "--frames", dest="frames", type=int, default=4, metavar="N",
                     help="frames per sequence written for the viewer, evenly spread (default 4; 0: all); each is a "
                          "full-resolution PNG per method (a 720x576 Vid4 frame: about 0.6 MiB)"
                          + alias_note("--frames"))
    out.add_argument("--max-frames", type=int, default=0, metavar="N",
                     help="at most N viewer frames in the whole report, shared evenly among the sequences (default 0: "
                          "no cap); frames are never downscaled, so this and --viewer-frames limit the size")
    out.add_argument("--width", type=int, help=argparse.SUPPRESS)  # removed: a one-line error says what to use
    out.add_argument("--no-profiles", action="store_true", help="leave the temporal profiles out")


def _request(args: argparse.Namespace) -> "ReportRequest":
    from vsrbench.core.errors import InputError
    from vsrbench.visual.report import ReportRequest

    if args.published_file and not args.published:
        raise InputError("--published-file: only used with --published; add --published")
    if args.width is not None:
        raise InputError("--width: removed; the viewer shows frames at full resolution (native pixels), "
                         "make the report smaller with --viewer-frames N or --max-frames N")
    return ReportRequest(results=args.results, out=args.out, protocol=args.protocol, dataset=args.dataset,
                         metrics=None if args.metrics is None else tuple(args.metrics), average=args.average,
                         published=args.published, published_file=args.published_file,
                         frames=args.frames, max_frames=args.max_frames, profiles=not args.no_profiles)


def run(args: argparse.Namespace) -> int:
    from vsrbench.visual.report import make_report

    report = make_report(_request(args), warn=lambda line: sys.stderr.write(f"vsrbench report: {line}\n"))
    print(report.size_line())
    return 0
