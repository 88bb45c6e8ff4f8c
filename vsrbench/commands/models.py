"""``vsrbench models``: the registered models, their known checkpoints and whether they are here."""
from __future__ import annotations

import argparse
import sys

from vsrbench.catalog.listings import ModelsRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "models"
HELP = "list the built-in models, their known checkpoints and whether the weights are present locally"
DESCRIPTION = (
    "One row per registered model (name, kind, scale, whether it needs weights, the degradation its "
    "weights expect), then its known checkpoints: file, format, sha256, source, licence, its published "
    "numbers (rows of the database `vsrbench published` lists), and where it was found locally (nothing is downloaded here; "
    "`vsrbench weights download NAME` fetches a checkpoint explicitly)."
)


EXAMPLES = (
    "vsrbench models",
    "vsrbench models --verify",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import group

    group(parser, "checks").add_argument("--verify", action="store_true",
                                         help="also check the sha256 of weights found locally")


def run(args: argparse.Namespace) -> int:
    from vsrbench.catalog.listings import describe_models

    sys.stdout.write(describe_models(ModelsRequest(verify=args.verify)))
    return 0
