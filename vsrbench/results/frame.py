"""The results frame: checks and selections on the long DataFrame of per-frame results
(:func:`vsrbench.results.loading.load_results`) that tables, statistics, plots and checks share.
"""
from __future__ import annotations

import os
from typing import Iterable, Sequence

import pandas as pd

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.metrics import METRICS

__all__ = [
    "REQUIRED_COLUMNS", "require_columns", "require_one_protocol", "rows_of_dataset", "check_metric_versions",
    "resolve_metrics", "ordered",
]

REQUIRED_COLUMNS = ("method", "dataset", "sequence", "frame", "metric", "value", "protocol", "protocol_hash",
                    "metric_version")


# ------------------------------------------------------------------ selecting and averaging

def require_columns(df: pd.DataFrame) -> None:
    """Raise InputError unless ``df`` has the columns of :func:`vsrbench.results.loading.load_results` and rows."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"results: expected columns {', '.join(REQUIRED_COLUMNS)}; missing {', '.join(missing)}")
    if df.empty:
        raise InputError("results: no stored rows (run a benchmark first)")


def require_one_protocol(df: pd.DataFrame, *, source: str | os.PathLike | None = None) -> tuple[str, str] | None:
    """The ``(name, hash)`` of the one protocol of results ``df``; InputError when they mix protocols.

    The one check, and the one message, for "numbers of different protocols are never averaged
    or compared together" (tables, plots, ``vsrbench check``, the pytest plugin). ``source``
    (a results folder) is named in the message. None when ``df`` has no rows or no
    ``protocol_hash`` column (a frame that did not come from :func:`vsrbench.results.loading.load_results`).
    """
    if "protocol_hash" not in df.columns or df.empty:
        return None
    names = df["protocol"] if "protocol" in df.columns else pd.Series("?", index=df.index)
    pairs = sorted(set(zip(names.astype(str), df["protocol_hash"].astype(str))))
    if len(pairs) == 1:
        return pairs[0]
    where = f" in {str(source)!r}" if source is not None else ""
    datasets = set(df["dataset"]) if "dataset" in df.columns else set()
    if len(datasets) == 1:
        where += f" for dataset {next(iter(datasets))!r}"
    mixed = ", ".join(f"{n} ({h})" for n, h in pairs)
    choices = " or ".join(f"--protocol {n}" for n in dict.fromkeys(n for n, _ in pairs))
    raise InputError(f"protocol: results{where} mix protocols {mixed}; numbers of different protocols are not "
                     f"comparable; choose one with {choices}")


def rows_of_dataset(df: pd.DataFrame, *, dataset: str | None = None) -> pd.DataFrame:
    """Rows of one dataset (all when None); refuses results that mix protocols within a dataset.

    Choose a protocol when loading: ``load_results(results_dir, protocol)`` (CLI: ``--protocol``).
    Different datasets may use different protocols (each dataset is its own table).
    """
    require_columns(df)
    if dataset is not None:
        if dataset not in set(df["dataset"]):
            raise UnknownNameError("dataset", dataset, set(df["dataset"]))
        df = df[df["dataset"] == dataset]
    for _, part in df.groupby("dataset", sort=True):
        require_one_protocol(part)
    return df


def check_metric_versions(df: pd.DataFrame, metrics: Sequence[str]) -> None:
    for m in metrics:
        versions = df.loc[df["metric"] == m, ["method", "metric_version"]].drop_duplicates()
        if versions["metric_version"].nunique() > 1:
            who = "; ".join(f"{meth}: {v}" for meth, v in versions.itertuples(index=False))
            raise InputError(f"metric {m!r} was scored by different versions ({who}); re-score the older results")


def resolve_metrics(df: pd.DataFrame, metrics: Iterable[str] | None = None) -> list[str]:
    """The metrics to show: the given ones (checked), or every stored one in registry order."""
    stored = set(df["metric"])
    if metrics is None:
        for m in stored:
            METRICS[m]  # an unknown stored metric raises UnknownNameError
        return [m for m in METRICS if m in stored]
    chosen = list(dict.fromkeys(metrics))
    if not chosen:
        raise InputError("metrics: expected at least one metric name, got none")
    for m in chosen:
        METRICS[m]  # typo -> UnknownNameError with did-you-mean
        if m not in stored:
            raise InputError(f"metrics: {m!r} has no stored results (stored: {', '.join(sorted(stored))})")
    return chosen


def ordered(values: pd.Series) -> list[str]:
    """Distinct values in order of first appearance (the order the benchmark ran them)."""
    return list(dict.fromkeys(values.tolist()))
