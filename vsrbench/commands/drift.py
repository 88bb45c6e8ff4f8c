"""``vsrbench drift``: ping-pong drift of a model on LR frames (see :mod:`vsrbench.drift`)."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np


__all__ = ["NAME", "HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "run"]

NAME = "drift"
HELP = "ping-pong drift of a model: its output for frame t on a forward vs a backward pass (TecoGAN)"
DESCRIPTION = (
    "Run model NAME once over each LR sequence in ping-pong order (frames 0..n-1, n-2..0, as TecoGAN's "
    "Ping-Pong loss) and print, per frame t < n-1, the RMSE (8-bit units) and PSNR (dB) between its output "
    "for frame t on the forward and on the backward leg, and their means. Per-frame models score 0 (PSNR inf); "
    "recurrent models show how much they drift. No GT needed. With --out, the values are stored as metrics "
    "drift_rmse and drift_psnr (method: the model name, dataset: the LR folder name) under protocol "
    "'pingpong', so `vsrbench table RESULTS` and `vsrbench plot RESULTS --kind curves` show them."
)


EXAMPLES = (
    "vsrbench drift --model tecogan --input data/vid4/BD_x4",
    "vsrbench drift --model frvsr --input data/vid4/BD_x4 --out results/vid4",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vsrbench.commands._options import add_device, add_out, group

    model = group(parser, "model and input")
    model.add_argument("--model", required=True, metavar="NAME", help="model name (see `vsrbench models`)")
    model.add_argument("--weights", metavar="PATH", help="weights file or folder (default: looked up locally)")
    model.add_argument("--input", required=True, metavar="LR",
                       help="LR sequence folder, video, or dataset folder of sequences")
    add_device(model, help="where the model runs: auto (CUDA when available), cpu, cuda or cuda:N")
    out = group(parser, "storing the values (optional)")
    add_out(out, metavar="RESULTS", help="results folder to store the per-frame values in")
    out.add_argument("--method", metavar="NAME", help="method name to store them under (default: the model name)")
    out.add_argument("--dataset", metavar="NAME",
                     help="dataset name to store them under (default: the LR folder name)")


def _fmt(v: float, decimals: int) -> str:
    return "inf" if math.isinf(v) else f"{v:.{decimals}f}"


def run(args: argparse.Namespace) -> int:
    from vsrbench.drift import DRIFT_PROTOCOL, run_drift

    found, dataset, method = run_drift(_request(args), show=_print_drift, say=_stderr)
    if len(found) > 1:
        means = [d.mean_rmse for d in found]
        print(f"mean RMSE over {len(means)} sequences (sequence average): {sum(means) / len(means):.3f}")
    if args.out:
        print(f"results store: {Path(args.out) / 'results.sqlite'} (method {method!r}, dataset {dataset!r}, "
              f"protocol {DRIFT_PROTOCOL!r}); `vsrbench table {args.out}` shows it")
    return 0


def _request(args: argparse.Namespace):
    from vsrbench.drift import DriftRequest

    return DriftRequest(model=args.model, input=args.input, weights=args.weights, device=args.device,
                        out=args.out, method=args.method, dataset=args.dataset)


def _print_drift(dataset: str, method: str, seq, d) -> None:
    """One sequence's table: per frame t < n-1, RMSE and PSNR of forward vs backward output, and the means."""
    print(f"{dataset}/{seq.name}: ping-pong drift of {method} ({d.num_frames} frames; frame t: forward vs "
          "backward output)")
    print(f"{'frame':>6} {'name':<16} {'RMSE (8-bit)':>12} {'PSNR (dB)':>10}")
    for t in range(d.num_frames - 1):
        print(f"{t:>6} {seq.frame_name(t):<16} {d.rmse[t]:>12.3f} {_fmt(d.psnr[t], 2):>10}")
    n_inf = int(np.sum(np.isinf(d.psnr)))
    note = f" (PSNR: {n_inf} frame(s) without drift, inf, left out)" if 0 < n_inf < len(d.psnr) else ""
    print(f"{'mean':>6} {'':<16} {d.mean_rmse:>12.3f} {_fmt(d.mean_psnr, 2):>10}{note}")


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
