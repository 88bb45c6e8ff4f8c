"""Run a benchmark: make LR inputs, run methods, score, store — resumably.

:func:`run_benchmark` visits every (dataset, method, sequence) of a :class:`~vsrbench.catalog.benchfile.Benchmark`
and skips those whose metrics are already stored for this protocol hash and metric versions.
For the others it

1. gets the method's output frames: precomputed ``outputs`` folders are read in place; built-in
   models, commands and callables write PNG frames (rounded, clipped to uint8) to
   ``<results>/outputs/<method>/<dataset>/<sequence>/`` — an existing folder there is reused;
2. when LR frames are needed and the dataset names a ``degradation``, makes them from GT once,
   cached as PNG in ``<results>/lr/<dataset>/<degradation>-x<scale>/<sequence>/``;
3. scores all methods of one sequence together with :func:`vsrbench.evaluate.evaluate_many`, so
   the GT side (decoding, LPIPS features, optical flows) is computed once per frame;
4. stores each method's rows and completion marks in one transaction (:mod:`vsrbench.results.store`).

Steps 1-3 of a sequence are one task of an executor (:mod:`vsrbench.execution`): with
``workers > 1`` several sequences are computed at once in worker processes, each building its
models once; this process alone stores what comes back, as it comes back, so the stored rows are
the same for any number of workers.

Folders of frames are published by renaming a finished temporary folder, so a killed run never
leaves half-written outputs or LR frames that a later run would reuse. A sequence without
outputs, or whose method fails, is reported (a warning line) and left out; the other sequences
still run, and the hole stays visible (no rows). Missing LPIPS weights stop the whole run (every
sequence would fail the same way). Ctrl-C keeps every sequence committed so far.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import platform
import shlex
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

import numpy as np

from vsrbench import __version__
from vsrbench.catalog.benchfile import Benchmark, DatasetDef, MethodDef, load_bench
from vsrbench.core.device import resolve_device
from vsrbench.core.errors import InputError, VsrbenchError, os_error
from vsrbench.core.frames import check_frame, to_uint8
from vsrbench.core.progress import LineSink, Progress
from vsrbench.execution.base import Outcome, default_workers, reissue_warnings
from vsrbench.execution import check_executor, make_executor
from vsrbench.execution.local import on_terminate
from vsrbench.core.io import FrameSequence, atomic_write_text, open_dataset, open_sequence, pick_sequence, png_names, write_frame
from vsrbench.results.locks import LOCKS_DIR, ProcessLock
from vsrbench.results.session import WRITABLE_HINT, RunSession
from vsrbench.results.store import ResultsStore, SequenceResult
from vsrbench.results.loading import refuse_mixed_lpips_files
from vsrbench.core.weights import sha256_cached

Key = tuple[str, str, str]  # (method, dataset, sequence)
LIBRARIES = {  # label -> distribution names to try
    "torch": ("torch",),
    "numpy": ("numpy",),
    "opencv": ("opencv-contrib-python", "opencv-python", "opencv-python-headless", "opencv-contrib-python-headless"),
    "scikit-image": ("scikit-image",),
    "scipy": ("scipy",),
    "pandas": ("pandas",),
}


class SequenceSkipped(Exception):
    """A sequence that cannot be scored (missing outputs, a failing method); the run goes on."""

    def __init__(self, reason: str, *, missing: bool = False):
        super().__init__(reason)
        self.missing = missing


@dataclass
class RunSummary:
    """What one :func:`run_benchmark` call did."""

    results_dir: Path
    run_id: int
    protocol: str
    protocol_hash: str
    scored: list[Key] = field(default_factory=list)
    skipped: list[Key] = field(default_factory=list)  # already complete in the store
    missing: list[tuple[str, str, str, str]] = field(default_factory=list)  # key + reason
    failed: list[tuple[str, str, str, str]] = field(default_factory=list)  # key + reason
    status: str = "running"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing failed (missing outputs are only warnings)."""
        return not self.failed and self.status == "done"

    def text(self) -> str:
        """A short human summary (a few lines)."""
        lines = [
            f"{len(self.scored)} sequence(s) scored, {len(self.skipped)} already stored, "
            f"{len(self.missing)} without outputs, {len(self.failed)} failed "
            f"({self.seconds:.1f} s; protocol {self.protocol} {self.protocol_hash}; run {self.run_id})",
            f"results: {self.results_dir}",
        ]
        lines += [f"missing: {m}/{d}/{s}: {why}" for m, d, s, why in self.missing]
        lines += [f"failed: {m}/{d}/{s}: {why}" for m, d, s, why in self.failed]
        return "\n".join(lines)


