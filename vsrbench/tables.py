"""Leaderboard tables from stored results: Markdown, LaTeX (booktabs), CSV and HTML.

Tables read stored per-frame results only (the long DataFrame of
:func:`vsrbench.store.load_results`); they never compute a metric. One table per dataset:
rows are methods, columns are metrics with an arrow saying which direction is better
(``METRICS[m].higher_is_better``) and as many decimals as ``METRICS[m].decimals``.

Conventions, each stated in the table's caption or footnotes:

- **Average.** ``seq_avg`` (default) is the mean of the per-sequence means, ``frame_avg`` the
  mean over all scored frames of all sequences (the two numbers TecoGAN's evaluation prints).
  Non-finite per-frame values (PSNR of identical frames is ``inf``) are left out of the means,
  as :func:`vsrbench.metrics.aggregate` does, and counted in a footnote.
- **Best and second.** Per column, on the *rounded* values that are shown: every cell equal to
  the best shown value is bold, every cell equal to the next distinct shown value is
  underlined (dense ranking, so ties share a rank). Nothing is highlighted in a column with
  fewer than two numbers.
- **Holes.** A method with no rows (or only some of the frames) for a sequence that other
  methods have for that metric gets "–" instead of an average over fewer sequences, and a
  footnote says which sequences are missing.
- **Comparability.** Results of different protocols (by hash) or of different versions of a
  metric are never put in one table: an :class:`~vsrbench.core.errors.InputError` says so.
- **Published rows** (``published=``, CLI ``--published``): the rows of
  :mod:`vsrbench.published` for the dataset's suite (from the run record, :func:`dataset_info`)
  follow the reproduced ones, one row per method and source, marked with a dagger and a
  footnote naming the source, degradation, averaging and convention. A published number is shown
  as printed and competes for bold / underline with the reproduced rows only when its
  convention **matches** (:func:`published_match`): (1) its convention names a vsrbench protocol
  whose hash equals the results' protocol hash; (2) its averaging is the one the table shows,
  or every sequence of the dataset has the same number of scored frames for that metric (then
  ``seq_avg`` = ``frame_avg``, so any averaging, also ``unknown``, matches); a per-clip number
  needs ``seq_avg`` or ``frame_avg`` (a mean of the clip's frames); (3) when the dataset records
  the degradation it was made with, the published BI/BD family is the same (others are not
  shown) and a BD row names the same kernel (``bd-basicvsr``: sigma 1.6; ``bd-tecogan``,
  ``bd-tecogan-train``: sigma 1.5; ``bd-duf``: bd-duf); BI is ``bi-matlab``. Without a recorded
  degradation, rows of both families are shown and the degradation is not checked (a note says
  so). Other published rows are shown but left out of the ranking; their footnote and the
  caption say so.
"""
from __future__ import annotations

import csv
import html
import io
import math
import os
import re
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Sequence

import pandas as pd

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.metrics import METRICS, MetricAccumulator

AVERAGES = ("seq_avg", "frame_avg")
FORMATS = ("markdown", "latex", "csv", "html")
HOLE = "–"
AVERAGE_TEXT = {
    "seq_avg": "mean of the per-sequence means (seq_avg)",
    "frame_avg": "mean over all scored frames of all sequences (frame_avg)",
}
REQUIRED_COLUMNS = ("method", "dataset", "sequence", "frame", "metric", "value", "protocol", "protocol_hash",
                    "metric_version")


# ------------------------------------------------------------------ the table model

@dataclass(frozen=True)
class Column:
    """One numeric column: a metric's measured value, the reported value, or their difference."""

    metric: str
    kind: str  # "measured", "reported" or "delta"
    label: str  # plain Unicode, e.g. "PSNR (dB) ↑"; renderers escape it
    decimals: int

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

    @property
    def grouped(self) -> bool:
        return any(r.group is not None for r in self.rows)

    @property
    def caption(self) -> str:
        return (f"{self.dataset}: {AVERAGE_TEXT[self.average]}, protocol {self.protocol} "
                f"(hash {self.protocol_hash}). ↑/↓: higher/lower is better; best in bold, second underlined."
                + (f" {self.caption_extra}" if self.caption_extra else ""))


# ------------------------------------------------------------------ selecting and averaging

