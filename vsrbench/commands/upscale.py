"""``vsrbench upscale``: run a built-in model over LR frames and write its HR frames as PNG
(:mod:`vsrbench.upscale`; frames already in the output folder are kept unless ``--overwrite``).
"""
from __future__ import annotations

import argparse

from vsrbench.commands._options import add_device, add_out, group
from vsrbench.upscale import UpscaleRequest

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


def _request(args: argparse.Namespace) -> UpscaleRequest:
    return UpscaleRequest(model=args.model, input=args.input, out=args.out, weights=args.weights, device=args.device,
                          chunk=args.chunk, overwrite=args.overwrite)


def run(args: argparse.Namespace) -> int:
    from vsrbench.upscale import upscale_frames

    upscale_frames(_request(args))
    return 0
