"""Which convention gives this number? Score outputs under every convention that moves PSNR/SSIM.

:func:`explain` decodes every GT and output frame **once**, computes per frame the planes of each
colour convention (BT.601 luma in float64 as TecoGAN, in float32 as BasicSR, or RGB) and from them
the PSNR (and, when an SSIM target is asked, the SSIM) of every crop, then forms every variant's
dataset number from those cached per-frame values by choosing the scored frames and the average.
So it costs about one evaluation, not one per variant.

The axes (their product; a variant that a clip is too short or too small for is left out):

- colour: ``y`` with ``y_precision`` ``float64`` / ``float32``, or ``rgb``;
- crop: ``crop_border`` 0 / 4 / 8 / the scale, or TecoGAN's ``center32`` window;
- frames: ``cut_frames`` 0 / 2 at each end, or ``frames_scored=center`` (only frame ``n // 2``);
- SSIM only: ``ssim`` ``uniform7`` / ``gaussian11`` and ``ssim_data_range`` ``255`` / ``pred``;
- averaging: ``frame_avg`` (mean of all scored frames) or ``seq_avg`` (mean of per-clip means);
  where both are equal (``frames_scored=center``, or every clip scores as many frames) one row,
  ``seq_avg=frame_avg``, stands for both.

Each variant is written as the preset that needs the fewest overrides plus those overrides
(``basicsr-y --set crop_border=8 cut_frames=2``); its number equals
``evaluate_sequence(pred, gt, protocol=get_protocol(preset, **overrides))`` aggregated with its
averaging. The SSIM of every crop comes from the local moments of the whole frame computed once
per window (valid-region filtering: a crop's valid SSIM map is the matching part of the frame's).

Ranking: with one target, by ``|value - target|``. With several, by the root mean square of
``(value - target) / unit`` over the targets, where ``unit`` is one step of the target's last
printed digit (``27.38`` -> 0.01 dB, ``0.8329`` -> 0.0001): the distance in "last digits".
"""
from __future__ import annotations

from pathlib import Path

import math
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Callable, Sequence

import numpy as np
import torch

from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.io import FrameSequence, pair_frames
from vsrbench.core.text import text_table
from vsrbench.metrics import METRICS, MetricAccumulator
from vsrbench.metrics.protocol import PROTOCOLS, Protocol, get_protocol
from vsrbench.metrics._kernels import (
    as_batch, center32_window, color_planes, crop, match_sizes, psnr_planes, quantize255, size_rule_note,
    ssim_window, valid_filter,
)

__all__ = [
    "TARGET_METRICS", "PRESET_ORDER", "COLOURS", "SSIM_VARIANTS", "Target", "parse_target", "explain_scale", "Variant", "Row", "Explanation", "explain", "format_table",
    "ExplainRequest", "run_explain",
]

TARGET_METRICS = ("psnr", "ssim")
PRESET_ORDER = ("basicsr-y", "basicsr-rgb", "duf", "tecogan")  # ties: the first needs fewest words
COLOURS = (("y", "float64"), ("y", "float32"), ("rgb", "float64"))
SSIM_VARIANTS = (("uniform7", "pred"), ("uniform7", "255"), ("gaussian11", "255"), ("gaussian11", "pred"))


# ----------------------------------------------------------------- targets

@dataclass(frozen=True)
class Target:
    """``psnr=27.38``: the metric, the value and one unit of its last printed digit."""

    metric: str
    value: float
    unit: float
    text: str


#: the values a target can take: PSNR >= 0 dB (an 8-bit MSE is at most 255^2), SSIM in [-1, 1]
POSSIBLE = {"psnr": (0.0, math.inf), "ssim": (-1.0, 1.0)}


