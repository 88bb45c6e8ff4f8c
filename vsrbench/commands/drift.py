"""``vsrbench drift``: ping-pong drift of a model on LR frames (see :mod:`vsrbench.drift`)."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from vsrbench.core.errors import InputError

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="NAME", help="model name (see `vsrbench models`)")
    parser.add_argument("--weights", metavar="PATH", help="weights file or folder (default: looked up locally)")
    parser.add_argument("--input", required=True, metavar="LR",
                        help="LR sequence folder, video, or dataset folder of sequences")
    parser.add_argument("--device", default="auto",
                        help="where the model runs: auto (CUDA when available), cpu, cuda or cuda:N")
    parser.add_argument("--out", metavar="RESULTS", help="results folder to store the per-frame values in")
    parser.add_argument("--method", metavar="NAME", help="method name to store them under (default: the model name)")
    parser.add_argument("--dataset", metavar="NAME", help="dataset name to store them under (default: the LR folder name)")


def _fmt(v: float, decimals: int) -> str:
    return "inf" if math.isinf(v) else f"{v:.{decimals}f}"


def run(args: argparse.Namespace) -> int:
    from vsrbench import __version__
    from vsrbench.baselines import MODELS, load_model
    from vsrbench.core.device import resolve_device
    from vsrbench.drift import (DRIFT_DEFINITION, DRIFT_METRICS, DRIFT_PROTOCOL, DRIFT_PROTOCOL_HASH,
                                pingpong_drift)
    from vsrbench.core.io import open_dataset
    from vsrbench.metrics import METRICS

    MODELS[args.model]  # unknown name -> did-you-mean, before any work
    sequences = open_dataset(args.input)
    dataset = args.dataset or Path(args.input).resolve().name
    method = args.method or args.model
    device = str(resolve_device(args.device))
    short = [s.name for s in sequences.values() if len(s) < 2]
    if short:
        raise InputError(f"--input {args.input!r}: sequence {short[0]!r} has {len(sequences[short[0]])} frame(s); "
                          "ping-pong drift needs at least 2 frames per sequence")
    model = load_model(args.model, weights=args.weights, device=device)
    versions = {m: str(METRICS[m].version) for m in DRIFT_METRICS}
    store = run_id = None
    if args.out:
        from vsrbench.results.store import ResultsStore

        store = ResultsStore(args.out)
        run_id = store.start_run({
            "vsrbench_version": __version__, "bench_name": "drift",
            "bench": {"command": "drift", "model": args.model, "input": str(Path(args.input).resolve()),
                      "method": method, "dataset": dataset},
            "protocol": DRIFT_PROTOCOL, "protocol_hash": DRIFT_PROTOCOL_HASH,
            "protocol_fields": {"definition": DRIFT_DEFINITION}, "metric_versions": versions,
            "device": device, "argv": sys.argv[1:]})
    status = "failed"
    try:
        means = []
        for seq in sequences.values():
            d = pingpong_drift(model, list(seq))
            print(f"{dataset}/{seq.name}: ping-pong drift of {method} ({d.num_frames} frames; frame t: forward vs "
                  "backward output)")
            print(f"{'frame':>6} {'name':<16} {'RMSE (8-bit)':>12} {'PSNR (dB)':>10}")
            for t in range(d.num_frames - 1):
                print(f"{t:>6} {seq.frame_name(t):<16} {d.rmse[t]:>12.3f} {_fmt(d.psnr[t], 2):>10}")
            n_inf = int(np.sum(np.isinf(d.psnr)))
            note = f" (PSNR: {n_inf} frame(s) without drift, inf, left out)" if 0 < n_inf < len(d.psnr) else ""
            print(f"{'mean':>6} {'':<16} {d.mean_rmse:>12.3f} {_fmt(d.mean_psnr, 2):>10}{note}")
            means.append(d.mean_rmse)
            if store is not None and _stored(store, method, dataset, seq.name, versions):
                sys.stderr.write(f"drift: {dataset}/{seq.name} of method {method!r} is already in {args.out}; the "
                                 "stored values are kept (use --method NAME to store these under another name)\n")
            elif store is not None:
                from vsrbench.results.store import SequenceResult

                store.add_sequence(run_id, SequenceResult(
                    method=method, dataset=dataset, sequence=seq.name, rows=d.rows(),
                    frame_names=[seq.frame_name(i) for i in range(len(seq))], metric_versions=versions,
                    protocol=DRIFT_PROTOCOL, protocol_hash=DRIFT_PROTOCOL_HASH))
        if len(means) > 1:
            print(f"mean RMSE over {len(means)} sequences (sequence average): {sum(means) / len(means):.3f}")
        if store is not None:
            print(f"results store: {Path(args.out) / 'results.sqlite'} (method {method!r}, dataset {dataset!r}, "
                  f"protocol {DRIFT_PROTOCOL!r}); `vsrbench table {args.out}` shows it")
        status = "done"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if store is not None:
            store.finish_run(run_id, status, weights={method: _weights_record(args.weights, model)})
            store.close()
    return 0


def _weights_record(weights: str | None, model) -> dict:
    """The weights file the stored values were made with (path and sha256), like `vsrbench run`'s."""
    from vsrbench.core.weights import sha256sum

    path = weights or getattr(model, "weights_path", None)
    if path is None or not Path(path).is_file():
        return {"path": None if path is None else str(path), "sha256": None}
    return {"path": str(path), "sha256": sha256sum(path)}


def _stored(store, method: str, dataset: str, sequence: str, versions: dict) -> bool:
    from vsrbench.drift import DRIFT_PROTOCOL_HASH

    marks = store.completed(DRIFT_PROTOCOL_HASH, method=method, dataset=dataset, sequence=sequence)
    return any((method, dataset, sequence, m, v) in marks for m, v in versions.items())
