"""``vsrbench figure crops RESULTS --dataset D --sequence S --out fig.pdf``: a paper crop-comparison figure."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from vsrbench.analysis.vocabulary import FIGURE_KINDS as KINDS, FIGURE_LAYOUTS as LAYOUTS
from vsrbench.commands._options import add_out, add_results, add_selection, group

if TYPE_CHECKING:  # importing vsrbench.visual.figures imports matplotlib
    from vsrbench.visual.figures import FigureRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "figure"
HELP = "draw a paper figure from a results folder: crops (GT frame with a box, zoomed crops of GT, LR and each method)"
DESCRIPTION = (HELP + ". Crops are nearest-neighbour zooms, each titled with the method and its score on that frame; "
               "without --frame/--box the frame and region where the methods differ most are chosen, and the "
               "options that reproduce the choice are printed on stderr.")


EXAMPLES = (
    "vsrbench figure crops results/vid4 --dataset vid4 --sequence calendar --out crops.pdf",
    "vsrbench figure crops results/vid4 --dataset vid4 --sequence city --frame 10 --box 100,60,40,40 "
    "--methods DUF-52L,Bicubic --layout two-column --out crops.png",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", metavar="KIND", help=f"the figure: {', '.join(KINDS)}")
    add_results(parser)
    select = group(parser, "what is shown")
    select.add_argument("--dataset", required=True, help="stored dataset")
    select.add_argument("--sequence", required=True, help="stored sequence of the dataset")
    select.add_argument("--frame", type=int, metavar="N", help="0-based index of a scored frame "
                        "(default: the frame where the methods differ most)")
    select.add_argument("--box", metavar="X,Y,W,H", help="crop in pixels of the GT frame "
                        "(default: the region where the methods differ most, 1/6 of the shorter side)")
    select.add_argument("--methods", metavar="A,B,...", help="methods, in this order (default: every stored one)")
    select.add_argument("--metric", help="score in the titles (default: lpips when stored, else psnr)")
    add_selection(select, protocol="only results of this protocol (name or hash); needed when they are mixed")
    select.add_argument("--lr", metavar="DIR", help="LR frames for the LR panel (a folder of the sequence's frames or "
                        "of the dataset's sequences), e.g. for an evaluate folder, which records none")
    out = group(parser, "output")
    out.add_argument("--layout", default="one-column", help=f"{' or '.join(LAYOUTS)} "
                     "(3.3 in or 6.9 in wide; default: one-column)")
    add_out(out, metavar="FILE", required=True, help="figure file: .pdf or .png")


def _request(args: argparse.Namespace) -> "FigureRequest":
    from vsrbench.core.errors import InputError, UnknownNameError
    from vsrbench.visual.figures import FigureRequest, parse_box

    if args.kind not in KINDS:
        raise UnknownNameError("figure kind", args.kind, KINDS)
    if not args.out.lower().endswith((".pdf", ".png")):
        raise InputError(f"--out {args.out!r}: expected a file ending in .pdf or .png, e.g. --out crops.pdf")
    box = parse_box(args.box) if args.box is not None else None
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip()) if args.methods else None
    return FigureRequest(results=args.results, dataset=args.dataset, sequence=args.sequence, out=args.out,
                         frame=args.frame, box=box, methods=methods, metric=args.metric, layout=args.layout,
                         protocol=args.protocol, lr=args.lr)


def run(args: argparse.Namespace) -> int:
    from vsrbench.visual.figures import make_figure

    print(make_figure(_request(args)))
    return 0