def parse_target(text: str) -> Target:
    """``"psnr=27.38"`` -> Target. Unknown metrics get a did-you-mean; metrics with no convention axis here
    (LPIPS, tOF, tLP) are refused in one line."""
    name, sep, raw = str(text).partition("=")
    name, raw = name.strip().lower(), raw.strip()
    if not sep or not name or not raw:
        raise InputError(f"--target {text!r}: expected METRIC=VALUE, e.g. --target psnr=27.38")
    if name not in METRICS:
        raise UnknownNameError("--target metric", name, TARGET_METRICS)
    if METRICS[name].family == "dover":
        return _scale_target(name, raw, text)
    if name not in TARGET_METRICS:
        raise InputError(f"--target {text!r}: explain varies the PSNR and SSIM conventions only (colour, crop, frames, "
                         f"SSIM window, averaging); {METRICS[name].label} has no such axis here: use --target psnr=... "
                         "or ssim=..., and vsrbench evaluate for its value")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"--target {text!r}: {raw!r} is not a number; expected METRIC=VALUE, e.g. "
                         f"--target {name}=27.38") from None
    if not math.isfinite(value):
        raise InputError(f"--target {text!r}: expected a finite number, got {raw!r}")
    low, high = POSSIBLE[name]
    if value < low or value > high:
        span = f"between {low:g} and {high:g}" if math.isfinite(high) else f">= {low:g}"
        raise InputError(f"--target {text!r}: {raw} is not a possible {METRICS[name].label} (expected {span}); "
                         "no convention can give it")
    m = re.fullmatch(r"[+-]?\d*(?:\.(\d*))?", raw)
    decimals = len(m.group(1) or "") if m else 2
    return Target(name, value, 10.0 ** -decimals, f"{name}={raw}")


def _scale_target(name: str, raw: str, text: str) -> Target:
    """A printed DOVER / FasterVQA number: explained by the scale it is on, not by scoring frames."""
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"--target {text!r}: {raw!r} is not a number; expected e.g. --target dover=0.78") from None
    return Target(name, value, 0.0, f"{name}={raw}")


def explain_scale(targets: Sequence[Target]) -> str:
    """What ``vsrbench explain --target dover=0.78`` prints: the conventions a printed DOVER-family number can be
    on, likeliest first (:func:`vsrbench.metrics.dover.printed_conventions`), with the metric that stores it."""
    from vsrbench.metrics.dover import printed_conventions

    lines = []
    for t in targets:
        lines.append(f"{t.text}: a DOVER-family number is explained by its scale (no frames are scored); it can be:")
        lines += [f"  {metric:<22} {why}" for metric, why in printed_conventions(t.value)]
    lines.append("score it with: vsrbench evaluate --pred PRED --metrics METRIC (--metric-option dover.seed=N; "
                 "dover.repeats=K for the mean over K seeds)")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- variants

@dataclass(frozen=True)
class Variant:
    """One convention: the protocol fields that move the number, plus the averaging."""

    color: str
    y_precision: str
    crop: str
    crop_border: int
    frames_scored: str
    cut_frames: int
    average: str
    ssim: str | None = None
    ssim_data_range: str | None = None

    @property
    def colour_key(self) -> str:
        return "rgb" if self.color == "rgb" else ("y64" if self.y_precision == "float64" else "y32")

    @property
    def crop_key(self) -> tuple:
        return ("center32", 0) if self.crop == "center32" else ("border", int(self.crop_border))

    def needed(self) -> dict:
        """The protocol fields this variant fixes (the others do not change its numbers)."""
        d = {"color": self.color}
        if self.color == "y":
            d["y_precision"] = self.y_precision
        d["crop"] = self.crop
        if self.crop == "border":
            d["crop_border"] = int(self.crop_border)
        if self.frames_scored == "all":
            d["cut_frames"] = int(self.cut_frames)
        d["frames_scored"] = self.frames_scored
        if self.ssim is not None:
            d["ssim"], d["ssim_data_range"] = self.ssim, self.ssim_data_range
        return d


def _as_override(variant: Variant, size_cut: bool = False) -> tuple[str, dict]:
    """The preset needing the fewest overrides, and those overrides (field order of Protocol)."""
    need = variant.needed()
    best = None
    for name in PRESET_ORDER:
        base = PROTOCOLS[name]
        over = {k: v for k, v in need.items() if getattr(base, k) != v}
        if size_cut and base.size_rule == "error":
            over["size_rule"] = "crop-pred"
        if best is None or len(over) < len(best[1]):
            best = (name, over)
    order = [f.name for f in fields(Protocol)]
    return best[0], {k: best[1][k] for k in sorted(best[1], key=order.index)}


def _override_text(preset: str, overrides: dict) -> str:
    return preset + (" --set " + " ".join(f"{k}={v}" for k, v in overrides.items()) if overrides else "")


