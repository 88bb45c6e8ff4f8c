"""Metrics computed outside the built-in pass, and the weights files they need.

The built-in metrics (PSNR, SSIM, LPIPS, tOF, tLP, E_warp) share one streaming pass over the frames
(:mod:`vsrbench.evaluate`). Every other metric (E*warp with RAFT, DOVER, DISTS, the no-reference
image metrics, ...) is a *scorer*: a function named in its :class:`~vsrbench.metrics.info.MetricInfo`
as ``"module:function"`` and imported only when the metric is requested, which takes one
:class:`Clip` and returns its rows ``[(frame, value), ...]``. :func:`vsrbench.evaluate.evaluate_many`
calls it once per output sequence, so the harness (``run``, ``evaluate``, workers, Ray, tables, ...)
handles these metrics as it handles the built-in ones.

A scorer:

- reads the frames it needs from ``clip.pred`` / ``clip.gt`` (RGB uint8 ``(H, W, 3)``, decoded on
  access) and scores ``clip.frames`` (the protocol's scored frame indices; a temporal metric
  scores the pairs ``(t-1, t)`` within them and writes its value at ``t``; a per-clip metric
  writes one row at ``clip.frames[0]``);
- runs on ``clip.device`` and finds its weights with :func:`require_weights` (never downloads);
- raises :class:`~vsrbench.core.errors.InputError` for input it cannot score (a clip too short, ...).

:data:`METRIC_WEIGHTS` lists the weights files of these metrics; ``vsrbench weights list`` and
``vsrbench weights download NAME`` know them.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from vsrbench.core.errors import InputError, WeightsError
from vsrbench.core.weights import check_published, find_weights

__all__ = ["Clip", "MetricWeights", "METRIC_WEIGHTS", "register_weights", "metric_weights", "require_weights",
           "weights_record", "weights_missing", "package_file", "how_to_get", "scorer_of", "is_extension"]


@dataclass(frozen=True)
class Clip:
    """What a scorer gets: one output sequence (and its GT, for a full-reference metric).

    ``pred`` and ``gt`` index like lists of RGB uint8 ``(H, W, 3)`` frames (a
    :class:`vsrbench.core.io.FrameSequence`); ``gt`` is None for no-reference scoring. ``frames`` are
    the scored frame indices (:meth:`vsrbench.metrics.protocol.Protocol.scored_frames`). ``options``
    carries per-call settings a family defines (e.g. a sampling seed); ``weights`` an explicit
    weights path per file name (``{name: path}``), else the files are looked up locally.
    """

    name: str
    pred: Any
    gt: Any
    frames: tuple[int, ...]
    protocol: Any
    device: Any = "cpu"
    options: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)

    def frame(self, i: int, *, gt: bool = False):
        """Frame ``i`` of the output (or of the GT), RGB uint8 ``(H, W, 3)``."""
        seq = self.gt if gt else self.pred
        if seq is None:
            raise InputError(f"sequence {self.name!r}: this metric needs the ground truth (--gt)")
        return seq[i]


@dataclass(frozen=True)
class MetricWeights:
    """One weights file a metric needs: the name users type (``vsrbench weights download NAME``),
    the published file name, where it is published (``url`` for a direct download, ``source`` in words)
    and its sha256 (None: its authors publish none; the file's hash is recorded with the scores)."""

    name: str
    filename: str
    url: str | None
    source: str
    sha256: str | None = None
    what: str = "the published file"
    # a file shipped inside an installed Python package: (pip name, its path from site-packages), e.g.
    # ("vmaf-torch", "vmaf_torch/svm_predict.py"); found there (:func:`package_file`), never downloaded
    package: tuple = ()


METRIC_WEIGHTS: dict[str, MetricWeights] = {}


def register_weights(*files: MetricWeights) -> None:
    """Add weights files to :data:`METRIC_WEIGHTS` (a metric module does this at import)."""
    for f in files:
        METRIC_WEIGHTS[f.name] = f


def metric_weights() -> dict[str, MetricWeights]:
    """Every weights file of the metrics computed by a scorer, by name (their modules imported)."""
    _load_all()
    return dict(METRIC_WEIGHTS)


def _known(name: str) -> MetricWeights:
    known = metric_weights()
    if name not in known:
        from vsrbench.core.errors import UnknownNameError

        raise UnknownNameError("weights", name, known)
    return known[name]


def package_file(w) -> Path:
    """The installed file of a weights file ``w`` that ships inside a Python package (``w.package``),
    located without importing the package; one-line :class:`WeightsError` naming ``pip install`` otherwise."""
    pip, rel = w.package
    top, _, rest = rel.partition("/")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"{w.what} ({rel}) not found: the {pip} package is not installed; "
                           f"`pip install {pip}` installs it")
    p = Path(list(spec.submodule_search_locations)[0]) / rest
    if not p.is_file():
        raise WeightsError(f"{str(p)!r} is missing from the installed {pip} package; {reinstall_hint(w)}")
    return p


