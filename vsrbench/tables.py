"""Moved to :mod:`vsrbench.results.frame`, :mod:`vsrbench.analysis.table_model`, :mod:`vsrbench.analysis.published_rows`, :mod:`vsrbench.analysis.table_stats`, :mod:`vsrbench.analysis.tables`, :mod:`vsrbench.analysis.render`.

This module re-exports their names for one release, so that ``vsrbench.tables.NAME`` and
``from vsrbench.tables import NAME`` keep working. New code imports from the new place.
"""
import vsrbench.results.frame as _m0
from vsrbench.results.frame import *  # noqa: F403
import vsrbench.analysis.table_model as _m1
from vsrbench.analysis.table_model import *  # noqa: F403
import vsrbench.analysis.published_rows as _m2
from vsrbench.analysis.published_rows import *  # noqa: F403
import vsrbench.analysis.table_stats as _m3
from vsrbench.analysis.table_stats import *  # noqa: F403
import vsrbench.analysis.tables as _m4
from vsrbench.analysis.tables import *  # noqa: F403
import vsrbench.analysis.render as _m5
from vsrbench.analysis.render import *  # noqa: F403
# names the old module had that their new homes do not export (now private, or
# defined once in vsrbench.analysis.vocabulary and imported there)
from vsrbench.analysis.table_model import AVERAGES  # noqa: F401
from vsrbench.analysis.table_model import FORMATS  # noqa: F401
from vsrbench.analysis.table_stats import SIGNIFICANT  # noqa: F401
from vsrbench.analysis.table_stats import CI_STYLES  # noqa: F401

__all__ = [*_m0.__all__, *_m1.__all__, *_m2.__all__, *_m3.__all__, *_m4.__all__, *_m5.__all__, 'AVERAGES', 'FORMATS', 'SIGNIFICANT', 'CI_STYLES']
