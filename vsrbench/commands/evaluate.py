"""``vsrbench evaluate``: score output frames against ground truth under a protocol."""
from __future__ import annotations

import argparse
import math

import numpy as np

from vsrbench.results.store import STORE_FILENAME
from vsrbench.run.evaluation import EVALUATE_KEY, export_interval

__all__ = [
    "NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run", "EVALUATE_KEY", "export_interval",
    "SUMMARY_ROWS", "SUMMARY_EXTREMES",
]

NAME = "evaluate"
HELP = "score output frames (PRED) against ground truth (GT) under a protocol"
DESCRIPTION = (
    "Score PRED against GT. Each is one sequence (a folder of frames or a video file) or a dataset "
    "(a folder of sequence folders / videos, paired by name). Stores every per-frame score in "
    "DIR/results.sqlite, the results store of `vsrbench run` (rows under --method and --dataset, with a run "
    "record: protocol, metric versions, weights files, libraries, device, command line), so `vsrbench table`, "
    "`plot`, `check` and `export` read DIR; writes DIR/frames.csv (one row per frame and metric) and "
    "DIR/summary.json from it as sequences are stored (every 10 s at most, and at the end), and prints a summary table. Re-running the same command "
    "resumes: sequences already stored are kept. Several methods (--method) can be scored into one DIR "
    "against the same GT."
)


