"""The names the analysis offers as choices, declared once.

Averages, table formats, interval styles, tests, plot kinds, figure layouts ...: the library modules
that check a choice (:mod:`vsrbench.analysis.table_model`, :mod:`vsrbench.analysis.stats`,
:mod:`vsrbench.analysis.table_stats`, :mod:`vsrbench.visual.plots`, :mod:`vsrbench.visual.figures`)
import their tuple from here, and the command line offers the same tuple as its ``choices``. This
module imports nothing (no pandas, no torch), so building the parser stays fast.

Choices that belong to the layers below the analysis stay there, in modules as light as this one:
the export formats (:data:`vsrbench.results.export.EXPORT_FORMATS`), the executors
(:data:`vsrbench.execution.EXECUTORS`).
"""
from __future__ import annotations

__all__ = [
    "AVERAGES", "CI_STYLES", "FIGURE_FORMATS", "FIGURE_KINDS", "FIGURE_LAYOUTS", "INTERVALS", "PLOT_FORMATS",
    "PLOT_KINDS", "SCHEMES", "SIGNIFICANT", "TABLE_FORMATS", "TABLE_SUFFIXES", "TESTS",
]

#: how a dataset-level number is averaged: the mean of the per-sequence means, or over all frames
AVERAGES = ("seq_avg", "frame_avg")
#: the formats of ``vsrbench table``
TABLE_FORMATS = ("markdown", "latex", "csv", "html")
#: the table format an ``--out`` file extension names
TABLE_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".tex": "latex", ".csv": "csv", ".html": "html",
                  ".htm": "html"}
#: how an interval is written in a table cell: ``value ± half-width`` or ``value [lo, hi]``
CI_STYLES = ("pm", "bracket")
#: the mark of a cell that differs significantly from the method it is tested against (``†`` marks published rows)
SIGNIFICANT = "*"
#: the paired tests over clips
TESTS = ("randomization", "bootstrap")
#: the bootstrap intervals
INTERVALS = ("percentile", "bca")
#: the resampling schemes: clips, or clips and then frames within them
SCHEMES = ("cluster", "two-stage")
#: the figures of ``vsrbench plot``
PLOT_KINDS = ("curves", "profiles", "tradeoff", "bars")
#: the file formats of ``vsrbench plot``
PLOT_FORMATS = ("png", "pdf")
#: the figures of ``vsrbench figure``
FIGURE_KINDS = ("crops",)
#: the page widths of ``vsrbench figure`` (one or two columns of a paper)
FIGURE_LAYOUTS = ("one-column", "two-column")
#: the file formats of ``vsrbench figure``
FIGURE_FORMATS = ("pdf", "png")
