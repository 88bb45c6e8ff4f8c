"""Uncertainty and significance of dataset-level numbers: clip-level bootstrap and paired tests.

Everything here reads the per-frame rows of a results store (the long DataFrame of
:func:`vsrbench.results.loading.load_results`); nothing computes a metric. Numbers of different protocols
are refused (:func:`vsrbench.results.frame.require_one_protocol`), so are metrics scored by
different versions.

**The unit is the clip.** Frames within a clip are strongly correlated (the same scene, the
same motion), so resampling frames as if they were independent gives intervals that are far
too narrow. The default ``scheme="cluster"`` resamples *clips* with replacement (a cluster
bootstrap): for ``seq_avg`` the statistic of a resample is the mean of the resampled clips'
means, for ``frame_avg`` the frame-weighted mean of all frames of the resampled clips (the sum
of their values over the number of their values). ``scheme="two-stage"`` also resamples the
frames within each resampled clip (with replacement, as many as the clip has); it adds the
within-clip variation, which the cluster bootstrap already contains through the clip means,
so it is slightly wider and rarely needed. Non-finite per-frame values (PSNR of identical
frames is ``inf``) are left out of every mean, as :func:`vsrbench.metrics.aggregate` does; a
clip with no finite value is left out of ``seq_avg``. The point estimate is always the number
the tables show (:func:`vsrbench.metrics.aggregate` on the rows).

**Intervals.** ``interval="percentile"`` (the default) is the ``(1-level)/2`` and
``(1+level)/2`` quantiles (numpy's linear rule) of the resampled statistic. ``"bca"`` is
Efron's bias-corrected and accelerated interval: bias correction ``z0`` from the share of
resamples below the estimate (ties count half), acceleration from a jackknife that leaves out
one *clip* at a time. Percentile is the default because benchmark suites have few clips (Vid4
and REDS4: 4); BCa's two corrections are then estimated from 4 jackknife values and a
statistic that takes at most 35 distinct values, which moves the endpoints more than it
corrects them. With 20+ clips BCa is the better choice for skewed metrics.

**Paired comparisons** (:func:`compare_methods`, :func:`compare_to`) need the two methods
scored on the same frames (matched on dataset, sequence, frame; otherwise an
:class:`~vsrbench.core.errors.InputError`). The difference is ``A - B`` in the metric's units;
each method's statistic is computed on the *same* resampled clips, so identical methods give a
difference of exactly zero in every resample.

- Paired bootstrap (Koehn 2004): the interval of the difference as above; its p-value is
  two-sided, ``min(1, 2 (min(#{d* <= 0}, #{d* >= 0}) + 1) / (R + 1))``: how often the sign of
  the difference flips under resampling.
- Paired approximate randomisation (Riezler & Maxwell 2005, the default test): in each of R
  shuffles each clip's values of A and B are swapped with probability 1/2 (the clip is the
  unit again); ``p = (#{|d*| >= |d|} + 1) / (R + 1)``, two-sided (``|d*| >= |d|`` up to a
  relative tolerance of 1e-9, so shuffles equal to the observed one in exact arithmetic count).
  With K clips only ``2**K`` swap patterns exist; when ``2**K <= R`` all of them are enumerated
  instead (an exact permutation test, ``p = #{|d*| >= |d|} / 2**K``, no randomness). p cannot
  fall below ``2 / 2**K``: 0.125 for Vid4's 4 clips, so no randomisation test on 4 clips is
  significant at 0.05 (the warning says so), while the paired bootstrap, which ignores this
  granularity, easily is: read its p with the clip count in mind.
- ``significant`` is ``p_adjusted < 1 - level``. When one method is compared with many
  (:func:`compare_to`), p-values are adjusted with Holm–Bonferroni within each (dataset,
  metric): sort the m p-values, multiply the i-th smallest by ``m - i + 1``, make the sequence
  non-decreasing, cap at 1. It controls the family-wise error rate without assuming
  independence. A single pair (:func:`compare_methods`) is not adjusted (``p_adjusted == p``).
- "Better" follows the metric's direction (``METRICS[m].higher_is_better``): a negative
  difference on tOF, tLP or LPIPS means A is better.

A suite (dataset) with fewer than 5 clips gets a one-line
:class:`~vsrbench.core.errors.VsrbenchWarning`: a clip-level interval from so few clips is a
rough range, not a confidence statement.

**Reproducible.** Every call takes ``seed`` (default 0) and draws from
``numpy.random.default_rng(seed)``: the ``(R, K)`` matrix of clip indices
``rng.integers(0, K, size=(R, K))`` (and, for ``two-stage``, then the within-clip draws
``rng.random((R, K, F))``), or the ``(R, K)`` swap matrix ``rng.random((R, K)) < 0.5`` (row
i of :func:`all_swaps` when they are enumerated). The
draws are made in blocks of rows (memory), which gives the same numbers as one draw. The same
seed gives identical output; the same matrix is used for every method of a dataset.

API (for tables and scripts)::

    dataset_intervals(df, *, average="seq_avg", level=0.95, resamples=2000, seed=0,
                      interval="percentile", scheme="cluster", metrics=None, dataset=None)
        -> {(method, dataset, metric): Interval(value, lo, hi, ...)}
    compare_to(df, against, *, metrics=None, dataset=None, average=..., level=..., resamples=...,
               seed=..., test="randomization", ...)
        -> {(method, dataset, metric): Comparison(diff, lo, hi, p, p_adjusted, significant, ...)}
    compare_methods(df, a, b, **same options) -> {(dataset, metric): Comparison}
    format_interval(interval, decimals, style="pm" | "bracket")  # "27.38 ± 0.05" / "[27.33, 27.43]"
    SIGNIFICANT_MARK, ci_caption(...), against_caption(against, ...)  # the mark and caption sentences

Methods with a hole (missing clips or frames that other methods have, shown "–" in a table)
get no interval.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import numpy as np

from vsrbench.core.errors import InputError, UnknownNameError, VsrbenchWarning
from vsrbench.analysis.vocabulary import AVERAGES, INTERVALS, SCHEMES, SIGNIFICANT, TESTS
from vsrbench.metrics import METRICS, aggregate

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RESAMPLES", "SEED", "LEVEL", "MIN_CLIPS", "BLOCK_ELEMENTS", "TIE_TOLERANCE", "Interval", "Comparison",
    "SIGNIFICANT_MARK", "ci_caption", "against_caption", "format_p", "format_interval",
    "reduce_statistic", "swap_matrix", "all_swaps", "bootstrap_p", "bootstrap_interval", "holm",
    "dataset_intervals", "compare_methods", "compare_to",
]

RESAMPLES = 2000
SEED = 0
LEVEL = 0.95
MIN_CLIPS = 5
BLOCK_ELEMENTS = 1 << 21  # draws per block of rows (memory bound, not a result-changing choice)
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Interval:
    """A dataset-level number with its bootstrap interval."""

    value: float  # the number the table shows (vsrbench.metrics.aggregate)
    lo: float
    hi: float
    level: float
    n_clips: int
    interval: str = "percentile"

    @property
    def half_width(self) -> float:
        """The larger distance from the value to an end (what ``±`` shows)."""
        return max(self.hi - self.value, self.value - self.lo)


@dataclass(frozen=True)
class Comparison:
    """A paired comparison of ``method`` (A) with ``against`` (B) on one dataset and metric."""

    method: str
    against: str
    dataset: str
    metric: str
    value: float  # A's number
    against_value: float  # B's number
    diff: float  # A - B
    lo: float  # interval of A - B (paired cluster bootstrap)
    hi: float
    p: float
    p_adjusted: float
    significant: bool
    test: str
    level: float
    n_clips: int

    @property
    def better(self) -> str | None:
        """The name of the better method by the point estimate (None on a tie)."""
        if self.diff == 0 or not math.isfinite(self.diff):
            return None
        a_better = (self.diff > 0) == METRICS[self.metric].higher_is_better
        return self.method if a_better else self.against

    def verdict(self) -> str:
        """One line, e.g. ``DUF-52L is better than DUF-16L on PSNR (vid4): significant at α=0.05 ...``."""
        alpha = _alpha_text(self.level)
        label = METRICS[self.metric].label
        p = f"p={format_p(self.p)}" + (f", Holm-adjusted {format_p(self.p_adjusted)}"
                                        if self.p_adjusted != self.p else "")
        if self.better is None:
            return f"{self.method} and {self.against} score the same on {label} ({self.dataset}); no difference"
        worse = self.against if self.better == self.method else self.method
        sig = "significant" if self.significant else "not significant"
        return f"{self.better} is better than {worse} on {label} ({self.dataset}): {sig} at α={alpha} ({p}, {self.test})"


def _alpha_text(level: float) -> str:
    return f"{1 - level:.3g}"


SIGNIFICANT_MARK = SIGNIFICANT  # (tables mark published rows with †)


def ci_caption(*, level: float = LEVEL, interval: str = "percentile", scheme: str = "cluster",
               resamples: int = RESAMPLES, seed: int = SEED, shown: str = "± / [lo, hi]") -> str:
    """The caption sentence of a table whose cells carry intervals; ``shown`` says how cells show them."""
    return (f"{shown}: {level * 100:g}% {interval} interval of a {scheme} bootstrap over clips "
            f"({resamples} resamples, seed {seed}).")


def against_caption(against: str, *, level: float = LEVEL, test: str = "randomization") -> str:
    """The caption sentence of a table that marks rows differing significantly from ``against``."""
    name = "paired approximate randomisation" if test == "randomization" else "paired bootstrap"
    return (f"{SIGNIFICANT_MARK}: differs significantly from {against} ({name} test over clips, two-sided, "
            f"Holm-adjusted, α={_alpha_text(level)}).")


def format_p(p: float) -> str:
    return f"{p:.3g}" if p >= 0.001 else f"{p:.1e}"


def format_interval(interval: Interval, decimals: int | None = None, *, style: str = "pm",
                    metric: str | None = None) -> str:
    """``27.38 ± 0.05`` (``style="pm"``: ± the larger distance to an end, so the shown range
    covers the interval) or ``[27.33, 27.43]`` (``style="bracket"``, exact for asymmetric
    intervals). ``decimals`` defaults to the metric's (``METRICS[metric].decimals``)."""
    if decimals is None:
        decimals = METRICS[metric].decimals if metric else 2
    if style == "pm":
        return f"{interval.value:.{decimals}f} ± {interval.half_width:.{decimals}f}"
    if style == "bracket":
        return f"[{interval.lo:.{decimals}f}, {interval.hi:.{decimals}f}]"
    raise InputError(f"style: expected 'pm' or 'bracket', got {style!r}")


