"""``vsrbench metrics``: the metrics vsrbench computes, what they measure and where they apply."""
from __future__ import annotations

import argparse

NAME = "metrics"
HELP = "list the metrics (direction, unit, kind, version, which protocols score them by default)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="one metric to show in full")


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
    rows = [("metric", "label", "better", "unit", "kind", "version", "default in")]
    for info in METRICS.values():
        rows.append((info.name, info.label, "↑" if info.higher_is_better else "↓", info.unit or "-", _kind(info),
                     info.version, defaults(info.name)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    print("`vsrbench metrics NAME` describes one; `--metrics a,b` (evaluate) or `metrics = [...]` (run) picks the "
          "others")
    return 0
