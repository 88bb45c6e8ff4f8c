"""Your stored outputs scored again under another convention: what ``vsrbench table --published`` ranks
published rows against.

:func:`outputs_rescorer` gives the :data:`~vsrbench.analysis.convention_blocks.Rescorer` of a results
folder: for a dataset, a protocol and methods, it finds each method's GT and output folders in the run
records (:func:`vsrbench.results.loading.recorded_paths`: the ``--gt``/``--pred`` of ``vsrbench
evaluate``, a benchmark's datasets and ``outputs``, or the outputs a model wrote into
``RESULTS/outputs``) and scores them with :func:`vsrbench.run.evaluation.evaluate_outputs`, the
machinery of ``vsrbench evaluate`` (one pass over the frames per protocol, all metrics at once),
into a results store of its own, ``RESULTS/conventions/<protocol hash>/``. A second table finds
them there and scores nothing (they are scored again when the outputs recorded for the method
changed, or a metric is missing). The stored results of ``RESULTS`` itself are never touched, so a
plain ``vsrbench table RESULTS`` still shows one protocol.

:func:`make_table` is ``vsrbench table``: :func:`vsrbench.analysis.leaderboard.make_table` with this
rescorer when published rows are asked for.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Callable, Sequence

from vsrbench.analysis.border import quiet
from vsrbench.analysis.convention_blocks import Rescored, Rescorer
from vsrbench.core.errors import InputError, VsrbenchError

__all__ = ["CACHE_FOLDER", "cache_dir", "protocol_request", "outputs_rescorer", "make_table"]

CACHE_FOLDER = "conventions"  # RESULTS/conventions/<protocol hash>: the re-scored results of one protocol


def cache_dir(results_dir: str | Path, protocol) -> Path:
    """The results store of ``results_dir``'s outputs scored under ``protocol``."""
    return Path(results_dir) / CACHE_FOLDER / protocol.hash


def protocol_request(protocol) -> tuple[str, tuple[str, ...]]:
    """``(preset, ("FIELD=VALUE", ...))`` that ``vsrbench evaluate --protocol P --set ...`` turns back into
    ``protocol`` (its name lists the fields that differ from its preset)."""
    from vsrbench.catalog.published import PROTOCOL_NAME
    from vsrbench.metrics import get_protocol

    m = PROTOCOL_NAME.fullmatch(protocol.name)
    if m is None:
        raise InputError(f"protocol {protocol.name!r} is not a preset with overrides; it cannot be re-scored")
    sets = tuple(s.strip() for s in (m["fields"] or "").split(",") if s.strip())
    again = get_protocol(m["preset"], **dict(s.split("=", 1) for s in sets))
    if again.hash != protocol.hash:
        raise InputError(f"protocol {protocol.name!r}: its name does not give it back (hash {again.hash}, "
                         f"not {protocol.hash}); it cannot be re-scored")
    return m["preset"], sets


def _cached(store: Path, protocol, method: str, dataset: str, metrics: Sequence[str], want: dict) -> bool:
    """The cache holds ``method`` on ``dataset`` for every metric and clip, scored from the same recorded
    folders (``want``: GT, outputs) with the current metric versions."""
    from vsrbench.metrics import METRICS
    from vsrbench.results.loading import load_results, recorded_paths

    from vsrbench.results.store import STORE_FILENAME

    if not (store / STORE_FILENAME).exists():
        return False
    try:
        if tuple(map(str, recorded_paths(store, method, dataset)[:2])) != (want["gt"], want["pred"]):
            return False
        df = load_results(store, protocol.hash)
    except (InputError, KeyError):
        return False
    part = df[(df["method"] == method) & (df["dataset"] == dataset)]
    for m in metrics:
        rows = part[part["metric"] == m]
        if rows.empty or set(rows["metric_version"]) != {str(METRICS[m].version)}:
            return False
        if not want["sequences"] <= set(rows["sequence"]):
            return False
    return True


