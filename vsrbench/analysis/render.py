"""Writing tables: Markdown, LaTeX (booktabs, optionally a standalone document), CSV and HTML.
"""
from __future__ import annotations

import csv
import html
import io
import re
from typing import Sequence

import pandas as pd

from vsrbench.core.errors import InputError
from vsrbench.analysis.table_model import Cell, FORMATS, Table
from vsrbench.analysis.table_stats import SIGNIFICANT

__all__ = [
    "MD_SPECIAL", "md_escape", "render_markdown", "LATEX_SPECIAL", "LATEX_PACKAGES", "LATEX_PREAMBLE",
    "LATEX_FIT_OPEN", "LATEX_TABLE_HEIGHT", "LATEX_NOTES_HEIGHT", "RUN_IN", "latex_escape", "render_latex", "table_frame", "render_csv", "render_html", "render_tables",
]


# ------------------------------------------------------------------ rendering

def _header(table: Table) -> list[str]:
    return ([table.group_title] if table.grouped else []) + ["Method"] + [c.label for c in table.columns]


def _dagger(row) -> str:
    """† for a published row, ‡ for a number vsrbench reproduced from the authors' outputs."""
    return "‡" if (row.published or {}).get("kind") == "reproduced" else "†"


def _row_lead(table: Table, i: int, escape=lambda t: t, mark=lambda n, d="†": f"{d}{n}") -> list[str]:
    """Leading cells of row ``i``: the group name on the first row of each block, then the method
    (a published row's followed by ``mark(footnote number, dagger)``); ``escape`` is applied to the names."""
    row = table.rows[i]
    method = escape(row.method) + ("" if row.note_ref is None else mark(row.note_ref, _dagger(row)))
    if not table.grouped:
        return [method]
    first = i == 0 or table.rows[i - 1].group != row.group
    return [escape(row.group) if first else "", method]


MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md_escape(text: str) -> str:
    return MD_SPECIAL.sub(r"\\\1", text)


def _md_cell(cell: Cell) -> str:
    text = {1: f"**{cell.text}**", 2: f"<u>{cell.text}</u>"}.get(cell.rank, cell.text)
    text += md_escape(SIGNIFICANT) if cell.significant else ""
    return f"{text} {cell.interval_text}" if cell.interval_text else text


