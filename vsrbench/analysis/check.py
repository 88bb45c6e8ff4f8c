"""Regression checks: compare per-sequence metric means with a stored baseline.

A baseline is a JSON file written by ``vsrbench check RESULTS --write-baseline BASELINE.json``::

    {"format": "vsrbench-baseline", "version": 1, "created": "...", "vsrbench_version": "...",
     "protocol": {"name": "tecogan", "hash": "1a2b3c4d5e6f"},
     "entries": [{"method": "DUF-52L", "dataset": "vid4", "sequence": "calendar",
                  "metric": "psnr", "metric_version": "1", "mean": 23.61, "frames": 6,
                  "nonfinite": 0}, ...]}

``mean`` is the mean of the sequence's finite per-frame values (``null`` when there are none);
``nonfinite`` counts the others (e.g. PSNR ``inf`` of identical frames). Means are written with
full precision (they read back bit-identical).

A value is within tolerance when ``|current - baseline| <= atol_m + rtol * |baseline|`` where
``atol_m`` is the metric's ``--tol metric=x`` or else ``--atol``; a ``--tol`` naming a metric that
neither side holds (a typo, a metric not stored) is refused, since it would test nothing. A (method, dataset, sequence,
metric) present on one side only, a changed count of non-finite values, or results without the
baseline's protocol hash is a mismatch. :func:`check_results` returns a :class:`CheckReport`;
the CLI exits 0 when it passes, 1 with a diff table when something moved or does not match, and
2 on unusable input (a missing file, bad JSON).

This module imports pandas only when reading a results folder (the pytest plugin imports it).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from vsrbench import __version__
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.text import text_table

if TYPE_CHECKING:
    import pandas as pd

BASELINE_FORMAT = "vsrbench-baseline"
BASELINE_VERSION = 1
DEFAULT_ATOL = 1e-6
GroupKey = tuple[str, str, str, str]  # (method, dataset, sequence, metric)


@dataclass(frozen=True)
class Entry:
    """The mean of one metric over one sequence."""

    method: str
    dataset: str
    sequence: str
    metric: str
    mean: float | None
    frames: int
    nonfinite: int = 0
    metric_version: str = ""

    @property
    def key(self) -> GroupKey:
        return (self.method, self.dataset, self.sequence, self.metric)


@dataclass(frozen=True)
class Diff:
    """One row of the diff table."""

    method: str
    dataset: str
    sequence: str
    metric: str
    baseline: float | None
    current: float | None
    diff: float | None
    tolerance: float | None
    note: str = ""


@dataclass
class CheckReport:
    """The outcome of a comparison: ``ok`` and the rows that moved or do not match."""

    compared: int = 0
    diffs: list[Diff] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diffs and not self.notes

    def text(self) -> str:
        """A readable report: a summary line, notes, and the diff table when something moved."""
        if self.ok:
            return f"ok: {self.compared} sequence mean(s) within tolerance"
        moved = sum(1 for d in self.diffs if not d.note)
        lines = [f"FAILED: {moved} of {self.compared} compared value(s) moved beyond tolerance, "
                 f"{len(self.diffs) - moved} mismatch(es)"]
        lines += [f"note: {n}" for n in self.notes]
        if self.diffs:
            lines.append(format_table(self.diffs))
        return "\n".join(lines)


# ---------------------------------------------------------------------- means

def mean_entry(method: str, dataset: str, sequence: str, metric: str, values: Iterable[float],
               metric_version: str = "") -> Entry:
    """An :class:`Entry` from per-frame values (non-finite ones counted, not averaged)."""
    vals = [float(v) for v in values]
    finite = [v for v in vals if math.isfinite(v)]
    mean = math.fsum(finite) / len(finite) if finite else None
    return Entry(method, dataset, sequence, metric, mean, len(vals), len(vals) - len(finite), str(metric_version))


def entries_from_frame(df: "pd.DataFrame") -> list[Entry]:
    """Per-sequence means of a :func:`vsrbench.results.loading.load_results` DataFrame (one protocol hash)."""
    from vsrbench.results.frame import require_one_protocol

    require_one_protocol(df)
    keys = ["method", "dataset", "sequence", "metric"]
    version = "metric_version" if "metric_version" in df else None
    out = []
    for key, group in df.groupby(keys, sort=False):
        v = str(group[version].iloc[0]) if version else ""
        out.append(mean_entry(*key, group["value"].to_numpy(), metric_version=v))
    return out


def _entries_from_results(results_dir: str | os.PathLike, protocol: str | None = None) -> tuple[list[Entry], dict]:
    """Per-sequence means of a results folder and the protocol ``{"name", "hash"}`` they use."""
    from vsrbench.results.loading import load_results

    df = load_results(results_dir, protocol)
    if df.empty:
        raise InputError(f"no results stored in {str(results_dir)!r}")
    from vsrbench.results.frame import require_one_protocol

    name, hash_ = require_one_protocol(df, source=results_dir)
    return entries_from_frame(df), {"name": name, "hash": hash_}


# ---------------------------------------------------------------------- baselines

def make_baseline(entries: Iterable[Entry], protocol: Mapping[str, Any] | None) -> dict[str, Any]:
    """A baseline document (see the module docstring)."""
    from vsrbench.results.store import now_iso

    return {
        "format": BASELINE_FORMAT,
        "version": BASELINE_VERSION,
        "created": now_iso(),
        "vsrbench_version": __version__,
        "protocol": dict(protocol) if protocol else {"name": None, "hash": None},
        "entries": [asdict(e) for e in entries],
    }


def write_baseline(path: str | os.PathLike, doc: Mapping[str, Any]) -> None:
    """Write a baseline document atomically (non-finite means are written as null)."""
    from vsrbench.core.io import atomic_write_text

    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    from vsrbench.results.store import writing

    with writing("write baseline", path, "choose another place for it"):
        atomic_write_text(path, text)


def write_baseline_from_results(results_dir: str | os.PathLike, path: str | os.PathLike,
                                protocol: str | None = None) -> dict[str, Any]:
    """Record the per-sequence means of a results folder as a baseline; returns the document."""
    entries, proto = _entries_from_results(results_dir, protocol)
    doc = make_baseline(entries, proto)
    write_baseline(path, doc)
    return doc


def read_baseline(path: str | os.PathLike) -> tuple[list[Entry], dict]:
    """Read and validate a baseline file; returns its entries and protocol."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"baseline file not found: {str(path)!r} (write one with --write-baseline)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"baseline {str(path)!r} is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != BASELINE_FORMAT:
        raise InputError(f"baseline {str(path)!r} is not a vsrbench baseline (expected \"format\": \"{BASELINE_FORMAT}\")")
    if doc.get("version") != BASELINE_VERSION:
        raise InputError(f"baseline {str(path)!r} has version {doc.get('version')!r}, expected {BASELINE_VERSION}")
    try:
        entries = [_entry(e) for e in doc["entries"]]
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"baseline {str(path)!r} has a malformed entry ({type(e).__name__}: {e})") from None
    protocol = doc.get("protocol") or {"name": None, "hash": None}
    return entries, protocol


