"""How well metrics agree with people: correlations with human scores, intervals and paired tests.

The unit of a point is one output (a method on a clip): its metric value (the clip's mean, as the
tables show it) against its human score (a Bradley–Terry strength of ``vsrbench study score``, or a
MOS). For every metric:

- **Spearman** (SROCC): Pearson's correlation of the average ranks (ties share their mean rank);
- **Kendall** (KROCC): tau-b, ``(concordant - discordant) / sqrt((n0 - ties_x) (n0 - ties_y))``
  over all pairs of points;
- **Pearson** (PLCC) after the usual monotonic logistic mapping of VQEG (Final Report, Phase II,
  2003): the metric ``x`` is mapped by ``q(x) = (b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2``,
  fitted to the human scores by least squares (:func:`scipy.optimize.curve_fit`, started at
  ``b1 = max``, ``b2 = min`` of the human scores (swapped for a decreasing relation), ``b3`` the
  metric's median, ``b4`` its standard deviation), and PLCC is Pearson's correlation of ``q(x)``
  and the human scores; ``rmse`` is the root mean square of their difference. Where the best
  logistic is a straight line (its optimum lies at infinity: the fit stops after 100 evaluations)
  or the fit fails, the least-squares line is used when it fits better (PLCC is then plain
  Pearson) and the result says so.

**Direction.** A metric where lower is better (LPIPS, tOF, ...) is negated first, so that a metric
that agrees with people has positive coefficients for every metric; ``higher_is_better`` says
how each is read.

**Within clips** (``within=True``): each coefficient is computed over the methods of one clip at a
time and averaged over the clips (the "within-sequence" analysis of quality studies: does a metric
order the methods of a clip as people do?). Pearson is then computed on the values themselves
(no logistic mapping: a clip has too few points to fit four parameters); clips with fewer than 3
points are left out.

**Intervals** resample *clips* with replacement (all points of a drawn clip come along; a clip
drawn twice counts twice): ``bootstrap`` resamples, ``seed``; the interval is the
``(1-level)/2``, ``(1+level)/2`` quantiles of the resampled coefficient (the logistic mapping is
refitted in each resample, started from the full-data fit).

**Paired test** (is metric A closer to people than metric B?): on the *same* clip resamples the
difference ``r_A - r_B`` of each coefficient is computed; its interval is the percentile interval
and its two-sided p-value the paired-bootstrap one of :func:`vsrbench.analysis.stats.bootstrap_p`
(how often the difference's sign flips). This makes no normality assumption and keeps the
dependence of the two correlations (they share the human scores) without the formula of
Williams/Steiger, which holds for Pearson's r only and for independent points, not clips.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from itertools import combinations
from typing import Mapping, Sequence

import numpy as np

from vsrbench.analysis.stats import bootstrap_p
from vsrbench.core.errors import InputError

__all__ = [
    "COEFFICIENTS", "rankdata", "pearson", "spearman", "kendall_tau_b", "logistic4", "fit_logistic",
    "MetricAgreement", "PairedTest", "Agreement", "agreement", "format_agreement",
]

#: the coefficients reported, in order
COEFFICIENTS = ("spearman", "kendall", "pearson")


# ---------------------------------------------------------------------- the coefficients


def rankdata(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x``; tied values share the mean of their ranks."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size)
    sorted_x = x[order]
    start = 0
    for end in range(1, x.size + 1):
        if end == x.size or sorted_x[end] != sorted_x[start]:
            ranks[order[start:end]] = (start + end + 1) / 2.0
            start = end
    return ranks


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's correlation coefficient (NaN when either side is constant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    den = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return float(dx @ dy) / den if den > 0 else math.nan


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation: Pearson's correlation of the average ranks."""
    return pearson(rankdata(x), rankdata(y))


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b over all pairs of points (ties adjusted; NaN when either side is constant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    i, j = np.triu_indices(x.size, k=1)
    sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
    den = math.sqrt(float(np.count_nonzero(sx)) * float(np.count_nonzero(sy)))
    return float(np.sum(sx * sy)) / den if den > 0 else math.nan


def logistic4(x: np.ndarray, b1: float, b2: float, b3: float, b4: float) -> np.ndarray:
    """VQEG's monotonic 4-parameter logistic: ``(b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2``."""
    z = np.clip(-(np.asarray(x, dtype=np.float64) - b3) / max(abs(b4), 1e-12), -700.0, 700.0)
    return (b1 - b2) / (1.0 + np.exp(z)) + b2


def fit_logistic(x: np.ndarray, y: np.ndarray, p0: Sequence[float] | None = None,
                 max_evaluations: int = 100) -> np.ndarray | None:
    """The least-squares parameters ``(b1, b2, b3, b4)`` of :func:`logistic4` (None: no fit).

    Levenberg-Marquardt (MINPACK, as :func:`scipy.optimize.curve_fit`) with the analytic Jacobian, on
    ``x`` and ``y`` scaled to mean 0 and standard deviation 1 (the same minimiser, better conditioned),
    from ``p0`` (default: the module text's start). Where the best logistic is a straight line (the
    optimum lies at infinity) the parameters after ``max_evaluations`` are returned: the mapping is
    then as close to that line as they make it.
    """
    from scipy.optimize import least_squares

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    if p0 is None:
        up = spearman(x, y) >= 0
        p0 = (y.max() if up else y.min(), y.min() if up else y.max(), float(np.median(x)), float(np.std(x)) or 1.0)
    mx, sx, my, sy = x.mean(), x.std(), y.mean(), y.std()
    u, v = (x - mx) / sx, (y - my) / sy
    start = np.array([(p0[0] - my) / sy, (p0[1] - my) / sy, (p0[2] - mx) / sx, (abs(p0[3]) or sx) / sx])

    def residual(b):
        return logistic4(u, *b) - v

    def jacobian(b):
        w = max(abs(b[3]), 1e-12)
        e = 1.0 / (1.0 + np.exp(np.clip(-(u - b[2]) / w, -700.0, 700.0)))
        slope = (b[0] - b[1]) * e * (1.0 - e)
        return np.stack([e, 1.0 - e, -slope / w, -slope * (u - b[2]) / w ** 2 * np.sign(b[3] or 1.0)], axis=1)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = least_squares(residual, start, jac=jacobian, method="lm", max_nfev=max_evaluations)
    except (ValueError, FloatingPointError):
        return None
    b = fit.x
    params = np.array([my + sy * b[0], my + sy * b[1], mx + sx * b[2], sx * abs(b[3])])
    return params if np.all(np.isfinite(params)) else None


def _plcc(x: np.ndarray, y: np.ndarray, p0=None) -> tuple[float, float, np.ndarray | None]:
    """PLCC and RMSE after the logistic mapping, and its parameters (None: the straight line fitted
    better, the limit of the logistic family where its optimum lies at infinity)."""
    params = fit_logistic(x, y, p0)
    a, b = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, float(np.mean(y)))
    q = a * x + b
    if params is not None:
        fitted = logistic4(x, *params)
        if np.sum((fitted - y) ** 2) <= np.sum((q - y) ** 2):
            q = fitted
        else:
            params = None
    return pearson(q, y), float(np.sqrt(np.mean((q - y) ** 2))), params


