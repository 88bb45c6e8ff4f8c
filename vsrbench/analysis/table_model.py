"""The table model: columns, cells, rows and tables of averaged scores, and how values are ranked and
formatted. Built by :mod:`vsrbench.analysis.tables`, written by :mod:`vsrbench.analysis.render`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd

from vsrbench.core.errors import InputError
from vsrbench.analysis.vocabulary import AVERAGES, TABLE_FORMATS as FORMATS
from vsrbench.metrics import METRICS, MetricAccumulator
from vsrbench.results.frame import check_metric_versions, ordered

__all__ = [
    "HOLE", "AVERAGE_TEXT", "Column", "Cell", "Row", "Table", "Scores", "compute_scores", "format_value",
    "metric_name", "metric_label", "display_scale", "rank_values",
]

HOLE = "–"
AVERAGE_TEXT = {
    "seq_avg": "mean of the per-sequence means (seq_avg)",
    "frame_avg": "mean over all scored frames of all sequences (frame_avg)",
}


# ------------------------------------------------------------------ the table model

@dataclass(frozen=True)
class Column:
    """One numeric column: a metric's measured value, the reported value, or their difference."""

    metric: str
    kind: str  # "measured", "reported" or "delta"
    label: str  # plain Unicode, e.g. "PSNR (dB) ↑"; renderers escape it
    decimals: int  # of the stored value (ties and ranks are decided there)
    scale: float = 1.0  # the metric's printed scale (E*warp: 1000, shown x10^-3); values stay stored unscaled

    @property
    def shown_decimals(self) -> int:
        """The decimals of the shown (scaled) value: as many digits as ``decimals`` of the stored one."""
        return max(0, self.decimals - round(math.log10(self.scale)))

    def text(self, value: float | None, *, signed: bool = False) -> str:
        """The value as the table shows it: on the metric's printed scale, with :attr:`shown_decimals`."""
        return format_value(None if value is None else value * self.scale, self.shown_decimals, signed=signed)

    @property
    def key(self) -> str:
        """Machine-friendly name (CSV header): ``psnr``, ``psnr_reported``, ``psnr_delta``."""
        return self.metric if self.kind == "measured" else f"{self.metric}_{self.kind}"


@dataclass(frozen=True)
class Cell:
    value: float | None  # None: a hole (or nothing reported)
    text: str  # the shown text: rounded number or HOLE
    rank: int | None = None  # 1 = best (bold), 2 = second (underlined)
    # ci=True: the bootstrap interval (reproduced rows of the dataset-level block only)
    lo: float | None = None
    hi: float | None = None
    interval_text: str = ""  # plain Unicode after the number: "± 0.05" or "[27.33, 27.43]"
    # against=METHOD: the paired comparison with METHOD (None for METHOD itself and unmarked cells)
    p: float | None = None
    p_adjusted: float | None = None
    significant: bool | None = None


@dataclass(frozen=True)
class Row:
    method: str
    cells: tuple[Cell, ...]
    group: str | None = None  # the sequence in per-sequence tables ("Average" for the summary block)
    note_ref: int | None = None  # a published row: the number of its footnote (shown as a dagger)
    published: Mapping[str, str] | None = None  # a published row: source, degradation, averaging, convention


@dataclass(frozen=True)
class Table:
    dataset: str
    protocol: str
    protocol_hash: str
    average: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    caption_extra: str = ""  # what the caption adds about published rows, intervals and significance
    ci: bool = False  # cells of the dataset-level block carry intervals (CSV: _lo/_hi columns)
    against: str | None = None  # cells carry a comparison with this method (CSV: _p/_significant columns)
    group_title: str = "Sequence"  # what the blocks are: "Sequence", or "Convention" when published rows are ranked

    @property
    def grouped(self) -> bool:
        return any(r.group is not None for r in self.rows)

    @property
    def caption(self) -> str:
        return (f"{self.dataset}: {AVERAGE_TEXT[self.average]}, protocol {self.protocol} "
                f"(hash {self.protocol_hash}). ↑/↓: higher/lower is better; best in bold, second underlined."
                + (f" {self.caption_extra}" if self.caption_extra else ""))


# ------------------------------------------------------------------ selecting and averaging