def _entry(raw: Mapping[str, Any]) -> Entry:
    mean = raw["mean"]
    if mean is not None and not isinstance(mean, (int, float)):
        raise ValueError(f"mean must be a number or null, got {mean!r}")
    return Entry(str(raw["method"]), str(raw["dataset"]), str(raw["sequence"]), str(raw["metric"]),
                 None if mean is None else float(mean), int(raw["frames"]), int(raw.get("nonfinite", 0)),
                 str(raw.get("metric_version", "")))


# ---------------------------------------------------------------------- comparing

def parse_tolerances(items: Iterable[str] | str | None) -> dict[str, float]:
    """``["psnr=0.01,tlp=0.05", "ssim=1e-4"]`` -> ``{"psnr": 0.01, "tlp": 0.05, "ssim": 0.0001}``."""
    if isinstance(items, str):
        items = [items]
    out: dict[str, float] = {}
    for item in items or []:
        for part in filter(None, (p.strip() for p in item.split(","))):
            metric, sep, value = part.partition("=")
            try:
                tol = float(value) if sep else math.nan
            except ValueError:
                tol = math.nan
            if not metric.strip() or not tol >= 0:
                raise InputError(f"--tol expects METRIC=NUMBER (a number >= 0), got {part!r}")
            out[metric.strip()] = tol
    return out


def compare_entries(baseline: Iterable[Entry], current: Iterable[Entry], *, rtol: float = 0.0,
            atol: float = DEFAULT_ATOL, tol: Mapping[str, float] | None = None,
            tol_name: str = "--tol") -> CheckReport:
    """Compare current means with baseline means, entry by entry.

    A per-metric tolerance must name a metric of the baseline or the current results (see
    :func:`_check_tolerance_names`; ``tol_name`` is how the messages call ``tol``).
    """
    if not (rtol >= 0 and atol >= 0):
        raise InputError(f"tolerances must be >= 0, got rtol={rtol!r}, atol={atol!r}")
    tol = dict(tol or {})
    base = {e.key: e for e in baseline}
    cur = {e.key: e for e in current}
    _check_tolerance_names(tol, {k[3] for k in base} | {k[3] for k in cur}, tol_name=tol_name)
    report = CheckReport()
    for key, b in base.items():
        c = cur.get(key)
        if c is None:
            report.diffs.append(Diff(*key, b.mean, None, None, None, "missing in current results"))
            continue
        report.compared += 1
        allowed = tol.get(b.metric, atol) + rtol * abs(b.mean or 0.0)
        diff = _moved(b, c, allowed)
        if diff is not None:
            report.diffs.append(diff)
    report.diffs += [Diff(*k, None, c.mean, None, None, "not in baseline") for k, c in cur.items() if k not in base]
    return report


def _check_tolerance_names(tol: Mapping[str, float], stored: Iterable[str], *, tol_name: str = "--tol") -> None:
    """Refuse a tolerance that would apply to nothing: a misspelt metric name, or a metric that is
    in neither the baseline nor the results (a gate that silently tests nothing)."""
    stored = sorted(set(stored))
    for name in tol:
        if name in stored:
            continue
        from vsrbench.metrics import METRICS

        known = set(METRICS) | set(stored)
        if name not in known:
            raise UnknownNameError(f"{tol_name} metric", name, known)
        raise InputError(f"{tol_name}: metric {name!r} is in neither the baseline nor the results (they hold "
                         f"{', '.join(stored) or 'no metric'}); drop its tolerance or store {name} too")