def require_columns(df: pd.DataFrame) -> None:
    """Raise InputError unless ``df`` has the columns of :func:`vsrbench.store.load_results` and rows."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"results: expected columns {', '.join(REQUIRED_COLUMNS)}; missing {', '.join(missing)}")
    if df.empty:
        raise InputError("results: no stored rows (run a benchmark first)")


def require_one_protocol(df: pd.DataFrame, *, source: str | os.PathLike | None = None) -> tuple[str, str] | None:
    """The ``(name, hash)`` of the one protocol of results ``df``; InputError when they mix protocols.

    The one check, and the one message, for "numbers of different protocols are never averaged
    or compared together" (tables, plots, ``vsrbench check``, the pytest plugin). ``source``
    (a results folder) is named in the message. None when ``df`` has no rows or no
    ``protocol_hash`` column (a frame that did not come from :func:`vsrbench.store.load_results`).
    """
    if "protocol_hash" not in df.columns or df.empty:
        return None
    names = df["protocol"] if "protocol" in df.columns else pd.Series("?", index=df.index)
    pairs = sorted(set(zip(names.astype(str), df["protocol_hash"].astype(str))))
    if len(pairs) == 1:
        return pairs[0]
    where = f" in {str(source)!r}" if source is not None else ""
    datasets = set(df["dataset"]) if "dataset" in df.columns else set()
    if len(datasets) == 1:
        where += f" for dataset {next(iter(datasets))!r}"
    mixed = ", ".join(f"{n} ({h})" for n, h in pairs)
    raise InputError(f"protocol: results{where} mix protocols {mixed}; numbers of different protocols are not "
                     "comparable; choose one with --protocol (load_results(..., protocol))")


def rows_of_dataset(df: pd.DataFrame, *, dataset: str | None = None) -> pd.DataFrame:
    """Rows of one dataset (all when None); refuses results that mix protocols within a dataset.

    Choose a protocol when loading: ``load_results(results_dir, protocol)`` (CLI: ``--protocol``).
    Different datasets may use different protocols (each dataset is its own table).
    """
    require_columns(df)
    if dataset is not None:
        if dataset not in set(df["dataset"]):
            raise UnknownNameError("dataset", dataset, set(df["dataset"]))
        df = df[df["dataset"] == dataset]
    for _, part in df.groupby("dataset", sort=True):
        require_one_protocol(part)
    return df


def _check_metric_versions(df: pd.DataFrame, metrics: Sequence[str]) -> None:
    for m in metrics:
        versions = df.loc[df["metric"] == m, ["method", "metric_version"]].drop_duplicates()
        if versions["metric_version"].nunique() > 1:
            who = "; ".join(f"{meth}: {v}" for meth, v in versions.itertuples(index=False))
            raise InputError(f"metric {m!r} was scored by different versions ({who}); re-score the older results")


def resolve_metrics(df: pd.DataFrame, metrics: Iterable[str] | None = None) -> list[str]:
    """The metrics to show: the given ones (checked), or every stored one in registry order."""
    stored = set(df["metric"])
    if metrics is None:
        for m in stored:
            METRICS[m]  # an unknown stored metric raises UnknownNameError
        return [m for m in METRICS if m in stored]
    chosen = list(dict.fromkeys(metrics))
    if not chosen:
        raise InputError("metrics: expected at least one metric name, got none")
    for m in chosen:
        METRICS[m]  # typo -> UnknownNameError with did-you-mean
        if m not in stored:
            raise InputError(f"metrics: {m!r} has no stored results (stored: {', '.join(sorted(stored))})")
    return chosen


def ordered(values: pd.Series) -> list[str]:
    """Distinct values in order of first appearance (the order the benchmark ran them)."""
    return list(dict.fromkeys(values.tolist()))


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
    _check_metric_versions(df, metrics)
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


def metric_name(metric: str) -> str:
    """``"PSNR (dB)"``: the metric's label and its unit when it has one."""
    info = METRICS[metric]
    return f"{info.label} ({info.unit})" if info.unit else info.label


def metric_label(metric: str) -> str:
    """``"PSNR (dB) ↑"``: label, unit, and the arrow of the better direction."""
    return f"{metric_name(metric)} {'↑' if METRICS[metric].higher_is_better else '↓'}"


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


def _columns(metrics: Sequence[str], reported: Mapping[str, Mapping[str, float]]) -> list[Column]:
    cols = []
    for m in metrics:
        info = METRICS[m]
        cols.append(Column(m, "measured", metric_label(m), info.decimals))
        if any(m in r for r in reported.values()):
            cols.append(Column(m, "reported", f"{info.label} reported", info.decimals))
            cols.append(Column(m, "delta", f"{info.label} Δ", info.decimals))
    return cols


def _block(methods: Sequence[str], columns: Sequence[Column], value_of, reported, group: str | None) -> list[Row]:
    """Rows of one block (ranked together): ``value_of(method, metric)`` gives the measured value."""
    grid: list[list[Cell]] = [[] for _ in methods]
    for col in columns:
        if col.kind == "measured":
            values = [value_of(meth, col.metric) for meth in methods]
            ranks = rank_values(values, col.decimals, METRICS[col.metric].higher_is_better)
            cells = [Cell(v, format_value(v, col.decimals), r) for v, r in zip(values, ranks)]
        else:
            cells = []
            for meth in methods:
                rep = reported.get(meth, {}).get(col.metric)
                got = value_of(meth, col.metric)
                v = rep if col.kind == "reported" else (None if rep is None or got is None else got - rep)
                cells.append(Cell(v, format_value(v, col.decimals, signed=col.kind == "delta")))
        for row, cell in zip(grid, cells):
            row.append(cell)
    return [Row(meth, tuple(cells), group) for meth, cells in zip(methods, grid)]


