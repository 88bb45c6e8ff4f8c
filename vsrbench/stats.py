"""Moved to :mod:`vsrbench.analysis.stats`.

This module re-exports its names for one release, so that ``vsrbench.stats.NAME`` and
``from vsrbench.stats import NAME`` keep working. New code imports from the new place.
"""
import vsrbench.analysis.stats as _m0
from vsrbench.analysis.stats import *  # noqa: F403
# names the old module had that their new homes do not export (now private, or
# defined once in vsrbench.analysis.vocabulary and imported there)
from vsrbench.analysis.stats import AVERAGES  # noqa: F401
from vsrbench.analysis.stats import INTERVALS  # noqa: F401
from vsrbench.analysis.stats import SCHEMES  # noqa: F401
from vsrbench.analysis.stats import TESTS  # noqa: F401
from vsrbench.analysis.stats import _few_clips_message as few_clips_message  # noqa: F401

__all__ = [*_m0.__all__, 'AVERAGES', 'INTERVALS', 'SCHEMES', 'TESTS', 'few_clips_message']
