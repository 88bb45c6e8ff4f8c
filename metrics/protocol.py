"""Protocols: every choice that changes a metric's number, frozen and named.

A :class:`Protocol` is data. Presets reproduce published evaluation code exactly:

- ``tecogan``: the evaluation of the TecoGAN paper (``metrics.py`` of thunil/TecoGAN).
- ``basicsr-y`` / ``basicsr-rgb``: the conventions of BasicSR's ``calculate_psnr`` /
  ``calculate_ssim`` (used by most VSR papers since 2019), on luma or on RGB.
- ``duf``: the DUF authors' own evaluation (yhjo09/VSR-DUF): luma PSNR (same BT.601 studio
  transform, float64) with an 8 px border and 2 frames removed at each end; the reported dataset
  number is the mean of the per-scene means (``seq_avg``). Only PSNR is defined there; other
  metrics use TecoGAN's conventions.

Fields can be overridden by name: ``get_protocol("basicsr-y", crop_border=8)``. The
overridden protocol's name records the override, and :attr:`Protocol.hash` changes with any
field, so results computed under different settings are never mixed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace

from vsrbench.core.errors import InputError, Registry

__all__ = ["FARNEBACK_TECOGAN", "Protocol", "PROTOCOLS", "get_protocol", "parse_overrides"]

FARNEBACK_TECOGAN = (0.5, 3, 15, 3, 5, 1.2, 0)  # pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags


@dataclass(frozen=True)
class Protocol:
    """Every convention that changes a number.

    Attributes:
        name: the preset's name (plus ``[field=value,...]`` when overridden).
        color: ``"y"`` (BT.601 studio luma) or ``"rgb"`` for PSNR and SSIM.
        y_precision: ``"float64"`` (TecoGAN: luma in float64, not rounded) or ``"float32"``
            (BasicSR: luma computed in float32 on [0, 1] values, then scaled back).
        crop: ``"center32"`` (TecoGAN's ``crop_8x8``: centred window, sides multiples of 32,
            >= 8 px removed per side) or ``"border"`` (remove ``crop_border`` px at each edge).
        crop_border: pixels removed per edge when ``crop == "border"``.
        cut_frames: frames excluded at each end of a sequence (TecoGAN: 2).
        ssim: ``"uniform7"`` (scikit-image defaults: 7x7 uniform window, sample covariance,
            3 px border of the map discarded), ``"gaussian11"`` (Wang et al.: 11x11 Gaussian,
            sigma 1.5, population covariance, 5 px border discarded) or ``"pyiqa"`` (pyiqa's ``ssim``:
            ``gaussian11`` on its own luma, ``round(255 * (0.299 R + 0.587 G + 0.114 B))`` of the
            [0, 1] float32 frame, whatever ``color`` says, with negative values of the SSIM map set
            to 0; data range 255).
        ssim_data_range: ``"pred"`` (TecoGAN quirk: max - min of the output's luma) or ``"255"``.
        size_rule: what to do when frame sizes differ. ``"crop-pred"``: an output larger than
            GT is cut to GT's size keeping the top-left corner (TecoGAN); ``"crop-both"``: both
            are cut to the common top-left region (the later TecoGAN variant); ``"error"``.
        lpips_net / lpips_version: the LPIPS backbone and version (v0.1 = learned linear layers).
        flow: optical flow used by tOF and E_warp: ``"farneback"`` (OpenCV's
            ``calcOpticalFlowFarneback``, on the CPU) or ``"farneback-torch"`` (vsrbench's torch port
            of the same algorithm, :mod:`vsrbench.metrics.farneback`, on the scoring device);
            ``flow_params`` its parameters.
        tlp_scale: tLP is reported multiplied by this (TecoGAN: 100, column ``tLP100``).
        psnr_eps: added to the MSE of [0, 1] frames before the logarithm (pyiqa: 1e-8, so identical
            frames give 80 dB, not ``inf``); 0 elsewhere.
        frames_scored: ``"all"`` (every frame but ``cut_frames`` at each end), ``"center"``
            (only the centre frame of each clip, index ``n // 2``, e.g. ``im4`` of a Vimeo-90K
            septuplet, as BasicSR's ``center_frame_only``; temporal metrics are not defined then), or
            a list of 0-based frame indices such as ``"0,50,99"`` (RealBasicVSR scores VideoLQ on
            those frames; indices past a clip's end are left out; no temporal metrics either).
        average: the average tables show by default (``"seq_avg"`` or ``"frame_avg"``).
        default_metrics: what ``evaluate`` computes when no metric is named.
    """

    name: str
    color: str = "y"
    y_precision: str = "float64"
    crop: str = "center32"
    crop_border: int = 0
    cut_frames: int = 2
    ssim: str = "uniform7"
    ssim_data_range: str = "pred"
    size_rule: str = "crop-pred"
    lpips_net: str = "alex"
    lpips_version: str = "0.1"
    flow: str = "farneback"
    flow_params: tuple = FARNEBACK_TECOGAN
    tlp_scale: float = 100.0
    frames_scored: str = "all"
    psnr_eps: float = 0.0
    average: str = "seq_avg"
    default_metrics: tuple = ("psnr", "ssim", "lpips", "tof", "tlp")

    _CHOICES = {
        "color": ("y", "rgb"),
        "y_precision": ("float64", "float32"),
        "crop": ("center32", "border"),
        "ssim": ("uniform7", "gaussian11", "pyiqa"),
        "ssim_data_range": ("pred", "255"),
        "size_rule": ("crop-pred", "crop-both", "error"),
        "lpips_net": ("alex", "vgg", "squeeze"),
        "lpips_version": ("0.1",),
        "flow": ("farneback", "farneback-torch"),
        "average": ("seq_avg", "frame_avg"),
        "frames_scored": ("all", "center"),
    }

    def __post_init__(self):
        for key, allowed in self._CHOICES.items():
            if key == "frames_scored" and _frame_list(self.frames_scored) is not None:
                continue
            if getattr(self, key) not in allowed:
                also = " or a list of frame indices such as '0,50,99'" if key == "frames_scored" else ""
                raise InputError(
                    f"protocol field {key}={getattr(self, key)!r} is not one of {', '.join(map(repr, allowed))}{also}"
                )
        for key in ("crop_border", "cut_frames"):
            if int(getattr(self, key)) < 0:
                raise InputError(f"protocol field {key}={getattr(self, key)!r}: expected a number of pixels/frames >= 0")
        if len(self.flow_params) != len(FARNEBACK_TECOGAN):
            raise InputError(f"protocol field flow_params: expected {len(FARNEBACK_TECOGAN)} values (pyr_scale, levels, "
                             f"winsize, iterations, poly_n, poly_sigma, flags), got {len(self.flow_params)}")

    def scored_frames(self, n: int) -> list[int]:
        """Indices of the frames spatial metrics score in a clip of ``n`` frames."""
        if self.frames_scored == "center":
            return [n // 2] if n else []
        listed = _frame_list(self.frames_scored)
        if listed is not None:
            return [i for i in listed if i < n]
        cut = int(self.cut_frames)
        return list(range(cut, n - cut))

    @property
    def frame_subset(self) -> bool:
        """Whether only some frames of a clip are scored (the centre frame or a list): no temporal metrics then."""
        return self.frames_scored != "all"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["flow_params"] = list(self.flow_params)
        d["default_metrics"] = list(self.default_metrics)
        return d

    @property
    def hash(self) -> str:
        """12 hex digits over every field that can change a number (not the name, the default
        average shown or the default metric list): same settings, same hash."""
        d = self.to_dict()
        for key in _NOT_HASHED:
            d.pop(key)
        for key, default in _HASHED_UNLESS_DEFAULT.items():  # fields added later: old hashes stay valid
            if d[key] == default:
                d.pop(key)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def _frame_list(value) -> list[int] | None:
    """``"0,50,99"`` -> ``[0, 50, 99]`` (sorted, distinct); None for anything that is not such a list."""
    parts = str(value).replace(" ", "").split(",")
    if not all(p.isdigit() for p in parts):
        return None
    return sorted({int(p) for p in parts})


_NOT_HASHED = ("name", "average", "default_metrics")  # fields that change no number
#: Fields added after results were first stored: hashed only when they differ from this value, so a
#: protocol that does not use them keeps the hash its stored results carry (tecogan: 4af09ddd6ed8).
_HASHED_UNLESS_DEFAULT = {"frames_scored": "all", "psnr_eps": 0.0}

PROTOCOLS: Registry = Registry("protocol")
PROTOCOLS.register("tecogan", Protocol(name="tecogan"))
PROTOCOLS.register(
    "basicsr-y",
    Protocol(
        name="basicsr-y", color="y", y_precision="float32", crop="border", crop_border=0, cut_frames=0,
        ssim="gaussian11", ssim_data_range="255", size_rule="error", average="seq_avg",
        default_metrics=("psnr", "ssim"),
    ),
)
PROTOCOLS.register(
    "basicsr-rgb",
    Protocol(
        name="basicsr-rgb", color="rgb", y_precision="float32", crop="border", crop_border=0, cut_frames=0,
        ssim="gaussian11", ssim_data_range="255", size_rule="error", average="seq_avg",
        default_metrics=("psnr", "ssim"),
    ),
)

# TecoGAN's protocol with the Farneback flow computed by vsrbench's torch port (on the scoring device, so the
# whole protocol runs on a GPU) instead of OpenCV: tOF within 1e-3 px of OpenCV's (docs/performance.md, "On a GPU",
# gives the measured agreement); a different flow, so a different hash: its results never mix with ``tecogan``'s
PROTOCOLS.register("tecogan-gpu", Protocol(name="tecogan-gpu", flow="farneback-torch"))

PROTOCOLS.register(
    "duf",
    Protocol(
        name="duf", color="y", y_precision="float64", crop="border", crop_border=8, cut_frames=2,
        ssim="uniform7", ssim_data_range="pred", size_rule="crop-pred", average="seq_avg",
        default_metrics=("psnr",),
    ),
)

# pyiqa's defaults (chaofengc/IQA-PyTorch pyiqa/default_model_configs.py: ``psnr`` on RGB with eps 1e-8,
# ``ssim`` with test_y_channel on its YIQ luma, no crop; ``lpips`` AlexNet v0.1), the convention of
# diffusion-VSR tables computed with ``pyiqa.create_metric`` (e.g. zhengchen1999/DOVE eval_metrics.py);
# every frame scored, frames of another size refused as pyiqa's assert does
PROTOCOLS.register(
    "pyiqa",
    Protocol(
        name="pyiqa", color="rgb", y_precision="float32", crop="border", crop_border=0, cut_frames=0,
        ssim="pyiqa", ssim_data_range="255", size_rule="error", psnr_eps=1e-8, average="seq_avg",
        default_metrics=("psnr", "ssim", "lpips", "dists"),
    ),
)

_FIELD_NAMES = tuple(f.name for f in fields(Protocol) if f.name != "name")


def get_protocol(protocol: "str | Protocol" = "tecogan", **overrides) -> Protocol:
    """A preset by name (or a Protocol), with fields overridden by keyword.

    Parameters
    ----------
    protocol : str or Protocol
        A preset name (``tecogan``, ``tecogan-gpu``, ``basicsr-y``, ``basicsr-rgb``, ``duf``) or a protocol.
    **overrides
        Fields of :class:`Protocol` to replace; the result's ``name`` records them.

    Returns
    -------
    Protocol
        A frozen protocol; its ``hash`` keys stored results.

    Raises
    ------
    vsrbench.core.errors.UnknownNameError
        An unknown preset or field name (the message suggests the closest one).

    Examples
    --------
    >>> get_protocol("basicsr-y", crop_border=8).crop_border
    8
    """
    base = protocol if isinstance(protocol, Protocol) else PROTOCOLS[str(protocol)]
    if not overrides:
        return base
    unknown = [k for k in overrides if k not in _FIELD_NAMES]
    if unknown:
        from vsrbench.core.errors import UnknownNameError

        raise UnknownNameError("protocol field", unknown[0], _FIELD_NAMES)
    clean = {k: _coerce(k, v) for k, v in overrides.items()}
    changed = {k: v for k, v in clean.items() if getattr(base, k) != v}
    if not changed:
        return base
    new = replace(base, **changed)
    root = base.name.split("[")[0]
    ref = dict.get(PROTOCOLS, root) or base  # the name lists every field that differs from the preset
    diff = {k: getattr(new, k) for k in _FIELD_NAMES if getattr(new, k) != getattr(ref, k)}
    suffix = ",".join(f"{k}={v}" for k, v in sorted(diff.items()))
    return replace(new, name=f"{root}[{suffix}]" if suffix else root)


def parse_overrides(items: list[str] | None) -> dict:
    """``["crop_border=8", "cut_frames=0"]`` -> dict, for the CLI's ``--set``."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"protocol override {item!r} is not of the form FIELD=VALUE")
        out[key.strip()] = value.strip()
    return out


def _coerce(key: str, value):
    default = getattr(PROTOCOLS["tecogan"], key)
    if isinstance(value, str):
        try:
            if isinstance(default, bool):
                return value.lower() in ("1", "true", "yes")
            if isinstance(default, int):
                return int(value)
            if isinstance(default, float):
                return float(value)
            if isinstance(default, tuple):
                items = json.loads(value) if value.startswith("[") else [v.strip() for v in value.split(",")]
                return _coerce_items(key, default, items)
        except ValueError:
            raise InputError(f"protocol field {key}: cannot read {value!r} as {type(default).__name__}") from None
    if isinstance(default, tuple):
        return _coerce_items(key, default, list(value))
    return value


def _coerce_items(key: str, default: tuple, items: list) -> tuple:
    """Tuple fields: numbers take the type of the preset's element at the same place
    (so ``flow_params=0.5,3,...`` equals the preset and hashes the same)."""
    kinds = {type(x) for x in default}
    if kinds <= {str}:
        return tuple(str(x) for x in items)
    out = []
    for i, v in enumerate(items):
        kind = type(default[i]) if i < len(default) else type(default[-1])
        try:
            out.append(kind(float(v)) if kind is int and float(v).is_integer() else kind(v))
        except (TypeError, ValueError):
            raise InputError(f"protocol field {key}: cannot read {v!r} as {kind.__name__}") from None
    return tuple(out)