# ------------------------------------------------------------------ checks

def _check_options(average: str, level: float, resamples: int, interval: str = "percentile",
                   scheme: str = "cluster", test: str = "randomization") -> None:
    if average not in AVERAGES:
        raise InputError(f"average: expected one of {', '.join(AVERAGES)}, got {average!r}")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InputError(f"level: expected a confidence level between 0 and 1 (e.g. 0.95), got {level!r}")
    if not (isinstance(resamples, (int, np.integer)) and resamples >= 10):
        raise InputError(f"resamples: expected an integer of at least 10 (e.g. {RESAMPLES}), got {resamples!r}")
    for kind, value, known in (("interval", interval, INTERVALS), ("scheme", scheme, SCHEMES),
                               ("test", test, TESTS)):
        if value not in known:
            raise UnknownNameError(kind, value, known)


def _select(df: "pd.DataFrame", metrics: Iterable[str] | None, dataset: str | None):
    from vsrbench.results.frame import resolve_metrics, rows_of_dataset

    df = rows_of_dataset(df, dataset=dataset)  # columns, dataset name, one protocol per dataset
    metrics = resolve_metrics(df, None if metrics is None else [str(m).strip().lower() for m in metrics])
    for m in metrics:
        versions = df.loc[df["metric"] == m, ["method", "metric_version"]].drop_duplicates()
        if versions["metric_version"].nunique() > 1:
            who = "; ".join(f"{meth}: {v}" for meth, v in versions.itertuples(index=False))
            raise InputError(f"metric {m!r} was scored by different versions ({who}); re-score the older results")
    return df, metrics


