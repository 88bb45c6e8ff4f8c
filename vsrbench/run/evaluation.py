"""``vsrbench evaluate`` as a one-method benchmark run: output frames already made, scored against GT.

:func:`evaluate_outputs` checks everything a request names (protocol or suite, metrics, the GT and output
sequences paired frame by frame, the results folder) before a line of progress or a file is written,
builds a benchmark in memory (one dataset: GT; one method of kind ``outputs``: the outputs), and runs it
with :func:`vsrbench.runner.run_benchmark` and the :class:`~vsrbench.run.driver.RunOptions` of evaluate:
the pairs as given, the first error stops it, one progress bar over frames, a sequence another run holds
waited for where it comes, its own checks against the folder (:func:`_guard`), its run record. As
sequences are stored, ``frames.csv`` and ``summary.json`` are written from the store (:class:`_Exports`).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vsrbench.catalog.benchfile import Benchmark, DatasetDef, MethodDef
from vsrbench.core.errors import InputError
from vsrbench.results.session import RunSession
from vsrbench.results.store import STORE_FILENAME

__all__ = ["EVALUATE_KEY", "EvaluateRequest", "Evaluated", "evaluate_outputs", "export_interval"]

EVALUATE_KEY = "evaluate"  # the key of the run record's bench JSON that says what an evaluate scored


@dataclass(frozen=True)
class EvaluateRequest:
    """What ``vsrbench evaluate`` asks for (its command line, parsed)."""

    gt: str | None  # a sequence (folder of frames, video) or a dataset (folder of them); None: no-reference metrics only
    pred: str  # the outputs, laid out as GT
    out: str  # the results folder
    suite: str | None = None
    clips: str | None = None  # a clip list file, or with a suite a partition name: score those clips only
    clips_only: bool = False  # with a suite: check the clip set only
    protocol: str | None = None  # default: the suite's convention, else tecogan
    overrides: tuple[str, ...] = ()  # protocol fields, "FIELD=VALUE"
    metrics: tuple[str, ...] | None = None  # default: the protocol's
    metric_options: tuple[str, ...] = ()  # "FAMILY.NAME=VALUE" settings of the metrics computed by a scorer
    lpips_weights: str | None = None
    method: str | None = None  # default: the name of the PRED folder or video
    dataset: str | None = None  # default: the suite's name, else the name of the GT folder or video
    degradation: str | None = None
    no_resume: bool = False  # replace what the folder holds for this method and dataset
    device: str = "auto"
    workers: int | None = None
    executor: str = "local"
    address: str | None = None


@dataclass
class Evaluated:
    """What :func:`evaluate_outputs` stored and exported."""

    out: Path
    method: str
    dataset: str
    metrics: list[str]
    acc: Any  # vsrbench.metrics.MetricAccumulator of the exported rows


@dataclass
class _Job:
    """One evaluate, checked: what it scores and under which names."""

    request: EvaluateRequest
    out: Path
    method: str
    dataset: str
    proto: Any
    metrics: list[str]
    versions: dict[str, str]
    weights: dict  # the weights files the scores use (path, sha256, verified), in summary.json
    inputs: dict[str, dict]
    pairs: list
    gt_root: str
    pred_root: str
    device: str
    suite: Any
    header: dict
    metric_options: dict  # the scorers' settings per family, parsed (part of the stored metric versions)


def _note(line: str) -> None:
    print(line, file=sys.stderr)


def evaluate_outputs(request: EvaluateRequest) -> Evaluated:
    """Score ``request.pred`` against ``request.gt`` into the results store of ``request.out`` (resumably:
    sequences already stored are kept, metrics missing from them added), then export ``frames.csv`` and
    ``summary.json`` from the store. Raises the one-line errors of the checks before anything is written."""
    from vsrbench.analysis.border import border_warning
    from vsrbench.run.driver import RunOptions
    from vsrbench.runner import run_benchmark

    job = _prepare(request)  # everything checked before a line of progress or a file is written
    exports = _Exports(job, export_interval())  # a bad VSRBENCH_EXPORT_INTERVAL is refused before anything is written
    options = RunOptions(pairs={g.name: (g, p) for g, p in job.pairs}, stop_on_error=True, frame_progress="evaluate",
                         wait_in_order=True, guard=lambda session: _guard(job, session), record=_record(job),
                         after_store=exports.after_store)
    run_benchmark(_benchmark(job), job.out, device=job.device, progress=True, workers=request.workers,
                  executor=request.executor, address=request.address, options=options)
    border_warning(job.pairs, job.method, job.dataset, job.proto, str(job.out), _note)  # once per method, dataset
    return Evaluated(job.out, job.method, job.dataset, job.metrics, exports.acc)


def export_interval() -> float:
    """Seconds between two exports of frames.csv / summary.json while sequences arrive (``VSRBENCH_EXPORT_INTERVAL``,
    default 10): an export re-reads the method's rows, so one per sequence grew quadratically (600 tiny
    sequences: 27 of 31 s in exports)."""
    try:
        return max(0.0, float(os.environ.get("VSRBENCH_EXPORT_INTERVAL", "10")))
    except ValueError:
        raise InputError(f"VSRBENCH_EXPORT_INTERVAL: expected seconds (a number), got "
                         f"{os.environ['VSRBENCH_EXPORT_INTERVAL']!r}") from None


# ---------------------------------------------------------------------- checking the request

def _prepare(req: EvaluateRequest) -> _Job:
    """The job of one evaluate, its (GT, PRED) pairs and the exports' header, every input checked."""
    from vsrbench.core.device import resolve_device
    from vsrbench.metrics.extension import metric_version, parse_metric_options

    suite, proto = _protocol(req)
    options = parse_metric_options(req.metric_options)
    metrics, asked = _metrics(req, proto)
    device = resolve_device(req.device)
    if req.degradation is not None:
        from vsrbench.degrade import check_degradation

        check_degradation(req.degradation)  # unknown: did-you-mean; a random one may name its seed, NAME[seed=N]
    method = _name(req.method, req.pred, "--method", None if suite is None else suite.root)
    dataset = (_name(req.dataset, req.gt or req.pred, "--dataset") if req.dataset is not None or suite is None
               else suite.name if suite.subset is None else f"{suite.name}-{suite.subset}")
    pairs, gt_root, pred_root = _pairs(req, suite, proto, metrics)
    weights: dict = {}
    if set(metrics) & {"lpips", "tlp"}:
        from vsrbench.metrics.lpips import lpips_weights_record

        weights = lpips_weights_record(proto.lpips_net, proto.lpips_version, req.lpips_weights)
    out = Path(req.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} is a file, not a folder")
    _refuse_old_output(out, req.no_resume)
    inputs = {g.name: {"gt": None if req.gt is None else str(Path(g.source).resolve()),
                       "pred": str(Path(p.source).resolve()), "frames": len(g)} for g, p in pairs}
    header = {"protocol": proto.name, "protocol_hash": proto.hash, "protocol_fields": proto.to_dict(),
              "metrics": list(metrics), "metrics_skipped": [m for m in asked if m not in metrics],
              **({"metric_options": options} if options else {}),
              "gt": None if req.gt is None else str(req.gt), "pred": str(req.pred), "inputs": inputs,
              "method": method, "dataset": dataset, "store": STORE_FILENAME,
              **({} if suite is None else {"suite": suite.name, "suite_protocol": suite.protocol().name}),
              **({} if req.degradation is None else {"degradation": req.degradation}),
              "device": str(device), "weights": weights}
    return _Job(request=req, out=out, method=method, dataset=dataset, proto=proto, metrics=list(metrics),
                versions={m: metric_version(m, options) for m in metrics}, weights=weights, inputs=inputs, pairs=pairs,
                gt_root=str(gt_root.resolve()), pred_root=str(pred_root.resolve()), device=str(device), suite=suite,
                header=header, metric_options=options)


