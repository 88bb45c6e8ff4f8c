"""``vsrbench study make | serve | score``: a pairwise user study of a results folder.

:func:`run_study` does what one request asks: build the study site
(:func:`vsrbench.visual.study.site.make_study`), serve it and store the answers
(:func:`vsrbench.visual.study.server.serve_study`), or score the answers with Bradley–Terry and store
the scores beside the computed metrics (:func:`vsrbench.study_score.score_study`). Returns the text
the command prints.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from vsrbench.study_score import ScoreStudyRequest
    from vsrbench.visual.study.server import StudyServeRequest
    from vsrbench.visual.study.site import StudyMakeRequest

__all__ = ["run_study"]


def _stderr(line: str) -> None:
    sys.stderr.write(f"vsrbench study: {line}\n")


def run_study(request: StudyMakeRequest | StudyServeRequest | ScoreStudyRequest, *,
              say: Callable[[str], None] | None = None) -> str:
    """Do what ``request`` asks; the summary to print.

    ``say`` hears progress lines (the server's address, warnings); default: stderr, the address on stdout.
    """
    from vsrbench.study_score import ScoreStudyRequest
    from vsrbench.visual.study.server import StudyServeRequest, serve_study
    from vsrbench.visual.study.site import StudyMakeRequest, make_study

    if isinstance(request, StudyMakeRequest):
        return make_study(request).summary() + "\n"
    if isinstance(request, StudyServeRequest):
        stored = serve_study(request, say=say)
        return f"server stopped; {stored} answer(s) stored during this session\n"
    if isinstance(request, ScoreStudyRequest):
        from vsrbench.study_score import score_study

        return score_study(request, say=say or _stderr).text()
    raise TypeError(f"run_study: not a study request: {type(request).__name__}")