def _moved(b: Entry, c: Entry, allowed: float) -> Diff | None:
    """A diff row when ``c`` is not within ``allowed`` of ``b`` (or its non-finite count changed)."""
    if b.nonfinite != c.nonfinite:
        note = f"non-finite values: {b.nonfinite} -> {c.nonfinite}"
        return Diff(*b.key, b.mean, c.mean, _sub(c.mean, b.mean), allowed, note)
    if b.mean is None and c.mean is None:
        return None
    d = _sub(c.mean, b.mean)
    if d is None or not abs(d) <= allowed:
        return Diff(*b.key, b.mean, c.mean, d, allowed, "" if d is not None else "no finite value on one side")
    return None


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def check_results(results_dir: str | os.PathLike, baseline_path: str | os.PathLike, *, rtol: float = 0.0,
                  atol: float = DEFAULT_ATOL, tol: Mapping[str, float] | None = None) -> CheckReport:
    """Compare a results folder with a baseline file (under the baseline's protocol hash)."""
    from vsrbench.results.loading import load_results

    baseline, protocol = read_baseline(baseline_path)
    current, notes = entries_under_protocol(load_results(results_dir), protocol)
    report = compare_entries(baseline, current, rtol=rtol, atol=atol, tol=tol)
    report.notes += notes
    return report


@dataclass(frozen=True)
class CheckRequest:
    """What ``vsrbench check`` does: compare ``results`` with the baseline file ``baseline``
    (tolerances ``rtol``, ``atol`` and ``tol`` per metric), or record the current means in
    ``write_baseline`` (under ``protocol`` when the folder holds several)."""

    results: str
    baseline: str | None = None
    write_baseline: str | None = None
    protocol: str | None = None
    rtol: float = 0.0
    atol: float = DEFAULT_ATOL
    tol: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckOutcome:
    """The text to show and whether everything matched (a baseline written is a match)."""

    text: str
    ok: bool


def check(request: CheckRequest) -> CheckOutcome:
    """Run ``request``: write its baseline, or compare the results folder with its baseline."""
    from vsrbench.results.store import find_results_dir

    results = find_results_dir(request.results)
    if request.write_baseline:
        doc = write_baseline_from_results(results, request.write_baseline, request.protocol)
        proto = doc["protocol"]
        return CheckOutcome(f"wrote {request.write_baseline}: {len(doc['entries'])} sequence mean(s), "
                            f"protocol {proto['name']} ({proto['hash']})", True)
    report = check_results(results, request.baseline, rtol=request.rtol, atol=request.atol, tol=dict(request.tol))
    return CheckOutcome(report.text(), report.ok)


def entries_under_protocol(df: "pd.DataFrame", protocol: Mapping[str, Any]) -> tuple[list[Entry], list[str]]:
    """Per-sequence means of the rows stored under ``protocol["hash"]`` (all rows when it is None).

    Returns the entries and notes (a note when no row has that hash).
    """
    if not protocol.get("hash") or "protocol_hash" not in df:
        return entries_from_frame(df), []
    stored = sorted(set(zip(df["protocol"], df["protocol_hash"])))
    df = df[df["protocol_hash"] == protocol["hash"]]
    if not df.empty:
        return entries_from_frame(df), []
    have = ", ".join(f"{n} ({h})" for n, h in stored) or "none"
    return [], [f"no results under the baseline's protocol {protocol.get('name')} ({protocol['hash']}); stored: {have}"]


def filter_entries(entries: Iterable[Entry], *, method: str | None = None, dataset: str | None = None,
           sequence: str | None = None) -> list[Entry]:
    """The entries matching every selector that is not None."""
    want = {"method": method, "dataset": dataset, "sequence": sequence}
    return [e for e in entries if all(v is None or getattr(e, k) == v for k, v in want.items())]


# ---------------------------------------------------------------------- the diff table

TABLE_HEADER = ("method", "dataset", "sequence", "metric", "baseline", "current", "diff", "tolerance", "note")


def format_table(diffs: Iterable[Diff]) -> str:
    """A plain-text table, columns aligned."""
    rows = [
        (d.method, d.dataset, d.sequence, d.metric, _num(d.baseline, ".10g"), _num(d.current, ".10g"),
         _num(d.diff, "+.3g"), _num(d.tolerance, ".3g"), d.note)
        for d in diffs
    ]
    return "\n".join(text_table(rows, header=TABLE_HEADER))


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


__all__ = [
    "Entry", "Diff", "CheckReport", "mean_entry", "entries_from_frame",
    "make_baseline", "write_baseline", "write_baseline_from_results", "read_baseline",
    "parse_tolerances", "compare_entries", "check_results", "CheckRequest", "CheckOutcome", "check", "entries_under_protocol", "filter_entries", "format_table",
]
