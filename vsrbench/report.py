"""Moved to :mod:`vsrbench.visual.report`.

This module re-exports its names for one release, so that ``vsrbench.report.NAME`` and
``from vsrbench.report import NAME`` keep working. New code imports from the new place.
"""
import vsrbench.visual.report as _m0
from vsrbench.visual.report import *  # noqa: F403
# names the old module had that their new homes do not export (now private, or
# defined once in vsrbench.analysis.vocabulary and imported there)
from vsrbench.visual.report import _human_size as human_size  # noqa: F401
from vsrbench.visual.report import _curves_data as curves_data  # noqa: F401

__all__ = [*_m0.__all__, 'human_size', 'curves_data']