def _notes(scores: Scores, per_sequence: bool) -> list[str]:
    notes = []
    for (method, metric), seqs in scores.holes.items():
        if seqs:
            where = "" if per_sequence else "; never averaged over fewer sequences"
            notes.append(f"{method}: no complete {METRICS[metric].label} results for {', '.join(seqs)} "
                         f"(shown as {HOLE}{where}).")
    for (method, metric), n in scores.nonfinite.items():
        if n:
            notes.append(f"{method}, {METRICS[metric].label}: {n} non-finite per-frame value(s) "
                         "(e.g. PSNR of identical frames) left out of the means.")
    return notes


# ------------------------------------------------------------------ published rows

#: the kernel text a published BD row must name to match a dataset made with a vsrbench degradation
DEGRADATION_KERNELS = {"bd-basicvsr": "sigma 1.6", "bd-tecogan": "sigma 1.5", "bd-tecogan-train": "sigma 1.5",
                       "bd-duf": "bd-duf"}


def degradation_family(degradation: str | None) -> str | None:
    """``"bd-tecogan"`` -> ``"BD"``, ``"bi-matlab"`` -> ``"BI"``; None when unknown."""
    if not degradation:
        return None
    head = str(degradation).split("-")[0].upper()
    return head if head in ("BI", "BD") else None


def published_match(row, *, protocol_hash: str, average: str, equal_lengths: bool,
                    degradation: str | None) -> str | None:
    """None when the published ``row`` is ranked with results of ``protocol_hash`` shown as
    ``average`` (the definition is in this module's docstring); else the reason, in words.

    ``equal_lengths``: every sequence of the dataset has the same number of scored frames for
    the row's metric. ``degradation``: the vsrbench degradation the dataset was made with (None: not recorded).
    """
    try:
        protocol = row.protocol
    except Exception:  # noqa: BLE001 - a user file's convention that no longer parses
        protocol = None
    if protocol is None:
        return f"its convention ({row.convention}) is not a vsrbench protocol"
    if protocol.hash != protocol_hash:
        return f"its convention {protocol.name} (hash {protocol.hash}) is not the results' protocol (hash {protocol_hash})"
    if row.sequence:
        if row.averaging == "unknown":
            return "how its per-clip value was averaged is unknown"
    elif row.averaging != average and not equal_lengths:
        return f"its averaging ({row.averaging}) is not the one shown ({average}) and the sequences differ in length"
    if degradation:
        if row.family == "BI" and degradation != "bi-matlab":
            return f"BI is MATLAB bicubic (bi-matlab), the dataset was made with {degradation}"
        if row.family == "BD":
            kernel = DEGRADATION_KERNELS.get(degradation)
            if kernel is None or kernel not in (row.kernel or "").lower():
                return f"its BD kernel ({row.kernel or 'not stated'}) is not the one of {degradation}"
    return None


def dataset_info(results_dir: str | os.PathLike) -> dict[str, dict[str, str | None]]:
    """dataset -> ``{"suite": ..., "degradation": ...}`` from the run records of a results folder
    (``bench.datasets.NAME.suite`` / ``.degradation``; later runs win; None where not recorded)."""
    from vsrbench.store import recorded_inputs

    return {name: {"suite": spec.get("suite") or None, "degradation": spec.get("degradation") or None}
            for name, spec in recorded_inputs(results_dir)["datasets"].items()}


def _equal_lengths(df: pd.DataFrame, metric: str) -> bool:
    counts = df[df["metric"] == metric].groupby("sequence")["frame"].nunique()
    return counts.nunique() <= 1


def _published_groups(rows) -> list[list]:
    """Rows grouped by (method, degradation, convention, source), in order of first appearance."""
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r.method, r.degradation, r.convention, r.source), []).append(r)
    return list(groups.values())


def _pick(rows, sequence: str, metric: str, average: str):
    """The row of a group for one cell: the one with the table's averaging first, then unknown."""
    hits = [r for r in rows if r.sequence == sequence and r.metric == metric]
    order = {average: 0, "unknown": 1}
    return min(hits, key=lambda r: order.get(r.averaging, 2)) if hits else None


def _rank_together(rows: list[Row], columns: Sequence[Column], competes: list[list[bool]]) -> list[Row]:
    """Re-rank the measured columns of one block over the cells that compete (the others unranked)."""
    grid = [list(r.cells) for r in rows]
    for k, col in enumerate(columns):
        if col.kind != "measured":
            continue
        values = [cells[k].value if ok[k] else None for cells, ok in zip(grid, competes)]
        ranks = rank_values(values, col.decimals, METRICS[col.metric].higher_is_better)
        for cells, rank in zip(grid, ranks):
            cells[k] = replace(cells[k], rank=rank)
    return [replace(r, cells=tuple(c)) for r, c in zip(rows, grid)]


