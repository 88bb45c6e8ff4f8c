"""``vsrbench upscale``: run a built-in model over LR frames and write its HR frames as PNG.

Resumable: frames already in the output folder are left untouched and not written again
(unless ``--overwrite``). Frame-by-frame ("sisr") models only process the missing frames;
temporal models (recurrent or windowed) still run over the whole sequence, because each output
depends on the frames before it, and write only the missing ones.
"""
from __future__ import annotations

import argparse
import inspect
import sys
from typing import Callable, Iterator

import numpy as np

from vsrbench.commands._options import add_device, add_out, group
from vsrbench.commands.degrade import output_folders
from vsrbench.core.io import png_names
from vsrbench.core.device import resolve_device
from vsrbench.core.errors import InputError

__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "upscale"
HELP = "run a model (bicubic, TecoGAN, DUF, ...) over LR frames and write HR PNG frames"
DESCRIPTION = (
    "Up-scale LR (a sequence folder, a video, or a dataset folder of sequences) with model NAME "
    "(see `vsrbench models`) and write rounded, clipped PNG frames with the input frame names into "
    "OUT, mirroring the tree. Frames already there are kept unless --overwrite."
)


EXAMPLES = (
    "vsrbench upscale --model bicubic --input data/vid4/BD_x4 --out outputs/bicubic",
    "vsrbench upscale --model duf-52l --input data/vid4/BI_x4 --out outputs/duf52 --chunk 8 --device cuda",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model = group(parser, "model")
    model.add_argument("--model", required=True, metavar="NAME", help="model name (see `vsrbench models`)")
    model.add_argument("--weights", metavar="PATH", help="weights file or folder (default: looked up locally)")
    add_device(model, help="where the model runs: auto (CUDA when available), cpu, cuda or cuda:N")
    model.add_argument("--chunk", type=int, metavar="N",
                       help="frames per forward pass, for models that batch (e.g. DUF)")
    frames = group(parser, "frames")
    frames.add_argument("--input", required=True, metavar="LR", help="LR sequence folder, video or dataset folder")
    add_out(frames, metavar="OUT", required=True, aliases=("--output",), help="output folder")
    frames.add_argument("--overwrite", action="store_true", help="recompute frames that already exist")


def _model_options(name: str, builder: Callable, chunk: int | None) -> dict:
    """Builder options from the command line (only ``chunk`` so far)."""
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
    plan = []
    for seq, folder in jobs:
        names = png_names(seq)
        todo = {i for i, n in enumerate(names) if overwrite or not (folder / n).is_file()}
        if todo:
            plan.append((seq, folder, names, todo, sorted(todo) if sisr else list(range(len(seq)))))
    return plan


def run(args: argparse.Namespace) -> int:
    from vsrbench.baselines import MODELS, load_model
    from vsrbench.core.frames import to_uint8
    from vsrbench.core.io import open_dataset, write_frame
    from vsrbench.core.progress import Progress

    spec = MODELS[args.model]  # unknown name -> did-you-mean, before any work
    options = _model_options(args.model, spec.builder, args.chunk)
    device = str(resolve_device(args.device))
    jobs = output_folders(args.input, open_dataset(args.input), args.out)
    plan = _plan(jobs, spec.kind == "sisr", args.overwrite)
    total, missing = sum(len(seq) for seq, _ in jobs), sum(len(todo) for *_, todo, _ in plan)
    if missing < total:
        sys.stderr.write(f"upscale: {total - missing} of {total} frames already in {args.out}; kept "
                         "(use --overwrite to recompute them)\n")
    if not plan:
        return 0
    model = load_model(args.model, weights=args.weights, device=device, **options)
    with Progress(sum(len(feed) for *_, feed in plan), f"upscale {args.model} on {device}") as progress:
        for seq, folder, names, todo, feed in plan:
            outputs = _checked(model.upscale(seq[i] for i in feed), len(feed), args.model, seq.name)
            for hr, i in zip(outputs, feed):  # outputs first: _checked runs to its count check
                if i in todo:
                    write_frame(folder / names[i], to_uint8(hr))
                progress.update()
    return 0
