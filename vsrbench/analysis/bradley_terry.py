"""Bradley–Terry scores of a pairwise user study (``vsrbench study score``).

**The model.** Each method ``i`` has a log-strength ``s_i``; in one trial a participant prefers ``i``
to ``j`` with probability ``P(i > j) = 1 / (1 + exp(-(s_i - s_j)))``. Strengths are reported on
this natural-log scale, centred to mean 0 over the methods of the fit: a difference of 1 means
odds of e ≈ 2.72 to 1 of being preferred, a difference of 2.2 a 90 % preference.

**The fit** is the maximum a-posteriori estimate under an independent Gaussian prior
``s_i ~ N(0, prior_sd**2)`` (default ``prior_sd = 3``: a weak prior; one method preferred with
probability 0.95 over another is ``s`` 3 apart), i.e. it maximises
``sum_{i,j} W_ij log P(i > j) - alpha * sum_i s_i**2`` with ``alpha = 1 / (2 prior_sd**2)``,
``W_ij`` the number of trials in which ``i`` was preferred to ``j``. The prior keeps the scores
of a method that always wins (or always loses) finite, where plain maximum likelihood runs off
to infinity, and makes the estimate unique for any comparison graph (a method that was never
compared stays at 0). The maximiser has mean 0 by itself (the likelihood's gradient sums to
zero). It is the objective of ``choix.opt_pairwise(n, data, alpha)``, which the tests check.
``prior_sd = inf`` (``alpha = 0``) is plain maximum likelihood; it exists only when every
split of the methods into two groups has a win each way (the "beats" graph is strongly
connected, Hunter 2004), else an :class:`~vsrbench.core.errors.InputError` says so.
The maximiser is found by Newton's method with step halving (the objective is concave), to a
gradient of at most ``tol`` (default 1e-10).

**A study** (:func:`score_answers`) is scored per clip (the answers of that clip) and overall (all
clips pooled, one strength per method). Only ``pair`` trials enter the fits:

- **Attention checks** (``attention`` trials, the GT against a strongly degraded copy): a
  participant who chose the GT in fewer than ``min_attention`` (default 0.75) of their checks is
  excluded from everything and counted; a participant without checks is kept (and listed).
- **Consistency** (``repeat`` trials, a pair shown again): per participant, the share of repeats
  in which the same *method* was chosen as in the trial it repeats (``repeat_of``); the repeats
  themselves do not enter the fits (each pair counts once per participant, as the design
  balanced it).
- **Transitivity**: per participant and clip, every three methods of which all three pairs
  were judged form a triad; it is circular when the three choices go round
  (a > b, b > c, c > a). Reported as circular / complete triads per participant.

**Intervals** resample *participants* with replacement (``bootstrap`` resamples, ``seed``):
each resample refits every clip and the overall scores from the pooled answers of the drawn
participants (a participant drawn twice counts twice); the interval is the ``(1-level)/2`` and
``(1+level)/2`` quantiles (numpy's linear rule) of the refitted strengths.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable, Mapping, Sequence

import numpy as np

from vsrbench.analysis.study_answers import DEGRADED, GT, Answer
from vsrbench.core.errors import InputError

__all__ = [
    "DEFAULT_PRIOR_SD", "DEFAULT_MIN_ATTENTION", "OVERALL", "alpha_of", "fit_strengths", "win_matrix",
    "attention_results", "consistency", "circular_triads", "BTScores", "score_answers", "format_scores",
]

#: the standard deviation of the Gaussian prior on each log-strength
DEFAULT_PRIOR_SD = 3.0
#: the share of attention checks a participant must pass to be kept
DEFAULT_MIN_ATTENTION = 0.75
#: the key of the scores of all clips pooled
OVERALL = "(overall)"


def alpha_of(prior_sd: float) -> float:
    """The penalty ``alpha = 1 / (2 prior_sd**2)`` of a prior standard deviation (0 for ``inf``)."""
    if not prior_sd > 0:
        raise InputError(f"prior_sd must be > 0 (inf: no prior), got {prior_sd!r}")
    return 0.0 if math.isinf(prior_sd) else 1.0 / (2.0 * prior_sd ** 2)


# ---------------------------------------------------------------------- the fit


def _objective(s: np.ndarray, wins: np.ndarray, alpha: float) -> np.ndarray:
    """Negative log-posterior, per batch element: ``sum W_ij log(1 + exp(-(s_i - s_j))) + alpha |s|^2``."""
    d = s[..., :, None] - s[..., None, :]
    return np.sum(wins * np.logaddexp(0.0, -d), axis=(-2, -1)) + alpha * np.sum(s * s, axis=-1)


def _newton_step(s: np.ndarray, wins: np.ndarray, games: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The gradient and the Newton step of the objective at ``s`` (batched)."""
    m = s.shape[-1]
    p = 1.0 / (1.0 + np.exp(-(s[..., :, None] - s[..., None, :])))
    grad = np.sum(games * p - wins, axis=-1) + 2.0 * alpha * s
    w = games * p * (1.0 - p)
    hess = -w + np.eye(m) * (np.sum(w, axis=-1)[..., :, None] + 2.0 * alpha)
    if alpha == 0.0:  # the objective is flat along (1, ..., 1): fix the gauge (the step then keeps the mean)
        hess = hess + 1.0 / m
    return grad, np.linalg.solve(hess, -grad[..., None])[..., 0]


