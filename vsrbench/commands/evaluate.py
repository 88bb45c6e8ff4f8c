"""``vsrbench evaluate``: score output frames against ground truth under a protocol."""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from vsrbench.core.errors import InputError, os_error
from vsrbench.results.store import STORE_FILENAME

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
    "vsrbench evaluate --gt data/vid4/GT --pred outputs/mine --out results/vid4",
    "vsrbench evaluate --suite vid4 --gt data/vid4/GT --pred outputs/mine --metrics psnr,ssim --out results/vid4",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import add_device, add_metrics, add_out, add_workers, group

    inputs = group(p, "inputs")
    inputs.add_argument("--gt", required=True, help="ground-truth sequence or dataset")
    inputs.add_argument("--pred", required=True, help="output sequence or dataset to score")
    inputs.add_argument("--suite", default=None, metavar="NAME",
                        help="a benchmark suite (vsrbench datasets lists them): check GT and PRED against its clips, "
                        "frame counts and sizes, and score under its convention (--protocol / --set override it, "
                        "with a note)")
    inputs.add_argument("--clips-only", action="store_true",
                        help="with --suite: check the clip set only, not frame counts or sizes (a partial copy)")
    scoring = group(p, "scoring")
    scoring.add_argument("--protocol", default=None, help="tecogan (default without --suite), tecogan-gpu, basicsr-y, "
                         "basicsr-rgb or duf; with --suite, the suite's convention unless given")
    scoring.add_argument("--set", action="append", metavar="FIELD=VALUE", default=[],
                         help="override a protocol field, e.g. --set crop_border=8 (repeatable)")
    add_metrics(scoring, joined=True, help="default: the protocol's (tecogan: psnr,ssim,lpips,tof,tlp; without "
                "lpips,tlp, and a note, when their AlexNet weights file is missing)")
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
    from vsrbench.commands.run import worker_options
    from vsrbench.core.device import resolve_device
    from vsrbench.evaluate import check_lengths
    from vsrbench.core.io import open_dataset, pair_datasets
    from vsrbench.metrics import METRICS, check_metrics, get_protocol
    from vsrbench.metrics.protocol import parse_overrides

    options = worker_options(args)
    overrides = parse_overrides(args.set)
    suite = None
    if args.suite is not None:
        from vsrbench.catalog.suites import get_suite

        suite = get_suite(args.suite)
        proto = suite.protocol(**overrides) if args.protocol is None else get_protocol(args.protocol, **overrides)
    else:
        if args.clips_only:
            raise InputError("--clips-only applies to --suite checks only; add --suite NAME or leave it out")
        proto = get_protocol(args.protocol or "tecogan", **overrides)
    metrics = check_metrics(args.metrics.split(",") if args.metrics else proto.default_metrics)
    asked = list(metrics)
    device = resolve_device(args.device)
    if args.degradation is not None:
        from vsrbench.baselines.degrade import DEGRADATIONS

        DEGRADATIONS[args.degradation]  # an unknown name: one line with did-you-mean
    method = _name(args.method, args.pred, "--method", None if suite is None else suite.root)
    dataset = _name(args.dataset, args.gt, "--dataset") if args.dataset is not None or suite is None else suite.name
    if suite is not None:
        checked = suite.validate(args.gt, args.pred, strict=not args.clips_only)
        pairs = checked.pairs()
        convention = suite.protocol()
        print(f"note: {checked.summary()}" + "".join(f"; {n}" for n in checked.notes), file=sys.stderr)
        if proto.hash != convention.hash:
            print(f"note: scoring with protocol {proto.name}, not suite {suite.name}'s convention {convention.name} "
                  f"({_overridden_by(args)}); summary.json and the run record name both", file=sys.stderr)
        gt_root, pred_root = checked.gt_root, checked.pred_root  # e.g. Vimeo's sequences/, however GT was given
    else:
        pairs = pair_datasets(open_dataset(args.gt), open_dataset(args.pred))
        gt_root, pred_root = Path(args.gt), Path(args.pred)
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
    _refuse_old_output(out, args.no_resume)
    inputs = {g.name: {"gt": str(Path(g.source).resolve()), "pred": str(Path(p.source).resolve()), "frames": len(g)}
              for g, p in pairs}
    versions = {m: str(METRICS[m].version) for m in metrics}
    job = _Job(out=out, method=method, dataset=dataset, proto=proto, metrics=list(metrics), versions=versions,
               weights=weights, inputs=inputs, gt_root=str(gt_root.resolve()),
               pred_root=str(pred_root.resolve()), device=str(device), lpips_weights=args.lpips_weights,
               suite=None if suite is None else suite.name, degradation=args.degradation,
               suite_protocol=None if suite is None else suite.protocol().name, **options)
    header = {"protocol": proto.name, "protocol_hash": proto.hash, "protocol_fields": proto.to_dict(),
              "metrics": list(metrics), "metrics_skipped": [m for m in asked if m not in metrics],
              "gt": str(args.gt), "pred": str(args.pred), "inputs": inputs,
              "method": method, "dataset": dataset, "store": STORE_FILENAME,
              **({} if suite is None else {"suite": suite.name, "suite_protocol": suite.protocol().name}),
              **({} if args.degradation is None else {"degradation": args.degradation}),
              "device": str(device), "weights": weights}
    acc = job.run(pairs, header, no_resume=args.no_resume)
    print(_summary_table(acc, metrics, METRICS))
    print(f"wrote {out / 'frames.csv'} and {out / 'summary.json'}")
    print(f"results store: {out / STORE_FILENAME} (method {method!r}, dataset {dataset!r}; "
          f"`vsrbench table {out}` compares every method stored there)")
    return 0


