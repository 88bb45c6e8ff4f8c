"""Paper crop-comparison figures: the GT frame with a box, then the zoomed crop of GT, LR and each method.

:func:`crop_figure` draws, for one stored frame of one sequence, the full ground-truth frame with
the box drawn in a colour-blind-safe colour (Okabe-Ito vermillion), then one crop per panel: GT,
the LR input upscaled by pixel repetition (when the results folder knows the LR frames: the
benchmark's ``datasets.D.lr``, or the LR the runner made from a degradation under
``RESULTS/lr/D/<degradation>-x<scale>/``) and each method, titled with the method and its stored
score on that frame. Crops are shown with nearest-neighbour sampling (``interpolation="nearest"``):
every pixel is a flat square, nothing is smoothed. A method's crop is framed in its colour from
:func:`vsrbench.visual.plots.method_colors`, the same as in every other figure of the results.

Layouts fit a paper's column: ``one-column`` is 3.3 in wide, ``two-column`` 6.9 in; crops go in
one row, or several when there are many. :func:`save_crop_figure` writes PDF or PNG at exactly that
width with TrueType fonts (:data:`vsrbench.visual.plots.EMBED_FONTS_RC`).

Without a frame and box, the frame and region where the methods differ most are chosen: per
pixel, each method's squared error against GT (mean over RGB); its mean over every box-sized
window (a box filter); the spread (largest minus smallest) of that local MSE across the methods
(with one method, its local MSE). The largest spread over all scored frames and windows wins
(ties: earliest frame, then top-most, left-most window). The box is square, 1/6 of the frame's
shorter side unless given, and lies inside the region the scores' protocol scores (its crop) and off
the edge strips where every method fails (:func:`failure_margins`: DUF's garbage outer rows).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from vsrbench.analysis.vocabulary import FIGURE_FORMATS, FIGURE_LAYOUTS
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.io import FrameSequence, atomic_write_bytes, open_dataset, open_sequence, pair_frames, pick_sequence
from vsrbench.metrics import METRICS
from vsrbench.visual.plots import method_colors

__all__ = [
    "BOX_COLOR", "LAYOUTS", "BOX_FRACTION", "FAIL_RATIO", "Box", "CropFigure", "parse_box", "scored_region",
    "failure_margins",
    "spread_map", "crop_figure", "save_crop_figure", "FigureRequest", "make_figure",
]

BOX_COLOR = "#D55E00"  # Okabe-Ito vermillion: distinct for the common colour-vision deficiencies
LAYOUTS = dict(zip(FIGURE_LAYOUTS, (  # width (in), crops per row at most, font size (pt)
    (3.3, 4, 6.0),  # one-column
    (6.9, 7, 7.0),  # two-column
)))
BOX_FRACTION = 6  # default box side: the frame's shorter side / 6


class Box(NamedTuple):
    """A crop in pixels: left ``x``, top ``y``, width ``w``, height ``h``."""

    x: int
    y: int
    w: int
    h: int

    @property
    def text(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"


class CropFigure(NamedTuple):
    """What :func:`crop_figure` drew: the figure, the frame index, its GT file name and the box."""

    figure: Figure
    frame: int
    frame_name: str
    box: Box
    metric: str
    chosen: bool  # frame or box were picked automatically

    @property
    def options(self) -> str:
        """The options that reproduce this figure: ``--frame N --box X,Y,W,H``."""
        return f"--frame {self.frame} --box {self.box.text}"


def parse_box(text: str | Sequence[int]) -> Box:
    """``"X,Y,W,H"`` (pixels) -> Box, checked for form (the frame size is checked later).

    >>> parse_box("120, 60,96,96")
    Box(x=120, y=60, w=96, h=96)
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    try:
        values = [int(str(v).strip()) for v in items]
    except ValueError:
        values = []
    if len(values) != 4 or values[0] < 0 or values[1] < 0 or values[2] < 1 or values[3] < 1:
        raise InputError(f"--box: expected X,Y,W,H in pixels (X, Y >= 0; W, H >= 1), e.g. --box 120,60,96,96, "
                         f"got {text if isinstance(text, str) else ','.join(map(str, items))!r}")
    return Box(*values)


