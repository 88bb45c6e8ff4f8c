"""``vsrbench explain``: which convention gives this number?"""
from __future__ import annotations

import argparse
import sys

from vsrbench.commands._options import add_results, alias_note, group
from vsrbench.core.errors import InputError

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


def run(args) -> int:
    from vsrbench.core.progress import Progress
    from vsrbench.explain import explain, format_table, parse_target
    from vsrbench.core.io import open_dataset, pair_datasets

    targets = [parse_target(t) for t in args.target]
    if args.results and args.results_option and args.results != args.results_option:
        raise InputError(f"two results folders: RESULTS {args.results!r} and --results {args.results_option!r}; "
                         "give one")
    args.results = args.results or args.results_option
    if args.results:
        from vsrbench.explain import inputs_from_results

        if args.gt or args.pred:
            raise InputError("give either --results (with --method) or --gt and --pred, not both")
        if not args.method:
            raise InputError("--results needs --method NAME (the stored method to explain)")
        gt, pred, recorded_suite = inputs_from_results(args.results, args.method, args.dataset)
        args.gt, args.pred = str(gt), str(pred)
        if not args.suite and recorded_suite:  # checked when it was stored: check the clip set again
            args.suite, args.clips_only = recorded_suite, True
        print(f"explaining {args.method}: GT {args.gt}, outputs {args.pred}"
              + (f", suite {args.suite}" if args.suite else ""), file=sys.stderr)
    elif not (args.gt and args.pred):
        raise InputError("give --gt and --pred (or --results RESULTS --method NAME)")
    elif args.method or args.dataset:
        raise InputError("--method/--dataset go with --results; leave them out with --gt/--pred")
    if args.top < 1:
        raise InputError(f"--top: expected a positive number of rows, got {args.top}")
    if args.scale < 1:
        raise InputError(f"--scale: expected a positive upscaling factor, got {args.scale}")
    suite, suite_protocol = None, None
    if args.suite:
        from vsrbench.catalog.suites import get_suite

        suite = get_suite(args.suite)
        suite_protocol = suite.protocol()
        check = suite.validate(args.gt, args.pred, strict=not args.clips_only)
        print(check.summary(), file=sys.stderr)
        pairs = check.pairs()
    elif args.clips_only:
        raise InputError("--clips-only applies to --suite only; add --suite NAME or leave it out")
    else:
        pairs = pair_datasets(open_dataset(args.gt), open_dataset(args.pred))
    warn = lambda text: print(f"vsrbench explain: warning: {text}", file=sys.stderr)  # noqa: E731
    with Progress(sum(len(g) for g, _ in pairs), "explain") as prog:
        ex = explain(pairs, targets, scale=args.scale, suite_protocol=suite_protocol, progress=prog.update, warn=warn)
    print(f"{len(ex.rows)} variants scored on {len(ex.clips)} clip(s), {ex.n_frames} frames; "
          f"closest to {', '.join(t.text for t in targets)} first")
    print(format_table(ex, args.top))
    if suite is not None:
        r = ex.suite_row
        if r is None:
            print(f"suite {suite.name} convention ({suite.convention()}): not among the variants scored")
        else:
            vals = ", ".join(f"{t.metric} {r.values[t.metric]:.{3 if t.metric == 'psnr' else 5}f}" for t in targets)
            print(f"suite {suite.name} convention ({suite.convention()}): rank {ex.rows.index(r) + 1} of "
                  f"{len(ex.rows)}, {vals}")
    return 0
