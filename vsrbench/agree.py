"""``vsrbench agree``: how well the metrics of a results folder agree with human scores.

:func:`run_agree` reads the per-clip value of every metric (the mean of the clip's finite per-frame
values, the number the tables show) and the human score of each output, then computes
:func:`vsrbench.analysis.agreement.agreement` (Spearman, Kendall, Pearson after VQEG's logistic
mapping, clip-bootstrap intervals, paired tests) and, on request, a plot of each metric against the
human score per output.

**Human scores** come from the results folder (``human``: a stored human metric, by default
``human_bt``, written by ``vsrbench study score``) or from a MOS file (``mos``): a CSV file with a
header and the columns ``clip, method, mos`` and optionally ``ci`` (the half-width of the MOS's
confidence interval, drawn as an error bar). ``clip`` is ``DATASET/SEQUENCE``, or ``SEQUENCE``
alone when one dataset of the results holds it; rows whose (clip, method) the results do not hold
are left out and counted in a note.

**Points** are the outputs that have a human score and a value of every chosen metric (so every
metric is judged on the same points, which the paired tests need); the others are counted in a note.
``within="clip"`` or ``"dataset"`` computes the coefficients within each clip (or dataset) and
averages them; the bootstrap then resamples those groups (otherwise: clips).
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vsrbench.core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from vsrbench.analysis.agreement import Agreement

__all__ = ["DEFAULT_HUMAN", "WITHIN", "AgreeRequest", "AgreeReport", "read_mos", "clip_table", "run_agree",
           "plot_agreement"]

#: the human metric read when neither ``human`` nor ``mos`` is given
DEFAULT_HUMAN = "human_bt"
#: the groups the coefficients can be computed within
WITHIN = ("clip", "dataset")
_KEY = ["method", "dataset", "sequence"]


@dataclass(frozen=True)
class AgreeRequest:
    """What ``vsrbench agree RESULTS`` was asked (module text): ``human`` (a stored human metric) or
    ``mos`` (a CSV file), the ``metrics`` to judge (default: every stored metric that is not a human
    one), the results selection, the statistics, and where the plot (``plot``) and the JSON summary
    (``out``) go."""

    results: str
    human: str | None = None
    mos: str | None = None
    metrics: tuple[str, ...] | None = None
    protocol: str | None = None
    dataset: str | None = None
    within: str | None = None
    bootstrap: int = 1000
    seed: int = 0
    level: float = 0.95
    plot: str | None = None
    out: str | None = None


@dataclass(frozen=True)
class AgreeReport:
    """The agreement, the points it was computed on and what was written."""

    agreement: "Agreement"
    human: str
    points: "pd.DataFrame"  # method, dataset, sequence, human, ci, then one column per metric
    notes: tuple[str, ...]
    plot: Path | None = None
    out: Path | None = None

    def text(self) -> str:
        from vsrbench.analysis.agreement import format_agreement
        from vsrbench.analysis.table_model import metric_name

        labels = {m.metric: metric_name(m.metric) for m in self.agreement.metrics}
        head = (f"human scores: {self.human}; {len(self.points)} outputs on "
                f"{self.points[['dataset', 'sequence']].drop_duplicates().shape[0]} clips\n")
        tail = "".join(f"note: {n}\n" for n in self.notes)
        wrote = "".join(f"{what}: {p}\n" for what, p in (("plot", self.plot), ("summary", self.out)) if p)
        return head + format_agreement(self.agreement, labels) + tail + wrote


def read_mos(path: str | Path) -> "pd.DataFrame":
    """A MOS file as a DataFrame ``clip, method, mos, ci`` (``ci`` NaN when the file has none).

    Raises
    ------
    vsrbench.core.errors.InputError
        A missing or unreadable file, a missing column, a value that is not a finite number, or a
        (clip, method) given twice; each names the file and the line.
    """
    import pandas as pd

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"MOS file {str(path)!r}: cannot be read ({e})") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    missing = [c for c in ("clip", "method", "mos") if c not in fields]
    if missing:
        raise InputError(f"MOS file {str(path)!r}: no column {', '.join(missing)} (expected a header "
                         "clip,method,mos[,ci])")
    rows, seen = [], set()
    for line, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        key = (row["clip"], row["method"])
        if key in seen:
            raise InputError(f"MOS file {str(path)!r} line {line}: clip {key[0]!r}, method {key[1]!r} given twice")
        seen.add(key)
        rows.append((*key, _number(row["mos"], path, line, "mos"),
                     _number(row["ci"], path, line, "ci") if row.get("ci") else math.nan))
    if not rows:
        raise InputError(f"MOS file {str(path)!r}: no rows")
    return pd.DataFrame(rows, columns=["clip", "method", "mos", "ci"])


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"MOS file {str(path)!r} line {line}: {column} {text!r} is not a finite number")
    return value


def clip_table(df: "pd.DataFrame") -> "pd.DataFrame":
    """Per-clip values: one row per (method, dataset, sequence), one column per metric (the mean of the
    clip's finite per-frame values; NaN when it has none)."""
    import numpy as np

    finite = df[np.isfinite(df["value"])]
    return finite.groupby([*_KEY, "metric"])["value"].mean().unstack("metric")


def _human_scores(request: AgreeRequest, table: "pd.DataFrame") -> tuple["pd.DataFrame", str, list[str]]:
    """``method, dataset, sequence, human, ci`` and a label; notes on MOS rows the results do not hold."""
    import numpy as np
    import pandas as pd

    if request.mos is None:
        name = request.human or DEFAULT_HUMAN
        if name not in table.columns:
            raise InputError(f"no human scores {name!r} in {request.results!r} (stored metrics: "
                             f"{', '.join(map(str, table.columns))}); run `vsrbench study score STUDY --out RESULTS` "
                             "or pass --mos FILE")
        got = table[name].dropna().rename("human").reset_index()
        return got.assign(ci=np.nan), name, []
    mos = read_mos(request.mos)
    clips = table.reset_index()[["dataset", "sequence"]].drop_duplicates()
    places = []
    for clip in mos["clip"]:
        if "/" in clip:
            places.append(tuple(clip.split("/", 1)))
            continue
        found = clips[clips["sequence"] == clip]["dataset"].tolist()
        places.append((found[0], clip) if len(found) == 1 else (None, clip))
    mos[["dataset", "sequence"]] = pd.DataFrame(places, index=mos.index)
    held = set(table.index)
    keep = [(m, d, s) in held for m, d, s in zip(mos["method"], mos["dataset"], mos["sequence"])]
    notes = [f"{len(keep) - sum(keep)} row(s) of {request.mos!r} name an output the results do not hold; "
             "left out"] if not all(keep) else []
    got = mos[keep].rename(columns={"mos": "human"})[[*_KEY, "human", "ci"]]
    return got, f"MOS ({Path(request.mos).name})", notes


def _points(request: AgreeRequest) -> tuple["pd.DataFrame", list[str], str, list[str]]:
    """The points (one per output), the metrics judged, the human label and the notes."""
    from vsrbench.metrics import METRICS
    from vsrbench.results.frame import resolve_metrics, rows_of_dataset
    from vsrbench.results.loading import load_results
    from vsrbench.results.store import find_results_dir

    df = rows_of_dataset(load_results(find_results_dir(request.results), request.protocol), dataset=request.dataset)
    table = clip_table(df)
    human, label, notes = _human_scores(request, table)
    if request.metrics is None:
        metrics = [m for m in resolve_metrics(df) if not METRICS[m].human and m != request.human]
    else:
        metrics = [m for m in resolve_metrics(df, request.metrics)]
        if request.human in metrics or any(METRICS[m].human for m in metrics):
            raise InputError("--metrics: a human score is what the metrics are judged against, not a metric to judge")
    if not metrics:
        raise InputError(f"no computed metric in {request.results!r} to compare with the human scores")
    points = human.merge(table[metrics].reset_index(), on=_KEY, how="inner")
    complete = points[metrics].notna().all(axis=1)
    if not complete.all() or len(points) < len(human):
        notes.append(f"{len(human) - int(complete.sum())} output(s) with a human score lack a value of some metric; "
                     "left out")
    return points[complete].reset_index(drop=True), metrics, label, notes


def run_agree(request: AgreeRequest) -> AgreeReport:
    """Agreement of the metrics with the human scores of ``request`` (module text); writes the plot and
    the JSON summary when asked.

    Raises
    ------
    vsrbench.core.errors.InputError
        Both or neither source of human scores usable, an unknown ``within``, no human scores or
        metrics in the results, fewer than 3 points, or a bad MOS file.
    """
    from vsrbench.analysis.agreement import agreement
    from vsrbench.core.io import atomic_write_text
    from vsrbench.metrics import METRICS

    if request.human is not None and request.mos is not None:
        raise InputError("--human and --mos: give one source of human scores, not both")
    if request.within is not None and request.within not in WITHIN:
        raise InputError(f"within: expected one of {', '.join(WITHIN)}, got {request.within!r}")
    if request.plot is not None:
        _plot_format(request.plot)
    points, metrics, label, notes = _points(request)
    if len(points) < 3:
        raise InputError(f"only {len(points)} output(s) have both a human score and every metric; need at least 3")
    groups = points["dataset"] if request.within == "dataset" else points["dataset"] + "/" + points["sequence"]
    result = agreement(points["human"].to_numpy(), {m: points[m].to_numpy() for m in metrics}, groups.to_numpy(),
                       higher_is_better={m: METRICS[m].higher_is_better for m in metrics},
                       within=request.within is not None, bootstrap=request.bootstrap, seed=request.seed,
                       level=request.level)
    plot = Path(request.plot) if request.plot else None
    if plot is not None:
        plot_agreement(points, result, label, plot)
    out = Path(request.out) if request.out else None
    if out is not None:
        atomic_write_text(out, json.dumps({"human": label, **result.to_dict(), "notes": [*result.notes, *notes]},
                                          indent=2) + "\n")
    return AgreeReport(result, label, points, tuple(notes), plot, out)


def _plot_format(path: str | Path) -> str:
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf", "svg"):
        raise InputError(f"--plot: cannot tell the format of {str(path)!r}; use .png, .pdf or .svg")
    return fmt


def plot_agreement(points: "pd.DataFrame", result: "Agreement", human: str, path: str | Path) -> Path:
    """One panel per metric: the metric's value (x) against the human score (y) of each output, one
    colour per method, the MOS's interval as an error bar, the fitted logistic curve and the
    coefficients in the title. Written atomically (the format from the extension: png, pdf, svg)."""
    import numpy as np
    from matplotlib.figure import Figure

    from vsrbench.analysis.agreement import logistic4
    from vsrbench.analysis.table_model import metric_name
    from vsrbench.core.io import atomic_write_bytes
    from vsrbench.visual.plots import method_colors

    path = Path(path)
    fmt = _plot_format(path)
    n = len(result.metrics)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(4.2 * cols, 3.6 * rows))
    colors = method_colors(points["method"])
    for k, m in enumerate(result.metrics):
        ax = fig.add_subplot(rows, cols, k + 1)
        x, y = points[m.metric].to_numpy(), points["human"].to_numpy()
        for method, color in colors.items():
            sel = (points["method"] == method).to_numpy()
            err = points.loc[sel, "ci"].to_numpy()
            ax.errorbar(x[sel], y[sel], yerr=None if np.all(np.isnan(err)) else err, fmt="o", ms=4, color=color,
                        elinewidth=0.8, label=method)
        if m.logistic is not None:
            grid = np.linspace(x.min(), x.max(), 200)
            ax.plot(grid, logistic4(grid if m.higher_is_better else -grid, *m.logistic), color="0.3", lw=1)
        v = m.values
        ax.set_title(f"{metric_name(m.metric)}: SROCC {v['spearman']:.2f}, PLCC {v['pearson']:.2f}", fontsize=9)
        ax.set_xlabel(metric_name(m.metric), fontsize=8)
        ax.set_ylabel(human, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.axes[0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=150, metadata={"CreationDate": None} if fmt == "pdf" else None)
    atomic_write_bytes(path, buf.getvalue())
    return path