def _check_box(box: Box, h: int, w: int, where: str) -> None:
    if box.x + box.w > w or box.y + box.h > h:
        raise InputError(f"--box {box.text}: reaches x={box.x + box.w}, y={box.y + box.h}, outside the {w}x{h} "
                         f"frame of {where}; choose X+W <= {w} and Y+H <= {h}")


# ------------------------------------------------------------------ frames from a results folder

def _sequence(folder: Path, sequence: str, what: str, suite: str | None = None) -> FrameSequence:
    from vsrbench.catalog.suites import open_recorded

    try:
        seqs = open_recorded(folder, suite)
    except InputError as e:
        raise InputError(f"frames missing on disk: the {what} recorded at {str(folder)!r} cannot be read ({e}); "
                         "restore them or re-run the benchmark") from None
    seq = pick_sequence(seqs, sequence, lone_ok=len(seqs) == 1)
    if seq is None:
        raise InputError(f"frames missing on disk: no sequence {sequence!r} in the {what} at {str(folder)!r} "
                         f"(it holds {', '.join(sorted(seqs)) or 'none'}); restore them or re-run the benchmark")
    return seq


def _frame_of(seq: FrameSequence, index: int, name: str | None, what: str) -> np.ndarray:
    if seq.arrays is None and name and name in {p.name for p in seq.paths}:
        index = [p.name for p in seq.paths].index(name)
    if index >= len(seq):
        raise InputError(f"frames missing on disk: the {what} at {seq.source or seq.name!r} has {len(seq)} frame(s), "
                         f"frame {index} is not there; restore them or re-run the benchmark")
    return np.asarray(seq[index])


def _given_lr(path: Path, sequence: str) -> FrameSequence:
    """``--lr``: the LR frames of ``sequence``, in ``path`` itself or in its sub-folder of that name."""
    if not path.exists():
        raise InputError(f"--lr {str(path)!r}: not found; give the folder of the LR frames (or of the LR sequences)")
    if (path / sequence).is_dir():
        return open_sequence(path / sequence, name=sequence)
    return open_sequence(path, name=sequence)


def _lr_sequence(results_dir: Path, dataset: str, sequence: str) -> FrameSequence | None:
    """The LR frames of a sequence if the run records say where they are (else None)."""
    from vsrbench.results.loading import load_runs

    lr = None
    for bench in load_runs(results_dir)["bench"]:  # later runs win
        spec = (bench or {}).get("datasets", {}).get(dataset) if isinstance(bench, dict) else None
        if not isinstance(spec, dict):
            continue
        if spec.get("lr"):
            lr = ("dataset", Path(spec["lr"]))
        elif spec.get("degradation") and spec.get("scale"):
            lr = ("made", results_dir / "lr" / dataset / f"{spec['degradation']}-x{spec['scale']}" / sequence)
    if lr is None:
        return None
    kind, folder = lr
    try:
        if kind == "made":
            return open_sequence(folder, name=sequence) if folder.is_dir() else None
        seqs = open_dataset(folder)
        return pick_sequence(seqs, sequence, lone_ok=len(seqs) == 1)
    except InputError:
        return None


# ------------------------------------------------------------------ choosing frame and box

