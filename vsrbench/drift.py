"""Ping-pong drift: how much a model's output for frame t depends on the direction it got there.

TecoGAN (Chu et al. 2020) trains its recurrent generator with a *Ping-Pong* loss: the model runs
once over the sequence in ping-pong order, frames ``0, 1, ..., n-1, n-2, ..., 0`` (the last frame
is the turning point and appears once, ``2n-1`` frames in all), and the loss is the distance between
the output for frame ``t`` on the forward leg (position ``t``) and on the backward leg (position
``2n-2-t``), for ``t = 0 .. n-2``. A recurrent model carries its state through the turn, so the
backward leg shows what it accumulated; a model that drifts or builds up artifacts gives the two
legs different outputs.

vsrbench measures the same thing as a metric of any model (the TecoGAN release computes an L1
loss in [-1, 1] units during training; vsrbench reports distances on the 8-bit grid):

* ``drift_rmse``: per frame ``t``, the RMSE between the two legs' outputs, both rounded and
  clipped to uint8 (:func:`vsrbench.core.frames.to_uint8`), over every pixel and RGB channel of
  the full frame, in 8-bit units (0..255);
* ``drift_psnr``: ``10·log10(255² / MSE)`` of the same difference, in dB; ``inf`` when the legs
  agree exactly.

Values are stored at frame index ``t`` (``t = 0 .. n-2``; the turning frame ``n-1`` has one
output, so it has no value). They need no ground truth: they are *model-run* metrics, computed
from LR frames by running the model (``vsrbench drift``, :func:`pingpong_drift`), never from
output frames (``vsrbench evaluate`` refuses them). They do not depend on a protocol's settings
(no Y channel, no border crop).

A frame-by-frame model (bicubic, ENet) gives each frame the same output on both legs: drift 0,
PSNR ``inf``. A windowed model (DUF) is not recurrent but still drifts: its window of frame ``t``
on the backward leg holds the same neighbours in reversed order, and near the turn the window
holds the mirrored frames instead of the zero frames that pad a sequence's end.

A built-in recurrent model runs as it does in a benchmark, with its inference padding (TecoGAN's
release first runs frames 5..1 and drops their outputs): on the forward leg frame 0 then follows
frames 5, 4, .., 1, as it does at the end of the backward leg, so frame 0 only shows memory older
than five frames (usually no drift); build it with ``num_pad_front=0`` to start from an empty state,
as TecoGAN's training does.
"""
from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import numpy as np

from vsrbench.core.errors import InputError
from vsrbench.core.frames import to_uint8

if TYPE_CHECKING:
    from vsrbench.core.io import FrameSequence
    from vsrbench.results.session import RunSession

__all__ = ["DRIFT_METRICS", "DRIFT_PROTOCOL", "DRIFT_PROTOCOL_HASH", "Drift", "DriftTarget", "DriftRequest",
           "run_drift", "pingpong_order",
           "pingpong_drift", "store_drift"]

#: the metrics this module computes (registered in :data:`vsrbench.metrics.METRICS` as model-run metrics)
DRIFT_METRICS = ("drift_rmse", "drift_psnr")
#: the definition the stored values follow; its hash is the ``protocol_hash`` they are stored under
DRIFT_DEFINITION = ("ping-pong drift v1: one pass over frames 0..n-1, n-2..0 (TecoGAN); frame t, t < n-1, "
                    "forward vs backward output; uint8 RGB (rounded, clipped), full frame; RMSE and PSNR, peak 255")
#: the pseudo-protocol name drift results are stored under (``vsrbench table --protocol pingpong``)
DRIFT_PROTOCOL = "pingpong"
DRIFT_PROTOCOL_HASH = hashlib.sha256(DRIFT_DEFINITION.encode()).hexdigest()[:12]


def pingpong_order(n: int) -> list[int]:
    """The frame indices of one ping-pong pass over ``n`` frames (TecoGAN's ``pingpang`` input).

    >>> pingpong_order(4)
    [0, 1, 2, 3, 2, 1, 0]
    """
    return list(range(n)) + list(range(n - 2, -1, -1))


