"""``vsrbench explain``: which convention gives this number?"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vsrbench.commands._options import add_results, alias_note, group
from vsrbench.core.errors import InputError

if TYPE_CHECKING:  # importing vsrbench.explain imports torch
    from vsrbench.explain import ExplainRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "explain"
HELP = "which convention gives this number? rank PSNR/SSIM conventions by their distance to a published value"
DESCRIPTION = (
    "Score PRED against GT under every convention that moves PSNR/SSIM (Y in float64 / float32 or RGB; crop "
    "0/4/8/scale/TecoGAN centre-32; 0 or 2 frames cut at each end or the centre frame only; SSIM window and data "
    "range; frame vs clip averaging), decoding every frame once, and list the variants closest to --target, each "
    "as the protocol preset and --set overrides that reproduce it. With several targets the ranking uses the root "
    "mean square of each difference in units of the target's last printed digit."
)


EXAMPLES = (
    "vsrbench explain --gt data/vid4/GT --pred outputs/mine --target psnr=27.38 --target ssim=0.8329",
    "vsrbench explain results/vid4 --method DUF-52L --target psnr=27.34 --suite vid4",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    inputs = group(p, "inputs", "either --gt and --pred, or RESULTS and --method")
    add_results(inputs, nargs="?", help="instead of --gt/--pred: a results folder (vsrbench run or evaluate); with "
                "--method [--dataset] it explains that stored method's outputs, read from where its run records say")
    inputs.add_argument("--results", dest="results_option", metavar="RESULTS",
                        help="the same as RESULTS" + alias_note("--results"))
    inputs.add_argument("--gt", help="ground-truth sequence or dataset")
    inputs.add_argument("--pred", help="output sequence or dataset (as vsrbench evaluate)")
    inputs.add_argument("--method", help="with RESULTS: the stored method")
    inputs.add_argument("--dataset", help="with RESULTS: the dataset (needed when the method has several)")
    inputs.add_argument("--suite", default=None,
                        help="check GT/PRED against this suite (vsrbench datasets) and mark the suite's own convention")
    inputs.add_argument("--clips-only", action="store_true",
                        help="with --suite: check the clip set only, not frame counts or sizes (a partial copy)")
    search = group(p, "what is explained")
    search.add_argument("--target", action="append", required=True, metavar="METRIC=VALUE",
                        help="the number to explain, e.g. psnr=27.38 (repeatable: --target ssim=0.8329)")
    search.add_argument("--scale", type=int, default=4,
                        help="the upscaling factor: also try crop_border=SCALE (default 4)")
    search.add_argument("--top", type=int, default=10, help="how many variants to list (default 10)")


def _request(args: argparse.Namespace) -> "ExplainRequest":
    from vsrbench.explain import ExplainRequest, parse_target

    targets = tuple(parse_target(t) for t in args.target)
    if args.results and args.results_option and args.results != args.results_option:
        raise InputError(f"two results folders: RESULTS {args.results!r} and --results {args.results_option!r}; "
                         "give one")
    return ExplainRequest(targets=targets, gt=args.gt, pred=args.pred, results=args.results or args.results_option,
                          method=args.method, dataset=args.dataset, suite=args.suite, clips_only=args.clips_only,
                          scale=args.scale, top=args.top)


def run(args: argparse.Namespace) -> int:
    from vsrbench.explain import run_explain

    sys.stdout.write(run_explain(_request(args)))
    return 0
