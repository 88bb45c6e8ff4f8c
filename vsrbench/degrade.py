"""Low-resolution frames from ground truth with a named degradation: what ``vsrbench degrade`` does.

Also home of the helper the frame-writing verbs share: where each sequence's frames go
(:func:`output_folders`; what they are called is :func:`vsrbench.core.io.png_names`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vsrbench.core.errors import InputError
from vsrbench.core.io import FrameSequence

__all__ = ["DegradeRequest", "degrade_frames", "output_folders"]


@dataclass(frozen=True)
class DegradeRequest:
    """Degrade every frame of ``gt`` (a sequence folder, a video, or a dataset folder of sequences)
    with the degradation ``kind`` by ``scale`` and write PNG frames into ``out``, mirroring the tree."""

    gt: str
    out: str
    kind: str
    scale: int = 4


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
    """Run ``request``. Every check (the degradation's name, the scale against each sequence's frame
    size, the output folders) comes before the first frame is written; progress goes to stderr."""
    from vsrbench.baselines.degrade import DEGRADATIONS, check_lr_size, degrade_uint8
    from vsrbench.core.io import open_dataset, png_names, write_frame
    from vsrbench.core.progress import Progress

    kind, scale = request.kind, request.scale
    DEGRADATIONS[kind]  # unknown name -> did-you-mean, before any work
    if scale < 1:
        raise InputError(f"--scale: expected an integer >= 1, got {scale}")
    jobs = output_folders(request.gt, open_dataset(request.gt), request.out)
    for seq, _ in jobs:  # a scale too large for any sequence stops the command before it writes
        try:
            check_lr_size(seq[0].shape, scale)
        except InputError as e:
            raise InputError(f"--scale {e.args[0].removeprefix('scale: ')} (sequence {seq.name!r})") from None
    with Progress(sum(len(seq) for seq, _ in jobs), f"degrade {kind} x{scale}") as progress:
        for seq, folder in jobs:
            for i, name in enumerate(png_names(seq)):
                write_frame(folder / name, degrade_uint8(seq[i], kind, scale))
                progress.update()
