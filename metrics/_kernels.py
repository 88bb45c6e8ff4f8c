"""The metric internals that the harness's one-pass pipeline builds on: a declared, internal API.

:mod:`vsrbench.evaluate` (one pass over the frames for every metric and several outputs),
:mod:`vsrbench.reference` (the straightforward loop it is checked against) and :mod:`vsrbench.speed`
compose these building blocks instead of calling the public metric functions frame by frame. They
are the same code the public functions run, so both paths give the same numbers. Anything the
harness needs from the metric library's internals is imported from here, and only from here; a
change to one of these signatures is a change to this module's contract.

Frames
    :func:`as_batch` (any supported frame(s) -> ``(N, 3, H, W)`` tensor), :func:`quantize255` (the one
    8-bit rule), :func:`match_sizes` (the protocol's size rule), :func:`crop`, :func:`center32_window`
    (TecoGAN's crop window), :func:`size_rule_note` (the warning when the size rule cuts),
    :func:`color_planes` (luma or RGB planes), :data:`Y_COEFFS`.
PSNR / SSIM on prepared planes
    :func:`psnr_planes`, :func:`ssim_input`, :func:`ssim_planes`, :func:`ssim_data_range`; :func:`ssim_window` (a variant's
    taps and covariance normalisation) and :func:`valid_filter` (its valid-region filter on one plane),
    for callers that compute SSIM's local moments themselves (:mod:`vsrbench.explain`); :func:`scores_u8`
    (PSNR and SSIM of one cropped 8-bit frame on CPU, in strips of rows: bounded memory at any size).
tOF
    :func:`grey` (RGB -> OpenCV grey), :func:`flow` (the protocol's Farneback),
    :func:`flow_difference` (cropped mean L2 of two flow fields); :func:`grey_batch`,
    :func:`flow_batch`, :func:`flow_difference_batch`: the same on batches of tensors on any device
    (the batched pipeline; bit-exact grey, the protocol's flow, the same difference).
E_warp
    :func:`warp` (bilinear backward warping by a flow, or by its :func:`sampling`, computed
    once for several images), :func:`occlusion_mask` (Lai et al.'s
    forward-backward check and motion boundaries), :func:`warp_error` (one output pair's E_warp
    from the GT flows both ways).
LPIPS / tLP
    :func:`get_lpips` (a cached network), :func:`to_lpips_input`, :func:`lpips_backbone` (the
    backbone's layers, e.g. to write a seeded random backbone file), :data:`BACKBONE_FILES`.
"""
from __future__ import annotations

from vsrbench.core.frames import quantize255
from vsrbench.metrics.lpips import BACKBONE_FILES, get_lpips, to_lpips_input
from vsrbench.metrics.lpips import _backbone as lpips_backbone
from vsrbench.metrics.spatial import (
    Y_COEFFS, as_batch, center32_window, color_planes, crop, match_sizes, psnr_planes, scores_u8, size_rule_note,
    ssim_data_range, ssim_input, ssim_planes, ssim_window, valid_filter,
)
from vsrbench.metrics.temporal import (
    flow, flow_batch, flow_difference, flow_difference_batch, grey, grey_batch, occlusion_mask, sampling, warp, warp_error,
)

__all__ = [
    "as_batch", "quantize255", "match_sizes", "size_rule_note", "crop", "center32_window", "color_planes", "Y_COEFFS",
    "psnr_planes", "ssim_input", "ssim_planes", "ssim_data_range", "scores_u8", "ssim_window", "valid_filter", "grey", "flow", "flow_difference", "grey_batch", "flow_batch", "flow_difference_batch",
    "warp", "sampling", "occlusion_mask", "warp_error",
    "get_lpips", "to_lpips_input", "lpips_backbone", "BACKBONE_FILES",
]
