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
    # ---- E*warp with RAFT flow (metrics/ewarp_raft.py; issue #18) ----
    MetricInfo("ewarp-evalcrafter", "E*warp (EvalCrafter)", False, 5, temporal=True, family="ewarp", reference=False,
               scorer="vsrbench.metrics.ewarp_raft:score_evalcrafter", weights=("raft-things",),
               display=(1e3, "x10^-3"),
               description="warping error of the output video alone (no GT) as evalcrafter/EvalCrafter "
                           "metrics/RAFT/optical_flow_scores.py computes it (STAR, DOVE): RAFT raft-things on x0.5 "
                           "frames padded to 8, 20 updates, fed [0, 1] frames (its input-range behaviour), "
                           "forward-backward + motion-boundary occlusion, frame t warped onto t-1 (Resample2d), "
                           "squared error summed over 3 channels / visible pixels; printed x10^-3"),
    MetricInfo("ewarp-raft", "E*warp (RAFT)", False, 5, temporal=True, family="ewarp", reference=False,
               scorer="vsrbench.metrics.ewarp_raft:score_raft", weights=("raft-things",), display=(1e3, "x10^-3"),
               description="the EvalCrafter warping error (output video alone, no GT) with RAFT fed 0..255 as its "
                           "authors intended and the per-element mean (3-channel sum / 3); printed x10^-3"),
    # ---- DOVER and FasterVQA (metrics/dover.py, metrics/fastervqa.py; issue #18) ----
    # one value per clip (the scored frames as one video); options (family "dover"): seed, repeats, antialias
    MetricInfo("dover", "DOVER", True, 4, per_clip=True, reference=False, family="dover",
               scorer="vsrbench.metrics.dover:score_overall", weights=("dover",),
               description="DOVER overall quality in [0, 1]: fuse_results of both heads as VQAssessment/DOVER "
                           "evaluate_one_video.py -f prints it (STAR Tab. 1, DOVE Tab. 2); sampling seeded"),
    MetricInfo("dover-technical", "DOVER tech.", True, 2, per_clip=True, reference=False, family="dover",
               scorer="vsrbench.metrics.dover:score_technical", weights=("dover",),
               description="DOVER technical head through its fuse_results sigmoid, x100 (SeedVR/SeedVR2's 5-13 "
                           "scale; the set script's CSV column)"),
    MetricInfo("dover-aesthetic", "DOVER aes.", True, 2, per_clip=True, reference=False, family="dover",
               scorer="vsrbench.metrics.dover:score_aesthetic", weights=("dover",),
               description="DOVER aesthetic head through its fuse_results sigmoid, x100"),
    MetricInfo("dover-technical-raw", "DOVER tech. (raw)", True, 4, per_clip=True, reference=False,
               family="dover", scorer="vsrbench.metrics.dover:score_technical_raw", weights=("dover",),
               description="DOVER technical head output before any rescaling (unbounded)"),
    MetricInfo("dover-aesthetic-raw", "DOVER aes. (raw)", True, 4, per_clip=True, reference=False,
               family="dover", scorer="vsrbench.metrics.dover:score_aesthetic_raw", weights=("dover",),
               description="DOVER aesthetic head output before any rescaling (unbounded)"),
    MetricInfo("dover-swapped", "DOVER (swapped heads)", True, 2, per_clip=True, reference=False,
               family="dover", scorer="vsrbench.metrics.dover:score_swapped", weights=("dover",),
               description="the overall x100 that evaluate_a_set_of_videos.py wrote before commit 01bb306 "
                           "(2023-08-11): each head through the other head's fuse_results constants and weight "
                           "(DOVER#16); to explain old numbers only"),
    MetricInfo("dover-swapped-technical", "DOVER tech. (swapped)", True, 2, per_clip=True, reference=False,
               family="dover", scorer="vsrbench.metrics.dover:score_swapped_technical", weights=("dover",),
               description="the 'technical' column x100 of the pre-01bb306 set script: the technical head "
                           "through the aesthetic head's constants (DOVER#16)"),
    MetricInfo("dover-swapped-aesthetic", "DOVER aes. (swapped)", True, 2, per_clip=True, reference=False,
               family="dover", scorer="vsrbench.metrics.dover:score_swapped_aesthetic", weights=("dover",),
               description="the 'aesthetic' column x100 of the pre-01bb306 set script: the aesthetic head "
                           "through the technical head's constants (DOVER#16)"),
    MetricInfo("fastervqa", "FasterVQA", True, 4, per_clip=True, reference=False, family="dover",
               scorer="vsrbench.metrics.fastervqa:score_sigmoid", weights=("fastervqa",),
               description="FasterVQA sigmoid((s - 0.14759505) / 0.03613452) in [0, 1], as FAST-VQA-and-FasterVQA "
                           "vqa.py -m FasterVQA prints it; fragment offsets seeded"),
    MetricInfo("fastervqa-raw", "FasterVQA (raw)", True, 4, per_clip=True, reference=False, family="dover",
               scorer="vsrbench.metrics.fastervqa:score_raw", weights=("fastervqa",),
               description="FasterVQA head output s before the sigmoid rescaling (unbounded)"),
    # ---- full-reference perceptual (metrics/dists.py; issue #19) ----
    MetricInfo("dists", "DISTS", False, 4, family="dists", scorer="vsrbench.metrics.dists:score_dists",
               weights=("lpips-vgg",),
               description="deep image structure and texture similarity (Ding et al. 2020) on torchvision's VGG16 "
                           "and the authors' alpha/beta (DISTS_pytorch's weights.pt): whole RGB frames in [0, 1], "
                           "as DISTS_pytorch and pyiqa compute it"),
    # ---- no-reference image metrics (metrics/niqe.py, musiq.py, clipiqa.py, maniqa.py; issue #19) ----
    MetricInfo("niqe", "NIQE", False, 4, reference=False, family="niqe", scorer="vsrbench.metrics.niqe:score_matlab",
               description="NIQE as the authors' MATLAB release computes it (rgb2gray, float64, MATLAB bicubic "
                           "imresize, 96x96 blocks, the pristine model); option crop_border"),
    MetricInfo("niqe-basicsr", "NIQE (BasicSR)", False, 4, reference=False, family="niqe",
               scorer="vsrbench.metrics.niqe:score_basicsr",
               description="NIQE as BasicSR's calculate_niqe computed it up to v1.3.3.10 (float32 BT.601 Y, OpenCV "
                           "bilinear half-size resize); option crop_border"),
    MetricInfo("niqe-basicsr-bicubic", "NIQE (BasicSR 1.3.3.11+)", False, 4, reference=False, family="niqe",
               scorer="vsrbench.metrics.niqe:score_basicsr_bicubic",
               description="NIQE as BasicSR's calculate_niqe computes it since v1.3.3.11 (float32 BT.601 Y rounded, "
                           "BasicSR's MATLAB-like bicubic imresize); option crop_border"),
    MetricInfo("niqe-pyiqa", "NIQE (pyiqa)", False, 4, reference=False, family="niqe",
               scorer="vsrbench.metrics.niqe:score_pyiqa",
               description="NIQE as pyiqa's niqe computes it (YIQ luma rounded, its float32 resize); option "
                           "crop_border"),
    MetricInfo("musiq", "MUSIQ", True, 2, reference=False, family="musiq", scorer="vsrbench.metrics.musiq:score_koniq",
               weights=("musiq-koniq",),
               description="MUSIQ with the KonIQ-10k head, as pyiqa's musiq computes it (~0..100)"),
    MetricInfo("musiq-ava", "MUSIQ (AVA)", True, 3, reference=False, family="musiq",
               scorer="vsrbench.metrics.musiq:score_ava", weights=("musiq-ava",),
               description="MUSIQ with the AVA head: mean of its 10-bin distribution (1..10), pyiqa's musiq-ava"),
    MetricInfo("musiq-spaq", "MUSIQ (SPAQ)", True, 2, reference=False, family="musiq",
               scorer="vsrbench.metrics.musiq:score_spaq", weights=("musiq-spaq",),
               description="MUSIQ with the SPAQ head (~0..100), pyiqa's musiq-spaq"),
    MetricInfo("musiq-paq2piq", "MUSIQ (PaQ-2-PiQ)", True, 2, reference=False, family="musiq",
               scorer="vsrbench.metrics.musiq:score_paq2piq", weights=("musiq-paq2piq",),
               description="MUSIQ with the PaQ-2-PiQ head (~0..100), pyiqa's musiq-paq2piq"),
    MetricInfo("clipiqa", "CLIP-IQA", True, 4, reference=False, family="clipiqa",
               scorer="vsrbench.metrics.clipiqa:score_clipiqa", weights=("clip-rn50",),
               description="CLIP-IQA as pyiqa's clipiqa computes it: CLIP RN50 at the frame's own size, five "
                           "antonym prompt pairs ('Good image'/'bad image', ...), mean positive probability"),
    MetricInfo("clipiqa-piq", "CLIP-IQA (piq)", True, 4, reference=False, family="clipiqa",
               scorer="vsrbench.metrics.clipiqa:score_piq", weights=("clip-rn50",),
               description="CLIP-IQA with the official 'Good photo.'/'Bad photo.' pair, as piq's CLIPIQA and "
                           "IceClear/CLIP-IQA compute it"),
    MetricInfo("maniqa", "MANIQA", True, 4, reference=False, family="maniqa",
               scorer="vsrbench.metrics.maniqa:score_koniq", weights=("maniqa-koniq",),
               description="MANIQA with the KonIQ-10k weights as pyiqa's maniqa computes it (Swin scale 0.8, the "
                           "IQA-PyTorch#126 fix; 20 fixed 224x224 crops)"),
    MetricInfo("maniqa-kadid", "MANIQA (KADID)", True, 4, reference=False, family="maniqa",
               scorer="vsrbench.metrics.maniqa:score_kadid", weights=("maniqa-kadid",),
               description="MANIQA with the KADID-10k weights, pyiqa's maniqa-kadid (scale 0.8)"),
    MetricInfo("maniqa-pipal", "MANIQA (PIPAL)", True, 4, reference=False, family="maniqa",
               scorer="vsrbench.metrics.maniqa:score_pipal", weights=("maniqa-pipal",),
               description="MANIQA with the PIPAL weights (NTIRE 2022), pyiqa's maniqa-pipal (scale 0.13)"),
    # ---- VMAF (metrics/vmaf.py; issue #19) ----
    # through the vmaf-torch package (its built-in vmaf_v0.6.1 model); per frame on the luma of BT.601 limited-range
    # YUV; the motion feature reads the GT frames t-1 and t+1 of the whole sequence (not only the scored frames)
    MetricInfo("vmaf", "VMAF", True, 2, family="vmaf", scorer="vsrbench.metrics.vmaf:score_vmaf",
               weights=("vmaf-v0.6.1",), version="0.6.1",
               description="VMAF with libvmaf's default model vmaf_v0.6.1, per frame, computed by vmaf-torch 1.1.0 on "
                           "the Y plane of BT.601 limited-range YUV 4:2:0 (8-bit, rounded); score clipped to [0, 100] "
                           "as libvmaf does; motion2 from the GT frames t-1, t, t+1 of the whole sequence"),
    MetricInfo("vmaf-neg", "VMAF-NEG", True, 2, family="vmaf", scorer="vsrbench.metrics.vmaf:score_vmaf_neg",
               weights=("vmaf-v0.6.1",), version="0.6.1",
               description="VMAF NEG ('no enhancement gain', libvmaf's vmaf_v0.6.1neg: ADM and VIF enhancement gain "
                           "limits 1.0, same SVM), per frame through vmaf-torch 1.1.0, same input as vmaf; lower than "
                           "vmaf where the output enhances (sharpens, contrast-boosts) the GT"),
    # ---- human judgment (vsrbench study score; issue #21) ----
    MetricInfo("human_bt", "Human (BT)", True, 3, per_clip=True, reference=False, human=True,
               description="Bradley-Terry strength from a pairwise user study (`vsrbench study score`), per clip"),
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
        if info.human:
            raise InputError(f"metric {key!r} is a human judgment, made by `vsrbench study score STUDY --out RESULTS`, "
                             f"not computed from frames; drop {key!r} from the metrics")
        if key not in out:
            out.append(key)
    return tuple(out)
