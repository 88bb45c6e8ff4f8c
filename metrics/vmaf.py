"""VMAF and VMAF-NEG (Netflix's Video Multi-Method Assessment Fusion) per frame, through ``vmaf-torch``.

The numbers are those of the ``vmaf-torch`` package (alvitrioliks/VMAF-torch, PyPI 1.1.0; pure PyTorch,
the backend of torchmetrics' VMAF), which reimplements libvmaf's features in floating point and differs
from libvmaf by 0.0063 on average, 0.027 at most over 79 Netflix streams (its README):

- **features** (all on the luma plane only; libvmaf's VMAF models read no chroma): ADM (``adm2``),
  VIF at four scales, and the motion feature ``motion2`` of the GT;
- **model**: libvmaf's default ``vmaf_v0.6.1`` SVM. ``vmaf-torch`` carries its parameters in its own
  source file ``vmaf_torch/svm_predict.py`` (no separate model file): vsrbench treats that file as the
  model's weights file ``vmaf-v0.6.1`` (:data:`MODEL_WEIGHTS`), found inside the installed package
  (never downloaded; ``pip install vmaf-torch``) and checked against the sha256 that the vmaf-torch 1.1.0
  wheel's ``RECORD`` lists (:data:`MODEL_SHA256`). Its numbers equal ``model/vmaf_v0.6.1.json`` and
  ``model/vmaf_v0.6.1neg.json`` of Netflix/vmaf (read at commit f85a853; both files hold the same SVM);
- **NEG** ("no enhancement gain", libvmaf's ``vmaf_v0.6.1neg``): the same SVM, ADM and VIF computed
  with enhancement gain limits 1.0 instead of 100, so sharpening or contrast boosts of the GT cannot
  raise the score;
- the score is clipped to [0, 100] as libvmaf (and ffmpeg's ``libvmaf`` filter) does by default; no
  score transform (libvmaf applies ``score_transform`` only when asked).

**Input: YUV 4:2:0 from the RGB frames.** VMAF is defined on 8-bit YUV. The RGB uint8 frames are
converted as ffmpeg's default ``rgb24 -> yuv420p`` intends, ITU-R BT.601 limited ("TV") range:

- ``Y  = 16  + ( 65.481 R + 128.553 G +  24.966 B) / 255``
- ``Cb = 128 + (-37.797 R -  74.203 G + 112.0   B) / 255``
- ``Cr = 128 + (112.0   R -  93.786 G -  18.214 B) / 255``

each rounded to the nearest integer (halves up; computed exactly in integers); Cb and Cr are the
means of 2x2 blocks of those values before rounding (odd sides: the last row / column repeated).
Only ``Y`` enters VMAF (:func:`rgb_to_luma`); :func:`rgb_to_yuv420` and :func:`write_yuv420p`
give the whole 4:2:0 frame, e.g. to score the same file with libvmaf. ffmpeg's own converter
(swscale) rounds in fixed point and can differ by one code value: feed libvmaf the file written here,
not a conversion of its own, to compare engines. (torchmetrics' VMAF instead feeds full-range
``0.299 R + 0.587 G + 0.114 B`` unrounded and unclipped scores: another number.)

**Motion and frame order.** ``motion2`` of frame ``t`` is ``min(SAD(t-1, t), SAD(t, t+1))`` of the
blurred GT luma (0 at the first frame, ``SAD(t-1, t)`` at the last; libvmaf
``libvmaf/src/feature/integer_motion.c``, ``flush``), so a frame's VMAF depends on its GT neighbours.
:func:`vmaf` scores the requested frames in order and reads the GT frames ``t-1`` and ``t+1`` of the
whole sequence, also where they are not scored themselves: the value written at frame ``t`` is the
value vmaf-torch (and libvmaf) give frame ``t`` when scoring the whole video.

Whole frames are scored (VMAF has no border crop; the protocol's crop is ignored, as DISTS does);
output and GT of different sizes follow the protocol's size rule (the same crop on every GT frame).
"""
from __future__ import annotations

import functools
import importlib.metadata
from pathlib import Path

import numpy as np
import torch

from vsrbench.core.errors import InputError, WeightsError
from vsrbench.metrics.extension import MetricWeights, register_weights, weights_record

__all__ = ["PIP_NAME", "MODEL_WEIGHTS", "MODEL_FILE", "MODEL_SHA256", "Y_COEFFS", "CB_COEFFS", "CR_COEFFS",
           "rgb_to_luma", "rgb_to_yuv420", "write_yuv420p", "vmaf_model_record", "get_vmaf", "motion2",
           "vmaf", "score_vmaf", "score_vmaf_neg"]

