"""Outputs whose border is broken: the warning of ``vsrbench evaluate`` when the outer pixels of a method's
outputs score far below their interior.

Some published outputs carry garbage in their outer rows and columns (the DUF authors' Vid4 outputs:
up to ~8 px of wrong pixels on some sides), and the literature scores them with a border crop
(``basicsr-y --set crop_border=8`` in BasicSR, the ``duf`` preset in the DUF authors' script). A protocol
that scores the whole frame then gives a number ~2 dB below every one in print, silently.

:func:`check_border` measures, on a sample of frames (evenly spread over the clips, at most
:data:`SAMPLE_FRAMES`), the luma PSNR (BT.601 studio range) of the interior (``BORDER`` px cut on every
side) and of each side's outer strip of ``BORDER`` px, and averages per frame the **drop** from the
interior to the worst side. :func:`border_warning` says it once per method and dataset when the mean
drop exceeds :data:`THRESHOLD_DB`, and only when the protocol scores that border.

The threshold, measured on ../shared's Vid4 (first 10 frames of each clip, GT against the outputs;
per clip: mean drop over its frames, the largest single frame in brackets):

============  =========  ==========  ========================  ========================
clip          DUF-16L    DUF-52L     bicubic of bi-matlab LR   bicubic of bd-duf LR
============  =========  ==========  ========================  ========================
calendar      11.1       11.5        5.7 (6.2)                 7.8 (8.0)
city          16.4       14.6        0.2 (0.7)                 0.8 (1.2)
foliage       13.3       13.6        4.0 (4.2)                 3.6 (3.8)
walk          19.0       17.2        0.2 (0.4)                 -1.5 (-0.6)
all 4 clips   15.0       14.2        2.5                       2.7
============  =========  ==========  ========================  ========================

Clean outputs lose up to 8 dB on a side where the scene itself is harder there (calendar's lower edge);
the broken ones lose at least 10.3 dB on every frame. 9 dB separates every clip and every frame of
both; over the whole dataset the two kinds are 11 dB apart.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

__all__ = ["BORDER", "THRESHOLD_DB", "SAMPLE_FRAMES", "BorderCheck", "frame_drop", "check_border",
           "scores_border", "cropping_conventions", "quiet", "border_warning"]

BORDER = 8  # px: the strip DUF's outputs break and BasicSR's DUF convention crops
THRESHOLD_DB = 9.0  # mean interior-to-worst-side drop above which the border is called broken (see above)
SAMPLE_FRAMES = 12  # frames looked at per method and dataset (evenly spread over the clips)
_SIDES = ("top", "bottom", "left", "right")


@dataclass(frozen=True)
class BorderCheck:
    """The mean drop (dB) from the interior to the worst side over ``frames`` sampled frames, and the side
    that was worst most often."""

    drop_db: float
    frames: int
    side: str


def _luma(frame) -> np.ndarray:
    a = np.asarray(frame)
    x = a.astype(np.float64)
    if a.dtype == np.uint16:
        x /= 257.0
    elif np.issubdtype(a.dtype, np.floating) and x.max(initial=0.0) <= 1.0:
        x *= 255.0
    if x.ndim == 2:
        return x
    return 16.0 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255.0


def _psnr(mse: float) -> float:
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def frame_drop(gt, out, border: int = BORDER) -> tuple[float, str] | None:
    """``(interior PSNR - worst side PSNR, that side)`` of one frame pair (luma); None when the frame is too
    small for the strips or the output smaller than GT (a larger output is cut to GT's size, top left)."""
    g, o = _luma(gt), _luma(out)
    h, w = g.shape
    if o.shape[0] < h or o.shape[1] < w or min(h, w) <= 4 * border:
        return None
    d = (o[:h, :w] - g) ** 2
    inner = _psnr(float(d[border:-border, border:-border].mean()))
    strips = {"top": d[:border], "bottom": d[-border:], "left": d[:, :border], "right": d[:, -border:]}
    sides = {k: _psnr(float(v.mean())) for k, v in strips.items()}
    worst = min(_SIDES, key=sides.get)
    if math.isinf(inner) and math.isinf(sides[worst]):
        return 0.0, worst
    return inner - sides[worst], worst


def _sample(pairs: Sequence, limit: int) -> list[tuple]:
    """``(gt sequence, output sequence, frame index)`` spread evenly over the clips and their frames."""
    pairs = [(g, p) for g, p in pairs if len(g) and getattr(p, "only_index", None) is None]
    if not pairs:
        return []
    per_clip = max(1, limit // len(pairs))
    step = max(1, math.ceil(len(pairs) / limit))
    out = []
    for g, p in pairs[::step]:
        n = min(len(g), len(p))
        out += [(g, p, i) for i in sorted({round(k * (n - 1) / max(1, per_clip - 1)) for k in range(per_clip)})]
    return out[:limit]


def check_border(pairs: Sequence, *, border: int = BORDER, limit: int = SAMPLE_FRAMES) -> BorderCheck | None:
    """The border drop of (GT, output) sequence pairs (see the module docstring); None when no frame fits."""
    drops, sides = [], []
    for g, p, i in _sample(pairs, limit):
        got = frame_drop(g[i], p[i], border)
        if got is not None:
            drops.append(got[0])
            sides.append(got[1])
    if not drops:
        return None
    return BorderCheck(float(np.mean(drops)), len(drops), max(_SIDES, key=sides.count))


def scores_border(protocol, border: int = BORDER) -> bool:
    """Whether ``protocol`` scores pixels within ``border`` of the frame's edge."""
    return protocol.crop == "border" and int(protocol.crop_border) < border


def cropping_conventions(border: int = BORDER) -> list[str]:
    """The conventions that cut at least ``border`` px, as one types them: the presets that do, and the
    BasicSR convention the literature scores DUF with."""
    from vsrbench.metrics import PROTOCOLS

    named = [f"{name} (crop {p.crop_border} px{', ' + str(p.cut_frames) + ' frames cut at each end' if p.cut_frames else ''})"
             for name, p in PROTOCOLS.items() if p.crop == "border" and int(p.crop_border) >= border]
    return [f"basicsr-y --set crop_border={border} (BasicSR's DUF convention)"] + named


_QUIET = [0]  # > 0 inside quiet(): the outputs were checked when they were evaluated


@contextmanager
def quiet():
    """No border warning inside (``vsrbench table`` scoring stored outputs again under other conventions:
    ``vsrbench evaluate`` already said it)."""
    _QUIET[0] += 1
    try:
        yield
    finally:
        _QUIET[0] -= 1


def border_warning(pairs: Sequence, method: str, dataset: str, protocol, results: str,
                   say: Callable[[str], None]) -> BorderCheck | None:
    """Say once, through ``say``, that ``method``'s outputs on ``dataset`` have a broken border when they do
    and ``protocol`` scores it; returns the check (None when nothing was measured or said)."""
    if _QUIET[0] or not scores_border(protocol):
        return None
    check = check_border(pairs)
    if check is None or check.drop_db <= THRESHOLD_DB:
        return None
    say(f"warning: {method} on {dataset}: the outer {BORDER} px of the outputs score {check.drop_db:.1f} dB below "
        f"the interior (luma PSNR, worst side, mostly {check.side}; mean of {check.frames} sampled frames; clean "
        f"outputs stay under {THRESHOLD_DB:g} dB on Vid4): protocol {protocol.name} scores that border, the conventions "
        f"that crop it ({'; '.join(cropping_conventions())}) give higher numbers. To see which one a published "
        f"number used: vsrbench explain --results {results} --method {method} --dataset {dataset} "
        "--target psnr=VALUE")
    return check
