"""``vsrbench study make``: a self-contained pairwise user study of a results folder (open ``index.html``
from disk, or serve it with ``vsrbench study serve``).

The folder holds ``index.html`` (the study's data embedded in it), ``study.js`` / ``study.css``,
``study.json`` (the design, seed, methods, clips, segment, frame encoding, degradation of the attention
checks and the vsrbench version), the frames (``img/``, lossless PNG at the resolution they were scored
at, never rescaled) and ``answers/`` (where downloaded answer files go).

Frames are found and written by the report's code (:func:`vsrbench.visual.report.dataset_frames`: the
paths the run records name; outputs aligned and cut to GT as they were scored). The degraded copy of an
attention check is the GT blurred (:data:`DEGRADE_BLUR`) with Gaussian noise (:data:`DEGRADE_NOISE`)
drawn from the study's seed.
"""
from __future__ import annotations

import html
import json
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from vsrbench.analysis.study_answers import DEGRADED, GT
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.visual.study.answers import ANSWERS_DIR, DATABASE, STUDY_FORMAT, STUDY_JSON

__all__ = ["ASSETS", "DATA_ID", "MARKER", "DEFAULT_SEGMENT", "DEGRADE_BLUR", "DEGRADE_NOISE", "StudyMakeRequest",
           "StudySite", "parse_segment", "degrade", "build_study", "page_html", "make_study"]

ASSETS = ("study.js", "study.css")  # in vsrbench/report_assets (package data)
DATA_ID = "vsrbench-study"
MARKER = ".vsrbench-study"
DEFAULT_SEGMENT = (0, 60)  # at most 60 frames from the first (2.5 s at 24 fps)
DEGRADE_BLUR = 3.0  # Gaussian blur radius (PIL's GaussianBlur, pixels)
DEGRADE_NOISE = 16.0  # standard deviation of the added Gaussian noise (8-bit levels)


@dataclass(frozen=True)
class StudyMakeRequest:
    """What ``vsrbench study make`` builds; see :func:`build_study` for the fields."""

    results: str
    out: str
    methods: tuple[str, ...] | None = None
    clips: tuple[str, ...] | None = None
    segment: str | None = None
    trials_per_participant: int | None = None
    designs: int | None = None
    attention: int = 1
    repeats: int = 1
    seed: int = 0
    reference: bool = False
    fps: float = 24.0
    title: str | None = None


@dataclass
class StudySite:
    """What :func:`build_study` wrote."""

    out: Path
    index: Path
    study: dict
    images: int = 0
    bytes: int = 0

    def summary(self) -> str:
        s = self.study
        n = len(s["designs"][0])
        return (f"study written to {self.index}: {len(s['methods'])} methods, {len(s['clips'])} clips, "
                f"{len(s['designs'])} design(s) of {n} trials, {self.images} PNG frames "
                f"({self.bytes / 2 ** 20:.1f} MiB); open it from disk, or `vsrbench study serve {self.out}`")


def parse_segment(text: str | None) -> tuple[int, int]:
    """``"START:END"`` (frame indices of the GT, END excluded; either may be left out) -> (start, end).

    >>> parse_segment("10:40"), parse_segment(":30"), parse_segment(None)
    ((10, 40), (0, 30), (0, 60))
    """
    if text is None:
        return DEFAULT_SEGMENT
    start, sep, end = str(text).partition(":")
    try:
        a = int(start) if start.strip() else 0
        b = int(end) if end.strip() else 10 ** 9
    except ValueError:
        a = b = -1
    if not sep or a < 0 or b < a + 2:
        raise InputError(f"--segment: expected START:END frame indices with END >= START + 2, got {text!r}")
    return a, b


