"""``vsrbench study make | serve | score``: a pairwise user study of a results folder (the page, the
answer server, the Bradley–Terry scores stored as the human metric ``human_bt``)."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vsrbench.study_score import ScoreStudyRequest
    from vsrbench.visual.study.server import StudyServeRequest
    from vsrbench.visual.study.site import StudyMakeRequest

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "study"
HELP = "a pairwise user study: make the page from a results folder, serve it and collect answers, score them"
DESCRIPTION = (
    "make: a self-contained study site (two outputs of one clip side by side, played in sync at their size, "
    "randomised per participant, balanced, with attention checks and repeated trials); open it from disk "
    "(answers downloaded as one JSON file per participant, put into STUDY/answers/) or serve: a local HTTP server "
    "that stores each answer into STUDY/study.sqlite as it is given. score: Bradley-Terry scores per method, "
    "stored in the results folder as the human metric human_bt."
)
EXAMPLES = (
    "vsrbench study make results/vid4 --out study/ --methods TecoGAN,FRVSR,bicubic --segment 0:30 --reference",
    "vsrbench study serve study/ --port 8000",
)
_SCORE_EXAMPLE = "vsrbench study score study/ --out results/vid4 --bootstrap 1000"


def _comma(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import HelpFormatter, epilog, group

    sub = p.add_subparsers(title="actions", dest="action", metavar="ACTION", parser_class=type(p), required=True)
    m = sub.add_parser("make", help="write the study site of a results folder", formatter_class=HelpFormatter,
                       epilog=epilog(EXAMPLES[:1]))
    m.add_argument("results", metavar="RESULTS", help="the results folder (its runs record the outputs and GT)")
    m.add_argument("--out", required=True, metavar="STUDY", help="folder for the study (new, empty, or an earlier "
                   "study without answers)")
    what = group(m, "what is compared")
    what.add_argument("--methods", type=_comma, metavar="A,B,..", help="methods compared (default: all stored)")
    what.add_argument("--clips", type=_comma, metavar="SEQ,..", help="clips: SEQ or DATASET/SEQ (default: all)")
    what.add_argument("--segment", metavar="START:END", help="GT frames shown, END excluded (default 0:60)")
    what.add_argument("--fps", type=float, default=24.0, help="playback frame rate (default 24)")
    what.add_argument("--reference", action="store_true", help="show the GT between the two outputs and ask "
                      "which is closer to it")
    what.add_argument("--title", help="the page's title")
    design = group(m, "design")
    design.add_argument("--trials-per-participant", type=int, metavar="N", help="pair trials per participant "
                        "(default: every pair of methods on every clip)")
    design.add_argument("--participants-designs", dest="designs", type=int, metavar="K", help="designs the pair "
                        "trials are split into (default: the fewest that show each pair equally often per clip)")
    design.add_argument("--attention-checks", dest="attention", type=int, default=1, metavar="N",
                        help="GT vs a strongly degraded copy, per participant (default 1)")
    design.add_argument("--repeats", type=int, default=1, metavar="N", help="pair trials shown twice per "
                        "participant, sides swapped (default 1)")
    design.add_argument("--seed", type=int, default=0, help="seed of the design and the degraded frames (default 0)")
    s = sub.add_parser("serve", help="serve a study and store each answer into STUDY/study.sqlite",
                       formatter_class=HelpFormatter, epilog=epilog(EXAMPLES[1:2]))
    s.add_argument("study", metavar="STUDY", help="a folder written by `vsrbench study make`")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine "
                   "only; e.g. 0.0.0.0 for a lab network)")
    c = sub.add_parser("score", help="Bradley-Terry scores of the answers, stored as the metric human_bt",
                       formatter_class=HelpFormatter, epilog=epilog([_SCORE_EXAMPLE]))
    c.add_argument("study", metavar="STUDY", help="a study folder with answers")
    c.add_argument("--out", metavar="RESULTS", help="results folder to store human_bt in (default: the one the "
                   "study was made from)")
    c.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples of the "
                   "participants for the intervals (default 1000)")
    c.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")


def _request(args: argparse.Namespace) -> StudyMakeRequest | StudyServeRequest | ScoreStudyRequest:
    if args.action == "serve":
        from vsrbench.visual.study.server import StudyServeRequest

        return StudyServeRequest(study=args.study, port=args.port, host=args.host)
    if args.action == "score":
        from vsrbench.study_score import ScoreStudyRequest

        return ScoreStudyRequest(study=args.study, out=args.out, bootstrap=args.bootstrap, seed=args.seed)
    from vsrbench.visual.study.site import StudyMakeRequest

    return StudyMakeRequest(
        results=args.results, out=args.out, methods=args.methods, clips=args.clips, segment=args.segment,
        trials_per_participant=args.trials_per_participant, designs=args.designs, attention=args.attention,
        repeats=args.repeats, seed=args.seed, reference=args.reference, fps=args.fps, title=args.title)


def run(args: argparse.Namespace) -> int:
    from vsrbench.study import run_study

    sys.stdout.write(run_study(_request(args)))
    return 0
