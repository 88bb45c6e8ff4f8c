"""Plain-text tables: columns aligned for a terminal.

Every plain-text table vsrbench prints (``vsrbench metrics``, ``models``, ``datasets``, ``weights
list``, ``compare``, ``published``, ``check``, ``explain``, the summary of ``evaluate``) is laid out by
:func:`text_table`: each column as wide as its widest cell, columns two spaces apart, trailing spaces
removed. Widths count terminal cells: East Asian wide and full-width characters take two, combining
marks none, everything else (``↑``, ``±``, ``–``) one.
"""
from __future__ import annotations

import unicodedata
from typing import Sequence

__all__ = ["display_width", "text_table"]


def display_width(text: str) -> int:
    """The number of terminal cells ``text`` takes (wide characters two, combining marks none)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(cell: str, width: int, align: str) -> str:
    fill = " " * (width - display_width(cell))
    return fill + cell if align == "r" else cell + fill


def text_table(rows: Sequence[Sequence[object]], *, header: Sequence[object] | None = None, align: str = "",
               sep: str = "  ", rule: str | None = None) -> list[str]:
    """The lines of a table with aligned columns (no trailing newline, no trailing spaces).

    ``rows`` (and ``header``, printed first) are sequences of cells, turned into text with ``str``;
    a row shorter than the widest leaves its last columns empty. ``align`` has one letter per column,
    ``l`` (left, the default for columns it does not reach) or ``r`` (right). ``rule``, a single
    character, adds a line of it under the header, as wide as each column.

    >>> text_table([["psnr", 27.1], ["ssim", 0.8]], header=["metric", "value"], align="lr", rule="-")
    ['metric  value', '------  -----', 'psnr     27.1', 'ssim      0.8']
    """
    if rule is not None and (header is None or len(rule) != 1):
        raise ValueError("text_table: rule needs a header and is one character")
    if any(a not in "lr" for a in align):
        raise ValueError(f"text_table: align is a string of 'l' and 'r', got {align!r}")
    body = [[str(c) for c in r] for r in rows]
    head = None if header is None else [str(c) for c in header]
    table = ([head] if head is not None else []) + body
    if not table:
        return []
    n = max(len(r) for r in table)
    table = [r + [""] * (n - len(r)) for r in table]
    widths = [max(display_width(r[i]) for r in table) for i in range(n)]
    aligns = (align + "l" * n)[:n]
    if rule is not None:
        table.insert(1, [rule * w for w in widths])
    return [sep.join(_pad(c, w, a) for c, w, a in zip(r, widths, aligns)).rstrip() for r in table]