def _protocol(req: EvaluateRequest):
    """``(suite or None, protocol)`` of the request."""
    from vsrbench.metrics import get_protocol
    from vsrbench.metrics.protocol import parse_overrides

    overrides = parse_overrides(list(req.overrides))
    if req.suite is not None:
        from vsrbench.catalog.suites import get_suite

        suite = _subset(get_suite(req.suite), req.clips)
        return suite, suite.protocol(**overrides) if req.protocol is None else get_protocol(req.protocol, **overrides)
    if req.clips_only:
        raise InputError("--clips-only applies to --suite checks only; add --suite NAME or leave it out")
    return None, get_protocol(req.protocol or "tecogan", **overrides)


def _metrics(req: EvaluateRequest, proto) -> tuple[list[str], list[str]]:
    """``(metrics to score, metrics asked for)``: the protocol's defaults thin out LPIPS/tLP when their
    backbone file is missing (:func:`vsrbench.run.policy.skip_missing_lpips`); asked for, a missing file is the
    one-line error, with the advice to leave them out."""
    from vsrbench.core.errors import WeightsError
    from vsrbench.metrics import check_metrics
    from vsrbench.metrics.lpips import require_lpips_weights
    from vsrbench.run.policy import skip_missing_lpips, skip_missing_weights

    given = req.metrics
    if req.gt is None:
        _check_no_reference(given)
    asked = check_metrics(list(given) if given else proto.default_metrics)
    metrics = skip_missing_lpips(asked, proto, named=bool(given), lpips_weights=req.lpips_weights, say=_note)
    metrics = skip_missing_weights(metrics, named=bool(given), say=_note)
    if set(metrics) & {"lpips", "tlp"}:
        try:  # fail before any work, in one line
            require_lpips_weights(proto.lpips_net, proto.lpips_version, req.lpips_weights)
        except WeightsError as e:
            rest = [m for m in metrics if m not in ("lpips", "tlp")]
            hint = f"; to score without LPIPS/tLP use --metrics {','.join(rest)}" if rest else ""
            raise WeightsError(f"{e}{hint}") from None
    return list(metrics), list(asked)


