"""Paper-readable figures from stored results (matplotlib, no display needed).

Four kinds, each written as PNG and/or PDF:

- ``curves``: per-frame values of every metric for one sequence, one line per method;
- ``profiles``: temporal-profile (x-t) montages, GT first, then every method on the same pixel row;
- ``tradeoff``: one point per method, x = a temporal metric, y = PSNR or LPIPS, labelled;
- ``bars``: per-sequence averages of one metric, one bar per method.

Figures read stored results only (and, for profiles, the stored frames); they never compute a
metric score. Every figure colours a method with :func:`method_colors` over *all* methods of
the results, so a method has the same colour in every figure of a report.
Figures are :class:`matplotlib.figure.Figure` objects built without pyplot, so importing this
module neither needs a display nor changes the global backend.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from vsrbench.core.errors import InputError
from vsrbench.core.io import FrameSequence, atomic_write_bytes, open_dataset, pick_sequence
from vsrbench.metrics import METRICS
from vsrbench.analysis.table_model import compute_scores, format_value, metric_label, metric_name
from vsrbench.analysis.vocabulary import PLOT_FORMATS, PLOT_KINDS as KINDS
from vsrbench.results.frame import ordered, resolve_metrics, rows_of_dataset

__all__ = [
    "GT_COLOR", "method_colors", "parse_formats", "parse_kinds", "slug", "EMBED_FONTS_RC", "save_figure",
    "axis_label", "plot_curves", "plot_bars", "plot_tradeoff", "tradeoff_pairs", "plot_profiles", "sequence_frames",
    "profile_figure", "plot_results", "PlotRequest", "plot",
]

GT_COLOR = "#000000"
_PALETTE = (  # matplotlib's tab10, then the lighter half of tab20
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)


def method_colors(methods: Iterable[str]) -> dict[str, str]:
    """One colour per method, the same in every figure: distinct names, sorted, take the palette in order.

    Pass every method of the results (not just those in one figure) so that colours agree
    across figures. Beyond 20 methods the palette repeats.

    >>> method_colors(["b", "a", "b"])
    {'a': '#1f77b4', 'b': '#ff7f0e'}
    """
    names = sorted(set(methods))
    return {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(names)}


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"png,pdf"`` -> ``("png", "pdf")``, checked."""
    items = text.split(",") if isinstance(text, str) else list(text)
    formats = tuple(dict.fromkeys(f.strip().lower().lstrip(".") for f in items if f.strip()))
    bad = [f for f in formats if f not in PLOT_FORMATS]
    if bad or not formats:
        raise InputError(f"format: expected a comma-separated subset of {','.join(PLOT_FORMATS)}, got {text!r}")
    return formats


def parse_kinds(kind: str | Sequence[str]) -> tuple[str, ...]:
    """``"all"``, one kind or several (comma-separated) -> kinds, checked."""
    items = kind.split(",") if isinstance(kind, str) else list(kind)
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in items if k.strip()))
    if kinds == ("all",):
        return KINDS
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise InputError(f"kind: expected all or a comma-separated subset of {','.join(KINDS)}, got {kind!r}")
    return kinds


def slug(*parts: str) -> str:
    """A file-name-safe stem from names (``curves``, ``Vid4``, ``city``) -> ``curves_vid4_city``."""
    text = "_".join(re.sub(r"[^A-Za-z0-9.+-]+", "-", str(p)).strip("-") for p in parts)
    return text.lower() or "figure"


# TrueType (Type 42) instead of Type 3 fonts in PDF / PS files: many venues reject Type 3 fonts.
# Set only while saving (rc_context), so the caller's matplotlib settings are left as they are.
EMBED_FONTS_RC = {"pdf.fonttype": 42, "ps.fonttype": 42}


