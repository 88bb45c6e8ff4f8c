"""Moved to :mod:`vsrbench.results.store`, :mod:`vsrbench.results.locks`, :mod:`vsrbench.results.loading`, :mod:`vsrbench.results.export`.

This module re-exports their names for one release, so that ``vsrbench.store.NAME`` and
``from vsrbench.store import NAME`` keep working. New code imports from the new place.
"""
import vsrbench.results.store as _m0
from vsrbench.results.store import *  # noqa: F403
import vsrbench.results.locks as _m1
from vsrbench.results.locks import *  # noqa: F403
import vsrbench.results.loading as _m2
from vsrbench.results.loading import *  # noqa: F403
import vsrbench.results.export as _m3
from vsrbench.results.export import *  # noqa: F403
# vsrbench.store defined process_start_marker; it is in vsrbench.core.processes now
from vsrbench.core.processes import process_start_marker  # noqa: F401

__all__ = [*_m0.__all__, *_m1.__all__, *_m2.__all__, *_m3.__all__, "process_start_marker"]
