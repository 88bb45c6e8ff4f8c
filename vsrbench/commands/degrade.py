"""``vsrbench degrade``: make LR frames from ground truth with a named degradation.

Also home of the two helpers the frame-writing commands share: where each sequence's frames go
(:func:`output_folders`) and what they are called (:func:`vsrbench.core.io.png_names`).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from vsrbench.commands._options import group
from vsrbench.core.errors import InputError
from vsrbench.core.io import FrameSequence

__all__ = ["NAME", "HELP", "KINDS", "DESCRIPTION", "EXAMPLES", "add_arguments", "output_folders", "run"]

NAME = "degrade"
HELP = "make low-resolution frames from ground-truth frames with a named degradation"
KINDS = ("bd-tecogan", "bd-tecogan-train", "bd-duf", "bd-basicvsr", "bi-matlab", "bi-pil")
DESCRIPTION = (
    "Write the LR version of every frame of GT (a sequence folder, a video, or a dataset folder of "
    "sequences) as PNG into OUT, mirroring the tree. Degradations (see vsrbench.baselines.degrade): "
    + ", ".join(KINDS) + "."
)


EXAMPLES = (
    "vsrbench degrade --kind bd-tecogan data/vid4/GT data/vid4/BD_x4",
    "vsrbench degrade --kind bi-matlab --scale 2 clip.mp4 lr/clip",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("gt", metavar="GT", help="ground truth: sequence folder, video, or dataset folder")
    parser.add_argument("out", metavar="OUT", help="output folder (created; sequences become sub-folders)")
    how = group(parser, "degradation")
    how.add_argument("--kind", required=True, metavar="NAME", help="degradation: " + ", ".join(KINDS))
    how.add_argument("--scale", type=int, default=4, help="down-sampling factor (default 4)")


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


def run(args: argparse.Namespace) -> int:
    from vsrbench.baselines.degrade import DEGRADATIONS, check_lr_size, degrade_uint8
    from vsrbench.core.io import open_dataset, png_names, write_frame
    from vsrbench.core.progress import Progress

    DEGRADATIONS[args.kind]  # unknown name -> did-you-mean, before any work
    if args.scale < 1:
        raise InputError(f"--scale: expected an integer >= 1, got {args.scale}")
    jobs = output_folders(args.gt, open_dataset(args.gt), args.out)
    for seq, _ in jobs:  # a scale too large for any sequence stops the command before it writes
        try:
            check_lr_size(seq[0].shape, args.scale)
        except InputError as e:
            raise InputError(f"--scale {e.args[0].removeprefix('scale: ')} (sequence {seq.name!r})") from None
    with Progress(sum(len(seq) for seq, _ in jobs), f"degrade {args.kind} x{args.scale}") as progress:
        for seq, folder in jobs:
            for i, name in enumerate(png_names(seq)):
                write_frame(folder / name, degrade_uint8(seq[i], args.kind, args.scale))
                progress.update()
    return 0