def _strongly_connected(wins: np.ndarray) -> bool:
    """Whether every method reaches every other by a chain of wins (Hunter 2004's condition)."""
    m = wins.shape[0]
    beats = (wins > 0) | np.eye(m, dtype=bool)
    reach = beats.copy()
    for _ in range(max(1, math.ceil(math.log2(max(m, 2))))):
        reach = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
    return bool(reach.all())


def fit_strengths(wins: np.ndarray, *, prior_sd: float = DEFAULT_PRIOR_SD, tol: float = 1e-10,
                  max_iter: int = 200) -> np.ndarray:
    """Bradley–Terry log-strengths (mean 0) from a win matrix (see the module's text).

    Parameters
    ----------
    wins : numpy.ndarray
        ``(M, M)``, or a batch ``(..., M, M)``: ``wins[i, j]`` is how often method ``i`` was preferred
        to method ``j`` (non-negative, any real weights; the diagonal is ignored).
    prior_sd : float
        Standard deviation of the Gaussian prior on each log-strength (``inf``: maximum likelihood).
    tol : float
        Stop when the largest gradient component is at most this.
    max_iter : int
        Newton steps at most (a RuntimeError beyond: it does not happen on a concave objective).

    Returns
    -------
    numpy.ndarray
        ``(..., M)`` log-strengths, mean 0 over the last axis.

    Raises
    ------
    vsrbench.core.errors.InputError
        A negative count, or ``prior_sd = inf`` on data whose maximum likelihood does not exist.
    """
    wins = np.array(wins, dtype=np.float64)
    if wins.ndim < 2 or wins.shape[-1] != wins.shape[-2]:
        raise InputError(f"wins must be a square (M, M) matrix or a batch of them, got shape {wins.shape}")
    if np.any(wins < 0) or not np.all(np.isfinite(wins)):
        raise InputError("wins: counts must be finite and >= 0")
    m = wins.shape[-1]
    wins = wins * (1.0 - np.eye(m))
    alpha = alpha_of(prior_sd)
    if alpha == 0.0:
        for w in wins.reshape(-1, m, m):
            if not _strongly_connected(w):
                raise InputError("maximum likelihood (no prior) does not exist for these answers: some methods "
                                 "won (or lost) every comparison with the others; use a finite prior_sd")
    games = wins + np.swapaxes(wins, -1, -2)
    s = np.zeros(wins.shape[:-1])
    f = _objective(s, wins, alpha)
    for _ in range(max_iter):
        grad, step = _newton_step(s, wins, games, alpha)
        todo = np.max(np.abs(grad), axis=-1) > tol
        if not np.any(todo):
            return s - s.mean(axis=-1, keepdims=True)
        t = np.where(todo, 1.0, 0.0)
        for _ in range(60):  # halve the step where it does not decrease the objective
            trial = s + t[..., None] * step
            f_new = _objective(trial, wins, alpha)
            worse = todo & (f_new > f + 1e-12 * np.abs(f))
            if not np.any(worse):
                break
            t = np.where(worse, t / 2.0, t)
        s, f = trial, f_new
    raise RuntimeError(f"Bradley-Terry fit did not converge in {max_iter} Newton steps")