@dataclass
class Row:
    """A variant with its dataset numbers and its distance to the targets."""

    variant: Variant
    preset: str
    overrides: dict
    values: dict[str, float]
    deltas: dict[str, float] = field(default_factory=dict)
    distance: float = math.inf
    suite: bool = False  # the --suite's own convention
    both_averages: bool = False  # frame_avg equals seq_avg here (every clip scores as many frames)

    @property
    def averaging(self) -> str:
        return "seq_avg=frame_avg" if self.both_averages else self.variant.average

    @property
    def text(self) -> str:
        return _override_text(self.preset, self.overrides)

    def protocol(self) -> Protocol:
        """The protocol that reproduces this row (its averaging is :attr:`Variant.average`)."""
        return get_protocol(self.preset, **self.overrides)

    def evaluate_command(self, gt: str = "GT", pred: str = "PRED", suite: str | None = None,
                         clips_only: bool = False) -> str:
        """The ``vsrbench evaluate`` command line that scores this row's convention on ``gt`` / ``pred``
        (shell-quoted; the placeholders GT and PRED when the paths are not known), checked as ``suite``
        (its clip set only with ``clips_only``)."""
        import shlex

        sets = "".join(f" --set {k}={v}" for k, v in self.overrides.items())
        where = "" if suite is None else f" --suite {shlex.quote(suite)}" + (" --clips-only" if clips_only else "")
        quote = (lambda p: p) if (gt, pred) == ("GT", "PRED") else shlex.quote
        return f"vsrbench evaluate{where} --gt {quote(gt)} --pred {quote(pred)} --protocol {self.preset}{sets}"


# ----------------------------------------------------------------- the one pass

def _crop_box(h: int, w: int, key: tuple) -> tuple[int, int, int, int] | None:
    """(y0, x0, h, w) of a crop on an h x w frame, or None when it leaves nothing."""
    kind, b = key
    if kind == "center32":
        try:
            (oy, sh), (ox, sw) = center32_window(h), center32_window(w)
        except InputError:
            return None
        return oy, ox, sh, sw
    if 2 * b >= min(h, w):
        return None
    return b, b, h - 2 * b, w - 2 * b


def _crop_protocol(key: tuple) -> Protocol:
    kind, b = key
    return get_protocol("basicsr-y", crop=kind, crop_border=b)


class _Cache:
    """Per clip: per-frame PSNR (and SSIM) of every colour x crop (x SSIM window x range)."""

    def __init__(self, crops: Sequence[tuple], want_psnr: bool, want_ssim: bool):
        self.crops, self.want_psnr, self.want_ssim = list(crops), want_psnr, want_ssim
        self.colour_protos = {("rgb" if c == "rgb" else ("y64" if p == "float64" else "y32")):
                              get_protocol("basicsr-y", color=c, y_precision=p) for c, p in COLOURS}
        self.crop_protos = {k: _crop_protocol(k) for k in self.crops}
        self.windows = {v: ssim_window(v) for v in ("uniform7", "gaussian11")} if want_ssim else {}
        # (clip, key) -> list of per-frame values (NaN where the crop does not fit)
        self.psnr: dict = {}
        self.ssim: dict = {}
        self.frames: dict[str, int] = {}
        self.size_cut = False

    def frame(self, clip: str, t: int, g_raw, p_raw, what: str) -> None:
        g, _ = as_batch(g_raw, f"{what} GT")
        p, _ = as_batch(p_raw, f"{what} output")
        g, p = quantize255(g), quantize255(p)
        if tuple(p.shape[-2:]) != tuple(g.shape[-2:]):
            self.size_cut = True
        p, g = match_sizes(p, g, "crop-pred", what, warn=False)
        h, w = g.shape[-2:]
        boxes = {k: _crop_box(h, w, k) for k in self.crops}
        for ck, cproto in self.colour_protos.items():
            pp, gg = color_planes(p, cproto), color_planes(g, cproto)
            if self.want_psnr:
                for k, box in boxes.items():
                    v = float(psnr_planes(crop(pp, self.crop_protos[k]), crop(gg, self.crop_protos[k]))[0]) \
                        if box else math.nan
                    self.psnr.setdefault((clip, ck, k), {})[t] = v
            if self.want_ssim:
                self._ssim(clip, t, ck, pp[0].numpy(), gg[0].numpy(), boxes)

    def _ssim(self, clip, t, ck, pp: np.ndarray, gg: np.ndarray, boxes: dict) -> None:
        """Local moments of the whole frame once per window; each crop's map is a slice of them
        (the same arithmetic, element by element, as :func:`ssim_planes` on the cropped planes)."""
        chans = []  # per channel: the planes and their products, shared by both windows
        for c in range(pp.shape[0]):
            p, g = np.ascontiguousarray(pp[c]), np.ascontiguousarray(gg[c])
            chans.append((p, g, p * p, g * g, p * g))
        for win, (taps, cov_norm) in self.windows.items():
            size = len(taps)
            terms = []
            for p, g, p2, g2, pg in chans:
                mp, mg = valid_filter(p, taps), valid_filter(g, taps)
                mp2, mg2, mpg = mp * mp, mg * mg, mp * mg
                vp = cov_norm * (valid_filter(p2, taps) - mp2)
                vg = cov_norm * (valid_filter(g2, taps) - mg2)
                cpg = cov_norm * (valid_filter(pg, taps) - mpg)
                terms.append((2 * mpg, 2 * cpg, mp2 + mg2, vp + vg))  # 2 * mp * mg: doubling is exact
            smaps: dict = {}  # data range -> per-channel SSIM map of the whole frame (crops share most ranges)
            for k, box in boxes.items():
                for rng in ("pred", "255"):
                    key = (clip, ck, k, win, rng)
                    if box is None or min(box[2:]) < size:
                        self.ssim.setdefault(key, {})[t] = math.nan
                        continue
                    y0, x0, hh, ww = box
                    sl = (slice(y0, y0 + hh - size + 1), slice(x0, x0 + ww - size + 1))
                    if rng == "pred":
                        region = pp[:, y0:y0 + hh, x0:x0 + ww]
                        r = float(region.max() - region.min())
                    else:
                        r = 255.0
                    if r not in smaps:
                        c1, c2 = (0.01 * r) ** 2, (0.03 * r) ** 2
                        smaps[r] = [((a + c1) * (b + c2)) / ((cc + c1) * (d + c2)) for a, b, cc, d in terms]
                    per_channel = [float(np.mean(m[sl])) for m in smaps[r]]
                    self.ssim.setdefault(key, {})[t] = float(np.mean(per_channel))


