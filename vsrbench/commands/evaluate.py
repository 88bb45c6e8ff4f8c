"""``vsrbench evaluate``: score output frames against ground truth under a protocol."""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path

import numpy as np

from vsrbench.core.errors import InputError

NAME = "evaluate"
HELP = "score output frames (PRED) against ground truth (GT) under a protocol"
DESCRIPTION = (
    "Score PRED against GT. Each is one sequence (a folder of frames or a video file) or a dataset "
    "(a folder of sequence folders / videos, paired by name). Writes DIR/frames.csv (one row per frame and "
    "metric) and DIR/summary.json, and prints a summary table. Re-running with the same protocol and metrics "
    "resumes: sequences already in DIR are kept."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gt", required=True, help="ground-truth sequence or dataset")
    p.add_argument("--pred", required=True, help="output sequence or dataset to score")
    p.add_argument("--protocol", default="tecogan", help="tecogan (default), basicsr-y, basicsr-rgb or duf")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", default=[],
                   help="override a protocol field, e.g. --set crop_border=8 (repeatable)")
    p.add_argument("--metrics", default=None, help="comma-separated, default: the protocol's (tecogan: psnr,ssim,lpips,tof,tlp; "
                   "without lpips,tlp, and a note, when their AlexNet weights file is missing)")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda[:N]")
    p.add_argument("--lpips-weights", default=None, help="path of the LPIPS backbone file (default: looked up locally)")
    p.add_argument("--out", required=True, help="output folder for frames.csv and summary.json")
    p.add_argument("--no-resume", action="store_true", help="recompute sequences already present in --out")


def run(args) -> int:
    from vsrbench import __version__
    from vsrbench.core.device import resolve_device
    from vsrbench.evaluate import check_lengths, evaluate_sequence
    from vsrbench.io import open_dataset, pair_datasets
    from vsrbench.metrics import METRICS, MetricAccumulator, check_metrics, get_protocol
    from vsrbench.metrics.protocol import parse_overrides
    from vsrbench.core.progress import Progress

    proto = get_protocol(args.protocol, **parse_overrides(args.set))
    metrics = check_metrics(args.metrics.split(",") if args.metrics else proto.default_metrics)
    asked = list(metrics)
    device = resolve_device(args.device)
    pairs = pair_datasets(open_dataset(args.gt), open_dataset(args.pred))
    if set(metrics) & {"lpips", "tlp"}:
        metrics = _lpips_checked(metrics, proto, args)
    weights: dict = {}  # the weights files the scores use (path, sha256, verified), in summary.json
    if set(metrics) & {"lpips", "tlp"}:
        from vsrbench.metrics.lpips import lpips_weights_record

        weights = lpips_weights_record(proto.lpips_net, proto.lpips_version, args.lpips_weights)
    for g, p in pairs:
        check_lengths(g, p, proto, metrics)
        for seq in (g, p):
            if seq.ignored:
                names = ", ".join(x.name for x in seq.ignored[:3]) + (" ..." if len(seq.ignored) > 3 else "")
                print(f"note: ignored {len(seq.ignored)} non-frame file(s) in {seq.source}: {names}", file=sys.stderr)

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    acc, done, frame_names = MetricAccumulator(), [], {}
    inputs = {g.name: {"gt": str(Path(g.source).resolve()), "pred": str(Path(p.source).resolve()), "frames": len(g)}
              for g, p in pairs}
    if not args.no_resume:
        done = _resume(out, proto, metrics, acc, inputs, frame_names, weights)
    todo = [(g, p) for g, p in pairs if g.name not in done]
    total = sum(len(g) - 2 * proto.cut_frames for g, _ in todo)
    header = {"protocol": proto.name, "protocol_hash": proto.hash, "protocol_fields": proto.to_dict(),
              "metrics": list(metrics), "metrics_skipped": [m for m in asked if m not in metrics],
              "gt": str(args.gt), "pred": str(args.pred), "inputs": inputs,
              "device": str(device), "vsrbench_version": __version__, "weights": weights}
    with Progress(total, "evaluate") as prog:
        for g, p in todo:
            scores = evaluate_sequence(p, g, protocol=proto, metrics=metrics, device=device,
                                       lpips_weights=args.lpips_weights, progress=prog.update, name=g.name)
            acc.update(g.name, scores.rows)
            frame_names[g.name] = dict(enumerate(scores.frame_names))
            done.append(g.name)
            _write(out, acc, frame_names, proto, metrics, header, done, complete=len(done) == len(pairs))
    if not todo:
        _write(out, acc, frame_names, proto, metrics, header, done, complete=True)
    print(_summary_table(acc, metrics, METRICS))
    print(f"wrote {out / 'frames.csv'} and {out / 'summary.json'}")
    return 0


