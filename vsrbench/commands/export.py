"""``vsrbench export RESULTS --format csv|json --out FILE``: per-frame results as a file."""
from __future__ import annotations

import argparse

from vsrbench.commands._options import add_out, add_results, add_selection, group
from vsrbench.results.export import EXPORT_FORMATS, ExportRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "export"
HELP = "export stored per-frame results as CSV or JSON"
DESCRIPTION = (
    "Write every per-frame result of RESULTS (method, dataset, sequence, frame, frame_name, metric, "
    "value, protocol, protocol_hash, metric_version) to FILE, atomically. JSON also holds the run "
    "records; its non-finite values are the strings \"Infinity\", \"-Infinity\", \"NaN\"."
)


EXAMPLES = (
    "vsrbench export results/vid4 --out frames.csv",
    "vsrbench export results/vid4 --format json --out results.json --protocol tecogan",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results(parser)
    add_selection(group(parser, "what is exported"), protocol="only this protocol (default: all)")
    out = group(parser, "output")
    add_out(out, metavar="FILE", required=True, help="the file to write")
    out.add_argument("--format", choices=EXPORT_FORMATS, help="default: from the extension of --out")


def _request(args: argparse.Namespace) -> ExportRequest:
    return ExportRequest(results=args.results, out=args.out, fmt=args.format, protocol=args.protocol)


def run(args: argparse.Namespace) -> int:
    from vsrbench.results.export import export

    n = export(_request(args))
    print(f"wrote {n} row(s) to {args.out}")
    return 0
