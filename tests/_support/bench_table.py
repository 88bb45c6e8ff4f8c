"""The "Speed against peer libraries" table of docs/performance.md from one run of tests/test_bench_peers.py.

    pytest tests/test_bench_peers.py --benchmark-enable --benchmark-json=bench.json
    python tests/_support/bench_table.py bench.json [bench2.json ...]

Given several runs (the same suite repeated on a shared machine), each case's best round over all runs
is used: load from other jobs only ever slows a round down.

Frames per second of each case = frames / the best (minimum) round time. Per metric: vsrbench frame by
frame and batched, the fastest peer library in the same mode, and their ratio (vsrbench / fastest
peer; >= 1 means vsrbench is at least as fast); the straightforward NumPy implementation (one frame at
a time) and vsrbench frame by frame over it.
"""
from __future__ import annotations

import json
import sys

GROUP_ORDER = ("psnr-y", "psnr-rgb", "ssim-y", "ssim-rgb", "lpips-alex", "psnr-tecogan", "ssim-tecogan")
LIBRARIES = ("piq", "torchmetrics", "pyiqa")


def _fps(bench: dict) -> float:
    return bench["extra_info"]["frames"] / bench["stats"]["min"]


def ratio_rows(benchmarks: list[dict]) -> list[dict]:
    """One row per metric group: frames/s of each mode, the fastest peer per mode, the ratios."""
    groups: dict[str, dict[str, float]] = {}
    for b in benchmarks:
        groups.setdefault(b["group"], {})[b["extra_info"].get("case", b["name"])] = _fps(b)
    rows = []
    for group in sorted(groups, key=lambda g: (GROUP_ORDER.index(g) if g in GROUP_ORDER else 99, g)):
        cases = groups[group]
        row = {"group": group}
        for key in ("vsrbench per-frame", "vsrbench batched", "numpy reference per-frame"):
            row[key] = cases.get(key)
        for mode in ("per-frame", "batched"):
            peers = [(lib, cases[f"{lib} {mode}"]) for lib in LIBRARIES if f"{lib} {mode}" in cases]
            best = max(peers, key=lambda p: p[1]) if peers else None
            row[f"peer {mode}"] = best
            ours = row[f"vsrbench {mode}"]
            row[f"ratio {mode}"] = ours / best[1] if best and ours else None
        ours, numpy_fps = row["vsrbench per-frame"], row["numpy reference per-frame"]
        row["ratio vs numpy"] = ours / numpy_fps if ours and numpy_fps else None  # both frame by frame
        rows.append(row)
    return rows


def _num(v) -> str:
    if v is None:
        return "–"
    return f"{v:.0f}" if v >= 10 else f"{v:.2g}" if v < 1 else f"{v:.1f}"


def _peer(p) -> str:
    return "none installed" if p is None else f"{p[0]} {_num(p[1])}"


def _ratio(v) -> str:
    return "–" if v is None else f"**{v:.2f}**" if v >= 1 else f"{v:.2f} (slower)"


def best_of(runs: list[dict]) -> dict:
    """One run from several: each case (group, case) with its fastest round over all runs."""
    best: dict[tuple, dict] = {}
    for run in runs:
        for b in run["benchmarks"]:
            key = (b["group"], b["extra_info"].get("case", b["name"]))
            if key not in best or b["stats"]["min"] < best[key]["stats"]["min"]:
                best[key] = b
    return {**runs[0], "benchmarks": list(best.values()), "runs": len(runs)}


def render(run: dict) -> str:
    """Markdown: a header line (machine, date, frames, runs) and the table."""
    benchmarks = run["benchmarks"]
    cpu = run.get("machine_info", {}).get("cpu", {}).get("brand_raw", "unknown CPU")
    date = str(run.get("datetime", ""))[:10]
    sources = sorted({b["extra_info"].get("source", "") for b in benchmarks} - {""})
    frames = sorted({b["extra_info"]["frames"] for b in benchmarks})
    runs = run.get("runs", 1)
    lines = [f"{cpu}, {date}; {', '.join(sources) or 'frames'}, {'/'.join(map(str, frames))} frames; "
             f"frames/s = frames / best round{f' of {runs} runs' if runs > 1 else ''}.", "",
             "| metric | vsrbench per frame | vsrbench batched | fastest peer per frame | fastest peer batched "
             "| ratio per frame | ratio batched | NumPy reference | ratio vs NumPy |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in ratio_rows(benchmarks):
        lines.append(f"| {r['group']} | {_num(r['vsrbench per-frame'])} | {_num(r['vsrbench batched'])} | "
                     f"{_peer(r['peer per-frame'])} | {_peer(r['peer batched'])} | {_ratio(r['ratio per-frame'])} | "
                     f"{_ratio(r['ratio batched'])} | {_num(r['numpy reference per-frame'])} | "
                     f"{_ratio(r['ratio vs numpy'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python tests/_support/bench_table.py BENCH.json [BENCH2.json ...] (from pytest tests/test_bench_peers.py "
              "--benchmark-enable --benchmark-json=BENCH.json)", file=sys.stderr)
        return 2
    runs = []
    for path in argv:
        with open(path) as f:
            runs.append(json.load(f))
    sys.stdout.write(render(best_of(runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