def run_benchmark(
    bench: Benchmark | str | os.PathLike,
    results_dir: str | os.PathLike,
    *,
    device: str = "auto",
    progress: bool | Callable[[str], None] = True,
    workers: int | None = None,
    executor: str = "local",
    address: str | None = None,
) -> RunSummary:
    """Run every (method, dataset, sequence) of ``bench`` not already stored in ``results_dir``.

    Progress is one line per (method, dataset, sequence) with the time left, a tqdm bar on a
    terminal, and lines every few seconds during a long step (see :mod:`vsrbench.core.progress`).
    The stored rows are the same whichever executor runs them: this process alone writes the store.

    Parameters
    ----------
    bench : Benchmark or str or os.PathLike
        A :class:`Benchmark` or the path of its TOML file.
    results_dir : str or os.PathLike
        The results folder (created when missing); sequences already stored in it are not run again.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; a method's own ``device`` wins.
    progress : bool or callable
        True prints progress and warning lines on stderr, False prints nothing, a
        callable receives each line.
    workers : int, optional
        Sequences scored at once, each in its own process (default
        :func:`vsrbench.execution.base.default_workers`, never more than the sequences left to score; 1
        scores in this process).
    executor : str
        ``"local"`` or ``"ray"`` (a Ray cluster at ``address``).
    address : str, optional
        The Ray cluster's address (``executor="ray"`` only).

    Returns
    -------
    RunSummary
        What was scored, already stored, without outputs or failed (``.ok``, ``.text()``); a sequence
        that fails is recorded there, not raised.

    Raises
    ------
    vsrbench.core.errors.InputError
        A benchmark file that is missing or invalid, an unusable device, ``address`` without the Ray
        executor, a results folder that cannot be written, or a method or dataset whose definition
        or weights file differs from the one its stored results were made with.
    vsrbench.core.errors.UnknownNameError
        An unknown executor name.

    Examples
    --------
    Runs the models and reads the frames the benchmark file names::

        from vsrbench.runner import run_benchmark
        summary = run_benchmark("examples/vid4-duf.toml", "results/vid4", workers=2)
        print(summary.text())  # scored, already stored, without outputs, failed; the results folder
        summary.ok  # True when nothing failed
    """
    if not isinstance(bench, Benchmark):
        bench = load_bench(bench)
    resolve_device(device)  # an unusable device stops the run before anything is written
    check_executor(executor, workers=workers, address=address)
    say = progress if callable(progress) else (_stderr if progress else _quiet)
    stream = sys.stderr if progress is True else LineSink(say if callable(progress) else _quiet)
    runner = _Runner(bench, Path(results_dir), device, say, stream)
    runner.workers, runner.executor_kind, runner.address = workers, executor, address
    return runner.run()


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _quiet(line: str) -> None:
    pass


# ---------------------------------------------------------------------- tasks and workers

@dataclass
class _SequenceTask:
    """One sequence of one dataset to score: ``methods`` are ``(tag, method name, metrics needed)``."""

    dataset: str
    sequence: str
    methods: list[tuple[str, str, list[str]]]


@dataclass
class _MethodResult:
    """What a worker made of one method of a sequence: its rows, or why it was skipped."""

    method: str
    need: list[str]
    rows: list[tuple[int, str, float]] | None = None
    means: str = ""  # the log line's means
    made: float = 0.0  # seconds to get its outputs (run the model, read the folder)
    skipped: str = ""
    missing: bool = False  # skipped for missing outputs (a warning), not a failure
    at_scoring: bool = False  # got as far as scoring
    pred_names: list[str] | None = None  # the output frames paired with GT's (stored beside its names)


@dataclass
class _SequenceResult:
    methods: list[_MethodResult]
    frame_names: list[str]
    scoring: float  # seconds
    lines: list[str]  # what a worker in another process said (making LR, loading a model)
    weights: dict  # the weights records of the models such a worker loaded


class _RunnerFactory:
    """Builds the worker of a run: in this process the driver's runner itself (its models, its
    progress lines); unpickled in a worker process, a runner of the same benchmark that keeps its
    lines for the driver and draws no progress."""

    def __init__(self, runner: "_Runner"):
        self.runner: _Runner | None = runner
        self.state = (runner.bench, runner.results_dir, runner.device)

    def __getstate__(self):
        return {"runner": None, "state": self.state}

    def __call__(self) -> "_Runner":
        if self.runner is not None:
            return self.runner
        bench, results_dir, device = self.state
        worker = _Runner(bench, results_dir, device, _quiet, LineSink(_quiet))
        worker._lines = []
        return worker


# ---------------------------------------------------------------------- the run

