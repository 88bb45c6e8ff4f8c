"""Published rows ranked under their own conventions: one block of rows per convention.

A published number is comparable with yours only when both were computed the same way: the same
protocol (colour, crop, frames, SSIM variant: a vsrbench protocol hash), the same averaging and the
same degradation of the inputs. Conventions rarely match the one your results were stored under, so
:func:`with_conventions` does not wait for them to match: it groups the published rows of the
dataset's suite by **convention** = (degradation family, protocol, averaging) and gives each its own
block of rows, in which your methods appear with their numbers *under that convention* (re-scored
from the outputs on disk by a :data:`Rescorer`; the protocol your results are stored under needs
none) and bold / underline are given within the block only. So a method is never "best" over
published rows it was not compared with.

A published row is shown but not ranked, with the reason in its footnote, where the comparison is
impossible: its convention is a description and not a vsrbench protocol; its degradation is not the
one the dataset was made with (BI is ``bi-matlab``; a BD row must name the kernel of the recorded
``bd-*`` degradation, :data:`~vsrbench.analysis.published_rows.DEGRADATION_KERNELS`); its averaging
is unknown and the clips score different numbers of frames under it (with equal counts ``seq_avg``
equals ``frame_avg``, so any averaging matches and the row joins the block of the table's averaging); the metric is not defined under it (a temporal
metric when only the centre frame is scored); or your outputs could not be scored under it (not
recorded, no longer on disk, or no rescorer given: the reason is in the notes).

Per-clip published numbers go into per-sequence blocks of their convention (``per_sequence=True``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import pandas as pd

from vsrbench.metrics import METRICS
from vsrbench.analysis.published_rows import degradation_family, degradation_reason, rank_together
from vsrbench.analysis.table_model import HOLE, Cell, Column, Row, Table, compute_scores, rank_values

__all__ = ["Rescorer", "Rescored", "Placed", "place_row", "convention_metrics", "mark",
           "with_conventions"]

@dataclass(frozen=True)
class Rescored:
    """Your results under one convention's protocol: the per-frame rows (the columns of
    :func:`~vsrbench.results.loading.load_results`; None when nothing could be scored), why a method
    could not be scored (method -> reason) and where they are kept, for the table's note."""

    frame: pd.DataFrame | None
    missing: Mapping[str, str]
    note: str = ""  # where the scores are kept (the table names it once for all conventions)
    reason: str = ""  # why nothing was scored at all (no rescorer)


#: ``rescore(dataset, protocol, methods, metrics)`` -> :class:`Rescored`: the methods' outputs on
#: ``dataset`` scored under ``protocol`` (one pass per protocol; a top-level module runs it)
Rescorer = Callable[[str, object, Sequence[str], Sequence[str]], Rescored]


@dataclass(frozen=True)
class Placed:
    """A published row and its block: ``key`` = (family, protocol hash or None, averaging)."""

    row: object
    key: tuple
    protocol: object | None
    why: str | None  # why it cannot be ranked at all (None: it may, once your numbers exist)


def place_row(row, average: str, degradation: str | None) -> Placed:
    """The block of published ``row`` in a table showing ``average``; per-clip rows go to ``average``'s."""
    try:
        proto = row.protocol
    except Exception:  # noqa: BLE001 - a user file's convention that no longer parses
        proto = None
    if proto is None:
        why = f"its convention ({row.convention}) is not a vsrbench protocol, so no output can be scored under it"
    else:
        why = degradation_reason(row, degradation)
        if why is None and METRICS[row.metric].temporal and proto.frames_scored == "center":
            why = f"{METRICS[row.metric].label} is temporal: not defined when only the centre frame is scored"
    avg = average if row.sequence else row.averaging
    return Placed(row, (row.family, None if proto is None else proto.hash, avg), proto, why)


def convention_metrics(placed: Sequence[Placed], metrics: Sequence[str]) -> dict[str, tuple]:
    """protocol hash -> ``(protocol, metrics)``: what your outputs must be scored under for the rows that
    may rank (in the order of ``metrics``)."""
    out: dict[str, tuple] = {}
    for p in placed:
        if p.protocol is not None and p.why is None and p.row.metric in metrics:
            proto, have = out.get(p.key[1], (p.protocol, ()))
            out[p.key[1]] = (proto, have + (p.row.metric,))
    return {h: (proto, tuple(m for m in metrics if m in have)) for h, (proto, have) in out.items()}