def _with_published(df, table: Table, columns: Sequence[Column], published, info: Mapping | None,
                    per_sequence: bool, sequences: Sequence[str]) -> Table:
    """``table`` with the published rows of its suite added (see the module docstring)."""
    info = info or {}
    suite, degradation = info.get("suite"), info.get("degradation")
    notes = list(table.notes)
    if not suite:
        notes.append(f"--published: no suite known for dataset {table.dataset} (record it with suite = \"NAME\" in "
                     "the benchmark file's dataset, or vsrbench evaluate --suite NAME).")
        return replace(table, notes=tuple(notes))
    metrics = {c.metric for c in columns if c.kind == "measured"}
    family = degradation_family(degradation)
    chosen = [r for r in published if r.suite == suite and r.metric in metrics and (family is None or r.family == family)]
    if not chosen:
        notes.append(f"--published: no published {', '.join(sorted(metrics))} numbers for suite {suite}"
                     + (f" ({family})" if family else "") + ".")
        return replace(table, notes=tuple(notes))
    equal = {m: _equal_lengths(df, m) for m in metrics}
    groups = _published_groups(chosen)
    blocks = ([(s, s) for s in sequences] if per_sequence else []) + [("", "Average" if per_sequence else None)]
    out_rows: list[Row] = []
    reasons: dict[int, list[str]] = {}
    shown: dict[int, set[str]] = {}
    for seq, group_name in blocks:
        mine = [r for r in table.rows if r.group == group_name]
        competes = [[c.kind == "measured" for c in columns] for _ in mine]
        extra = []
        for n, rows in enumerate(groups, 1):
            cells, ok = [], []
            for col in columns:
                row = _pick(rows, seq, col.metric, table.average) if col.kind == "measured" else None
                if row is None:
                    cells.append(Cell(None, HOLE))
                    ok.append(False)
                    continue
                why = published_match(row, protocol_hash=table.protocol_hash, average=table.average,
                                      equal_lengths=equal[col.metric], degradation=degradation)
                if why is not None and why not in reasons.setdefault(n, []):
                    reasons[n].append(why)
                shown.setdefault(n, set()).add(row.averaging)
                cells.append(Cell(row.value, row.value_text))
                ok.append(why is None)
            if any(c.value is not None for c in cells):
                first = rows[0]
                extra.append(Row(first.method, tuple(cells), group_name, n,
                                 {"source": first.source, "degradation": first.degradation,
                                  "averaging": "/".join(sorted(shown[n])), "convention": first.convention}))
                competes.append(ok)
        out_rows += _rank_together(mine + extra, columns, competes)
    used = sorted({r.note_ref for r in out_rows if r.note_ref is not None})
    excluded = 0
    for n in used:
        first = groups[n - 1][0]
        why = reasons.get(n, [])
        excluded += bool(why)
        rank = ("not ranked: " + "; ".join(why)) if why else "ranked with the reproduced rows"
        notes.append(f"†{n} {first.method}: published in {first.source}; {first.degradation}; averaging "
                     f"{'/'.join(sorted(shown.get(n, {'unknown'})))}; convention {first.convention}; {rank}.")
    if not family:
        notes.append(f"--published: dataset {table.dataset} records no degradation: published BI and BD rows are "
                     "shown and ranked without checking it.")
    extra_caption = (f"† published numbers for suite {suite} (not reproduced here), as printed; ranked with "
                     "the reproduced rows only where the convention matches (protocol hash, averaging, "
                     "degradation)" + (f"; {excluded} of {len(used)} excluded from the ranking (see the notes)."
                                       if excluded else "."))
    caption_extra = " ".join(t for t in (table.caption_extra, extra_caption) if t)
    return replace(table, rows=tuple(out_rows), notes=tuple(notes), caption_extra=caption_extra)


# ------------------------------------------------------------------ intervals and significance marks

#: the mark of a cell that differs significantly from ``against=`` (the dagger † marks published rows)
SIGNIFICANT = "*"  # = vsrbench.stats.SIGNIFICANT_MARK (tested); † marks published rows
CI_STYLES = ("pm", "bracket")
ALPHA = 0.05


def half_width_text(half: float, decimals: int) -> str:
    """The ``±`` half-width: 2 significant digits, at most the column's ``decimals`` unless that
    shows 0 (then 1 significant digit).

    >>> half_width_text(0.0512, 2), half_width_text(1.234, 2), half_width_text(0.01234, 4), half_width_text(0.004, 2)
    ('0.05', '1.2', '0.012', '0.004')
    """
    if not math.isfinite(half) or half <= 0:
        return f"{0.0:.{decimals}f}"
    exponent = math.floor(math.log10(half))
    d = max(0, min(1 - exponent, decimals))
    if round(half, d) == 0:
        d = max(0, -exponent)
    return f"{half:.{d}f}"


