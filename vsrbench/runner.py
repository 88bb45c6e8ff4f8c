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

import dataclasses
import os
import sys
from pathlib import Path
from typing import Callable

from vsrbench.catalog.benchfile import Benchmark, load_bench
from vsrbench.core.device import resolve_device
from vsrbench.core.progress import LineSink
from vsrbench.execution import check_executor
from vsrbench.run.driver import Key, RunOptions, RunSummary
from vsrbench.run.driver import Driver
from vsrbench.run.guards import DEFINITIONS_FILE
from vsrbench.run.making import SequenceSkipped, import_callable
from vsrbench.run.policy import lpips_skipped_note, skip_missing_lpips, skip_missing_weights
from vsrbench.run.record import EXECUTION_KEY, LIBRARIES, library_versions, run_environment

__all__ = ["run_benchmark", "RunSummary", "RunOptions", "RunRequest", "run_request", "library_versions",
           "run_environment", "import_callable", "skip_missing_lpips", "lpips_skipped_note", "EXECUTION_KEY",
           "DEFINITIONS_FILE", "LIBRARIES", "Key", "SequenceSkipped"]


def run_benchmark(bench: Benchmark | str | os.PathLike, results_dir: str | os.PathLike, *, device: str = "auto",
                  progress: bool | Callable[[str], None] = True, workers: int | None = None, executor: str = "local",
                  address: str | None = None, options: RunOptions | None = None) -> RunSummary:
    """Run every (method, dataset, sequence) of ``bench`` not already stored in ``results_dir``.

    Progress is one line per (method, dataset, sequence) with the time left, a tqdm bar on a terminal, and lines
    every few seconds during a long step (:mod:`vsrbench.core.progress`). This process alone writes the store.

    Parameters
    ----------
    bench : Benchmark or str or os.PathLike
        A :class:`Benchmark` or the path of its TOML file.
    results_dir : str or os.PathLike
        The results folder (created when missing); sequences already stored in it are not run again.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; a method's own ``device`` wins.
    progress : bool or callable
        True prints progress and warning lines on stderr, False prints nothing, a callable receives each line.
    workers : int, optional
        Sequences scored at once, each in its own process (default :func:`vsrbench.execution.base.default_workers`,
        never more than the sequences left to score; 1 scores in this process).
    executor : str
        ``"local"`` or ``"ray"`` (a Ray cluster at ``address``).
    address : str, optional
        The Ray cluster's address (``executor="ray"`` only).
    options : RunOptions, optional
        What ``vsrbench evaluate`` changes in a run (:class:`~vsrbench.run.driver.RunOptions`).

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
    return Driver(bench, Path(results_dir), device, say, stream, workers=workers, executor=executor,
                  address=address, options=options).run()


@dataclasses.dataclass(frozen=True)
class RunRequest:
    """What ``vsrbench run BENCH.toml --out RESULTS`` asks for (its command line, parsed and checked)."""

    bench: str  # the benchmark file
    out: str  # the results folder
    device: str = "auto"
    quiet: bool = False  # no progress lines
    workers: int | None = None
    executor: str = "local"
    address: str | None = None


def run_request(request: RunRequest) -> RunSummary:
    """Run a benchmark file as ``vsrbench run`` does: one that names no ``metrics`` (its protocol's
    defaults) and has no LPIPS backbone file scores the other metrics, with one note
    (:func:`skip_missing_lpips`, as evaluate and the demo)."""
    bench = load_bench(request.bench)
    metrics = skip_missing_lpips(bench.metrics, bench.protocol, named=bench.metrics_given,
                                 lpips_weights=bench.lpips_weights)
    metrics = skip_missing_weights(metrics, named=bench.metrics_given)
    if len(metrics) != len(bench.metrics):
        bench = dataclasses.replace(bench, metrics=tuple(metrics))
    return run_benchmark(bench, request.out, device=request.device, progress=not request.quiet,
                         workers=request.workers, executor=request.executor, address=request.address)


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _quiet(line: str) -> None:
    pass
