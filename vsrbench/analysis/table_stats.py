"""Statistics in a table: confidence intervals of each cell and significance marks against one
method (:mod:`vsrbench.analysis.stats` computes them; this module decorates the table).
"""
from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd

from vsrbench.core.errors import InputError
from vsrbench.analysis.table_model import Table
from vsrbench.analysis.vocabulary import CI_STYLES, SIGNIFICANT  # the mark of a significant difference; † marks published rows

__all__ = [
    "ALPHA", "half_width_text", "interval_text", "check_statistics_options", "quietly", "with_statistics",
    "reissue_caught",
]


# ------------------------------------------------------------------ intervals and significance marks

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


def _scaled(interval, scale: float):
    """The interval on a metric's printed scale (tables show E*warp x10^-3)."""
    if scale == 1.0:
        return interval
    from types import SimpleNamespace

    return SimpleNamespace(lo=interval.lo * scale, hi=interval.hi * scale, half_width=interval.half_width * scale)


def check_statistics_options(*, ci: bool, ci_style: str, against: str | None, alpha: float) -> None:
    if ci_style not in CI_STYLES:
        raise InputError(f"ci_style: expected one of {', '.join(CI_STYLES)}, got {ci_style!r}")
    if against is not None and not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InputError(f"alpha: expected a significance level between 0 and 1 (e.g. {ALPHA}), got {alpha!r}")


def quietly(fn, *args, caught: list, **kw):
    """Call ``fn``, collecting its warnings in ``caught`` (re-issued once each by the caller)."""
    import warnings

    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    caught += got
    return out


def with_statistics(df: pd.DataFrame, table: Table, *, ci: bool, level: float, resamples: int, seed: int,
                     ci_style: str, against: str | None, test: str, alpha: float, per_sequence: bool,
                     caught: list) -> Table:
    """``table`` with intervals (``ci``) and significance marks (``against``) on the reproduced rows of
    its dataset-level block (see :mod:`vsrbench.analysis.stats`); the caption says how they were made."""
    from vsrbench.analysis import stats

    metrics = [c.metric for c in table.columns if c.kind == "measured"]
    intervals, comparisons, notes, extra = {}, {}, list(table.notes), []
    n_clips = int(df["sequence"].nunique())
    clips = int(df.loc[df["dataset"] == table.dataset, "sequence"].nunique()) if "dataset" in df else n_clips
    if ci and clips < 2:  # intervals resample clips: one clip gives the value itself, "± 0"
        notes.append(f"--ci: dataset {table.dataset} has {clips} clip; intervals resample clips, so one clip gives "
                     "none (it would show ± 0); score two or more clips for an interval.")
    elif ci:
        intervals = quietly(stats.dataset_intervals, df, caught=caught, average=table.average, level=level,
                             resamples=resamples, seed=seed, metrics=metrics, dataset=table.dataset)
        shown = "± (the larger distance to an end, 2 significant digits)" if ci_style == "pm" else "[lo, hi]"
        extra.append(stats.ci_caption(level=level, resamples=resamples, seed=seed, shown=shown))
    if against is not None:
        if against not in set(df["method"]):
            notes.append(f"--against: {against} has no results for dataset {table.dataset}: no significance marks.")
        else:
            comparisons = quietly(stats.compare_to, df, against, caught=caught, metrics=metrics,
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
                changes.update(lo=iv.lo, hi=iv.hi, interval_text=interval_text(_scaled(iv, col.scale), col.shown_decimals,
                                                                               ci_style))
            cmp = comparisons.get((row.method, table.dataset, col.metric))
            if cmp is not None:
                changes.update(p=cmp.p, p_adjusted=cmp.p_adjusted, significant=bool(cmp.significant))
            cells.append(replace(cell, **changes))
        rows.append(replace(row, cells=tuple(cells)))
    caption_extra = " ".join(t for t in (table.caption_extra, *extra) if t)
    return replace(table, rows=tuple(rows), notes=tuple(notes), caption_extra=caption_extra, ci=ci, against=against)


def reissue_caught(caught: list) -> None:
    """Each distinct collected warning once (the few-clips warning of intervals and tests is one)."""
    import warnings

    seen = set()
    for w in caught:
        key = (w.category, str(w.message))
        if key not in seen:
            seen.add(key)
            warnings.warn(str(w.message), w.category, stacklevel=3)