def interval_text(interval, decimals: int, style: str) -> str:
    """``"± 0.05"`` (``style="pm"``, the larger distance from the value to an end) or
    ``"[27.33, 27.43]"`` (``"bracket"``); empty when the interval is not finite."""
    if not (math.isfinite(interval.lo) and math.isfinite(interval.hi)):
        return ""
    if style == "pm":
        return f"± {half_width_text(interval.half_width, decimals)}"
    return f"[{interval.lo:.{decimals}f}, {interval.hi:.{decimals}f}]"


def _check_statistics_options(*, ci: bool, ci_style: str, against: str | None, alpha: float) -> None:
    if ci_style not in CI_STYLES:
        raise InputError(f"ci_style: expected one of {', '.join(CI_STYLES)}, got {ci_style!r}")
    if against is not None and not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InputError(f"alpha: expected a significance level between 0 and 1 (e.g. {ALPHA}), got {alpha!r}")


def _quietly(fn, *args, caught: list, **kw):
    """Call ``fn``, collecting its warnings in ``caught`` (re-issued once each by the caller)."""
    import warnings

    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    caught += got
    return out


def _with_statistics(df: pd.DataFrame, table: Table, *, ci: bool, level: float, resamples: int, seed: int,
                     ci_style: str, against: str | None, test: str, alpha: float, per_sequence: bool,
                     caught: list) -> Table:
    """``table`` with intervals (``ci``) and significance marks (``against``) on the reproduced rows of
    its dataset-level block (see :mod:`vsrbench.stats`); the caption says how they were made."""
    from vsrbench import stats

    metrics = [c.metric for c in table.columns if c.kind == "measured"]
    intervals, comparisons, notes, extra = {}, {}, list(table.notes), []
    n_clips = int(df["sequence"].nunique())
    if ci:
        intervals = _quietly(stats.dataset_intervals, df, caught=caught, average=table.average, level=level,
                             resamples=resamples, seed=seed, metrics=metrics, dataset=table.dataset)
        shown = "± (the larger distance to an end, 2 significant digits)" if ci_style == "pm" else "[lo, hi]"
        extra.append(stats.ci_caption(level=level, resamples=resamples, seed=seed, shown=shown))
    if against is not None:
        if against not in set(df["method"]):
            notes.append(f"--against: {against} has no results for dataset {table.dataset}: no significance marks.")
        else:
            comparisons = _quietly(stats.compare_to, df, against, caught=caught, metrics=metrics,
                                   dataset=table.dataset, average=table.average, level=1 - alpha,
                                   resamples=resamples, seed=seed, test=test)
            sentence = stats.against_caption(against, level=1 - alpha, test=test)
            compared = len({key[0] for key in comparisons})
            extra.append(sentence.rstrip(".") + f"; {compared} method(s) compared, {n_clips} clip(s)"
                         + ("." if ci else f", {resamples} resamples, seed {seed}."))
    if per_sequence:
        extra.append("Intervals and marks only in the Average block (a clip's frames are correlated: no per-clip "
                     "interval is computed).")
    if table.rows and any(r.note_ref is not None for r in table.rows):
        extra.append("Published rows (†) have no per-frame data: no interval or mark.")
    dataset_group = "Average" if per_sequence else None
    rows = []
    for row in table.rows:
        if row.group != dataset_group or row.note_ref is not None:
            rows.append(row)
            continue
        cells = []
        for col, cell in zip(table.columns, row.cells):
            if col.kind != "measured" or cell.value is None:
                cells.append(cell)
                continue
            changes = {}
            iv = intervals.get((row.method, table.dataset, col.metric))
            if iv is not None:
                changes.update(lo=iv.lo, hi=iv.hi, interval_text=interval_text(iv, col.decimals, ci_style))
            cmp = comparisons.get((row.method, table.dataset, col.metric))
            if cmp is not None:
                changes.update(p=cmp.p, p_adjusted=cmp.p_adjusted, significant=bool(cmp.significant))
            cells.append(replace(cell, **changes))
        rows.append(replace(row, cells=tuple(cells)))
    caption_extra = " ".join(t for t in (table.caption_extra, *extra) if t)
    return replace(table, rows=tuple(rows), notes=tuple(notes), caption_extra=caption_extra, ci=ci, against=against)


def _reissue(caught: list) -> None:
    """Each distinct collected warning once (the few-clips warning of intervals and tests is one)."""
    import warnings

    seen = set()
    for w in caught:
        key = (w.category, str(w.message))
        if key not in seen:
            seen.add(key)
            warnings.warn(str(w.message), w.category, stacklevel=3)