def _check_method(df: "pd.DataFrame", name: str) -> None:
    known = set(df["method"])
    if name not in known:
        raise UnknownNameError("method", name, known)


def _few_clips_message(dataset: str, n_clips: int) -> str:
    return (f"dataset {dataset!r} has {n_clips} clip(s) (< {MIN_CLIPS}): a clip-level interval is a rough range, "
            f"not a confidence statement, and the randomisation test cannot give p below "
            f"{min(1.0, 2 / 2 ** n_clips):.3g}; add clips for a meaningful answer")


def _warn_few(dataset: str, n_clips: int) -> None:
    if n_clips < MIN_CLIPS:
        warnings.warn(_few_clips_message(dataset, n_clips), VsrbenchWarning, stacklevel=3)


# ------------------------------------------------------------------ per-clip arrays

@dataclass
class _Clips:
    """One method's values of one (dataset, metric), clip by clip, in ``clips`` order."""

    sums: np.ndarray  # (K,) sum of the finite values
    counts: np.ndarray  # (K,) number of finite values
    values: np.ndarray  # (K, F) every value in frame order, NaN-padded (padding never drawn)
    sizes: np.ndarray  # (K,) number of frames (finite or not)
    frames: dict[str, frozenset]
    value: float  # the table's number (aggregate)