# ---------------------------------------------------------------------- per metric and paired


@dataclass(frozen=True)
class MetricAgreement:
    """One metric's coefficients (``values``), their intervals, the RMSE after the mapping and its
    parameters (None: linear; within clips: not used), and how the metric was read."""

    metric: str
    higher_is_better: bool
    values: Mapping[str, float]
    intervals: Mapping[str, tuple[float, float]]
    rmse: float
    logistic: tuple[float, ...] | None
    points: int
    clips: int


@dataclass(frozen=True)
class PairedTest:
    """``a`` against ``b`` on one coefficient: ``diff = r_a - r_b``, its interval and two-sided p."""

    a: str
    b: str
    coefficient: str
    diff: float
    interval: tuple[float, float]
    p: float


@dataclass(frozen=True)
class Agreement:
    """Every metric's agreement and the paired tests of every two metrics."""

    metrics: tuple[MetricAgreement, ...]
    tests: tuple[PairedTest, ...]
    within: bool
    level: float
    bootstrap: int
    seed: int
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        def num(v):
            return None if v is None or not math.isfinite(v) else float(v)

        return {
            "within_clips": self.within, "level": self.level, "bootstrap": self.bootstrap, "seed": self.seed,
            "metrics": {m.metric: {"higher_is_better": m.higher_is_better, "points": m.points, "clips": m.clips,
                                   **{k: num(v) for k, v in m.values.items()}, "rmse": num(m.rmse),
                                   "intervals": {k: [num(x) for x in v] for k, v in m.intervals.items()},
                                   "logistic": None if m.logistic is None else [float(x) for x in m.logistic]}
                        for m in self.metrics},
            "paired": [{"a": t.a, "b": t.b, "coefficient": t.coefficient, "diff": num(t.diff),
                        "interval": [num(x) for x in t.interval], "p": num(t.p)} for t in self.tests],
            "notes": list(self.notes),
        }


