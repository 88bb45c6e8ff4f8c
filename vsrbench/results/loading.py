"""Reading a results folder: the per-frame rows and run records as DataFrames, and the inputs the
run records name (where each dataset's GT and each method's outputs are).

Readers open the store read-only (:func:`read_store`) and never create, migrate or change it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from vsrbench.core.errors import InputError
from vsrbench.results.store import DEFAULT_TIMEOUT_S, JSON_RUN_FIELDS, RESULT_COLUMNS, RUN_COLUMNS, ResultsStore

__all__ = [
    "load_results", "read_store", "load_runs", "refuse_mixed_lpips_files", "recorded_inputs", "outputs_path",
    "recorded_paths",
]


if TYPE_CHECKING:  # pandas is imported lazily: the pytest plugin imports this module
    import pandas as pd


# ---------------------------------------------------------------------- loading

def load_results(
    results_dir: str | os.PathLike,
    protocol: Any = None,
    *,
    metric_versions: str = "latest",
    timeout: float = DEFAULT_TIMEOUT_S,
) -> "pd.DataFrame":
    """All per-frame results of a results folder as a long DataFrame.

    The store is opened read-only: nothing is created, migrated or changed.

    Parameters
    ----------
    results_dir : str or os.PathLike
        The results folder (the ``--out`` of ``vsrbench run``).
    protocol : str or Protocol, optional
        Selects one protocol: a preset name (every hash stored under that name), a
        protocol hash, or a protocol object (its ``.hash``); ``None`` returns every protocol (check
        the ``protocol_hash`` column before averaging).
    metric_versions : str
        ``"latest"`` keeps, for each (method, dataset, sequence, metric, protocol hash), only the
        version stored most recently; ``"all"`` returns every version.
    timeout : float
        Seconds to wait for a writer's lock on the store.

    Returns
    -------
    pandas.DataFrame
        Columns: ``method, dataset, sequence, frame, frame_name, pred_name, metric, value, protocol,
        protocol_hash, metric_version``, in the order they were stored (``frame_name`` is the GT frame's
        file name, ``pred_name`` the output frame's scored against it: None in rows stored before
        schema 3, and where no output file was named).

    Raises
    ------
    vsrbench.core.errors.InputError
        No results store in ``results_dir``, a store that is unreadable, corrupted, of a newer schema
        or still locked after ``timeout``, no results under ``protocol``, or ``metric_versions``
        other than ``"latest"`` or ``"all"``.

    Examples
    --------
    Reads a results folder written by ``vsrbench run BENCH.toml --out results``::

        from vsrbench import load_results
        df = load_results("results", protocol="tecogan")
        df[df.metric == "psnr"].groupby(["method", "dataset", "sequence"])["value"].mean()
    """
    import pandas as pd

    if metric_versions not in ("latest", "all"):
        raise InputError(f"metric_versions must be 'latest' or 'all', got {metric_versions!r}")

    def read(store: ResultsStore) -> tuple[list, list]:
        where, params = _protocol_filter(store, protocol)
        rows = store.query(f"SELECT {store.result_columns()}, run_id FROM results{where} ORDER BY rowid", params)
        marks = store.query(
            f"SELECT method, dataset, sequence, metric, protocol_hash, metric_version, run_id FROM completed{where} "
            "ORDER BY run_id, rowid", params,
        )
        return rows, marks

    rows, marks = read_store(results_dir, read, timeout=timeout)
    df = pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "run_id"])
    df["frame"] = df["frame"].astype("int64")
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    if metric_versions == "latest" and len(df):
        df = _latest_versions(df, marks)
    return df.drop(columns="run_id").reset_index(drop=True)


def read_store(results_dir: str | os.PathLike, read: Any, *, timeout: float = DEFAULT_TIMEOUT_S) -> Any:
    """``read(store)`` on the store opened read-only (never created or changed); read again under
    SQLite's locks when a writer changed the file during an unlocked read."""
    for shared in (False, True):
        with ResultsStore(results_dir, create=False, timeout=timeout, readonly=True, _shared=shared) as store:
            out = read(store)
            if not store.changed_while_read():
                return out
    return out


def _protocol_filter(store: ResultsStore, protocol: Any) -> tuple[str, tuple]:
    if protocol is None:
        return "", ()
    key = getattr(protocol, "hash", protocol)
    if not isinstance(key, str):
        raise InputError(f"protocol must be a name, a hash or a protocol object, got {type(protocol).__name__}")
    stored = store.query("SELECT DISTINCT protocol, protocol_hash FROM completed ORDER BY protocol, protocol_hash")
    if not any(key in pair for pair in stored):
        have = ", ".join(f"{n} ({h})" for n, h in stored) or "none"
        raise InputError(f"no results for protocol {key!r} in {str(store.results_dir)!r} (stored: {have})")
    return " WHERE protocol = ? OR protocol_hash = ?", (key, key)


def _latest_versions(df: "pd.DataFrame", marks: list[tuple]) -> "pd.DataFrame":
    """Keep each (method, dataset, sequence, metric, protocol hash)'s most recently stored version."""
    import pandas as pd

    key = ["method", "dataset", "sequence", "metric", "protocol_hash"]
    m = pd.DataFrame(marks, columns=[*key, "metric_version", "run_id"])
    latest = m.drop_duplicates(subset=key, keep="last")[[*key, "metric_version"]]
    return df.merge(latest, on=[*key, "metric_version"], how="inner")


