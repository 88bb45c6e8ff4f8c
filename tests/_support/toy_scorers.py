"""Two tiny scorers for the tests of :mod:`vsrbench.metrics.extension` (registered by the tests only):
a no-reference per-frame mean brightness, and a full-reference per-clip mean absolute difference."""
from __future__ import annotations

import numpy as np

SEEN: list = []  # what the scorers were given: (name, gt is None, frames)


def brightness(clip):
    SEEN.append((clip.name, clip.gt is None, clip.frames))
    return [(t, float(np.asarray(clip.frame(t), np.float64).mean())) for t in clip.frames]


def clip_mad(clip):
    SEEN.append((clip.name, clip.gt is None, clip.frames))
    diffs = [np.abs(np.asarray(clip.frame(t), np.float64) - clip.frame(t, gt=True)).mean() for t in clip.frames]
    return [(clip.frames[0], float(np.mean(diffs)))]