class _Runner:
    def __init__(self, bench: Benchmark, results_dir: Path, device: str, say: Callable[[str], None],
                 stream: TextIO | None = None):
        from vsrbench.metrics import METRICS

        self.bench, self.results_dir, self._say = bench, results_dir, say
        self.stream = LineSink(say) if stream is None else stream
        self.bar: Progress | None = None  # sequences done / total, while the run runs
        self.device = str(resolve_device(device))
        self.protocol = bench.protocol
        self.versions = {m: str(METRICS[m].version) for m in bench.metrics}
        self.models: dict[str, Any] = {}
        self.callables: dict[str, Callable] = {}
        self.broken: dict[str, str] = {}  # method -> why its model cannot load
        # runs.weights: method name -> {"path", "sha256"} of its model weights, and "lpips:backbone" /
        # "lpips:linear" -> the LPIPS files the scores used (":" is never in a method name)
        self.weights: dict[str, dict[str, str | None]] = {}
        self.session: RunSession | None = None  # the driver's, while it runs (None in a worker process)
        self._datasets: dict[Path, dict[str, FrameSequence]] = {}
        self.workers: int | None = None  # worker processes (None: execution.default_workers)
        self.executor_kind, self.address = "local", None
        self._lines: list[str] | None = None  # a worker in another process: the lines it said, for the driver

    def run(self) -> RunSummary:
        start = time.monotonic()
        try:
            self.check_definitions()
        except OSError as e:  # e.g. a read-only folder: name it, not a temporary file in it
            raise os_error(e, "write results folder", self.results_dir, WRITABLE_HINT) from None
        with RunSession(self.results_dir, say=self.say) as session:
            self.session = session
            self.check_weights(session.store)
            tasks = self.bench.tasks()
            groups: dict[tuple[str, str], list] = {}  # every method of one sequence, scored together
            for dataset, method, seq in tasks:
                groups.setdefault((dataset.name, seq), []).append((dataset, method))
            executor = make_executor(self.executor_kind, _RunnerFactory(self), workers=self.workers,
                                     address=self.address, device=self.device, tasks=self.pending(groups))
            with executor:
                record = self.run_record()
                # where the sequences were scored (the runs table has no column for it: the bench JSON keeps it)
                record["bench"] = {**record["bench"], EXECUTION_KEY: {**executor.describe(), "workers_asked": self.workers}}
                summary = RunSummary(self.results_dir, session.start(record), self.protocol.name, self.protocol.hash)
                for line in self.suite_lines():
                    self.say(line)
                try:
                    self.drive(executor, summary, groups, len(tasks))
                except KeyboardInterrupt:
                    summary.status = "interrupted"
                    raise
                finally:
                    if summary.status == "running":
                        summary.status = "failed"
                    summary.seconds = time.monotonic() - start
        return summary

    def drive(self, executor, summary: RunSummary, groups: dict, total: int) -> None:
        """Score and store every pending sequence (``summary.status`` is ``done`` at the end)."""
        try:
            if set(self.bench.metrics) & {"lpips", "tlp"}:  # the LPIPS files (path, sha256) every score uses
                from vsrbench.metrics.lpips import lpips_weights_record

                self.weights.update(lpips_weights_record(self.protocol.lpips_net, self.protocol.lpips_version,
                                                         self.bench.lpips_weights))
                self._record_weights()
            self.bar = Progress(total, "run", self.stream, unit="sequences", summary=False)
            for outcome in executor.imap(self.plan(summary, groups, total)):
                try:
                    self.finish(summary, outcome)
                finally:
                    self.session.release_sequence(outcome.task.dataset, outcome.task.sequence)
            summary.status = "done"
        finally:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    def _record_weights(self) -> None:
        """Write ``self.weights`` into this run's record as soon as they are known: a run killed before
        its end still says what its rows were made with (nothing in a worker process)."""
        if self.session is not None and self.session.run_id is not None:
            self.session.record_weights(self.weights)

    def check_definitions(self) -> None:
        """Refuse a dataset or method whose definition changed since it was run into this folder.

        Its outputs and scores are stored under its name; reusing them for a new definition
        (other weights, command, outputs folder, degradation, ...) would report old numbers under
        the new setting. Fields that do not change frames (reported numbers, description, device,
        the dataset list of a method, the sequence list of a dataset) may change freely, and an
        ``outputs`` table may gain datasets.
        """
        if self.results_dir.exists() and not self.results_dir.is_dir():
            raise InputError(f"results folder {str(self.results_dir)!r} is a file, not a folder")
        with ProcessLock(self.results_dir / LOCKS_DIR / "definitions.lock"):  # runs read and merge it in turn
            self._merge_definitions()

    def _merge_definitions(self) -> None:
        path = self.results_dir / DEFINITIONS_FILE
        plain = self.bench.to_dict()
        current = {kind: {name: {k: v for k, v in d.items() if k not in _FREE_FIELDS[kind]}
                          for name, d in plain[kind].items()} for kind in ("datasets", "methods")}
        try:
            stored = json.loads(path.read_text()) if path.is_file() else {}
        except ValueError:
            raise InputError(f"{str(path)!r} is not valid JSON; it records what was run into this folder "
                             "(restore it, or use a new results folder)") from None
        for kind, defs in current.items():
            for name, new in defs.items():
                old = stored.get(kind, {}).get(name)
                changed = _changed_fields(old, new) if old is not None else []
                if changed:
                    raise InputError(
                        f"{kind[:-1]} {name!r} was run into {str(self.results_dir)!r} with a different "
                        f"{', '.join(changed)}; its stored outputs and scores belong to that definition: "
                        "give it a new name or use a new results folder")
        merged = {kind: {**stored.get(kind, {}), **{n: _merge_outputs(stored.get(kind, {}).get(n), d)
                                                     for n, d in current[kind].items()}} for kind in current}
        atomic_write_text(path, json.dumps(merged, indent=2, sort_keys=True) + "\n")

    def check_weights(self, store: ResultsStore) -> None:
        """Refuse weights files whose content differs from those the stored results were made with.

        Paths are definitions (:meth:`check_definitions`); this compares contents (sha256) with
        the ``runs.weights`` of the earlier runs, which would otherwise be reused or mixed silently:

        - LPIPS/tLP of this protocol and metric version stored in the folder (any method) were
          computed by runs whose LPIPS backbone or linear-layer file had another sha256;
        - a ``model`` method whose ``weights`` file has another sha256 than the one an earlier run
          recorded for it, while outputs or scores of that method are stored.

        Runs that recorded no sha256 (older stores) are not compared. Nothing is written before.
        """
        from vsrbench.core.errors import WeightsError

        recorded = store.weights_of_runs()
        where = f"{str(self.results_dir)!r}"
        lp = [m for m in ("lpips", "tlp") if m in self.bench.metrics]
        if lp and recorded:
            from vsrbench.metrics.lpips import lpips_weights_record

            try:
                current = lpips_weights_record(self.protocol.lpips_net, self.protocol.lpips_version,
                                               self.bench.lpips_weights)
            except WeightsError:
                current = None  # the run stops with this one-line error (recorded as a failed run)
            hashes = sorted({self.protocol_for(d).hash for d in self.bench.datasets.values()} | {self.protocol.hash})
            refuse_mixed_lpips_files(store, where, current, {m: self.versions[m] for m in lp}, hashes)
        for method in self.bench.methods.values():
            if method.kind != "model" or method.weights is None or not Path(method.weights).is_file():
                continue
            olds = [(r, w[method.name]) for r, w in sorted(recorded.items())
                    if isinstance(w.get(method.name), dict) and w[method.name].get("sha256")]
            if not olds:
                continue
            new = sha256_cached(method.weights)
            changed = [(r, w) for r, w in olds if w["sha256"] != new]
            outputs = (self.results_dir / "outputs" / method.name).glob("*/*")  # dataset/sequence folders
            stored = (any(not p.name.startswith(".") for p in outputs)
                      or store.query("SELECT 1 FROM completed WHERE method = ? LIMIT 1", [method.name]))
            if changed and stored:
                run_id, old = changed[0]
                raise InputError(
                    f"method {method.name!r}: its outputs and scores stored in {where} were made (run {run_id}) "
                    f"with weights sha256 {old['sha256'][:12]}, but {str(method.weights)!r} now has sha256 "
                    f"{new[:12]}; restore that file, or give the method a new name, or use another --out "
                    f"(or move {where} away) to run it with the new file")

    def run_record(self) -> dict[str, Any]:
        return {
            **run_environment(),
            "bench_name": self.bench.name,
            "bench": self.bench.to_dict(),
            "protocol": self.protocol.name,
            "protocol_hash": self.protocol.hash,
            "protocol_fields": self.protocol.to_dict(),
            "metric_versions": self.versions,
            "device": self.device,
        }

    # -------------------------------------------------------------- the driver's half

    def needed(self, dataset: DatasetDef, method: MethodDef, seq_name: str) -> list[str]:
        """The metrics of (method, dataset, sequence) not stored yet for this protocol and metric versions."""
        return self.session.missing_metrics(self.protocol_for(dataset).hash, method.name, dataset.name, seq_name,
                                            self.versions)

    def pending(self, groups: dict) -> int | None:
        """The sequences left to score, counted up to the workers asked for (None: one local worker,
        nothing to count)."""
        if self.executor_kind != "local":
            return None
        n = self.workers if self.workers is not None else default_workers(self.device)
        count = 0
        for (_, seq), group in groups.items():
            if n <= 1 or count >= n:
                break
            count += any(self.needed(d, m, seq) for d, m in group)
        return None if n <= 1 else count

    def plan(self, summary: RunSummary, groups: dict, total: int) -> Iterable["_SequenceTask"]:
        """The tasks of the run, in order, each holding its sequence's lock until the driver has stored
        its outcome (:meth:`RunSession.release_sequence`); a sequence another run is scoring comes at the end."""
        session = self.session

        def claim(dataset_name: str, seq: str, tagged: list) -> "_SequenceTask | None":
            task = self.plan_sequence(summary, seq, tagged)
            if task is None:  # nothing left to do for it
                session.release_sequence(dataset_name, seq)
            return task

        i, busy = 0, []
        for (dataset_name, seq), group in groups.items():
            tagged = [(f"[{i + k}/{total}]", d, m) for k, (d, m) in enumerate(group, 1)]
            i += len(group)
            if not session.claim_sequence(dataset_name, seq, blocking=False):  # another run scores it now
                self.say(f"{dataset_name}/{seq}: being scored by another run ({session.holder(dataset_name, seq)}); "
                         "waiting for it after the other sequences")
                busy.append((dataset_name, seq, tagged))
                continue
            task = claim(dataset_name, seq, tagged)
            if task is not None:
                yield task
        for dataset_name, seq, tagged in busy:  # then what it stored is skipped, or what it left is done
            session.claim_sequence(dataset_name, seq)
            task = claim(dataset_name, seq, tagged)
            if task is not None:
                yield task

    def plan_sequence(self, summary: RunSummary, seq_name: str, group: list) -> "_SequenceTask | None":
        """The task of one sequence: its methods that still need metrics (None when none does)."""
        dataset = group[0][1]
        methods = []
        for tag, _, method in group:
            need = self.needed(dataset, method, seq_name)
            if not need:
                summary.skipped.append((method.name, dataset.name, seq_name))
                self._count(skipped=True)
                self.say(f"{tag} {method.name} {dataset.name}/{seq_name}: already stored")
                continue
            methods.append((tag, method.name, need))
        return _SequenceTask(dataset.name, seq_name, methods) if methods else None

    def finish(self, summary: RunSummary, outcome: Outcome) -> None:
        """Store and report what came back for one sequence: each method's rows in their own
        transaction; a failed method is reported and has no rows. An error that stops the run
        (a :class:`VsrbenchError`, e.g. missing LPIPS weights) is raised here."""
        task: _SequenceTask = outcome.task
        labels = {name: f"{tag} {name} {task.dataset}/{task.sequence}" for tag, name, _ in task.methods}
        if outcome.error is not None:
            e = outcome.error
            if isinstance(e, VsrbenchError):
                raise e
            why = f"failed: {type(e).__name__}: {' '.join(str(e).split())}"
            for _, name, _ in task.methods:
                summary.failed.append((name, task.dataset, task.sequence, why))
                self._count()
                self.say(f"warning: {labels[name]}: {why}; skipped (no rows stored)")
            return
        reissue_warnings(outcome)
        res: _SequenceResult = outcome.result
        for line in res.lines:
            self.say(line)
        if any(self.weights.get(k) != v for k, v in res.weights.items()):  # models a worker process loaded
            self.weights.update(res.weights)
            self._record_weights()
        dataset = self.bench.datasets[task.dataset]
        protocol = self.protocol_for(dataset)
        for m in res.methods:  # first those without outputs, as they were found
            if m.rows is None and not m.at_scoring:
                (summary.missing if m.missing else summary.failed).append((m.method, task.dataset, task.sequence,
                                                                           m.skipped))
                self._count()
                self.say(f"warning: {labels[m.method]}: {m.skipped}; skipped (no rows stored)")
        scored = [m for m in res.methods if m.rows is not None or m.at_scoring]
        together = f" for {len(scored)} methods together" if len(scored) > 1 else ""
        for m in scored:
            key = (m.method, task.dataset, task.sequence)
            self._count()
            if m.rows is None:
                summary.failed.append((*key, m.skipped))
                self.say(f"warning: {labels[m.method]}: {m.skipped}; skipped (no rows stored)")
                continue
            self.session.add(SequenceResult(
                method=m.method, dataset=task.dataset, sequence=task.sequence, rows=m.rows,
                frame_names=res.frame_names, metric_versions={k: self.versions[k] for k in m.need},
                protocol=protocol.name, protocol_hash=protocol.hash, pred_names=m.pred_names or (),
            ))
            summary.scored.append(key)
            self.say(f"{labels[m.method]}: {m.means} ({len(res.frame_names)} frames; outputs {m.made:.1f} s, "
                     f"scoring {res.scoring:.1f} s{together}; run {self.bar.eta() if self.bar else 'ETA ?'})")

    # -------------------------------------------------------------- the worker's half

    def compute(self, task: "_SequenceTask") -> "_SequenceResult":
        """Outputs, checks and scores of every method of one sequence, sharing the GT work
        (:func:`~vsrbench.evaluate.evaluate_many`); a method that fails skips only itself. Writes
        only the method's outputs and LR folders (each published whole); stores nothing."""
        dataset = self.bench.datasets[task.dataset]
        protocol = self.protocol_for(dataset)
        gt = self.dataset_sequences(dataset.gt, dataset)[task.sequence]
        centre = getattr(protocol, "frames_scored", "all") == "center" and dataset.suite is not None
        scored_gt = gt  # outputs may hold only the centre frame (Vimeo im4): it stands at GT's centre index
        results: dict[str, _MethodResult] = {}
        todo: dict[str, FrameSequence] = {}
        for _, name, need in task.methods:
            method = self.bench.methods[name]
            results[name] = r = _MethodResult(name, need)
            t0 = time.monotonic()
            try:
                pred = self.prediction(method, dataset, gt)
                if centre:
                    pred = _centre_output(pred, gt)
                pred = self.check(scored_gt, pred, need, protocol)
            except SequenceSkipped as e:
                r.skipped, r.missing = str(e), e.missing
                continue
            r.made = time.monotonic() - t0
            todo[name] = pred
        scoring = 0.0
        if todo:
            t0 = time.monotonic()
            scores = self.score(scored_gt, todo, [m for m in self.bench.metrics
                                                  if any(m in results[n].need for n in todo)], protocol)
            scoring = time.monotonic() - t0
            for name in todo:
                r = results[name]
                r.at_scoring = True
                if isinstance(scores[name], SequenceSkipped):
                    r.skipped = str(scores[name])
                    continue
                r.rows = [row for row in scores[name].rows if row[1] in r.need]
                r.pred_names = list(scores[name].pred_names)
                seq_means = scores[name].means
                r.means = " ".join(f"{m}={_shown_mean(seq_means[m], scores[name].values(m))}"
                                   for m in r.need if m in seq_means)
        remote = self._lines is not None  # a worker in another process: its lines and models travel back
        lines = self._lines if remote else []
        if remote:
            self._lines = []
        return _SequenceResult(methods=list(results.values()),
                               frame_names=[scored_gt.frame_name(i) for i in range(len(scored_gt))],
                               scoring=scoring, lines=lines, weights=dict(self.weights) if remote else {})

    def say(self, line: str) -> None:
        """A progress or warning line (printed above a terminal bar, not through it); a worker
        in another process keeps its lines for the driver."""
        if self._lines is not None:
            self._lines.append(line)
        elif self.bar is not None and self.bar.tty:
            self.bar.write(line)
        else:
            self._say(line)

    def _count(self, skipped: bool = False) -> None:
        """One more (method, dataset, sequence) finished; ``skipped`` when it was already stored."""
        if self.bar is not None:
            (self.bar.skip if skipped else self.bar.update)(1)

    def steps(self, total: int, label: str) -> Progress:
        """Frame-level progress of one long step (lines every few seconds; no summary line)."""
        return Progress(total, label, self.stream, summary=False)

    def check(self, gt: FrameSequence, pred: FrameSequence, metrics: list[str], protocol=None) -> FrameSequence:
        """The output paired with GT frame by frame (:func:`~vsrbench.core.io.pair_frames`), checked for
        the protocol and metrics; a problem skips the method on this sequence."""
        from vsrbench.core.io import pair_frames
        from vsrbench.evaluate import check_lengths

        try:
            pred = pair_frames(gt, pred).aligned()
            check_lengths(gt, pred, protocol or self.protocol, metrics)
        except InputError as e:
            raise SequenceSkipped(str(e)) from None
        return pred

    def score(self, gt: FrameSequence, preds: dict[str, FrameSequence], metrics: list[str], protocol=None) -> dict:
        """Scores per method; a method whose frames cannot be scored (e.g. sizes differ) gets
        its :class:`SequenceSkipped` instead, and the others are still scored."""
        from vsrbench.evaluate import evaluate_many

        protocol = protocol or self.protocol

        def run(subset: dict[str, FrameSequence]) -> dict:
            total = max(len(gt) - 2 * protocol.cut_frames, 0) * len(subset)
            with self.steps(total, f"scoring {gt.name} ({', '.join(subset)})") as steps:
                return evaluate_many(subset, gt, protocol=protocol, metrics=metrics, device=self.device,
                                     lpips_weights=self.bench.lpips_weights, name=gt.name, progress=steps.update)

        try:
            return run(preds)
        except InputError as e:
            if len(preds) == 1:
                return {name: SequenceSkipped(str(e)) for name in preds}
        out: dict = {}
        for name, pred in preds.items():  # find which method's frames are at fault
            try:
                out[name] = run({name: pred})[name]
            except InputError as e:
                out[name] = SequenceSkipped(str(e))
        return out

    # -------------------------------------------------------------- inputs and outputs

    def dataset_sequences(self, path: Path, dataset: DatasetDef | None = None) -> dict[str, FrameSequence]:
        """The sequences of a folder; for a dataset with a suite, its clip folders as the suite lays
        them out (``sequences/<5 digits>/<4 digits>/`` for Vimeo-90K-T)."""
        if path not in self._datasets:
            if dataset is not None and dataset.suite is not None:
                from vsrbench.catalog.suites import open_clips

                self._datasets[path] = open_clips(dataset.suite, path)
            else:
                self._datasets[path] = open_dataset(path)
        return self._datasets[path]

    def suite_lines(self) -> list[str]:
        """One line per dataset with a suite: the convention its scores use (the run record's
        ``bench`` keeps ``datasets.NAME.suite`` and ``.protocol``)."""
        from vsrbench.catalog.suites import get_suite

        lines = []
        for d in self.bench.datasets.values():
            if d.suite is None:
                continue
            suite, p = get_suite(d.suite), self.protocol_for(d)
            if d.protocol is not None:
                lines.append(f"datasets.{d.name}: suite {d.suite}, scored under its convention: {suite.convention()} "
                             f"[{p.hash}]")
            else:
                lines.append(f"datasets.{d.name}: suite {d.suite}, scored under the benchmark's protocol {p.name} "
                             f"[{p.hash}], not the suite's convention ({suite.convention()})")
        return lines

    def protocol_for(self, dataset: DatasetDef):
        """The protocol a dataset is scored with: its suite's convention unless the benchmark set one."""
        return dataset.protocol if dataset.protocol is not None else self.protocol

    def pick(self, sequences: dict[str, FrameSequence], dataset: DatasetDef, name: str) -> FrameSequence | None:
        """The sequence ``name``; a lone sequence pairs with a GT that is a single sequence."""
        return pick_sequence(sequences, name, lone_ok=len(self.dataset_sequences(dataset.gt, dataset)) == 1)

    def prediction(self, method: MethodDef, dataset: DatasetDef, gt: FrameSequence) -> FrameSequence:
        if method.kind == "outputs":
            folder = method.outputs.get(dataset.name)
            if folder is None:
                raise SequenceSkipped(f"no outputs folder given for dataset {dataset.name!r}", missing=True)
            try:
                seq = self.pick(self.dataset_sequences(folder, dataset), dataset, gt.name)
            except InputError as e:
                raise SequenceSkipped(f"unusable outputs folder: {e}", missing=True) from None
            if seq is None:
                raise SequenceSkipped(f"no outputs for sequence {gt.name!r} in {str(folder)!r}", missing=True)
            return seq
        final = self.results_dir / "outputs" / method.name / dataset.name / gt.name
        if not final.is_dir():
            if method.name in self.broken:
                raise SequenceSkipped(self.broken[method.name])
            lr = self.lr_sequence(dataset, gt)
            try:
                _publish_folder(final, lambda tmp: self.produce(method, dataset, lr, tmp))
            except SequenceSkipped:
                raise
            except VsrbenchError as e:
                raise SequenceSkipped(str(e)) from None
            except Exception as e:  # a user's command/callable or a model failed: this sequence only
                raise SequenceSkipped(f"{method.kind} failed: {type(e).__name__}: {' '.join(str(e).split())}") from None
        return open_sequence(final, name=gt.name)

    def lr_sequence(self, dataset: DatasetDef, gt: FrameSequence) -> FrameSequence:
        if dataset.lr is not None:
            seq = self.pick(self.dataset_sequences(dataset.lr, dataset), dataset, gt.name)
            if seq is None:
                raise SequenceSkipped(f"no LR frames for sequence {gt.name!r} in {str(dataset.lr)!r}", missing=True)
            return seq
        final = self.results_dir / "lr" / dataset.name / f"{dataset.degradation}-x{dataset.scale}" / gt.name
        if not final.is_dir():
            self.say(f"making LR frames of {dataset.name}/{gt.name} with {dataset.degradation} x{dataset.scale}")
            _publish_folder(final, lambda tmp: self.degrade(dataset, gt, tmp))
        return open_sequence(final, name=gt.name)

    def degrade(self, dataset: DatasetDef, gt: FrameSequence, tmp: Path) -> None:
        from vsrbench.baselines.degrade import check_lr_size, degrade_uint8

        try:  # a scale too large for the frames stops the run, naming the benchmark key
            check_lr_size(gt[0].shape, dataset.scale)
        except InputError as e:
            raise InputError(f"datasets.{dataset.name}.scale: {e.args[0].removeprefix('scale: ')} "
                             f"(sequence {gt.name!r})") from None
        with self.steps(len(gt), f"LR frames {dataset.name}/{gt.name}") as steps:
            for name, frame in zip(png_names(gt), gt):
                write_frame(tmp / name, degrade_uint8(frame, dataset.degradation, dataset.scale))
                steps.update()

    def produce(self, method: MethodDef, dataset: DatasetDef, lr: FrameSequence, tmp: Path) -> None:
        """Fill ``tmp`` with one output frame per LR frame."""
        if method.kind == "command":
            self.run_command(method, dataset, lr, tmp)
            count = len(open_sequence(tmp)) if any(tmp.iterdir()) else 0
        else:
            frames = (self.model_for(method).upscale(iter(lr)) if method.kind == "model"
                      else self.callable_for(method)(list(lr)))
            with self.steps(len(lr), f"{method.name} {dataset.name}/{lr.name}: outputs") as steps:
                count = _write_frames(tmp, lr, frames, steps.update)
        if count != len(lr):
            raise SequenceSkipped(f"{method.kind} produced {count} frame(s) for {len(lr)} LR frame(s)")

    def run_command(self, method: MethodDef, dataset: DatasetDef, lr: FrameSequence, tmp: Path) -> None:
        lr_dir = self.lr_folder(dataset, lr)
        line = method.command.format(
            lr=shlex.quote(str(lr_dir)), out=shlex.quote(str(tmp)), scale=dataset.scale,
            dataset=shlex.quote(dataset.name), sequence=shlex.quote(lr.name), method=shlex.quote(method.name),
        )
        log = self.results_dir / "logs" / method.name / dataset.name / f"{lr.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as f, self.steps(len(lr), f"{method.name} {dataset.name}/{lr.name}: command") as steps:
            f.write(f"$ {line}\n".encode())
            f.flush()
            proc = subprocess.Popen(line, shell=True, cwd=self.bench.base_dir, stdout=f, stderr=subprocess.STDOUT)
            try:
                with on_terminate(proc.kill):  # a worker process stopped by Ctrl-C stops its command too
                    while proc.poll() is None:  # frames written so far, counted every second
                        try:
                            proc.wait(timeout=1.0)
                        except subprocess.TimeoutExpired:
                            steps.update(max(0, sum(1 for p in tmp.iterdir() if not p.name.startswith(".")) - steps.done))
            except BaseException:  # Ctrl-C: stop the command too
                proc.kill()
                proc.wait()
                raise
        if proc.returncode != 0:
            raise SequenceSkipped(f"command exited with status {proc.returncode}: {_last_line(log)} (log: {log})")

    def lr_folder(self, dataset: DatasetDef, lr: FrameSequence) -> Path:
        """A folder holding exactly the LR frames (a video's frames are written out once)."""
        if lr.arrays is None and lr.paths and not lr.ignored:
            return lr.paths[0].parent
        final = self.results_dir / "lr" / dataset.name / "frames" / lr.name
        if not final.is_dir():
            _publish_folder(final, lambda tmp: _write_frames(tmp, lr, iter(lr)))
        return final

    def model_for(self, method: MethodDef):
        if method.name not in self.models:
            from vsrbench.baselines import load_model

            try:
                device = str(resolve_device(method.device)) if method.device else self.device
                self.say(f"loading model {method.model!r} for {method.name} on {device}")
                model = load_model(method.model, weights=method.weights, device=device, **method.options)
            except VsrbenchError as e:  # missing weights, bad options: every sequence of the method
                self.broken[method.name] = f"cannot load model {method.model!r}: {e}"
                raise SequenceSkipped(self.broken[method.name]) from None
            self.models[method.name] = model
            self.weights[method.name] = _weights_record(method, model)
            self._record_weights()
        return self.models[method.name]

    def callable_for(self, method: MethodDef) -> Callable:
        if method.name not in self.callables:
            self.callables[method.name] = import_callable(method.callable, self.bench.base_dir,
                                                          key=f"methods.{method.name}.callable")
        return self.callables[method.name]