def degrade(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The strongly degraded copy of an attention check: blurred, then Gaussian noise added."""
    from PIL import Image, ImageFilter

    blurred = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(DEGRADE_BLUR)), dtype=np.float64)
    noisy = blurred + rng.normal(0.0, DEGRADE_NOISE, blurred.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {str(out)!r} is a file, expected a folder for the study; choose another --out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / MARKER).exists():
        raise InputError(f"--out: {str(out)!r} is not empty and holds no earlier vsrbench study; "
                         "choose a new or empty folder")
    if (out / DATABASE).exists() or any((out / ANSWERS_DIR).glob("*.json")):
        raise InputError(f"--out: {str(out)!r} holds a study with answers (a new build would orphan them); "
                         "choose another --out")


def _select(names: Sequence[str], wanted: Sequence[str] | None, kind: str) -> list[str]:
    if wanted is None:
        return list(names)
    for w in wanted:
        if w not in names:
            raise UnknownNameError(kind, w, names)
    return list(dict.fromkeys(wanted))


def _clips(df, wanted: Sequence[str] | None) -> list[tuple[str, str]]:
    """(dataset, sequence) of the chosen clips; ``wanted`` names ``SEQ`` or ``DATASET/SEQ``."""
    from vsrbench.results.frame import ordered

    pairs = [(ds, seq) for ds in ordered(df["dataset"])
             for seq in sorted(set(df.loc[df["dataset"] == ds, "sequence"]))]
    if wanted is None:
        return pairs
    names = {f"{ds}/{seq}": (ds, seq) for ds, seq in pairs}
    out = []
    for w in wanted:
        hits = [names[w]] if w in names else [p for p in pairs if p[1] == w]
        if len(hits) != 1:
            raise (UnknownNameError("clip", w, names) if not hits else
                   InputError(f"--clips: {w!r} is a sequence of several datasets; write DATASET/{w}"))
        out.append(hits[0])
    return list(dict.fromkeys(out))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="vsrbench-mode" content="$mode">
<title>$title</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="study.css">
</head>
<body>
<main>
<section id="intro" class="screen" hidden>
<h1>$title</h1>
<p>You will see short videos, two at a time, played side by side in a loop. In each trial, choose the one
that $task.
There are <b id="intro-count"></b> trials; the study takes about <b id="intro-minutes"></b> minutes.</p>
<p>No personal data is collected: your answers are stored under a random code. You may stop at any time;
closing or reloading the page keeps the answers given so far.</p>
<label class="consent"><input type="checkbox" id="consent"> I agree to take part and that my anonymous answers
are used for research.</label>
<p><button type="button" id="to-instructions" disabled>Continue</button></p>
</section>
<section id="instructions" class="screen" hidden>
<h2>Instructions</h2>
<ul>
<li>Watch both videos: they play in sync, in a loop, pixel for pixel (not zoomed). Look at detail and at how it
moves from frame to frame (flicker, crawling texture, jitter).</li>
<li>The answer buttons unlock after the clip has played once. Click <b>Left</b> or <b>Right</b> (or press the
← / → key).</li>
<li>There is no right answer: choose by your own impression. Some trials are shown twice, and a few are
easy checks.</li>
<li>Use a window large enough to show the videos side by side without scrolling.</li>
</ul>
<p><button type="button" id="begin">Begin</button></p>
</section>
<section id="trial" class="screen" hidden>
<div class="progress"><progress id="progress-bar" value="0" max="1"></progress>
<span id="progress-text"></span></div>
<p class="question" id="question"></p>
<p class="notice" id="fit-notice" hidden>The window is too narrow to show the videos side by side at their size:
please enlarge it.</p>
<div class="stage" id="stage"></div>
<p class="answer"><button type="button" id="choose-left" disabled>◀ Left</button>
<button type="button" id="choose-right" disabled>Right ▶</button></p>
<p class="status" id="trial-status"></p>
</section>
<section id="done" class="screen" hidden>
<h2>Thank you!</h2>
<p id="done-text"></p>
<p><button type="button" id="download" hidden>Download my answers</button></p>
<p class="meta">Participant code: <code id="participant-code"></code></p>
</section>
</main>
<script type="application/json" id="$data_id">$data</script>
<script src="study.js"></script>
</body>
</html>
"""


def _write_clip(out: Path, index: int, clip: tuple[str, str], found, segment: tuple[int, int],
                methods: Sequence[str], rng: np.random.Generator) -> tuple[dict, int, int]:
    """Write one clip's frames (GT, the methods, the degraded GT): (its entry, PNG count, bytes)."""
    from vsrbench.visual.plots import slug
    from vsrbench.visual.report import GT_NAME, Report, _write_png, _write_sequence

    ds, seq = clip
    report = Report(out, out / "index.html", sizes={"frames": 0})
    notes: list[str] = []
    wide = 1 << 30  # never downscaled: the study shows frames at the resolution they were scored at
    written = _write_sequence(out, f"c{index}", ds, seq, found, _segment_frames((*found, ds), seq, segment), wide,
                              report, notes.append, slug)
    if written is None:
        raise InputError(f"clip {ds}/{seq}: {notes[-1] if notes else 'no frames'}")
    entry, gt, _ = written
    missing = [m for m in methods if None in entry["panels"].get(m, [None])]
    if missing:
        raise InputError(f"clip {ds}/{seq}: frames of {', '.join(missing)} cannot be read "
                         f"({'; '.join(notes) or 'missing frames'}); leave it out with --methods or --clips")
    if len(entry["frames"]) < 2:
        raise InputError(f"clip {ds}/{seq}: the segment {segment[0]}:{segment[1]} holds {len(entry['frames'])} "
                         f"frame(s) of its {len(gt)}; a study needs at least 2 (choose --segment)")
    degraded = []
    for f in entry["frames"]:
        rel = Path("img") / f"c{index}" / "degraded" / f"{f:05d}.png"
        report.sizes["frames"] += _write_png(out / rel, degrade(np.asarray(gt[f]), rng))
        degraded.append(rel.as_posix())
    sources = {GT: entry["panels"][GT_NAME], DEGRADED: degraded, **{m: entry["panels"][m] for m in methods}}
    clip_entry = {"dataset": ds, "sequence": seq, "frames": entry["frames"], "size": entry["size"],
                  "sources": sources}
    return clip_entry, report.images + len(degraded), report.sizes["frames"]


def _segment_frames(found, seq: str, segment: tuple[int, int]) -> list[int]:
    """The GT frame indices of the segment that exist (an open END stops at the clip's end)."""
    from vsrbench.core.io import pick_sequence

    gt_all = found[0]
    gt = None if gt_all is None else pick_sequence(gt_all, seq, lone_ok=len(gt_all) == 1)
    end = segment[1] if gt is None else min(segment[1], len(gt))
    frames = list(range(segment[0], max(segment[0], end)))
    if gt is not None and len(frames) < 2:
        raise InputError(f"clip {found[3]}/{seq}: the segment {segment[0]}:{segment[1]} holds {len(frames)} "
                         f"frame(s) of its {len(gt)}; a study needs at least 2 (choose --segment)")
    return frames


def _question(reference: bool) -> str:
    return ("Which video is closer to the reference in the middle?" if reference
            else "Which video looks better?")


def _study_json(request: StudyMakeRequest, results, methods, clips, segment, design) -> dict:
    from vsrbench import __version__
    from vsrbench.visual.study.design import REPEAT_GAP

    r = request
    return {
        "format": STUDY_FORMAT, "version": 1, "id": secrets.token_hex(8),
        "title": r.title or "Video comparison study", "question": _question(r.reference),
        "vsrbench": __version__, "results": str(Path(results).resolve()), "seed": r.seed, "methods": list(methods),
        "clips": clips, "segment": list(segment), "fps": r.fps, "reference": r.reference,
        "frames": {"encoding": "png", "lossless": True, "rescaled": False,
                   "note": "PNG (lossless) frames at the resolution they were scored at; shown 1:1 in device pixels"},
        "attention_check": {"a": GT, "b": DEGRADED, "blur_radius": DEGRADE_BLUR, "noise_sigma": DEGRADE_NOISE,
                            "seed": r.seed, "how": "PIL GaussianBlur(radius), then Gaussian noise (8-bit levels) "
                                                   "from numpy default_rng(seed), rounded and clipped"},
        "design": {"trials_per_participant": sum(design.trials[t].kind == "pair" for t in design.designs[0]),
                   "designs": len(design.designs), "attention_per_participant": r.attention,
                   "repeats_per_participant": r.repeats,
                   "appearances_per_pair_per_clip": design.appearances, "balanced": True,
                   "order": f"per participant: mulberry32(participant seed), Fisher-Yates shuffle, side swaps, "
                            f"repeats at least {REPEAT_GAP} trials after their first showing, sides swapped",
                   "assignment": "served: designs in turn; static: ?design=K in the address, else at random"},
        **design.to_json(),
    }


def build_study(request: StudyMakeRequest) -> StudySite:
    """Write the study of ``request.results`` into the folder ``request.out``.

    ``methods`` (default: every stored method, in run order) and ``clips`` (``SEQ`` or ``DATASET/SEQ``;
    default: every sequence) choose what is compared; ``segment`` (``START:END``, GT frame indices,
    default ``0:60``) the frames shown, played at ``fps`` in a loop; ``trials_per_participant``,
    ``designs``, ``attention`` and ``repeats`` the design (:func:`~vsrbench.visual.study.design.balanced_designs`);
    ``reference`` shows the GT between the two outputs. The folder is written next to ``out`` and renamed
    to it when complete; ``out`` must be new, empty or an earlier study without answers.

    Raises
    ------
    vsrbench.core.errors.InputError
        Bad counts or segment, frames that cannot be read, an ``out`` that is a file, holds other files
        or a study with answers.
    vsrbench.core.errors.UnknownNameError
        An unknown method or clip.
    """
    from vsrbench.results.frame import ordered, rows_of_dataset
    from vsrbench.results.loading import load_results
    from vsrbench.results.store import find_results_dir
    from vsrbench.visual.study.design import balanced_designs

    r = request
    if isinstance(r.seed, bool) or not isinstance(r.seed, int) or not 0 <= r.seed < 2 ** 32:
        raise InputError(f"--seed: expected an integer in [0, 2^32), got {r.seed!r}")
    if not 0 < float(r.fps) <= 240:
        raise InputError(f"--fps: expected a frame rate in (0, 240], got {r.fps!r}")
    results = find_results_dir(r.results)
    df = rows_of_dataset(load_results(results))
    methods = _select(ordered(df["method"]), r.methods, "method")
    clips = _clips(df, r.clips)
    segment = parse_segment(r.segment)
    names = [f"{ds}/{seq}" for ds, seq in clips]
    design = balanced_designs(methods, names, per_participant=r.trials_per_participant, designs=r.designs,
                              attention=r.attention, repeats=r.repeats, seed=r.seed)
    out = Path(r.out)
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".vsrbench-study-", dir=out.parent))
    try:
        site = _write_site(tmp, r, results, methods, clips, segment, design)
        from vsrbench.visual.report import _put_in_place

        _put_in_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    site.out, site.index = out, out / "index.html"
    return site


