"""``vsrbench table RESULTS``: the leaderboard of stored results (Markdown, LaTeX, CSV or HTML)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vsrbench.analysis.vocabulary import AVERAGES, CI_STYLES, SIGNIFICANT, TABLE_FORMATS as FORMATS, TESTS
from vsrbench.analysis.vocabulary import TABLE_SUFFIXES as SUFFIX_FORMATS
from vsrbench.analysis.leaderboard import TableRequest
from vsrbench.commands._options import add_metrics, add_out, add_results, add_selection, group
from vsrbench.core.errors import InputError

__all__ = [
    "NAME", "HELP", "DESCRIPTION", "EXAMPLES", "output_format", "add_arguments", "run",
]

NAME = "table"
HELP = "render the leaderboard of a results folder (Markdown, LaTeX, CSV, HTML)"
DESCRIPTION = (HELP + ". Rows are methods, columns metrics (best bold, second underlined); "
               "the caption names the protocol and the average shown.")
EXAMPLES = (
    "vsrbench table results/vid4 --metrics psnr,ssim,lpips --out table.tex",
    "vsrbench table results/vid4 --ci --against Bicubic --per-sequence",
)


def _split_names(values: list[str] | None) -> list[str] | None:
    """``["psnr,ssim", "tof"]`` -> ``["psnr", "ssim", "tof"]`` (both spellings accepted)."""
    if values is None:
        return None
    return [v.strip().lower() for item in values for v in item.split(",") if v.strip()]


def output_format(fmt: str | None, out: str | None) -> str:
    """The format asked for, else the one the --out extension names, else Markdown."""
    if fmt:
        return fmt
    if out:
        suffix = Path(out).suffix.lower()
        if suffix not in SUFFIX_FORMATS:
            raise InputError(f"--out: cannot tell the format from the extension {suffix or '(none)'!r} of {out!r}; "
                             f"use {', '.join(SUFFIX_FORMATS)} or pass --format")
        return SUFFIX_FORMATS[suffix]
    return "markdown"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results(parser)
    select = group(parser, "what is shown")
    add_selection(select, dataset="only this dataset (default: one table per dataset)",
                  protocol="only results of this protocol (name or hash); needed when they are mixed")
    add_metrics(select, help="metrics to show (default: all stored)")
    select.add_argument("--per-sequence", action="store_true",
                        help="one block of rows per sequence, then the average")
    select.add_argument("--average", choices=AVERAGES, default="seq_avg",
                        help="seq_avg = mean of per-sequence means (default); frame_avg = mean over all frames")
    select.add_argument("--reported", action="store_true",
                        help="add the numbers the authors reported (a method's reported = {...} in the benchmark "
                             "file) and the difference")
    select.add_argument("--published", action="store_true",
                        help="add the published numbers of each dataset's suite (vsrbench published), marked with a "
                             "dagger and a footnote; ranked with yours only where the convention matches")
    select.add_argument("--published-file", metavar="CSV",
                        help="with --published: read this file (the format of vsrbench published --format csv) "
                             "instead of the database shipped with vsrbench")
    stats = group(parser, "statistics")
    stats.add_argument("--ci", action="store_true",
                       help="show each dataset-level number with its clip-level bootstrap interval (reproduced "
                            "rows; see vsrbench.analysis.stats)")
    stats.add_argument("--level", type=float, default=None, help="with --ci: confidence level (default 0.95)")
    stats.add_argument("--ci-style", choices=CI_STYLES, default=None,
                       help="with --ci: pm = value ± half-width (default), bracket = value [lo, hi]")
    stats.add_argument("--against", metavar="METHOD",
                       help=f"mark with {SIGNIFICANT} the numbers that differ significantly from METHOD (paired test "
                            "over clips, Holm-adjusted over the other methods)")
    stats.add_argument("--test", choices=TESTS, default=None,
                       help="with --against: randomization (default) or bootstrap")
    stats.add_argument("--alpha", type=float, default=None, help="with --against: significance level (default 0.05)")
    stats.add_argument("--resamples", type=int, default=None,
                       help="with --ci / --against: bootstrap resamples / shuffles (default 2000)")
    stats.add_argument("--seed", type=int, default=None,
                       help="with --ci / --against: random seed; the same seed gives the same table (default 0)")
    out = group(parser, "output")
    out.add_argument("--format", choices=FORMATS, default=None,
                     help="output format (default: from the --out extension, else markdown)")
    add_out(out, metavar="FILE", help="write here (atomically) instead of printing")
    out.add_argument("--standalone", action="store_true", help="LaTeX: wrap in a compilable document")


def _statistics_options(args: argparse.Namespace) -> dict:
    """The build_tables keywords of --ci / --against; an option given without the one it belongs to is an error."""
    needs = {"level": ("--ci",), "ci_style": ("--ci",), "test": ("--against",), "alpha": ("--against",),
             "resamples": ("--ci", "--against"), "seed": ("--ci", "--against")}
    active = {"--ci": args.ci, "--against": args.against is not None}
    for name, owners in needs.items():
        if getattr(args, name) is not None and not any(active[o] for o in owners):
            flag = "--" + name.replace("_", "-")
            raise InputError(f"{flag}: only used with {' or '.join(owners)}; add {owners[0]}")
    given = {k: getattr(args, k) for k in needs if getattr(args, k) is not None}
    return {"ci": args.ci, "against": args.against, **given}


def _request(args: argparse.Namespace) -> TableRequest:
    """The :class:`TableRequest` of a command line; an option that does not fit the others is an error."""
    fmt = output_format(args.format, args.out)
    if args.standalone and fmt != "latex":
        raise InputError(f"--standalone: only used with LaTeX output (a compilable document), but the format is "
                         f"{fmt}; add --format latex (or --out FILE.tex), or leave out --standalone")
    if args.published_file and not args.published:
        raise InputError("--published-file: only used with --published; add --published")
    metrics = _split_names(args.metrics)
    return TableRequest(results=args.results, fmt=fmt, protocol=args.protocol, dataset=args.dataset,
                        metrics=None if metrics is None else tuple(metrics), average=args.average,
                        per_sequence=args.per_sequence, reported=args.reported, published=args.published,
                        published_file=args.published_file, statistics=_statistics_options(args),
                        standalone=args.standalone, out=args.out)


def run(args: argparse.Namespace) -> int:
    from vsrbench.rescore import make_table

    req = _request(args)
    text = make_table(req)
    if req.out:
        print(req.out)
    else:
        sys.stdout.write(text)
    return 0
