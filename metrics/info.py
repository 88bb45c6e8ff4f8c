"""What each metric is: label, direction, decimals, unit, whether it is temporal, version."""
from __future__ import annotations

from dataclasses import dataclass

from vsrbench.core.errors import InputError, Registry

__all__ = ["MetricInfo", "METRICS", "check_metrics"]


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str
    higher_is_better: bool
    decimals: int
    unit: str = ""
    temporal: bool = False
    version: str = "1"
    description: str = ""
    # a model-run metric is computed by running a model on LR frames (no GT, no output frames):
    # ``vsrbench drift``; ``vsrbench evaluate`` (output vs GT) refuses it
    model_run: bool = False
    # False: a no-reference metric (scored from the output frames alone; ``evaluate`` without ``--gt``)
    reference: bool = True
    # one value per clip (DOVER, a user study's Bradley-Terry score), stored as the row of the clip's
    # first scored frame, so the per-sequence mean is that value
    per_clip: bool = False
    # a human judgment (``vsrbench study score``), stored beside the computed metrics; never computed by evaluate
    human: bool = False
    # "module:function" of the scorer of a metric computed outside the built-in pass (see
    # :mod:`vsrbench.metrics.extension`); "" for the built-in metrics (PSNR ... E_warp)
    scorer: str = ""
    # the names of the weights files it needs (``vsrbench weights download NAME``;
    # :data:`vsrbench.metrics.extension.METRIC_WEIGHTS`)
    weights: tuple = ()
    # the metric family a variant belongs to ("ewarp", "dover", "niqe", ...); "" = its own name
    family: str = ""
    # the scale papers print it on, when it is not the stored number: (factor, label), e.g. (1e3, "x10^-3")
    display: tuple = ()


METRICS: Registry = Registry("metric")
for _info in (
    MetricInfo("psnr", "PSNR", True, 2, "dB", description="peak signal-to-noise ratio"),
    MetricInfo("ssim", "SSIM", True, 4, description="structural similarity"),
    MetricInfo("lpips", "LPIPS", False, 3, description="learned perceptual image patch similarity (v0.1)"),
    MetricInfo("tof", "tOF", False, 3, "px", temporal=True,
               description="mean end-point difference of GT and output optical flows (TecoGAN)"),
    MetricInfo("tlp", "tLP", False, 3, "x100", temporal=True,
               description="|LPIPS(G_t-1, G_t) - LPIPS(O_t-1, O_t)|, times the protocol's tlp_scale (TecoGAN: 100)"),
    MetricInfo("ewarp", "E_warp", False, 5, temporal=True,
               description="flow warping error (Lai et al. 2018): mean squared difference, frames in [0, 1], of O_t-1 "
                           "and O_t warped by the GT's flow, over non-occluded pixels; Farneback flow, so not "
                           "comparable with FlowNet2-based numbers"),
    # ping-pong drift (vsrbench.drift): a model runs once over frames 0..n-1, n-2..0 (TecoGAN's ping-pong
    # order); the value at frame t (t < n-1) compares its forward and backward outputs for frame t, both
    # uint8 RGB, full frame. Method-level (one per model and LR sequence), no GT needed.
    MetricInfo("drift_rmse", "PP-drift RMSE", False, 3, "8-bit", model_run=True,
               description="ping-pong drift: RMSE (8-bit units) between a model's outputs for frame t on the forward "
                           "and the backward leg of one pass over frames 0..n-1, n-2..0 (TecoGAN); 0 for per-frame "
                           "models; run `vsrbench drift`, needs no GT"),
    MetricInfo("drift_psnr", "PP-drift PSNR", True, 2, "dB", model_run=True,
               description="ping-pong drift as PSNR (dB, peak 255) between the forward and the backward leg's "
                           "output for frame t; inf for per-frame models; run `vsrbench drift`, needs no GT"),
):
    METRICS.register(_info.name, _info)


def check_metrics(names, *, model_run: bool = False) -> tuple[str, ...]:
    """Validate metric names (did-you-mean on typos); returns them lower-cased, de-duplicated, in order.

    Model-run metrics (ping-pong drift) are refused unless ``model_run``: they are computed by
    running a model on LR frames, not from output and GT frames.
    """
    out: list[str] = []
    for n in names:
        key = str(n).strip().lower()
        info = METRICS[key]  # raises UnknownNameError with a suggestion
        if info.model_run and not model_run:
            raise InputError(f"metric {key!r} is measured by running a model on LR frames, not from output and "
                             f"GT frames; run `vsrbench drift --model NAME --input LR --out RESULTS` and drop "
                             f"{key!r} from the metrics")
        if key not in out:
            out.append(key)
    return tuple(out)
