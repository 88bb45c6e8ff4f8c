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

from vsrbench.core.errors import InputError
from vsrbench.results.store import STORE_FILENAME

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
    from vsrbench.metrics import METRICS

    job, pairs, header = _prepare(args)  # everything checked before a line of progress or a file is written
    acc = job.run(pairs, header, no_resume=args.no_resume)
    print(_summary_table(acc, job.metrics, METRICS))
    print(f"wrote {job.out / 'frames.csv'} and {job.out / 'summary.json'}")
    print(f"results store: {job.out / STORE_FILENAME} (method {job.method!r}, dataset {job.dataset!r}; "
          f"`vsrbench table {job.out}` compares every method stored there)")
    return 0


def _prepare(args) -> tuple["_Job", list, dict]:
    """The job of one evaluate, its (GT, PRED) pairs and the exports' header, every input checked."""
    from vsrbench.commands.run import worker_options
    from vsrbench.core.device import resolve_device
    from vsrbench.metrics import METRICS

    options = worker_options(args)
    suite, proto = _protocol(args)
    metrics, asked = _metrics(args, proto)
    device = resolve_device(args.device)
    if args.degradation is not None:
        from vsrbench.baselines.degrade import DEGRADATIONS

        DEGRADATIONS[args.degradation]  # an unknown name: one line with did-you-mean
    method = _name(args.method, args.pred, "--method", None if suite is None else suite.root)
    dataset = _name(args.dataset, args.gt, "--dataset") if args.dataset is not None or suite is None else suite.name
    pairs, gt_root, pred_root = _pairs(args, suite, proto, metrics)
    weights: dict = {}  # the weights files the scores use (path, sha256, verified), in summary.json
    if set(metrics) & {"lpips", "tlp"}:
        from vsrbench.metrics.lpips import lpips_weights_record

        weights = lpips_weights_record(proto.lpips_net, proto.lpips_version, args.lpips_weights)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} is a file, not a folder")
    _refuse_old_output(out, args.no_resume)
    inputs = {g.name: {"gt": str(Path(g.source).resolve()), "pred": str(Path(p.source).resolve()), "frames": len(g)}
              for g, p in pairs}
    job = _Job(out=out, method=method, dataset=dataset, proto=proto, metrics=list(metrics),
               versions={m: str(METRICS[m].version) for m in metrics}, weights=weights, inputs=inputs,
               gt_root=str(gt_root.resolve()), pred_root=str(pred_root.resolve()), device=str(device),
               lpips_weights=args.lpips_weights, suite=None if suite is None else suite.name,
               degradation=args.degradation, suite_protocol=None if suite is None else suite.protocol().name,
               **options)
    header = {"protocol": proto.name, "protocol_hash": proto.hash, "protocol_fields": proto.to_dict(),
              "metrics": list(metrics), "metrics_skipped": [m for m in asked if m not in metrics],
              "gt": str(args.gt), "pred": str(args.pred), "inputs": inputs,
              "method": method, "dataset": dataset, "store": STORE_FILENAME,
              **({} if suite is None else {"suite": suite.name, "suite_protocol": suite.protocol().name}),
              **({} if args.degradation is None else {"degradation": args.degradation}),
              "device": str(device), "weights": weights}
    return job, pairs, header


def _protocol(args):
    """``(suite or None, protocol)`` of the command line."""
    from vsrbench.metrics import get_protocol
    from vsrbench.metrics.protocol import parse_overrides

    overrides = parse_overrides(args.set)
    if args.suite is not None:
        from vsrbench.catalog.suites import get_suite

        suite = get_suite(args.suite)
        return suite, suite.protocol(**overrides) if args.protocol is None else get_protocol(args.protocol, **overrides)
    if args.clips_only:
        raise InputError("--clips-only applies to --suite checks only; add --suite NAME or leave it out")
    return None, get_protocol(args.protocol or "tecogan", **overrides)


def _metrics(args, proto) -> tuple[list[str], list[str]]:
    """``(metrics to score, metrics asked for)``: the protocol's defaults thin out LPIPS/tLP when their
    backbone file is missing (:func:`vsrbench.runner.skip_missing_lpips`); asked for, a missing file is the
    one-line error, with the advice to leave them out."""
    from vsrbench.core.errors import WeightsError
    from vsrbench.metrics import check_metrics
    from vsrbench.metrics.lpips import require_lpips_weights
    from vsrbench.runner import skip_missing_lpips

    given = args.metrics
    if isinstance(given, str):
        given = given.split(",")
    asked = check_metrics(list(given) if given else proto.default_metrics)
    metrics = skip_missing_lpips(asked, proto, named=bool(given), lpips_weights=args.lpips_weights, say=_note)
    if set(metrics) & {"lpips", "tlp"}:
        try:  # fail before any work, in one line
            require_lpips_weights(proto.lpips_net, proto.lpips_version, args.lpips_weights)
        except WeightsError as e:
            rest = [m for m in metrics if m not in ("lpips", "tlp")]
            hint = f"; to score without LPIPS/tLP use --metrics {','.join(rest)}" if rest else ""
            raise WeightsError(f"{e}{hint}") from None
    return list(metrics), list(asked)


