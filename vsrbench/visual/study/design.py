"""The design of a pairwise study: which trials each participant sees, and in which order and on which side.

A *block* holds every pair of methods once on every clip. Its items are ordered so that any run of
consecutive items cycles through the pairs (item ``i`` shows pair ``i mod P`` on clip
``(i // P + i mod P) mod C``, a bijection onto pairs x clips), and design ``k`` takes the items
``k*N .. (k+1)*N - 1`` of the block repeated (``N`` trials per participant). With ``K`` designs such that
``K*N`` is a multiple of the block's length, the designs together show each pair of methods equally often
on each clip (:func:`balanced_designs` chooses the smallest such ``K`` by default).

Each design also holds attention checks (the ground truth against a strongly degraded copy of it,
:data:`~vsrbench.analysis.study_answers.GT` / :data:`~vsrbench.analysis.study_answers.DEGRADED`) and
repeats of some of its pair trials (the consistency of a participant).

The order of the trials and the side of each method are drawn per participant from the participant's
seed by :func:`participant_order`, which the page (``study.js``) computes the same way (the same
generator, mulberry32, and the same draws in the same order): a participant's screen can be rebuilt
from the recorded seed.
"""
from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from typing import Callable, Sequence

from vsrbench.analysis.study_answers import DEGRADED, GT
from vsrbench.core.errors import InputError

__all__ = ["Trial", "Design", "block", "balanced_designs", "mulberry32", "participant_order", "REPEAT_GAP"]

#: a repeated trial comes at least this many trials after the one it repeats (when the design allows)
REPEAT_GAP = 3
_M32 = 0xFFFFFFFF


@dataclass(frozen=True)
class Trial:
    """One comparison: methods ``a`` and ``b`` on ``clip`` (before the per-participant side swap)."""

    id: str
    clip: str
    a: str
    b: str
    kind: str = "pair"
    repeat_of: str | None = None

    def to_json(self) -> dict:
        return {"clip": self.clip, "a": self.a, "b": self.b, "kind": self.kind, "repeat_of": self.repeat_of}


@dataclass(frozen=True)
class Design:
    """Every trial of the study (by id) and the trial ids of each design (one list per design)."""

    trials: dict[str, Trial]
    designs: list[list[str]]
    appearances: int  # how often each pair of methods is shown on each clip, over all the designs

    def to_json(self) -> dict:
        return {"trials": {k: t.to_json() for k, t in self.trials.items()}, "designs": self.designs,
                "appearances_per_pair_per_clip": self.appearances}