def build_table(
    df: pd.DataFrame,
    *,
    metrics: Iterable[str] | None = None,
    average: str = "seq_avg",
    dataset: str | None = None,
    per_sequence: bool = False,
    reported: Mapping[str, Mapping[str, float]] | None = None,
    published: Sequence | None = None,
    info: Mapping[str, str | None] | None = None,
    ci: bool = False,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
    ci_style: str = "pm",
    against: str | None = None,
    test: str = "randomization",
    alpha: float = ALPHA,
) -> Table:
    """The leaderboard of one dataset (``dataset`` may be omitted when the results hold one).

    ``reported`` maps method -> metric -> the number its authors published; when given, a
    "reported" and a "Δ" (measured − reported) column follow each metric that has one.
    ``published``: rows of :func:`vsrbench.published.load_published`; those of the dataset's
    suite (``info["suite"]``, from :func:`dataset_info`) are added, marked with a dagger (see the
    module docstring for when they are ranked).

    ``ci=True`` gives each dataset-level cell of a reproduced row its clip-level bootstrap interval
    (:func:`vsrbench.stats.dataset_intervals` with the table's ``average``, ``level``,
    ``resamples``, ``seed``), shown as ``± half-width`` (``ci_style="pm"``) or ``[lo, hi]``
    (``"bracket"``). ``against=METHOD`` marks with :data:`SIGNIFICANT` the cells that differ
    significantly from METHOD (:func:`vsrbench.stats.compare_to`: ``test``, two-sided, Holm-adjusted
    over the compared methods per metric, at ``alpha``). Published rows and the per-sequence blocks
    get neither; the caption says how they were made.
    """
    caught: list = []
    table = _build_table(df, metrics=metrics, average=average, dataset=dataset, per_sequence=per_sequence,
                         reported=reported, published=published, info=info, ci=ci, level=level,
                         resamples=resamples, seed=seed, ci_style=ci_style, against=against, test=test,
                         alpha=alpha, caught=caught)
    _reissue(caught)
    return table


def _build_table(df, *, metrics, average, dataset, per_sequence, reported, published, info, ci, level, resamples,
                 seed, ci_style, against, test, alpha, caught) -> Table:
    _check_statistics_options(ci=ci, ci_style=ci_style, against=against, alpha=alpha)
    if against is not None and against not in set(df["method"]):
        raise UnknownNameError("method", against, set(df["method"]))
    df = rows_of_dataset(df, dataset=dataset)
    if df["dataset"].nunique() > 1:
        raise InputError(f"dataset: the results hold several datasets ({', '.join(ordered(df['dataset']))}); "
                         "choose one with dataset= (CLI: --dataset) or use build_tables")
    chosen = resolve_metrics(df, metrics)
    scores = compute_scores(df, chosen, average)
    reported = {k: dict(v) for k, v in (reported or {}).items()}
    columns = _columns(chosen, reported)
    rows: list[Row] = []
    if per_sequence:
        for seq in scores.sequences:
            rows += _block(scores.methods, columns, lambda m, k, s=seq: scores.per_sequence.get((m, s, k)), {}, seq)
    rows += _block(scores.methods, columns, lambda m, k: scores.means[(m, k)], reported,
                   "Average" if per_sequence else None)
    first = df.iloc[0]
    table = Table(str(first["dataset"]), str(first["protocol"]), str(first["protocol_hash"]), average,
                  tuple(columns), tuple(rows), tuple(_notes(scores, per_sequence)))
    if published is not None:
        table = _with_published(df, table, columns, published, info, per_sequence, scores.sequences)
    if ci or against is not None:
        table = _with_statistics(df[df["metric"].isin(chosen)], table, ci=ci, level=level, resamples=resamples,
                                 seed=seed, ci_style=ci_style, against=against, test=test, alpha=alpha,
                                 per_sequence=per_sequence, caught=caught)
    return table


def build_tables(
    df: pd.DataFrame,
    *,
    dataset: str | None = None,
    reported: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    info: Mapping[str, Mapping[str, str | None]] | None = None,
    **options,
) -> list[Table]:
    """One table per dataset (or only ``dataset``); options as for :func:`build_table`.

    ``reported`` maps dataset -> method -> metric -> published number (see :func:`reported_numbers`);
    ``info`` maps dataset -> its suite and degradation (see :func:`dataset_info`).
    """
    require_columns(df)
    names = [dataset] if dataset is not None else ordered(df["dataset"])
    return [build_table(df, dataset=name, reported=(reported or {}).get(name), info=(info or {}).get(name),
                        **options) for name in names]