def _pairs(args, suite, proto, metrics: list[str]) -> tuple[list, Path, Path]:
    """``(pairs, GT root, PRED root)``: the (GT, PRED) sequences to score, checked (suite layout, frame
    counts), with their ``note:`` lines."""
    from vsrbench.core.io import open_dataset, pair_datasets, pair_frames
    from vsrbench.evaluate import check_lengths

    if suite is not None:
        checked = suite.validate(args.gt, args.pred, strict=not args.clips_only)
        pairs = checked.pairs()
        gt_root, pred_root = checked.gt_root, checked.pred_root  # e.g. Vimeo's sequences/, however GT was given
        notes = [f"note: {checked.summary()}" + "".join(f"; {n}" for n in checked.notes)]
        convention = suite.protocol()
        if proto.hash != convention.hash:
            notes.append(f"note: scoring with protocol {proto.name}, not suite {suite.name}'s convention "
                         f"{convention.name} ({_overridden_by(args)}); summary.json and the run record name both")
    else:
        pairs = pair_datasets(open_dataset(args.gt), open_dataset(args.pred))
        gt_root, pred_root, notes = Path(args.gt), Path(args.pred), []
    pairs = [(g, pair_frames(g, p).aligned()) for g, p in pairs]  # frames pair by the number in their names
    for g, p in pairs:
        check_lengths(g, p, proto, metrics)
        for seq in (g, p):
            if seq.ignored:
                names = ", ".join(x.name for x in seq.ignored[:3]) + (" ..." if len(seq.ignored) > 3 else "")
                notes.append(f"note: ignored {len(seq.ignored)} non-frame file(s) in {seq.source}: {names}")
    for line in notes:  # said once every pair is checked
        _note(line)
    return pairs, gt_root, pred_root