PIP_NAME = "vmaf-torch"
MODEL_WEIGHTS = "vmaf-v0.6.1"
MODEL_FILE = "vmaf_torch/svm_predict.py"
#: sha256 of ``vmaf_torch/svm_predict.py`` as the vmaf-torch 1.1.0 wheel's RECORD lists it
#: (``sha256=mC3-vfqKgkitsPsFdzkuyweCvvaYqfJdoK7-XfGkURE``, urlsafe base64)
MODEL_SHA256 = "982dfebdfa8a8248adb0fb0577392ecb0782bef698a9f25da0aefe5df1a45111"

register_weights(MetricWeights(
    MODEL_WEIGHTS, "svm_predict.py", None,
    source=f"the {PIP_NAME} Python package (pip install {PIP_NAME}==1.1.0), file {MODEL_FILE}",
    sha256=MODEL_SHA256, what="vmaf-torch 1.1.0's built-in vmaf_v0.6.1 model", package=(PIP_NAME, MODEL_FILE)))

# ITU-R BT.601, 8-bit limited range, on RGB in 0..255, in thousandths (exact integers): value =
# offset + (c_R R + c_G G + c_B B) / 255000
Y_COEFFS = (65481, 128553, 24966)
CB_COEFFS = (-37797, -74203, 112000)
CR_COEFFS = (112000, -93786, -18214)
_DEN = 255000


def _rgb_uint8(frames, what: str) -> tuple[np.ndarray, bool]:
    """RGB uint8 frame(s) -> ``(N, H, W, 3)`` uint8 array, and whether a batch was given."""
    a = np.asarray(frames)
    if a.ndim not in (3, 4) or a.shape[-1] != 3:
        raise InputError(f"{what}: expected RGB frames of shape (H, W, 3) or (N, H, W, 3), got {a.shape}")
    if a.dtype != np.uint8:
        raise InputError(f"{what}: VMAF reads 8-bit video: expected uint8 RGB frames, got {a.dtype}")
    return (a, True) if a.ndim == 4 else (a[None], False)


def _weighted(a: np.ndarray, coeffs: tuple[int, int, int], offset: int) -> np.ndarray:
    """``offset * 255000 + sum(c * channel)`` in int64 (exact)."""
    a = a.astype(np.int64)
    return offset * _DEN + coeffs[0] * a[..., 0] + coeffs[1] * a[..., 1] + coeffs[2] * a[..., 2]