def _subset(suite, clips: str | None):
    """The suite, or its part named by ``--clips``: a partition's name or a clip list file."""
    if clips is None:
        return suite
    if clips in suite.partitions or not Path(clips).exists() and suite.partitions and "/" not in clips:
        return suite.partition(clips)
    return suite.select(_clip_list(clips), Path(clips).stem)


def _clip_list(path: str) -> list[str]:
    """The clip names of a list file: the first word of each line (BasicSR meta_info files work), '#' comments out."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"--clips {path!r}: cannot read the clip list: {e.strerror or e}") from None
    names = [ln.split()[0] for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not names:
        raise InputError(f"--clips {path!r}: the file names no clip (one clip name per line)")
    return names


def _only_clips(sequences: dict, clips: str | None) -> dict:
    """``sequences`` limited to the clips of the list file ``clips`` (all of them must be there)."""
    if clips is None:
        return sequences
    names = _clip_list(clips)
    missing = [n for n in names if n not in sequences]
    if missing:
        raise InputError(f"--clips {clips!r}: {len(missing)} clip(s) not found: {', '.join(missing[:5])}"
                         f"{' ...' if len(missing) > 5 else ''} (found: {', '.join(list(sequences)[:5])} ...)")
    return {n: sequences[n] for n in names}


def _aligned(gt, pred, proto):
    """The output paired with GT frame by frame (by the number in their names); an output holding only GT's
    centre frame (Vimeo-90K-T's im4) stands at GT's centre index when only the centre frame is scored."""
    from vsrbench.catalog.suites import centre_padded, is_centre_frame
    from vsrbench.core.io import pair_frames

    if proto.frames_scored == "center" and len(pred) == 1 < len(gt) and pred.paths and gt.paths:
        if not is_centre_frame(gt, pred):
            raise InputError(f"sequence {gt.name!r}: the output's one frame {pred.paths[0].name!r} is not GT's centre "
                             f"frame {gt.paths[len(gt) // 2].name!r}")
        return centre_padded(pred, len(gt))
    return pair_frames(gt, pred).aligned()


def _check_no_reference(given) -> None:
    """Without ``--gt`` only no-reference metrics can be scored, and they must be named: one line otherwise."""
    from vsrbench.metrics import METRICS, check_metrics

    no_ref = ", ".join(m for m, i in METRICS.items() if not i.reference and not i.human and not i.model_run)
    if not given:
        raise InputError(f"without --gt, name the no-reference metrics to score with --metrics (e.g. {no_ref})")
    full = [m for m in check_metrics(list(given)) if METRICS[m].reference]
    if full:
        raise InputError(f"{', '.join(full)}: full-reference metric(s) need --gt; without it only no-reference "
                         f"metrics can be scored ({no_ref})")


def _pairs(req: EvaluateRequest, suite, proto, metrics: list[str]) -> tuple[list, Path, Path]:
    """``(pairs, GT root, PRED root)``: the (GT, PRED) sequences to score, checked (suite layout, frame
    counts), with their ``note:`` lines."""
    from vsrbench.core.io import open_dataset, pair_datasets, pair_frames
    from vsrbench.evaluate import check_lengths

    if req.gt is None:  # no-reference scoring: each output sequence stands in for its own GT, never read as one
        if suite is not None and suite.ground_truth:
            raise InputError(f"--suite {suite.name} checks outputs against its GT: give --gt, or score without --suite")
        outs = open_dataset(req.pred) if suite is None else suite.validate_outputs(req.pred, strict=not req.clips_only)
        pairs = [(p, p) for p in _only_clips(outs, req.clips if suite is None else None).values()]
        gt_root, pred_root, notes = Path(req.pred), Path(req.pred), []
    elif req.gt is not None and suite is not None and not suite.ground_truth:
        raise InputError(f"suite {suite.name} has no ground truth: leave out --gt and score no-reference metrics")
    elif suite is not None:
        checked = suite.validate(req.gt, req.pred, strict=not req.clips_only)
        pairs = checked.pairs()
        gt_root, pred_root = checked.gt_root, checked.pred_root  # e.g. Vimeo's sequences/, however GT was given
        notes = [f"note: {checked.summary()}" + "".join(f"; {n}" for n in checked.notes)]
        convention = suite.protocol()
        if proto.hash != convention.hash:
            notes.append(f"note: scoring with protocol {proto.name}, not suite {suite.name}'s convention "
                         f"{convention.name} ({_overridden_by(req)}); summary.json and the run record name both")
    else:
        gt, pred = _only_clips(open_dataset(req.gt), req.clips), open_dataset(req.pred)
        pairs = pair_datasets(gt, {k: v for k, v in pred.items() if k in gt} if req.clips else pred)
        gt_root, pred_root, notes = Path(req.gt), Path(req.pred), []
    pairs = [(g, _aligned(g, p, proto)) for g, p in pairs]
    for g, p in pairs:
        check_lengths(g, p, proto, metrics)
        for seq in (g, p):
            if seq.ignored:
                names = ", ".join(x.name for x in seq.ignored[:3]) + (" ..." if len(seq.ignored) > 3 else "")
                notes.append(f"note: ignored {len(seq.ignored)} non-frame file(s) in {seq.source}: {names}")
    for line in notes:  # said once every pair is checked
        _note(line)
    return pairs, gt_root, pred_root


def _name(given: str | None, path: str, option: str, inner: str | None = None) -> str:
    """``--method`` / ``--dataset``, or the name of the PRED / GT folder (a video file without its
    extension; the folder above when it is a suite's ``inner`` folder, e.g. Vimeo-90K's ``sequences``)."""
    if given is not None:
        if not given.strip():
            raise InputError(f"{option} must not be empty; give a name such as {option} mine")
        return given.strip()
    p = Path(path).resolve()
    if inner and p.name == inner:
        p = p.parent
    return (p.stem if p.is_file() else p.name) or option.lstrip("-")


def _overridden_by(req: EvaluateRequest) -> str:
    """What replaced a suite's convention, as the user typed it."""
    parts = ([f"--protocol {req.protocol}"] if req.protocol is not None else []) + [f"--set {s}" for s in req.overrides]
    return " ".join(parts)


def _refuse_old_output(out: Path, no_resume: bool) -> None:
    """An --out folder written by an older vsrbench evaluate (frames.csv + summary.json, no store)
    is refused in one line: its scores cannot be resumed or checked against this command."""
    if no_resume or (out / STORE_FILENAME).exists() or not (out / "summary.json").is_file():
        return
    raise InputError(
        f"{str(out)!r} holds frames.csv and summary.json of an older vsrbench evaluate but no {STORE_FILENAME}, "
        "so its scores cannot be resumed; pass --no-resume to score everything again into it (they are "
        "replaced), or choose another --out")


# ---------------------------------------------------------------------- the benchmark and its record

def _benchmark(job: _Job) -> Benchmark:
    """The one-dataset, one-method benchmark of an evaluate (its outputs are the pairs, given to the run)."""

    lpips_weights = job.request.lpips_weights
    return Benchmark(
        name="evaluate", protocol=job.proto, metrics=tuple(job.metrics),
        datasets={job.dataset: DatasetDef(name=job.dataset, gt=Path(job.gt_root), sequences=tuple(job.inputs))},
        methods={job.method: MethodDef(name=job.method, kind="outputs", outputs={job.dataset: Path(job.pred_root)})},
        base_dir=Path.cwd(), source="vsrbench evaluate", lpips_weights=None if lpips_weights is None else Path(lpips_weights),
        metric_options=job.metric_options)


def _record(job: _Job) -> dict:
    """The run-record fields of an evaluate: its ``bench`` JSON is shaped like a benchmark's (``datasets`` /
    ``methods``), so that readers of run records (profiles, tables) find GT and outputs the same way, and
    says what was scored under :data:`EVALUATE_KEY`."""
    req, suite = job.request, job.suite
    dataset = {"name": job.dataset, "gt": None if req.gt is None else job.gt_root, "sequences": list(job.inputs),
               "suite": None if suite is None else suite.name, "degradation": req.degradation}
    bench = {
        "name": "evaluate", "source": "vsrbench evaluate", "description": "",
        "protocol": job.proto.to_dict(), "metrics": list(job.metrics),
        "metric_options": job.metric_options,
        "lpips_weights": None if req.lpips_weights is None else str(Path(req.lpips_weights).resolve()),
        "datasets": {job.dataset: dataset},
        "methods": {job.method: {"name": job.method, "kind": "outputs", "outputs": {job.dataset: job.pred_root}}},
        EVALUATE_KEY: {"method": job.method, "dataset": job.dataset, "inputs": job.inputs,
                       "metrics": list(job.metrics), "protocol": job.proto.name, "protocol_hash": job.proto.hash,
                       "suite": dataset["suite"], "suite_protocol": None if suite is None else suite.protocol().name},
    }
    return {"bench_name": "evaluate", "bench": bench, "weights": job.weights}


# ---------------------------------------------------------------------- the checks against the folder

def _guard(job: _Job, session: RunSession) -> None:
    """An evaluate's checks against what the folder holds (in place of a benchmark's definitions and
    weights checks); then, with ``--no-resume``, this method's rows on this dataset are removed."""
    from vsrbench.results.loading import refuse_mixed_lpips_files

    store, no_resume = session.store, job.request.no_resume
    _check_stored(job, store, no_resume)
    # LPIPS/tLP of other methods in this folder must come from the same LPIPS files (as for run)
    refuse_mixed_lpips_files(store, repr(str(job.out)), job.weights,
                             {m: v for m, v in job.versions.items() if m in ("lpips", "tlp")},
                             [job.proto.hash], exclude=(job.method, job.dataset) if no_resume else None)
    if no_resume:
        store.remove_results(job.method, job.dataset)


def _stored_runs(store, dataset: str) -> tuple[dict[int, dict], dict[int, set]]:
    """``run_id -> bench`` (decoded) of the runs whose completion marks are stored for this dataset,
    and ``run_id -> the methods`` those marks are of."""
    methods: dict[int, set] = {}
    for run_id, method in store.query("SELECT DISTINCT run_id, method FROM completed WHERE dataset = ?", [dataset]):
        methods.setdefault(int(run_id), set()).add(method)
    out = {}
    for run_id in methods:
        row = store.query("SELECT bench FROM runs WHERE run_id = ?", [run_id])
        try:
            out[run_id] = json.loads(row[0][0]) if row and row[0][0] else {}
        except ValueError:
            out[run_id] = {}
    return out, methods


def _check_stored(job: _Job, store, no_resume: bool) -> None:
    """Refuse, in one line, to add scores that would mix with what the folder holds.

    - this dataset name stored against another ground truth (any method): always refused,
      since the methods' scores would no longer be comparable (``--dataset`` names another);
    - this method on this dataset stored by another command, protocol, inputs or weights files:
      refused unless ``--no-resume`` (which removes them first). Other metrics are not a mix: those
      missing from the stored sequences are added (the resume rule of every writer, as ``vsrbench run``).
    """
    benches, methods = _stored_runs(store, job.dataset)
    for run_id, bench in sorted(benches.items()):
        spec = (bench.get("datasets") or {}).get(job.dataset) or {}
        if spec.get("gt") is None or no_resume and methods[run_id] == {job.method}:  # only what --no-resume removes
            continue
        _same_dataset(job, run_id, spec)
    mine = {r for r, ms in methods.items() if job.method in ms}
    if not mine or no_resume:
        return
    what = _what_differs(job, store, max(mine), benches.get(max(mine)) or {})
    if what:
        raise InputError(f"{str(job.out)!r} holds scores computed with {what}; pass --no-resume to replace them, "
                         "or choose another --out")


def _same_dataset(job: _Job, run_id: int, spec: dict) -> None:
    """A dataset name stored by an earlier run against another GT, or outputs of another degradation: refused."""
    old_gt, old_deg, degradation = spec.get("gt"), spec.get("degradation"), job.request.degradation
    if (old_gt is None) != (job.request.gt is None):
        raise InputError(
            f"{str(job.out)!r} holds scores on dataset {job.dataset!r} made {'without' if old_gt is None else 'with'} "
            f"ground truth (run {run_id}); pass --dataset NAME to store these under another dataset name, or "
            "choose another --out")
    if old_gt is not None and str(Path(old_gt).resolve()) != job.gt_root:
        raise InputError(
            f"{str(job.out)!r} holds scores on dataset {job.dataset!r} against ground truth {old_gt!r} "
            f"(run {run_id}), not {job.gt_root!r}; pass --dataset NAME to store these under another "
            "dataset name, or choose another --out")
    if old_deg and degradation and old_deg != degradation:
        raise InputError(
            f"{str(job.out)!r} holds scores on dataset {job.dataset!r} of outputs made from degradation "
            f"{old_deg} (run {run_id}), not {degradation}: methods of two degradations must not be ranked "
            "together; pass --dataset NAME to store these under another dataset name, or choose another --out")


def _what_differs(job: _Job, store, last: int, prev_bench: dict) -> str | None:
    """What the method's last stored run on this dataset was computed with that this one is not (None: the same)."""
    prev = prev_bench.get(EVALUATE_KEY)
    hashes = {r[0]: r[1] for r in store.query(
        "SELECT DISTINCT protocol_hash, protocol FROM completed WHERE method = ? AND dataset = ?",
        [job.method, job.dataset])}
    if prev is None:
        return f"`vsrbench run` (run {last}, benchmark {prev_bench.get('name')!r}) as method {job.method!r}"
    if set(hashes) != {job.proto.hash}:
        other = sorted(h for h in hashes if h != job.proto.hash) or sorted(hashes)
        return f"protocol {hashes[other[0]]} ({other[0]})"
    if prev.get("inputs") != job.inputs:
        return "other inputs (GT/PRED folders or sequences)"
    row = store.query("SELECT weights FROM runs WHERE run_id = ?", [last])[0]
    try:
        old_weights = json.loads(row[0] or "{}")
    except ValueError:
        old_weights = {}
    old, new = _shas(old_weights), _shas(job.weights)
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])  # files both runs used
    if changed:  # the message names every file the stored scores were computed with, as it always did
        return "other weights files (" + ", ".join(f"{k} sha256 {v}" for k, v in sorted(old.items())) + ")"
    return None