@dataclass(frozen=True)
class Scores:
    """Averages of one dataset: ``means[(method, metric)]`` and what is missing.

    ``holes[(method, metric)]`` lists the sequences a method lacks (or has only partly) for a
    metric that other methods have; such averages are None. ``per_sequence[(method,
    sequence, metric)]`` holds the per-sequence means (None where missing or partial).
    """

    methods: tuple[str, ...]
    sequences: tuple[str, ...]
    metrics: tuple[str, ...]
    average: str
    means: dict[tuple[str, str], float | None]
    per_sequence: dict[tuple[str, str, str], float | None]
    holes: dict[tuple[str, str], tuple[str, ...]]
    nonfinite: dict[tuple[str, str], int]


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def compute_scores(df: pd.DataFrame, metrics: Sequence[str], average: str = "seq_avg") -> Scores:
    """Per-method averages of one dataset's results (already selected with :func:`select`).

    The means come from :class:`vsrbench.metrics.MetricAccumulator` (what
    :func:`vsrbench.metrics.aggregate` uses: non-finite values left out and counted); this
    function decides which sequences are complete.
    """
    if average not in AVERAGES:
        raise InputError(f"average: expected one of {', '.join(AVERAGES)}, got {average!r}")
    if df["dataset"].nunique() != 1:
        raise InputError(f"dataset: expected the results of one dataset, got {', '.join(ordered(df['dataset']))}")
    check_metric_versions(df, metrics)
    methods, sequences = ordered(df["method"]), sorted(set(df["sequence"]))
    df = df[df["metric"].isin(metrics)]
    frames = df.groupby(["method", "metric", "sequence"])["frame"].agg(frozenset).to_dict()
    expected: dict[tuple[str, str], frozenset] = {}
    for (_, metric, seq), have in frames.items():
        expected[(metric, seq)] = expected.get((metric, seq), frozenset()) | have
    means, per_seq, holes, nonfinite = {}, {}, {}, {}
    for method, part in df.groupby("method", sort=False):
        acc = MetricAccumulator.from_frame(part)
        for metric in metrics:
            seqs = sorted(s for m, s in expected if m == metric)
            missing = tuple(s for s in seqs if frames.get((method, metric, s)) != expected[(metric, s)])
            seq_means = acc.sequence_means(metric) if metric in acc.metrics else {}
            for s in seqs:
                per_seq[(method, s, metric)] = None if s in missing else _finite_or_none(seq_means[s])
            summary = acc.summary(metric) if metric in acc.metrics else {"n_nonfinite": 0}
            holes[(method, metric)] = missing
            means[(method, metric)] = None if missing else _finite_or_none(summary[average])
            nonfinite[(method, metric)] = summary["n_nonfinite"]
    for method in methods:  # a method with none of the chosen metrics: holes everywhere
        for metric in metrics:
            if (method, metric) not in holes:
                seqs = tuple(sorted(s for m, s in expected if m == metric))
                holes[(method, metric)], means[(method, metric)], nonfinite[(method, metric)] = seqs, None, 0
                per_seq.update({(method, s, metric): None for s in seqs})
    return Scores(tuple(methods), tuple(sequences), tuple(metrics), average, means, per_seq, holes, nonfinite)


# ------------------------------------------------------------------ building the table

def format_value(value: float | None, decimals: int, *, signed: bool = False) -> str:
    if value is None:
        return HOLE
    return f"{value:+.{decimals}f}" if signed else f"{value:.{decimals}f}"


def metric_name(metric: str, *, printed: bool = False) -> str:
    """``"PSNR (dB)"``: the metric's label and its unit when it has one; ``printed``: the scale its values
    are shown on in tables instead (``"E*warp (EvalCrafter) (x10^-3)"``, :func:`display_scale`)."""
    info = METRICS[metric]
    unit = info.display[1] if printed and info.display else info.unit
    return f"{info.label} ({unit})" if unit else info.label


def display_scale(metric: str) -> float:
    """The factor tables show a metric's stored values with (its printed scale; 1 for most metrics)."""
    info = METRICS[metric]
    return float(info.display[0]) if info.display else 1.0


def metric_label(metric: str, *, printed: bool = False) -> str:
    """``"PSNR (dB) ↑"``: label, unit (or printed scale, :func:`metric_name`), and the arrow of the better direction."""
    return f"{metric_name(metric, printed=printed)} {'↑' if METRICS[metric].higher_is_better else '↓'}"


def rank_values(values: Sequence[float | None], decimals: int, higher_is_better: bool) -> list[int | None]:
    """Dense rank (1 best, 2 second) of the values as shown with ``decimals``; None stays None.

    >>> rank_values([1.004, 1.0, 0.5, None], 2, True)
    [1, 1, 2, None]
    """
    shown = [None if v is None else float(f"{v:.{decimals}f}") for v in values]
    distinct = sorted({v for v in shown if v is not None}, reverse=higher_is_better)
    if sum(v is not None for v in shown) < 2:
        return [None] * len(values)
    top = {v: i + 1 for i, v in enumerate(distinct[:2])}
    return [None if v is None else top.get(v) for v in shown]