def _coefficients(x: np.ndarray, y: np.ndarray, groups: np.ndarray, within: bool, p0=None) -> tuple[dict, float, object]:
    if not within:
        plcc, rmse, params = _plcc(x, y, p0)
        return {"spearman": spearman(x, y), "kendall": kendall_tau_b(x, y), "pearson": plcc}, rmse, params
    per = {k: [] for k in COEFFICIENTS}
    for g in np.unique(groups):
        sel = groups == g
        if np.count_nonzero(sel) < 3:
            continue
        for k, f in (("spearman", spearman), ("kendall", kendall_tau_b), ("pearson", pearson)):
            v = f(x[sel], y[sel])
            if math.isfinite(v):
                per[k].append(v)
    return {k: float(np.mean(v)) if v else math.nan for k, v in per.items()}, math.nan, None


def _resample_rows(groups: np.ndarray, rng: np.random.Generator, resamples: int):
    """Row indices of each clip resample, and its relabelled groups (a clip drawn twice is two clips)."""
    labels = np.unique(groups)
    members = [np.flatnonzero(groups == g) for g in labels]
    for _ in range(resamples):
        drawn = rng.integers(0, labels.size, size=labels.size)
        rows = np.concatenate([members[d] for d in drawn])
        yield rows, np.repeat(np.arange(labels.size), [members[d].size for d in drawn])


def agreement(human: np.ndarray, values: Mapping[str, np.ndarray], groups: Sequence, *,
              higher_is_better: Mapping[str, bool] | None = None, within: bool = False, bootstrap: int = 1000,
              seed: int = 0, level: float = 0.95) -> Agreement:
    """Correlations of each metric with the human scores, clip-bootstrap intervals and paired tests.

    Parameters
    ----------
    human : numpy.ndarray
        ``(n,)`` human scores of the points (higher is better).
    values : mapping
        Metric name -> ``(n,)`` its values at the same points (NaN-free).
    groups : sequence
        ``(n,)`` the clip of each point (the unit of resampling).
    higher_is_better : mapping, optional
        Metric name -> its direction (default True); lower-is-better metrics are negated.
    within, bootstrap, seed, level
        See the module text.

    Returns
    -------
    Agreement

    Raises
    ------
    vsrbench.core.errors.InputError
        Fewer than 3 points, arrays of different lengths, non-finite values or options out of range.
    """
    y = np.asarray(human, dtype=np.float64)
    groups = np.asarray(groups)
    if y.ndim != 1 or y.size < 3 or groups.shape != y.shape or not np.all(np.isfinite(y)):
        raise InputError(f"agreement: need at least 3 points with finite human scores and a clip each (got {y.size})")
    if not values or bootstrap < 0 or not 0 < level < 1:
        raise InputError("agreement: need at least one metric, bootstrap >= 0 and 0 < level < 1")
    direction = {m: bool((higher_is_better or {}).get(m, True)) for m in values}
    xs = {}
    for m, v in values.items():
        v = np.asarray(v, dtype=np.float64)
        if v.shape != y.shape or not np.all(np.isfinite(v)):
            raise InputError(f"agreement: metric {m!r} needs a finite value at each of the {y.size} points")
        xs[m] = v if direction[m] else -v
    full = {m: _coefficients(x, y, groups, within) for m, x in xs.items()}
    boot = {m: {k: [] for k in COEFFICIENTS} for m in xs}
    rng = np.random.default_rng(seed)
    for rows, g in _resample_rows(groups, rng, bootstrap):
        for m, x in xs.items():
            got, _, _ = _coefficients(x[rows], y[rows], g, within, full[m][2])
            for k in COEFFICIENTS:
                boot[m][k].append(got[k])
    q = [(1 - level) / 2, (1 + level) / 2]
    n_clips = int(np.unique(groups).size)
    out = []
    for m in xs:
        coef, rmse, params = full[m]
        intervals = {k: _quantiles(np.array(boot[m][k]), q) for k in COEFFICIENTS}
        out.append(MetricAgreement(m, direction[m], coef, intervals, rmse,
                                   None if params is None else tuple(float(p) for p in params), int(y.size), n_clips))
    tests = tuple(t for a, b in combinations(xs, 2) for t in _paired(a, b, full, boot, q))
    notes = tuple(f"{m}: a straight line fits better than the logistic mapping; PLCC is linear" for m in xs
                  if not within and full[m][2] is None)
    return Agreement(tuple(out), tests, within, level, bootstrap, seed, notes)


