"""Moved to :mod:`vsrbench.visual.plots`.

This module re-exports its names for one release, so that ``vsrbench.plots.NAME`` and
``from vsrbench.plots import NAME`` keep working. New code imports from the new place.
"""
import vsrbench.visual.plots as _m0
from vsrbench.visual.plots import *  # noqa: F403
# names the old module had that their new homes do not export (now private, or
# defined once in vsrbench.analysis.vocabulary and imported there)
from vsrbench.visual.plots import KINDS  # noqa: F401
from vsrbench.visual.plots import PLOT_FORMATS  # noqa: F401

__all__ = [*_m0.__all__, 'KINDS', 'PLOT_FORMATS']
