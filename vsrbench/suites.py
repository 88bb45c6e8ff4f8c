"""Moved to :mod:`vsrbench.catalog.suites`.

This module re-exports its names for one release, so that ``vsrbench.suites.NAME`` and
``from vsrbench.suites import NAME`` keep working. New code imports from the new place.
"""
import vsrbench.catalog.suites as _m0
from vsrbench.catalog.suites import *  # noqa: F403
# names the old module had that their new homes do not export (now private, or
# defined once in vsrbench.analysis.vocabulary and imported there)
from vsrbench.catalog.suites import FRAMES_SCORED  # noqa: F401

__all__ = [*_m0.__all__, 'FRAMES_SCORED']
