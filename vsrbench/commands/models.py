"""``vsrbench models``: the registered models, their known checkpoints and whether they are here."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vsrbench.core.errors import WeightsError
from vsrbench.core.text import text_table
from vsrbench.core.weights import find_weights, sha256sum

__all__ = [
    "NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "checkpoint_status", "published_lines",
    "render_models", "run",
]

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


def checkpoint_status(ckpt, verify: bool = False) -> str:
    """'present: PATH' (plus companion-file and checksum notes) or 'missing'."""
    try:
        path = find_weights(ckpt.local_name or ckpt.filename, source=ckpt.source)  # where `weights download` puts it
    except WeightsError:
        return "missing"
    notes = [f"present: {path}"]
    absent = [c for c in ckpt.companions if not (Path(path).parent / c).is_file()]
    if absent:
        notes.append(f"incomplete, missing {', '.join(absent)}")
    if verify and ckpt.sha256:
        notes.append("sha256 ok" if sha256sum(path) == ckpt.sha256 else "sha256 MISMATCH")
    elif verify:
        notes.append("sha256 not known")
    return "; ".join(notes)


def published_lines(ckpt, rows) -> list[str]:
    """The database rows of a checkpoint (``Checkpoint.published`` names (method, BI/BD) pairs),
    one line per method, suite, degradation, clip and source: ``published PyTorch TecoGAN, vid4 BD
    (sigma 1.5): psnr 26.01, lpips 0.152 (averaging unknown, convention tecogan; SOURCE)``."""
    from vsrbench.catalog.published import rows_for

    groups: dict[tuple, list] = {}
    for method, family in ckpt.published:
        for r in rows_for(rows, method, family):
            key = (r.method, r.suite, r.degradation, r.sequence, r.averaging, r.convention, r.source)
            groups.setdefault(key, []).append(r)
    lines = []
    for (method, suite, degradation, sequence, averaging, convention, source), part in groups.items():
        where = f"{suite}/{sequence}" if sequence else suite
        numbers = ", ".join(f"{r.metric} {r.value_text}" for r in part)
        lines.append(f"published {method}, {where} {degradation}: {numbers} (averaging {averaging}, "
                     f"convention {convention}; {source})")
    return lines


def _checkpoint_lines(ckpt, verify: bool, rows) -> list[str]:
    sha = ckpt.sha256[:12] if ckpt.sha256 else "unknown"
    lines = [f"    {ckpt.filename} [{ckpt.format}]  sha256 {sha}  licence: {ckpt.licence}  "
             f"{checkpoint_status(ckpt, verify)}",
             f"        source: {ckpt.source}"]
    lines += [f"        {r}" for r in published_lines(ckpt, rows)]
    return lines + ([f"        note: {ckpt.note}"] if ckpt.note else [])


def render_models(models, verify: bool = False, published=None) -> str:
    """The listing printed by ``vsrbench models`` for the specs in ``models`` (a name -> ModelSpec map);
    ``published``: the rows of the published-results database (default: the one shipped with vsrbench)."""
    if published is None:
        from vsrbench.catalog.published import load_published

        published = load_published()
    names = sorted(models)
    header = ("MODEL", "KIND", "SCALE", "WEIGHTS", "DEGRADATION", "DESCRIPTION")
    table = text_table([(s.name, s.kind, f"x{s.scale}", "required" if s.needs_weights else "none",
                         s.degradation or "-", s.description) for s in (models[n] for n in names)], header=header)
    lines = [table[0]]
    for name, row in zip(names, table[1:]):
        lines.append(row)
        for ckpt in models[name].checkpoints:
            lines += _checkpoint_lines(ckpt, verify, published)
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from vsrbench.baselines import MODELS

    sys.stdout.write(render_models(MODELS, verify=args.verify))
    return 0