@contextmanager
def _single_torch_thread():
    """torch single-threaded while frames decode in a worker thread (its intra-op pool on top of it
    oversubscribes the cores: 5x slower measured on 2 cores, like the evaluation pipeline)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _scored(n: int, frames_scored: str, cut: int) -> list[int] | None:
    if frames_scored == "center":
        return [n // 2] if n else None
    idx = list(range(cut, n - cut))
    return idx or None


def _aggregate(per_clip: dict[str, dict[int, float]], frames: dict[str, int], variant: Variant) -> float | None:
    """The variant's dataset number from cached per-frame values (MetricAccumulator's rules), or None
    when a clip is too short for its frames or the crop does not fit a frame."""
    acc = MetricAccumulator()
    for clip, n in frames.items():
        idx = _scored(n, variant.frames_scored, variant.cut_frames)
        if idx is None:
            return None
        vals = per_clip[clip]
        for t in idx:
            v = vals[t]
            if math.isnan(v):
                return None
            acc.add(clip, t, "m", v)
    return acc.summary("m")[variant.average]


# ----------------------------------------------------------------- public entry point

@dataclass
class Explanation:
    targets: list[Target]
    rows: list[Row]  # ranked, closest first
    n_frames: int  # frames decoded (GT + output pairs)
    clips: list[str]
    suite_row: Row | None = None

    @property
    def fitting(self) -> list[Row]:
        """The rows that give every target within its rounding (half a unit of its last printed digit)."""
        return [r for r in self.rows if all(abs(r.deltas[t.metric]) <= 0.5 * t.unit * (1 + 1e-9) for t in self.targets)]


def explain(
    pairs: Sequence[tuple[FrameSequence, FrameSequence]],
    targets: Sequence[Target],
    *,
    scale: int = 4,
    suite_protocol: Protocol | None = None,
    progress: Callable[[int], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Explanation:
    """Score ``(gt, pred)`` sequence pairs under every variant and rank them against ``targets``.

    The variants and the ranking are described in the module docstring.

    Parameters
    ----------
    pairs : sequence of (FrameSequence, FrameSequence)
        ``(gt, pred)`` pairs, one per clip (the GT first); frames pair by the number in their names.
    targets : sequence of Target
        The published numbers to explain, one per metric (:func:`parse_target`: ``"psnr=27.38"``).
    scale : int
        The upscaling factor: ``crop_border`` also tries this value.
    suite_protocol : Protocol, optional
        The suite's own convention: added to the axes when missing, and its row marked
        (:attr:`Explanation.suite_row`).
    progress : callable, optional
        ``progress(1)`` is called after each decoded frame pair.
    warn : callable, optional
        ``warn(line)`` hears what decoding changes about the frames (gray, alpha, 16-bit, lossy video)
        and size-rule cuts, once per sequence.

    Returns
    -------
    Explanation
        The variants' rows ranked closest first (``.rows``), those within the targets' rounding
        (``.fitting``) and the suite's row; :func:`format_table` prints them.

    Raises
    ------
    vsrbench.core.errors.InputError
        No target or a metric targeted twice, a GT and an output of different frame counts, a clip
        without frames, frames that cannot be compared, or no convention that fits these frames.

    Examples
    --------
    >>> import numpy as np
    >>> from vsrbench.core.io import FrameSequence
    >>> rng = np.random.default_rng(0)
    >>> gt = FrameSequence.from_arrays("clip", [rng.integers(20, 236, (64, 64, 3), dtype=np.uint8) for _ in range(5)])
    >>> out = FrameSequence.from_arrays("clip", [f + 10 for f in gt])  # every value 10 levels too bright
    >>> ex = explain([(gt, out)], [parse_target("psnr=28.13")])
    >>> ex.rows[0].text, round(ex.rows[0].values["psnr"], 4)  # RGB: 10 log10(255^2 / 100)
    ('basicsr-rgb', 28.1308)
    >>> sorted({r.variant.colour_key for r in ex.fitting})  # a uniform error: no crop or frame rule moves it
    ['rgb']
    """
    if not targets:
        raise InputError("explain needs at least one --target METRIC=VALUE, e.g. --target psnr=27.38")
    metrics = {t.metric for t in targets}
    if len({t.metric for t in targets}) != len(targets):
        dup = [t.metric for t in targets]
        raise InputError(f"--target: {sorted({m for m in dup if dup.count(m) > 1})[0]} given twice; give one value per metric")
    borders = sorted({0, 4, 8, int(scale)})
    cuts = [0, 2]
    if suite_protocol is not None:  # seed the axes with the suite's convention
        if suite_protocol.crop == "border" and int(suite_protocol.crop_border) not in borders:
            borders.append(int(suite_protocol.crop_border))
        if int(suite_protocol.cut_frames) not in cuts:
            cuts.append(int(suite_protocol.cut_frames))
    crops = [("border", b) for b in borders] + [("center32", 0)]
    cache = _Cache(crops, "psnr" in metrics, "ssim" in metrics)
    # outputs holding only their centre frame (Vimeo-90K-T im4, see suites.centre_padded) can only be
    # scored on that frame: every other frame rule would compare im4 with other GT frames
    centre_only = any(getattr(p, "only_index", None) is not None for _, p in pairs)
    with ThreadPoolExecutor(max_workers=2) as pool, _single_torch_thread():
        n_frames = _score_frames(pairs, cache, centre_only, progress, warn, pool)
    rows = _variant_rows(cache, targets, crops, cuts, centre_only)
    if not rows:
        raise InputError("no convention fits these frames (clips too short for the frame cut or frames too small for "
                         "the crops)")
    _rank(rows, targets)
    suite_row = None
    if suite_protocol is not None:
        suite_row = _mark_suite(rows, suite_protocol, metrics)
    return Explanation(list(targets), rows, n_frames, list(cache.frames), suite_row)


def _score_frames(pairs, cache: "_Cache", centre_only: bool, progress, warn, pool) -> int:
    """Decode every (GT, output) frame pair once (the next one in a worker) and add it to ``cache``;
    returns the number of frame pairs."""
    n_frames = 0
    for g_seq, p_seq in pairs:
        p_seq = pair_frames(g_seq, p_seq).aligned()  # frames pair by the number in their names
        if len(g_seq) != len(p_seq):
            raise InputError(f"sequence {g_seq.name!r}: GT has {len(g_seq)} frames but the output has {len(p_seq)}")
        if len(g_seq) == 0:
            raise InputError(f"sequence {g_seq.name!r}: no frames")
        cache.frames[g_seq.name] = len(g_seq)
        if warn:  # what decoding changes (gray, alpha, 16-bit, lossy video), as evaluate says it
            for who, seq in (("GT", g_seq), ("output", p_seq)):
                for note in seq.input_notes():
                    warn(f"sequence {g_seq.name!r}: {who} {note}")
        noted = False
        todo = [len(g_seq) // 2] if centre_only else list(range(len(g_seq)))
        nxt = pool.submit(lambda i=todo[0]: (g_seq[i], p_seq[i]))
        for k, t in enumerate(todo):
            g_raw, p_raw = nxt.result()
            if k + 1 < len(todo):
                nxt = pool.submit(lambda i=todo[k + 1]: (g_seq[i], p_seq[i]))
            note = size_rule_note(np.shape(p_raw)[:2], np.shape(g_raw)[:2], "crop-pred")
            if note and warn and not noted:
                noted = True
                warn(f"sequence {g_seq.name!r}: {note}")
            cache.frame(g_seq.name, t, g_raw, p_raw, f"sequence {g_seq.name!r}, frame {t} ({g_seq.frame_name(t)})")
            n_frames += 1
            if progress:
                progress(1)
    return n_frames


def _variant_rows(cache: "_Cache", targets: Sequence[Target], crops, cuts, centre_only: bool) -> list["Row"]:
    """A row per variant that fits the frames, with its value of each target's metric (one row for both
    averages when they agree)."""
    metrics = {t.metric for t in targets}
    colours = list(COLOURS)
    ssims = list(SSIM_VARIANTS) if "ssim" in metrics else [(None, None)]
    frame_rules = ([] if centre_only else [("all", c) for c in sorted(cuts)]) + [("center", 0)]
    rows: list[Row] = []
    for (color, prec) in colours:
        for kind, b in crops:
            for fs, cut in frame_rules:
                for sv, sr in ssims:
                    prev = None  # the seq_avg row of this variant
                    for avg in (("seq_avg", "frame_avg") if fs == "all" else ("seq_avg",)):
                        v = Variant(color, prec, kind, b, fs, cut, avg, sv, sr)
                        values = {}
                        for t in targets:
                            if t.metric == "psnr":
                                per = {c: cache.psnr[(c, v.colour_key, v.crop_key)] for c in cache.frames}
                            else:
                                per = {c: cache.ssim[(c, v.colour_key, v.crop_key, sv, sr)] for c in cache.frames}
                            values[t.metric] = _aggregate(per, cache.frames, v)
                        if any(x is None for x in values.values()):
                            continue
                        if prev is not None and all(
                                math.isclose(values[m], prev.values[m], rel_tol=1e-12, abs_tol=0) for m in values):
                            prev.both_averages = True  # every clip scores as many frames: one row for both
                            continue
                        preset, over = _as_override(v, cache.size_cut)
                        rows.append(Row(v, preset, over, values))
                        prev = rows[-1]
    return rows


def _rank(rows: list["Row"], targets: Sequence[Target]) -> None:
    """Each row's differences to the targets and its distance; rows sorted closest first."""
    for r in rows:
        r.deltas = {t.metric: r.values[t.metric] - t.value for t in targets}
        if len(targets) == 1:
            r.distance = abs(r.deltas[targets[0].metric])
        else:
            r.distance = math.sqrt(sum((r.deltas[t.metric] / t.unit) ** 2 for t in targets) / len(targets))
        if not math.isfinite(r.distance):
            r.distance = math.inf
    rows.sort(key=lambda r: _order(r, targets))