def block(methods: Sequence[str], clips: Sequence[str]) -> list[tuple[str, str, str]]:
    """Every pair of ``methods`` once on every clip, as ``(clip, a, b)``, pairs cycling fastest.

    >>> block(["A", "B", "C"], ["x", "y"])[:4]
    [('x', 'A', 'B'), ('y', 'A', 'C'), ('x', 'B', 'C'), ('y', 'A', 'B')]
    """
    pairs = list(itertools.combinations(methods, 2))
    n_pairs, n_clips = len(pairs), len(clips)
    items = []
    for i in range(n_pairs * n_clips):
        p = i % n_pairs
        items.append((clips[(i // n_pairs + p) % n_clips], *pairs[p]))
    return items


def _check_counts(methods: Sequence[str], clips: Sequence[str], per_participant: int | None,
                  designs: int | None) -> tuple[int, int]:
    if len(methods) < 2:
        raise InputError(f"--methods: a pairwise study needs at least 2 methods, got {len(methods)}")
    if not clips:
        raise InputError("--clips: no clip to show")
    size = len(clips) * len(methods) * (len(methods) - 1) // 2
    n = size if per_participant is None else per_participant
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"--trials-per-participant: expected an integer >= 1, got {per_participant!r}")
    needed = size // math.gcd(size, n)
    k = needed if designs is None else designs
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"--participants-designs: expected an integer >= 1, got {designs!r}")
    if (k * n) % size:
        raise InputError(
            f"--participants-designs {k}: {k} designs of {n} trials do not show each pair of methods equally "
            f"often on each clip ({size} pairs x clips); use a multiple of {needed}")
    return n, k


def balanced_designs(methods: Sequence[str], clips: Sequence[str], *, per_participant: int | None = None,
                     designs: int | None = None, attention: int = 1, repeats: int = 1, seed: int = 0) -> Design:
    """The trials of a balanced study and the trial ids of each design.

    Parameters
    ----------
    methods, clips : sequence of str
        The methods compared (at least 2) and the clips they are compared on.
    per_participant : int, optional
        Pair trials per participant (default: the whole block, every pair on every clip).
    designs : int, optional
        How many designs (default: the fewest that balance the block, ``size / gcd(size, N)``).
    attention, repeats : int
        Attention checks and repeated pair trials added to each design.
    seed : int
        Draws the clips of the attention checks and which trials are repeated.

    Raises
    ------
    vsrbench.core.errors.InputError
        Fewer than 2 methods, no clip, counts under 1 (0 for ``attention``/``repeats``), or a number of
        designs that cannot be balanced.
    """
    n, k = _check_counts(methods, clips, per_participant, designs)
    for name, v in (("--attention-checks", attention), ("--repeats", repeats)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InputError(f"{name}: expected an integer >= 0, got {v!r}")
    if repeats > n:
        raise InputError(f"--repeats {repeats}: more than the {n} pair trials of a participant")
    items = block(methods, clips)
    rng = random.Random(seed)
    trials: dict[str, Trial] = {}
    ids = {}
    for i, (clip, a, b) in enumerate(items):
        ids[i] = f"t{i}"
        trials[ids[i]] = Trial(ids[i], clip, a, b)
    out = []
    for d in range(k):
        chosen = [ids[(d * n + j) % len(items)] for j in range(n)]
        design = list(chosen)
        for r, orig in enumerate(rng.sample(sorted(set(chosen), key=chosen.index), min(repeats, len(set(chosen))))):
            tid = f"r{d}-{r}"
            trials[tid] = Trial(tid, trials[orig].clip, trials[orig].a, trials[orig].b, "repeat", orig)
            design.append(tid)
        for c in range(attention):
            tid = f"a{d}-{c}"
            trials[tid] = Trial(tid, clips[rng.randrange(len(clips))], GT, DEGRADED, "attention")
            design.append(tid)
        out.append(design)
    return Design(trials, out, k * n // len(items))


def mulberry32(seed: int) -> Callable[[], float]:
    """The mulberry32 generator of ``study.js`` (32-bit state; floats in [0, 1) with 32 random bits).

    >>> g = mulberry32(1); [round(g(), 6) for _ in range(3)]
    [0.627074, 0.002736, 0.527447]
    """
    state = seed & _M32

    def draw() -> float:
        nonlocal state
        state = (state + 0x6D2B79F5) & _M32
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & _M32
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & _M32)) & _M32
        return ((t ^ (t >> 14)) & _M32) / 4294967296.0

    return draw


def participant_order(design: Sequence[str], trials: dict[str, Trial], seed: int) -> list[tuple[str, str, str]]:
    """The trials of ``design`` as the participant with ``seed`` sees them: ``(trial id, left, right)``.

    The pair trials and attention checks are shuffled (Fisher-Yates); each is then given its sides (a
    swap with probability 1/2, in the shuffled order); each repeat (in design order) goes at a random
    place at least :data:`REPEAT_GAP` trials after the one it repeats (or last), with the sides swapped
    relative to it. ``study.js`` makes the same draws.
    """
    draw = mulberry32(seed)
    order = [t for t in design if trials[t].kind != "repeat"]
    for i in range(len(order) - 1, 0, -1):
        j = int(draw() * (i + 1))
        order[i], order[j] = order[j], order[i]
    swap = {t: draw() < 0.5 for t in order}
    for t in design:
        if trials[t].kind != "repeat":
            continue
        pos = order.index(trials[t].repeat_of)
        lo = min(pos + REPEAT_GAP, len(order))
        order.insert(lo + int(draw() * (len(order) - lo + 1)), t)
        swap[t] = not swap[trials[t].repeat_of]
    out = []
    for t in order:
        a, b = trials[t].a, trials[t].b
        out.append((t, b, a) if swap[t] else (t, a, b))
    return out