def reported_numbers(results_dir: str | os.PathLike) -> dict[str, dict[str, dict[str, float]]]:
    """Published numbers for the methods of a results folder: dataset -> method -> metric -> value.

    They come from the benchmark definitions recorded with each run (a method's
    ``reported = {...}``; later runs win). A checkpoint's published numbers are rows of the
    published-results database (``Checkpoint.published``, ``vsrbench models``), shown as rows of their
    own with ``published=`` (CLI ``--published``), never as a method's "reported" column.
    """
    from vsrbench.benchfile import reported_for
    from vsrbench.store import load_runs

    out: dict[str, dict[str, dict[str, float]]] = {}
    for bench in load_runs(results_dir)["bench"]:
        if not bench:
            continue
        for method, spec in bench.get("methods", {}).items():
            given = spec.get("reported") or {}
            for ds in bench.get("datasets", {}):
                numbers = reported_for(given, ds)
                if numbers:
                    out.setdefault(ds, {})[method] = numbers
    return out


# ------------------------------------------------------------------ rendering

def _header(table: Table) -> list[str]:
    return (["Sequence"] if table.grouped else []) + ["Method"] + [c.label for c in table.columns]


def _row_lead(table: Table, i: int, escape=lambda t: t, mark=lambda n: f"†{n}") -> list[str]:
    """Leading cells of row ``i``: the group name on the first row of each block, then the method
    (a published row's followed by ``mark(footnote number)``); ``escape`` is applied to the names."""
    row = table.rows[i]
    method = escape(row.method) + ("" if row.note_ref is None else mark(row.note_ref))
    if not table.grouped:
        return [method]
    first = i == 0 or table.rows[i - 1].group != row.group
    return [escape(row.group) if first else "", method]


def _blocks_start(table: Table) -> set[int]:
    return {i for i in range(1, len(table.rows)) if table.rows[i].group != table.rows[i - 1].group}


MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md_escape(text: str) -> str:
    return MD_SPECIAL.sub(r"\\\1", text)


def _md_cell(cell: Cell) -> str:
    text = {1: f"**{cell.text}**", 2: f"<u>{cell.text}</u>"}.get(cell.rank, cell.text)
    text += md_escape(SIGNIFICANT) if cell.significant else ""
    return f"{text} {cell.interval_text}" if cell.interval_text else text