def _order(row: "Row", targets: Sequence[Target]) -> tuple:
    """The sort key of a row: by distance, where a tenth of the targets' last printed digit counts as a tie
    (float32 and float64 luma differ by far less); among ties the variant written with the fewest overrides,
    then the first of :data:`PRESET_ORDER` (so no needless ``y_precision=float64``)."""
    units = row.distance / targets[0].unit if len(targets) == 1 else row.distance
    tier = round(units, 1) if math.isfinite(units) else math.inf
    return (tier, len(row.overrides), PRESET_ORDER.index(row.preset), row.distance)


def _mark_suite(rows: list[Row], proto: Protocol, metrics: set) -> Row | None:
    fs = proto.frames_scored
    for r in rows:
        v = r.variant
        same = (v.color == proto.color and (v.color == "rgb" or v.y_precision == proto.y_precision)
                and v.crop_key == (("center32", 0) if proto.crop == "center32" else ("border", int(proto.crop_border)))
                and v.frames_scored == fs and (fs == "center" or v.cut_frames == int(proto.cut_frames))
                and (fs == "center" or v.average == proto.average or r.both_averages)
                and ("ssim" not in metrics or (v.ssim, v.ssim_data_range) == (proto.ssim, proto.ssim_data_range)))
        if same:
            r.suite = True
            return r
    return None