@dataclass(frozen=True)
class Drift:
    """Per-frame ping-pong drift of one sequence: index ``t`` of each array is frame ``t`` (t < n-1)."""

    rmse: np.ndarray  # 8-bit units
    psnr: np.ndarray  # dB, inf where the legs agree exactly
    num_frames: int  # n, the frames of the sequence

    @property
    def mean_rmse(self) -> float:
        return float(np.mean(self.rmse))

    @property
    def mean_psnr(self) -> float:
        """The mean of the finite per-frame PSNRs, as tables average them (frames without drift, PSNR
        ``inf``, are left out); ``inf`` when no frame drifts."""
        finite = self.psnr[np.isfinite(self.psnr)]
        return float(np.mean(finite)) if finite.size else math.inf

    def rows(self) -> list[tuple[int, str, float]]:
        """``(frame, metric, value)`` rows for the results store."""
        return ([(t, "drift_rmse", float(v)) for t, v in enumerate(self.rmse)]
                + [(t, "drift_psnr", float(v)) for t, v in enumerate(self.psnr)])


def _runner(model: Any, *, weights, device, options: dict) -> tuple[str, Callable[[list], Iterable]]:
    """``(name, fn)``: ``fn(frames)`` yields one HR frame per LR frame, in the order given."""
    if isinstance(model, str):
        from vsrbench.baselines import MODELS, load_model

        name = str(model)
        MODELS[name]  # unknown name -> UnknownNameError with did-you-mean, before any work
        built = load_model(name, weights=weights, device=device, **options)
        return name, built.upscale
    if weights is not None or options:
        raise InputError("pingpong_drift: weights and model options apply to a model name only, "
                         f"got a {type(model).__name__}; pass them when you build the model")
    if callable(getattr(model, "upscale", None)):
        return str(getattr(model, "name", type(model).__name__)), model.upscale
    if callable(model):
        return str(getattr(model, "__name__", type(model).__name__)), model
    raise InputError(f"pingpong_drift: model: expected a model name, an object with .upscale(frames) or a "
                     f"callable fn(frames) -> HR frames, got {type(model).__name__}")


def _frames(lr_frames: Any) -> list[np.ndarray]:
    if isinstance(lr_frames, (str, os.PathLike)):
        from vsrbench.core.io import open_sequence

        path = Path(lr_frames)
        if not path.exists():
            raise InputError(f"--input: path not found: {str(path)!r}; give an LR sequence folder or video")
        return list(open_sequence(path))
    if isinstance(lr_frames, np.ndarray) and lr_frames.ndim == 4:
        return list(lr_frames)
    try:
        return list(lr_frames)
    except TypeError:
        raise InputError(f"pingpong_drift: lr_frames: expected a sequence of (H, W, 3) frames or a folder, "
                         f"got {type(lr_frames).__name__}") from None


def _compare(a: np.ndarray, b: np.ndarray, t: int, name: str) -> tuple[float, float]:
    if a.shape != b.shape:
        raise InputError(f"model {name!r}: frame {t}: the backward leg's output is {b.shape}, the forward "
                         f"leg's {a.shape}; a model must give each frame one output size")
    d = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(d * d))
    psnr = math.inf if mse == 0.0 else 10.0 * math.log10(255.0 ** 2 / mse)
    return math.sqrt(mse), psnr