def _equal_lengths(df: pd.DataFrame, metric: str) -> bool:
    counts = df[df["metric"] == metric].groupby("sequence")["frame"].nunique()
    return counts.nunique() <= 1


def _settle_averaging(placed: list[Placed], frames: Mapping[str, Rescored], average: str) -> list[Placed]:
    """Where every clip scores as many frames under a row's protocol, seq_avg = frame_avg: the row joins the
    block of ``average`` whatever its averaging (also ``unknown``). Else a row of unknown averaging is shown in
    that block, not ranked."""
    out = []
    for p in placed:
        if p.key[2] == average:
            out.append(p)
            continue
        got = frames.get(p.key[1])
        equal = got is not None and got.frame is not None and _equal_lengths(got.frame, p.row.metric)
        if p.key[2] != "unknown" and not equal:
            out.append(p)
            continue
        why = p.why
        if why is None and not equal and got is not None and got.frame is not None:
            why = "how it was averaged is unknown and the clips score different numbers of frames under its convention"
        out.append(replace(p, key=(p.key[0], p.key[1], average), why=why))
    return out


def _label(key: tuple, protocols: Mapping[str, object], show_family: bool, seq: str) -> str:
    family, h, avg = key
    if h is None:
        text = "conventions that are not vsrbench protocols"
    else:
        text = f"{protocols[h].name}, {avg}"
    if show_family:
        text = f"{family}: {text}"
    return f"{seq} ({text})" if seq else text


def _user_rows(scores, columns: Sequence[Column], seq: str, group: str) -> list[Row]:
    """Your methods' rows in a block of another convention (measured columns only; the others empty)."""
    rows = []
    for method in scores.methods:
        cells = []
        for col in columns:
            if col.kind != "measured":
                cells.append(Cell(None, ""))
                continue
            v = scores.per_sequence.get((method, seq, col.metric)) if seq else scores.means.get((method, col.metric))
            cells.append(Cell(v, col.text(v)))
        rows.append(Row(method, tuple(cells), group))
    return rows


@dataclass
class _Context:
    """What every block of one table needs."""

    table: Table
    columns: Sequence[Column]
    frames: dict[str, Rescored]  # protocol hash -> your numbers under it
    groups: list[list[Placed]]  # published rows grouped by (method, degradation, convention, source)
    reasons: dict[int, list[str]]
    ranked_in: dict[int, list[str]]
    scores: dict[tuple, object]


def _scores(ctx: _Context, key: tuple):
    """Your Scores under a block's protocol and averaging (None when your outputs were not scored under it)."""
    if key not in ctx.scores:
        got = ctx.frames.get(key[1])
        frame = None if got is None else got.frame
        metrics = [c.metric for c in ctx.columns if c.kind == "measured"]
        metrics = [] if frame is None else [m for m in metrics if m in set(frame["metric"])]
        ctx.scores[key] = compute_scores(frame, metrics, key[2]) if metrics else None
    return ctx.scores[key]


def _no_numbers_reason(ctx: _Context, key: tuple) -> str:
    got = ctx.frames.get(key[1])
    if got is None:
        return "your outputs were not scored under its convention"
    if got.reason:
        return got.reason
    why = "; ".join(f"{m}: {w}" for m, w in got.missing.items())
    return "your outputs could not be scored under its convention" + (f" ({why})" if why else "")


def _published_rows(ctx: _Context, key: tuple, seq: str, group: str, have_user: bool) -> tuple[list[Row], list]:
    """The published rows of one block and, per cell, whether it competes."""
    rows, competes = [], []
    for n, members in enumerate(ctx.groups, 1):
        cells, ok = [], []
        for col in ctx.columns:
            hit = next((p for p in members if p.key == key and p.row.sequence == seq and p.row.metric == col.metric
                        and col.kind == "measured"), None)
            if hit is None:
                cells.append(Cell(None, HOLE))
                ok.append(False)
                continue
            why = hit.why if hit.why is not None else (None if have_user else _no_numbers_reason(ctx, key))
            if why is not None and why not in ctx.reasons.setdefault(n, []):
                ctx.reasons[n].append(why)
            if why is None and group not in ctx.ranked_in.setdefault(n, []):
                ctx.ranked_in[n].append(group)
            cells.append(Cell(hit.row.value, hit.row.value_text))
            ok.append(why is None)
        if any(c.value is not None for c in cells):
            first = members[0].row
            rows.append(Row(first.method, tuple(cells), group, n,
                            {"source": first.source, "degradation": first.degradation,
                             "kind": getattr(first, "kind", "published"),
                             "averaging": first.averaging,
                             "convention": first.convention}))
            competes.append(ok)
    return rows, competes


