"""What each metric is: label, direction, decimals, unit, whether it is temporal, version."""
from __future__ import annotations

from dataclasses import dataclass

from vsrbench.core.errors import Registry


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
):
    METRICS.register(_info.name, _info)


def check_metrics(names) -> tuple[str, ...]:
    """Validate metric names (did-you-mean on typos); returns them lower-cased, de-duplicated, in order."""
    out: list[str] = []
    for n in names:
        key = str(n).strip().lower()
        METRICS[key]  # raises UnknownNameError with a suggestion
        if key not in out:
            out.append(key)
    return tuple(out)