def win_matrix(pairs: Iterable[tuple[str, str]], methods: Sequence[str]) -> np.ndarray:
    """``W[i, j]``: how often ``methods[i]`` won against ``methods[j]`` in ``(winner, loser)`` pairs."""
    index = {m: k for k, m in enumerate(methods)}
    w = np.zeros((len(methods), len(methods)))
    for winner, loser in pairs:
        w[index[winner], index[loser]] += 1.0
    return w


# ---------------------------------------------------------------------- participants


def _by_participant(answers: Iterable[Answer], kind: str) -> dict[str, list[Answer]]:
    out: dict[str, list[Answer]] = {}
    for a in answers:
        if a.kind == kind:
            out.setdefault(a.participant, []).append(a)
    return out


def attention_results(answers: Iterable[Answer]) -> dict[str, tuple[int, int]]:
    """``participant -> (checks passed, checks)``: a check is passed when the GT was chosen."""
    out = {}
    for who, given in _by_participant(answers, "attention").items():
        for a in given:
            if {a.left, a.right} != {GT, DEGRADED}:
                raise InputError(f"attention trial {a.trial!r} of participant {who!r} shows {a.left!r} and "
                                 f"{a.right!r}, expected {GT!r} and {DEGRADED!r}")
        out[who] = (sum(a.choice == GT for a in given), len(given))
    return out


def consistency(answers: Iterable[Answer]) -> dict[str, tuple[int, int]]:
    """``participant -> (repeats answered as the first time, repeats)``, matched on ``repeat_of``.

    A repeat whose first trial the participant did not answer is left out of the count.
    """
    answers = list(answers)
    first = {(a.participant, a.trial): a for a in answers if a.kind != "repeat"}
    out = {}
    for who, given in _by_participant(answers, "repeat").items():
        same = total = 0
        for a in given:
            orig = first.get((who, a.repeat_of))
            if orig is None:
                continue
            if {orig.left, orig.right} != {a.left, a.right}:
                raise InputError(f"repeat trial {a.trial!r} of participant {who!r} shows {a.left!r}/{a.right!r}, "
                                 f"but the trial it repeats ({a.repeat_of!r}) showed {orig.left!r}/{orig.right!r}")
            total += 1
            same += a.choice == orig.choice
        out[who] = (same, total)
    return out


def circular_triads(answers: Iterable[Answer]) -> dict[str, tuple[int, int]]:
    """``participant -> (circular triads, complete triads)`` over the ``pair`` trials of each clip.

    A pair judged more than once by one participant counts by its majority (a tie: the pair is left
    out); repeats are not used.
    """
    out = {}
    for who, given in _by_participant(answers, "pair").items():
        circular = complete = 0
        for clip in dict.fromkeys(a.clip for a in given):
            votes: dict[tuple[str, str], int] = {}
            for a in given:
                if a.clip == clip:
                    votes[(a.choice, a.loser)] = votes.get((a.choice, a.loser), 0) + 1
            beats = {(x, y) for (x, y), n in votes.items() if n > votes.get((y, x), 0)}
            methods = sorted({m for pair in beats for m in pair})
            for x, y, z in combinations(methods, 3):
                edges = [((x, y) in beats) - ((y, x) in beats), ((y, z) in beats) - ((z, y) in beats),
                         ((z, x) in beats) - ((x, z) in beats)]
                if 0 in edges:
                    continue
                complete += 1
                circular += abs(sum(edges)) == 3
        out[who] = (circular, complete)
    return out