def _block(ctx: _Context, key: tuple, seq: str, group: str, mine: list[Row] | None) -> list[Row]:
    """One block: your rows (``mine``: the table's own, else computed under the block's convention), then
    the published rows, ranked together over the cells that compete."""
    if mine is None:
        scores = _scores(ctx, key) if key[1] is not None else None
        mine = [] if scores is None else _user_rows(scores, ctx.columns, seq, group)
    have_user = any(c.value is not None for r in mine for c in r.cells)
    published, ok = _published_rows(ctx, key, seq, group, have_user)
    competes = [[c.kind == "measured" for c in ctx.columns] for _ in mine] + ok
    return rank_together(list(mine) + published, ctx.columns, competes) if published or mine else []


def _order(placed: list[Placed], main_key: tuple, per_sequence: bool, sequences: Sequence[str]) -> list[tuple]:
    """``(key, seq)`` of every block: the table's own convention first, then as the rows come, descriptions last."""
    keys = list(dict.fromkeys([main_key] + [p.key for p in placed if p.key[1] is not None]
                              + [p.key for p in placed if p.key[1] is None]))
    out = []
    for key in keys:
        seqs = [s for s in sequences if per_sequence and (
            key == main_key or any(p.key == key and p.row.sequence == s for p in placed))]
        out += [(key, s) for s in seqs] + [(key, "")]
    return out


def mark(row) -> str:
    """The footnote mark of a published row: † for a number printed in its source, ‡ for one vsrbench
    reproduced from the authors' outputs (``kind`` reproduced)."""
    return "‡" if getattr(row, "kind", "published") == "reproduced" else "†"


