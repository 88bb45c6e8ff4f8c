"""Moved to :mod:`vsrbench.core.io`.

This module re-exports its names for one release, so that ``vsrbench.io.NAME`` and
``from vsrbench.io import NAME`` keep working. New code imports from the new place.
"""
import vsrbench.core.io as _m0
from vsrbench.core.io import *  # noqa: F403

__all__ = [*_m0.__all__]