def render_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table with the caption and footnotes below it."""
    head = _header(table)
    lines = ["| " + " | ".join(md_escape(h) for h in head) + " |",
             "|" + "|".join(":--" if i < len(head) - len(table.columns) else "--:" for i in range(len(head))) + "|"]
    for i, row in enumerate(table.rows):
        lead = _row_lead(table, i, md_escape)
        lines.append("| " + " | ".join(lead + [_md_cell(c) for c in row.cells]) + " |")
    lines += ["", md_escape(table.caption)]
    lines += [f"- {md_escape(n)}" for n in table.notes]
    return "\n".join(lines) + "\n"


LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
    "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
    ">": r"\textgreater{}", "†": r"\dag{}", "↑": r"$\uparrow$", "↓": r"$\downarrow$", "–": "--", "×": r"$\times$",
    "Δ": r"$\Delta$", "−": "$-$", "±": r"$\pm$", "α": r"$\alpha$",
}
# lmodern: scalable T1 fonts (without it, T1 text falls back to bitmap EC fonts, embedded as Type 3);
# graphicx: the \resizebox that shrinks a table wider than the line (never enlarges one).
LATEX_PACKAGES = ("booktabs", "graphicx")
LATEX_PREAMBLE = ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
                  "\\usepackage[utf8]{inputenc}\n" + "".join(f"\\usepackage{{{p}}}\n" for p in LATEX_PACKAGES)
                  + "\\begin{document}\n")
# Scale the tabular down to \linewidth (\columnwidth in a two-column paper) when it is wider; else as it is.
LATEX_FIT_OPEN = "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%"


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text)


def _latex_cell(cell: Cell) -> str:
    text = latex_escape(cell.text)
    text = {1: f"\\textbf{{{text}}}", 2: f"\\underline{{{text}}}"}.get(cell.rank, text)
    text += f"$^{{{SIGNIFICANT}}}$" if cell.significant else ""
    if cell.interval_text.startswith("± "):  # a smaller ±: wide tables stay readable when scaled
        text += f"\\,{{\\footnotesize$\\pm${cell.interval_text[2:]}}}"
    elif cell.interval_text:
        text += f"\\,{{\\footnotesize{latex_escape(cell.interval_text)}}}"
    return text


def _latex_label(dataset: str) -> str:
    return "tab:vsrbench-" + (re.sub(r"[^A-Za-z0-9]+", "-", dataset).strip("-").lower() or "results")


def _latex_note(note: str) -> str:
    """A footnote; a published row's mark ``†N`` as a superscript dagger, like the row's."""
    m = re.fullmatch(r"†(\d+) (.*)", note, re.S)
    return f"\\textsuperscript{{\\dag{m[1]}}} {latex_escape(m[2])}" if m else latex_escape(note)


def render_latex(table: Table, *, standalone: bool = False) -> str:
    """A booktabs ``table`` environment; ``standalone`` wraps it in a compilable document."""
    n_lead = len(_header(table)) - len(table.columns)
    starts = _blocks_start(table)
    body = []
    for i, row in enumerate(table.rows):
        if i in starts:
            body.append("\\midrule")
        cells = _row_lead(table, i, latex_escape, lambda n: f"\\textsuperscript{{\\dag{n}}}") + [
            _latex_cell(c) for c in row.cells]
        body.append(" & ".join(cells) + " \\\\")
    notes = "".join(f"\n\\par {_latex_note(n)}" for n in table.notes)
    text = "\n".join([
        "% vsrbench leaderboard; needs \\usepackage{booktabs} and \\usepackage{graphicx}",
        "\\begin{table}[t]",
        "\\centering",
        f"\\caption{{{latex_escape(table.caption)}}}",
        f"\\label{{{_latex_label(table.dataset)}}}",
        LATEX_FIT_OPEN,
        f"\\begin{{tabular}}{{{'l' * n_lead}{'r' * len(table.columns)}}}",
        "\\toprule",
        " & ".join(latex_escape(h) for h in _header(table)) + " \\\\",
        "\\midrule",
        *body,
        "\\bottomrule",
        "\\end{tabular}}",
        *([f"{{\\footnotesize{notes}\\par}}"] if table.notes else []),
        "\\end{table}",
    ]) + "\n"
    return LATEX_PREAMBLE + text + "\\end{document}\n" if standalone else text


def table_frame(table: Table) -> pd.DataFrame:
    """The shown (rounded) numbers as a DataFrame: dataset, [sequence,] method, one column per Column.key."""
    records = []
    for row in table.rows:
        rec = {"dataset": table.dataset, **({"sequence": row.group} if table.grouped else {}), "method": row.method}
        for c, cell in zip(table.columns, row.cells):
            rec[c.key] = None if cell.value is None else float(cell.text)
            if c.kind != "measured":
                continue
            if table.ci:  # the interval unrounded (data, not display); empty where none
                rec[f"{c.key}_lo"], rec[f"{c.key}_hi"] = cell.lo, cell.hi
            if table.against is not None:
                rec[f"{c.key}_p"], rec[f"{c.key}_p_adjusted"] = cell.p, cell.p_adjusted
                rec[f"{c.key}_significant"] = cell.significant
        if any(r.published for r in table.rows):  # --published: which rows are published, and from where
            rec["published"] = row.published is not None
            rec.update({k: (row.published or {}).get(k, "") for k in ("degradation", "averaging", "convention",
                                                                       "source")})
        records.append(rec)
    return pd.DataFrame.from_records(records)


def render_csv(tables: Sequence[Table]) -> str:
    """All tables in one CSV (a union of columns; holes are empty cells)."""
    buf = io.StringIO()
    pd.concat([table_frame(t) for t in tables], ignore_index=True).to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()


def _html_cell(cell: Cell) -> str:
    text = html.escape(cell.text)
    text = {1: f"<b>{text}</b>", 2: f"<u>{text}</u>"}.get(cell.rank, text)
    text += f"<sup>{SIGNIFICANT}</sup>" if cell.significant else ""
    return f"{text} <small>{html.escape(cell.interval_text)}</small>" if cell.interval_text else text


def render_html(table: Table) -> str:
    """A ``<table>`` with caption, header, body and the footnotes in ``<tfoot>``."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _header(table))
    body = []
    for i, row in enumerate(table.rows):
        lead = "".join(f"<th>{t}</th>" for t in _row_lead(table, i, html.escape, lambda n: f"<sup>†{n}</sup>"))
        body.append(f"<tr>{lead}" + "".join(f"<td>{_html_cell(c)}</td>" for c in row.cells) + "</tr>")
    foot = "".join(f'<tr><td colspan="{len(_header(table))}">{html.escape(n)}</td></tr>' for n in table.notes)
    return "\n".join([
        '<table class="vsrbench">',
        f"<caption>{html.escape(table.caption)}</caption>",
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>", *body, "</tbody>",
        *([f"<tfoot>{foot}</tfoot>"] if foot else []),
        "</table>",
    ]) + "\n"


def render_tables(tables: Sequence[Table], fmt: str = "markdown", *, standalone: bool = False) -> str:
    """Render tables in ``fmt`` (one of :data:`FORMATS`); several tables follow each other."""
    if fmt not in FORMATS:
        raise InputError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if not tables:
        raise InputError("tables: nothing to render (no dataset selected)")
    if fmt == "csv":
        return render_csv(tables)
    if fmt == "latex":
        text = "\n".join(render_latex(t) for t in tables)
        return LATEX_PREAMBLE + text + "\\end{document}\n" if standalone else text
    one = render_markdown if fmt == "markdown" else render_html
    return "\n".join(one(t) for t in tables)