def _letter(k: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[k] if k < 26 else f"r{k + 1}"


def _notes(ctx: _Context, used: list[int]) -> tuple[list[str], int]:
    """One short note per published row shown (its source by key, degradation, averaging, ranked or why not
    by letter), then the legend of the reasons and of the sources; and how many rows are not ranked."""
    notes, excluded, reasons, sources = [], 0, {}, {}
    for n in used:
        first = ctx.groups[n - 1][0].row
        key = sources.setdefault(first.source, f"S{len(sources) + 1}")
        letters = [reasons.setdefault(w, _letter(len(reasons))) for w in ctx.reasons.get(n, [])]
        ranked = bool(ctx.ranked_in.get(n))
        excluded += not ranked
        status = ("ranked" if ranked else "not ranked") + (f" ({', '.join(letters)})" if letters else "")
        kind = getattr(first, "kind", "published")
        origin = {"reproduced": f"reproduced by vsrbench from the authors' outputs, not a published number, {key}",
                  "transcribed": f"{key}, as transcribed there"}.get(kind, key)
        notes.append(f"{mark(first)}{n} {first.method}: {origin}; {first.degradation}; averaging {first.averaging}; "
                     f"{status}.")
    notes += [f"({letter}) not ranked: {why}." for why, letter in reasons.items()]
    notes += [f"{key}: {source}." for source, key in sources.items()]
    return notes, excluded


def with_conventions(table: Table, df: pd.DataFrame, columns: Sequence[Column], chosen: Sequence,
                     degradation: str | None, per_sequence: bool, sequences: Sequence[str],
                     rescore: Rescorer | None) -> Table:
    """``table`` (your rows, stored under its protocol) with the published rows ``chosen`` for it (those of
    its suite and metrics) in one block per convention, your numbers re-scored under each (see the module
    docstring); ``degradation``: the dataset's recorded degradation (None: not checked, said in a note)."""
    metrics = [c.metric for c in columns if c.kind == "measured"]
    placed = [place_row(r, table.average, degradation) for r in chosen]
    frames: dict[str, Rescored] = {table.protocol_hash: Rescored(df, {})}
    notes = list(table.notes)
    methods = sorted(set(df["method"]), key=list(df["method"]).index)
    for h, (proto, need) in convention_metrics(placed, metrics).items():
        if h == table.protocol_hash or not need:
            continue
        if rescore is None:
            frames[h] = Rescored(None, {}, "", "your outputs were not scored under its convention (no rescorer "
                                 "given; vsrbench table --published scores them)")
            continue
        frames[h] = rescore(table.dataset, proto, methods, need)
        notes += [f"{m}: no numbers under {proto.name}: {why}." for m, why in frames[h].missing.items()]
    notes += _rescored_note(frames, _protocols_of(placed))
    placed = _settle_averaging(placed, frames, table.average)
    families = list(dict.fromkeys(p.key[0] for p in placed))
    family = degradation_family(degradation) or ("BI" if "BI" in families else families[0])
    main_key = (family, table.protocol_hash, table.average)
    groups: dict[tuple, list[Placed]] = {}
    for p in placed:
        groups.setdefault((p.row.method, p.row.degradation, p.row.convention, p.row.source), []).append(p)
    protocols = _protocols_of(placed)
    protocols[table.protocol_hash] = _Named(table.protocol)
    ctx = _Context(table, columns, frames, list(groups.values()), {}, {}, {})
    show_family = degradation_family(degradation) is None and len(families) > 1
    out: list[Row] = []
    for key, seq in _order(placed, main_key, per_sequence, sequences):
        group = _label(key, protocols, show_family, seq)
        mine = None
        if key == main_key:
            own = seq if seq else ("Average" if per_sequence else None)
            mine = [replace(r, group=group) for r in table.rows if r.group == own]
        out += _block(ctx, key, seq, group, mine)
    out, used = _renumber(ctx, out)
    group_notes, excluded = _notes(ctx, used)
    return replace(table, rows=tuple(out), notes=tuple(notes + group_notes),
                   group_title="Sequence (convention)" if per_sequence else "Convention",
                   caption_extra=_caption(table, excluded, len(used), rescore is not None,
                                          chosen[0].suite if chosen else None))


def _protocols_of(placed: Sequence[Placed]) -> dict[str, object]:
    """protocol hash -> the protocol, of the rows placed."""
    return {p.key[1]: p.protocol for p in placed if p.protocol is not None}


def _rescored_note(frames: Mapping[str, Rescored], protocols: Mapping[str, object]) -> list[str]:
    """One note naming the conventions your methods were scored under again, and where that is kept."""
    done = [(protocols[h].name, got.note) for h, got in frames.items() if got.note and h in protocols]
    if not done:
        return []
    return [f"Your methods under {', '.join(n for n, _ in done)}: scored again from their recorded outputs "
            f"(kept in {done[0][1]})."]


def _renumber(ctx: _Context, rows: list[Row]) -> tuple[list[Row], list[int]]:
    """Footnote numbers in the order the rows are shown (the context's groups, reasons and blocks follow)."""
    order = list(dict.fromkeys(r.note_ref for r in rows if r.note_ref is not None))
    new = {old: k for k, old in enumerate(order, 1)}
    ctx.groups = [ctx.groups[old - 1] for old in order]
    ctx.reasons = {new[k]: v for k, v in ctx.reasons.items() if k in new}
    ctx.ranked_in = {new[k]: v for k, v in ctx.ranked_in.items() if k in new}
    rows = [r if r.note_ref is None else replace(r, note_ref=new[r.note_ref]) for r in rows]
    return rows, list(range(1, len(order) + 1))


@dataclass(frozen=True)
class _Named:
    name: str


def _caption(table: Table, excluded: int, shown: int, rescored: bool, suite: str | None = None) -> str:
    how = ("your outputs re-scored under each convention" if rescored
           else "your numbers where they are stored under that convention")
    which = f"published numbers for suite {suite}" if suite else "published numbers"
    text = (f"† {which}, as printed, in one block per convention (degradation, protocol, averaging), "
            f"ranked within the block against {how}; a row is never ranked against numbers computed otherwise")
    text += f"; {excluded} of {shown} not ranked (see the notes)." if excluded else "."
    return " ".join(t for t in (table.caption_extra, text) if t)
