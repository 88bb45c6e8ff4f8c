"""Low-resolution frames from ground truth with a named degradation: what ``vsrbench degrade`` does.

A random degradation (``realbasicvsr``, :mod:`vsrbench.baselines.realworld`) degrades each sequence as a
clip under ``seed`` and writes :data:`RECORD_NAME` into ``out``: the label results quote
(``realbasicvsr[seed=N]``), the recipe and the parameters every clip drew.

Also home of the helper the frame-writing verbs share: where each sequence's frames go
(:func:`output_folders`; what they are called is :func:`vsrbench.core.io.png_names`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from vsrbench.core.errors import InputError
from vsrbench.core.io import FrameSequence

__all__ = ["DegradeRequest", "degrade_frames", "output_folders", "check_degradation", "RECORD_NAME"]

#: the file ``vsrbench degrade`` writes into OUT for a random degradation: label, seed, recipe, per-clip draws
RECORD_NAME = "degradation.json"


@dataclass(frozen=True)
class DegradeRequest:
    """Degrade every frame of ``gt`` (a sequence folder, a video, or a dataset folder of sequences)
    with the degradation ``kind`` by ``scale`` and write PNG frames into ``out``, mirroring the tree.
    ``seed``: required by a random degradation (``realbasicvsr``), refused by the others."""

    gt: str
    out: str
    kind: str
    scale: int = 4
    seed: int | None = None


def check_degradation(text: str) -> tuple[str, int | None]:
    """``(name, seed or None)`` of a degradation as results name it: ``bd-duf`` or ``realbasicvsr[seed=N]``.

    The name is checked against the registry (one line with did-you-mean); a seed is accepted on a random
    degradation only. A random one named without its seed stays valid (LQ made by the recipe, seed unknown).
    """
    from vsrbench.baselines.degrade import DEGRADATIONS
    from vsrbench.baselines.realworld import RANDOM_DEGRADATIONS, parse_degradation

    name, seed = parse_degradation(text)
    DEGRADATIONS[name]
    if seed is not None and name not in RANDOM_DEGRADATIONS:
        raise InputError(f"degradation {text!r}: {name} is deterministic, it takes no seed; "
                         f"seeds apply to {', '.join(sorted(RANDOM_DEGRADATIONS))}")
    return name, seed


def output_folders(source: str | Path, seqs: dict[str, FrameSequence], out: str | Path) -> list[tuple[FrameSequence, Path]]:
    """Pair each sequence of ``open_dataset(source)`` with its output folder.

    A single sequence (``source`` is itself the sequence folder or video) writes into ``out``;
    the sequences of a dataset write into ``out/<sequence name>``. Refuses to write into a
    folder that holds input frames.
    """
    out = Path(out)
    single = len(seqs) == 1 and Path(next(iter(seqs.values())).source) == Path(source)
    pairs = [(seq, out if single else out / name) for name, seq in seqs.items()]
    for seq, folder in pairs:
        if Path(seq.source).resolve() == folder.resolve():
            raise InputError(f"output folder {str(folder)!r} is the input sequence folder; choose another OUT")
    return pairs


def degrade_frames(request: DegradeRequest) -> None:
    """Run ``request``. Every check (the degradation's name, the seed, the scale against each sequence's frame
    size, the output folders) comes before the first frame is written; progress goes to stderr."""
    from vsrbench.baselines.degrade import DEGRADATIONS, check_lr_size, degrade_uint8
    from vsrbench.baselines.realworld import RANDOM_DEGRADATIONS
    from vsrbench.core.io import open_dataset, png_names, write_frame
    from vsrbench.core.progress import Progress

    kind, scale = request.kind, request.scale
    DEGRADATIONS[kind]  # unknown name -> did-you-mean, before any work
    if scale < 1:
        raise InputError(f"--scale: expected an integer >= 1, got {scale}")
    _check_seed(kind, request.seed, RANDOM_DEGRADATIONS)
    jobs = output_folders(request.gt, open_dataset(request.gt), request.out)
    for seq, _ in jobs:  # a scale too large for any sequence stops the command before it writes
        try:
            check_lr_size(seq[0].shape, scale)
        except InputError as e:
            raise InputError(f"--scale {e.args[0].removeprefix('scale: ')} (sequence {seq.name!r})") from None
    if kind in RANDOM_DEGRADATIONS:
        _degrade_clips(request, jobs)
        return
    with Progress(sum(len(seq) for seq, _ in jobs), f"degrade {kind} x{scale}") as progress:
        for seq, folder in jobs:
            for i, name in enumerate(png_names(seq)):
                write_frame(folder / name, degrade_uint8(seq[i], kind, scale))
                progress.update()


def _check_seed(kind: str, seed: int | None, random: dict) -> None:
    """A random degradation needs ``--seed`` (and, for its video step, PyAV); a deterministic one refuses it."""
    if kind not in random:
        if seed is not None:
            raise InputError(f"--seed: {kind} is deterministic; --seed applies to {', '.join(sorted(random))}")
        return
    if seed is None:
        raise InputError(f"--seed: {kind} is a random degradation; give --seed N (recorded in OUT/{RECORD_NAME}, "
                         f"quoted in results as {kind}[seed=N])")
    if seed < 0:
        raise InputError(f"--seed: expected an integer >= 0, got {seed}")
    from vsrbench.baselines.realworld import require_av

    require_av(kind)


def _degrade_clips(request: DegradeRequest, jobs: list[tuple[FrameSequence, Path]]) -> None:
    """A random degradation: each sequence degraded as one clip (its parameters drawn from the seed and its
    name), then :data:`RECORD_NAME` written into ``out`` with every clip's draws."""
    from vsrbench import __version__
    from vsrbench.baselines.realworld import (RANDOM_DEGRADATIONS, degradation_label, degrade_clip,
                                              recipe_record, sample_clip)
    from vsrbench.core.io import png_names, write_frame
    from vsrbench.core.progress import Progress

    recipe, seed = RANDOM_DEGRADATIONS[request.kind], int(request.seed)
    if request.scale != recipe.scale:
        raise InputError(f"--scale: {recipe.name} makes LQ at x{recipe.scale} only, got {request.scale}")
    for seq, _ in jobs:  # sizes checked (sides multiples of the scale) before anything is written
        try:
            sample_clip(seed, seq.name, len(seq), seq[0].shape[:2], recipe)
        except InputError as e:
            raise InputError(f"{e.args[0]} (sequence {seq.name!r})") from None
    clips: dict[str, dict] = {}
    with Progress(sum(len(seq) for seq, _ in jobs), f"degrade {recipe.name} seed {seed}") as progress:
        for seq, folder in jobs:
            lq, clips[seq.name] = degrade_clip(list(seq), seed, seq.name, recipe)
            for name, frame in zip(png_names(seq), lq):
                write_frame(folder / name, frame)
                progress.update()
    record = {"degradation": degradation_label(recipe.name, seed), "name": recipe.name, "seed": seed,
              "scale": recipe.scale, "gt": str(Path(request.gt).resolve()), "vsrbench": __version__,
              "recipe": recipe_record(recipe), "clips": clips}
    out = Path(request.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / RECORD_NAME).write_text(json.dumps(record, indent=1) + "\n")
