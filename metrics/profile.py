"""Temporal profiles (x-t slices): one pixel row (or column) of every frame, stacked over time.

Coherent video gives smooth streaks; flicker shows as noise across rows; drifting detail as
bent streaks. ``temporal_profile`` returns the slice as an array; ``vsrbench.visual.plots.plot_profiles``
draws GT and each method as stacked strips (``vsrbench profile`` on the command line).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from vsrbench.core.errors import InputError
from vsrbench.core.frames import check_frame, to_uint8

__all__ = ["temporal_profile", "temporal_energy", "default_profile_row", "default_profile_col", "profile_margin"]


def _frames_u8(frames) -> list[np.ndarray]:
    """Frames (NumPy (H, W, 3) or torch (3, H, W), any supported dtype) on the 8-bit grid."""
    out = []
    for i, f in enumerate(frames):
        if hasattr(f, "detach"):  # a torch tensor: (3, H, W) -> (H, W, 3), like every other metric
            if f.ndim != 3 or f.shape[0] != 3:
                raise InputError(f"frame {i}: expected a tensor of shape (3, H, W), got {tuple(f.shape)}")
            f = f.detach().cpu().permute(1, 2, 0).numpy()
        out.append(to_uint8(check_frame(f, f"frame {i}")))
        if out[-1].shape != out[0].shape:  # stacking would fail with numpy's own error
            (h0, w0), (h, w) = out[0].shape[:2], out[-1].shape[:2]
            raise InputError(f"frame {i} is {w}x{h} but frame 0 is {w0}x{h0}: frames of a sequence must have one size")
    if not out:
        raise InputError("a temporal profile needs at least one frame")
    return out


def temporal_profile(frames: Sequence, row: int | None = None, col: int | None = None) -> np.ndarray:
    """(T, W, 3) uint8 for a row ``y`` (the default when neither is given: the middle row),
    or (T, H, 3) for a column ``x``.

    Parameters
    ----------
    frames : sequence of numpy.ndarray or torch.Tensor
        The frames in order, all of one size: NumPy ``(H, W, 3)`` or torch ``(3, H, W)``, any supported
        dtype (taken to the 8-bit grid).
    row : int, optional
        The pixel row ``y`` to slice (default: the middle row, ``H // 2``).
    col : int, optional
        The pixel column ``x`` to slice instead of a row.

    Returns
    -------
    numpy.ndarray
        ``(T, W, 3)`` uint8 for a row, ``(T, H, 3)`` uint8 for a column: time runs down the rows.

    Raises
    ------
    vsrbench.core.errors.InputError
        No frames, frames of different sizes or of an unsupported shape or type, both ``row`` and
        ``col`` given, or a row or column outside the frame.

    Examples
    --------
    >>> import numpy as np
    >>> frames = [np.full((32, 48, 3), 10 * t, np.uint8) for t in range(5)]
    >>> temporal_profile(frames).shape, temporal_profile(frames, col=0).shape
    ((5, 48, 3), (5, 32, 3))
    >>> temporal_profile(frames, row=0)[:, 0, 0]  # one pixel over time
    array([ 0, 10, 20, 30, 40], dtype=uint8)
    """
    fr = _frames_u8(frames)
    h, w = fr[0].shape[:2]
    if row is not None and col is not None:
        raise InputError("give either row or col, not both")
    if col is not None:
        if not 0 <= col < w:
            raise InputError(f"column {col} is outside the frame width {w}")
        return np.stack([f[:, col] for f in fr])
    row = h // 2 if row is None else row
    if not 0 <= row < h:
        raise InputError(f"row {row} is outside the frame height {h}")
    return np.stack([f[row] for f in fr])


def temporal_energy(frames: Sequence, axis: str = "row") -> np.ndarray:
    """Per row (or column) sum of squared luma differences between consecutive frames."""
    fr = _frames_u8(frames)
    if len(fr) < 2:
        raise InputError("temporal energy needs at least 2 frames")
    y = np.stack([f.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) for f in fr])
    d2 = np.diff(y, axis=0) ** 2  # (T-1, H, W)
    return d2.sum(axis=(0, 2)) if axis == "row" else d2.sum(axis=(0, 1))


def profile_margin(length: int) -> int:
    """Rows (columns) at each edge the default profile never picks: 8, or 1/16 of the side if more, and
    never so many that nothing is left. Edges change most under camera motion (new content enters there)
    and hold the garbage strips of some outputs (DUF), so the edge row said little about a method."""
    return min(max(8, length // 16), max(0, (length - 1) // 2))


def _busiest(energy: np.ndarray) -> int:
    m = profile_margin(len(energy))
    return m + int(np.argmax(energy[m:len(energy) - m]))


def default_profile_row(gt_frames: Sequence) -> int:
    """The GT row with the most temporal change (squared frame differences of luma), away from the top and
    bottom edges (:func:`profile_margin`)."""
    return _busiest(temporal_energy(gt_frames, "row"))


def default_profile_col(gt_frames: Sequence) -> int:
    """The GT column with the most temporal change, away from the left and right edges."""
    return _busiest(temporal_energy(gt_frames, "col"))
