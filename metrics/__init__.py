"""The metric library: PSNR, SSIM, LPIPS, tOF, tLP, E_warp and temporal profiles under named protocols.

Argument order everywhere is ``(pred, gt)``; everything else is keyword-only. See
:mod:`vsrbench.metrics.spatial` for the input conventions and
:mod:`vsrbench.metrics.protocol` for the presets (``tecogan``, ``tecogan-gpu``, ``basicsr-y``, ``basicsr-rgb``, ``duf``).
"""
from vsrbench.metrics.aggregate import MetricAccumulator, aggregate
from vsrbench.metrics.info import METRICS, MetricInfo, check_metrics
from vsrbench.metrics.lpips import LPIPS, lpips, lpips_available
from vsrbench.metrics.profile import default_profile_col, default_profile_row, temporal_profile
from vsrbench.metrics.protocol import PROTOCOLS, Protocol, get_protocol
from vsrbench.metrics.spatial import psnr, rgb_to_y, ssim
from vsrbench.metrics.temporal import ewarp, tlp, tof

__all__ = [
    "METRICS", "MetricInfo", "check_metrics", "PROTOCOLS", "Protocol", "get_protocol",
    "psnr", "ssim", "lpips", "LPIPS", "lpips_available", "tof", "tlp", "ewarp", "rgb_to_y",
    "temporal_profile", "default_profile_row", "default_profile_col",
    "MetricAccumulator", "aggregate",
]
