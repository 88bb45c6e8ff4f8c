"""A self-contained static HTML report of a results folder (``vsrbench report RESULTS --out site/``).

The folder opens from disk (``index.html``; no server, no network, nothing fetched from elsewhere):

- the **leaderboard** of every dataset (:func:`vsrbench.analysis.tables.build_tables`, the protocol and the average
  in the caption, published rows with ``published=``), sortable by clicking a metric's column header;
- **per-frame curves** of every metric for every sequence, drawn as inline SVG by ``report.js`` from the
  data embedded in the page (a ``<script type="application/json">`` block: pages opened from ``file://``
  cannot fetch a local JSON file in Chromium);
- the **temporal profiles** of every sequence (PNG, :func:`vsrbench.visual.plots.profile_figure`);
- a **synchronised viewer** that shows **native pixels**: pick sequence and frame; one main panel (``←``/``→``
  or ``j``/``k`` flip its method: an A/B toggle) and GT and every method side by side as crops of the same
  region. Each image is drawn at one image pixel per device pixel (its CSS size is its pixel size divided by
  ``devicePixelRatio``, placed on whole device pixels), or at an explicit zoom of 2x, 4x or 8x with
  nearest-neighbour pixels; never stretched to a panel. One pan (drag, or the wheel to zoom about the cursor)
  moves every panel at once, and a click on a point of a per-frame curve opens that frame.

Frames come from where the run records say (:func:`vsrbench.visual.plots.sequence_frames`: GT from the
dataset's recorded ``gt``, outputs from a method's recorded ``outputs`` or ``RESULTS/outputs/M/D``) and
are written once each as lossless PNG **at full resolution** (an output larger than GT cut to GT, as it was
scored), for at most ``frames`` frames per sequence (evenly spread over the scored frames; ``0``: all) and
at most ``max_frames`` frames in the whole report (``0``: no cap; shared evenly among the sequences), the
report's size limits: nothing is downscaled. :attr:`Report.sizes` says where the bytes go.
"""
from __future__ import annotations

import html
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from vsrbench.core.errors import InputError

__all__ = [
    "ASSETS", "MARKER", "DATA_ID", "DEFAULT_FRAMES", "DEFAULT_MAX_FRAMES", "LARGE_FRAMES", "GT_NAME", "Report",
    "pick_frames", "share_frames", "table_html", "embed_json", "build_report", "dataset_frames", "load_embedded",
    "ReportRequest", "make_report",
]

ASSETS = ("report.js", "report.css")
MARKER = ".vsrbench-report"  # a folder holding it was written by build_report (may be written again)
DATA_ID = "vsrbench-data"
DEFAULT_FRAMES = 4  # first, last and 2 between: ~12 MiB per full-resolution Vid4 sequence with GT + 4 methods
DEFAULT_MAX_FRAMES = 0  # no cap over the whole report (the per-sequence count limits it)
LARGE_FRAMES = 256 * 1024 ** 2  # frames over this many bytes: the report says how to make it smaller
GT_NAME = "GT"


@dataclass
class Report:
    """What :func:`build_report` wrote: the page, and the bytes by kind (page, assets, frames, profiles)."""

    out: Path
    index: Path
    sizes: dict[str, int] = field(default_factory=dict)
    images: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.sizes.values())

    def size_line(self) -> str:
        parts = ", ".join(f"{k} {_human_size(v)}" for k, v in self.sizes.items())
        return f"report written to {self.index}: {_human_size(self.total)} ({parts}; {self.images} PNG images)"


def _human_size(n: int) -> str:
    """``1536`` -> ``"1.5 KiB"``.

    >>> _human_size(1536), _human_size(10), _human_size(3 * 1024 ** 2)
    ('1.5 KiB', '10 B', '3.0 MiB')
    """
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024.0
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"
    return f"{n:.1f} GiB"  # pragma: no cover


