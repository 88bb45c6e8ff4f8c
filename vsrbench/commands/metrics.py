"""``vsrbench metrics``: the metrics vsrbench computes, what they measure and where they apply."""
from __future__ import annotations

import argparse

from vsrbench.core.text import text_table

__all__ = ["NAME", "HELP", "EXAMPLES", "add_arguments", "run"]

NAME = "metrics"
HELP = "list the metrics (direction, unit, kind, version, which protocols score them by default)"


EXAMPLES = (
    "vsrbench metrics",
    "vsrbench metrics tlp",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import group

    group(p, "what is listed").add_argument("name", nargs="?", help="one metric to show in full")


def _kind(info) -> str:
    return "model run" if info.model_run else ("temporal" if info.temporal else "per frame")


def run(args) -> int:
    from vsrbench.metrics import METRICS, PROTOCOLS

    def defaults(name: str) -> str:
        if METRICS[name].model_run:
            return "vsrbench drift (runs a model)"
        return ", ".join(p for p, proto in PROTOCOLS.items() if name in proto.default_metrics) or "opt-in"

    if args.name:
        info = METRICS[args.name.strip().lower()]  # did-you-mean on a typo
        arrow = "higher" if info.higher_is_better else "lower"
        print(f"{info.name} ({info.label}): {info.description}")
        print(f"  {arrow} is better; unit: {info.unit or '-'}; {_kind(info)}; version {info.version}; "
              f"shown with {info.decimals} decimals")
        print(f"  scored by default under: {defaults(info.name)}")
        return 0
    rows = [(info.name, info.label, "↑" if info.higher_is_better else "↓", info.unit or "-", _kind(info),
             info.version, defaults(info.name)) for info in METRICS.values()]
    for line in text_table(rows, header=("metric", "label", "better", "unit", "kind", "version", "default in")):
        print(line)
    print("`vsrbench metrics NAME` describes one; `--metrics a,b` (evaluate) or `metrics = [...]` (run) picks the "
          "others")
    return 0
