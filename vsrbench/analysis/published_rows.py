"""Published rows in a table: which published numbers match the results' convention
(:func:`published_match`) and so compete for bold / underline, and how they are added to a table.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Mapping, Sequence

import pandas as pd

from vsrbench.metrics import METRICS
from vsrbench.analysis.table_model import Cell, Column, HOLE, Row, Table, rank_values

__all__ = ["DEGRADATION_KERNELS", "degradation_family", "degradation_reason", "published_match", "rank_together", "dataset_info", "published_for", "with_published"]


# ------------------------------------------------------------------ published rows

#: the kernel text a published BD row must name to match a dataset made with a vsrbench degradation
DEGRADATION_KERNELS = {"bd-basicvsr": "sigma 1.6", "bd-tecogan": "sigma 1.5", "bd-tecogan-train": "sigma 1.5",
                       "bd-duf": "bd-duf"}


def degradation_family(degradation: str | None) -> str | None:
    """``"bd-tecogan"`` -> ``"BD"``, ``"bi-matlab"`` -> ``"BI"``, ``"realbasicvsr[seed=0]"`` (a real-world
    recipe) -> ``"RW"``; None when unknown."""
    if not degradation:
        return None
    if str(degradation).split("[")[0] == "realbasicvsr":
        return "RW"
    head = str(degradation).split("-")[0].upper()
    return head if head in ("BI", "BD") else None


def published_match(row, *, protocol_hash: str, average: str, equal_lengths: bool,
                    degradation: str | None) -> str | None:
    """None when the published ``row`` is ranked with results of ``protocol_hash`` shown as
    ``average`` (the definition is in this module's docstring); else the reason, in words.

    ``equal_lengths``: every sequence of the dataset has the same number of scored frames for
    the row's metric. ``degradation``: the vsrbench degradation the dataset was made with (None: not recorded).
    """
    try:
        protocol = row.protocol
    except Exception:  # noqa: BLE001 - a user file's convention that no longer parses
        protocol = None
    if protocol is None:
        return f"its convention ({row.convention}) is not a vsrbench protocol"
    if protocol.hash != protocol_hash:
        return f"its convention {protocol.name} (hash {protocol.hash}) is not the results' protocol (hash {protocol_hash})"
    if row.sequence:
        if row.averaging == "unknown":
            return "how its per-clip value was averaged is unknown"
    elif row.averaging != average and not equal_lengths:
        return f"its averaging ({row.averaging}) is not the one shown ({average}) and the sequences differ in length"
    return degradation_reason(row, degradation)


def degradation_reason(row, degradation: str | None) -> str | None:
    """Why published ``row`` was made from other inputs than a dataset of ``degradation`` (None: the same,
    or the dataset records no degradation)."""
    if not degradation:
        return None
    if row.family not in ("BI", "BD"):
        return f"its LQ ({row.degradation}) is not made by a named kernel; the dataset was made with {degradation}"
    if row.family == "BI" and degradation != "bi-matlab":
        return f"BI is MATLAB bicubic (bi-matlab), the dataset was made with {degradation}"
    if row.family == "BD":
        kernel = DEGRADATION_KERNELS.get(degradation)
        if kernel is None or kernel not in (row.kernel or "").lower():
            return f"its BD kernel ({row.kernel or 'not stated'}) is not the one of {degradation}"
    return None


def dataset_info(results_dir: str | os.PathLike) -> dict[str, dict[str, str | None]]:
    """dataset -> ``{"suite": ..., "degradation": ...}`` from the run records of a results folder
    (``bench.datasets.NAME.suite`` / ``.degradation``; later runs win; None where not recorded)."""
    from vsrbench.results.loading import recorded_inputs

    return {name: {"suite": spec.get("suite") or None, "degradation": spec.get("degradation") or None}
            for name, spec in recorded_inputs(results_dir)["datasets"].items()}


def _equal_lengths(df: pd.DataFrame, metric: str) -> bool:
    counts = df[df["metric"] == metric].groupby("sequence")["frame"].nunique()
    return counts.nunique() <= 1


def _published_groups(rows) -> list[list]:
    """Rows grouped by (method, degradation, convention, source), in order of first appearance."""
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r.method, r.degradation, r.convention, r.source), []).append(r)
    return list(groups.values())


def _pick(rows, sequence: str, metric: str, average: str):
    """The row of a group for one cell: the one with the table's averaging first, then unknown."""
    hits = [r for r in rows if r.sequence == sequence and r.metric == metric]
    order = {average: 0, "unknown": 1}
    return min(hits, key=lambda r: order.get(r.averaging, 2)) if hits else None


def rank_together(rows: list[Row], columns: Sequence[Column], competes: list[list[bool]]) -> list[Row]:
    """Re-rank the measured columns of one block over the cells that compete (the others unranked)."""
    grid = [list(r.cells) for r in rows]
    for k, col in enumerate(columns):
        if col.kind != "measured":
            continue
        values = [cells[k].value if ok[k] else None for cells, ok in zip(grid, competes)]
        ranks = rank_values(values, col.decimals, METRICS[col.metric].higher_is_better)
        for cells, rank in zip(grid, ranks):
            cells[k] = replace(cells[k], rank=rank)
    return [replace(r, cells=tuple(c)) for r, c in zip(rows, grid)]


def _published_cells(rows, seq: str, columns: Sequence[Column], table: Table, equal: Mapping[str, bool],
                     degradation, n: int, reasons: dict[int, list[str]],
                     shown: dict[int, set[str]]) -> tuple[list[Cell], list[bool]]:
    """The cells of published group ``n`` (its ``rows``) in the block of ``seq``, and whether each competes;
    why a cell does not compete is added to ``reasons[n]``, the averaging it shows to ``shown[n]``."""
    cells, ok = [], []
    for col in columns:
        row = _pick(rows, seq, col.metric, table.average) if col.kind == "measured" else None
        if row is None:
            cells.append(Cell(None, HOLE))
            ok.append(False)
            continue
        why = published_match(row, protocol_hash=table.protocol_hash, average=table.average,
                              equal_lengths=equal[col.metric], degradation=degradation)
        if why is not None and why not in reasons.setdefault(n, []):
            reasons[n].append(why)
        shown.setdefault(n, set()).add(row.averaging)
        cells.append(Cell(row.value, row.value_text))
        ok.append(why is None)
    return cells, ok


def _published_block(table: Table, columns: Sequence[Column], groups: list, seq: str, group_name,
                     equal: Mapping[str, bool], degradation, reasons: dict[int, list[str]],
                     shown: dict[int, set[str]]) -> list[Row]:
    """The rows of one block (a sequence, or the average) with the published rows added and ranked together."""
    mine = [r for r in table.rows if r.group == group_name]
    competes = [[c.kind == "measured" for c in columns] for _ in mine]
    extra = []
    for n, rows in enumerate(groups, 1):
        cells, ok = _published_cells(rows, seq, columns, table, equal, degradation, n, reasons, shown)
        if any(c.value is not None for c in cells):
            first = rows[0]
            extra.append(Row(first.method, tuple(cells), group_name, n,
                             {"source": first.source, "degradation": first.degradation,
                              "averaging": "/".join(sorted(shown[n])), "convention": first.convention}))
            competes.append(ok)
    return rank_together(mine + extra, columns, competes)


def _published_notes(groups: list, used: list[int], reasons: dict[int, list[str]],
                     shown: dict[int, set[str]]) -> tuple[list[str], int]:
    """One note per published group shown (†n: source, degradation, averaging, convention, ranked or why
    not), and how many of them are left out of the ranking."""
    notes, excluded = [], 0
    for n in used:
        first = groups[n - 1][0]
        why = reasons.get(n, [])
        excluded += bool(why)
        rank = ("not ranked: " + "; ".join(why)) if why else "ranked with the reproduced rows"
        notes.append(f"†{n} {first.method}: published in {first.source}; {first.degradation}; averaging "
                     f"{'/'.join(sorted(shown.get(n, {'unknown'})))}; convention {first.convention}; {rank}.")
    return notes, excluded


def published_for(table: Table, columns: Sequence[Column], published, info: Mapping | None) -> tuple[list, list[str]]:
    """The published rows shown with ``table`` (its suite, metrics and, when recorded, degradation family)
    and the notes to add when there are none (no suite known, no rows)."""
    info = info or {}
    suite, degradation = info.get("suite"), info.get("degradation")
    if not suite:
        return [], [f"--published: no suite known for dataset {table.dataset} (record it with suite = \"NAME\" in "
                    "the benchmark file's dataset, or vsrbench evaluate --suite NAME)."]
    metrics = {c.metric for c in columns if c.kind == "measured"}
    family = degradation_family(degradation)
    chosen = [r for r in published if r.suite == suite and r.metric in metrics and (family is None or r.family == family)]
    if not chosen:
        return [], [f"--published: no published {', '.join(sorted(metrics))} numbers for suite {suite}"
                    + (f" ({family})" if family else "") + "."]
    notes = [] if family else [f"--published: dataset {table.dataset} records no degradation: published BI and BD "
                               "rows are shown and ranked without checking it."]
    return chosen, notes


def with_published(df, table: Table, columns: Sequence[Column], published, info: Mapping | None,
                   per_sequence: bool, sequences: Sequence[str]) -> Table:
    """``table`` with the published rows of its suite added (see the module docstring)."""
    chosen, extra = published_for(table, columns, published, info)
    if not chosen:
        return replace(table, notes=tuple(table.notes) + tuple(extra))
    suite, degradation = (info or {}).get("suite"), (info or {}).get("degradation")
    notes = list(table.notes)
    metrics = {c.metric for c in columns if c.kind == "measured"}
    equal = {m: _equal_lengths(df, m) for m in metrics}
    groups = _published_groups(chosen)
    blocks = ([(s, s) for s in sequences] if per_sequence else []) + [("", "Average" if per_sequence else None)]
    reasons: dict[int, list[str]] = {}
    shown: dict[int, set[str]] = {}
    out_rows: list[Row] = []
    for seq, group_name in blocks:
        out_rows += _published_block(table, columns, groups, seq, group_name, equal, degradation, reasons, shown)
    used = sorted({r.note_ref for r in out_rows if r.note_ref is not None})
    group_notes, excluded = _published_notes(groups, used, reasons, shown)
    notes += group_notes + extra
    extra_caption = (f"† published numbers for suite {suite} (not reproduced here), as printed; ranked with "
                     "the reproduced rows only where the convention matches (protocol hash, averaging, "
                     "degradation)" + (f"; {excluded} of {len(used)} excluded from the ranking (see the notes)."
                                       if excluded else "."))
    caption_extra = " ".join(t for t in (table.caption_extra, extra_caption) if t)
    return replace(table, rows=tuple(out_rows), notes=tuple(notes), caption_extra=caption_extra)