EVALUATE_KEY = "evaluate"  # the key of the run record's bench JSON that says what an evaluate scored


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


def _overridden_by(args) -> str:
    """What replaced a suite's convention, as the user typed it."""
    parts = ([f"--protocol {args.protocol}"] if args.protocol is not None else []) + [f"--set {s}" for s in args.set]
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


class _Job:
    """One ``vsrbench evaluate`` into a results store: what it scores and how it stores it."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def bench_record(self) -> dict:
        """The ``bench`` JSON of the run record, shaped like a benchmark's (``datasets`` / ``methods``),
        so that readers of run records (profiles, tables) find GT and outputs the same way."""
        dataset = {"name": self.dataset, "gt": self.gt_root, "sequences": list(self.inputs), "suite": self.suite,
                   "degradation": self.degradation}
        return {
            "name": "evaluate", "source": "vsrbench evaluate", "description": "",
            "protocol": self.proto.to_dict(), "metrics": list(self.metrics),
            "lpips_weights": None if self.lpips_weights is None else str(Path(self.lpips_weights).resolve()),
            "datasets": {self.dataset: dataset},
            "methods": {self.method: {"name": self.method, "kind": "outputs", "outputs": {self.dataset: self.pred_root}}},
            EVALUATE_KEY: {"method": self.method, "dataset": self.dataset, "inputs": self.inputs,
                           "metrics": list(self.metrics), "protocol": self.proto.name,
                           "protocol_hash": self.proto.hash, "suite": self.suite,
                           "suite_protocol": self.suite_protocol},
        }

    def run(self, pairs, header: dict, *, no_resume: bool):
        from vsrbench.core.progress import Progress
        from vsrbench.execution import make_executor
        from vsrbench.runner import EXECUTION_KEY, run_environment
        from vsrbench.results.store import ResultsStore
        from vsrbench.results.loading import refuse_mixed_lpips_files
        from vsrbench.results.locks import run_claim

        interval = export_interval()  # a bad VSRBENCH_EXPORT_INTERVAL is refused before anything is written
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            claim, process = run_claim(self.out)
        except OSError as e:  # e.g. a read-only folder: name it, not a lock file in it
            raise os_error(e, "write results folder", self.out, "copy it to a writable place or choose another --out") from None
        with claim, ResultsStore(self.out) as store:
            for old_run, who in store.mark_stale_runs():
                print(f"note: run {old_run} ({who}) ended without finishing; marked interrupted", file=sys.stderr)
            self.check_stored(store, no_resume)
            # LPIPS/tLP of other methods in this folder must come from the same LPIPS files (as for run)
            refuse_mixed_lpips_files(store, repr(str(self.out)), self.weights,
                                     {m: v for m, v in self.versions.items() if m in ("lpips", "tlp")},
                                     [self.proto.hash], exclude=(self.method, self.dataset) if no_resume else None)
            if no_resume:
                store.remove_results(self.method, self.dataset)
            todo = [(g, p) for g, p in pairs if not self.is_done(store, g.name)]
            factory = _EvalFactory(self)
            executor = make_executor(self.executor, factory, workers=self.workers, address=self.address,
                                     device=self.device, tasks=len(todo))
            with executor:
                bench = {**self.bench_record(), EXECUTION_KEY: {**executor.describe(), "workers_asked": self.workers}}
                record = {**run_environment(), "bench_name": "evaluate", "bench": bench,
                          "protocol": self.proto.name, "protocol_hash": self.proto.hash,
                          "protocol_fields": self.proto.to_dict(), "metric_versions": self.versions,
                          "weights": self.weights, "device": self.device, **process}
                self.run_id = store.start_run(record)
                header = {**header, "vsrbench_version": record["vsrbench_version"], "run_id": self.run_id}
                status = "running"
                held: dict = {}  # sequence -> the lock held while it is in flight
                self.unexported = False  # sequences in the store, not yet in the exports
                last_export = time.monotonic()
                try:
                    total = sum(len(self.proto.scored_frames(len(g))) for g, _ in todo)
                    acc = None
                    with Progress(total, "evaluate") as prog:
                        factory.progress = prog.update  # live per frame when the worker is this process (not pickled)
                        for outcome in executor.imap(self.plan(store, todo, prog, held)):
                            try:
                                self.store_outcome(store, outcome, prog)
                            finally:
                                lock = held.pop(outcome.task[0].name, None)
                                if lock is not None:
                                    lock.release()
                            self.unexported = True
                            if time.monotonic() - last_export >= interval:  # the exports follow the store
                                acc = self.export(store, header, len(pairs))
                                self.unexported, last_export = False, time.monotonic()
                    if acc is None or self.unexported:  # nothing scored, the last ones, or another run's
                        acc = self.export(store, header, len(pairs))
                        self.unexported = False
                    status = "done"
                except KeyboardInterrupt:
                    status = "interrupted"
                    raise
                finally:
                    for lock in held.values():
                        lock.release()
                    if status != "done" and self.unexported:  # what is stored also reaches the exports
                        try:
                            self.export(store, header, len(pairs))
                        except Exception:  # noqa: BLE001 - the store holds it; the next run exports it
                            pass
                    store.finish_run(self.run_id, "failed" if status == "running" else status, weights=self.weights)
        return acc

    def is_done(self, store, sequence: str) -> bool:
        marks = store.completed(self.proto.hash, method=self.method, dataset=self.dataset, sequence=sequence)
        return all((self.method, self.dataset, sequence, m, v) in marks for m, v in self.versions.items())

    def plan(self, store, todo, prog, held: dict):
        """The sequences to score, each holding its lock (in ``held``) until its rows are stored; a
        concurrent run or evaluate scoring one is waited for, and what it stored is not redone."""
        for g, p in todo:
            lock = store.sequence_lock(self.dataset, g.name)
            if not lock.acquire(blocking=False):
                print(f"note: {self.dataset}/{g.name} is being scored by another run ({lock.holder()}); waiting for it",
                      file=sys.stderr)
                lock.acquire()
            if self.is_done(store, g.name):  # stored by the other run meanwhile
                lock.release()
                prog.update(len(self.proto.scored_frames(len(g))))
                self.unexported = True
                continue
            held[g.name] = lock
            yield g, p

    def store_outcome(self, store, outcome, prog) -> None:
        """Store one sequence's rows and marks in one transaction (an error is raised: it stops the
        command, and what was stored before stays)."""
        from vsrbench.execution.base import reissue_warnings
        from vsrbench.results.store import SequenceResult

        if outcome.error is not None:
            raise outcome.error
        reissue_warnings(outcome)
        g, _ = outcome.task
        rows, frame_names, live = outcome.result
        if not live:  # a worker in another process: its frames are counted when they arrive
            prog.update(len(self.proto.scored_frames(len(g))))
        store.add_sequence(self.run_id, SequenceResult(
            method=self.method, dataset=self.dataset, sequence=g.name, rows=rows,
            frame_names=frame_names, metric_versions=dict(self.versions),
            protocol=self.proto.name, protocol_hash=self.proto.hash))

    def stored_runs(self, store) -> tuple[dict[int, dict], dict[int, set]]:
        """``run_id -> bench`` (decoded) of the runs whose completion marks are stored for this dataset,
        and ``run_id -> the methods`` those marks are of."""
        methods: dict[int, set] = {}
        for run_id, method in store.query("SELECT DISTINCT run_id, method FROM completed WHERE dataset = ?",
                                          [self.dataset]):
            methods.setdefault(int(run_id), set()).add(method)
        out = {}
        for run_id in methods:
            row = store.query("SELECT bench FROM runs WHERE run_id = ?", [run_id])
            try:
                out[run_id] = json.loads(row[0][0]) if row and row[0][0] else {}
            except ValueError:
                out[run_id] = {}
        return out, methods

    def check_stored(self, store, no_resume: bool) -> None:
        """Refuse, in one line, to add scores that would mix with what the folder holds.

        - this dataset name stored against another ground truth (any method): always refused,
          since the methods' scores would no longer be comparable (``--dataset`` names another);
        - this method on this dataset stored by another command, protocol, metric list, inputs
          or weights files: refused unless ``--no-resume`` (which removes them first).
        """
        benches, methods = self.stored_runs(store)
        mine = {r for r, ms in methods.items() if self.method in ms}
        for run_id, bench in sorted(benches.items()):
            spec = (bench.get("datasets") or {}).get(self.dataset) or {}
            old_gt = spec.get("gt")
            if old_gt is None or no_resume and methods[run_id] == {self.method}:  # only what --no-resume removes
                continue
            if str(Path(old_gt).resolve()) != self.gt_root:
                raise InputError(
                    f"{str(self.out)!r} holds scores on dataset {self.dataset!r} against ground truth {old_gt!r} "
                    f"(run {run_id}), not {self.gt_root!r}; pass --dataset NAME to store these under another "
                    "dataset name, or choose another --out")
            old_deg = spec.get("degradation")
            if old_deg and self.degradation and old_deg != self.degradation:
                raise InputError(
                    f"{str(self.out)!r} holds scores on dataset {self.dataset!r} of outputs made from degradation "
                    f"{old_deg} (run {run_id}), not {self.degradation}: methods of two degradations must not be ranked "
                    "together; pass --dataset NAME to store these under another dataset name, or choose another --out")
        if not mine or no_resume:
            return
        last = max(mine)
        prev_bench = benches.get(last) or {}
        prev = prev_bench.get(EVALUATE_KEY)
        row = store.query("SELECT protocol, protocol_hash, weights FROM runs WHERE run_id = ?", [last])[0]
        hashes = {r[0]: r[1] for r in store.query(
            "SELECT DISTINCT protocol_hash, protocol FROM completed WHERE method = ? AND dataset = ?",
            [self.method, self.dataset])}
        what = None
        if prev is None:
            what = f"`vsrbench run` (run {last}, benchmark {prev_bench.get('name')!r}) as method {self.method!r}"
        elif set(hashes) != {self.proto.hash}:
            other = sorted(h for h in hashes if h != self.proto.hash) or sorted(hashes)
            what = f"protocol {hashes[other[0]]} ({other[0]})"
        elif prev.get("metrics") != list(self.metrics):
            what = f"metrics {','.join(prev.get('metrics') or [])}"
        elif prev.get("inputs") != self.inputs:
            what = "other inputs (GT/PRED folders or sequences)"
        else:
            try:
                old_weights = json.loads(row[2] or "{}")
            except ValueError:
                old_weights = {}
            if _shas(old_weights) != _shas(self.weights):
                what = "other weights files (" + ", ".join(
                    f"{k} sha256 {v}" for k, v in sorted(_shas(old_weights).items())) + ")"
        if what:
            raise InputError(f"{str(self.out)!r} holds scores computed with {what}; pass --no-resume to replace them, "
                             "or choose another --out")

    def export(self, store, header: dict, n_pairs: int):
        """frames.csv and summary.json of this method and dataset, from the store (atomically)."""
        from vsrbench.metrics import MetricAccumulator

        marked: list[dict[str, int]] = []  # per metric: sequence -> rowid of its completion mark
        for metric, version in self.versions.items():
            marked.append({s: int(r) for s, r in store.query(
                "SELECT sequence, min(rowid) FROM completed WHERE method = ? AND dataset = ? AND protocol_hash = ? "
                "AND metric = ? AND metric_version = ? GROUP BY sequence",
                [self.method, self.dataset, self.proto.hash, metric, version])})
        complete = {s: max(m[s] for m in marked) for s in marked[0] if all(s in m for m in marked)}
        done = [s for s in sorted(complete, key=complete.get) if s in self.inputs]  # in the order they were stored
        is_done = set(done)
        acc, frame_names = MetricAccumulator(), {}
        for metric, version in self.versions.items():
            per_seq: dict[str, list] = {}
            for seq, frame, fname, value in store.query(
                    "SELECT sequence, frame, frame_name, value FROM results WHERE method = ? AND dataset = ? "
                    "AND protocol_hash = ? AND metric = ? AND metric_version = ? ORDER BY rowid",
                    [self.method, self.dataset, self.proto.hash, metric, version]):
                if seq in is_done:
                    per_seq.setdefault(seq, []).append((frame, fname, value))
            for seq in self.inputs:  # in the inputs' order, whatever order workers stored them in: the same sums
                for frame, fname, value in per_seq.get(seq, ()):
                    acc.add(seq, frame, metric, math.nan if value is None else value)
                    frame_names.setdefault(seq, {})[int(frame)] = fname
        _write(self.out, acc, frame_names, self.proto, self.metrics, header, done, complete=len(done) == n_pairs)
        return acc


class _EvalFactory:
    """Builds the worker that scores one sequence (``compute((gt, pred))``): picklable; the
    ``progress`` callback reaches a worker in this process only (it is not pickled)."""

    def __init__(self, job: _Job):
        self.args = (job.proto, list(job.metrics), job.device, job.lpips_weights)
        self.progress = None

    def __getstate__(self):
        return {"args": self.args, "progress": None}

    def __call__(self) -> "_EvalWorker":
        return _EvalWorker(*self.args, progress=self.progress)


class _EvalWorker:
    def __init__(self, proto, metrics, device, lpips_weights, progress=None):
        self.proto, self.metrics, self.device, self.lpips_weights = proto, metrics, device, lpips_weights
        self.progress = progress

    def compute(self, task):
        """``(rows, frame names, whether progress was reported frame by frame)`` of one sequence."""
        import vsrbench.evaluate as ev

        g, p = task
        scores = ev.evaluate_sequence(p, g, protocol=self.proto, metrics=self.metrics, device=self.device,
                                      lpips_weights=self.lpips_weights, progress=self.progress, name=g.name)
        return scores.rows, list(scores.frame_names), self.progress is not None


def _lpips_checked(metrics: list[str], proto, args) -> list[str]:
    """``metrics``, or without LPIPS/tLP (one note line on stderr) when they were not asked for
    explicitly (no ``--metrics``, no ``--lpips-weights``) and the AlexNet backbone file is not
    found, like ``vsrbench demo``. Asked for, a missing file is the one-line error; so is a
    file that is found but unusable."""
    from vsrbench.core.errors import WeightsError
    from vsrbench.metrics.lpips import BACKBONE_FILES, BACKBONE_SOURCE, backbone_missing, require_lpips_weights

    rest = [m for m in metrics if m not in ("lpips", "tlp")]
    try:  # fail before any work, in one line
        require_lpips_weights(proto.lpips_net, proto.lpips_version, args.lpips_weights)
        return metrics
    except WeightsError as e:
        error = e
    fname = BACKBONE_FILES[proto.lpips_net]
    if backbone_missing(proto.lpips_net) and rest and not args.metrics and not args.lpips_weights:
        print(f"note: LPIPS and tLP skipped, scoring {','.join(rest)}: AlexNet weights file {fname!r} not found; "
              f"put {BACKBONE_SOURCE.format(fname)} in $TORCH_HOME/hub/checkpoints or $VSRBENCH_HOME, or pass "
              "--lpips-weights PATH, to score them", file=sys.stderr)
        return rest
    hint = f"; to score without LPIPS/tLP use --metrics {','.join(rest)}" if rest else ""
    raise WeightsError(f"{error}{hint}") from None


def _shas(weights: dict) -> dict:
    """``{"lpips:backbone": sha256, ...}``: what must match for a resumed run (paths may move)."""
    return {k: (v or {}).get("sha256") for k, v in (weights or {}).items()}


def export_interval() -> float:
    """Seconds between two exports of frames.csv / summary.json while sequences arrive (``VSRBENCH_EXPORT_INTERVAL``,
    default 10): an export re-reads the method's rows, so one per sequence grew quadratically (600 tiny
    sequences: 27 of 31 s in exports)."""
    import os

    try:
        return max(0.0, float(os.environ.get("VSRBENCH_EXPORT_INTERVAL", "10")))
    except ValueError:
        raise InputError(f"VSRBENCH_EXPORT_INTERVAL: expected seconds (a number), got "
                         f"{os.environ['VSRBENCH_EXPORT_INTERVAL']!r}") from None


def _write(out: Path, acc, frame_names, proto, metrics, header, done, complete: bool) -> None:
    from vsrbench.core.io import atomic_write_text

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
    from vsrbench.results.export import json_number

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
