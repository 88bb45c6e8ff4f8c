"""The leaderboard of a results folder as text: what ``vsrbench table`` asks for, in one request.

:func:`make_table` reads the folder, adds what the request asks for (the numbers the authors
reported, the published rows, intervals and significance marks), builds one table per dataset
(:func:`~vsrbench.analysis.tables.build_tables`), renders them
(:func:`~vsrbench.analysis.render.render_tables`) and writes them to ``out`` when one is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["TableRequest", "make_table"]


@dataclass(frozen=True)
class TableRequest:
    """What a leaderboard shows and where it goes.

    ``statistics`` holds the :func:`~vsrbench.analysis.tables.build_tables` keywords of the
    intervals and the significance marks (``ci``, ``against``, ``level``, ``ci_style``, ``test``,
    ``alpha``, ``resamples``, ``seed``); ``published_file`` is read only with ``published``;
    ``out``: write the text there (atomically) as well as returning it.
    """

    results: str
    fmt: str = "markdown"
    protocol: str | None = None
    dataset: str | None = None
    metrics: tuple[str, ...] | None = None
    average: str = "seq_avg"
    per_sequence: bool = False
    reported: bool = False
    published: bool = False
    published_file: str | None = None
    statistics: Mapping[str, Any] = field(default_factory=dict)
    standalone: bool = False
    out: str | None = None


def make_table(request: TableRequest, *, rescore=None) -> str:
    """The rendered tables of ``request`` (one per dataset), also written to ``request.out`` when given.

    With ``request.published`` the published rows are ranked under their own conventions
    (:func:`vsrbench.analysis.convention_blocks.with_conventions`), your numbers under each from
    ``rescore`` (:func:`vsrbench.rescore.outputs_rescorer` in ``vsrbench table``; None: only the
    block of the stored protocol has your numbers)."""
    from vsrbench.analysis.published_rows import dataset_info
    from vsrbench.analysis.render import render_tables
    from vsrbench.analysis.tables import build_tables, reported_numbers
    from vsrbench.core.io import atomic_write_text
    from vsrbench.results.loading import load_results
    from vsrbench.results.store import find_results_dir, writing

    results = str(find_results_dir(request.results))
    df = load_results(results, request.protocol)
    reported = reported_numbers(results) if request.reported else None
    published, info = None, None
    if request.published:
        from vsrbench.catalog.published import load_published

        published, info = load_published(request.published_file), dataset_info(results)
    metrics = None if request.metrics is None else list(request.metrics)
    tables = build_tables(df, dataset=request.dataset, metrics=metrics, average=request.average,
                          per_sequence=request.per_sequence, reported=reported, published=published, info=info,
                          by_convention=True, rescore=rescore, **request.statistics)
    text = render_tables(tables, request.fmt, standalone=request.standalone)
    if request.out:
        with writing("write", request.out, "choose another --out"):
            atomic_write_text(request.out, text)
    return text
