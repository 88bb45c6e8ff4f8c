"""What computes one task of a run: the outputs, checks and scores of every method of one sequence.

A :class:`SequenceWorker` is built once per worker process by a :class:`WorkerFactory` (picklable, for
``--workers`` and ``--executor ray``), so models and LPIPS networks load once per worker. It writes
only the methods' output folders and LR folders (each published whole) and stores nothing: the
driver stores what :meth:`SequenceWorker.compute` returns.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

import numpy as np

from vsrbench.catalog.benchfile import Benchmark, DatasetDef
from vsrbench.core.errors import InputError
from vsrbench.core.io import FrameSequence
from vsrbench.core.progress import LineSink
from vsrbench.run.making import OutputMaker, SequenceSkipped, centre_output

__all__ = ["SequenceTask", "MethodResult", "TaskResult", "SequenceWorker", "WorkerFactory"]


@dataclass
class SequenceTask:
    """One sequence of one dataset to score: ``methods`` are ``(tag, method name, metrics needed)``;
    ``pair`` is ``(GT, output)`` when the one method's output frames are given already paired and checked."""

    dataset: str
    sequence: str
    methods: list[tuple[str, str, list[str]]]
    pair: tuple[FrameSequence, FrameSequence] | None = None


@dataclass
class MethodResult:
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
class TaskResult:
    """What a worker returns for one task."""

    methods: list[MethodResult]
    frame_names: list[str]
    scoring: float  # seconds
    lines: list[str]  # what a worker in another process said (making LR, loading a model)
    weights: dict  # the weights records of the models the worker loaded
    counted: bool = False  # the frames were counted on the driver's frame bar as they were scored


def _quiet(line: str) -> None:
    pass


class SequenceWorker:
    """Computes tasks of one benchmark; ``say`` prints lines (a worker in another process keeps them in
    ``lines`` for the driver); ``progress(n)``, when given, counts the frames scored (the driver's bar)."""

    def __init__(self, bench: Benchmark, results_dir: Path, device: str, say: Callable[[str], None],
                 stream: TextIO, *, progress: Callable[[int], None] | None = None, lines: list[str] | None = None):
        self.bench, self.device, self.progress, self.lines = bench, device, progress, lines
        self._say = say
        self.maker = OutputMaker(bench, results_dir, device, self.say, stream)

    def say(self, line: str) -> None:
        if self.lines is not None:
            self.lines.append(line)
        else:
            self._say(line)

    def protocol_for(self, dataset: DatasetDef):
        """The protocol a dataset is scored with: its suite's convention unless the benchmark set one."""
        return dataset.protocol if dataset.protocol is not None else self.bench.protocol

    def compute(self, task: SequenceTask) -> TaskResult:
        """Outputs, checks and scores of every method of one sequence, sharing the GT work
        (:func:`~vsrbench.evaluate.evaluate_many`); a method that fails skips only itself."""
        if task.pair is not None:
            return self.compute_pair(task)
        dataset = self.bench.datasets[task.dataset]
        protocol = self.protocol_for(dataset)
        gt = self.maker.dataset_sequences(dataset.gt, dataset)[task.sequence]
        results = {name: MethodResult(name, need) for _, name, need in task.methods}
        todo = self.outputs(dataset, gt, results)
        scoring = 0.0
        if todo:
            t0 = time.monotonic()
            scores = self.score(gt, todo, [m for m in self.bench.metrics
                                           if any(m in results[n].need for n in todo)], protocol)
            scoring = time.monotonic() - t0
            for name in todo:
                _take_scores(results[name], scores[name])
        return self.result(list(results.values()), [gt.frame_name(i) for i in range(len(gt))], scoring)

    def outputs(self, dataset: DatasetDef, gt: FrameSequence, results: dict[str, MethodResult]) -> dict:
        """Each method's output frames, paired with GT and checked; a method without usable ones
        gets its reason in ``results`` and is left out."""
        protocol = self.protocol_for(dataset)
        centre = getattr(protocol, "frames_scored", "all") == "center" and dataset.suite is not None
        todo: dict[str, FrameSequence] = {}
        for name, r in results.items():
            t0 = time.monotonic()
            try:
                pred = self.maker.prediction(self.bench.methods[name], dataset, gt)
                if centre:  # outputs may hold only the centre frame (Vimeo im4): it stands at GT's centre index
                    pred = centre_output(pred, gt)
                pred = self.check(gt, pred, r.need, protocol)
            except SequenceSkipped as e:
                r.skipped, r.missing = str(e), e.missing
                continue
            r.made = time.monotonic() - t0
            todo[name] = pred
        return todo

    def compute_pair(self, task: SequenceTask) -> TaskResult:
        """The scores of one method's output given already paired with GT (``vsrbench evaluate``); an
        error is raised, not turned into a skipped method."""
        import vsrbench.evaluate as ev

        gt, pred = task.pair
        (_, name, need), = task.methods
        t0 = time.monotonic()
        scores = ev.evaluate_sequence(pred, gt, protocol=self.protocol_for(self.bench.datasets[task.dataset]),
                                      metrics=need, device=self.device, lpips_weights=self.bench.lpips_weights,
                                      progress=self.progress, name=gt.name, options=self.bench.metric_options)
        r = MethodResult(name, need)
        _take_scores(r, scores)
        return self.result([r], list(scores.frame_names), time.monotonic() - t0, counted=self.progress is not None)

    def result(self, methods: list[MethodResult], frame_names: list[str], scoring: float, *,
               counted: bool = False) -> TaskResult:
        """The task's result, with the lines a worker in another process said since the last one."""
        lines = self.lines if self.lines is not None else []
        if self.lines is not None:
            self.lines = []
        return TaskResult(methods=methods, frame_names=frame_names, scoring=scoring, lines=lines,
                          weights=dict(self.maker.weights), counted=counted)

    def check(self, gt: FrameSequence, pred: FrameSequence, metrics: list[str], protocol) -> FrameSequence:
        """The output paired with GT frame by frame (:func:`~vsrbench.core.io.pair_frames`), checked for
        the protocol and metrics; a problem skips the method on this sequence."""
        from vsrbench.core.io import pair_frames
        from vsrbench.evaluate import check_lengths

        try:
            pred = pair_frames(gt, pred).aligned()
            check_lengths(gt, pred, protocol, metrics)
        except InputError as e:
            raise SequenceSkipped(str(e)) from None
        return pred

    def score(self, gt: FrameSequence, preds: dict[str, FrameSequence], metrics: list[str], protocol) -> dict:
        """Scores per method; a method whose frames cannot be scored (e.g. sizes differ) gets
        its :class:`SequenceSkipped` instead, and the others are still scored."""
        from vsrbench.evaluate import evaluate_many

        def run(subset: dict[str, FrameSequence]) -> dict:
            total = max(len(gt) - 2 * protocol.cut_frames, 0) * len(subset)
            with self.maker.steps(total, f"scoring {gt.name} ({', '.join(subset)})") as steps:
                return evaluate_many(subset, gt, protocol=protocol, metrics=metrics, device=self.device,
                                     lpips_weights=self.bench.lpips_weights, name=gt.name, progress=steps.update,
                                     options=self.bench.metric_options)

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


