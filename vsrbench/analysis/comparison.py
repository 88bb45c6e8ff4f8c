"""Is method A really better than B? The paired comparison ``vsrbench compare`` prints, in one request.

:func:`compare` reads the results folder, compares the two methods on each (dataset, metric) with
:func:`~vsrbench.analysis.stats.compare_methods` (clips are the unit) and lays the comparisons out
as text (:func:`_render_comparison`).
"""
from __future__ import annotations

from dataclasses import dataclass

from vsrbench.core.text import text_table

__all__ = ["CompareRequest", "compare"]


@dataclass(frozen=True)
class CompareRequest:
    """The two methods compared (the difference is ``a - b``), what is compared and how."""

    results: str
    a: str
    b: str
    metrics: tuple[str, ...] | None = None
    dataset: str | None = None
    protocol: str | None = None
    average: str = "seq_avg"
    level: float = 0.95
    resamples: int = 2000
    seed: int = 0
    test: str = "randomization"
    interval: str = "percentile"
    scheme: str = "cluster"


def compare(request: CompareRequest) -> str:
    """The text of the comparison of ``request.a`` with ``request.b``: a header line, one row per
    (dataset, metric), then one verdict per row. The header names the protocol when both methods'
    rows have one (different datasets may use different protocols: it then names none)."""
    from vsrbench.analysis.stats import compare_methods
    from vsrbench.core.errors import InputError
    from vsrbench.results.frame import require_one_protocol
    from vsrbench.results.loading import load_results
    from vsrbench.results.store import find_results_dir

    r = request
    df = load_results(str(find_results_dir(r.results)), r.protocol)
    comparisons = compare_methods(df, r.a, r.b, metrics=None if r.metrics is None else list(r.metrics),
                                  dataset=r.dataset, average=r.average, level=r.level, resamples=r.resamples,
                                  seed=r.seed, test=r.test, interval=r.interval, scheme=r.scheme)
    try:
        protocol = require_one_protocol(df[df["method"].isin([r.a, r.b])])
    except InputError:
        protocol = None
    return _render_comparison(comparisons, average=r.average, resamples=r.resamples, seed=r.seed,
                             interval=r.interval, scheme=r.scheme, protocol=protocol)


def _render_comparison(comparisons, *, average: str, resamples: int, seed: int, interval: str, scheme: str,
                      protocol: tuple[str, str] | None = None) -> str:
    """The text ``vsrbench compare`` prints for ``{(dataset, metric): Comparison}``."""
    from vsrbench.analysis.stats import format_p
    from vsrbench.metrics import METRICS

    first = next(iter(comparisons.values()))
    a, b, level = first.method, first.against, first.level
    pct = f"{level * 100:g}%"
    proto = f", protocol {protocol[0]} ({protocol[1]})" if protocol else ""
    lines = [f"{a} (A) vs {b} (B){proto}, {average}; {pct} interval: paired {scheme} bootstrap over clips "
             f"({interval}, {resamples} resamples, seed {seed}); p: {first.test} test, two-sided, α={1 - level:.3g}"]
    header = ["dataset", "metric", "clips", "A", "B", "A − B", f"{pct} CI", "p"]
    rows = []
    for (ds, metric), c in comparisons.items():
        info = METRICS[metric]
        d = info.decimals + 1  # one more than the tables: differences are small
        arrow = "↑" if info.higher_is_better else "↓"
        rows.append([ds, f"{info.label} {arrow}", str(c.n_clips), f"{c.value:.{d}f}", f"{c.against_value:.{d}f}",
                     f"{c.diff:+.{d}f}", f"[{c.lo:+.{d}f}, {c.hi:+.{d}f}]", format_p(c.p)])
    lines += text_table(rows, header=header)
    lines += [c.verdict() for c in comparisons.values()]
    return "\n".join(lines) + "\n"
