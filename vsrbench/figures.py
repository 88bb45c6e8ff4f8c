"""Moved to :mod:`vsrbench.visual.figures`.

This module re-exports its names for one release, so that ``vsrbench.figures.NAME`` and
``from vsrbench.figures import NAME`` keep working. New code imports from the new place.
"""
import vsrbench.visual.figures as _m0
from vsrbench.visual.figures import *  # noqa: F403
# names the old module had that their new homes do not export (now private, or
# defined once in vsrbench.analysis.vocabulary and imported there)
from vsrbench.visual.figures import FIGURE_FORMATS  # noqa: F401
from vsrbench.visual.figures import _check_box as check_box  # noqa: F401
from vsrbench.visual.figures import _local_mse as local_mse  # noqa: F401

__all__ = [*_m0.__all__, 'FIGURE_FORMATS', 'check_box', 'local_mse']