# ----------------------------------------------------------------- text output

def format_table(ex: Explanation, top: int = 10, inputs: tuple | None = None) -> str:
    """The ``top`` closest variants as a text table, then the ``closest:`` line (its command names the
    ``inputs``, ``(gt, pred, suite or None, clips_only)``, when given; else GT and PRED)."""
    metrics = [t.metric for t in ex.targets]
    head = ["rank", "variant", "averaging"] + [METRICS[m].label for m in metrics] + [f"Δ {METRICS[m].label}" for m in metrics]
    if len(metrics) > 1:
        head.append("distance")
    shown = ex.rows[:max(1, top)]
    if ex.suite_row is not None and ex.suite_row not in shown:
        shown = shown + [ex.suite_row]
    lines = []
    for r in shown:
        rank = ex.rows.index(r) + 1
        cells = [str(rank), r.text + (" (suite)" if r.suite else ""), r.averaging]
        cells += [_fmt(r.values[m], m) for m in metrics]
        cells += [_fmt(r.deltas[m], m, signed=True) for m in metrics]
        if len(metrics) > 1:
            cells.append(f"{r.distance:.2f}")
        lines.append(cells)
    out = text_table(lines, header=head, align="rll" + "r" * (len(head) - 3), rule="-")
    return "\n".join(out + verdict(ex, inputs))