def rgb_to_luma(frames) -> np.ndarray:
    """BT.601 limited-range luma ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255``, rounded (halves up).

    Parameters
    ----------
    frames : numpy.ndarray
        RGB uint8, one frame ``(H, W, 3)`` or a batch ``(N, H, W, 3)``.

    Returns
    -------
    numpy.ndarray
        uint8 ``(H, W)`` or ``(N, H, W)``, values 16..235: the Y plane of a yuv420p file.
    """
    a, batched = _rgb_uint8(frames, "frame")
    y = ((_weighted(a, Y_COEFFS, 16) + _DEN // 2) // _DEN).astype(np.uint8)
    return y if batched else y[0]


def _chroma420(a: np.ndarray, coeffs: tuple[int, int, int]) -> np.ndarray:
    v = _weighted(a, coeffs, 128)  # (N, H, W), x 255000
    if v.shape[1] % 2:
        v = np.concatenate([v, v[:, -1:]], axis=1)
    if v.shape[2] % 2:
        v = np.concatenate([v, v[:, :, -1:]], axis=2)
    s = v[:, 0::2, 0::2] + v[:, 1::2, 0::2] + v[:, 0::2, 1::2] + v[:, 1::2, 1::2]
    return ((s + 2 * _DEN) // (4 * _DEN)).astype(np.uint8)


def rgb_to_yuv420(frames) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range YUV 4:2:0 planes ``(Y, Cb, Cr)`` of RGB uint8 frame(s) (module docstring).

    ``Y`` is :func:`rgb_to_luma`; ``Cb``/``Cr`` are the 2x2 block means of the full-resolution values,
    rounded (halves up), of size ``ceil(H/2) x ceil(W/2)``; uint8, batched like the input.
    """
    a, batched = _rgb_uint8(frames, "frame")
    y = rgb_to_luma(a)
    u, v = _chroma420(a, CB_COEFFS), _chroma420(a, CR_COEFFS)
    return (y, u, v) if batched else (y[0], u[0], v[0])


def write_yuv420p(path, frames) -> Path:
    """Write RGB uint8 frames ``(N, H, W, 3)`` as a raw planar yuv420p file (Y, Cb, Cr of each frame in
    turn: what ``ffmpeg -f rawvideo -pix_fmt yuv420p`` and libvmaf's ``vmaf --pixel_format 420`` read)."""
    y, u, v = rgb_to_yuv420(_rgb_uint8(frames, "frame")[0])
    path = Path(path)
    with open(path, "wb") as f:
        for i in range(y.shape[0]):
            f.write(y[i].tobytes() + u[i].tobytes() + v[i].tobytes())
    return path


def _import_vmaf_torch():
    try:
        import vmaf_torch
    except ModuleNotFoundError as e:  # the package itself, or one of its requirements (yuvio, pandas)
        raise WeightsError(f"VMAF needs the {PIP_NAME} package, which cannot be imported (no module {e.name!r}); "
                           f"`pip install {PIP_NAME}` installs it with its requirements") from None
    return vmaf_torch


def vmaf_model_record() -> dict:
    """The model file a VMAF score uses, as results record it: ``{"path", "sha256", "verified",
    "published_file", "package"}`` (``package``: ``"vmaf-torch 1.1.0"``). One-line
    :class:`~vsrbench.core.errors.WeightsError` when vmaf-torch is missing or its model file is not
    the published one."""
    record = weights_record(MODEL_WEIGHTS)
    return {**record, "package": f"{PIP_NAME} {importlib.metadata.version(PIP_NAME)}"}


@functools.lru_cache(maxsize=4)
def _cached(neg: bool, device: str):
    vmaf_torch = _import_vmaf_torch()
    model = vmaf_torch.VMAF(temporal_pooling=False, enable_motion=True, clip_score=True, NEG=neg)
    return model.eval().to(device)


def get_vmaf(neg: bool = False, device="cpu"):
    """A cached ``vmaf_torch.VMAF`` (per frame, motion on, scores clipped to [0, 100]; ``neg``: VMAF-NEG)
    on ``device``, once its model file is found and checked (:func:`vmaf_model_record`)."""
    vmaf_model_record()
    return _cached(bool(neg), str(torch.device(device)))


def motion2(sad: dict[int, float], t: int, n: int) -> float:
    """libvmaf's ``motion2`` of frame ``t`` in a video of ``n`` frames from the GT's SADs ``sad[i]``
    (blurred frames ``i-1`` and ``i``): 0 at ``t = 0``, ``sad[t]`` at the last frame, else
    ``min(sad[t], sad[t+1])``."""
    if t == 0:
        return 0.0
    return sad[t] if t == n - 1 else min(sad[t], sad[t + 1])


class _Luma:
    """The (cropped) luma planes of one sequence as float32 ``(1, H, W)`` tensors, converted once each
    while they are needed (frames before ``drop_before`` are forgotten)."""

    def __init__(self, seq, what: str, device):
        self.seq, self.what, self.device, self.crop, self.memo = seq, what, device, None, {}

    def __getitem__(self, i: int) -> torch.Tensor:
        if i not in self.memo:
            y = torch.from_numpy(rgb_to_luma(_rgb_uint8(self.seq[i], f"{self.what} {i}")[0][0]))
            y = y.to(device=self.device, dtype=torch.float32)[None]
            if self.crop is not None:
                if y.shape[-2] < self.crop[0] or y.shape[-1] < self.crop[1]:
                    raise InputError(f"{self.what} {i} is {y.shape[-1]}x{y.shape[-2]}, smaller than the "
                                     f"{self.crop[1]}x{self.crop[0]} of the video's first scored frame")
                y = y[..., :self.crop[0], :self.crop[1]]
            self.memo[i] = y
        return self.memo[i]

    def drop_before(self, i: int) -> None:
        for k in [k for k in self.memo if k < i]:
            del self.memo[k]


def _sads(model, ref: _Luma, need: list[int]) -> dict[int, float]:
    """``{i: SAD(i-1, i)}`` for every ``i`` of ``need`` whose predecessor is in ``need`` too
    (vmaf-torch's ``compute_motion`` on the stacked GT luma)."""
    m = model.compute_motion(torch.stack([ref[i] for i in need])).reshape(-1).tolist()
    return {i: m[k] for k, i in enumerate(need) if k and need[k - 1] == i - 1}


def _chunk(model, ref: _Luma, dist: _Luma, ts: list[int], n: int) -> list[float]:
    need = sorted({j for t in ts for j in (t - 1, t, t + 1) if 0 <= j < n})
    sad = _sads(model, ref, need)
    r = torch.stack([ref[t] for t in ts])
    d = torch.stack([dist[t] for t in ts])
    m2 = torch.tensor([[motion2(sad, t, n)] for t in ts], dtype=torch.float32, device=r.device)
    score = model.predict(model.compute_adm_score(r, d), m2, model.compute_vif_features(r, d))
    return score.reshape(-1).double().cpu().tolist()


def _match(ref: _Luma, dist: _Luma, t: int, size_rule: str, name: str) -> None:
    """Apply the size rule to the first scored pair and keep its crop for every frame of both."""
    from vsrbench.metrics.spatial import match_sizes

    r, d = ref[t], dist[t]
    d2, r2 = match_sizes(d[None], r[None], size_rule, f"{name}, frame {t}", warn=False)
    ref.crop, dist.crop = tuple(r2.shape[-2:]), tuple(d2.shape[-2:])
    ref.memo, dist.memo = {t: r2[0]}, {t: d2[0]}


def vmaf(pred, gt, *, neg: bool = False, frames=None, device="cpu", batch: int | None = None,
         size_rule: str = "error", name: str = "sequence") -> np.ndarray:
    """VMAF (or VMAF-NEG) of each requested frame of a video, as vmaf-torch scores the whole video.

    Parameters
    ----------
    pred, gt : sequence of numpy.ndarray
        The output and the reference video: indexable RGB uint8 frames ``(H, W, 3)`` (a list, an
        ``(N, H, W, 3)`` array or a :class:`vsrbench.core.io.FrameSequence`); the whole video, in order.
    neg : bool
        VMAF-NEG instead of VMAF.
    frames : sequence of int, optional
        The frames to score (default all); the GT frames next to them are read for the motion feature.
    device : str or torch.device
        Where vmaf-torch runs.
    batch : int, optional
        Frames scored per vmaf-torch call; default 1 on the CPU (larger batches outgrow the caches and
        are slower per frame), 8 on a GPU.
    size_rule : str
        Frames of different sizes: ``"error"``, ``"crop-pred"`` or ``"crop-both"`` (a protocol's size rule).
    name : str
        The sequence's name, for error messages.

    Returns
    -------
    numpy.ndarray
        ``(len(frames),)`` float64 scores in [0, 100] (higher is better).

    Raises
    ------
    vsrbench.core.errors.WeightsError
        vmaf-torch is not installed (one line naming ``pip install vmaf-torch``) or its model file is
        not the published one.
    vsrbench.core.errors.InputError
        Frames that are not RGB uint8, videos of different lengths, frame indices outside the GT, sizes the
        size rule refuses.

    Examples
    --------
    Needs ``pip install vmaf-torch``::

        from vsrbench.metrics.vmaf import vmaf
        vmaf(out_frames, gt_frames)  # (N, H, W, 3) uint8 videos: N scores
    """
    model = get_vmaf(neg, device)
    n = len(gt)
    if len(pred) != n:
        raise InputError(f"{name}: {len(pred)} output frames but {n} GT frames (VMAF pairs frame t with frame t)")
    ts = [int(t) for t in (range(n) if frames is None else frames)]
    bad = [t for t in ts if not 0 <= t < n]
    if bad:
        raise InputError(f"{name}: frame {bad[0]} is outside the GT's {n} frames")
    if not ts:
        return np.zeros(0)
    dev = next(model.buffers()).device
    ref, dist = _Luma(gt, "GT frame", dev), _Luma(pred, "output frame", dev)
    _match(ref, dist, ts[0], size_rule, name)
    out: list[float] = []
    step = max(1, int(batch)) if batch else (1 if dev.type == "cpu" else 8)
    with torch.inference_mode():
        for k in range(0, len(ts), step):
            part = ts[k:k + step]
            out += _chunk(model, ref, dist, part, n)
            ref.drop_before(part[-1]), dist.drop_before(part[-1] + 1)
    return np.asarray(out, dtype=np.float64)


def _score(clip, neg: bool) -> list[tuple[int, float]]:
    if clip.gt is None:
        raise InputError(f"sequence {clip.name!r}: this metric needs the ground truth (--gt)")
    batch = clip.options.get("batch")
    values = vmaf(clip.pred, clip.gt, neg=neg, frames=clip.frames, device=clip.device, batch=batch,
                  size_rule=clip.protocol.size_rule, name=f"sequence {clip.name!r}")
    return [(int(t), float(v)) for t, v in zip(clip.frames, values)]


def score_vmaf(clip) -> list[tuple[int, float]]:
    """The scorer of ``vmaf`` (:mod:`vsrbench.metrics.extension`): one row per scored frame, in order,
    the motion feature from the GT frames next to it (options, family ``vmaf``: ``batch``)."""
    return _score(clip, False)


def score_vmaf_neg(clip) -> list[tuple[int, float]]:
    """The scorer of ``vmaf-neg``: as :func:`score_vmaf` with vmaf-torch's NEG mode."""
    return _score(clip, True)