def _quantiles(stats: np.ndarray, q) -> tuple[float, float]:
    s = stats[np.isfinite(stats)]
    if s.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(s, q)
    return float(lo), float(hi)


def _paired(a: str, b: str, full, boot, q) -> list[PairedTest]:
    out = []
    for k in COEFFICIENTS:
        d = np.array(boot[a][k]) - np.array(boot[b][k])
        diff = full[a][0][k] - full[b][0][k]
        p = bootstrap_p(d) if d.size else math.nan
        out.append(PairedTest(a, b, k, float(diff), _quantiles(d, q), p))
    return out


def format_agreement(result: Agreement, labels: Mapping[str, str] | None = None) -> str:
    """A plain-text table: each metric's coefficients with intervals, then the paired tests."""
    labels = labels or {}
    pct = f"{result.level * 100:g}%"
    how = ("within each group (mean over the groups; PLCC linear)" if result.within else
           "over all points (PLCC after the logistic mapping)")
    unit = "groups" if result.within else "clips"
    lines = [f"agreement with the human scores, {how}; {pct} intervals over {unit}, {result.bootstrap} resamples, "
             f"seed {result.seed}"]
    lines.append(f"{'metric':<22} {'SROCC':>22} {'KROCC':>22} {'PLCC':>22} {'points':>6}")
    ranked = sorted(result.metrics, key=lambda m: -(m.values["spearman"] if math.isfinite(m.values["spearman"]) else -9))
    for m in ranked:
        cells = []
        for k in COEFFICIENTS:
            lo, hi = m.intervals[k]
            ci = f" [{lo:.2f}, {hi:.2f}]" if math.isfinite(lo) else ""
            cells.append(f"{m.values[k]:.3f}{ci}")
        name = labels.get(m.metric, m.metric) + ("" if m.higher_is_better else " (-)")
        lines.append(f"{name:<22} {cells[0]:>22} {cells[1]:>22} {cells[2]:>22} {m.points:>6}")
    best = ranked[0].metric if ranked else None
    shown = [t for t in result.tests if t.coefficient == "spearman" and best in (t.a, t.b)]
    if shown and result.bootstrap:
        lines.append(f"paired tests against the best metric, {labels.get(best, best)} (SROCC difference, two-sided "
                     "paired-bootstrap p; every pair and coefficient in the JSON summary):")
        for t in shown:
            other, sign = (t.b, 1.0) if t.a == best else (t.a, -1.0)
            lo, hi = sorted((sign * t.interval[0], sign * t.interval[1]))
            lines.append(f"  {labels.get(other, other):<20} {sign * t.diff:+.3f} [{lo:+.3f}, {hi:+.3f}], p = {t.p:.3g}")
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines) + "\n"
