"""``vsrbench export RESULTS --format csv|json --out FILE``: per-frame results as a file."""
from __future__ import annotations

import argparse

from vsrbench.results.export import EXPORT_FORMATS

NAME = "export"
HELP = "export stored per-frame results as CSV or JSON"
DESCRIPTION = (
    "Write every per-frame result of RESULTS (method, dataset, sequence, frame, frame_name, metric, "
    "value, protocol, protocol_hash, metric_version) to FILE, atomically. JSON also holds the run "
    "records; its non-finite values are the strings \"Infinity\", \"-Infinity\", \"NaN\"."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", metavar="RESULTS", help="results folder (holding results.sqlite, "
                        "or with one sub-folder that does)")
    parser.add_argument("--format", choices=EXPORT_FORMATS, help="default: from the extension of --out")
    parser.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    parser.add_argument("--protocol", metavar="NAME|HASH", help="only this protocol (default: all)")


def run(args: argparse.Namespace) -> int:
    from vsrbench.results.export import export_results
    from vsrbench.results.store import find_results_dir

    n = export_results(find_results_dir(args.results), args.out, fmt=args.format, protocol=args.protocol)
    print(f"wrote {n} row(s) to {args.out}")
    return 0