def _clip_arrays(part: "pd.DataFrame", clips: Sequence[str], average: str, metric: str) -> _Clips:
    index = {c: i for i, c in enumerate(clips)}
    k = len(clips)
    seq = part["sequence"].map(index).to_numpy(dtype=np.int64)
    order = np.lexsort((part["frame"].to_numpy(), seq))
    seq = seq[order]
    vals = part["value"].to_numpy(dtype=np.float64)[order]
    finite = np.isfinite(vals)
    sums = np.bincount(seq, weights=np.where(finite, vals, 0.0), minlength=k)
    counts = np.bincount(seq, weights=finite.astype(np.float64), minlength=k)
    sizes = np.bincount(seq, minlength=k)
    width = int(sizes.max()) if k else 0
    values = np.full((k, max(width, 1)), np.nan)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(seq.size) - starts[seq]
    values[seq, pos] = vals
    frames = part.groupby("sequence")["frame"].agg(frozenset).to_dict()
    value = aggregate(part[["sequence", "frame", "metric", "value"]])[metric][average]
    return _Clips(sums, counts, values, sizes, frames, float(value))


def _expected_frames(part: "pd.DataFrame") -> dict[str, frozenset]:
    return part.groupby("sequence")["frame"].agg(frozenset).to_dict()


# ------------------------------------------------------------------ the statistic and the draws

