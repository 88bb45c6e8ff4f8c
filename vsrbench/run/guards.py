"""The checks of a run against what its results folder holds, made before anything is written.

A method's or dataset's outputs and scores are stored under its name: a definition that changed
(:func:`check_definitions`) or a weights file whose content changed (:func:`check_weights`) would
otherwise report old numbers under the new setting, or mix two settings in one table.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from vsrbench.catalog.benchfile import Benchmark
from vsrbench.core.errors import InputError, os_error
from vsrbench.core.io import atomic_write_text
from vsrbench.core.weights import sha256_cached
from vsrbench.results.loading import refuse_mixed_lpips_files
from vsrbench.results.locks import LOCKS_DIR, ProcessLock
from vsrbench.results.session import WRITABLE_HINT
from vsrbench.results.store import ResultsStore

__all__ = ["DEFINITIONS_FILE", "check_definitions", "check_weights"]

DEFINITIONS_FILE = "definitions.json"
# definition fields that do not change a method's or dataset's frames
_FREE_FIELDS = {"methods": ("reported", "description", "device", "datasets"),
                "datasets": ("sequences", "suite", "protocol")}  # protocols key the scores, not the outputs


def check_definitions(bench: Benchmark, results_dir: Path) -> None:
    """Refuse a dataset or method whose definition changed since it was run into this folder, then
    record the definitions in ``definitions.json``.

    Its outputs and scores are stored under its name; reusing them for a new definition
    (other weights, command, outputs folder, degradation, ...) would report old numbers under
    the new setting. Fields that do not change frames (reported numbers, description, device,
    the dataset list of a method, the sequence list of a dataset) may change freely, and an
    ``outputs`` table may gain datasets.
    """
    if results_dir.exists() and not results_dir.is_dir():
        raise InputError(f"results folder {str(results_dir)!r} is a file, not a folder")
    try:
        with ProcessLock(results_dir / LOCKS_DIR / "definitions.lock"):  # runs read and merge it in turn
            _merge_definitions(bench, results_dir)
    except OSError as e:  # e.g. a read-only folder: name it, not a temporary file in it
        raise os_error(e, "write results folder", results_dir, WRITABLE_HINT) from None


def _merge_definitions(bench: Benchmark, results_dir: Path) -> None:
    path = results_dir / DEFINITIONS_FILE
    plain = bench.to_dict()
    current = {kind: {name: {k: v for k, v in d.items() if k not in _FREE_FIELDS[kind]}
                      for name, d in plain[kind].items()} for kind in ("datasets", "methods")}
    try:
        stored = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        raise InputError(f"{str(path)!r} is not valid JSON; it records what was run into this folder "
                         "(restore it, or use a new results folder)") from None
    for kind, defs in current.items():
        for name, new in defs.items():
            old = stored.get(kind, {}).get(name)
            changed = _changed_fields(old, new) if old is not None else []
            if changed:
                raise InputError(
                    f"{kind[:-1]} {name!r} was run into {str(results_dir)!r} with a different "
                    f"{', '.join(changed)}; its stored outputs and scores belong to that definition: "
                    "give it a new name or use a new results folder")
    merged = {kind: {**stored.get(kind, {}), **{n: _merge_outputs(stored.get(kind, {}).get(n), d)
                                                 for n, d in current[kind].items()}} for kind in current}
    atomic_write_text(path, json.dumps(merged, indent=2, sort_keys=True) + "\n")


def _changed_fields(old: dict, new: dict) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if key == "outputs" and isinstance(a, dict) and isinstance(b, dict):
            out += [f"outputs.{d}" for d in sorted(set(a) & set(b)) if a[d] != b[d]]
        elif a != b:
            out.append(key)
    return out


def _merge_outputs(old: dict | None, new: dict) -> dict:
    """A method's recorded definition after this run: ``outputs`` keeps datasets it ran before."""
    if old and isinstance(old.get("outputs"), dict) and isinstance(new.get("outputs"), dict):
        return {**new, "outputs": {**old["outputs"], **new["outputs"]}}
    return new


def check_weights(bench: Benchmark, results_dir: Path, store: ResultsStore, versions: Mapping[str, str]) -> None:
    """Refuse weights files whose content differs from those the stored results were made with.

    Paths are definitions (:func:`check_definitions`); this compares contents (sha256) with
    the ``runs.weights`` of the earlier runs, which would otherwise be reused or mixed silently:

    - LPIPS/tLP of this protocol and metric version stored in the folder (any method) were
      computed by runs whose LPIPS backbone or linear-layer file had another sha256;
    - a ``model`` method whose ``weights`` file has another sha256 than the one an earlier run
      recorded for it, while outputs or scores of that method are stored.

    Runs that recorded no sha256 (older stores) are not compared. Nothing is written before.
    """
    recorded = store.weights_of_runs()
    where = f"{str(results_dir)!r}"
    lp = [m for m in ("lpips", "tlp") if m in bench.metrics]
    if lp and recorded:
        from vsrbench.core.errors import WeightsError
        from vsrbench.metrics.lpips import lpips_weights_record

        protocol = bench.protocol
        try:
            current = lpips_weights_record(protocol.lpips_net, protocol.lpips_version, bench.lpips_weights)
        except WeightsError:
            current = None  # the run stops with this one-line error (recorded as a failed run)
        hashes = sorted({(protocol if d.protocol is None else d.protocol).hash for d in bench.datasets.values()}
                        | {protocol.hash})
        refuse_mixed_lpips_files(store, where, current, {m: versions[m] for m in lp}, hashes)
    for method in bench.methods.values():
        if method.kind == "model" and method.weights is not None and Path(method.weights).is_file():
            _check_model_weights(method, results_dir, store, recorded, where)


def _check_model_weights(method, results_dir: Path, store: ResultsStore, recorded: dict, where: str) -> None:
    """A model method's weights file against the sha256 the earlier runs recorded for it."""
    olds = [(r, w[method.name]) for r, w in sorted(recorded.items())
            if isinstance(w.get(method.name), dict) and w[method.name].get("sha256")]
    if not olds:
        return
    new = sha256_cached(method.weights)
    changed = [(r, w) for r, w in olds if w["sha256"] != new]
    outputs = (results_dir / "outputs" / method.name).glob("*/*")  # dataset/sequence folders
    stored = (any(not p.name.startswith(".") for p in outputs)
              or store.query("SELECT 1 FROM completed WHERE method = ? LIMIT 1", [method.name]))
    if changed and stored:
        run_id, old = changed[0]
        raise InputError(
            f"method {method.name!r}: its outputs and scores stored in {where} were made (run {run_id}) "
            f"with weights sha256 {old['sha256'][:12]}, but {str(method.weights)!r} now has sha256 "
            f"{new[:12]}; restore that file, or give the method a new name, or use another --out "
            f"(or move {where} away) to run it with the new file")