def pingpong_drift(model: Any, lr_frames: Any, *, weights=None, device="cpu", **options) -> Drift:
    """Ping-pong drift of ``model`` on one LR sequence (see the module doc).

    ``model``: a built-in model name (loaded with :func:`vsrbench.baselines.load_model` from
    ``weights``, on ``device``, with ``options``), an :class:`~vsrbench.baselines.SRModel` (or any
    object with ``.upscale(frames)``), or a callable ``fn(frames)``: each takes the frames in the
    order to process them (one pass, state carried from frame to frame) and returns or yields one
    HR frame per input frame. ``lr_frames``: a list of (H, W, 3) frames (uint8, or float in
    [0, 1]), an (N, H, W, 3) array, or an LR sequence folder / video. Needs at least 2 frames.
    """
    frames = _frames(lr_frames)
    n = len(frames)
    if n < 2:
        raise InputError(f"lr_frames: ping-pong drift needs at least 2 frames (it compares frame t of the "
                         f"forward and the backward leg, t < n-1), got {n}")
    name, fn = _runner(model, weights=weights, device=device, options=options)
    order = pingpong_order(n)
    forward: list[np.ndarray | None] = []
    rmse, psnr = np.zeros(n - 1), np.zeros(n - 1)
    count = 0
    for pos, out in enumerate(fn([frames[i] for i in order])):
        if pos >= len(order):
            count = pos + 1
            break
        hr = to_uint8(np.asarray(out))
        if pos < n - 1:
            forward.append(hr)
        elif pos >= n:
            t = order[pos]
            rmse[t], psnr[t] = _compare(forward[t], hr, t, name)
            forward[t] = None  # free it
        count = pos + 1
    if count != len(order):
        raise InputError(f"model {name!r} returned {'more than ' if count > len(order) else ''}"
                         f"{min(count, len(order))} frames for the {len(order)} frames of the ping-pong pass "
                         f"(n = {n}); it must return one HR frame per input frame")
    return Drift(rmse=rmse, psnr=psnr, num_frames=n)


# ---------------------------------------------------------------------- storing drift in a results folder

@dataclass(frozen=True)
class DriftTarget:
    """Where and under which names :func:`store_drift` stores drift values, and what made them."""

    out: Path  # the results folder
    method: str
    dataset: str
    model: str  # the model name, for the run record
    input: Path  # the LR folder, for the run record
    device: str
    weights: Mapping[str, Any]  # the model's weights record: {"path", "sha256"}


def store_drift(model: Any, sequences: Iterable["FrameSequence"], target: DriftTarget, *,
                show: Callable[["FrameSequence", Drift], None], say: Callable[[str], None]) -> list[Drift]:
    """Drift of ``model`` on each LR sequence, stored in ``target.out`` as a run of its own.

    The run goes through a :class:`~vsrbench.results.session.RunSession` like ``vsrbench run``'s: a run
    killed outright is found and marked ``interrupted`` by the next writer. ``show`` gets each sequence's
    drift as soon as it is computed. Metrics already stored for a sequence are kept (``say`` tells when
    nothing is left to add); values of the same method and dataset under another protocol, or made with
    another weights file, are refused in one line before anything is written.
    """
    from vsrbench.metrics import METRICS
    from vsrbench.results.session import RunSession
    from vsrbench.results.store import SequenceResult
    from vsrbench.runner import run_environment

    versions = {m: str(METRICS[m].version) for m in DRIFT_METRICS}
    found = []
    with RunSession(target.out, say=say) as session:
        _check_drift_target(session, target)
        session.start({
            **run_environment(), "bench_name": "drift",
            "bench": {"command": "drift", "model": target.model, "input": str(Path(target.input).resolve()),
                      "method": target.method, "dataset": target.dataset},
            "protocol": DRIFT_PROTOCOL, "protocol_hash": DRIFT_PROTOCOL_HASH,
            "protocol_fields": {"definition": DRIFT_DEFINITION}, "metric_versions": versions,
            "weights": {target.method: dict(target.weights)}, "device": target.device})
        for seq in sequences:
            d = pingpong_drift(model, list(seq))
            show(seq, d)
            found.append(d)
            session.claim_sequence(target.dataset, seq.name)
            need = session.missing_metrics(DRIFT_PROTOCOL_HASH, target.method, target.dataset, seq.name, versions)
            if not need:
                say(f"drift: {target.dataset}/{seq.name} of method {target.method!r} is already in {str(target.out)}; "
                    "the stored values are kept (use --method NAME to store these under another name)")
            else:
                session.add(SequenceResult(
                    method=target.method, dataset=target.dataset, sequence=seq.name,
                    rows=[r for r in d.rows() if r[1] in need],
                    frame_names=[seq.frame_name(i) for i in range(len(seq))],
                    metric_versions={m: versions[m] for m in need},
                    protocol=DRIFT_PROTOCOL, protocol_hash=DRIFT_PROTOCOL_HASH))
            session.release_sequence(target.dataset, seq.name)
    return found


