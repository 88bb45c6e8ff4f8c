"""The driver of a run: plans one task per sequence, hands the tasks to an executor and stores each
outcome as it comes back, through one :class:`~vsrbench.results.session.RunSession`.

This process alone writes the store, so the stored rows are the same for any executor and any number
of workers. A sequence whose lock another run holds is scored after the others (or waited for where
it comes, :attr:`RunOptions.wait_in_order`); what that run stored meanwhile is not redone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TextIO

from vsrbench.catalog.benchfile import Benchmark, DatasetDef
from vsrbench.core.device import resolve_device
from vsrbench.core.errors import InputError, VsrbenchError
from vsrbench.core.io import FrameSequence
from vsrbench.core.progress import LineSink, Progress
from vsrbench.execution import make_executor
from vsrbench.execution.base import Outcome, default_workers, reissue_warnings
from vsrbench.results.session import RunSession
from vsrbench.results.store import SequenceResult
from vsrbench.run.guards import check_definitions, check_weights
from vsrbench.run.record import EXECUTION_KEY, run_environment
from vsrbench.run.worker import MethodResult, SequenceTask, TaskResult, WorkerFactory

__all__ = ["Key", "RunSummary", "RunOptions", "Driver"]

Key = tuple[str, str, str]  # (method, dataset, sequence)


@dataclass
class RunSummary:
    """What one :func:`~vsrbench.runner.run_benchmark` call did."""

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


@dataclass(frozen=True)
class RunOptions:
    """What a run does differently from ``vsrbench run`` (the defaults); ``vsrbench evaluate`` sets them
    all to run its one method on outputs it has paired and checked itself."""

    #: sequence name -> ``(GT, output)`` of the benchmark's one dataset and method, paired and checked:
    #: scored as they are (no outputs made or looked up, no LR frames)
    pairs: Mapping[str, tuple[FrameSequence, FrameSequence]] | None = None
    #: the first sequence that cannot be scored stops the run with its error (else a warning, and the run goes on)
    stop_on_error: bool = False
    #: with ``pairs``: one progress bar over the frames to score, with this label, instead of a line per sequence
    frame_progress: str | None = None
    #: a sequence another run is scoring is waited for where it comes (one ``note:`` line), not after the others
    wait_in_order: bool = False
    #: the checks against the folder's contents, given the open session, in place of the definitions and
    #: weights checks of a benchmark (nothing is written before they pass; ``definitions.json`` is not kept)
    guard: Callable[[RunSession], None] | None = None
    #: run-record fields that replace the benchmark's (``bench_name``, ``bench``, ``weights``)
    record: Mapping[str, Any] = field(default_factory=dict)
    #: called with the session and ``"sequence"`` each time a sequence reached the store, then ``"done"`` at
    #: the end, or ``"stopped"`` after an error or an interrupt (inside the session, the run record still open)
    after_store: Callable[[RunSession, str], None] | None = None


class Driver:
    """Runs one benchmark into one results folder (:meth:`run`)."""

    def __init__(self, bench: Benchmark, results_dir: Path, device: str, say: Callable[[str], None],
                 stream: TextIO | None = None, *, workers: int | None = None, executor: str = "local",
                 address: str | None = None, options: RunOptions | None = None):
        from vsrbench.metrics import METRICS
        from vsrbench.metrics.extension import metric_version

        self.bench, self.results_dir, self._say = bench, results_dir, say
        self.stream = LineSink(say) if stream is None else stream
        self.options = options or RunOptions()
        if self.options.frame_progress is not None and self.options.pairs is None:
            raise ValueError("RunOptions.frame_progress counts the frames of pairs; give pairs too")
        self.bar: Progress | None = None  # sequences (or frames) done / total, while the run runs
        self.device = str(resolve_device(device))
        self.protocol = bench.protocol
        self.versions = {m: metric_version(m, bench.metric_options) for m in bench.metrics}
        # runs.weights: method name -> {"path", "sha256"} of its model weights, and "lpips:backbone" /
        # "lpips:linear" -> the LPIPS files the scores used (":" is never in a method name)
        self.weights: dict[str, dict[str, str | None]] = {}
        self.session: RunSession | None = None
        self.workers, self.executor_kind, self.address = workers, executor, address
        self.todo: dict[tuple[str, str], int] | None = None  # frame progress: sequence -> frames to score

    # -------------------------------------------------------------- the run

    def run(self) -> RunSummary:
        start = time.monotonic()
        if self.options.guard is None:
            check_definitions(self.bench, self.results_dir)
        with RunSession(self.results_dir, say=self.say) as session:
            self.session = session
            if self.options.guard is None:
                check_weights(self.bench, self.results_dir, session.store, self.versions)
            else:
                self.options.guard(session)
            groups = self.groups()
            factory = WorkerFactory(self.bench, self.results_dir, self.device, self.say, self.stream)
            executor = make_executor(self.executor_kind, factory, workers=self.workers, address=self.address,
                                     device=self.device, tasks=self.pending(groups))
            with executor:
                summary = RunSummary(self.results_dir, session.start(self.run_record(executor)), self.protocol.name,
                                     self.protocol.hash)
                for line in self.suite_lines():
                    self.say(line)
                try:
                    self.drive(executor, factory, summary, groups)
                except KeyboardInterrupt:
                    summary.status = "interrupted"
                    raise
                finally:
                    if summary.status == "running":
                        summary.status = "failed"
                    summary.seconds = time.monotonic() - start
        return summary

    def groups(self) -> dict[tuple[str, str], list[tuple[DatasetDef, Any]]]:
        """(dataset, sequence) -> its (dataset, method) pairs, in run order: every method of one sequence
        is scored together. With frame progress, the sequences still to score are counted here."""
        groups: dict[tuple[str, str], list] = {}
        for dataset, method, seq in self.bench.tasks():
            groups.setdefault((dataset.name, seq), []).append((dataset, method))
        if self.options.frame_progress is not None:
            self.todo = {key: self.frames_of(key[1]) for key, group in groups.items()
                         if any(self.needed(d, m, key[1]) for d, m in group)}
        return groups

    def frames_of(self, seq: str) -> int:
        """The frames of a given pair that the protocol scores (the units of the frame progress)."""
        return len(self.protocol.scored_frames(len(self.options.pairs[seq][0])))

    def run_record(self, executor) -> dict[str, Any]:
        """The run record: the environment, the benchmark, the protocol, and where it is scored (in the
        ``bench`` JSON: the runs table has no column for it)."""
        record = {
            **run_environment(),
            "bench_name": self.bench.name,
            "bench": self.bench.to_dict(),
            "protocol": self.protocol.name,
            "protocol_hash": self.protocol.hash,
            "protocol_fields": self.protocol.to_dict(),
            "metric_versions": self.versions,
            "device": self.device,
            **self.options.record,
        }
        record["bench"] = {**record["bench"], EXECUTION_KEY: {**executor.describe(), "workers_asked": self.workers}}
        return record

    def drive(self, executor, factory: WorkerFactory, summary: RunSummary, groups: dict) -> None:
        """Score and store every pending sequence (``summary.status`` is ``done`` at the end)."""
        done = interrupted = False
        try:
            if set(self.bench.metrics) & {"lpips", "tlp"}:  # the LPIPS files (path, sha256) every score uses
                from vsrbench.metrics.lpips import lpips_weights_record

                self.weights.update(lpips_weights_record(self.protocol.lpips_net, self.protocol.lpips_version,
                                                         self.bench.lpips_weights))
                self._record_weights()
            self.bar = self.progress_bar(sum(len(g) for g in groups.values()))
            if self.todo is not None:
                factory.progress = self.bar.update  # live per frame when the worker is this process (not pickled)
            for outcome in executor.imap(self.plan(summary, groups)):
                try:
                    self.finish(summary, outcome)
                finally:
                    self.session.release_sequence(outcome.task.dataset, outcome.task.sequence)
                self.stored("sequence")
            summary.status, done = "done", True
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            if self.bar is not None:
                self.bar.summary = self.bar.summary and (done or interrupted)  # no "0 frames in" line above an error
                self.bar.close()
                self.bar = None
            self.stored("done" if done else "stopped")

    def progress_bar(self, total: int) -> Progress:
        """Sequences done / total; with frame progress, the frames scored / to score (with a closing line)."""
        if self.todo is not None:
            return Progress(sum(self.todo.values()), self.options.frame_progress, self.stream)
        return Progress(total, "run", self.stream, unit="sequences", summary=False)

    def stored(self, event: str) -> None:
        if self.options.after_store is not None:
            self.options.after_store(self.session, event)

    def _record_weights(self) -> None:
        """Write ``self.weights`` into this run's record as soon as they are known: a run killed before
        its end still says what its rows were made with."""
        if self.session is not None and self.session.run_id is not None:
            self.session.record_weights(self.weights)

    # -------------------------------------------------------------- planning

    def needed(self, dataset: DatasetDef, method, seq_name: str) -> list[str]:
        """The metrics of (method, dataset, sequence) not stored yet for this protocol and metric versions."""
        return self.session.missing_metrics(self.protocol_for(dataset).hash, method.name, dataset.name, seq_name,
                                            self.versions)

    def pending(self, groups: dict) -> int | None:
        """The sequences left to score, counted up to the workers asked for (None: one local worker,
        nothing to count); all of them when they are counted anyway (frame progress)."""
        if self.todo is not None:
            return len(self.todo)
        if self.executor_kind != "local":
            return None
        n = self.workers if self.workers is not None else default_workers(self.device)
        count = 0
        for (_, seq), group in groups.items():
            if n <= 1 or count >= n:
                break
            count += any(self.needed(d, m, seq) for d, m in group)
        return None if n <= 1 else count

    def plan(self, summary: RunSummary, groups: dict) -> Iterable[SequenceTask]:
        """The tasks of the run, in order, each holding its sequence's lock until the driver has stored
        its outcome (:meth:`RunSession.release_sequence`); a sequence another run is scoring comes at the
        end (or is waited for where it comes, :attr:`RunOptions.wait_in_order`)."""
        session, total = self.session, sum(len(g) for g in groups.values())
        i, busy = 0, []
        for (dataset_name, seq), group in groups.items():
            tagged = [(f"[{i + k}/{total}]", d, m) for k, (d, m) in enumerate(group, 1)]
            i += len(group)
            if self.todo is not None and (dataset_name, seq) not in self.todo:  # complete before the run
                summary.skipped += [(m.name, dataset_name, seq) for _, m in group]
                continue
            if not session.claim_sequence(dataset_name, seq, blocking=False):  # another run scores it now
                if not self.wait_for(dataset_name, seq):
                    busy.append((dataset_name, seq, tagged))
                    continue
            task = self.claimed(summary, seq, tagged)
            if task is not None:
                yield task
        for dataset_name, seq, tagged in busy:  # then what it stored is skipped, or what it left is done
            session.claim_sequence(dataset_name, seq)
            task = self.claimed(summary, seq, tagged)
            if task is not None:
                yield task

    def wait_for(self, dataset_name: str, seq: str) -> bool:
        """Say that another run holds a sequence; wait for it now (True) or leave it for the end (False)."""
        holder = self.session.holder(dataset_name, seq)
        if not self.options.wait_in_order:
            self.say(f"{dataset_name}/{seq}: being scored by another run ({holder}); "
                     "waiting for it after the other sequences")
            return False
        self.say(f"note: {dataset_name}/{seq} is being scored by another run ({holder}); waiting for it")
        self.session.claim_sequence(dataset_name, seq)
        return True

    def claimed(self, summary: RunSummary, seq: str, tagged: list) -> SequenceTask | None:
        """The task of a sequence whose lock is held: its methods that still need metrics (None, and the
        lock released, when none does)."""
        dataset = tagged[0][1]
        methods = []
        for tag, _, method in tagged:
            need = self.needed(dataset, method, seq)
            if need:
                methods.append((tag, method.name, need))
                continue
            summary.skipped.append((method.name, dataset.name, seq))
            if self.todo is None:
                self._count(skipped=True)
                self.say(f"{tag} {method.name} {dataset.name}/{seq}: already stored")
        if methods:
            pair = None if self.options.pairs is None else self.options.pairs[seq]
            return SequenceTask(dataset.name, seq, methods, pair=pair)
        self.session.release_sequence(dataset.name, seq)
        if self.todo is not None:  # another run stored it meanwhile: its frames are done, and it is in the store
            self.bar.update(self.todo[(dataset.name, seq)])
            self.stored("sequence")
        return None

    # -------------------------------------------------------------- storing

    def finish(self, summary: RunSummary, outcome: Outcome) -> None:
        """Store and report what came back for one sequence: each method's rows in their own
        transaction; a failed method is reported and has no rows. An error that stops the run
        (a :class:`VsrbenchError`, e.g. missing LPIPS weights; any error with ``stop_on_error``) is raised here."""
        task: SequenceTask = outcome.task
        labels = {name: f"{tag} {name} {task.dataset}/{task.sequence}" for tag, name, _ in task.methods}
        if outcome.error is not None:
            e = outcome.error
            if isinstance(e, VsrbenchError) or self.options.stop_on_error:
                raise e
            why = f"failed: {type(e).__name__}: {' '.join(str(e).split())}"
            for _, name, _ in task.methods:
                self.not_stored(summary.failed, (name, task.dataset, task.sequence), why, labels[name])
            return
        reissue_warnings(outcome)
        res: TaskResult = outcome.result
        for line in res.lines:
            self.say(line)
        if any(self.weights.get(k) != v for k, v in res.weights.items()):  # the models the worker loaded
            self.weights.update(res.weights)
            self._record_weights()
        if self.todo is not None and not res.counted:  # a worker in another process: counted as it arrives
            self.bar.update(self.todo[(task.dataset, task.sequence)])
        for m in res.methods:  # first those without outputs, as they were found
            if m.rows is None and not m.at_scoring:
                self.not_stored(summary.missing if m.missing else summary.failed,
                                (m.method, task.dataset, task.sequence), m.skipped, labels[m.method])
        scored = [m for m in res.methods if m.rows is not None or m.at_scoring]
        together = f" for {len(scored)} methods together" if len(scored) > 1 else ""
        for m in scored:
            if m.rows is None:
                self.not_stored(summary.failed, (m.method, task.dataset, task.sequence), m.skipped, labels[m.method])
            else:
                self.store(summary, task, res, m, f"{labels[m.method]}: {m.means} ({len(res.frame_names)} frames; "
                           f"outputs {m.made:.1f} s, scoring {res.scoring:.1f} s{together}; run ")

    def not_stored(self, where: list, key: Key, why: str, label: str) -> None:
        """A method of a sequence without rows: a warning (the run goes on), or the error with ``stop_on_error``."""
        if self.options.stop_on_error:
            raise InputError(f"{label}: {why}")
        where.append((*key, why))
        self._count()
        self.say(f"warning: {label}: {why}; skipped (no rows stored)")

    def store(self, summary: RunSummary, task: SequenceTask, res: TaskResult, m: MethodResult, line: str) -> None:
        """One method's rows and completion marks, in one transaction."""
        protocol = self.protocol_for(self.bench.datasets[task.dataset])
        self._count()
        self.session.add(SequenceResult(
            method=m.method, dataset=task.dataset, sequence=task.sequence, rows=m.rows,
            frame_names=res.frame_names, metric_versions={k: self.versions[k] for k in m.need},
            protocol=protocol.name, protocol_hash=protocol.hash, pred_names=m.pred_names or (),
        ))
        summary.scored.append((m.method, task.dataset, task.sequence))
        if self.todo is None:
            self.say(line + f"{self.bar.eta() if self.bar else 'ETA ?'})")

    # -------------------------------------------------------------- lines

    def say(self, line: str) -> None:
        """A progress or warning line (printed above a terminal bar, not through it)."""
        if self.bar is not None and self.bar.tty:
            self.bar.write(line)
        else:
            self._say(line)

    def _count(self, skipped: bool = False) -> None:
        """One more (method, dataset, sequence) finished; ``skipped`` when it was already stored."""
        if self.bar is not None and self.todo is None:
            (self.bar.skip if skipped else self.bar.update)(1)

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
