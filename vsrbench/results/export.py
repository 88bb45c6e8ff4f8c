"""Exports of a results folder: the per-frame rows as CSV or JSON, written atomically.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from vsrbench.core.errors import InputError
from vsrbench.results.loading import load_results, load_runs
from vsrbench.results.store import writing

__all__ = ["EXPORT_FORMATS", "ExportRequest", "export", "export_results", "json_number"]


# ---------------------------------------------------------------------- export

EXPORT_FORMATS = ("csv", "json")


def export_results(results_dir: str | os.PathLike, out: str | os.PathLike, *, fmt: str | None = None,
                   protocol: Any = None) -> int:
    """Write the per-frame results as CSV or JSON (atomically); returns the number of rows.

    CSV: one row per value, the columns of
    :func:`load_results` (``inf``/``-inf`` as is, NaN as an empty field). JSON: an object
    ``{"format": "vsrbench-results", "version": 1, "runs": [...], "results": [...]}``; since JSON has
    no infinities, non-finite values are the strings ``"Infinity"``, ``"-Infinity"``, ``"NaN"``.

    Parameters
    ----------
    results_dir : str or os.PathLike
        The results folder (the ``--out`` of ``vsrbench run``).
    out : str or os.PathLike
        The file to write (replaced atomically: a reader never sees half a file).
    fmt : str, optional
        ``"csv"`` or ``"json"``; defaults to the extension of ``out``.
    protocol : str or Protocol, optional
        Exports one protocol's rows (a preset name, a hash or a protocol object), as for
        :func:`load_results`; ``None`` exports every protocol.

    Returns
    -------
    int
        The number of per-frame rows written.

    Raises
    ------
    vsrbench.core.errors.InputError
        A format other than ``csv``/``json``, the errors of :func:`load_results`, or ``out`` that
        cannot be written (one line naming it and the cause).

    Examples
    --------
    Reads a results folder written by ``vsrbench run BENCH.toml --out results``::

        from vsrbench import export_results
        export_results("results", "frames.csv")  # CSV, from the extension; returns the row count
        export_results("results", "all.json", protocol="tecogan")  # with the run records
    """
    from vsrbench.core.io import atomic_write_text

    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    df = load_results(results_dir, protocol)
    if fmt == "csv":
        text = df.to_csv(index=False, lineterminator="\n")
    else:
        runs = load_runs(results_dir)
        doc = {
            "format": "vsrbench-results",
            "version": 1,
            "runs": [_json_safe(r) for r in runs.to_dict(orient="records")],
            "results": [_json_safe(r) for r in df.to_dict(orient="records")],
        }
        text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    with writing("write", out, "choose another --out"):
        atomic_write_text(out, text)
    return len(df)


@dataclass(frozen=True)
class ExportRequest:
    """What ``vsrbench export`` writes: the per-frame results of ``results`` (a results folder, or a
    folder with one sub-folder that holds one) to ``out`` as ``fmt`` (default: from the extension),
    only those of ``protocol`` when given."""

    results: str
    out: str
    fmt: str | None = None
    protocol: str | None = None


def export(request: ExportRequest) -> int:
    """Run ``request`` with :func:`export_results`; returns the number of rows written."""
    from vsrbench.results.store import find_results_dir

    return export_results(find_results_dir(request.results), request.out, fmt=request.fmt,
                          protocol=request.protocol)


def json_number(value: float) -> float | str:
    """A float as JSON allows it: finite values as numbers, the others as strings."""
    v = float(value)
    if math.isfinite(v):
        return v
    return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


def _json_safe(record: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in record.items():
        if hasattr(v, "item"):  # numpy scalar
            v = v.item()
        out[k] = json_number(v) if isinstance(v, float) else v
    return out
