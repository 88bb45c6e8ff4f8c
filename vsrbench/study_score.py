"""``vsrbench study score``: Bradley–Terry scores of a user study, stored beside the computed metrics.

:func:`score_study` reads the study's answers (the study site's loader,
``vsrbench.visual.study.answers.load_answers``), scores them
(:func:`vsrbench.analysis.bradley_terry.score_answers`: per clip and overall, participant-bootstrap
intervals, attention-check exclusions, consistency and transitivity), writes the JSON summary and
stores the per-clip strengths in a results folder as the human metric ``human_bt``.

**How the scores are stored.** ``human_bt`` is a per-clip metric (``METRICS["human_bt"]``: human,
higher is better): one row per (method, clip), at the index and GT file name of the clip's first
scored frame, so that the per-sequence mean, and so every table, plot and report, shows the
clip's strength; the dataset average of a table (``seq_avg``) is then the mean of the per-clip
strengths (the pooled ``(overall)`` fit is in the summary). A clip of the study is named
as the study's ``study.json`` records it (``clips``: name -> dataset and sequence); a clip it does
not list is read as ``DATASET/SEQUENCE``, or ``SEQUENCE`` alone when the results folder holds it in
one dataset only (or ``dataset`` says which). The rows are stored **under the protocol of the computed metrics of
that dataset** (the study showed the outputs those metrics scored), so ``vsrbench table RESULTS``
shows ``Human (BT)`` as one more column; a dataset stored under several protocols needs
``protocol``; a dataset with no computed results gets the pseudo-protocol ``study``. The stored
metric version is ``1+DIGEST``, the digest of the answers used and the prior: scoring the same
answers again adds nothing, scoring a grown study stores a new version, and readers show the
latest one. Each store is one run of its own (a :class:`~vsrbench.results.session.RunSession`:
``bench_name`` ``study``, the study folder and the fit's settings in its record).
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from vsrbench.analysis.bradley_terry import DEFAULT_MIN_ATTENTION, DEFAULT_PRIOR_SD, BTScores, score_answers
from vsrbench.core.errors import InputError

if TYPE_CHECKING:
    from vsrbench.analysis.study_answers import Answer
    from vsrbench.results.store import ResultsStore

__all__ = ["HUMAN_METRIC", "STUDY_PROTOCOL", "STUDY_PROTOCOL_HASH", "SUMMARY_NAME", "ScoreStudyRequest",
           "StudyScoreResult", "score_study", "store_scores", "human_version"]

#: the metric the strengths are stored as
HUMAN_METRIC = "human_bt"
#: the pseudo-protocol of a dataset with no computed results in the folder
STUDY_PROTOCOL = "study"
_STUDY_DEFINITION = "pairwise user study, Bradley-Terry log-strength per clip (vsrbench study score v1)"
STUDY_PROTOCOL_HASH = hashlib.sha256(_STUDY_DEFINITION.encode()).hexdigest()[:12]
#: the summary's file name in the study folder (when the request names no other)
SUMMARY_NAME = "scores.json"


@dataclass(frozen=True)
class ScoreStudyRequest:
    """What ``vsrbench study score STUDY [--out RESULTS]`` was asked.

    ``out``: the results folder to store ``human_bt`` in (None: the ``results`` the study's
    ``study.json`` names, else nothing is stored); ``summary``: where the JSON summary goes
    (default ``STUDY/scores.json``); ``dataset`` / ``protocol``: for clips named without a dataset,
    and datasets stored under several protocols. The other fields are those of
    :func:`~vsrbench.analysis.bradley_terry.score_answers`.
    """

    study: str
    out: str | None = None
    bootstrap: int = 1000
    seed: int = 0
    level: float = 0.95
    prior_sd: float = DEFAULT_PRIOR_SD
    min_attention: float = DEFAULT_MIN_ATTENTION
    dataset: str | None = None
    protocol: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class StudyScoreResult:
    """The scores, where they were stored (``out``: None when nowhere) and the rows added."""

    scores: BTScores
    out: Path | None
    stored: int
    summary: Path
    targets: Mapping[str, tuple[str, str]]  # clip -> (dataset, sequence)

    def text(self) -> str:
        from vsrbench.analysis.bradley_terry import format_scores

        where = (f"stored as metric {HUMAN_METRIC!r} in {str(self.out)!r} ({self.stored} new rows); "
                 f"`vsrbench table {self.out}` shows it" if self.out is not None else
                 "not stored in a results folder (pass --out RESULTS)")
        return format_scores(self.scores) + f"{where}\nsummary: {self.summary}\n"


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")


def score_study(request: ScoreStudyRequest, *, say: Callable[[str], None] = _stderr) -> StudyScoreResult:
    """Score a study's answers, write the summary and store ``human_bt`` (module text).

    Raises
    ------
    vsrbench.core.errors.InputError
        No such study folder, answers the loader or the fit refuse, clips that name no dataset of the
        results folder, or a dataset stored under several protocols without ``protocol``.
    """
    from vsrbench.core.io import atomic_write_text
    from vsrbench.visual.study.answers import load_answers  # the study site's loader

    study = Path(request.study)
    if not study.is_dir():
        raise InputError(f"study folder {str(study)!r} does not exist (make one with `vsrbench study make`)")
    answers = list(load_answers(study))
    scores = score_answers(answers, prior_sd=request.prior_sd, min_attention=request.min_attention,
                           bootstrap=request.bootstrap, seed=request.seed, level=request.level)
    out = request.out or _study_results(study)
    stored, targets = (0, {}) if out is None else store_scores(
        scores, answers, out, study=str(study.resolve()), places=_study_clips(study), dataset=request.dataset,
        protocol=request.protocol, say=say)
    summary = Path(request.summary) if request.summary else study / SUMMARY_NAME
    record = {**scores.to_dict(), "stored": {"results": None if out is None else str(out), "metric": HUMAN_METRIC,
                                             "rows": stored, "clips": {c: list(t) for c, t in targets.items()}}}
    atomic_write_text(summary, json.dumps(record, indent=2) + "\n")
    return StudyScoreResult(scores, None if out is None else Path(out), stored, summary, targets)


def _study_clips(study: Path) -> dict[str, tuple[str, str]]:
    """clip name -> (dataset, sequence) as the study's ``study.json`` records them (empty when it does not)."""
    try:
        from vsrbench.visual.study.answers import clip_names, load_study

        return dict(clip_names(load_study(study)))
    except (ImportError, InputError, KeyError, TypeError, AttributeError):
        return {}