def _score_one(results_dir: Path, recorded: dict, dataset: str, protocol, method: str, metrics: Sequence[str],
               say: Callable[[str], None]) -> str | None:
    """Score ``method``'s outputs on ``dataset`` under ``protocol`` into the cache (unless it holds them);
    None when done, else why it could not be."""
    from vsrbench.results.loading import load_results, recorded_paths
    from vsrbench.run.evaluation import EvaluateRequest, evaluate_outputs

    try:
        gt, pred, suite = recorded_paths(results_dir, method, dataset, recorded)
    except InputError:
        return "the run records do not say where its outputs or the GT are"
    for what, path in (("GT", gt), ("outputs", pred)):
        if not Path(path).exists():
            return f"its {what} are no longer on disk ({path})"
    stored = recorded.setdefault("_stored", load_results(results_dir))  # read once per table
    sequences = set(stored.loc[(stored["method"] == method) & (stored["dataset"] == dataset), "sequence"])
    store = cache_dir(results_dir, protocol)
    want = {"gt": str(Path(gt).resolve()), "pred": str(Path(pred).resolve()), "sequences": sequences}
    if _cached(store, protocol, method, dataset, metrics, want):
        return None
    preset, sets = protocol_request(protocol)
    degradation = recorded["datasets"].get(dataset, {}).get("degradation")
    key = hashlib.sha256(f"{method}\n{dataset}".encode()).hexdigest()[:12]
    clips = store / f"clips-{key}.txt"  # only the clips stored for it (a partition of a suite, a clip list)
    store.mkdir(parents=True, exist_ok=True)
    clips.write_text("".join(f"{name}\n" for name in sorted(sequences)), encoding="utf-8")
    say(f"vsrbench table: scoring {method} on {dataset} under {protocol.name} (the convention of published rows) "
        f"into {store}")
    request = EvaluateRequest(gt=str(gt), pred=str(pred), out=str(store), suite=suite, clips_only=suite is not None,
                              protocol=preset, overrides=sets, metrics=tuple(metrics), method=method, dataset=dataset,
                              degradation=degradation, no_resume=True, clips=str(clips) if sequences else None)
    try:
        with quiet():  # evaluate said it when the outputs were stored
            evaluate_outputs(request)
    except VsrbenchError as e:
        return " ".join(str(e).split())
    return None


def outputs_rescorer(results_dir: str | Path, *, say: Callable[[str], None] | None = None) -> Rescorer:
    """The rescorer of a results folder (see the module docstring); ``say`` gets its progress lines
    (default: stderr)."""
    from vsrbench.results.loading import load_results, recorded_inputs

    folder = Path(results_dir)
    say = say or (lambda line: print(line, file=sys.stderr))
    recorded = recorded_inputs(folder)

    def rescore(dataset: str, protocol, methods: Sequence[str], metrics: Sequence[str]) -> Rescored:
        missing = {}
        for method in methods:
            why = _score_one(folder, recorded, dataset, protocol, method, metrics, say)
            if why is not None:
                missing[method] = why
        done = [m for m in methods if m not in missing]
        frame = None
        if done:
            df = load_results(cache_dir(folder, protocol), protocol.hash)
            frame = df[(df["dataset"] == dataset) & df["method"].isin(done) & df["metric"].isin(list(metrics))]
            stored = recorded["_stored"]
            mine = stored.loc[stored["dataset"] == dataset, ["method", "sequence"]].drop_duplicates()
            frame = frame.merge(mine, on=["method", "sequence"], how="inner")  # the clips stored for each method
            frame = frame.reset_index(drop=True)
        return Rescored(frame, missing, f"{folder / CACHE_FOLDER}/<protocol hash>" if done else "")

    return rescore


def make_table(request) -> str:
    """``vsrbench table``: :func:`vsrbench.analysis.leaderboard.make_table`, with published rows ranked under
    their own conventions against the folder's outputs re-scored by :func:`outputs_rescorer`."""
    from vsrbench.analysis.leaderboard import make_table as leaderboard
    from vsrbench.results.store import find_results_dir

    if not request.published:
        return leaderboard(request)
    return leaderboard(request, rescore=outputs_rescorer(find_results_dir(request.results)))