EXAMPLES = (
    "vsrbench evaluate --suite vid4 --gt data/vid4/GT --pred outputs/mine --metrics psnr,ssim --out results/vid4",
    "vsrbench evaluate --suite videolq --pred outputs/VideoLQ --metrics niqe,musiq --out results/videolq",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import add_device, add_metrics, add_out, add_workers, group

    inputs = group(p, "inputs")
    inputs.add_argument("--gt", default=None, help="ground-truth sequence or dataset (leave it out to score "
                        "no-reference metrics only, e.g. --metrics niqe,musiq,clipiqa,dover)")
    inputs.add_argument("--pred", required=True, help="output sequence or dataset to score")
    inputs.add_argument("--suite", default=None, metavar="NAME",
                        help="a benchmark suite (vsrbench datasets lists them): check GT and PRED against its clips, "
                        "frame counts and sizes, and score under its convention (--protocol / --set override it, "
                        "with a note)")
    inputs.add_argument("--clips", default=None, metavar="FILE|PARTITION",
                        help="score only these clips: a file with one clip name per line (a BasicSR meta_info file "
                        "works: its first column), or with --suite a named partition (vimeo90k-t: fast, medium, "
                        "slow); GT and PRED may hold other clips. Stored as dataset SUITE-NAME by default")
    inputs.add_argument("--clips-only", action="store_true",
                        help="with --suite: check the clip set only, not frame counts or sizes (a partial copy)")
    scoring = group(p, "scoring")
    scoring.add_argument("--protocol", default=None, help="tecogan (default without --suite), tecogan-gpu, basicsr-y, "
                         "basicsr-rgb or duf; with --suite, the suite's convention unless given")
    scoring.add_argument("--set", action="append", metavar="FIELD=VALUE", default=[],
                         help="override a protocol field, e.g. --set crop_border=8 (repeatable)")
    add_metrics(scoring, joined=True, help="default: the protocol's (tecogan: psnr,ssim,lpips,tof,tlp; without "
                "lpips,tlp, and a note, when their AlexNet weights file is missing)")
    scoring.add_argument("--metric-option", action="append", default=[], metavar="FAMILY.NAME=VALUE",
                         help="a setting of a metric family computed by a scorer, e.g. dover.seed=3, dover.repeats=5, "
                         "ewarp.raft_weights=raft-large-c-t-v1 (repeatable); stored as part of the metric's version")
    scoring.add_argument("--lpips-weights", default=None,
                         help="path of the LPIPS backbone file (default: looked up locally)")
    out = group(p, "output")
    add_out(out, metavar="DIR", required=True, help="output folder for results.sqlite, frames.csv and summary.json")
    out.add_argument("--method", default=None, metavar="NAME",
                     help="the method name the scores are stored under (default: the name of the PRED folder or video)")
    out.add_argument("--dataset", default=None, metavar="NAME",
                     help="the dataset name the scores are stored under (default: the suite's name with --suite, "
                          "else the name of the GT folder or video)")
    out.add_argument("--degradation", default=None, metavar="NAME",
                     help="the degradation PRED's LR inputs were made with (vsrbench degrade's names: bi-matlab, "
                     "bd-duf, ...); recorded for the dataset, so `table --published` compares BI with BI, BD with BD")
    out.add_argument("--no-resume", action="store_true",
                     help="replace what DIR holds for this --method and --dataset (every protocol) and score "
                     "everything again")
    where = group(p, "where it runs")
    add_device(where)
    add_workers(where)


def run(args) -> int:
    from vsrbench.commands._options import worker_options
    from vsrbench.metrics import METRICS
    from vsrbench.run.evaluation import EvaluateRequest, evaluate_outputs

    options = worker_options(args)
    metrics = args.metrics.split(",") if isinstance(args.metrics, str) else args.metrics
    request = EvaluateRequest(
        gt=args.gt, pred=args.pred, out=args.out, suite=args.suite, clips=args.clips, clips_only=args.clips_only,
        protocol=args.protocol,
        overrides=tuple(args.set), metrics=tuple(metrics) if metrics else None, lpips_weights=args.lpips_weights,
        metric_options=tuple(args.metric_option),
        method=args.method, dataset=args.dataset, degradation=args.degradation, no_resume=args.no_resume,
        device=args.device, **options)
    done = evaluate_outputs(request)
    print(_summary_table(done.acc, done.metrics, METRICS))
    print(f"wrote {done.out / 'frames.csv'} and {done.out / 'summary.json'}")
    print(f"results store: {done.out / STORE_FILENAME} (method {done.method!r}, dataset {done.dataset!r}; "
          f"`vsrbench table {done.out}` compares every method stored there)")
    return 0


#: sequences above which the printed summary keeps the worst and best few (the exports hold all of them)
SUMMARY_ROWS = 20
SUMMARY_EXTREMES = 5


def _summary_table(acc, metrics, info) -> str:
    """The per-sequence means and the averages; a dataset of more than :data:`SUMMARY_ROWS` sequences
    (e.g. Vimeo-90K-T's 7,824 clips) shows its worst and best few by the first metric, and says where
    the full table is."""
    head = ["sequence"] + [f"{info[m].label}{'↑' if info[m].higher_is_better else '↓'}" for m in metrics]
    means = {m: acc.sequence_means(m) for m in metrics}
    stats = {m: acc.summary(m) for m in metrics}
    names = sorted({s for m in metrics for s in means[m]})
    note = None
    if len(names) > SUMMARY_ROWS and metrics:
        first = metrics[0]
        sign = 1.0 if info[first].higher_is_better else -1.0
        ranked = sorted(names, key=lambda s: (*_rank_key(means[first].get(s), sign), s))  # worst first
        k = SUMMARY_EXTREMES
        names = ranked[:k] + [None] + ranked[-k:]
        note = (f"{len(ranked)} sequences: the {k} worst and the {k} best by {info[first].label} are shown; "
                "every sequence is in summary.json and frames.csv")
    rows = [["..."] + [""] * len(metrics) if s is None else
            [s] + [_fmt(means[m].get(s), info[m].decimals) for m in metrics] for s in names]
    for avg in ("frame_avg", "seq_avg"):
        rows.append([avg] + [_fmt(stats[m][avg], info[m].decimals) for m in metrics])
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    fmt = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    return "\n".join(lines + ([note] if note else []))


def _rank_key(v, sign: float) -> tuple[int, float]:
    """A sequence mean's place, worst first (``sign`` -1 for a lower-is-better metric); a missing or NaN
    mean ranks as the worst."""
    return (0, 0.0) if v is None or math.isnan(v) else (1, sign * float(v))


def _fmt(v, decimals: int) -> str:
    if v is None or not np.isfinite(v):
        return "-" if v is None or np.isnan(v) else ("inf" if v > 0 else "-inf")
    return f"{v:.{decimals}f}"