def _study_results(study: Path) -> str | None:
    """The results folder a study was made from, as its ``study.json`` records it (``results``)."""
    manifest = study / "study.json"
    try:
        given = json.loads(manifest.read_text()).get("results") if manifest.is_file() else None
    except (OSError, ValueError, AttributeError):
        return None
    return given if isinstance(given, str) and given else None


def human_version(answers: Sequence["Answer"], scores: BTScores) -> str:
    """``VERSION+DIGEST``: the metric version of ``human_bt`` and a digest of the answers used and the fit."""
    from vsrbench.metrics import METRICS

    used = sorted((a.participant, a.trial, a.clip, a.left, a.right, a.choice, a.kind) for a in answers
                  if a.participant in set(scores.included))
    blob = json.dumps([used, scores.prior_sd, scores.min_attention]).encode()
    return f"{METRICS[HUMAN_METRIC].version}+{hashlib.sha256(blob).hexdigest()[:10]}"


def store_scores(scores: BTScores, answers: Sequence["Answer"], out: str | Path, *, study: str = "",
                 places: Mapping[str, tuple[str, str]] | None = None, dataset: str | None = None, protocol: str | None = None,
                 say: Callable[[str], None] = _stderr) -> tuple[int, dict[str, tuple[str, str]]]:
    """Store the per-clip strengths of ``scores`` in the results folder ``out`` as ``human_bt``.

    ``places`` maps clip names to their ``(dataset, sequence)`` (the study's record); other clips are
    placed by their name (module text). Returns the number of rows added and each clip's
    ``(dataset, sequence)``. One run per protocol the rows go under.
    """
    from vsrbench.results.session import RunSession
    from vsrbench.results.store import SequenceResult
    from vsrbench.run.record import run_environment

    version = human_version(answers, scores)
    added = 0
    with RunSession(out, say=say) as session:
        targets = {c: tuple((places or {}).get(c) or _target(session.store, c, dataset)) for c in scores.clips}
        groups: dict[tuple[str, str], list[str]] = {}
        for clip, (ds, _) in targets.items():
            groups.setdefault(_protocol_of(session.store, ds, protocol), []).append(clip)
    for (name, key), clips in groups.items():
        with RunSession(out, say=say) as session:
            session.start({
                **run_environment(), "bench_name": "study",
                "bench": {"command": "study score", "study": study, "clips": {c: list(targets[c]) for c in clips},
                          "prior_sd": scores.prior_sd, "min_attention": scores.min_attention,
                          "participants": len(scores.included), "excluded": list(scores.excluded)},
                "protocol": name, "protocol_hash": key, "protocol_fields": _protocol_fields(session.store, key),
                "metric_versions": {HUMAN_METRIC: version}})
            for clip in clips:
                added += _store_clip(session, SequenceResult, scores, clip, targets[clip], (name, key), version)
    return added, targets