def _lpips_checked(metrics: list[str], proto, args) -> list[str]:
    """``metrics``, or without LPIPS/tLP (one note line on stderr) when they were not asked for
    explicitly (no ``--metrics``, no ``--lpips-weights``) and the AlexNet backbone file is not
    found, like ``vsrbench demo``. Asked for, a missing file is the one-line error; so is a
    file that is found but unusable."""
    from vsrbench.core.errors import WeightsError
    from vsrbench.core.weights import find_weights
    from vsrbench.metrics.lpips import BACKBONE_FILES, BACKBONE_SOURCE, require_lpips_weights

    rest = [m for m in metrics if m not in ("lpips", "tlp")]
    try:  # fail before any work, in one line
        require_lpips_weights(proto.lpips_net, proto.lpips_version, args.lpips_weights)
        return metrics
    except WeightsError as e:
        error = e
    fname = BACKBONE_FILES[proto.lpips_net]
    try:
        find_weights(fname)
        missing = False
    except WeightsError:
        missing = True
    if missing and rest and not args.metrics and not args.lpips_weights:
        print(f"note: LPIPS and tLP skipped, scoring {','.join(rest)}: AlexNet weights file {fname!r} not found; "
              f"put {BACKBONE_SOURCE.format(fname)} in $TORCH_HOME/hub/checkpoints or $VSRBENCH_HOME, or pass "
              "--lpips-weights PATH, to score them", file=sys.stderr)
        return rest
    hint = f"; to score without LPIPS/tLP use --metrics {','.join(rest)}" if rest else ""
    raise WeightsError(f"{error}{hint}") from None


def _resume(out: Path, proto, metrics, acc, inputs: dict, frame_names: dict, weights: dict) -> list[str]:
    """Reload the sequences already scored in ``out``.

    Only a run of the same command resumes: same protocol hash, metrics, inputs (GT and
    output folders of every sequence) and weights files (sha256). Anything else would mix or drop results, so it is an
    error that names ``--no-resume`` (replace them) or another ``--out``.
    """
    import pandas as pd

    summ, frames = out / "summary.json", out / "frames.csv"
    if not (summ.is_file() and frames.is_file()):
        return []
    try:
        prev = json.loads(summ.read_text())
        # names stay text: REDS sequences are "000", "011", ... and frames "00000000.png"
        df = pd.read_csv(frames, dtype={"sequence": str, "frame_name": str}, keep_default_na=False,
                         na_values={"value": ["nan"]})
    except (ValueError, OSError):
        return []  # unreadable leftovers are recomputed (and replaced atomically)
    what = None
    if prev.get("protocol_hash") != proto.hash:
        what = f"protocol {prev.get('protocol')} ({prev.get('protocol_hash')})"
    elif prev.get("metrics") != list(metrics):
        what = f"metrics {','.join(prev.get('metrics') or [])}"
    elif prev.get("inputs") != inputs:
        what = "other inputs (GT/PRED folders or sequences)"
    elif _shas(prev.get("weights", weights)) != _shas(weights):
        what = "other weights files (" + ", ".join(
            f"{k} sha256 {v}" for k, v in sorted(_shas(prev.get("weights") or {}).items())) + ")"
    if what:
        raise InputError(f"{str(out)!r} holds scores computed with {what}; pass --no-resume to replace them, "
                         "or choose another --out")
    done = [s for s in prev.get("done", []) if s in inputs]
    for row in df[df["sequence"].isin(done)].itertuples(index=False):
        acc.add(row.sequence, row.frame, row.metric, row.value)
    for s in done:
        sub = df[df["sequence"] == s][["frame", "frame_name"]].drop_duplicates()
        frame_names[s] = dict(zip(sub["frame"], sub["frame_name"]))
    return done


def _shas(weights: dict) -> dict:
    """``{"lpips:backbone": sha256, ...}``: what must match for a resumed run (paths may move)."""
    return {k: (v or {}).get("sha256") for k, v in (weights or {}).items()}


def _write(out: Path, acc, frame_names, proto, metrics, header, done, complete: bool) -> None:
    from vsrbench.io import atomic_write_text

    lines = ["sequence,frame,frame_name,metric,value,protocol"]
    for seq, frame, metric, value in acc.rows():
        fname = frame_names.get(seq, {}).get(frame, "")
        lines.append(f"{_csv(seq)},{frame},{_csv(str(fname))},{metric},{value!r},{_csv(proto.name)}")
    atomic_write_text(out / "frames.csv", "\n".join(lines) + "\n")
    summary = dict(header)
    summary["date"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    summary["complete"] = complete
    summary["done"] = list(done)
    means = {m: acc.sequence_means(m) for m in metrics}
    stats = {m: acc.summary(m) for m in metrics}
    summary["sequences"] = {s: {m: _number(means[m].get(s)) for m in metrics} for s in done}
    for key in ("frame_avg", "seq_avg", "n_frames", "n_nonfinite"):
        summary[key] = {m: _number(stats[m][key]) for m in metrics}
    # strict JSON: non-finite numbers are written as the strings "NaN" / "Infinity"
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")


def _number(value):
    from vsrbench.store import json_number

    return value if value is None or isinstance(value, int) else json_number(value)


def _csv(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n') else s


def _summary_table(acc, metrics, info) -> str:
    head = ["sequence"] + [f"{info[m].label}{'↑' if info[m].higher_is_better else '↓'}" for m in metrics]
    means = {m: acc.sequence_means(m) for m in metrics}
    stats = {m: acc.summary(m) for m in metrics}
    rows = [[s] + [_fmt(means[m].get(s), info[m].decimals) for m in metrics]
            for s in sorted({s for m in metrics for s in means[m]})]
    for avg in ("frame_avg", "seq_avg"):
        rows.append([avg] + [_fmt(stats[m][avg], info[m].decimals) for m in metrics])
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    fmt = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def _fmt(v, decimals: int) -> str:
    if v is None or not np.isfinite(v):
        return "-" if v is None or np.isnan(v) else ("inf" if v > 0 else "-inf")
    return f"{v:.{decimals}f}"