def _local_mse(err: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Mean of ``err`` (H, W) over every ``size`` = (h, w) window inside it: shape (H-h+1, W-w+1)."""
    bh, bw = size
    c = np.zeros((err.shape[0] + 1, err.shape[1] + 1))
    c[1:, 1:] = np.asarray(err, np.float64).cumsum(0).cumsum(1)
    return (c[bh:, bw:] - c[:-bh, bw:] - c[bh:, :-bw] + c[:-bh, :-bw]) / (bh * bw)


def spread_map(gt: np.ndarray, outputs: Sequence[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """Across methods, the spread (max - min) of the local MSE against GT over every window of ``size``."""
    g = gt.astype(np.float64)
    maps = np.stack([_local_mse(((o.astype(np.float64) - g) ** 2).mean(axis=2), size) for o in outputs])
    return maps[0] if len(maps) == 1 else maps.max(0) - maps.min(0)


# ------------------------------------------------------------------ the figure

def crop_figure(results: str | Path, dataset: str, sequence: str, frame: int | None = None,
                box: Box | str | Sequence[int] | None = None, methods: Sequence[str] | None = None,
                metric: str | None = None, layout: str = "one-column", *, protocol: str | None = None,
                lr: str | Path | None = None) -> CropFigure:
    """The crop-comparison figure of one stored frame (see the module doc); returns it with the frame and box.

    Parameters
    ----------
    results : str or pathlib.Path
        The results folder (or a folder holding one, e.g. a ``vsrbench demo`` folder); the frames are
        read from the outputs and GT it records.
    dataset, sequence : str
        The stored sequence to show.
    frame : int, optional
        The 0-based frame index as stored. Without ``frame`` or ``box``, the frame and region where
        the methods differ most are chosen (see the module doc).
    box : Box or str or sequence of int, optional
        The crop, ``(x, y, w, h)`` or ``"X,Y,W,H"`` in pixels (default: a square of 1/6 of the frame's
        shorter side).
    methods : sequence of str, optional
        The methods shown; default every method stored for the sequence, in run order.
    metric : str, optional
        The score in each panel's title; default ``lpips`` when stored, else ``psnr`` (else the first
        stored metric). Temporal metrics
        are stored at index t of the pair (t-1, t).
    layout : str
        ``"one-column"`` (3.3 in wide) or ``"two-column"`` (6.9 in).
    protocol : str, optional
        The protocol whose scores are shown, when the sequence is stored under several.
    lr : str or pathlib.Path, optional
        The LR frames shown as the ``LR`` panel: a folder of this sequence's frames or of the dataset's
        sequences (an evaluate folder records none; a benchmark run's own LR is used without it).

    Returns
    -------
    CropFigure
        The figure with the frame index, its GT file name, the box, the metric and whether the frame or
        box were chosen (``.options`` gives ``--frame N --box X,Y,W,H`` to draw it again).

    Raises
    ------
    vsrbench.core.errors.InputError
        A box of the wrong form or outside the frame, a frame that is not scored, a sequence stored
        under several protocols without ``protocol``, frames that are missing, and the errors of
        :func:`~vsrbench.results.loading.load_results`.
    vsrbench.core.errors.UnknownNameError
        A dataset, sequence, method or metric not stored, or an unknown layout.

    Examples
    --------
    Reads a results folder and its frames::

        from vsrbench.visual.figures import crop_figure, save_crop_figure
        crops = crop_figure("results", "vid4", "calendar", layout="two-column")
        save_crop_figure(crops.figure, "calendar-crops.pdf")
        crops.options  # e.g. '--frame 17 --box 310,120,96,96'
    """
    from vsrbench.results.store import find_results_dir
    from vsrbench.results.loading import load_results

    if layout not in LAYOUTS:
        raise UnknownNameError("--layout", layout, LAYOUTS)
    box = None if box is None else (box if isinstance(box, Box) else parse_box(box))
    folder = find_results_dir(results)
    df = load_results(folder, protocol)
    colors = method_colors(df["method"])  # as vsrbench plot colours them: over every stored method
    df, methods, metric = _stored_choice(df, dataset, sequence, methods, metric)
    part = df[(df["metric"] == metric) & df["method"].isin(methods)]
    scores = {(r.method, int(r.frame)): float(r.value) for r in part.itertuples()}
    candidates = _candidate_frames(part, scores, methods, frame, f"{dataset}/{sequence}", metric)
    source = _open_frames(folder, df, dataset, sequence, methods)
    if lr is not None:
        source = source._replace(lr_seq=_given_lr(Path(lr), sequence))

    chosen = frame is None or box is None
    stored = _stored_protocol(folder, df)
    if chosen:
        frame, box = _most_different(source, candidates, box, stored)
    frame = int(frame)
    gt, outs = source.frames_at(frame)
    h, w = gt.shape[:2]
    _check_box(box, h, w, f"{dataset}/{sequence}")
    panels, lr_title = _panels(gt, source.lr_seq, frame, outs, methods)
    titles = _titles([n for n, _ in panels], lr_title, METRICS[metric], scores, frame)
    names = source.names
    scored_by = f"; scores: protocol {df['protocol'].iloc[0]}" if len(df) else ""
    fig = _draw(gt, box, [a for _, a in panels], titles, [colors.get(n) for n, _ in panels], layout,
                f"{dataset} / {sequence}, frame {frame} ({names.get(frame, frame)}){scored_by}")
    return CropFigure(fig, frame, str(names.get(frame, frame)), box, metric, chosen)


def _stored_protocol(folder: Path, df):
    """The protocol the shown scores were made under (from the run records' fields), or None when unknown."""
    import dataclasses

    from vsrbench.metrics.protocol import Protocol
    from vsrbench.results.loading import load_runs

    hashes = set(df["protocol_hash"])
    if len(hashes) != 1:
        return None
    names = {f.name for f in dataclasses.fields(Protocol)}
    for fields in load_runs(folder).query("protocol_hash in @hashes")["protocol_fields"]:
        if isinstance(fields, dict) and "crop" in fields:
            return Protocol(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items() if k in names})
    return None


def _stored_choice(df, dataset: str, sequence: str, methods: Sequence[str] | None,
                   metric: str | None) -> tuple[object, list[str], str]:
    """The stored rows of ``dataset``/``sequence`` (one protocol), the methods shown and the metric in the
    titles, each checked against what is stored."""
    from vsrbench.results.frame import ordered

    if dataset not in set(df["dataset"]):
        raise UnknownNameError("--dataset", dataset, set(df["dataset"]))
    df = df[df["dataset"] == dataset]
    if sequence not in set(df["sequence"]):
        raise UnknownNameError(f"--sequence (stored for dataset {dataset!r})", sequence, set(df["sequence"]))
    df = df[df["sequence"] == sequence]
    hashes = sorted(set(df["protocol_hash"]))
    if len(hashes) > 1:
        raise InputError(f"{dataset}/{sequence} is stored under {len(hashes)} protocols ({', '.join(hashes)}); "
                         "choose one with --protocol")
    stored_methods = ordered(df["method"])
    methods = list(dict.fromkeys(methods)) if methods else stored_methods
    for m in methods:
        if m not in stored_methods:
            raise UnknownNameError(f"--methods (stored for {dataset}/{sequence})", m, stored_methods)
    stored_metrics = ordered(df["metric"])
    if metric is None:
        metric = "lpips" if "lpips" in stored_metrics else "psnr" if "psnr" in stored_metrics else stored_metrics[0]
    elif metric not in stored_metrics:
        raise UnknownNameError(f"--metric (stored for {dataset}/{sequence})", metric, stored_metrics)
    return df, methods, metric


def _candidate_frames(part, scores: dict, methods: Sequence[str], frame, where: str, metric: str) -> list[int]:
    """The frames the figure may show: ``frame`` (checked to be scored), else the frames every method has a
    score for (all scored frames if none has them all)."""
    scored = sorted({int(f) for f in part["frame"]})
    if frame is not None:
        if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or frame not in scored:
            raise InputError(f"--frame {frame}: frame not scored: {where} has {metric} stored for frames "
                             f"{_ranges(scored)}; choose one of them")
        return [int(frame)]
    full = [t for t in scored if all((m, t) in scores for m in methods)]
    return full or scored


class _Frames(NamedTuple):
    """The frames behind the stored rows of one sequence: GT, each method's outputs, the LR input if kept."""

    where: str
    gt_seq: FrameSequence
    outputs: dict[str, FrameSequence]
    lr_seq: FrameSequence | None
    names: dict[int, str]  # stored frame index -> GT frame name
    pred_names: dict[tuple[str, int], str]  # (method, index) -> the output frame scored
    pairing: dict[str, list]  # for rows stored without pred_name: GT index -> output index

    def frames_at(self, t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """GT frame ``t`` and each method's output paired with it, cut to GT's size (as it was scored)."""
        gt = _frame_of(self.gt_seq, t, self.names.get(t), "ground truth")
        h, w = gt.shape[:2]
        outs = {}
        for m, seq in self.outputs.items():
            index = self.pairing[m]
            paired = index[t] if t < len(index) and index[t] is not None else t
            o = _frame_of(seq, paired, self.pred_names.get((m, t)), f"outputs of {m!r}")
            if o.shape[0] < h or o.shape[1] < w:
                raise InputError(f"outputs of {m!r}, frame {t} of {self.where}: {o.shape[1]}x{o.shape[0]} is "
                                 f"smaller than the {w}x{h} ground truth; a crop needs both at the same size")
            outs[m] = o[:h, :w]  # an output larger than GT is cut to it (top-left kept), as it was scored
        return gt, outs


def _open_frames(folder: Path, df, dataset: str, sequence: str, methods: Sequence[str]) -> _Frames:
    """The frame folders the run records for ``methods`` on ``dataset``/``sequence``, opened."""
    from vsrbench.results.loading import recorded_inputs, recorded_paths

    gt_dir = None
    outputs: dict[str, FrameSequence] = {}
    recorded = recorded_inputs(folder)  # the run records, read once for every method
    suite = None
    for m in methods:
        try:
            gt_root, pred_root, suite = recorded_paths(folder, m, dataset, recorded)
        except InputError as e:
            raise InputError(f"frames missing: {e}") from None
        gt_dir = gt_dir or gt_root
        outputs[m] = _sequence(pred_root, sequence, f"outputs of {m!r}", suite)
    gt_seq = _sequence(gt_dir, sequence, "ground truth", suite)
    if suite:  # centre-frame-only outputs (Vimeo-90K-T im4) stand at GT's centre index
        from vsrbench.catalog.suites import aligned_outputs

        outputs = {m: aligned_outputs({sequence: gt_seq}, {sequence: o})[sequence] for m, o in outputs.items()}
    names = {int(r.frame): r.frame_name for r in df.itertuples()}
    pred_names = {(r.method, int(r.frame)): r.pred_name for r in df.itertuples()  # the output frames scored
                  if isinstance(getattr(r, "pred_name", None), str) and r.pred_name}
    pairing = {m: pair_frames(gt_seq, o).index for m, o in outputs.items()}
    return _Frames(f"{dataset}/{sequence}", gt_seq, outputs, _lr_sequence(folder, dataset, sequence), names,
                   pred_names, pairing)


#: an edge row (column) where even the best method's mean squared error is this many times the median
#: row's is a strip where every method fails (DUF's outer rows): the automatic box stays off it
FAIL_RATIO = 4.0


def scored_region(protocol, h: int, w: int) -> tuple[int, int, int, int]:
    """``(y0, y1, x0, x1)``: the part of an ``h`` x ``w`` frame a protocol scores (its crop)."""
    if protocol is None:
        return 0, h, 0, w
    if protocol.crop == "center32":
        from vsrbench.metrics._kernels import center32_window

        (oy, sh), (ox, sw) = center32_window(h), center32_window(w)
        return oy, oy + sh, ox, ox + sw
    c = int(protocol.crop_border)
    return c, h - c, c, w - c


def failure_margins(gt: np.ndarray, outputs: Sequence[np.ndarray], region: tuple[int, int, int, int]
                    ) -> tuple[int, int, int, int]:
    """``region`` without the edge strips where every method fails: leading and trailing rows (columns) whose
    smallest error across methods is over :data:`FAIL_RATIO` times the median row's, at most 1/8 of each side."""
    y0, y1, x0, x1 = region
    g = gt[y0:y1, x0:x1].astype(np.float64)
    best = np.min([((o[y0:y1, x0:x1].astype(np.float64) - g) ** 2).mean(axis=2) for o in outputs], axis=0)

    def trim(profile: np.ndarray) -> tuple[int, int]:
        limit, bad = len(profile) // 8, profile > FAIL_RATIO * np.median(profile) + 1.0
        lo = next((i for i in range(limit) if not bad[i]), limit)
        hi = next((i for i in range(limit) if not bad[len(profile) - 1 - i]), limit)
        return lo, hi

    (top, bottom), (left, right) = trim(best.mean(axis=1)), trim(best.mean(axis=0))
    return y0 + top, y1 - bottom, x0 + left, x1 - right


def _most_different(source: _Frames, candidates: Sequence[int], box: Box | None,
                    protocol=None) -> tuple[int, Box]:
    """The candidate frame and box (``box`` when given, else a square) where the methods differ most: the
    largest spread across methods of the local MSE against GT; a chosen box lies inside the protocol's
    scored region and off the edge strips where every method fails (:func:`failure_margins`)."""
    best = None
    for t in candidates:
        gt, outs = source.frames_at(t)
        h, w = gt.shape[:2]
        region = (0, h, 0, w)
        if box is not None:
            _check_box(box, h, w, source.where)
            size = (box.h, box.w)
        else:
            region = failure_margins(gt, list(outs.values()), scored_region(protocol, h, w))
            side = min(max(8, round(min(h, w) / BOX_FRACTION)), region[1] - region[0], region[3] - region[2])
            size = (side, side)
        spread = spread_map(gt, list(outs.values()), size)
        if box is not None:
            y, x = box.y, box.x
        else:
            y0, y1, x0, x1 = region
            inside = spread[y0:y1 - size[0] + 1, x0:x1 - size[1] + 1]
            y, x = np.unravel_index(int(np.argmax(inside)), inside.shape)
            y, x = y + y0, x + x0
        value = float(spread[y, x])
        if best is None or value > best[0]:
            best = (value, t, Box(int(x), int(y), size[1], size[0]))
    _, frame, box = best
    return frame, box


def _panels(gt: np.ndarray, lr_seq: FrameSequence | None, frame: int, outs: dict[str, np.ndarray],
            methods: Sequence[str]) -> tuple[list[tuple[str, np.ndarray]], str | None]:
    """(name, image) of each crop panel: GT, the LR input enlarged (nearest) when kept and an exact fraction
    of GT's size, then each method; and the LR panel's title."""
    h, w = gt.shape[:2]
    panels: list[tuple[str, np.ndarray]] = [("GT", gt)]
    lr_title = None
    if lr_seq is not None and frame < len(lr_seq):
        lr = np.asarray(lr_seq[frame])
        s = h // lr.shape[0] if lr.shape[0] else 0
        if s >= 1 and lr.shape[0] * s == h and lr.shape[1] * s == w:
            panels.append(("LR", np.repeat(np.repeat(lr, s, axis=0), s, axis=1)))
            lr_title = f"LR ×{s}"
    panels += [(m, outs[m]) for m in methods]
    return panels, lr_title


def _titles(names: Sequence[str], lr_title: str | None, info, scores: dict, frame: int) -> list[str]:
    """The title of each panel: the metric and its direction over GT, each method's score of ``frame``."""
    titles = []
    for name in names:
        if name == "GT":
            titles.append(f"GT\n{info.label} {'↑' if info.higher_is_better else '↓'}")
        elif name == "LR" and lr_title:
            titles.append(f"{lr_title}\n(nearest)")
        else:
            v = scores.get((name, frame))
            titles.append(f"{name}\n{'–' if v is None else f'{v:.{info.decimals}f}'}")
    return titles


def _draw(gt: np.ndarray, box: Box, images: Sequence[np.ndarray], titles: Sequence[str],
          frame_colors: Sequence[str | None], layout: str, caption: str) -> Figure:
    """Lay out the full frame (box drawn) over rows of nearest-neighbour crops, in inches; a method's
    crop is framed in its colour (that of every other figure), GT and LR in thin black."""
    width, per_row_max, fs = LAYOUTS[layout]
    n = len(images)
    rows = math.ceil(n / per_row_max)
    per_row = math.ceil(n / rows)
    pad, gap = 0.03, 0.04
    title_h = 2 * fs * 1.3 / 72 + 0.02
    caption_h = fs * 1.4 / 72
    h, w = gt.shape[:2]
    full_w = width - 2 * pad
    full_h = min(full_w * h / w, 0.8 * width)
    full_w = min(full_w, full_h * w / h)
    crop_w = (width - 2 * pad - (per_row - 1) * gap) / per_row
    crop_h = crop_w * box.h / box.w
    height = pad + caption_h + full_h + rows * (gap + title_h + crop_h) + pad
    fig = Figure(figsize=(width, height))

    def axes(x: float, top: float, aw: float, ah: float):
        """Axes at ``x`` inches from the left and ``top`` inches from the top."""
        ax = fig.add_axes((x / width, 1 - (top + ah) / height, aw / width, ah / height))
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    top = pad + caption_h
    ax = axes((width - full_w) / 2, top, full_w, full_h)
    ax.imshow(gt, interpolation="antialiased")
    ax.add_patch(Rectangle((box.x - 0.5, box.y - 0.5), box.w, box.h, fill=False, edgecolor=BOX_COLOR,
                           linewidth=1.5 if layout == "one-column" else 2.0, gid="crop-box"))
    ax.set_title(caption, fontsize=fs, pad=2)
    top += full_h
    for i, (image, title, color) in enumerate(zip(images, titles, frame_colors)):
        r, c = divmod(i, per_row)
        x = pad + c * (crop_w + gap)
        y = top + r * (gap + title_h + crop_h) + gap + title_h
        ax = axes(x, y, crop_w, crop_h)
        ax.imshow(image[box.y:box.y + box.h, box.x:box.x + box.w], interpolation="nearest", resample=False,
                  aspect="auto")
        ax.set_title(title, fontsize=fs, pad=1.5, linespacing=1.1)
        for spine in ax.spines.values():
            spine.set_linewidth(0.4 if color is None else 1.2)
            spine.set_edgecolor(color or "black")
    return fig


def _ranges(frames: Sequence[int]) -> str:
    """Frame indices as ranges.

    >>> _ranges([2, 3, 4, 7])
    '2-4, 7'
    """
    if not frames:
        return "none"
    parts, start = [], frames[0]
    for a, b in zip(frames, list(frames[1:]) + [None]):
        if b != a + 1:
            parts.append(str(start) if start == a else f"{start}-{a}")
            start = b
    return ", ".join(parts)


def save_crop_figure(fig: Figure, out: str | Path) -> Path:
    """Write ``fig`` to ``out`` (.pdf or .png) at its exact width (no tight cropping), TrueType fonts, atomically."""
    from vsrbench.visual.plots import EMBED_FONTS_RC

    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise InputError(f"--out {str(out)!r}: expected a file ending in .pdf or .png, got {out.suffix or 'no suffix'!r}")
    buf = io.BytesIO()
    with rc_context(EMBED_FONTS_RC):
        fig.savefig(buf, format=fmt, dpi=300 if fmt == "pdf" else 200,
                    metadata={"CreationDate": None} if fmt == "pdf" else None)
    atomic_write_bytes(out, buf.getvalue())
    return out


@dataclass(frozen=True)
class FigureRequest:
    """What ``vsrbench figure crops`` draws: the crops of one sequence of a results folder, written
    to ``out`` (.pdf or .png); the other fields as for :func:`crop_figure` (None: chosen there)."""

    results: str
    dataset: str
    sequence: str
    out: str
    frame: int | None = None
    box: Box | None = None
    methods: tuple[str, ...] | None = None
    metric: str | None = None
    layout: str = "one-column"
    protocol: str | None = None
    lr: str | None = None


def make_figure(request: FigureRequest, *, say=None) -> str:
    """Draw ``request`` with :func:`crop_figure` and write it; returns the line that says what was
    drawn. ``say`` (default: stderr) gets the options that reproduce a frame or box chosen here."""
    import sys

    from vsrbench.core.errors import os_error

    r = request
    made = crop_figure(r.results, r.dataset, r.sequence, frame=r.frame, box=r.box,
                       methods=None if r.methods is None else list(r.methods), metric=r.metric, layout=r.layout,
                       protocol=r.protocol, lr=r.lr)
    if made.chosen:
        (say or (lambda line: sys.stderr.write(line + "\n")))(f"chosen where the methods differ most: {made.options}")
    try:
        save_crop_figure(made.figure, r.out)
    except OSError as e:
        raise os_error(e, "write the figure to", r.out, "choose another --out") from None
    return (f"{r.out}: {r.dataset}/{r.sequence} frame {made.frame} ({made.frame_name}), box {made.box.text}, "
            f"{made.metric}")