def render_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table with the caption and footnotes below it."""
    head = _header(table)
    lines = ["| " + " | ".join(md_escape(h) for h in head) + " |",
             "|" + "|".join(":--" if i < len(head) - len(table.columns) else "--:" for i in range(len(head))) + "|"]
    for i, row in enumerate(table.rows):
        lead = _row_lead(table, i, md_escape)
        lines.append("| " + " | ".join(lead + [_md_cell(c) for c in row.cells]) + " |")
    lines += ["", md_escape(table.caption)]
    lines += [f"- {md_escape(n)}" for n in table.notes]
    return "\n".join(lines) + "\n"


LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
    "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
    ">": r"\textgreater{}", "†": r"\dag{}", "‡": r"\ddag{}", "↑": r"$\uparrow$", "↓": r"$\downarrow$", "–": r"\textendash{}", "×": r"$\times$",
    "Δ": r"$\Delta$", "σ": r"$\sigma$", "μ": r"$\mu$", "≈": r"$\approx$", "≤": r"$\leq$", "≥": r"$\geq$", "−": "$-$", "±": r"$\pm$", "α": r"$\alpha$",
}
# lmodern: scalable T1 fonts (without it, T1 text falls back to bitmap EC fonts, embedded as Type 3);
# graphicx: the \resizebox that shrinks a table wider than the line (never enlarges one).
LATEX_PACKAGES = ("booktabs", "graphicx")
LATEX_PREAMBLE = ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
                  "\\usepackage[utf8]{inputenc}\n" + "".join(f"\\usepackage{{{p}}}\n" for p in LATEX_PACKAGES)
                  + "\\usepackage[a4paper,margin=12mm]{geometry}\n\\pagestyle{empty}\n\\begin{document}\n")
# Scale the tabular down to \linewidth (\columnwidth in a two-column paper) when it is wider; else as it is.
LATEX_FIT_OPEN = "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%"


def latex_escape(text: str) -> str:
    """``text`` for LaTeX: special characters escaped, and ``--``/``---`` kept as hyphens (``--published``
    is an option, not an en dash)."""
    out = "".join(LATEX_SPECIAL.get(ch, ch) for ch in text)
    return re.sub(r"-(?=-)", "-{}", out)


def _latex_cell(cell: Cell) -> str:
    text = latex_escape(cell.text)
    text = {1: f"\\textbf{{{text}}}", 2: f"\\underline{{{text}}}"}.get(cell.rank, text)
    text += f"$^{{{SIGNIFICANT}}}$" if cell.significant else ""
    if cell.interval_text.startswith("± "):  # a smaller ±: wide tables stay readable when scaled
        text += f"\\,{{\\footnotesize$\\pm${cell.interval_text[2:]}}}"
    elif cell.interval_text:
        text += f"\\,{{\\footnotesize{latex_escape(cell.interval_text)}}}"
    return text


def _latex_label(dataset: str) -> str:
    return "tab:vsrbench-" + (re.sub(r"[^A-Za-z0-9]+", "-", dataset).strip("-").lower() or "results")


def _latex_note(note: str) -> str:
    """A footnote; a published row's mark ``†N`` (``‡N``) as a superscript dagger, like the row's."""
    m = re.fullmatch(r"([†‡])(\d+) (.*)", note, re.S)
    if not m:
        return latex_escape(note)
    return f"\\textsuperscript{{\\{'d' if m[1] == '‡' else ''}dag{m[2]}}} {latex_escape(m[3])}"


def _dag(n: int, dagger: str = "†") -> str:
    return f"\\textsuperscript{{\\{'d' if dagger == '‡' else ''}dag{n}}}"


def _latex_body(table: Table) -> list[str]:
    """The rows of the tabular (a method column, then the table's columns). A grouped table (sequences, conventions)
    gets a header row per block, in italics across the table, instead of a column of group names: the
    method column stays narrow and each method is one line of its block."""
    body = []
    for i, row in enumerate(table.rows):
        first = i == 0 or table.rows[i - 1].group != row.group
        if table.grouped and first:
            if i:
                body.append("\\midrule")
            body.append(f"\\multicolumn{{{1 + len(table.columns)}}}{{@{{}}l}}{{\\textit{{{latex_escape(str(row.group))}}}}} \\\\")
        name = latex_escape(row.method) + ("" if row.note_ref is None else _dag(row.note_ref, _dagger(row)))
        body.append(" & ".join([name] + [_latex_cell(c) for c in row.cells]) + " \\\\")
    return body


#: the largest share of the page the tabular and the notes may take (they are scaled down beyond it), so that the
#: caption, the table and every note fit one page however many published rows there are
LATEX_TABLE_HEIGHT, LATEX_NOTES_HEIGHT = "0.54\\textheight", "0.32\\textheight"


def _fit_height(limit: str) -> str:
    """``\\resizebox*`` that shrinks its content (aspect kept) to ``limit`` when it is taller, never enlarges."""
    return f"\\resizebox*{{!}}{{\\ifdim\\totalheight>{limit}{limit}\\else\\totalheight\\fi}}{{%"


RUN_IN = 160  # characters: short notes of one kind follow each other in one paragraph (the legend of published rows)


def _note_kind(note: str) -> str | None:
    """The kind of a short note that runs in with its neighbours of the same kind: a published row's
    (``†3 ...``), a source's (``S2: ...``); None: a paragraph of its own."""
    if len(note) > RUN_IN:
        return None
    if re.match(r"[†‡]\d+ ", note):
        return "row"
    return "source" if re.match(r"S\d+: ", note) else None


def _latex_notes(table: Table) -> list[str]:
    """The notes after the table, left aligned in a paragraph box the width of the table's line (scaled down
    when they would take more than :data:`LATEX_NOTES_HEIGHT`)."""
    if not table.notes:
        return []
    kinds = [_note_kind(n) for n in table.notes]
    notes = "".join(("\n\\enskip " if k and kinds[k] and kinds[k] == kinds[k - 1] else "\n\\par ") + _latex_note(n)
                    for k, n in enumerate(table.notes))
    return ["\\par\\smallskip", _fit_height(LATEX_NOTES_HEIGHT),
            f"\\parbox{{\\linewidth}}{{\\raggedright\\scriptsize{notes}}}}}"]


def render_latex(table: Table, *, standalone: bool = False) -> str:
    """A booktabs ``table`` environment, its notes after the tabular inside the float (left aligned); the
    tabular is shrunk to the line width and both to their share of the page height, so the float always
    fits one page. ``standalone`` wraps it in a compilable one-page document."""
    body = _latex_body(table)
    size = "\\footnotesize" if len(table.rows) > 30 else ""
    text = "\n".join([
        "% vsrbench leaderboard; needs \\usepackage{booktabs} and \\usepackage{graphicx}",
        "\\begin{table}[tbp]",
        "\\centering" + size,
        f"\\caption{{{latex_escape(table.caption)}}}",
        f"\\label{{{_latex_label(table.dataset)}}}",
        _fit_height(LATEX_TABLE_HEIGHT),
        LATEX_FIT_OPEN,
        f"\\begin{{tabular}}{{l{'r' * len(table.columns)}}}",
        "\\toprule",
        " & ".join(latex_escape(h) for h in ["Method"] + [c.label for c in table.columns]) + " \\\\",
        "\\midrule",
        *body,
        "\\bottomrule",
        "\\end{tabular}}%",  # no space token inside the outer box: it would widen the line-wide tabular
        "}",
        *_latex_notes(table),
        "\\end{table}",
    ]) + "\n"
    return LATEX_PREAMBLE + text + "\\end{document}\n" if standalone else text


def table_frame(table: Table) -> pd.DataFrame:
    """The shown (rounded) numbers as a DataFrame: dataset, [sequence,] method, one column per Column.key."""
    records = []
    for row in table.rows:
        key = "sequence" if table.group_title == "Sequence" else "block"  # blocks of conventions: "block"
        rec = {"dataset": table.dataset, **({key: row.group} if table.grouped else {}), "method": row.method}
        for c, cell in zip(table.columns, row.cells):
            rec[c.key] = None if cell.value is None else float(cell.text)
            if c.kind != "measured":
                continue
            if table.ci:  # the interval unrounded (data, not display); empty where none
                rec[f"{c.key}_lo"], rec[f"{c.key}_hi"] = cell.lo, cell.hi
            if table.against is not None:
                rec[f"{c.key}_p"], rec[f"{c.key}_p_adjusted"] = cell.p, cell.p_adjusted
                rec[f"{c.key}_significant"] = cell.significant
        if any(r.published for r in table.rows):  # --published: which rows are published, and from where
            rec["published"] = row.published is not None
            rec.update({k: (row.published or {}).get(k, "") for k in ("degradation", "averaging", "convention",
                                                                       "source")})
        records.append(rec)
    return pd.DataFrame.from_records(records)


def render_csv(tables: Sequence[Table]) -> str:
    """All tables in one CSV (a union of columns; holes are empty cells)."""
    buf = io.StringIO()
    pd.concat([table_frame(t) for t in tables], ignore_index=True).to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()


def _html_cell(cell: Cell) -> str:
    text = html.escape(cell.text)
    text = {1: f"<b>{text}</b>", 2: f"<u>{text}</u>"}.get(cell.rank, text)
    text += f"<sup>{SIGNIFICANT}</sup>" if cell.significant else ""
    return f"{text} <small>{html.escape(cell.interval_text)}</small>" if cell.interval_text else text


def render_html(table: Table) -> str:
    """A ``<table>`` with caption, header, body and the footnotes in ``<tfoot>``."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _header(table))
    body = []
    for i, row in enumerate(table.rows):
        lead = "".join(f"<th>{t}</th>" for t in _row_lead(table, i, html.escape, lambda n, d: f"<sup>{d}{n}</sup>"))
        body.append(f"<tr>{lead}" + "".join(f"<td>{_html_cell(c)}</td>" for c in row.cells) + "</tr>")
    foot = "".join(f'<tr><td colspan="{len(_header(table))}">{html.escape(n)}</td></tr>' for n in table.notes)
    return "\n".join([
        '<table class="vsrbench">',
        f"<caption>{html.escape(table.caption)}</caption>",
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>", *body, "</tbody>",
        *([f"<tfoot>{foot}</tfoot>"] if foot else []),
        "</table>",
    ]) + "\n"


def render_tables(tables: Sequence[Table], fmt: str = "markdown", *, standalone: bool = False) -> str:
    """Render tables in ``fmt`` (one of :data:`FORMATS`); several tables follow each other.

    Parameters
    ----------
    tables : sequence of Table
        Tables of :func:`~vsrbench.analysis.tables.build_tables` (or one :func:`~vsrbench.analysis.tables.build_table`
        in a list).
    fmt : str
        ``"markdown"`` (GitHub-flavoured, caption and footnotes below), ``"latex"`` (booktabs
        ``table`` environments), ``"csv"`` (all tables in one CSV, a union of columns; holes are empty
        cells) or ``"html"`` (``<table>`` elements).
    standalone : bool
        LaTeX only: wrap the tables in a compilable document (:data:`LATEX_PREAMBLE`).

    Returns
    -------
    str
        The rendered text.

    Raises
    ------
    vsrbench.core.errors.InputError
        An unknown format, or no tables.

    Examples
    --------
    Tables come from a results folder::

        from vsrbench import load_results
        from vsrbench.analysis.render import render_tables
        from vsrbench.analysis.tables import build_tables
        tables = build_tables(load_results("results"))
        open("table.tex", "w").write(render_tables(tables, "latex", standalone=True))
    """
    if fmt not in FORMATS:
        raise InputError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if not tables:
        raise InputError("tables: nothing to render (no dataset selected)")
    if fmt == "csv":
        return render_csv(tables)
    if fmt == "latex":
        text = "\n".join(render_latex(t) for t in tables)
        return LATEX_PREAMBLE + text + "\\end{document}\n" if standalone else text
    one = render_markdown if fmt == "markdown" else render_html
    return "\n".join(one(t) for t in tables)
