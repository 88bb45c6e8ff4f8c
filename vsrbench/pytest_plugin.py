"""pytest plugin: assert a model's metrics against a stored vsrbench baseline.

Installed with vsrbench (entry point ``pytest11``), so any project's test suite can write::

    def test_my_model_is_stable(vsrbench_baseline, tmp_path):
        scores = evaluate_sequence(my_model(lr), gt, protocol="tecogan", metrics=["psnr", "ssim"])
        vsrbench_baseline(scores, "baselines/my_model.json", tol={"psnr": 0.01})

The path is relative to the test file's folder. ``pytest --vsrbench-update-baselines`` writes
(or rewrites) the baselines from the current values instead of comparing. Without pytest
fixtures, call :func:`assert_matches_baseline` directly.

What can be compared (``results_or_scores``):

- a results folder (``vsrbench run ... --out RESULTS``) or a :func:`~vsrbench.results.loading.load_results`
  DataFrame: every per-sequence mean, under the baseline's protocol hash;
- one sequence's scores: a ``SequenceScores`` (from ``evaluate_sequence``) or a mapping
  ``{metric: value}``, compared with the one (method, dataset, sequence) of the baseline that the
  ``method=`` / ``dataset=`` / ``sequence=`` selectors leave.

This module imports neither torch nor pandas (it is loaded by every pytest run).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from vsrbench.analysis.check import CheckReport, Entry

__all__ = [
    "UPDATE_OPTION", "DEFAULT_NAME", "pytest_addoption", "assert_matches_baseline", "write_baseline_for",
    "vsrbench_baseline",
]

UPDATE_OPTION = "--vsrbench-update-baselines"
DEFAULT_NAME = "default"  # method / dataset / sequence names of a baseline written from one sequence's scores


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vsrbench")
    group.addoption(UPDATE_OPTION, action="store_true", default=False,
                    help="write vsrbench baselines from the current values instead of comparing with them")


def assert_matches_baseline(
    results_or_scores: Any,
    baseline_path: str | os.PathLike,
    tol: Mapping[str, float] | str | float | None = None,
    *,
    rtol: float = 0.0,
    atol: float | None = None,
    method: str | None = None,
    dataset: str | None = None,
    sequence: str | None = None,
) -> "CheckReport":
    """Raise AssertionError (with the diff table) unless the values match the baseline.

    ``tol``: per-metric absolute tolerances (``{"psnr": 0.01}`` or ``"psnr=0.01,tlp=0.05"``), or
    one number for every metric. ``atol`` (default 1e-6) applies to metrics without their own
    tolerance, ``rtol`` to all. A per-metric tolerance for a metric neither side holds (a typo: with
    a did-you-mean) raises :class:`~vsrbench.core.errors.InputError`. Returns the
    :class:`~vsrbench.analysis.check.CheckReport` when it passes.
    """
    from vsrbench.analysis.check import DEFAULT_ATOL, compare_entries, parse_tolerances, read_baseline, filter_entries

    baseline, protocol = read_baseline(baseline_path)
    baseline = filter_entries(baseline, method=method, dataset=dataset, sequence=sequence)
    if isinstance(tol, (int, float)):
        atol, tol = float(tol), None
    per_metric = parse_tolerances(tol) if isinstance(tol, str) else dict(tol or {})
    current, notes = _current(results_or_scores, baseline, protocol, method, dataset, sequence)
    report = compare_entries(baseline, current, rtol=rtol, atol=DEFAULT_ATOL if atol is None else atol, tol=per_metric,
                             tol_name="tol")
    report.notes += notes
    if not report.ok:
        raise AssertionError(f"metrics do not match baseline {str(baseline_path)!r}:\n{report.text()}")
    return report


def write_baseline_for(results_or_scores: Any, baseline_path: str | os.PathLike, *, method: str | None = None,
                       dataset: str | None = None, sequence: str | None = None) -> None:
    """Write a baseline from a results folder, a results DataFrame or one sequence's scores."""
    from vsrbench.analysis.check import make_baseline, write_baseline, write_baseline_from_results

    if isinstance(results_or_scores, (str, os.PathLike)):
        write_baseline_from_results(results_or_scores, baseline_path)
        return
    if _is_frame(results_or_scores):
        from vsrbench.analysis.check import entries_from_frame

        entries = entries_from_frame(results_or_scores)
        protocol = _frame_protocol(results_or_scores)
    else:
        key = (method or DEFAULT_NAME, dataset or DEFAULT_NAME, sequence or DEFAULT_NAME)
        entries = _score_entries(results_or_scores, key)
        protocol = _scores_protocol(results_or_scores)
    write_baseline(baseline_path, make_baseline(entries, protocol))