def reduce_statistic(sums: np.ndarray, counts: np.ndarray, average: str) -> np.ndarray:
    """The statistic of each row of ``(R, K)`` per-clip finite sums and counts.

    ``seq_avg``: the mean over the clips with a finite value of ``sum / count``;
    ``frame_avg``: ``sum(sums) / sum(counts)``. NaN where nothing is finite.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        if average == "seq_avg":
            ok = counts > 0
            means = np.where(ok, sums / np.where(ok, counts, 1.0), 0.0)
            return means.sum(axis=-1) / ok.sum(axis=-1)
        return sums.sum(axis=-1) / counts.sum(axis=-1)


def _blocks(resamples: int, per_row: int) -> Iterator[int]:
    rows = max(1, BLOCK_ELEMENTS // max(per_row, 1))
    done = 0
    while done < resamples:
        n = min(rows, resamples - done)
        yield n
        done += n


def _bootstrap(series: Sequence[_Clips], average: str, resamples: int, seed: int,
               scheme: str) -> list[np.ndarray]:
    """The resampled statistic of each of ``series`` (same draws for all): a list of (R,) arrays."""
    rng = np.random.default_rng(seed)
    k = len(series[0].sums)
    width = series[0].values.shape[1]
    out: list[list[np.ndarray]] = [[] for _ in series]
    for n in _blocks(resamples, k * (width if scheme == "two-stage" else 1)):
        idx = rng.integers(0, k, size=(n, k))
        if scheme == "cluster":
            for i, s in enumerate(series):
                out[i].append(reduce_statistic(s.sums[idx], s.counts[idx], average))
            continue
        u = rng.random((n, k, width))
        size = series[0].sizes[idx][:, :, None]
        pick = np.minimum((u * size).astype(np.int64), width - 1)
        real = np.arange(width)[None, None, :] < size  # a clip draws as many frames as it has
        for i, s in enumerate(series):
            v = s.values[idx[:, :, None], pick]
            ok = real & np.isfinite(v)
            out[i].append(reduce_statistic(np.where(ok, v, 0.0).sum(-1), ok.sum(-1).astype(np.float64), average))
    return [np.concatenate(parts) for parts in out]


def swap_matrix(rng: np.random.Generator, resamples: int, k: int) -> Iterator[np.ndarray]:
    """Blocks of the ``(R, K)`` boolean swap matrix ``rng.random((R, K)) < 0.5``."""
    for n in _blocks(resamples, k):
        yield rng.random((n, k)) < 0.5


def all_swaps(k: int) -> np.ndarray:
    """Every one of the ``2**K`` swap patterns, as a ``(2**K, K)`` boolean matrix (row i = bits of i)."""
    return (np.arange(2 ** k, dtype=np.int64)[:, None] >> np.arange(k, dtype=np.int64)[None, :]) & 1 == 1


def _randomization(a: _Clips, b: _Clips, average: str, observed: float, resamples: int, seed: int) -> float:
    k = len(a.sums)
    exact = 2 ** k <= resamples
    blocks = [all_swaps(k)] if exact else swap_matrix(np.random.default_rng(seed), resamples, k)
    count = 0
    threshold = abs(observed) - TIE_TOLERANCE * max(abs(observed), 1e-300)
    for w in blocks:
        sa = reduce_statistic(np.where(w, b.sums, a.sums), np.where(w, b.counts, a.counts), average)
        sb = reduce_statistic(np.where(w, a.sums, b.sums), np.where(w, a.counts, b.counts), average)
        count += int(np.count_nonzero(np.abs(sa - sb) >= threshold))
    return count / 2 ** k if exact else (count + 1) / (resamples + 1)


def bootstrap_p(diffs: np.ndarray) -> float:
    """Two-sided paired-bootstrap p-value: ``min(1, 2 (min(#{d<=0}, #{d>=0}) + 1) / (R + 1))``."""
    d = diffs[np.isfinite(diffs)]
    flips = min(int(np.count_nonzero(d <= 0)), int(np.count_nonzero(d >= 0)))
    return min(1.0, 2 * (flips + 1) / (d.size + 1))


def _jackknife(series: Sequence[_Clips], average: str) -> list[np.ndarray]:
    """Leave-one-clip-out statistics, ``(K,)`` per series (totals minus the clip left out: O(K))."""
    out = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for s in series:
            if average == "seq_avg":
                ok = s.counts > 0
                means = np.where(ok, s.sums / np.where(ok, s.counts, 1.0), 0.0)
                out.append((means.sum() - means) / (ok.sum() - ok))
            else:
                out.append((s.sums.sum() - s.sums) / (s.counts.sum() - s.counts))
    return out


def bootstrap_interval(stats: np.ndarray, estimate: float, level: float, *, interval: str = "percentile",
                       jackknife: np.ndarray | None = None) -> tuple[float, float]:
    """``(lo, hi)`` from resampled statistics: percentile, or BCa (needs the jackknife values)."""
    s = stats[np.isfinite(stats)]
    if s.size == 0:
        return math.nan, math.nan
    alpha = (1 - level) / 2
    qs = np.array([alpha, 1 - alpha])
    if interval == "bca":
        nd = NormalDist()
        below = (np.count_nonzero(s < estimate) + 0.5 * np.count_nonzero(s == estimate)) / s.size
        below = min(max(below, 0.5 / s.size), 1 - 0.5 / s.size)
        z0 = nd.inv_cdf(below)
        acc = 0.0
        if jackknife is not None:
            jk = jackknife[np.isfinite(jackknife)]
            if jk.size >= 2:
                dev = jk.mean() - jk
                denom = 6.0 * float(np.sum(dev ** 2)) ** 1.5
                acc = float(np.sum(dev ** 3)) / denom if denom > 0 else 0.0
        adjusted = []
        for q in qs:
            z = z0 + nd.inv_cdf(float(q))
            adjusted.append(nd.cdf(z0 + z / (1 - acc * z)))
        qs = np.clip(np.array(adjusted), 0.0, 1.0)
    lo, hi = np.quantile(s, qs)
    return float(lo), float(hi)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (same order as given)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


# ------------------------------------------------------------------ intervals

def dataset_intervals(df: "pd.DataFrame", *, average: str = "seq_avg", level: float = LEVEL,
                      resamples: int = RESAMPLES, seed: int = SEED, interval: str = "percentile",
                      scheme: str = "cluster", metrics: Iterable[str] | None = None,
                      dataset: str | None = None) -> dict[tuple[str, str, str], Interval]:
    """``{(method, dataset, metric): Interval}`` for every complete (method, dataset, metric)."""
    _check_options(average, level, resamples, interval, scheme)
    df, metrics = _select(df, metrics, dataset)
    out: dict[tuple[str, str, str], Interval] = {}
    for ds, dpart in df.groupby("dataset", sort=True):
        clips = sorted(set(dpart["sequence"]))
        _warn_few(str(ds), len(clips))
        for metric in metrics:
            mpart = dpart[dpart["metric"] == metric]
            if mpart.empty:
                continue
            clips = sorted(set(mpart["sequence"]))
            expected = _expected_frames(mpart)
            methods, series = [], []
            for method, part in mpart.groupby("method", sort=False):
                c = _clip_arrays(part, clips, average, metric)
                if c.frames != expected:
                    continue  # a hole: the table shows "–"
                methods.append(str(method))
                series.append(c)
            if not series:
                continue
            stats = _bootstrap(series, average, resamples, seed, scheme)
            jacks = _jackknife(series, average) if interval == "bca" else [None] * len(series)
            for method, c, s, jk in zip(methods, series, stats, jacks):
                lo, hi = bootstrap_interval(s, c.value, level, interval=interval, jackknife=jk)
                out[(method, str(ds), metric)] = Interval(c.value, lo, hi, level, len(clips), interval)
    return out


# ------------------------------------------------------------------ paired comparisons

def _paired(mpart: "pd.DataFrame", a: str, b: str, dataset: str, metric: str, average: str):
    pa, pb = mpart[mpart["method"] == a], mpart[mpart["method"] == b]
    for name, p in ((a, pa), (b, pb)):
        if p.empty:
            raise InputError(f"compare: method {name!r} has no stored {metric} results for dataset {dataset!r}; "
                             f"score it there, or pass --metric / --dataset to compare what both have")
    ka = set(zip(pa["sequence"], pa["frame"]))
    kb = set(zip(pb["sequence"], pb["frame"]))
    if ka != kb:
        only_a, only_b = sorted(ka - kb), sorted(kb - ka)
        first = (only_a or only_b)[0]
        raise InputError(f"compare: {a!r} and {b!r} were not scored on the same frames of {dataset!r} for {metric}: "
                         f"{len(only_a)} frame(s) only in {a!r}, {len(only_b)} only in {b!r} (e.g. "
                         f"{first[0]} frame {first[1]}); score both on the same frames (vsrbench run resumes)")
    clips = sorted({s for s, _ in ka})
    return _clip_arrays(pa, clips, average, metric), _clip_arrays(pb, clips, average, metric), len(clips)


def _compare_pair(mpart, a, b, dataset, metric, *, average, level, resamples, seed, test, interval,
                  scheme) -> Comparison:
    ca, cb, k = _paired(mpart, a, b, dataset, metric, average)
    diff = ca.value - cb.value
    sa, sb = _bootstrap([ca, cb], average, resamples, seed, scheme)
    d = sa - sb
    jk = None
    if interval == "bca":
        ja, jb = _jackknife([ca, cb], average)
        jk = ja - jb
    lo, hi = bootstrap_interval(d, diff, level, interval=interval, jackknife=jk)
    if test == "bootstrap":
        p = bootstrap_p(d)
    else:
        p = _randomization(ca, cb, average, diff, resamples, seed)
    return Comparison(a, b, dataset, metric, ca.value, cb.value, diff, lo, hi, p, p, p < 1 - level, test, level, k)


def _comparisons(df, pairs_of, *, metrics, dataset, average, level, resamples, seed, test, interval, scheme,
                 adjust: bool) -> dict:
    _check_options(average, level, resamples, interval, scheme, test)
    explicit = metrics is not None
    df, metrics = _select(df, metrics, dataset)
    out = {}
    for ds, dpart in df.groupby("dataset", sort=True):
        pairs = pairs_of(dpart)
        if not pairs:
            continue
        _warn_few(str(ds), dpart["sequence"].nunique())
        for metric in metrics:
            mpart = dpart[dpart["metric"] == metric]
            family = []
            for a, b in pairs:
                if mpart.empty or not {a, b} <= set(mpart["method"]):
                    if explicit and not adjust:
                        _paired(mpart, a, b, str(ds), metric, average)  # raises, naming what is missing
                    continue  # a metric only one of them has: compared where both have it
                try:
                    family.append(_compare_pair(mpart, a, b, str(ds), metric, average=average, level=level,
                                                resamples=resamples, seed=seed, test=test, interval=interval,
                                                scheme=scheme))
                except InputError:
                    if not adjust:
                        raise
                    # compare_to: a method not scored on the same frames (a hole in the table) gets no entry
            adjusted = holm([c.p for c in family]) if adjust else [c.p for c in family]
            for c, pa in zip(family, adjusted):
                c = Comparison(**{**c.__dict__, "p_adjusted": pa, "significant": pa < 1 - level})
                out[(c.method, c.dataset, c.metric)] = c
    return out


def compare_methods(df: "pd.DataFrame", a: str, b: str, *, metrics: Iterable[str] | None = None,
                    dataset: str | None = None, average: str = "seq_avg", level: float = LEVEL,
                    resamples: int = RESAMPLES, seed: int = SEED, test: str = "randomization",
                    interval: str = "percentile", scheme: str = "cluster") -> dict[tuple[str, str], Comparison]:
    """``{(dataset, metric): Comparison}`` of method ``a`` with ``b`` (difference ``a - b``), on every
    dataset both have (or ``dataset``) and every metric both have (or ``metrics``: then a metric
    one of them lacks is an error). No multiple-comparison adjustment (one pair).

    The module docstring says how the intervals and p-values are computed.

    Parameters
    ----------
    df : pandas.DataFrame
        Per-frame results with the columns of :func:`~vsrbench.results.loading.load_results`; both
        methods scored on the same frames, under one protocol per dataset.
    a, b : str
        The two methods (``a`` is A, ``b`` is B).
    metrics : iterable of str, optional
        The metrics to compare (default: every metric both have).
    dataset : str, optional
        Compare on this dataset only (default: every dataset both have).
    average : str
        ``"seq_avg"`` (the mean of the per-sequence means) or ``"frame_avg"`` (over all frames).
    level : float
        The interval's confidence level; ``significant`` is ``p < 1 - level``.
    resamples : int
        Bootstrap resamples or randomisation shuffles ``R``.
    seed : int
        The seed of ``numpy.random.default_rng``: the same seed gives identical output.
    test : str
        ``"randomization"`` (paired approximate randomisation) or ``"bootstrap"`` (paired bootstrap).
    interval : str
        ``"percentile"`` or ``"bca"``.
    scheme : str
        ``"cluster"`` (resample clips) or ``"two-stage"`` (clips, then frames within them).

    Returns
    -------
    dict of (str, str) to Comparison
        ``{(dataset, metric): Comparison}``: ``diff``, its interval ``lo``/``hi``, ``p``,
        ``significant``, ``better`` and a one-line ``verdict()``.

    Raises
    ------
    vsrbench.core.errors.InputError
        ``a`` equal to ``b``, no (dataset, metric) with results of both, methods not scored on the same
        frames, results that mix protocols or metric versions, an unknown ``average``, a ``level``
        outside (0, 1) or fewer than 10 ``resamples``.
    vsrbench.core.errors.UnknownNameError
        An unknown method, dataset or metric name, or an unknown ``test``, ``interval`` or ``scheme``.

    Warns
    -----
    vsrbench.core.errors.VsrbenchWarning
        A dataset with fewer than 5 clips (a clip-level interval from so few clips is a rough range).

    Examples
    --------
    Reads a results folder::

        from vsrbench import load_results
        from vsrbench.analysis.stats import compare_methods
        found = compare_methods(load_results("results"), "DUF-52L", "DUF-16L", metrics=["psnr"])
        print(found[("vid4", "psnr")].verdict())  # e.g. "DUF-52L is better than DUF-16L on PSNR (vid4): ..."
    """
    if a == b:
        raise InputError(f"compare: expected two different methods, got {a!r} twice")
    _check_method(df, a)
    _check_method(df, b)

    def pairs(dpart):
        have = set(dpart["method"])
        return [(a, b)] if {a, b} <= have else []

    found = _comparisons(df, pairs, metrics=metrics, dataset=dataset, average=average, level=level,
                         resamples=resamples, seed=seed, test=test, interval=interval, scheme=scheme, adjust=False)
    if not found:
        raise InputError(f"compare: {a!r} and {b!r} have no (dataset, metric) with results of both"
                         + (f" in dataset {dataset!r}" if dataset else "")
                         + "; score both on the same dataset with the same metrics")
    return {(c.dataset, c.metric): c for c in found.values()}


def compare_to(df: "pd.DataFrame", against: str, *, metrics: Iterable[str] | None = None,
               dataset: str | None = None, average: str = "seq_avg", level: float = LEVEL,
               resamples: int = RESAMPLES, seed: int = SEED, test: str = "randomization",
               interval: str = "percentile", scheme: str = "cluster") -> dict[tuple[str, str, str], Comparison]:
    """``{(method, dataset, metric): Comparison}`` of every other method with ``against``
    (difference ``method - against``), Holm-adjusted within each (dataset, metric)."""
    _check_method(df, against)

    def pairs(dpart):
        have = list(dict.fromkeys(dpart["method"]))
        return [(m, against) for m in have if m != against] if against in have else []

    return _comparisons(df, pairs, metrics=metrics, dataset=dataset, average=average, level=level,
                        resamples=resamples, seed=seed, test=test, interval=interval, scheme=scheme, adjust=True)
