"""``vsrbench weights``: the known weights files, and their explicit download.

``vsrbench weights list`` shows every known file (the LPIPS backbones, and the checkpoints of the
built-in models), how it is checked and whether it is present locally. ``vsrbench weights
download NAME`` fetches one from the URL its authors publish into the vsrbench weights folder and
verifies it (see :mod:`vsrbench.catalog.weights`). Nothing else in vsrbench ever downloads anything.
"""
from __future__ import annotations

import argparse
import sys

from vsrbench.catalog.weights import WeightsRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "weights"
HELP = "list the known weights files, or download one explicitly (vsrbench weights download NAME)"
DESCRIPTION = (
    "list: every known weights file (LPIPS backbones, built-in models' checkpoints), how it is verified and "
    "whether it is present. download NAME: fetch it from its published URL into $VSRBENCH_HOME (default "
    "~/.cache/vsrbench), resuming a partial download, verify its sha256 where known, and print where it went. "
    "Nothing is ever downloaded implicitly."
)


EXAMPLES = (
    "vsrbench weights list",
    "vsrbench weights download lpips-alex",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import HelpFormatter, epilog, group

    sub = p.add_subparsers(title="actions", dest="action", metavar="ACTION", parser_class=type(p))
    sub.add_parser("list", help="the known weights files and whether they are present", formatter_class=HelpFormatter,
                   epilog=epilog(EXAMPLES[:1]))
    d = sub.add_parser("download", help="fetch one known weights file from its published URL (explicit, opt-in)",
                       formatter_class=HelpFormatter, epilog=epilog(EXAMPLES[1:]))
    d.add_argument("name", help="e.g. lpips-alex, enet, duf-16l (see `vsrbench weights list`)")
    how = group(d, "download")
    how.add_argument("--url", default=None, help="download from this URL instead of the published one (a mirror); "
                     "the file is verified the same way")
    how.add_argument("--force", action="store_true", help="download again even when the file is already present")


def _request(args: argparse.Namespace) -> WeightsRequest:
    if args.action == "download":
        return WeightsRequest("download", name=args.name, url=args.url, force=args.force)
    return WeightsRequest("list")


def run(args: argparse.Namespace) -> int:
    from vsrbench.catalog.weights import weights

    sys.stdout.write(weights(_request(args)))
    return 0