def verdict(ex: Explanation, inputs: tuple | None = None) -> list[str]:
    """The lines under the table: the ``closest:`` variant, preceded by ``ambiguous:`` (the variants that all
    give the targets within rounding) when several fit, or ``nothing fits:`` when none does."""
    metrics = [t.metric for t in ex.targets]
    best = ex.rows[0]
    deltas = ", ".join(f"Δ {m} {_fmt(best.deltas[m], m, signed=True)}{' dB' if m == 'psnr' else ''}" for m in metrics)
    fits = best in ex.fitting
    printed = "the printed value" + ("s" if len(metrics) > 1 else "")
    rounds = f"rounds to {printed}" if fits else f"does not round to {printed}"
    closest = (f"closest: {best.text}, {best.averaging} ({deltas}; {rounds}); reproduce with: "
               f"{best.evaluate_command(*(inputs or ()))} (read its {best.variant.average})")
    targets = ", ".join(t.text for t in ex.targets)
    rounding = ", ".join(f"|Δ {t.metric}| <= {_fmt(0.5 * t.unit, t.metric)}" for t in ex.targets)
    fitting = ex.fitting
    if not fitting:
        return [f"nothing fits: none of the {len(ex.rows)} variants gives {targets} within rounding ({rounding}); "
                "the closest is shown, it does not explain the number", closest]
    if len(fitting) == 1:
        return [closest]
    return [f"ambiguous: {len(fitting)} variants give {targets} within rounding ({rounding}); these frames cannot "
            f"tell them apart: " + "; ".join(f"{r.text}, {r.averaging}" for r in fitting), closest]


def _fmt(v: float, metric: str, signed: bool = False) -> str:
    if not math.isfinite(v):
        return str(v)
    dec = 3 if metric == "psnr" else 5
    if signed and v != 0 and abs(v) < 0.5 * 10.0 ** -dec:  # not "+0.000": say how small
        return f"{v:+.1e}"
    return f"{v:+.{dec}f}" if signed else f"{v:.{dec}f}"


# ----------------------------------------------------------------- a results store as input

def _inputs_from_results(results_dir, method: str, dataset: str | None = None) -> tuple[Path, Path, str | None]:
    """GT folder, output folder and suite (or None) of a stored method on a dataset, read from the run
    records of a results folder (``vsrbench run`` or ``vsrbench evaluate``): the dataset's recorded
    ``gt``; the method's recorded ``outputs`` for it, or the outputs a model method wrote into
    ``RESULTS/outputs/METHOD/DATASET``. ``dataset`` may be left out when the method has one."""
    from vsrbench.core.errors import UnknownNameError
    from vsrbench.results.store import find_results_dir
    from vsrbench.results.loading import load_results, recorded_paths

    folder = find_results_dir(results_dir)
    df = load_results(folder)
    methods = sorted(set(df["method"]))
    if method not in methods:
        raise UnknownNameError("method", method, methods)
    have = sorted(set(df.loc[df["method"] == method, "dataset"]))
    if dataset is None:
        if len(have) != 1:
            raise InputError(f"method {method!r} is stored on {len(have)} datasets ({', '.join(have)}); "
                             "choose one with --dataset")
        dataset = have[0]
    elif dataset not in have:
        raise UnknownNameError(f"dataset of method {method!r}", dataset, have)
    try:
        return recorded_paths(folder, method, dataset)
    except InputError as e:
        raise InputError(f"{e}; give --gt and --pred instead") from None


@dataclass(frozen=True)
class ExplainRequest:
    """What ``vsrbench explain`` explains: ``targets`` (parsed with :func:`parse_target`) against
    the frames of ``gt`` and ``pred``, or of a stored ``method`` of the results folder ``results``
    (on ``dataset`` when it has several); ``suite``: check the inputs against this suite (the clip
    set only with ``clips_only``) and mark its convention; ``scale``: also try crop_border=scale;
    ``top``: the variants listed."""

    targets: tuple[Target, ...]
    gt: str | None = None
    pred: str | None = None
    results: str | None = None
    method: str | None = None
    dataset: str | None = None
    suite: str | None = None
    clips_only: bool = False
    scale: int = 4
    top: int = 10


