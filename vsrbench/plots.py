"""Moved to :mod:`vsrbench.visual.plots`; this module re-exports its names for one release (``from vsrbench.plots import ...``
keeps working). New code imports from the new place."""

# ruff: noqa: F401
from vsrbench.visual.plots import (
    KINDS,
    PLOT_FORMATS,
    GT_COLOR,
    method_colors,
    parse_formats,
    parse_kinds,
    slug,
    EMBED_FONTS_RC,
    save_figure,
    axis_label,
    plot_curves,
    plot_bars,
    plot_tradeoff,
    tradeoff_pairs,
    plot_profiles,
    sequence_frames,
    profile_figure,
    plot_results,
)

__all__ = [
    "KINDS",
    "PLOT_FORMATS",
    "GT_COLOR",
    "method_colors",
    "parse_formats",
    "parse_kinds",
    "slug",
    "EMBED_FONTS_RC",
    "save_figure",
    "axis_label",
    "plot_curves",
    "plot_bars",
    "plot_tradeoff",
    "tradeoff_pairs",
    "plot_profiles",
    "sequence_frames",
    "profile_figure",
    "plot_results",
]