def _note(line: str) -> None:
    print(line, file=sys.stderr)


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
        """Score the pairs not stored yet into the results store (one :class:`RunSession`), then export
        frames.csv and summary.json from it; returns the accumulated rows of the exports."""
        from vsrbench.execution import make_executor
        from vsrbench.runner import EXECUTION_KEY, run_environment
        from vsrbench.results.loading import refuse_mixed_lpips_files
        from vsrbench.results.session import RunSession

        interval = export_interval()  # a bad VSRBENCH_EXPORT_INTERVAL is refused before anything is written
        with RunSession(self.out, say=_note) as session:
            store = session.store
            self.check_stored(store, no_resume)
            # LPIPS/tLP of other methods in this folder must come from the same LPIPS files (as for run)
            refuse_mixed_lpips_files(store, repr(str(self.out)), self.weights,
                                     {m: v for m, v in self.versions.items() if m in ("lpips", "tlp")},
                                     [self.proto.hash], exclude=(self.method, self.dataset) if no_resume else None)
            if no_resume:
                store.remove_results(self.method, self.dataset)
            todo = [(g, p, need) for g, p in pairs if (need := self.missing(session, g.name))]
            factory = _EvalFactory(self)
            executor = make_executor(self.executor, factory, workers=self.workers, address=self.address,
                                     device=self.device, tasks=len(todo))
            with executor:
                bench = {**self.bench_record(), EXECUTION_KEY: {**executor.describe(), "workers_asked": self.workers}}
                record = {**run_environment(), "bench_name": "evaluate", "bench": bench,
                          "protocol": self.proto.name, "protocol_hash": self.proto.hash,
                          "protocol_fields": self.proto.to_dict(), "metric_versions": self.versions,
                          "weights": self.weights, "device": self.device}
                self.run_id = session.start(record)
                header = {**header, "vsrbench_version": record["vsrbench_version"], "run_id": self.run_id}
                return self.score(session, executor, factory, todo, header, len(pairs), interval)

    def score(self, session, executor, factory, todo: list, header: dict, n_pairs: int, interval: float):
        """Score ``todo`` (a sequence's rows stored as it arrives) with frames.csv / summary.json following
        the store (every ``interval`` seconds at most, at the end, and on a failure or an interrupt)."""
        from vsrbench.core.progress import Progress

        store, acc, done, interrupted = session.store, None, False, False
        self.unexported = False  # sequences in the store, not yet in the exports
        last_export = time.monotonic()
        prog = Progress(sum(len(self.proto.scored_frames(len(g))) for g, _, _ in todo), "evaluate")
        try:
            factory.progress = prog.update  # live per frame when the worker is this process (not pickled)
            for outcome in executor.imap(self.plan(session, todo, prog)):
                try:
                    self.store_outcome(session, outcome, prog)
                finally:
                    session.release_sequence(self.dataset, outcome.task[0].name)
                self.unexported = True
                if time.monotonic() - last_export >= interval:  # the exports follow the store
                    acc = self.export(store, header, n_pairs)
                    self.unexported, last_export = False, time.monotonic()
            done = True
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            prog.summary = done or interrupted  # no "0 frames in 0.1 s" line above an error
            prog.close()
            if not done and self.unexported:  # what is stored also reaches the exports
                try:
                    self.export(store, header, n_pairs)
                except Exception:  # noqa: BLE001 - the store holds it; the next run exports it
                    pass
        if acc is None or self.unexported:  # nothing scored, the last ones, or another run's
            acc = self.export(store, header, n_pairs)
        return acc

    def missing(self, session, sequence: str) -> list[str]:
        """This command's metrics not stored yet for one sequence (the resume rule of every writer)."""
        return session.missing_metrics(self.proto.hash, self.method, self.dataset, sequence, self.versions)

    def plan(self, session, todo, prog):
        """The sequences to score, each holding its lock until its rows are stored; a concurrent run or
        evaluate scoring one is waited for, and what it stored is not redone."""
        for g, p, _ in todo:
            if not session.claim_sequence(self.dataset, g.name, blocking=False):
                _note(f"note: {self.dataset}/{g.name} is being scored by another run "
                      f"({session.holder(self.dataset, g.name)}); waiting for it")
                session.claim_sequence(self.dataset, g.name)
            need = self.missing(session, g.name)  # less when another run stored some meanwhile
            if not need:
                session.release_sequence(self.dataset, g.name)
                prog.update(len(self.proto.scored_frames(len(g))))
                self.unexported = True
                continue
            yield g, p, need

    def store_outcome(self, session, outcome, prog) -> None:
        """Store one sequence's rows and marks in one transaction (an error is raised: it stops the
        command, and what was stored before stays)."""
        from vsrbench.execution.base import reissue_warnings
        from vsrbench.results.store import SequenceResult

        if outcome.error is not None:
            raise outcome.error
        reissue_warnings(outcome)
        g, _, need = outcome.task
        rows, frame_names, pred_names, live = outcome.result
        if not live:  # a worker in another process: its frames are counted when they arrive
            prog.update(len(self.proto.scored_frames(len(g))))
        session.add(SequenceResult(
            method=self.method, dataset=self.dataset, sequence=g.name, rows=rows,
            frame_names=frame_names, metric_versions={m: self.versions[m] for m in need},
            protocol=self.proto.name, protocol_hash=self.proto.hash, pred_names=pred_names))

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
        - this method on this dataset stored by another command, protocol, inputs or weights files:
          refused unless ``--no-resume`` (which removes them first). Other metrics are not a mix: those
          missing from the stored sequences are added (the resume rule of every writer, as ``vsrbench run``).
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
        elif prev.get("inputs") != self.inputs:
            what = "other inputs (GT/PRED folders or sequences)"
        else:
            try:
                old_weights = json.loads(row[2] or "{}")
            except ValueError:
                old_weights = {}
            old, new = _shas(old_weights), _shas(self.weights)
            changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])  # files both runs used
            if changed:
                what = "other weights files (" + ", ".join(f"{k} sha256 {old[k]}" for k in changed) + ")"
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
            for seq, frame, fname, pname, value in store.query(
                    "SELECT sequence, frame, frame_name, pred_name, value FROM results WHERE method = ? AND dataset = ? "
                    "AND protocol_hash = ? AND metric = ? AND metric_version = ? ORDER BY rowid",
                    [self.method, self.dataset, self.proto.hash, metric, version]):
                if seq in is_done:
                    per_seq.setdefault(seq, []).append((frame, (fname, pname), value))
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
        """``(rows, GT frame names, output frame names, whether progress was reported frame by frame)`` of one
        sequence."""
        import vsrbench.evaluate as ev

        g, p, need = task
        scores = ev.evaluate_sequence(p, g, protocol=self.proto, metrics=need, device=self.device,
                                      lpips_weights=self.lpips_weights, progress=self.progress, name=g.name)
        return scores.rows, list(scores.frame_names), list(scores.pred_names), self.progress is not None


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