# ---------------------------------------------------------------------- helpers

DEFINITIONS_FILE = "definitions.json"
#: the key of a run record's ``bench`` JSON that says where its sequences were scored:
#: ``{"executor": "local", "workers": 2, "workers_asked": 2}`` (``executor.describe()``, and ``--workers`` as given)
EXECUTION_KEY = "execution"
# definition fields that do not change a method's or dataset's frames
_FREE_FIELDS = {"methods": ("reported", "description", "device", "datasets"),
                "datasets": ("sequences", "suite", "protocol")}  # protocols key the scores, not the outputs


def _centre_output(pred: FrameSequence, gt: FrameSequence) -> FrameSequence:
    """A suite scored on the centre frame: outputs with all of GT's frames are used as they are (the
    protocol scores index n // 2); an output holding only one frame must be that frame (by the number
    in its name) and stands at GT's centre index, so both store the same frame index and name."""
    from vsrbench.catalog.suites import _frame_number

    from vsrbench.catalog.suites import centre_padded

    if len(pred) == len(gt):
        return pred
    mid = gt.frame_name(len(gt) // 2)
    if len(pred) == 1:
        if pred.arrays is not None or _frame_number(pred.frame_name(0)) == _frame_number(mid):
            return centre_padded(pred, len(gt))
        raise SequenceSkipped(f"its one output frame {pred.frame_name(0)!r} is not the centre frame {mid!r}")
    raise SequenceSkipped(f"{len(pred)} output frame(s) for {len(gt)} GT frames (give all of them, or only the "
                          f"centre frame {mid})")


def _changed_fields(old: dict, new: dict) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if key == "outputs" and isinstance(a, dict) and isinstance(b, dict):
            out += [f"outputs.{d}" for d in sorted(set(a) & set(b)) if a[d] != b[d]]
        elif a != b:
            out.append(key)
    return out


def _merge_outputs(old: dict | None, new: dict) -> dict:
    """A method's recorded definition after this run: ``outputs`` keeps datasets it ran before."""
    if old and isinstance(old.get("outputs"), dict) and isinstance(new.get("outputs"), dict):
        return {**new, "outputs": {**old["outputs"], **new["outputs"]}}
    return new


def skip_missing_lpips(metrics: Iterable[str], protocol: Any, *, named: bool, lpips_weights: Any = None,
                       say: Callable[[str], None] = _stderr) -> list[str]:
    """``metrics``, without LPIPS and tLP when their backbone weights file is missing: the one policy
    of ``vsrbench run``, ``vsrbench evaluate`` and the demo, said in one ``note:`` line (:func:`lpips_skipped_note`).

    Only the protocol's default list is thinned: metrics ``named`` by the user (``--metrics``, a
    benchmark's ``metrics``), an ``lpips_weights`` path, or LPIPS/tLP alone are returned as they are, and
    so is a backbone file that is found but unusable; then scoring them stops with the one-line error of
    :func:`vsrbench.metrics.lpips.require_lpips_weights`.
    """
    from vsrbench.core.errors import WeightsError
    from vsrbench.metrics.lpips import backbone_missing, require_lpips_weights

    metrics = list(metrics)
    rest = [m for m in metrics if m not in ("lpips", "tlp")]
    if named or lpips_weights is not None or len(rest) == len(metrics) or not rest:
        return metrics
    try:
        require_lpips_weights(protocol.lpips_net, protocol.lpips_version)
        return metrics
    except WeightsError:
        if not backbone_missing(protocol.lpips_net):  # found but unusable: scoring reports it in one line
            return metrics
    say(lpips_skipped_note(rest, protocol.lpips_net))
    return rest


def lpips_skipped_note(rest: Iterable[str], net: str = "alex") -> str:
    """The one line that says LPIPS and tLP are left out for a missing backbone file."""
    from vsrbench.metrics.lpips import BACKBONE_FILES

    return (f"note: LPIPS and tLP skipped, scoring {','.join(rest)}: weights file {BACKBONE_FILES[net]!r} not found; "
            f"`vsrbench weights download lpips-{net}` fetches it (or give its path: evaluate --lpips-weights, a "
            "benchmark's lpips_weights); a later run adds LPIPS and tLP to the stored sequences")


def run_environment() -> dict[str, Any]:
    """The fields of a run record that say with what and where it ran (version, libraries, host,
    Python, command line); shared by ``vsrbench run`` and ``vsrbench evaluate``."""
    return {
        "vsrbench_version": __version__,
        "libraries": library_versions(),
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "argv": sys.argv,
    }


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries that can change a number."""
    out: dict[str, str | None] = {}
    for label, dists in LIBRARIES.items():
        out[label] = None
        for dist in dists:
            try:
                out[label] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return out


def import_callable(spec: str, base_dir: Path, *, key: str = "callable") -> Callable:
    """Import ``"module:function"`` (TOML folder first on sys.path) or ``"file.py:function"``."""
    module_name, _, func = spec.rpartition(":")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name) if Path(module_name).is_absolute() else base_dir / module_name
            mspec = importlib.util.spec_from_file_location(f"vsrbench_user_{path.stem}", path)
            module = importlib.util.module_from_spec(mspec)
            mspec.loader.exec_module(module)
        else:
            sys.path.insert(0, str(base_dir))
            try:
                module = importlib.import_module(module_name)
            finally:
                sys.path.remove(str(base_dir))
    except Exception as e:
        raise InputError(f"{key}: cannot import {module_name!r} ({type(e).__name__}: {e})") from None
    fn = getattr(module, func, None)
    if not callable(fn):
        raise InputError(f"{key}: {module_name!r} has no callable {func!r}")
    return fn


def _weights_record(method: MethodDef, model: Any) -> dict[str, str | None]:
    path = method.weights or getattr(model, "weights_path", None)
    if path is None or not Path(path).is_file():
        return {"path": None if path is None else str(path), "sha256": None}
    return {"path": str(path), "sha256": sha256_cached(path)}


def _write_frames(folder: Path, lr: FrameSequence, frames: Iterable[np.ndarray],
                  progress: Callable[[int], None] | None = None) -> int:
    """Write HR frames (uint8 as is; float read in [0, 1], rounded and clipped) named after LR frames."""
    names, count = png_names(lr), 0
    for i, frame in enumerate(frames):
        name = names[i] if i < len(names) else f"extra-{i:05d}.png"
        write_frame(folder / name, to_uint8(check_frame(frame, f"output frame {i}")))
        count += 1
        if progress:
            progress(1)
    return count


def _publish_folder(final: Path, fill: Callable[[Path], Any]) -> None:
    """Fill a temporary sibling folder, then rename it to ``final`` (all or nothing).

    When another process published ``final`` meanwhile, its copy is kept and ours discarded.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".vsrb-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"  # short: a 255-byte name stays legal
    tmp.mkdir()
    try:
        with on_terminate(lambda: shutil.rmtree(tmp, ignore_errors=True)):  # a worker process stopped by Ctrl-C
            fill(tmp)
            try:
                os.rename(tmp, final)
            except OSError:
                if not final.is_dir():
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _last_line(log: Path) -> str:
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1][:200] if len(lines) > 1 else "(no output)"



def _shown_mean(mean: float, values: np.ndarray) -> str:
    """A sequence mean for the log line: ``inf`` (not ``nan``) when every value is +inf, i.e. the
    output equals GT on every frame (PSNR); means leave non-finite values out."""
    if math.isnan(mean) and values.size and bool(np.all(np.isposinf(values))):
        return "inf (identical frames)"
    return f"{mean:.4g}"


__all__ = ["run_benchmark", "RunSummary", "library_versions", "run_environment", "import_callable",
           "skip_missing_lpips", "lpips_skipped_note"]