def reinstall_hint(w) -> str:
    """How a file shipped inside a Python package (``w.package``) is put back: reinstalling the package."""
    return f"`pip install --force-reinstall {w.package[0]}` restores it"


def how_to_get(name: str) -> str:
    """How a missing weights file ``name`` is got, in words: ``pip install`` (a file shipped inside a Python
    package), the download command, or where its authors publish it (no direct download)."""
    w = _known(name)
    if w.package:
        return f"`pip install {w.package[0]}` installs it"
    return (f"`vsrbench weights download {name}` fetches it" if w.url else
            f"no direct download is published: get it from {w.source}")


def weights_record(name: str, path=None) -> dict:
    """``{"path", "sha256", "verified", "published_file"}`` of weights file ``name``, found locally
    (``path``: the file or a folder holding it; else ``$VSRBENCH_HOME`` and the other search folders)
    and checked against its published sha256.

    Raises :class:`~vsrbench.core.errors.WeightsError` in one line naming the file, where it was
    looked for and the download command.
    """
    w = _known(name)
    if w.package and path is None:  # shipped inside a Python package
        record = check_published(package_file(w), w.filename, sha256=w.sha256, what=w.what, get=reinstall_hint(w))
        return {**record, "published_file": w.filename}
    get = how_to_get(name) + (f" (from {w.url})" if w.url else "")
    try:
        found = find_weights(w.filename, path=path)
    except WeightsError as e:
        raise WeightsError(f"{e}; {get}") from None
    record = check_published(found, w.filename, sha256=w.sha256, what=w.what, get=get)
    return {**record, "published_file": w.filename}


def require_weights(name: str, path=None) -> Path:
    """The local path of weights file ``name`` (:func:`weights_record`)."""
    return Path(weights_record(name, path)["path"])


def weights_missing(info) -> str | None:
    """None when every weights file metric ``info`` needs is found locally, else the name of the first
    missing one (a file found but not the published one is not "missing": using it reports why)."""
    for name in info.weights:
        w = _known(name)
        try:
            package_file(w) if w.package else find_weights(w.filename)
        except WeightsError:
            return name
    return None


def is_extension(info) -> bool:
    """Whether metric ``info`` is computed by a scorer (not by the built-in pass)."""
    return bool(info.scorer)


def scorer_of(info) -> Callable:
    """Import and return the scorer named by ``info.scorer`` (``"module:function"``)."""
    module, _, func = info.scorer.partition(":")
    return getattr(importlib.import_module(module), func)


def _load_all() -> None:
    """Import the modules of every registered scorer, so their weights files are registered."""
    from vsrbench.metrics.info import METRICS

    for info in METRICS.values():
        if info.scorer:
            importlib.import_module(info.scorer.partition(":")[0])


def parse_metric_options(items) -> dict[str, dict]:
    """``["dover.seed=3", "ewarp.raft_weights=raft-large-c-t-v1"]`` -> ``{"dover": {"seed": 3}, ...}``: settings
    of a metric family (the names its scorer reads from ``clip.options``); numbers are read as numbers."""
    from vsrbench.metrics.info import METRICS

    families = sorted({i.family or n for n, i in METRICS.items() if i.scorer})
    out: dict[str, dict] = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        family, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise InputError(f"metric option {item!r} is not of the form FAMILY.NAME=VALUE (e.g. dover.seed=3)")
        if family not in families:
            from vsrbench.core.errors import UnknownNameError

            raise UnknownNameError("metric family", family, families)
        out.setdefault(family, {})[name.strip()] = _number(value.strip())
    return out


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def metric_version(name: str, options: dict | None = None) -> str:
    """The version a metric's values are stored under: its :attr:`MetricInfo.version`, plus its family's
    options when any are set (``"1+repeats=3,seed=5"``), so values made with other settings are never
    taken for each other (a resume adds them as another version, a table shows the latest)."""
    from vsrbench.metrics.info import METRICS

    info = METRICS[name]
    given = (options or {}).get(info.family or name) or {}
    if not given:
        return str(info.version)
    return f"{info.version}+" + ",".join(f"{k}={given[k]}" for k in sorted(given))