def _check_drift_target(session: "RunSession", target: DriftTarget) -> None:
    """Refuse, in one line, drift values that would mix with what the folder holds for this method
    and dataset: scores under another protocol (a table of the dataset would mix two protocols), or
    drift values made with another weights file."""
    where, who = repr(str(target.out)), f"method {target.method!r} on dataset {target.dataset!r}"
    other = session.store.query(
        "SELECT DISTINCT protocol, protocol_hash FROM completed WHERE method = ? AND dataset = ? "
        "AND protocol_hash != ? ORDER BY protocol", [target.method, target.dataset, DRIFT_PROTOCOL_HASH])
    if other:
        raise InputError(
            f"{where} holds scores of {who} under protocol {other[0][0]} ({other[0][1]}); drift values (protocol "
            f"{DRIFT_PROTOCOL}) beside them would mix two protocols in its tables: pass --method NAME or "
            "--dataset NAME to store them under another name, or choose another --out")
    new = target.weights.get("sha256")
    stored = session.store.query("SELECT DISTINCT run_id FROM completed WHERE method = ? AND dataset = ? "
                                 "AND protocol_hash = ?", [target.method, target.dataset, DRIFT_PROTOCOL_HASH])
    runs = {int(r[0]) for r in stored}
    for run_id, record in sorted(session.store.weights_of_runs().items()):
        old = record.get(target.method)
        if run_id in runs and isinstance(old, dict) and old.get("sha256") and new and old["sha256"] != new:
            raise InputError(
                f"{where} holds drift values of {who} made with weights sha256 {old['sha256'][:12]} (run {run_id}), "
                f"not {new[:12]}; pass --method NAME to store these under another name, or choose another --out")


# ---------------------------------------------------------------------- the command's request

@dataclass(frozen=True)
class DriftRequest:
    """What ``vsrbench drift`` was asked: model NAME on the LR sequences of ``input``; with ``out``, the
    values are stored there under ``method`` (default: the model name) and ``dataset`` (default: the LR
    folder's name)."""

    model: str
    input: str
    weights: str | None = None
    device: str = "auto"
    out: str | None = None
    method: str | None = None
    dataset: str | None = None


def run_drift(request: DriftRequest, *, show: Callable[[str, str, Any, Drift], None],
              say: Callable[[str], None]) -> tuple[list[Drift], str, str]:
    """Ping-pong drift of every sequence of ``request.input``; ``show(dataset, method, sequence, drift)``
    is called as each sequence is done, ``say`` gets the notes of a stored run. Returns the drifts and
    the dataset and method names they were (or would be) stored under.

    Raises :class:`~vsrbench.core.errors.UnknownNameError` for an unknown model (before any work) and a
    one-line :class:`~vsrbench.core.errors.InputError` for a sequence of fewer than 2 frames.
    """
    from vsrbench.baselines import MODELS, load_model
    from vsrbench.core.device import resolve_device
    from vsrbench.core.io import open_dataset
    from vsrbench.core.weights import model_weights_record

    MODELS[request.model]  # unknown name -> did-you-mean, before any work
    sequences = open_dataset(request.input)
    dataset = request.dataset or Path(request.input).resolve().name
    method = request.method or request.model
    device = str(resolve_device(request.device))
    short = [s.name for s in sequences.values() if len(s) < 2]
    if short:
        raise InputError(f"--input {request.input!r}: sequence {short[0]!r} has {len(sequences[short[0]])} "
                         "frame(s); ping-pong drift needs at least 2 frames per sequence")
    model = load_model(request.model, weights=request.weights, device=device)
    if request.out:
        target = DriftTarget(out=Path(request.out), method=method, dataset=dataset, model=request.model,
                             input=Path(request.input), device=device,
                             weights=model_weights_record(request.weights, model))
        found = store_drift(model, sequences.values(), target, show=lambda s, d: show(dataset, method, s, d),
                            say=say)
    else:
        found = [pingpong_drift(model, list(seq)) for seq in sequences.values()]
        for seq, d in zip(sequences.values(), found):
            show(dataset, method, seq, d)
    return found, dataset, method