def run_explain(request: ExplainRequest, *, say: Callable[[str], None] | None = None) -> str:
    """Score the inputs of ``request`` under every convention (:func:`explain`) and return the text
    ``vsrbench explain`` prints: a summary line, the table of the closest variants and, with a
    suite, where its convention ranks. ``say`` (default: stderr) gets the lines about the inputs
    and the warnings."""
    import sys

    from vsrbench.core.progress import Progress

    say = say or (lambda line: print(line, file=sys.stderr))
    scale = [t for t in request.targets if METRICS[t.metric].family == "dover"]
    if scale:
        if len(scale) != len(request.targets):
            raise InputError("--target: a DOVER-family number is explained by its scale alone; give it without "
                             "--target psnr/ssim (explain those in a second command)")
        return explain_scale(scale)
    r = _explain_inputs(request, say)
    suite, suite_protocol, pairs = _explain_pairs(r, say)
    targets = r.targets
    warn = lambda text: say(f"vsrbench explain: warning: {text}")  # noqa: E731
    with Progress(sum(len(g) for g, _ in pairs), "explain") as prog:
        ex = explain(pairs, targets, scale=r.scale, suite_protocol=suite_protocol, progress=prog.update, warn=warn)
    lines = [f"{len(ex.rows)} variants scored on {len(ex.clips)} clip(s), {ex.n_frames} frames; "
             f"closest to {', '.join(t.text for t in targets)} first",
             format_table(ex, r.top, (r.gt, r.pred, None if suite is None else suite.name, r.clips_only))]
    if suite is not None:
        row = ex.suite_row
        if row is None:
            lines.append(f"suite {suite.name} convention ({suite.convention()}): not among the variants scored")
        else:
            vals = ", ".join(f"{t.metric} {row.values[t.metric]:.{3 if t.metric == 'psnr' else 5}f}" for t in targets)
            lines.append(f"suite {suite.name} convention ({suite.convention()}): rank {ex.rows.index(row) + 1} of "
                         f"{len(ex.rows)}, {vals}")
    return "\n".join(lines) + "\n"


def _explain_inputs(r: ExplainRequest, say: Callable[[str], None]) -> ExplainRequest:
    """``r`` with ``gt``/``pred`` (and the recorded suite) read from the results folder when it names
    one; the inputs and the numbers checked."""
    from dataclasses import replace

    if r.results:
        if r.gt or r.pred:
            raise InputError("give either --results (with --method) or --gt and --pred, not both")
        if not r.method:
            raise InputError("--results needs --method NAME (the stored method to explain)")
        gt, pred, recorded_suite = _inputs_from_results(r.results, r.method, r.dataset)
        r = replace(r, gt=str(gt), pred=str(pred))
        if not r.suite and recorded_suite:  # checked when it was stored: check the clip set again
            r = replace(r, suite=recorded_suite, clips_only=True)
        say(f"explaining {r.method}: GT {r.gt}, outputs {r.pred}" + (f", suite {r.suite}" if r.suite else ""))
    elif not (r.gt and r.pred):
        raise InputError("give --gt and --pred (or --results RESULTS --method NAME)")
    elif r.method or r.dataset:
        raise InputError("--method/--dataset go with --results; leave them out with --gt/--pred")
    if r.top < 1:
        raise InputError(f"--top: expected a positive number of rows, got {r.top}")
    if r.scale < 1:
        raise InputError(f"--scale: expected a positive upscaling factor, got {r.scale}")
    return r


def _explain_pairs(r: ExplainRequest, say: Callable[[str], None]) -> tuple:
    """(suite or None, its protocol or None, the (GT, output) sequence pairs) of checked inputs."""
    from vsrbench.core.io import open_dataset, pair_datasets

    if r.suite:
        from vsrbench.catalog.suites import get_suite

        suite = get_suite(r.suite)
        check = suite.validate(r.gt, r.pred, strict=not r.clips_only)
        say(check.summary())
        return suite, suite.protocol(), check.pairs()
    if r.clips_only:
        raise InputError("--clips-only applies to --suite only; add --suite NAME or leave it out")
    return None, None, pair_datasets(open_dataset(r.gt), open_dataset(r.pred))
