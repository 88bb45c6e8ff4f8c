"""The study tests' data: the report tests' tiny results folder (3 methods, 2 clips of 7 frames) and a
study built from it, plus answer files written the way the page writes them."""
from __future__ import annotations

import json
from pathlib import Path

from _support.report_data import NOISE, N_FRAMES, SEQS, make_results

from vsrbench.visual.study.design import Trial, participant_order
from vsrbench.visual.study.site import StudyMakeRequest, build_study

__all__ = ["NOISE", "N_FRAMES", "SEQS", "make_results", "build", "trials_of", "answer_file", "planted_answers"]


def build(res: Path, out: Path, **options) -> dict:
    """Build the study of ``res`` into ``out`` (fast: fps 60); returns its study.json."""
    options = {"fps": 60.0, **options}
    site = build_study(StudyMakeRequest(results=str(res), out=str(out), **options))
    return site.study


def trials_of(study: dict) -> dict[str, Trial]:
    return {k: Trial(k, t["clip"], t["a"], t["b"], t["kind"], t["repeat_of"]) for k, t in study["trials"].items()}


def planted_answers(study: dict, design: int, seed: int, prefer: str) -> list[dict]:
    """A participant who always picks ``prefer`` (else the GT, else the left side), as the page records them."""
    out = []
    for tid, left, right in participant_order(study["designs"][design], trials_of(study), seed):
        sides = (left, right)
        choice = prefer if prefer in sides else ("__gt__" if "__gt__" in sides else left)
        out.append({"trial": tid, "left": left, "right": right, "choice": choice, "seconds": 1.5})
    return out


def answer_file(study_dir: Path, study: dict, participant: str, design: int, seed: int, answers: list[dict],
                name: str | None = None) -> Path:
    """Write a downloaded answers file into STUDY/answers/ (the page's format)."""
    path = study_dir / "answers" / (name or f"{participant}.json")
    path.write_text(json.dumps({"format": "vsrbench-study-answers", "version": 1, "study": study["id"],
                                "participant": participant, "design": design, "seed": seed, "mode": "static",
                                "answers": answers}))
    return path