def _shas(weights: dict) -> dict:
    """``{"lpips:backbone": sha256, ...}``: what must match for a resumed run (paths may move)."""
    return {k: (v or {}).get("sha256") for k, v in (weights or {}).items()}


# ---------------------------------------------------------------------- the exports

class _Exports:
    """frames.csv and summary.json of the evaluated method and dataset, following the store: after a
    sequence is stored (every ``interval`` seconds at most), at the end, and after an error or an interrupt."""

    def __init__(self, job: _Job, interval: float):
        self.job, self.interval = job, interval
        self.acc = None  # the rows of the last export
        self.unexported = False  # sequences in the store, not yet in the exports
        self.last = time.monotonic()

    def after_store(self, session: RunSession, event: str) -> None:
        """The run's :attr:`~vsrbench.run.driver.RunOptions.after_store` hook."""
        if event == "sequence":
            self.unexported = True
            if time.monotonic() - self.last >= self.interval:
                self.export(session)
        elif event == "stopped":
            if self.unexported:  # what is stored also reaches the exports
                try:
                    self.export(session)
                except Exception:  # noqa: BLE001 - the store holds it; the next run exports it
                    pass
        elif self.acc is None or self.unexported:  # done: nothing exported yet, the last ones, or another run's
            self.export(session)

    def export(self, session: RunSession) -> None:
        """Write both files from the store (atomically)."""
        from vsrbench import __version__

        job = self.job
        done, acc, frame_names = _stored_rows(job, session.store)
        header = {**job.header, "vsrbench_version": __version__, "run_id": session.run_id}
        _write(job.out, acc, frame_names, job.proto, job.metrics, header, done, complete=len(done) == len(job.pairs))
        self.acc, self.unexported, self.last = acc, False, time.monotonic()


