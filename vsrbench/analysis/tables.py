"""Leaderboard tables from stored results: Markdown, LaTeX (booktabs), CSV and HTML.

Tables read stored per-frame results only (the long DataFrame of
:func:`vsrbench.results.loading.load_results`); they never compute a metric. One table per dataset:
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
  :mod:`vsrbench.catalog.published` for the dataset's suite (from the run record, :func:`dataset_info`)
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

import os
from typing import Iterable, Mapping, Sequence

import pandas as pd

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.metrics import METRICS
from vsrbench.analysis.convention_blocks import Rescorer, with_conventions
from vsrbench.analysis.published_rows import published_for, with_published
from vsrbench.analysis.table_model import Cell, Column, HOLE, Row, Scores, Table, compute_scores, display_scale, metric_label, rank_values
from vsrbench.analysis.table_stats import ALPHA, check_statistics_options, reissue_caught, with_statistics
from vsrbench.results.frame import ordered, require_columns, resolve_metrics, rows_of_dataset

__all__ = ["build_table", "build_tables", "reported_numbers"]


# ------------------------------------------------------------------ building the table


def _columns(metrics: Sequence[str], reported: Mapping[str, Mapping[str, float]]) -> list[Column]:
    cols = []
    for m in metrics:
        info = METRICS[m]
        scale = display_scale(m)  # reported numbers are taken on the stored scale, as the measured ones
        cols.append(Column(m, "measured", metric_label(m, printed=True), info.decimals, scale))
        if any(m in r for r in reported.values()):
            cols.append(Column(m, "reported", f"{info.label} reported", info.decimals, scale))
            cols.append(Column(m, "delta", f"{info.label} Δ", info.decimals, scale))
    return cols


def _block(methods: Sequence[str], columns: Sequence[Column], value_of, reported, group: str | None) -> list[Row]:
    """Rows of one block (ranked together): ``value_of(method, metric)`` gives the measured value."""
    grid: list[list[Cell]] = [[] for _ in methods]
    for col in columns:
        if col.kind == "measured":
            values = [value_of(meth, col.metric) for meth in methods]
            ranks = rank_values(values, col.decimals, METRICS[col.metric].higher_is_better)
            cells = [Cell(v, col.text(v), r) for v, r in zip(values, ranks)]
        else:
            cells = []
            for meth in methods:
                rep = reported.get(meth, {}).get(col.metric)
                got = value_of(meth, col.metric)
                v = rep if col.kind == "reported" else (None if rep is None or got is None else got - rep)
                cells.append(Cell(v, col.text(v, signed=col.kind == "delta")))
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


# ------------------------------------------------------------------ intervals and significance marks


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
    by_convention: bool = False,
    rescore: Rescorer | None = None,
) -> Table:
    """The leaderboard of one dataset (``dataset`` may be omitted when the results hold one).

    ``reported`` maps method -> metric -> the number its authors published; when given, a
    "reported" and a "Δ" (measured − reported) column follow each metric that has one.
    ``published``: rows of :func:`vsrbench.catalog.published.load_published`; those of the dataset's
    suite (``info["suite"]``, from :func:`dataset_info`) are added, marked with a dagger (see the
    module docstring for when they are ranked).

    ``ci=True`` gives each dataset-level cell of a reproduced row its clip-level bootstrap interval
    (:func:`vsrbench.analysis.stats.dataset_intervals` with the table's ``average``, ``level``,
    ``resamples``, ``seed``), shown as ``± half-width`` (``ci_style="pm"``) or ``[lo, hi]``
    (``"bracket"``). ``against=METHOD`` marks with :data:`SIGNIFICANT` the cells that differ
    significantly from METHOD (:func:`vsrbench.analysis.stats.compare_to`: ``test``, two-sided, Holm-adjusted
    over the compared methods per metric, at ``alpha``). Published rows and the per-sequence blocks
    get neither; the caption says how they were made.

    ``by_convention=True`` ranks each published row under its own convention instead
    (:func:`vsrbench.analysis.convention_blocks.with_conventions`): one block per convention, your
    methods' numbers in it from ``rescore`` (your outputs scored under that protocol; without it, only
    the block of the stored protocol has your numbers). Intervals and marks stay on the stored block.
    """
    caught: list = []
    table = _build_table(df, metrics=metrics, average=average, dataset=dataset, per_sequence=per_sequence,
                         reported=reported, published=published, info=info, ci=ci, level=level,
                         resamples=resamples, seed=seed, ci_style=ci_style, against=against, test=test,
                         alpha=alpha, by_convention=by_convention, rescore=rescore, caught=caught)
    reissue_caught(caught)
    return table


def _build_table(df, *, metrics, average, dataset, per_sequence, reported, published, info, ci, level, resamples,
                 seed, ci_style, against, test, alpha, by_convention, rescore, caught) -> Table:
    check_statistics_options(ci=ci, ci_style=ci_style, against=against, alpha=alpha)
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
    if published is not None and not by_convention:
        table = with_published(df, table, columns, published, info, per_sequence, scores.sequences)
    if ci or against is not None:
        table = with_statistics(df[df["metric"].isin(chosen)], table, ci=ci, level=level, resamples=resamples,
                                 seed=seed, ci_style=ci_style, against=against, test=test, alpha=alpha,
                                 per_sequence=per_sequence, caught=caught)
    if published is not None and by_convention:
        table = _by_convention(df[df["metric"].isin(chosen)], table, columns, published, info, per_sequence,
                               scores.sequences, rescore)
    return table


def _by_convention(df, table: Table, columns, published, info, per_sequence: bool, sequences, rescore) -> Table:
    """``table`` with the published rows of its suite, one block per convention (see :func:`build_table`)."""
    from dataclasses import replace

    chosen, notes = published_for(table, columns, published, info)
    if not chosen:
        return replace(table, notes=tuple(table.notes) + tuple(notes))
    table = replace(table, notes=tuple(table.notes) + tuple(notes))
    return with_conventions(table, df, columns, chosen, (info or {}).get("degradation"), per_sequence, sequences,
                            rescore)


def build_tables(
    df: pd.DataFrame,
    *,
    dataset: str | None = None,
    reported: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    info: Mapping[str, Mapping[str, str | None]] | None = None,
    **options,
) -> list[Table]:
    """One table per dataset (or only ``dataset``); options as for :func:`build_table`.

    Parameters
    ----------
    df : pandas.DataFrame
        Per-frame results with the columns of :func:`~vsrbench.results.loading.load_results`.
    dataset : str, optional
        Build only this dataset's table (default: one per dataset, in the order they were stored).
    reported : mapping, optional
        Dataset -> method -> metric -> published number (see :func:`reported_numbers`).
    info : mapping, optional
        Dataset -> its suite and degradation (see :func:`dataset_info`).
    **options
        The keyword arguments of :func:`build_table`: ``metrics``, ``average``, ``per_sequence``,
        ``published``, ``ci``, ``level``, ``resamples``, ``seed``, ``ci_style``, ``against``, ``test``,
        ``alpha``, ``by_convention``, ``rescore``.

    Returns
    -------
    list of Table
        One :class:`~vsrbench.analysis.table_model.Table` per dataset, ready for
        :func:`~vsrbench.analysis.render.render_tables`.

    Raises
    ------
    vsrbench.core.errors.InputError
        Missing columns or no rows, a dataset whose rows mix protocols, a metric with no stored
        results or scored by different versions, or statistics options out of range.
    vsrbench.core.errors.UnknownNameError
        An unknown dataset, metric or ``against`` method.

    Examples
    --------
    Reads a results folder::

        from vsrbench import load_results
        from vsrbench.analysis.render import render_tables
        from vsrbench.analysis.tables import build_tables
        tables = build_tables(load_results("results", protocol="tecogan"), metrics=["psnr", "ssim"], ci=True)
        print(render_tables(tables, "markdown"))
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
    from vsrbench.catalog.benchfile import reported_for
    from vsrbench.results.loading import load_runs

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
