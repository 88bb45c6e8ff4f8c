"""Per-frame values -> per-sequence and per-dataset numbers.

TecoGAN's evaluation prints two dataset numbers; both are reported, named:
``frame_avg`` (mean over all scored frames of all sequences) and ``seq_avg`` (mean of the
per-sequence means). Non-finite values (PSNR of identical frames is ``inf``) are left out of
every mean and counted in ``n_nonfinite``.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

__all__ = ["MetricAccumulator", "aggregate"]


def _finite(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return v[np.isfinite(v)]


class MetricAccumulator:
    """Keeps every per-frame value; reduces on demand (torchmetrics-style)."""

    def __init__(self):
        self._values: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))

    def add(self, sequence: str, frame: int, metric: str, value: float) -> None:
        self._values[metric][sequence].append((int(frame), float(value)))

    @classmethod
    def from_frame(cls, df) -> "MetricAccumulator":
        """An accumulator holding the rows of a long DataFrame (sequence, frame, metric, value)."""
        acc = cls()
        for seq, frame, metric, value in df[["sequence", "frame", "metric", "value"]].itertuples(index=False):
            acc.add(seq, frame, metric, value)
        return acc

    def update(self, sequence: str, rows) -> None:
        for frame, metric, value in rows:
            self.add(sequence, frame, metric, value)

    @property
    def metrics(self) -> list[str]:
        return list(self._values)

    def sequence_means(self, metric: str) -> dict[str, float]:
        out = {}
        for seq, rows in self._values[metric].items():
            f = _finite([v for _, v in rows])
            out[seq] = float(f.mean()) if f.size else math.nan
        return out

    def summary(self, metric: str) -> dict:
        per_seq = self._values[metric]
        allv = [v for rows in per_seq.values() for _, v in rows]
        f = _finite(allv)
        means = [m for m in self.sequence_means(metric).values() if np.isfinite(m)]
        return {
            "frame_avg": float(f.mean()) if f.size else math.nan,
            "seq_avg": float(np.mean(means)) if means else math.nan,
            "n_frames": len(allv),
            "n_sequences": len(per_seq),
            "n_nonfinite": len(allv) - int(f.size),
        }

    def rows(self):
        for metric, seqs in self._values.items():
            for seq, rows in seqs.items():
                for frame, value in rows:
                    yield seq, frame, metric, value

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows()), columns=["sequence", "frame", "metric", "value"])


def aggregate(df) -> dict:
    """Long DataFrame (sequence, frame, metric, value) -> {metric: {frame_avg, seq_avg, ...}}."""
    acc = MetricAccumulator.from_frame(df)
    return {m: acc.summary(m) for m in acc.metrics}
