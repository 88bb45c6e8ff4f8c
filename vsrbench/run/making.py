"""Making a method's output frames and a dataset's LR frames, for one sequence at a time.

Precomputed ``outputs`` folders are read in place; built-in models, commands and callables write PNG
frames (rounded, clipped to uint8) to ``<results>/outputs/<method>/<dataset>/<sequence>/``, an
existing folder there being reused; LR frames made from GT with a dataset's ``degradation`` are
cached as PNG in ``<results>/lr/<dataset>/<degradation>-x<scale>/<sequence>/``. Folders of frames are
published by renaming a finished temporary folder, so a killed run never leaves half-written outputs
or LR frames that a later run would reuse.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

import numpy as np

from vsrbench.catalog.benchfile import Benchmark, DatasetDef, MethodDef
from vsrbench.core.device import resolve_device
from vsrbench.core.errors import InputError, VsrbenchError
from vsrbench.core.frames import check_frame, to_uint8
from vsrbench.core.io import FrameSequence, open_dataset, open_sequence, pick_sequence, png_names, write_frame
from vsrbench.core.progress import Progress
from vsrbench.core.weights import model_weights_record
from vsrbench.execution.local import on_terminate

__all__ = ["SequenceSkipped", "OutputMaker", "import_callable", "publish_folder", "centre_output"]


class SequenceSkipped(Exception):
    """A sequence that cannot be scored (missing outputs, a failing method); the run goes on."""

    def __init__(self, reason: str, *, missing: bool = False):
        super().__init__(reason)
        self.missing = missing


class OutputMaker:
    """The frames of one benchmark's methods and datasets: read, made with models, commands and
    callables, or degraded from GT; each model is loaded once (``weights`` records its file)."""

    def __init__(self, bench: Benchmark, results_dir: Path, device: str, say: Callable[[str], None], stream: TextIO):
        self.bench, self.results_dir, self.device, self.say, self.stream = bench, results_dir, device, say, stream
        self.models: dict[str, Any] = {}
        self.callables: dict[str, Callable] = {}
        self.broken: dict[str, str] = {}  # method -> why its model cannot load
        #: method name -> {"path", "sha256"} of the model weights loaded so far
        self.weights: dict[str, dict[str, str | None]] = {}
        self._datasets: dict[Path, dict[str, FrameSequence]] = {}

    def steps(self, total: int, label: str) -> Progress:
        """Frame-level progress of one long step (lines every few seconds; no summary line)."""
        return Progress(total, label, self.stream, summary=False)

    # -------------------------------------------------------------- reading

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

    def pick(self, sequences: dict[str, FrameSequence], dataset: DatasetDef, name: str) -> FrameSequence | None:
        """The sequence ``name``; a lone sequence pairs with a GT that is a single sequence."""
        return pick_sequence(sequences, name, lone_ok=len(self.dataset_sequences(dataset.gt, dataset)) == 1)

    def prediction(self, method: MethodDef, dataset: DatasetDef, gt: FrameSequence) -> FrameSequence:
        """The method's output frames of GT's sequence: read in place, or made once and published."""
        if method.kind == "outputs":
            return self.given_outputs(method, dataset, gt)
        final = self.results_dir / "outputs" / method.name / dataset.name / gt.name
        if not final.is_dir():
            if method.name in self.broken:
                raise SequenceSkipped(self.broken[method.name])
            lr = self.lr_sequence(dataset, gt)
            try:
                publish_folder(final, lambda tmp: self.produce(method, dataset, lr, tmp))
            except SequenceSkipped:
                raise
            except VsrbenchError as e:
                raise SequenceSkipped(str(e)) from None
            except Exception as e:  # a user's command/callable or a model failed: this sequence only
                raise SequenceSkipped(f"{method.kind} failed: {type(e).__name__}: {' '.join(str(e).split())}") from None
        return open_sequence(final, name=gt.name)

    def given_outputs(self, method: MethodDef, dataset: DatasetDef, gt: FrameSequence) -> FrameSequence:
        """The sequence of a method's precomputed ``outputs`` folder for this dataset."""
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

    # -------------------------------------------------------------- LR frames

    def lr_sequence(self, dataset: DatasetDef, gt: FrameSequence) -> FrameSequence:
        """The LR frames of GT's sequence: the dataset's ``lr`` folder, or degraded from GT once."""
        if dataset.lr is not None:
            seq = self.pick(self.dataset_sequences(dataset.lr, dataset), dataset, gt.name)
            if seq is None:
                raise SequenceSkipped(f"no LR frames for sequence {gt.name!r} in {str(dataset.lr)!r}", missing=True)
            return seq
        final = self.results_dir / "lr" / dataset.name / f"{dataset.degradation}-x{dataset.scale}" / gt.name
        if not final.is_dir():
            self.say(f"making LR frames of {dataset.name}/{gt.name} with {dataset.degradation} x{dataset.scale}")
            publish_folder(final, lambda tmp: self.degrade(dataset, gt, tmp))
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

    def lr_folder(self, dataset: DatasetDef, lr: FrameSequence) -> Path:
        """A folder holding exactly the LR frames (a video's frames are written out once)."""
        if lr.arrays is None and lr.paths and not lr.ignored:
            return lr.paths[0].parent
        final = self.results_dir / "lr" / dataset.name / "frames" / lr.name
        if not final.is_dir():
            publish_folder(final, lambda tmp: _write_frames(tmp, lr, iter(lr)))
        return final

    # -------------------------------------------------------------- outputs

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
        """Run a method's shell command on the LR folder, its output in a log file; a non-zero exit skips it."""
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
            _follow(proc, tmp, steps)
        if proc.returncode != 0:
            raise SequenceSkipped(f"command exited with status {proc.returncode}: {_last_line(log)} (log: {log})")

    def model_for(self, method: MethodDef):
        """The method's model, loaded once (a model that cannot load skips every sequence of the method)."""
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
            self.weights[method.name] = model_weights_record(method.weights, model)
        return self.models[method.name]

    def callable_for(self, method: MethodDef) -> Callable:
        if method.name not in self.callables:
            self.callables[method.name] = import_callable(method.callable, self.bench.base_dir,
                                                          key=f"methods.{method.name}.callable")
        return self.callables[method.name]


def _follow(proc: subprocess.Popen, tmp: Path, steps: Progress) -> None:
    """Wait for a method's command, counting the frames it wrote every second; Ctrl-C (or a worker
    process stopped) stops the command too."""
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


def centre_output(pred: FrameSequence, gt: FrameSequence) -> FrameSequence:
    """A suite scored on the centre frame: outputs with all of GT's frames are used as they are (the
    protocol scores index n // 2); an output holding only one frame must be that frame (by the number
    in its name) and stands at GT's centre index, so both store the same frame index and name."""
    from vsrbench.catalog.suites import _frame_number, centre_padded

    if len(pred) == len(gt):
        return pred
    mid = gt.frame_name(len(gt) // 2)
    if len(pred) == 1:
        if pred.arrays is not None or _frame_number(pred.frame_name(0)) == _frame_number(mid):
            return centre_padded(pred, len(gt))
        raise SequenceSkipped(f"its one output frame {pred.frame_name(0)!r} is not the centre frame {mid!r}")
    raise SequenceSkipped(f"{len(pred)} output frame(s) for {len(gt)} GT frames (give all of them, or only the "
                          f"centre frame {mid})")


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


def publish_folder(final: Path, fill: Callable[[Path], Any]) -> None:
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