def pick_frames(frames: Sequence[int], count: int) -> list[int]:
    """At most ``count`` of ``frames`` (sorted), evenly spread, first and last kept; ``count=0``: all.

    >>> pick_frames(range(10), 4), pick_frames([3, 1, 2], 0), pick_frames(range(3), 5)
    ([0, 3, 6, 9], [1, 2, 3], [0, 1, 2])
    """
    frames = sorted(set(int(f) for f in frames))
    if count <= 0 or len(frames) <= count:
        return frames
    if count == 1:
        return [frames[len(frames) // 2]]
    picks = [frames[round(i * (len(frames) - 1) / (count - 1))] for i in range(count)]
    return sorted(set(picks))


def share_frames(counts: Sequence[int], cap: int) -> list[int]:
    """Share at most ``cap`` frames among sequences that want ``counts`` frames each (``cap=0``: no cap).

    One frame to each sequence in turn (in order) until the cap is spent or each has what it wants, so
    the shares differ by at most one where the cap bites; a sequence may get none when ``cap`` is smaller
    than the number of sequences.

    >>> share_frames([4, 4, 4], 0), share_frames([4, 4, 4], 7), share_frames([1, 6, 6], 9), share_frames([4, 4], 1)
    ([4, 4, 4], [3, 2, 2], [1, 4, 4], [1, 0])
    """
    shares = [0] * len(counts)
    if cap <= 0 or sum(counts) <= cap:
        return list(counts)
    left = cap
    while left > 0:
        for i, want in enumerate(counts):
            if left > 0 and shares[i] < want:
                shares[i] += 1
                left -= 1
    return shares


def _finite(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _downscale(rgb: np.ndarray, width: int | None) -> np.ndarray:
    """``rgb`` at most ``width`` pixels wide (box filter); as it is when ``width`` is None or already that small.
    The report passes None (native pixels); the study site passes a width no frame reaches."""
    from PIL import Image

    h, w = rgb.shape[:2]
    if width is None or w <= width:
        return rgb
    size = (width, max(1, round(h * width / w)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def _write_png(path: Path, rgb: np.ndarray) -> int:
    import io

    from PIL import Image

    from vsrbench.core.io import atomic_write_bytes

    buf = io.BytesIO()
    # zlib level 6: measured on the demo's frames, 2.7x faster than optimize=True for 2.4 % more bytes
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", compress_level=6)
    atomic_write_bytes(path, buf.getvalue())
    return len(buf.getvalue())


def _check_out(out: Path) -> None:
    """``--out`` must be a new or empty folder, or one an earlier report wrote (it is then replaced)."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {str(out)!r} is a file, expected a folder for the report; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise InputError(f"--out: {str(out)!r} is not empty and holds no earlier vsrbench report; "
                         "choose a new or empty folder")


def _temporary_folder(out: Path) -> Path:
    """A new folder next to ``out`` (the same file system, so that it can be renamed to ``out``)."""
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".vsrbench-report-", dir=out.parent))
    (tmp / MARKER).write_text("written by vsrbench report; the folder may be replaced by the next report\n")
    return tmp


def _put_in_place(tmp: Path, out: Path) -> None:
    """Rename the finished report ``tmp`` to ``out``; an earlier report there is removed once the new one is in place."""
    old = None
    if out.exists():
        old = out.with_name(f"{tmp.name}-old")
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------ the page's parts

def table_html(table, higher: Mapping[str, bool]) -> str:
    """A leaderboard as a sortable ``<table>``: each metric header has ``data-col``; each cell its value."""
    from vsrbench.analysis.table_model import HOLE

    lead = "<th>Sequence</th><th>Method</th>" if table.grouped else "<th>Method</th>"
    heads = "".join(
        f'<th class="sortable" data-col="{i}" data-higher="{int(higher.get(c.metric, True))}" '
        f'title="sort by {html.escape(c.label)}">{html.escape(c.label)}</th>'
        for i, c in enumerate(table.columns))
    body = []
    for row in table.rows:
        cls = ' class="published"' if row.published else ""
        name = html.escape(row.method) + (f"<sup>†{row.note_ref}</sup>" if row.note_ref else "")
        cells = []
        for cell in row.cells:
            text = html.escape(cell.text) + (f" <small>{html.escape(cell.interval_text)}</small>"
                                             if cell.interval_text else "")
            text = {1: f"<b>{text}</b>", 2: f"<u>{text}</u>"}.get(cell.rank, text)
            value = "" if cell.value is None or cell.text == HOLE else repr(float(cell.value))
            cells.append(f'<td data-value="{value}">{text}</td>')
        group = f"<td>{html.escape(row.group)}</td>" if table.grouped else ""
        body.append(f'<tr data-method="{html.escape(row.method)}"{cls}>{group}<th>{name}</th>{"".join(cells)}</tr>')
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in table.notes)
    return "\n".join([
        f'<table class="leaderboard" data-dataset="{html.escape(table.dataset)}">',
        f"<caption>{html.escape(table.caption)}</caption>",
        f"<thead><tr>{lead}{heads}</tr></thead>",
        "<tbody>", *body, "</tbody>", "</table>",
        *([f'<ol class="notes">{notes}</ol>'] if notes else []),
    ])


def _curves_data(df, metrics: Sequence[str]) -> dict:
    """dataset -> sequence -> metric -> method -> [[frame, value or None], ...] (stored order of frames)."""
    from vsrbench.results.frame import ordered

    out: dict = {}
    part = df[df["metric"].isin(metrics)].sort_values("frame", kind="stable")
    for (ds, seq, metric, method), g in part.groupby(["dataset", "sequence", "metric", "method"], sort=False):
        points = [[int(f), _finite(v)] for f, v in zip(g["frame"], g["value"])]
        out.setdefault(ds, {}).setdefault(seq, {}).setdefault(metric, {})[method] = points
    for ds, seqs in out.items():  # methods in the order they ran, metrics in the chosen order
        methods = ordered(df.loc[df["dataset"] == ds, "method"])
        for seq, by_metric in seqs.items():
            seqs[seq] = {m: {k: by_metric[m][k] for k in methods if k in by_metric[m]}
                         for m in metrics if m in by_metric}
    return out


def embed_json(data) -> str:
    """JSON safe inside a ``<script>`` element: every ``<`` (only ever inside a string) written ``\\u003c``."""
    text = json.dumps(data, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c")


# ------------------------------------------------------------------ building the folder

def build_report(
    results_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    protocol: str | None = None,
    dataset: str | None = None,
    metrics: Iterable[str] | None = None,
    average: str = "seq_avg",
    published: Sequence | None = None,
    frames: int = DEFAULT_FRAMES,
    max_frames: int = DEFAULT_MAX_FRAMES,
    profiles: bool = True,
    warn: Callable[[str], None] | None = None,
) -> Report:
    """Write the report of ``results_dir`` into the folder ``out``; returns what was written and its size.

    The report is written into a temporary folder next to ``out`` and renamed to ``out`` when complete:
    a report that fails leaves no folder behind (and an earlier report in ``out`` as it was). Image
    files are named by index (and a short form of the names), so long sequence names do not make long paths.

    Parameters
    ----------
    results_dir : str or os.PathLike
        The results folder (or a folder holding one, e.g. a ``vsrbench demo`` folder).
    out : str or os.PathLike
        The report's folder: new, empty, or one an earlier report wrote (it is then replaced).
    protocol : str, optional
        Report one protocol's results (a preset name or a hash), as :func:`~vsrbench.results.loading.load_results`.
    dataset : str, optional
        Report one dataset (default: every dataset).
    metrics : iterable of str, optional
        The metrics shown (default: every stored metric).
    average : str
        How the leaderboards average: ``"seq_avg"`` or ``"frame_avg"``.
    published : sequence, optional
        Rows of :func:`vsrbench.catalog.published.load_published` to add to the leaderboards (as
        ``vsrbench table --published``).
    frames : int
        The most frames per sequence written for the viewer (0: all).
    max_frames : int
        The most frames written for the viewer in the whole report (0: no cap), shared evenly among the
        sequences (:func:`share_frames`); a sequence left without one is named in a warning. Frames are
        always written at full resolution: this and ``frames`` are what limit the report's size.
    profiles : bool
        Whether the temporal profiles are drawn (``vsrbench report --no-profiles`` leaves them out).
    warn : callable, optional
        ``warn(line)`` hears about what could not be shown (frames that are gone); the report is
        written without them.

    Returns
    -------
    Report
        The page's path (``.index``), the bytes by kind (``.sizes``), the PNG count, the warnings;
        ``.size_line()`` says it in one line.

    Raises
    ------
    vsrbench.core.errors.InputError
        A negative ``frames`` or ``max_frames``, an ``out`` that is a file or a folder holding
        other files, the errors of :func:`~vsrbench.results.loading.load_results` and
        :func:`~vsrbench.analysis.tables.build_tables`.
    vsrbench.core.errors.UnknownNameError
        An unknown dataset or metric name.

    Examples
    --------
    Reads a results folder and its frames::

        from vsrbench.visual.report import build_report
        report = build_report("results", "site", frames=8, warn=print)
        print(report.size_line())  # then open site/index.html in a browser
    """
    from vsrbench.results.store import find_results_dir
    from vsrbench.results.loading import load_results
    from vsrbench.analysis.tables import build_tables
    from vsrbench.analysis.published_rows import dataset_info
    from vsrbench.results.frame import rows_of_dataset

    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 0:
        raise InputError(f"--viewer-frames: expected an integer >= 0 (0: all frames), got {frames!r}")
    if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 0:
        raise InputError(f"--max-frames: expected an integer >= 0 (0: no cap), got {max_frames!r}")
    results = find_results_dir(results_dir)
    df = rows_of_dataset(load_results(results, protocol), dataset=dataset)
    info = dataset_info(results) if published is not None else None
    tables = build_tables(df, metrics=metrics, average=average, published=published, info=info)
    out = Path(out)
    _check_out(out)
    tmp = _temporary_folder(out)
    try:
        report = _write_report(tmp, results, df, tables, metrics, (frames, max_frames), profiles, warn)
        _put_in_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report.out, report.index = out, out / report.index.name
    return report


def _write_report(out: Path, results, df, tables, metrics, counts, profiles, warn) -> Report:
    """Write the page, its assets and every image of the report into the folder ``out``."""
    from vsrbench.visual.plots import method_colors

    report = Report(out, out / "index.html", sizes={"page": 0, "assets": 0, "frames": 0, "profiles": 0})
    say = warn or (lambda _: None)

    def note(line: str) -> None:
        report.warnings.append(line)
        say(f"warning: {line}")

    colors = method_colors(df["method"])
    data: dict = {"colors": colors, "metrics": {}, "curves": {}, "viewer": {}, "datasets": []}
    sections_tables, sections_profiles = [], []
    plan = _viewer_plan(df, tables, *counts, note)
    for table in tables:
        _write_dataset(out, results, df, table, metrics, data, sections_tables, sections_profiles,
                       (plan, profiles, colors), report, note)
    if report.sizes["frames"] > LARGE_FRAMES and counts[1] == 0:
        note(f"the viewer's {report.images} frame images take {_human_size(report.sizes['frames'])} at full "
             "resolution; --max-frames N (in the whole report) or --viewer-frames N (per sequence) make it smaller")
    page = _page(tables, sections_tables, sections_profiles, data, results)
    report.index.write_text(page, encoding="utf-8")
    report.sizes["page"] = report.index.stat().st_size
    for name in ASSETS:
        target = out / name
        target.write_bytes(resources.files("vsrbench").joinpath("report_assets", name).read_bytes())
        report.sizes["assets"] += target.stat().st_size
    return report


def _write_dataset(out, results, df, table, metrics, data, sections_tables, sections_profiles, options, report,
                   note) -> None:
    """One dataset's leaderboard, curves, viewer frames and profiles (added to ``data`` and the sections)."""
    from vsrbench.metrics import METRICS
    from vsrbench.results.frame import ordered, resolve_metrics
    from vsrbench.visual.plots import slug

    plan, profiles, colors = options
    ds = table.dataset
    part = df[df["dataset"] == ds]
    chosen = resolve_metrics(part, metrics)
    data["datasets"].append(ds)
    for m in chosen:
        info_m = METRICS[m]
        data["metrics"][m] = {"label": info_m.label, "unit": info_m.unit or "",
                              "higher_is_better": bool(info_m.higher_is_better)}
    sections_tables.append(table_html(table, {m: bool(METRICS[m].higher_is_better) for m in chosen}))
    data["curves"].update(_curves_data(part, chosen))
    viewer: dict = {}
    found = dataset_frames(results, ds, ordered(part["method"]))
    for j, seq in enumerate(sorted(set(part["sequence"]))):
        folder = f"{len(data['datasets'])}-{j}-{_short_slug(slug, ds, seq)}"  # indices: unique; the names: bounded
        figure = _write_viewer_sequence(out, folder, ds, seq, found, plan.get((ds, seq), []), viewer, report, note)
        if figure is not None and profiles:
            _write_profiles(out, folder, ds, seq, *figure, colors, report, sections_profiles)
    data["viewer"][ds] = viewer


def _viewer_plan(df, tables, frames: int, max_frames: int, note) -> dict[tuple[str, str], list[int]]:
    """(dataset, sequence) -> the frames the viewer shows: ``frames`` per sequence (evenly spread over the
    scored ones), at most ``max_frames`` in all (:func:`share_frames`; the cut is said once)."""
    wanted: dict[tuple[str, str], list[int]] = {}
    for table in tables:
        part = df[df["dataset"] == table.dataset]
        for seq in sorted(set(part["sequence"])):
            wanted[(table.dataset, seq)] = sorted(set(int(f) for f in part.loc[part["sequence"] == seq, "frame"]))
    counts = [len(pick_frames(scored, frames)) for scored in wanted.values()]
    shares = share_frames(counts, max_frames)
    if shares != counts:
        left_out = [f"{ds}/{seq}" for (ds, seq), n in zip(wanted, shares) if n == 0]
        note(f"viewer: --max-frames {max_frames} keeps {sum(shares)} of {sum(counts)} frames "
             f"({max(shares)} or fewer per sequence)"
             + (f"; left out of the viewer: {', '.join(left_out)}" if left_out else ""))
    return {key: pick_frames(scored, n) if n else [] for (key, scored), n in zip(wanted.items(), shares)}


def _write_viewer_sequence(out, folder, ds, seq, found, chosen_frames, viewer, report, note):
    """Write one sequence's viewer frames into ``viewer`` (none when ``chosen_frames`` is empty); returns its
    (GT, outputs) for the profiles, or None when the sequence cannot be read."""
    from vsrbench.visual.plots import slug

    if not chosen_frames:  # left out of the viewer by --max-frames: its profiles are still drawn
        opened = _open_sequence(ds, seq, found, note)
        return None if opened is None else opened[:2]
    written = _write_sequence(out, folder, ds, seq, found, chosen_frames, None, report, note, slug)
    if written is None:
        return None
    entry, gt, outputs = written
    viewer[seq] = entry
    return gt, outputs


def _write_profiles(out, folder, ds, seq, gt, outputs, colors, report, sections_profiles) -> None:
    """Draw one sequence's temporal profiles into ``img/`` and add its figure to ``sections_profiles``."""
    fig = _profiles(ds, seq, gt, outputs, colors)
    if fig is None:
        return
    path = out / "img" / f"{folder}-profiles.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=80)
    report.sizes["profiles"] += path.stat().st_size
    report.images += 1
    sections_profiles.append(
        f'<figure class="profile"><img src="{html.escape(path.relative_to(out).as_posix())}" '
        f'alt="temporal profiles of {html.escape(ds)} / {html.escape(seq)}">'
        f"<figcaption>{html.escape(ds)} / {html.escape(seq)}</figcaption></figure>")


SLUG_CHARS = 32  # the most characters of names in an image's path (indices keep paths unique)


def _short_slug(slug, *names: str) -> str:
    """``slug(*names)`` cut to :data:`SLUG_CHARS` characters: image paths do not grow with names."""
    return slug(*names)[:SLUG_CHARS].strip("-_.") or "x"


def dataset_frames(results, dataset: str, methods: Sequence[str]):
    """GT and output datasets of ``methods`` on ``dataset``, from the run records
    (:func:`vsrbench.results.loading.recorded_paths`, every run: later runs win): ``(gt, {method: outputs},
    {method: why not})``; ``gt`` is None (and every method has a reason) when no GT can be read."""
    from vsrbench.core.errors import VsrbenchError
    from vsrbench.results.loading import recorded_inputs, recorded_paths
    from vsrbench.catalog.suites import aligned_outputs, open_recorded

    gt = None
    outputs, missing = {}, {}
    recorded = recorded_inputs(results)  # the run records, read once for every method
    for method in methods:
        try:
            gt_path, pred_path, suite = recorded_paths(results, method, dataset, recorded)
            if gt is None:
                gt = open_recorded(gt_path, suite)
            outputs[method] = open_recorded(pred_path, suite)
            if suite:  # centre-frame-only outputs (Vimeo-90K-T im4) stand at GT's centre index
                outputs[method] = aligned_outputs(gt, outputs[method])
        except VsrbenchError as e:
            missing[method] = str(e)
    return gt, outputs, missing


def _open_sequence(ds, seq, found, note):
    """GT and every method's output of one sequence, outputs in GT's order where they pair
    (:func:`vsrbench.core.io.pair_frames`): ``(gt, outputs, pairings)``, or None (said) without GT."""
    from vsrbench.core.io import pair_frames, pick_sequence

    gt_all, outs_all, missing = found
    if gt_all is None:
        why = next(iter(missing.values()), "no method")
        note(f"viewer of {ds}/{seq}: the frames cannot be found ({why})")
        return None
    lone = len(gt_all) == 1
    gt = pick_sequence(gt_all, seq, lone_ok=lone)
    if gt is None:
        note(f"viewer of {ds}/{seq}: no sequence {seq!r} in the ground truth")
        return None
    outputs = {m: s for m, d in outs_all.items() if (s := pick_sequence(d, seq, lone_ok=lone)) is not None}
    gone = [m for m in [*outs_all, *missing] if m not in outputs]
    if gone:
        note(f"viewer of {ds}/{seq}: no frames found for {', '.join(gone)} (shown without them)")
    pairings = {m: pair_frames(gt, s) for m, s in outputs.items()}  # GT frame t -> the output frame paired with it
    outputs = {m: p.aligned(warn=False) if p.problem is None else outputs[m] for m, p in pairings.items()}
    return gt, outputs, pairings


def _write_sequence(out, folder, ds, seq, found, chosen_frames, width, report, note, slug):
    """Write the viewer's PNGs of one sequence (``width``: None keeps every pixel, as the report does);
    (its viewer entry, GT and output sequences) or None."""
    opened = _open_sequence(ds, seq, found, note)
    if opened is None:
        return None
    gt, outputs, pairings = opened
    n = len(gt)
    kept = [f for f in chosen_frames if 0 <= f < n]
    if not kept:
        note(f"viewer of {ds}/{seq}: the ground truth has {n} frame(s), none of the scored ones")
        return None
    panels: dict[str, list[str | None]] = {}
    h = w = None
    for k, (name, sequence) in enumerate([(GT_NAME, gt), *outputs.items()]):
        paths: list[str | None] = []
        for f in kept:
            # aligned outputs are read at GT's index; others (frames missing) where their pairing puts them
            i = f if name == GT_NAME or pairings[name].problem is None else pairings[name].index[f]
            if i is None or i >= len(sequence):
                paths.append(None)
                continue
            rgb = sequence[i]
            if name == GT_NAME:
                h, w = rgb.shape[:2]
            elif h is not None:  # an output larger than GT is cut to it (top-left kept), as it was scored
                rgb = rgb[:h, :w]
            rel = Path("img") / folder / f"{k}-{_short_slug(slug, name)}" / f"{f:05d}.png"  # k: names equal as slugs
            report.sizes["frames"] += _write_png(out / rel, _downscale(rgb, width))
            report.images += 1
            paths.append(rel.as_posix())
        panels[name] = paths
    return {"frames": kept, "panels": panels, "size": [int(w), int(h)]}, gt, outputs


def _profiles(ds, seq, gt, outputs, colors):
    """The temporal-profile montage of one sequence (:func:`vsrbench.visual.plots.plot_profiles`), GT first."""
    from vsrbench.metrics import default_profile_row, temporal_profile
    from vsrbench.visual.plots import plot_profiles

    gt_frames = list(gt)
    if len(gt_frames) < 2:
        return None
    row = default_profile_row(gt_frames)
    h, w = gt_frames[0].shape[:2]
    strips = {GT_NAME: temporal_profile(gt_frames, row=row)}
    for m, sequence in outputs.items():  # an output larger than GT is cut to it (top-left kept), as it was scored
        strips[m] = temporal_profile([f[:h, :w] for f in sequence], row=row)
    return plot_profiles(strips, colors, title=f"{ds} / {seq}: temporal profiles (row y = {row})",
                         where=f"row y = {row}")


def _page(tables, sections_tables, sections_profiles, data, results) -> str:
    from vsrbench import __version__

    title = "vsrbench report: " + ", ".join(t.dataset for t in tables)
    profiles = "\n".join(sections_profiles) or "<p>No temporal profiles (the frames could not be read).</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="report.css">
</head>
<body>
<header><h1>{html.escape(title)}</h1>
<p class="meta">Results: <code>{html.escape(str(results))}</code>; vsrbench {html.escape(__version__)}.
Click a metric's column header to sort; click a point of a curve to open that frame in the viewer.</p>
<nav><a href="#leaderboard">Leaderboard</a> · <a href="#curves">Per-frame curves</a> ·
<a href="#viewer">Viewer</a> · <a href="#profiles">Temporal profiles</a></nav></header>
<section id="leaderboard"><h2>Leaderboard</h2>
{chr(10).join(sections_tables)}
</section>
<section id="curves"><h2>Per-frame curves</h2>
<p class="hint">Filled points have frames in the viewer: click one to open it.</p>
<div id="curves-body"></div></section>
<section id="viewer"><h2>Viewer</h2>
<div class="controls">
<label>Sequence <select id="seq-select"></select></label>
<label>Frame <select id="frame-select"></select></label>
<span class="zoom-levels" role="group" aria-label="zoom">Zoom
<button type="button" class="zoom-level" data-zoom="1" title="native pixels: one image pixel per screen pixel (0)">1×</button>
<button type="button" class="zoom-level" data-zoom="2" title="each pixel a 2×2 block (nearest neighbour)">2×</button>
<button type="button" class="zoom-level" data-zoom="4" title="each pixel a 4×4 block (nearest neighbour)">4×</button>
<button type="button" class="zoom-level" data-zoom="8" title="each pixel an 8×8 block (nearest neighbour)">8×</button>
</span>
<button type="button" id="zoom-out" title="zoom out (-)">−</button>
<button type="button" id="zoom-in" title="zoom in (+)">+</button>
<label>Crops <select id="crop-size" title="the size of the side-by-side crops, in screen pixels">
<option value="192x144">192×144</option><option value="256x192" selected>256×192</option>
<option value="384x288">384×288</option><option value="full">whole frame</option></select></label>
<span id="frame-indicator"></span>
</div>
<p class="hint">Native pixels: at 1× one image pixel is one screen pixel (the frames are stored at full resolution
and never resampled); 2×, 4×, 8× repeat each pixel. Drag to pan, the wheel to zoom about the cursor: every panel
shows the same region. ←/→ or j/k: previous/next method in the main panel (A/B); click a crop to show it there.
<span id="pixel-note"></span></p>
<div id="main-wrap"><div class="panel main" id="main-panel"><img id="main-img" alt="" draggable="false">
<span class="crop-box" id="crop-box"></span><span class="label" id="main-label"></span></div></div>
<div id="panels"></div>
</section>
<section id="profiles"><h2>Temporal profiles</h2>
{profiles}
</section>
<script type="application/json" id="{DATA_ID}">{embed_json(data)}</script>
<script src="report.js"></script>
</body>
</html>
"""


def load_embedded(index: str | os.PathLike) -> dict:
    """The JSON data block of a written ``index.html`` (for tests and tools)."""
    text = Path(index).read_text(encoding="utf-8")
    start = text.index(f'<script type="application/json" id="{DATA_ID}">')
    start = text.index(">", start) + 1
    end = text.index("</script>", start)
    return json.loads(text[start:end])


@dataclass(frozen=True)
class ReportRequest:
    """What ``vsrbench report`` writes: the report of the results folder ``results`` into the folder
    ``out``; ``published``: add the published rows (from ``published_file`` when given, else the
    shipped database); the other fields as for :func:`build_report`."""

    results: str
    out: str
    protocol: str | None = None
    dataset: str | None = None
    metrics: tuple[str, ...] | None = None
    average: str = "seq_avg"
    published: bool = False
    published_file: str | None = None
    frames: int = DEFAULT_FRAMES
    max_frames: int = DEFAULT_MAX_FRAMES
    profiles: bool = True


def make_report(request: ReportRequest, *, warn: Callable[[str], None] | None = None) -> Report:
    """:func:`build_report` of ``request``. A frame that cannot be read is :mod:`vsrbench.core.io`'s
    own one-line error; a raw OSError is the report's write, named by ``out``."""
    from vsrbench.core.errors import os_error

    r = request
    published = None
    if r.published:
        from vsrbench.catalog.published import load_published

        published = load_published(r.published_file)
    try:
        return build_report(r.results, r.out, protocol=r.protocol, dataset=r.dataset,
                            metrics=None if r.metrics is None else list(r.metrics), average=r.average,
                            published=published, frames=r.frames, max_frames=r.max_frames, profiles=r.profiles,
                            warn=warn)
    except OSError as e:
        raise os_error(e, "write the report to", r.out, "choose another --out") from None