def _store_clip(session, result_type, scores: BTScores, clip: str, target: tuple[str, str],
                protocol: tuple[str, str], version: str) -> int:
    ds, seq = target
    frame, name = _first_frame(session.store, ds, seq, protocol[1])
    added = 0
    session.claim_sequence(ds, seq)
    for method, value in scores.strengths[clip].items():
        added += session.add(result_type(
            method=method, dataset=ds, sequence=seq, rows=[(frame, HUMAN_METRIC, value)],
            frame_names=[""] * frame + [name], metric_versions={HUMAN_METRIC: version},
            protocol=protocol[0], protocol_hash=protocol[1]))
    session.release_sequence(ds, seq)
    return added


def _computed(store: "ResultsStore", sql: str, params: Sequence) -> list[tuple]:
    return store.query(sql + " AND metric != ?", [*params, HUMAN_METRIC])


def _target(store: "ResultsStore", clip: str, dataset: str | None) -> tuple[str, str]:
    """The (dataset, sequence) a clip names (module text)."""
    if "/" in clip:
        ds, seq = clip.split("/", 1)
        return ds, seq
    if dataset is not None:
        return dataset, clip
    found = sorted({r[0] for r in _computed(store, "SELECT DISTINCT dataset FROM completed WHERE sequence = ?", [clip])})
    if len(found) == 1:
        return found[0], clip
    which = (f"it is a sequence of several datasets ({', '.join(found)})" if found else
             f"no dataset of {str(store.results_dir)!r} has a sequence {clip!r}")
    raise InputError(f"study clip {clip!r} names no dataset and {which}; pass --dataset NAME")


def _protocol_of(store: "ResultsStore", dataset: str, wanted: str | None) -> tuple[str, str]:
    """The (name, hash) of the computed results of ``dataset`` the human scores go beside (module text)."""
    stored = _computed(store, "SELECT DISTINCT protocol, protocol_hash FROM completed WHERE dataset = ?", [dataset])
    pairs = sorted({(str(n), str(h)) for n, h in stored})
    if wanted is not None:
        chosen = [p for p in pairs if wanted in p]
        if not chosen:
            have = ", ".join(f"{n} ({h})" for n, h in pairs) or "none"
            raise InputError(f"protocol {wanted!r}: dataset {dataset!r} holds no results under it (stored: {have})")
        return chosen[0]
    if len(pairs) > 1:
        raise InputError(f"dataset {dataset!r} holds results of several protocols "
                         f"({', '.join(f'{n} ({h})' for n, h in pairs)}); pass --protocol NAME to say which the study "
                         "showed")
    return pairs[0] if pairs else (STUDY_PROTOCOL, STUDY_PROTOCOL_HASH)


def _protocol_fields(store: "ResultsStore", key: str) -> dict:
    if key == STUDY_PROTOCOL_HASH:
        return {"definition": _STUDY_DEFINITION}
    rows = store.query("SELECT protocol_fields FROM runs WHERE protocol_hash = ? ORDER BY run_id LIMIT 1", [key])
    try:
        return json.loads(rows[0][0]) if rows else {}
    except (TypeError, ValueError):
        return {}


def _first_frame(store: "ResultsStore", dataset: str, sequence: str, key: str) -> tuple[int, str]:
    """The index and GT file name of the clip's first scored frame (0 and "" when none is stored)."""
    rows = _computed(store, "SELECT frame, frame_name FROM results WHERE dataset = ? AND sequence = ? "
                     "AND protocol_hash = ?", [dataset, sequence, key])
    if not rows:
        return 0, ""
    frame, name = min(rows, key=lambda r: int(r[0]))
    return int(frame), str(name or "")