# ---------------------------------------------------------------------- a study's scores


@dataclass(frozen=True)
class BTScores:
    """The Bradley–Terry scores of a study: per clip and :data:`OVERALL` (all clips pooled).

    ``strengths[clip][method]`` is a log-strength (mean 0 over the methods compared in that clip),
    ``intervals[clip][method]`` its bootstrap interval ``(lo, hi)`` over participants (NaN without
    resamples), ``comparisons[clip]`` the ``pair`` answers the fit used. ``attention``,
    ``consistency`` and ``transitivity`` map each participant to ``(passed, checks)``, ``(same,
    repeats)`` and ``(circular, complete triads)``; ``excluded`` lists the participants who failed
    the attention checks (they are in no fit, nor in ``consistency``/``transitivity``).
    """

    methods: tuple[str, ...]
    clips: tuple[str, ...]
    strengths: Mapping[str, Mapping[str, float]]
    intervals: Mapping[str, Mapping[str, tuple[float, float]]]
    comparisons: Mapping[str, int]
    included: tuple[str, ...]
    excluded: tuple[str, ...]
    attention: Mapping[str, tuple[int, int]]
    consistency: Mapping[str, tuple[int, int]]
    transitivity: Mapping[str, tuple[int, int]]
    prior_sd: float
    min_attention: float
    level: float
    bootstrap: int
    seed: int
    duplicates: int = 0
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """A JSON-ready summary (intervals as ``[lo, hi]``, NaN as null)."""
        def num(v: float) -> float | None:
            return None if not math.isfinite(v) else float(v)

        return {
            "model": "Bradley-Terry, log-strength (natural log, mean 0 per fit); MAP under N(0, prior_sd^2)",
            "prior_sd": num(self.prior_sd), "min_attention": self.min_attention, "level": self.level,
            "bootstrap": self.bootstrap, "seed": self.seed, "methods": list(self.methods), "clips": list(self.clips),
            "scores": {c: {m: {"strength": num(v), "ci": [num(x) for x in self.intervals[c][m]]}
                           for m, v in per.items()} for c, per in self.strengths.items()},
            "comparisons": dict(self.comparisons),
            "participants": {"included": list(self.included), "excluded": list(self.excluded),
                             "attention": {k: list(v) for k, v in self.attention.items()},
                             "consistency": {k: list(v) for k, v in self.consistency.items()},
                             "transitivity": {k: list(v) for k, v in self.transitivity.items()}},
            "duplicates_dropped": self.duplicates, "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"


def _checked(answers: Iterable[Answer]) -> tuple[list[Answer], int]:
    """The answers with exact duplicates dropped (and counted); conflicting or malformed ones refused."""
    seen: dict[tuple[str, str], Answer] = {}
    dropped = 0
    for a in answers:
        if not isinstance(a, Answer):
            raise InputError(f"answers: expected Answer records, got {type(a).__name__}")
        if a.kind == "pair" and (a.left == a.right or {a.left, a.right} & {GT, DEGRADED}):
            raise InputError(f"pair trial {a.trial!r} of participant {a.participant!r} shows {a.left!r} and "
                             f"{a.right!r}: a pair trial shows two different methods (not the attention-check sides)")
        key = (a.participant, a.trial)
        if key in seen:
            if seen[key] != a:
                raise InputError(f"participant {a.participant!r} answered trial {a.trial!r} twice, differently "
                                 f"({_said(seen[key])}, then {_said(a)})")
            dropped += 1
            continue
        seen[key] = a
    return list(seen.values()), dropped


def _said(a: Answer) -> str:
    return f"{a.choice!r} of {a.left!r}/{a.right!r} on {a.clip!r}"


def _participant_tensor(pairs: Sequence[Answer], people: Sequence[str], clips: Sequence[str],
                        methods: Sequence[str]) -> np.ndarray:
    """``T[p, c, i, j]``: how often participant ``p`` preferred method ``i`` to ``j`` on clip ``c``."""
    pi, ci, mi = ({v: k for k, v in enumerate(x)} for x in (people, clips, methods))
    t = np.zeros((len(people), len(clips), len(methods), len(methods)))
    for a in pairs:
        t[pi[a.participant], ci[a.clip], mi[a.choice], mi[a.loser]] += 1.0
    return t


def _fits(wins: np.ndarray, present: Sequence[np.ndarray], prior_sd: float) -> list[np.ndarray]:
    """Strengths per clip (and overall, last), each on the methods present there; ``wins`` is ``(..., C+1, M, M)``."""
    out = []
    for c, idx in enumerate(present):
        sub = wins[..., c, :, :][..., idx[:, None], idx[None, :]]
        out.append(fit_strengths(sub, prior_sd=prior_sd))
    return out


def score_answers(answers: Iterable[Answer], *, prior_sd: float = DEFAULT_PRIOR_SD,
                  min_attention: float = DEFAULT_MIN_ATTENTION, bootstrap: int = 1000, seed: int = 0,
                  level: float = 0.95) -> BTScores:
    """Bradley–Terry scores per clip and overall, with participant-bootstrap intervals (module text).

    Parameters
    ----------
    answers : iterable of Answer
        Every answer of the study (all participants, all kinds).
    prior_sd : float
        The prior's standard deviation on each log-strength (finite: every resample must have a fit).
    min_attention : float
        Participants who passed fewer than this share of their attention checks are excluded.
    bootstrap : int
        Participant resamples for the intervals (0: no intervals).
    seed : int
        Seed of the resampling; the same seed gives the same intervals.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    BTScores

    Raises
    ------
    vsrbench.core.errors.InputError
        Malformed or conflicting answers, options out of range, or no pair answer left after the
        exclusions.
    """
    if not (0.0 < level < 1.0) or not (0.0 <= min_attention <= 1.0) or bootstrap < 0 or math.isinf(prior_sd):
        raise InputError(f"score_answers: need 0 < level < 1, 0 <= min_attention <= 1, bootstrap >= 0 and a finite "
                         f"prior_sd (got {level}, {min_attention}, {bootstrap}, {prior_sd})")
    alpha_of(prior_sd)
    answers, dropped = _checked(answers)
    attention = attention_results(answers)
    excluded = tuple(sorted(p for p, (ok, n) in attention.items() if n and ok / n < min_attention))
    kept = [a for a in answers if a.participant not in set(excluded)]
    pairs = [a for a in kept if a.kind == "pair"]
    if not pairs:
        raise InputError(f"no pair answers to score ({len(answers)} answers, {len(excluded)} participant(s) "
                         "excluded by the attention checks)")
    people = tuple(dict.fromkeys(a.participant for a in pairs))
    clips = tuple(dict.fromkeys(a.clip for a in pairs))
    methods = tuple(dict.fromkeys(m for a in pairs for m in (a.left, a.right)))
    tensor = _participant_tensor(pairs, people, clips, methods)
    wins = np.concatenate([tensor.sum(axis=0), tensor.sum(axis=(0, 1))[None]], axis=0)
    present = [np.flatnonzero((w + w.T).sum(axis=1) > 0) for w in wins]
    point = _fits(wins, present, prior_sd)
    boot = _bootstrap(tensor, present, prior_sd, bootstrap, seed)
    q = np.array([(1 - level) / 2, (1 + level) / 2])
    names = [*clips, OVERALL]
    strengths, intervals = {}, {}
    for c, name in enumerate(names):
        ms = [methods[i] for i in present[c]]
        strengths[name] = {m: float(v) for m, v in zip(ms, point[c])}
        if boot is None:
            intervals[name] = {m: (math.nan, math.nan) for m in ms}
        else:
            lo, hi = np.quantile(boot[c], q, axis=0)
            intervals[name] = {m: (float(a), float(b)) for m, a, b in zip(ms, lo, hi)}
    return BTScores(
        methods=methods, clips=clips, strengths=strengths, intervals=intervals,
        comparisons={n: int(wins[c].sum()) for c, n in enumerate(names)}, included=people, excluded=excluded,
        attention=attention, consistency=consistency(kept), transitivity=circular_triads(kept), prior_sd=prior_sd,
        min_attention=min_attention, level=level, bootstrap=bootstrap, seed=seed, duplicates=dropped,
        notes=tuple(_notes(attention, kept, people)))


def _bootstrap(tensor: np.ndarray, present: Sequence[np.ndarray], prior_sd: float, resamples: int,
               seed: int) -> list[np.ndarray] | None:
    """``(B, M_c)`` refitted strengths per clip (and overall, last) over participant resamples."""
    if resamples == 0:
        return None
    rng = np.random.default_rng(seed)
    n = tensor.shape[0]
    draws = rng.integers(0, n, size=(resamples, n))
    counts = np.zeros((resamples, n))
    np.add.at(counts, (np.arange(resamples)[:, None], draws), 1.0)
    per_clip = np.einsum("bp,pcij->bcij", counts, tensor)
    wins = np.concatenate([per_clip, per_clip.sum(axis=1, keepdims=True)], axis=1)
    return _fits(wins, present, prior_sd)


def _notes(attention: Mapping[str, tuple[int, int]], kept: Sequence[Answer], people: Sequence[str]) -> list[str]:
    out = []
    unchecked = sorted(p for p in people if not attention.get(p, (0, 0))[1])
    if unchecked:
        out.append(f"{len(unchecked)} participant(s) answered no attention check and were kept: {', '.join(unchecked)}")
    return out


def _share(pair: tuple[int, int]) -> str:
    a, n = pair
    return f"{a}/{n}" if n else "-"


def format_scores(scores: BTScores, decimals: int = 3) -> str:
    """A plain-text summary: the scores with their intervals per clip and overall, then the participants."""
    pct = f"{scores.level * 100:g}%"
    lines = [f"Bradley-Terry scores (log-strength, mean 0; prior N(0, {scores.prior_sd:g}^2); {pct} intervals over "
             f"participants, {scores.bootstrap} resamples, seed {scores.seed})"]
    for clip in [*scores.clips, OVERALL]:
        lines.append(f"{clip} ({scores.comparisons[clip]} comparisons):")
        ranked = sorted(scores.strengths[clip].items(), key=lambda kv: -kv[1])
        for m, v in ranked:
            lo, hi = scores.intervals[clip][m]
            ci = f"[{lo:.{decimals}f}, {hi:.{decimals}f}]" if math.isfinite(lo) else ""
            lines.append(f"  {m:<24} {v:>{decimals + 4}.{decimals}f} {ci}")
    lines.append(f"participants: {len(scores.included)} scored, {len(scores.excluded)} excluded by the attention checks "
                 f"(kept: at least {scores.min_attention:g} passed)" +
                 (f": {', '.join(scores.excluded)}" if scores.excluded else ""))
    lines.append(f"  {'participant':<24} {'attention':>9} {'consistent':>10} {'circular triads':>15}")
    for p in scores.included:
        lines.append(f"  {p:<24} {_share(scores.attention.get(p, (0, 0))):>9} "
                     f"{_share(scores.consistency.get(p, (0, 0))):>10} {_share(scores.transitivity.get(p, (0, 0))):>15}")
    if scores.duplicates:
        lines.append(f"note: {scores.duplicates} duplicate answer(s) (same participant, trial and choice) counted once")
    lines += [f"note: {n}" for n in scores.notes]
    return "\n".join(lines) + "\n"