@pytest.fixture
def vsrbench_baseline(request: pytest.FixtureRequest) -> Callable[..., "CheckReport | None"]:
    """``vsrbench_baseline(results_or_scores, "baseline.json", tol=None, **options)``.

    Compares with (or, under ``--vsrbench-update-baselines``, writes) a baseline whose relative path
    is taken from the test file's folder. Options are those of :func:`assert_matches_baseline`.
    """
    update = request.config.getoption(UPDATE_OPTION)
    here = Path(str(request.node.path)).parent

    def check(results_or_scores: Any, baseline: str | os.PathLike, tol: Any = None, **options: Any):
        path = Path(baseline) if Path(baseline).is_absolute() else here / baseline
        if update:
            selectors = {k: options.get(k) for k in ("method", "dataset", "sequence")}
            write_baseline_for(results_or_scores, path, **selectors)
            return None
        if not path.is_file():
            pytest.fail(f"vsrbench baseline {str(path)!r} not found; run pytest {UPDATE_OPTION} to write it",
                        pytrace=False)
        return assert_matches_baseline(results_or_scores, path, tol, **options)

    return check


# ---------------------------------------------------------------------- current values

def _current(obj: Any, baseline: list["Entry"], protocol: Mapping[str, Any], method: str | None,
             dataset: str | None, sequence: str | None) -> tuple[list["Entry"], list[str]]:
    from vsrbench.analysis.check import entries_under_protocol, filter_entries

    selectors = dict(method=method, dataset=dataset, sequence=sequence)
    if isinstance(obj, (str, os.PathLike)):
        from vsrbench.results.loading import load_results

        obj = load_results(obj)
    if _is_frame(obj):
        entries, notes = entries_under_protocol(obj, protocol)
        return filter_entries(entries, **selectors), notes
    groups = sorted({e.key[:3] for e in baseline})
    if len(groups) != 1:
        listed = ", ".join("/".join(g) for g in groups) or "none"
        raise AssertionError(
            f"one sequence's scores need one (method, dataset, sequence) in the baseline; the selectors "
            f"{ {k: v for k, v in selectors.items() if v is not None} } leave {len(groups)} ({listed}): "
            "pass method=, dataset= or sequence="
        )
    notes = _protocol_notes(obj, protocol)
    return _score_entries(obj, groups[0]), notes


def _score_entries(obj: Any, key: tuple[str, str, str]) -> list["Entry"]:
    """Entries from a SequenceScores (its per-frame rows) or a {metric: value} mapping."""
    from vsrbench.analysis.check import mean_entry

    if hasattr(obj, "rows"):
        per_metric: dict[str, list[float]] = {}
        for _, metric, value in obj.rows:
            per_metric.setdefault(metric, []).append(value)
    elif isinstance(obj, Mapping):
        per_metric = {str(m): [v] for m, v in obj.items()}
    else:
        raise TypeError(
            "expected a results folder, a load_results DataFrame, a SequenceScores or a {metric: value} "
            f"mapping, got {type(obj).__name__}"
        )
    return [mean_entry(*key, metric, values) for metric, values in per_metric.items()]


def _scores_protocol(obj: Any) -> dict[str, Any] | None:
    proto = getattr(obj, "protocol", None)
    if proto is not None and hasattr(proto, "hash"):
        return {"name": proto.name, "hash": proto.hash}
    return None


def _protocol_notes(obj: Any, protocol: Mapping[str, Any]) -> list[str]:
    mine = _scores_protocol(obj)
    if mine and protocol.get("hash") and mine["hash"] != protocol["hash"]:
        return [f"scores use protocol {mine['name']} ({mine['hash']}), the baseline "
                f"{protocol.get('name')} ({protocol['hash']})"]
    return []


def _is_frame(obj: Any) -> bool:
    return hasattr(obj, "columns") and hasattr(obj, "groupby")


def _frame_protocol(df: Any) -> dict[str, Any] | None:
    from vsrbench.results.frame import require_one_protocol

    pair = require_one_protocol(df)
    return None if pair is None else {"name": pair[0], "hash": pair[1]}