def _take_scores(r: MethodResult, scores) -> None:
    """A method's rows, output names and log-line means from its scores (or why it has none)."""
    r.at_scoring = True
    if isinstance(scores, SequenceSkipped):
        r.skipped = str(scores)
        return
    r.rows = [row for row in scores.rows if row[1] in r.need]
    r.pred_names = list(scores.pred_names)
    means = scores.means
    r.means = " ".join(f"{m}={_shown_mean(means[m], scores.values(m))}" for m in r.need if m in means)


def _shown_mean(mean: float, values: np.ndarray) -> str:
    """A sequence mean for the log line: ``inf`` (not ``nan``) when every value is +inf, i.e. the
    output equals GT on every frame (PSNR); means leave non-finite values out."""
    if math.isnan(mean) and values.size and bool(np.all(np.isposinf(values))):
        return "inf (identical frames)"
    return f"{mean:.4g}"


class WorkerFactory:
    """Builds the worker of a run: in this process one that prints through the driver (``say``,
    ``stream``) and counts frames on its bar (``progress``, set by the driver); unpickled in a worker
    process, one that keeps its lines for the driver and draws no progress."""

    def __init__(self, bench: Benchmark, results_dir: Path, device: str, say: Callable[[str], None],
                 stream: TextIO):
        self.state = (bench, results_dir, device)
        self.say: Callable[[str], None] | None = say
        self.stream: TextIO | None = stream
        self.progress: Callable[[int], None] | None = None

    def __getstate__(self):
        return {"state": self.state, "say": None, "stream": None, "progress": None}

    def __call__(self) -> SequenceWorker:
        bench, results_dir, device = self.state
        if self.say is not None:
            return SequenceWorker(bench, results_dir, device, self.say, self.stream, progress=self.progress)
        return SequenceWorker(bench, results_dir, device, _quiet, LineSink(_quiet), lines=[])