def _stored_rows(job: _Job, store) -> tuple[list[str], Any, dict]:
    """``(sequences complete in the store, in the order they were stored; their rows; frame names)``."""
    from vsrbench.metrics import MetricAccumulator

    marked: list[dict[str, int]] = []  # per metric: sequence -> rowid of its completion mark
    for metric, version in job.versions.items():
        marked.append({s: int(r) for s, r in store.query(
            "SELECT sequence, min(rowid) FROM completed WHERE method = ? AND dataset = ? AND protocol_hash = ? "
            "AND metric = ? AND metric_version = ? GROUP BY sequence",
            [job.method, job.dataset, job.proto.hash, metric, version])})
    complete = {s: max(m[s] for m in marked) for s in marked[0] if all(s in m for m in marked)}
    done = [s for s in sorted(complete, key=complete.get) if s in job.inputs]  # in the order they were stored
    is_done = set(done)
    acc, frame_names = MetricAccumulator(), {}
    for metric, version in job.versions.items():
        per_seq: dict[str, list] = {}
        for seq, frame, fname, pname, value in store.query(
                "SELECT sequence, frame, frame_name, pred_name, value FROM results WHERE method = ? AND dataset = ? "
                "AND protocol_hash = ? AND metric = ? AND metric_version = ? ORDER BY rowid",
                [job.method, job.dataset, job.proto.hash, metric, version]):
            if seq in is_done:
                per_seq.setdefault(seq, []).append((frame, (fname, pname), value))
        for seq in job.inputs:  # in the inputs' order, whatever order workers stored them in: the same sums
            for frame, fname, value in per_seq.get(seq, ()):
                acc.add(seq, frame, metric, math.nan if value is None else value)
                frame_names.setdefault(seq, {})[int(frame)] = fname
    return done, acc, frame_names


def _write(out: Path, acc, frame_names, proto, metrics, header, done, complete: bool) -> None:
    from vsrbench.core.io import atomic_write_text

    lines = ["sequence,frame,frame_name,pred_name,metric,value,protocol"]
    for seq, frame, metric, value in acc.rows():
        fname, pname = frame_names.get(seq, {}).get(frame, ("", None))  # GT's and the output's file names
        lines.append(f"{_csv(seq)},{frame},{_csv(str(fname))},{_csv(str(pname or ''))},{metric},{value!r},"
                     f"{_csv(proto.name)}")
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
    from vsrbench.results.export import json_number

    return value if value is None or isinstance(value, int) else json_number(value)


def _csv(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n') else s