def save_figure(fig: Figure, out_dir: str | Path, stem: str, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Write ``fig`` as ``out_dir/stem.<fmt>`` for each format, atomically; returns the paths.

    PDFs embed TrueType fonts (:data:`EMBED_FONTS_RC`), never Type 3.
    """
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        # No creation date in PDFs: the same results give byte-identical files.
        with rc_context(EMBED_FONTS_RC):
            fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight",
                        metadata={"CreationDate": None} if fmt == "pdf" else None)
        path = Path(out_dir) / f"{stem}.{fmt}"
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    return paths


def axis_label(metric: str) -> str:
    """``"PSNR (dB), higher is better"``-style axis label from the metric registry."""
    return f"{metric_name(metric)}, {'higher' if METRICS[metric].higher_is_better else 'lower'} is better"


# ------------------------------------------------------------------ curves

def plot_curves(df: pd.DataFrame, dataset: str, sequence: str, metrics: Sequence[str],
                colors: Mapping[str, str]) -> Figure:
    """Per-frame values of ``metrics`` on one sequence, one subplot per metric, one line per method."""
    rows = df[(df["dataset"] == dataset) & (df["sequence"] == sequence)]
    if rows.empty:
        raise InputError(f"sequence: no results for {sequence!r} in dataset {dataset!r}")
    fig = Figure(figsize=(7.0, 1.9 * len(metrics) + 0.6), layout="constrained")
    axes = fig.subplots(len(metrics), 1, sharex=True, squeeze=False)[:, 0]
    for ax, metric in zip(axes, metrics):
        part = rows[rows["metric"] == metric]
        for method in ordered(rows["method"]):
            line = part[part["method"] == method].sort_values("frame")
            if not line.empty:
                ax.plot(line["frame"], line["value"], marker="o", markersize=2.5, linewidth=1.2,
                        color=colors[method], label=method)
        ax.set_ylabel(metric_label(metric))
        ax.grid(True, alpha=0.3)
        if METRICS[metric].temporal:
            ax.text(0.99, 0.03, "value at t: pair (t-1, t)", transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=7, color="0.4")
    axes[-1].set_xlabel("frame index (0-based)")
    axes[0].set_title(f"{dataset} / {sequence}: per-frame scores")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    return fig


# ------------------------------------------------------------------ bars and trade-off

def plot_bars(df: pd.DataFrame, dataset: str, metric: str, colors: Mapping[str, str],
              average: str = "seq_avg") -> Figure:
    """Per-sequence means of ``metric`` (grouped bars, one per method) and the dataset average."""
    scores = compute_scores(df[df["dataset"] == dataset], [metric], average)
    groups = list(scores.sequences) + [f"average\n({average})"]
    width = 0.8 / max(len(scores.methods), 1)
    fig = Figure(figsize=(max(4.5, 1.1 * len(groups) * max(1, len(scores.methods) / 3)), 3.4), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(groups))
    for i, method in enumerate(scores.methods):
        values = [scores.per_sequence.get((method, s, metric)) for s in scores.sequences]
        values.append(scores.means[(method, metric)])
        heights = [np.nan if v is None else v for v in values]
        bars = ax.bar(x + (i - (len(scores.methods) - 1) / 2) * width, heights, width, color=colors[method],
                      label=method)
        ax.bar_label(bars, labels=[format_value(v, METRICS[metric].decimals) for v in values], rotation=90,
                     padding=2, fontsize=6)
    ax.margins(y=0.18)
    ax.set_xticks(x, groups)
    ax.set_xlabel("sequence")
    ax.set_ylabel(metric_label(metric))
    ax.set_title(f"{dataset}: {METRICS[metric].label} per sequence")
    ax.grid(True, axis="y", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=8)
    return fig


def plot_tradeoff(df: pd.DataFrame, dataset: str, x_metric: str, y_metric: str, colors: Mapping[str, str],
                  average: str = "seq_avg") -> Figure:
    """One labelled point per method: temporal metric ``x_metric`` against ``y_metric``."""
    scores = compute_scores(df[df["dataset"] == dataset], [x_metric, y_metric], average)
    fig = Figure(figsize=(5.0, 4.0), layout="constrained")
    ax = fig.subplots()
    for method in scores.methods:
        x, y = scores.means[(method, x_metric)], scores.means[(method, y_metric)]
        if x is None or y is None:
            continue
        ax.scatter([x], [y], s=40, color=colors[method], label=method, zorder=3)
        ax.annotate(method, (x, y), xytext=(5, 4), textcoords="offset points", fontsize=8)
    ax.set_xlabel(axis_label(x_metric))
    ax.set_ylabel(axis_label(y_metric))
    ax.set_title(f"{dataset}: {METRICS[y_metric].label} vs {METRICS[x_metric].label} ({average})")
    ax.grid(True, alpha=0.3)
    ax.margins(0.15)
    return fig


def tradeoff_pairs(metrics: Sequence[str]) -> list[tuple[str, str]]:
    """(temporal x, y) pairs for the trade-off plots: every stored temporal metric against PSNR and LPIPS."""
    xs = [m for m in metrics if METRICS[m].temporal]
    ys = [m for m in ("psnr", "lpips") if m in metrics]
    return [(x, y) for x in xs for y in ys]


# ------------------------------------------------------------------ temporal profiles

def plot_profiles(profiles: Mapping[str, np.ndarray], colors: Mapping[str, str], *, title: str,
                  where: str, min_row_px: int = 5) -> Figure:
    """Stack temporal profiles (each (T, W, 3) uint8; GT first) as labelled strips, one per method.

    Each strip is drawn with nearest-neighbour sampling (pixel replication) and at least
    ``min_row_px`` points per frame, so flicker between single frames stays visible. Labels
    take the method's colour. ``where`` names the slice, e.g. "row y = 165" or "column x = 40".
    """
    if not profiles:
        raise InputError("no profiles to plot")
    names = list(profiles)
    t, w = next(iter(profiles.values())).shape[:2]
    width = 8.0
    strip = max(t * min_row_px / 72.0, 0.45)  # inches
    fig = Figure(figsize=(width, strip * len(names) + 0.9), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        ax.imshow(profiles[name], interpolation="nearest", aspect="auto", extent=(-0.5, w - 0.5, t - 0.5, -0.5))
        ax.set_yticks([0, t - 1])
        ax.tick_params(labelsize=7)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9, color=colors.get(name, GT_COLOR))
    along = "y" if where.startswith("column") else "x"
    axes[-1].set_xlabel(f"{along} (pixels) along {where}; each strip: time (frame index) downwards")
    axes[0].set_title(title)
    return fig


# ------------------------------------------------------------------ from a results folder

def sequence_frames(results_dir: str | Path, dataset: str, sequence: str,
                    methods: Sequence[str]) -> tuple[FrameSequence, dict[str, FrameSequence]]:
    """GT and output frame sequences of one stored sequence, found from the run record.

    GT comes from the recorded ``datasets.<dataset>.gt`` and outputs from a method's recorded
    ``outputs`` folder or ``<results>/outputs/<method>/<dataset>/`` (:func:`vsrbench.results.loading.recorded_inputs`,
    every run record: methods scored by separate runs into one folder are all found). Methods
    without frames are left out; raises InputError when GT cannot be found.
    """
    from vsrbench.results.loading import outputs_path, recorded_inputs

    results_dir = Path(results_dir)
    recorded = recorded_inputs(results_dir)
    spec = recorded["datasets"].get(dataset)
    if not spec or not spec.get("gt"):
        raise InputError(f"profiles: no run record of {str(results_dir)!r} names dataset {dataset!r}, "
                         "so its ground-truth frames cannot be found")
    gt_root = Path(spec["gt"])
    try:
        gt_sequences = open_dataset(gt_root)
    except InputError as e:
        raise InputError(f"profiles: ground truth of {dataset!r} is not readable any more ({e})") from None
    lone = len(gt_sequences) == 1
    gt = pick_sequence(gt_sequences, sequence, lone_ok=lone)
    if gt is None:
        raise InputError(f"profiles: no sequence {sequence!r} in the ground truth {str(gt_root)!r}")
    outputs = {}
    for method in methods:
        folder = outputs_path(results_dir, recorded, method, dataset)
        try:
            seq = pick_sequence(open_dataset(folder), sequence, lone_ok=lone) if folder else None
        except InputError:
            seq = None
        if seq is not None:
            outputs[method] = seq
    return gt, outputs


def profile_figure(results_dir: str | Path, dataset: str, sequence: str, methods: Sequence[str],
                   colors: Mapping[str, str], row: int | None = None) -> Figure:
    """The temporal-profile montage of one stored sequence (GT first, then each method)."""
    from vsrbench.metrics import default_profile_row, temporal_profile

    gt, outputs = sequence_frames(results_dir, dataset, sequence, methods)
    gt_frames = list(gt)
    row = default_profile_row(gt_frames) if row is None else row
    h, w = gt_frames[0].shape[:2]
    profiles = {"GT": temporal_profile(gt_frames, row=row)}
    for m, seq in outputs.items():  # an output larger than GT is cut to it (top-left kept), as it was scored
        profiles[m] = temporal_profile([f[:h, :w] for f in seq], row=row)
    return plot_profiles(profiles, colors, title=f"{dataset} / {sequence}: temporal profiles (row y = {row})",
                         where=f"row y = {row}")


def plot_results(
    results_dir: str | Path,
    out_dir: str | Path,
    *,
    kinds: Sequence[str] | str = KINDS,
    formats: Sequence[str] | str = ("png",),
    metrics: Iterable[str] | None = None,
    average: str = "seq_avg",
    protocol: str | None = None,
    dataset: str | None = None,
    warn=None,
) -> list[Path]:
    """Write every figure of ``kinds`` for the results in ``results_dir``; returns the files.

    Each figure is written as ``out_dir/KIND_DATASET_...`` (:func:`slug`: ``curves_vid4_city.png``,
    ``bars_vid4_psnr.pdf``, ...), atomically; PDFs embed TrueType fonts.

    Parameters
    ----------
    results_dir : str or pathlib.Path
        The results folder (profiles also read the frames stored in it).
    out_dir : str or pathlib.Path
        The folder the figures are written to.
    kinds : str or sequence of str
        ``"all"`` or some of ``curves``, ``profiles``, ``tradeoff``, ``bars`` (a list or comma-separated).
    formats : str or sequence of str
        ``png`` and/or ``pdf`` (a list or comma-separated).
    metrics : iterable of str, optional
        The metrics drawn (default: every stored metric).
    average : str
        How the bars and trade-off points average: ``"seq_avg"`` or ``"frame_avg"``.
    protocol : str, optional
        Draw one protocol's results (a preset name or a hash), as :func:`~vsrbench.results.loading.load_results`.
    dataset : str, optional
        Draw one dataset's figures (default: every dataset).
    warn : callable, optional
        ``warn(line)`` receives a line for each figure that cannot be drawn (e.g. profiles whose
        frames are gone); drawing no figure at all is an error.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    vsrbench.core.errors.InputError
        An unknown kind or format, the errors of :func:`~vsrbench.results.loading.load_results`, results
        that mix protocols within a dataset, a metric with no stored results, or no figure drawn at all
        (the first reason is the message).
    vsrbench.core.errors.UnknownNameError
        An unknown dataset or metric name.

    Examples
    --------
    Reads a results folder::

        from vsrbench.visual.plots import plot_results
        files = plot_results("results", "figures", kinds="curves,bars", formats="png,pdf", warn=print)
    """
    from vsrbench.results.loading import load_results

    kinds, formats = parse_kinds(kinds), parse_formats(formats)
    df = rows_of_dataset(load_results(results_dir, protocol), dataset=dataset)
    colors = method_colors(df["method"])
    written: list[Path] = []
    problems: list[str] = []

    def save(fig: Figure, *parts: str) -> None:
        written.extend(save_figure(fig, out_dir, slug(*parts), formats))

    for ds in ordered(df["dataset"]):
        part = df[df["dataset"] == ds]
        chosen = resolve_metrics(part, metrics)
        sequences = sorted(set(part["sequence"]))
        for seq in sequences if "curves" in kinds else ():
            save(plot_curves(part, ds, seq, chosen, colors), "curves", ds, seq)
        for metric in chosen if "bars" in kinds else ():
            save(plot_bars(part, ds, metric, colors, average), "bars", ds, metric)
        if "tradeoff" in kinds and not tradeoff_pairs(chosen):
            temporal = ", ".join(m for m, i in METRICS.items() if i.temporal)
            problems.append(f"tradeoff: dataset {ds!r} needs a temporal metric ({temporal}) and psnr or lpips, "
                            f"has {', '.join(chosen)}")
        for x, y in tradeoff_pairs(chosen) if "tradeoff" in kinds else ():
            save(plot_tradeoff(part, ds, x, y, colors, average), "tradeoff", ds, x, y)
        for seq in sequences if "profiles" in kinds else ():
            try:
                save(profile_figure(results_dir, ds, seq, ordered(part["method"]), colors), "profiles", ds, seq)
            except InputError as e:
                problems.append(str(e))
    if problems and not written:
        raise InputError(problems[0])
    for line in problems:
        (warn or (lambda _: None))(f"warning: {line}; skipped")
    return written


@dataclass(frozen=True)
class PlotRequest:
    """What ``vsrbench plot`` draws: the figures ``kinds`` (names, comma-separated, or ``all``) of
    the results folder ``results`` into the folder ``out``, in ``formats`` (``png``, ``pdf`` or both);
    the other fields select, as for :func:`plot_results`."""

    results: str
    out: str
    kinds: str = "all"
    formats: str = "png"
    metrics: tuple[str, ...] | None = None
    average: str = "seq_avg"
    protocol: str | None = None
    dataset: str | None = None


def plot(request: PlotRequest, *, warn=None) -> list[Path]:
    """:func:`plot_results` of ``request``; returns the files written. A failed write of a figure
    (e.g. a read-only ``out``) is one line naming ``out``, not a temporary file."""
    from vsrbench.core.errors import os_error
    from vsrbench.results.store import find_results_dir

    r = request
    results = find_results_dir(r.results)
    try:
        return plot_results(results, r.out, kinds=r.kinds, formats=r.formats,
                            metrics=None if r.metrics is None else list(r.metrics), average=r.average,
                            protocol=r.protocol, dataset=r.dataset, warn=warn)
    except OSError as e:
        if e.filename is None or not _inside(e.filename, r.out):
            raise
        raise os_error(e, "write figures to", r.out, "choose another --out") from None


def _inside(path, folder) -> bool:
    import os

    try:
        return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))
    except (TypeError, ValueError):
        return False