def _write_site(tmp: Path, r: StudyMakeRequest, results, methods, clips, segment, design) -> StudySite:
    from vsrbench.core.io import atomic_write_bytes
    from vsrbench.visual.report import dataset_frames

    (tmp / MARKER).write_text("written by vsrbench study make; rebuilt only while it holds no answers\n")
    rng = np.random.default_rng(r.seed)
    found: dict = {}
    entries: dict = {}
    images = size = 0
    for i, (ds, seq) in enumerate(clips):
        if ds not in found:
            found[ds] = dataset_frames(results, ds, methods)
        entries[f"{ds}/{seq}"], n, b = _write_clip(tmp, i, (ds, seq), found[ds], segment, methods, rng)
        images, size = images + n, size + b
    study = _study_json(r, results, methods, entries, segment, design)
    atomic_write_bytes(tmp / STUDY_JSON, (json.dumps(study, indent=1) + "\n").encode("utf-8"))
    (tmp / ANSWERS_DIR).mkdir()
    (tmp / ANSWERS_DIR / "README.txt").write_text(
        "Put the answer files participants downloaded (static mode) into this folder; "
        "`vsrbench study score` reads them with the answers of study.sqlite (served mode).\n")
    for name in ASSETS:
        data = resources.files("vsrbench").joinpath("report_assets", name).read_bytes()
        (tmp / name).write_bytes(data)
        size += len(data)
    page = page_html(study)
    (tmp / "index.html").write_text(page, encoding="utf-8")
    return StudySite(tmp, tmp / "index.html", study, images, size + len(page.encode("utf-8")))


def page_html(study: dict, mode: str = "static") -> str:
    """The study's page; ``mode`` ("static" or "served") is what the page's script reads to choose
    where answers go (the server writes "served")."""
    from string import Template

    from vsrbench.visual.report import embed_json

    task = "is closer to the reference shown between them" if study["reference"] else "looks better to you"
    return Template(_PAGE).substitute(title=html.escape(study["title"]), mode=html.escape(mode), task=task,
                                      data_id=DATA_ID, data=embed_json(study))


def make_study(request: StudyMakeRequest) -> StudySite:
    """:func:`build_study` of ``request``; a raw OSError is the study's write, named by ``out``."""
    from vsrbench.core.errors import os_error

    try:
        return build_study(request)
    except OSError as e:
        raise os_error(e, "write the study to", request.out, "choose another --out") from None
