"""vsrbench: video super-resolution evaluation with exact, named protocols.

A researcher's common imports come from here::

    from vsrbench import psnr, ssim, lpips, tof, tlp, temporal_profile, get_protocol
    from vsrbench import evaluate_sequence, evaluate_many, load_model, load_results

Every metric and evaluator takes the output first and the ground truth second, ``(pred, gt)``;
everything else is keyword-only. The names are imported on first use (``import vsrbench`` stays
light, so the command line starts fast).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from vsrbench.core.errors import InputError, UnknownNameError, VsrbenchError, WeightsError  # noqa: E402

#: public name -> the module that defines it
_LAZY = {
    **{name: "vsrbench.metrics" for name in (
        "psnr", "ssim", "lpips", "tof", "tlp", "ewarp", "temporal_profile", "get_protocol", "Protocol", "PROTOCOLS",
        "METRICS", "MetricAccumulator", "aggregate", "lpips_available",
    )},
    **{name: "vsrbench.evaluate" for name in ("evaluate_sequence", "evaluate_many", "SequenceScores")},
    **{name: "vsrbench.baselines" for name in ("load_model", "MODELS")},
    "degrade": "vsrbench.baselines.degrade",
    **{name: "vsrbench.results.loading" for name in ("load_results", "load_runs")},
    "export_results": "vsrbench.results.export",
    **{name: "vsrbench.core.io" for name in ("open_sequence", "open_dataset")},
}

__all__ = ["__version__", "VsrbenchError", "InputError", "UnknownNameError", "WeightsError", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vsrbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from vsrbench.baselines import MODELS, load_model
    from vsrbench.baselines.degrade import degrade
    from vsrbench.evaluate import SequenceScores, evaluate_many, evaluate_sequence
    from vsrbench.core.io import open_dataset, open_sequence
    from vsrbench.metrics import (
        METRICS, PROTOCOLS, MetricAccumulator, Protocol, aggregate, ewarp, get_protocol, lpips, lpips_available,
        psnr, ssim, temporal_profile, tlp, tof,
    )
    from vsrbench.results.export import export_results
    from vsrbench.results.loading import load_results, load_runs