def load_runs(results_dir: str | os.PathLike, *, timeout: float = DEFAULT_TIMEOUT_S) -> "pd.DataFrame":
    """The run records of a results folder (JSON fields decoded), oldest first."""
    import pandas as pd

    rows = read_store(results_dir, lambda store: store.query(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY run_id"),
                      timeout=timeout)
    records = [dict(zip(RUN_COLUMNS, r)) for r in rows]
    for rec in records:
        for k in JSON_RUN_FIELDS:
            rec[k] = json.loads(rec[k]) if rec[k] is not None else None
    return pd.DataFrame(records, columns=list(RUN_COLUMNS))


def refuse_mixed_lpips_files(store: "ResultsStore", where: str, current: Mapping[str, Any] | None,
                             versions: Mapping[str, str], hashes: Sequence[str],
                             exclude: tuple[str, str] | None = None) -> None:
    """Refuse, in one line, to add LPIPS/tLP scores made with other LPIPS files than those already stored.

    ``current`` is this run's record of the files (``metrics.lpips.lpips_weights_record``), ``versions``
    the metric versions of the LPIPS metrics it scores (``{"lpips": v, "tlp": v}``, those it scores
    only), ``hashes`` the protocol hashes it scores under; ``exclude`` leaves out one (method, dataset)
    whose scores are about to be replaced. Runs that recorded no sha256 (older stores) are not compared.
    """
    lp = [m for m in ("lpips", "tlp") if m in versions]
    recorded = store.weights_of_runs()
    if not lp or not recorded or not hashes:
        return
    skip = " AND NOT (method = ? AND dataset = ?)" if exclude else ""
    marks = store.query(
        f"SELECT DISTINCT metric, run_id FROM completed WHERE protocol_hash IN ({', '.join('?' for _ in hashes)})"
        " AND (" + " OR ".join("(metric = ? AND metric_version = ?)" for _ in lp) + ")" + skip + " ORDER BY run_id",
        [*hashes, *[x for m in lp for x in (m, versions[m])], *(exclude or ())])
    for key, label in (("lpips:backbone", "LPIPS backbone"), ("lpips:linear", "LPIPS linear-layer file")):
        for run_id in dict.fromkeys(r for _, r in marks):
            old = recorded.get(int(run_id), {}).get(key) or {}
            new = (current or {}).get(key) or {}
            if old.get("sha256") and new.get("sha256") and old["sha256"] != new["sha256"]:
                metrics = sorted({m for m, r in marks if r == run_id}, key=lp.index)
                raise InputError(
                    f"{'/'.join(metrics)} scores stored in {where} were computed (run {run_id}) with "
                    f"{label} sha256 {old['sha256'][:12]} ({old.get('path')!r}), this run's "
                    f"{new.get('path')!r} has sha256 {new['sha256'][:12]}: scores of two files must not be "
                    f"mixed; use the same file again, or another --out (or move {where} away) to score "
                    "everything with the new one")


def recorded_inputs(results_dir: str | os.PathLike) -> dict[str, dict]:
    """Where a results folder's frames are, from all its run records (``vsrbench run`` and
    ``vsrbench evaluate`` record their datasets and methods alike; later runs win per entry):
    ``{"datasets": {D: {"gt", "lr", "suite", "degradation", ...}}, "outputs": {M: {D: path}}}``.
    A model method's outputs are not recorded there: the runner writes them to
    ``RESULTS/outputs/M/D`` (see :func:`outputs_path`)."""
    datasets: dict[str, dict] = {}
    outputs: dict[str, dict[str, str]] = {}
    for bench in load_runs(results_dir)["bench"]:
        if not isinstance(bench, dict):
            continue
        for name, spec in (bench.get("datasets") or {}).items():
            if isinstance(spec, dict):
                datasets[name] = {**datasets.get(name, {}), **{k: v for k, v in spec.items() if v is not None}}
        for method, spec in (bench.get("methods") or {}).items():
            given = spec.get("outputs") if isinstance(spec, dict) else None
            if isinstance(given, dict):
                outputs.setdefault(method, {}).update({d: p for d, p in given.items() if p})
    return {"datasets": datasets, "outputs": outputs}


def outputs_path(results_dir: str | os.PathLike, recorded: dict, method: str, dataset: str) -> Path | None:
    """The folder of ``method``'s outputs on ``dataset``: the recorded ``outputs`` folder, else the one
    the runner wrote (``RESULTS/outputs/METHOD/DATASET``), else None."""
    given = recorded["outputs"].get(method, {}).get(dataset)
    if given:
        return Path(given)
    made = Path(results_dir) / "outputs" / method / dataset
    return made if made.is_dir() else None


def recorded_paths(results_dir: str | os.PathLike, method: str, dataset: str,
                   recorded: dict | None = None) -> tuple[Path, Path, str | None]:
    """GT folder, output folder and suite (or None) of ``method`` on ``dataset`` from the run records
    (:func:`recorded_inputs`, pass it to read the records once for many methods); an InputError
    when the records do not say where the GT or the outputs are."""
    recorded = recorded_inputs(results_dir) if recorded is None else recorded
    spec = recorded["datasets"].get(dataset, {})
    gt = spec.get("gt")
    pred = outputs_path(results_dir, recorded, method, dataset)
    if gt is None or pred is None:
        missing = " and ".join(w for w, v in (("GT", gt), ("outputs", pred)) if v is None)
        raise InputError(f"the run records of {str(results_dir)!r} do not say where the {missing} of {method!r} "
                         f"on {dataset!r} are")
    return Path(gt), pred, spec.get("suite")
