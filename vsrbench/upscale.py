"""Run a built-in model over LR frames and write its HR frames as PNG: what ``vsrbench upscale`` does.

Resumable: frames already in the output folder are left untouched and not written again
(unless ``overwrite``). Frame-by-frame ("sisr") models only process the missing frames;
temporal models (recurrent or windowed) still run over the whole sequence, because each output
depends on the frames before it, and write only the missing ones.
"""
from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from vsrbench.core.errors import InputError

__all__ = ["UpscaleRequest", "upscale_frames"]


@dataclass(frozen=True)
class UpscaleRequest:
    """Up-scale ``input`` (a sequence folder, a video, or a dataset folder of sequences) with the
    model ``model`` (``weights``: its file or folder, default looked up; ``device``: ``auto``, ``cpu``,
    ``cuda`` or ``cuda:N``; ``chunk``: frames per forward pass, for models that batch) into ``out``."""

    model: str
    input: str
    out: str
    weights: str | None = None
    device: str = "auto"
    chunk: int | None = None
    overwrite: bool = False


def _model_options(name: str, builder: Callable, chunk: int | None) -> dict:
    """Builder options from the request (only ``chunk`` so far)."""
    if chunk is None:
        return {}
    if chunk < 1:
        raise InputError(f"--chunk: expected a positive number of frames, got {chunk}")
    params = inspect.signature(builder).parameters
    if "chunk" not in params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        raise InputError(f"--chunk: model {name!r} does not take a chunk size")
    return {"chunk": chunk}


def _checked(outputs: Iterator[np.ndarray], expected: int, model: str, seq: str) -> Iterator[np.ndarray]:
    """Pass ``outputs`` through, failing clearly if the model yields a different number of frames."""
    n = 0
    for n, frame in enumerate(outputs, 1):
        if n > expected:
            break
        yield frame
    if n != expected:
        raise RuntimeError(f"model {model!r} yielded {'more' if n > expected else n} frames for the "
                           f"{expected} input frames of sequence {seq!r}")


def _plan(jobs, sisr: bool, overwrite: bool) -> list[tuple]:
    """[(sequence, folder, names, indices to write, indices to feed the model)] for unfinished sequences."""
    from vsrbench.core.io import png_names

    plan = []
    for seq, folder in jobs:
        names = png_names(seq)
        todo = {i for i, n in enumerate(names) if overwrite or not (folder / n).is_file()}
        if todo:
            plan.append((seq, folder, names, todo, sorted(todo) if sisr else list(range(len(seq)))))
    return plan


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")


def upscale_frames(request: UpscaleRequest, *, say: Callable[[str], None] = _say) -> None:
    """Run ``request``: check the model name and options, then write the missing HR frames (progress
    on stderr). ``say`` gets the line that names the frames already there, which are kept."""
    from vsrbench.baselines import MODELS, load_model
    from vsrbench.core.device import resolve_device
    from vsrbench.core.frames import to_uint8
    from vsrbench.core.io import open_dataset, write_frame
    from vsrbench.core.progress import Progress
    from vsrbench.degrade import output_folders

    r = request
    spec = MODELS[r.model]  # unknown name -> did-you-mean, before any work
    options = _model_options(r.model, spec.builder, r.chunk)
    device = str(resolve_device(r.device))
    jobs = output_folders(r.input, open_dataset(r.input), r.out)
    plan = _plan(jobs, spec.kind == "sisr", r.overwrite)
    total, missing = sum(len(seq) for seq, _ in jobs), sum(len(todo) for *_, todo, _ in plan)
    if missing < total:
        say(f"upscale: {total - missing} of {total} frames already in {r.out}; kept (use --overwrite to recompute them)")
    if not plan:
        return
    model = load_model(r.model, weights=r.weights, device=device, **options)
    with Progress(sum(len(feed) for *_, feed in plan), f"upscale {r.model} on {device}") as progress:
        for seq, folder, names, todo, feed in plan:
            outputs = _checked(model.upscale(seq[i] for i in feed), len(feed), r.model, seq.name)
            for hr, i in zip(outputs, feed):  # outputs first: _checked runs to its count check
                if i in todo:
                    write_frame(folder / names[i], to_uint8(hr))
                progress.update()
