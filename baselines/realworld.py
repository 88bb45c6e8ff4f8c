"""RealBasicVSR's second-order real-world degradation as a named, seeded recipe: ``realbasicvsr``.

Diffusion-VSR papers (Upscale-A-Video, STAR, SeedVR, DOVE, MGLD-VSR) test on UDM10, SPMCS,
YouHQ40 or REDS30 with LQ clips *regenerated* by RealBasicVSR's random degradation, so the dataset
name does not fix the input: the recipe and its seed do. This module makes that LQ reproducibly
and says how it was made.

The recipe (:data:`REALBASICVSR`) is transcribed, as facts, from mmagic's
``configs/real_basicvsr/realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py``
(``train_pipeline``; the GAN config inherits it) and the transforms in
``mmagic/datasets/transforms/random_degradations.py`` / ``blur_kernels.py`` (:data:`SOURCE`):

1. first order: blur (``iso`` 0.405, ``aniso`` 0.225, ``generalized_iso`` 0.108,
   ``generalized_aniso`` 0.027, ``plateau_iso`` 0.108, ``plateau_aniso`` 0.027, ``sinc`` 0.1;
   7..21 taps; sigma 0.2..3), resize (up / down / keep with 0.2 / 0.7 / 0.1, scale 0.15..1.5,
   bilinear / area / bicubic), noise (Gaussian sigma 1..30 or Poisson scale 0.05..3, half each,
   grey with 0.4), JPEG (quality 30..95), video compression (libx264 / h264 / mpeg4, 10-100 kbit/s);
2. second order: blur with probability 0.8 (sigma 0.2..1.5), resize (0.3 / 0.4 / 0.3,
   scale 0.3..1.2), noise (sigma 1..25, Poisson 0.05..2.5), JPEG (30..95);
3. in a random order: video compression, and [resize to 1/4 of the GT size, then a sinc filter
   with probability 0.8 (cutoff pi/3..pi)]; then clip to 0..255.

Every clip draws its own parameters once and lets them drift frame to frame by the recipe's steps
(sigma +-0.02, angle +-0.31416, resize scale +-0.015 / 0.03, noise +-0.1 / 0.005, quality +-3,
...), as mmagic's transforms do for a sequence. The sampled values of every frame are returned as
a JSON-able record (:func:`sample_clip`), which ``vsrbench degrade`` writes next to the frames.

Seeding (exact): a clip named ``NAME`` (the sequence's folder name or video stem) under seed ``S``
uses ``numpy.random.SeedSequence([S, w0, w1, w2, w3])``, where ``w0..w3`` are the first 16 bytes of
``SHA-256(NAME as UTF-8)`` read as four little-endian uint32; ``.spawn(2)`` gives the parameters'
generator (``np.random.default_rng(child 0)``) and the noise realisations' (child 1). A clip's LQ
therefore depends on its name, the seed and its frames only, never on clip order or other clips.

The recipe is faithful, not bit-identical: mmagic draws from Python's ``random`` and NumPy's
global state in its own order, so no seed reproduces a given mmagic LQ byte for byte. Where this
module departs from what mmagic's training pipeline does, it says so:

- the GT is degraded as given: mmagic's training first sharpens it (``UnsharpMasking``, weight 0.5)
  and degrades the sharpened copy; test-set regeneration degrades the GT itself;
- the output is rounded to uint8 (``np.round``) to be saved as PNG; mmagic feeds the float result;
- sizes: the frame sides must be multiples of 4 (the LQ is exactly 1/4); a random resize never
  goes below 2 px (only frames under 64 px reach it); a video is encoded at even sides (an odd
  side is padded by one replicated row/column, cropped after decoding), since yuv420p H.264 refuses odd sides.

Kept as mmagic does it, quirks included: the generalized/plateau shape parameter of each frame is
drawn again between 1 and the clip's value (mmagic passes ``[beta, beta]`` as a range to a sampler
that splits at 1); JPEG encodes the RGB array as OpenCV's BGR; the video is written at 1 frame/s
with the drawn bit rate, frames whose size drifted being scaled to the first frame's size by
PyAV's encoder; video compression needs PyAV (``pip install av``).
"""
from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass, fields
from typing import Any, Sequence

import numpy as np

from vsrbench.core.errors import InputError
from vsrbench.core.frames import to_uint8

__all__ = [
    "SOURCE", "SEEDING", "KERNEL_TYPES", "KERNEL_PROBS", "KERNEL_SIZES", "RESIZE_METHODS",
    "Blur", "Resize", "Noise", "Jpeg", "VideoCompression", "Recipe", "REALBASICVSR", "RANDOM_DEGRADATIONS",
    "clip_generators", "sample_clip", "apply_clip", "degrade_clip", "recipe_record", "require_av",
    "degradation_label", "parse_degradation", "refuse_framewise",
]

SOURCE = ("open-mmlab/mmagic@0a560bba configs/real_basicvsr/realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py "
          "(train_pipeline) with mmagic/datasets/transforms/random_degradations.py and blur_kernels.py")
SEEDING = ("numpy.random.SeedSequence([seed, *uint32-LE words of SHA-256(clip name, UTF-8)[:16]]).spawn(2): "
           "child 0 draws the clip's parameters, child 1 its noise")

KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso", "sinc")
KERNEL_PROBS = (0.405, 0.225, 0.108, 0.027, 0.108, 0.027, 0.1)
KERNEL_SIZES = (7, 9, 11, 13, 15, 17, 19, 21)
RESIZE_METHODS = ("bilinear", "area", "bicubic")
_THIRDS = (1 / 3, 1 / 3, 1 / 3)
_PI = 3.1416  # the config writes pi as 3.1416


# ----------------------------------------------------------------------------- the recipe
@dataclass(frozen=True)
class Blur:
    """mmagic ``RandomBlur``: one kernel type and size per clip, its parameters drifting per frame.

    ``omega`` None: the cutoff range follows Real-ESRGAN (pi/3..pi under 13 taps, pi/5..pi from 13).
    """

    prob: float = 1.0
    kernel_types: tuple[str, ...] = KERNEL_TYPES
    kernel_probs: tuple[float, ...] = KERNEL_PROBS
    kernel_sizes: tuple[int, ...] = KERNEL_SIZES
    sigma: tuple[float, float] = (0.0, 0.0)  # both axes
    rotation: tuple[float, float] = (-_PI, _PI)
    beta_gaussian: tuple[float, float] = (0.5, 4.0)
    beta_plateau: tuple[float, float] = (1.0, 2.0)
    omega: tuple[float, float] | None = None
    sigma_step: float = 0.0
    rotation_step: float = 0.0
    beta_gaussian_step: float = 0.0
    beta_plateau_step: float = 0.0
    omega_step: float = 0.0
    step: str = "blur"


@dataclass(frozen=True)
class Resize:
    """mmagic ``RandomResize``: ``mode_probs`` (up, down, keep) and ``scale``; None: to the final LQ size."""

    mode_probs: tuple[float, float, float] | None = None
    scale: tuple[float, float] = (1.0, 1.0)
    methods: tuple[str, ...] = RESIZE_METHODS
    method_probs: tuple[float, ...] = _THIRDS
    scale_step: float = 0.0
    prob: float = 1.0
    step: str = "resize"


@dataclass(frozen=True)
class Noise:
    """mmagic ``RandomNoise``: Gaussian (sigma in 8-bit units) or Poisson, grey with a probability."""

    gaussian_prob: float = 0.5  # Poisson otherwise
    gaussian_sigma: tuple[float, float] = (1.0, 30.0)
    gaussian_gray_prob: float = 0.4
    poisson_scale: tuple[float, float] = (0.05, 3.0)
    poisson_gray_prob: float = 0.4
    gaussian_sigma_step: float = 0.1
    poisson_scale_step: float = 0.005
    prob: float = 1.0
    step: str = "noise"


@dataclass(frozen=True)
class Jpeg:
    """mmagic ``RandomJPEGCompression`` (OpenCV): an integer quality per frame."""

    quality: tuple[int, int] = (30, 95)
    quality_step: float = 3.0
    prob: float = 1.0
    step: str = "jpeg"


@dataclass(frozen=True)
class VideoCompression:
    """mmagic ``RandomVideoCompression`` (PyAV, mp4, yuv420p, 1 frame/s): a codec and a bit rate per clip."""

    codecs: tuple[str, ...] = ("libx264", "h264", "mpeg4")
    codec_probs: tuple[float, ...] = _THIRDS
    bitrate: tuple[int, int] = (10_000, 100_000)  # bit/s, both ends drawn
    prob: float = 1.0
    step: str = "video"


Step = Blur | Resize | Noise | Jpeg | VideoCompression


@dataclass(frozen=True)
class Recipe:
    """A second-order degradation: ``first`` and ``second`` in order, then the ``shuffled`` groups in a
    random order (each group's steps in order); the LQ is ``1/scale`` of the GT."""

    name: str
    scale: int
    first: tuple[Step, ...]
    second: tuple[Step, ...]
    shuffled: tuple[tuple[Step, ...], ...]
    source: str = SOURCE


REALBASICVSR = Recipe(
    name="realbasicvsr", scale=4,
    first=(Blur(sigma=(0.2, 3.0), sigma_step=0.02, rotation_step=0.31416, beta_gaussian_step=0.05,
                beta_plateau_step=0.1, omega_step=0.0628),
           Resize(mode_probs=(0.2, 0.7, 0.1), scale=(0.15, 1.5), scale_step=0.015),
           Noise(),
           Jpeg(),
           VideoCompression()),
    second=(Blur(prob=0.8, sigma=(0.2, 1.5), sigma_step=0.02, rotation_step=0.31416, beta_gaussian_step=0.05,
                 beta_plateau_step=0.1, omega_step=0.0628),
            Resize(mode_probs=(0.3, 0.4, 0.3), scale=(0.3, 1.2), scale_step=0.03),
            Noise(gaussian_sigma=(1.0, 25.0), poisson_scale=(0.05, 2.5)),
            Jpeg()),
    shuffled=((VideoCompression(),),
              (Resize(), Blur(prob=0.8, kernel_types=("sinc",), kernel_probs=(1.0,), omega=(_PI / 3, _PI),
                              omega_step=0.0628))),
)

#: the random degradations by name (``vsrbench degrade --kind NAME --seed N``)
RANDOM_DEGRADATIONS: dict[str, Recipe] = {REALBASICVSR.name: REALBASICVSR}


def _steps(recipe: Recipe) -> list[Step]:
    return [*recipe.first, *recipe.second, *(s for group in recipe.shuffled for s in group)]


# ----------------------------------------------------------------------------- seeding and sampling
def clip_generators(seed: int, clip: str) -> tuple[np.random.Generator, np.random.Generator]:
    """``(parameters' generator, noise generator)`` of clip ``clip`` under ``seed`` (see :data:`SEEDING`)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed: expected an integer >= 0, got {seed!r}")
    digest = hashlib.sha256(str(clip).encode("utf-8")).digest()[:16]
    words = np.frombuffer(digest, dtype="<u4").tolist()
    params, noise = np.random.SeedSequence([int(seed), *words]).spawn(2)
    return np.random.default_rng(params), np.random.default_rng(noise)


def _walk(rng: np.random.Generator, bounds: tuple[float, float], step: float, n: int,
          start: float | None = None) -> list[float]:
    """A value drawn in ``bounds`` (or ``start``), then moved by U(-step, step) per frame, clipped to ``bounds``."""
    value = float(rng.uniform(*bounds)) if start is None else float(start)
    out = [value]
    for _ in range(n - 1):
        value = float(np.clip(value + rng.uniform(-step, step), *bounds))
        out.append(value)
    return out


def _between(rng: np.random.Generator, a: float, b: float) -> float:
    """``a + (b - a) * U[0, 1)``: NumPy's legacy ``uniform(a, b)``, which also takes ``a > b``."""
    return a + (b - a) * float(rng.random())


_BLUR_FIELDS = {"iso": ("sigma_x",), "aniso": ("sigma_x", "sigma_y", "rotation"),
                "generalized_iso": ("sigma_x", "beta"), "generalized_aniso": ("sigma_x", "sigma_y", "rotation", "beta"),
                "plateau_iso": ("sigma_x", "beta"), "plateau_aniso": ("sigma_x", "sigma_y", "rotation", "beta"),
                "sinc": ("omega",)}


def _sample_blur(spec: Blur, rng: np.random.Generator, n: int) -> dict:
    kind = str(rng.choice(spec.kernel_types, p=spec.kernel_probs))
    size = int(rng.choice(spec.kernel_sizes))
    omega = spec.omega or ((math.pi / 3, math.pi) if size < 13 else (math.pi / 5, math.pi))
    walks = {"sigma_x": _walk(rng, spec.sigma, spec.sigma_step, n),
             "sigma_y": _walk(rng, spec.sigma, spec.sigma_step, n),
             "rotation": _walk(rng, spec.rotation, spec.rotation_step, n),
             "beta_gaussian": _walk(rng, spec.beta_gaussian, spec.beta_gaussian_step, n),
             "beta_plateau": _walk(rng, spec.beta_plateau, spec.beta_plateau_step, n),
             "omega": _walk(rng, omega, spec.omega_step, n)}
    # mmagic hands [beta, beta] to a sampler that draws in (range[0], 1) or (1, range[1]) with odds 1/2:
    # the frame's shape parameter lies between 1 and the clip's value
    walks["beta"] = [float(_between(rng, b, 1.0) if rng.uniform() <= 0.5 else _between(rng, 1.0, b))
                     for b in walks["beta_plateau" if kind.startswith("plateau") else "beta_gaussian"]]
    return {"kernel": kind, "size": size, **{k: walks[k] for k in _BLUR_FIELDS[kind]}}


def _even_size(h: int, w: int, factor: float, even: bool = True) -> list[int]:
    hh, ww = h * factor, w * factor
    if even:
        hh, ww = 2 * (hh // 2), 2 * (ww // 2)
    return [max(2, int(hh)), max(2, int(ww))]


def _sample_resize(spec: Resize, rng: np.random.Generator, n: int, size: tuple[int, int],
                   target: tuple[int, int]) -> dict:
    method = str(rng.choice(spec.methods, p=spec.method_probs))
    if spec.mode_probs is None:
        return {"method": method, "sizes": [list(target)] * n}
    mode = str(rng.choice(("up", "down", "keep"), p=spec.mode_probs))
    lo, hi = spec.scale
    start = rng.uniform(1.0, hi) if mode == "up" else rng.uniform(lo, 1.0) if mode == "down" else 1.0
    factors = _walk(rng, spec.scale, spec.scale_step, n, start=start)
    return {"method": method, "mode": mode, "factor": factors, "sizes": [_even_size(*size, f) for f in factors]}


def _sample_noise(spec: Noise, rng: np.random.Generator, n: int) -> dict:
    if rng.uniform() < spec.gaussian_prob:
        sigma = _walk(rng, spec.gaussian_sigma, spec.gaussian_sigma_step, n)
        return {"type": "gaussian", "gray": bool(rng.uniform() < spec.gaussian_gray_prob), "sigma": sigma}
    scale = _walk(rng, spec.poisson_scale, spec.poisson_scale_step, n)
    return {"type": "poisson", "gray": bool(rng.uniform() < spec.poisson_gray_prob), "scale": scale}


def _sample_jpeg(spec: Jpeg, rng: np.random.Generator, n: int) -> dict:
    lo, hi = spec.quality
    quality = [round(float(rng.uniform(lo, hi)))]
    for _ in range(n - 1):
        quality.append(round(float(np.clip(quality[-1] + rng.uniform(-spec.quality_step, spec.quality_step), lo, hi))))
    return {"quality": quality}


def _sample_video(spec: VideoCompression, rng: np.random.Generator) -> dict:
    codec = str(rng.choice(spec.codecs, p=spec.codec_probs))
    return {"codec": codec, "bitrate": int(rng.integers(spec.bitrate[0], spec.bitrate[1] + 1))}


def _sample_step(spec: Step, rng: np.random.Generator, n: int, size: list[int], target: tuple[int, int]) -> dict:
    """One step's record: ``{"step", "applied", ...}``; ``size`` (first frame's H, W) follows the resizes."""
    if rng.uniform() > spec.prob:
        return {"step": spec.step, "applied": False}
    if isinstance(spec, Blur):
        drawn = _sample_blur(spec, rng, n)
    elif isinstance(spec, Resize):
        drawn = _sample_resize(spec, rng, n, (size[0], size[1]), target)
        size[:] = drawn["sizes"][0]
    elif isinstance(spec, Noise):
        drawn = _sample_noise(spec, rng, n)
    elif isinstance(spec, Jpeg):
        drawn = _sample_jpeg(spec, rng, n)
    else:
        drawn = _sample_video(spec, rng)
    return {"step": spec.step, "applied": True, **drawn}


def _check_clip_size(n: int, height: int, width: int, scale: int) -> None:
    if n < 1:
        raise InputError("clip: no frames to degrade")
    if height % scale or width % scale or min(height, width) < 4 * scale:
        raise InputError(f"frame: the LQ is exactly 1/{scale} of the GT, so GT sides must be multiples of {scale} "
                         f"and at least {4 * scale} px, got {width}x{height}; crop GT to "
                         f"{width // scale * scale}x{height // scale * scale} first")


def sample_clip(seed: int, clip: str, n_frames: int, size: tuple[int, int],
                recipe: Recipe = REALBASICVSR) -> dict:
    """The parameters ``recipe`` draws for clip ``clip`` (``n_frames`` frames of ``size`` = (H, W)) under ``seed``.

    Returns a JSON-able record: ``{"clip", "seed", "frames", "size", "first": [...], "second": [...],
    "order": [...], "shuffled": [[...], ...]}``; each step is ``{"step", "applied", ...}`` with one value
    per frame where the recipe lets a parameter drift.
    """
    _check_clip_size(n_frames, size[0], size[1], recipe.scale)
    rng, _ = clip_generators(seed, clip)
    target = (size[0] // recipe.scale, size[1] // recipe.scale)
    current = [int(size[0]), int(size[1])]
    first = [_sample_step(s, rng, n_frames, current, target) for s in recipe.first]
    second = [_sample_step(s, rng, n_frames, current, target) for s in recipe.second]
    order = [int(i) for i in rng.permutation(len(recipe.shuffled))]
    shuffled: list[list[dict]] = [[] for _ in recipe.shuffled]
    for i in order:  # drawn in the order they run, so a resize knows the size it starts from
        shuffled[i] = [_sample_step(s, rng, n_frames, current, target) for s in recipe.shuffled[i]]
    return {"clip": str(clip), "seed": int(seed), "frames": int(n_frames), "size": [int(size[0]), int(size[1])],
            "first": first, "second": second, "order": order, "shuffled": shuffled}


# ----------------------------------------------------------------------------- kernels
def _quadratic_form(size: int, sigma_x: float, sigma_y: float, rotation: float) -> np.ndarray:
    """``x^T S^-1 x`` on the ``size`` x ``size`` grid centred on 0 (x along columns, y along rows), where
    ``S = R diag(sigma_x^2, sigma_y^2) R^T`` and ``R`` rotates by ``rotation`` radians."""
    r = np.arange(size, dtype=np.float64) - (size - 1) / 2
    xy = np.stack(np.meshgrid(r, r), axis=-1)
    c, s = math.cos(rotation), math.sin(rotation)
    rot = np.array([[c, -s], [s, c]])
    cov = rot @ np.diag([sigma_x ** 2, sigma_y ** 2]) @ rot.T
    return np.sum((xy @ np.linalg.inv(cov)) * xy, axis=-1)


def _kernel(drawn: dict, t: int) -> np.ndarray:
    """Frame ``t``'s normalised 2-D kernel of a blur record (Real-ESRGAN's kernel families)."""
    kind, size = drawn["kernel"], drawn["size"]
    if kind == "sinc":
        from scipy.special import j1

        omega = drawn["omega"][t]
        r = np.arange(size, dtype=np.float64) - (size - 1) / 2
        rad = np.hypot(*np.meshgrid(r, r))
        with np.errstate(divide="ignore", invalid="ignore"):
            k = omega * j1(omega * rad) / (2 * math.pi * rad)
        k[(size - 1) // 2, (size - 1) // 2] = omega ** 2 / (4 * math.pi)
        return k / k.sum()
    sx = drawn["sigma_x"][t]
    sy, rotation = (drawn["sigma_y"][t], drawn["rotation"][t]) if kind.endswith("aniso") else (sx, 0.0)
    q = _quadratic_form(size, sx, sy, rotation)
    if kind in ("iso", "aniso"):
        k = np.exp(-0.5 * q)
    elif kind.startswith("generalized"):
        k = np.exp(-0.5 * np.power(q, drawn["beta"][t]))
    else:
        k = 1.0 / (np.power(q, drawn["beta"][t]) + 1.0)
    return k / k.sum()


# ----------------------------------------------------------------------------- applying a record
_CV2_RESIZE = {"bilinear": "INTER_LINEAR", "area": "INTER_AREA", "bicubic": "INTER_CUBIC"}


def _blur(frames: list[np.ndarray], drawn: dict) -> list[np.ndarray]:
    import cv2  # filter2D: correlation, BORDER_REFLECT_101, the input's depth kept (mmagic's call)

    return [cv2.filter2D(f, -1, _kernel(drawn, t)) for t, f in enumerate(frames)]


def _resize(frames: list[np.ndarray], drawn: dict) -> list[np.ndarray]:
    import cv2

    how = getattr(cv2, _CV2_RESIZE[drawn["method"]])
    return [cv2.resize(f, (int(w), int(h)), interpolation=how) for f, (h, w) in zip(frames, drawn["sizes"])]


def _poisson(frame: np.ndarray, gray: bool, rng: np.random.Generator) -> np.ndarray:
    """Poisson noise at mmagic's level: counts ``x * 2^ceil(log2(#distinct values))`` of the rounded frame."""
    import cv2

    x = np.float32(frame)
    if gray:  # RGB frame: OpenCV's BGR->grey weights on the reversed channels
        x = cv2.cvtColor(np.ascontiguousarray(x[..., ::-1]), cv2.COLOR_BGR2GRAY)[..., None]
    x = np.clip(np.round(x), 0, 255)
    levels = 2.0 ** np.ceil(np.log2(len(np.unique(x))))
    return (rng.poisson(x * levels).astype(np.float32) / levels - x).astype(np.float32)


def _noise(frames: list[np.ndarray], drawn: dict, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for t, f in enumerate(frames):
        if drawn["type"] == "gaussian":
            noise = rng.standard_normal(f.shape).astype(np.float32) * np.float32(drawn["sigma"][t])
            noise = noise[..., :1] if drawn["gray"] else noise
        else:
            noise = _poisson(f, drawn["gray"], rng) * np.float32(drawn["scale"][t])
        out.append(f + noise)
    return out


def _saturate_uint8(frame: np.ndarray) -> np.ndarray:
    """OpenCV's conversion to 8 bits (round half to even, clip), what ``imencode`` does to a float frame."""
    return frame if frame.dtype == np.uint8 else np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def _jpeg(frames: list[np.ndarray], drawn: dict) -> list[np.ndarray]:
    import cv2

    out = []
    for f, q in zip(frames, drawn["quality"]):
        ok, buf = cv2.imencode(".jpg", _saturate_uint8(f), [int(cv2.IMWRITE_JPEG_QUALITY), int(q)])
        out.append(cv2.imdecode(buf, cv2.IMREAD_COLOR))
    return out


def _video(frames: list[np.ndarray], drawn: dict) -> list[np.ndarray]:
    """Encode the clip as mp4 (yuv420p, 1 frame/s, the drawn codec and bit rate) with PyAV and decode it."""
    av = require_av()
    h, w = frames[0].shape[:2]
    even = [np.pad(_saturate_uint8(f), ((0, f.shape[0] % 2), (0, f.shape[1] % 2), (0, 0)), mode="edge")
            for f in frames]
    buf = io.BytesIO()
    with av.open(buf, "w", "mp4") as container:
        stream = container.add_stream(drawn["codec"], rate=1)
        stream.height, stream.width = even[0].shape[:2]
        stream.pix_fmt, stream.bit_rate = "yuv420p", int(drawn["bitrate"])
        for f in even:  # a frame of another size is scaled to the stream's by PyAV (mmagic's case too)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")))
        container.mux(stream.encode())
    with av.open(io.BytesIO(buf.getvalue()), "r", "mp4") as container:
        out = [fr.to_ndarray(format="rgb24")[:h, :w].astype(np.float32) for fr in container.decode(video=0)]
    if len(out) != len(frames):
        raise InputError(f"video compression: {drawn['codec']} returned {len(out)} frames for {len(frames)}")
    return out


def _apply_step(frames: list[np.ndarray], drawn: dict, noise_rng: np.random.Generator) -> list[np.ndarray]:
    if not drawn["applied"]:
        return frames
    step = drawn["step"]
    if step == "blur":
        return _blur(frames, drawn)
    if step == "resize":
        return _resize(frames, drawn)
    if step == "noise":
        return _noise(frames, drawn, noise_rng)
    if step == "jpeg":
        return _jpeg(frames, drawn)
    return _video(frames, drawn)


def apply_clip(frames: Sequence[np.ndarray], record: dict, noise_rng: np.random.Generator) -> list[np.ndarray]:
    """Degrade ``frames`` (RGB, uint8 or 0..255 floats) by a :func:`sample_clip` record; uint8 LQ frames.

    The frames are degraded as float32 (mmagic's working type); steps that produce uint8 (JPEG, and
    OpenCV filters on uint8) keep it, as in mmagic; the result is clipped to 0..255 and rounded.
    """
    clip = [np.asarray(f, dtype=np.float32) for f in frames]
    for drawn in [*record["first"], *record["second"]]:
        clip = _apply_step(clip, drawn, noise_rng)
    for i in record["order"]:
        for drawn in record["shuffled"][i]:
            clip = _apply_step(clip, drawn, noise_rng)
    return [to_uint8(np.clip(f.astype(np.float64), 0, 255), unit=255.0) for f in clip]


def degrade_clip(frames: Sequence[np.ndarray], seed: int, clip: str,
                 recipe: Recipe = REALBASICVSR) -> tuple[list[np.ndarray], dict]:
    """The LQ frames (uint8, exactly 1/``recipe.scale`` of the GT) of clip ``clip`` under ``seed``, and its record.

    Parameters
    ----------
    frames : sequence of ndarray
        The clip's GT frames, (H, W, 3) RGB, all of one size whose sides are multiples of the scale.
    seed : int
        The seed (>= 0); with the clip name it fixes every draw (see :data:`SEEDING`).
    clip : str
        The clip's name (its folder name or video stem), so a clip's LQ does not depend on the others.
    recipe : Recipe
        The degradation (default: :data:`REALBASICVSR`).

    Returns
    -------
    (list of ndarray, dict)
        The LQ frames and :func:`sample_clip`'s record of the parameters used.
    """
    arrays = [np.asarray(f) for f in frames]
    if not arrays:
        raise InputError(f"clip {clip!r}: no frames to degrade")
    shape = arrays[0].shape
    if len(shape) != 3 or shape[2] != 3 or any(a.shape != shape for a in arrays):
        raise InputError(f"clip {clip!r}: {recipe.name} degrades RGB frames of one size (H, W, 3); "
                         f"got shapes {sorted({a.shape for a in arrays})[:3]}")
    if any(isinstance(s, VideoCompression) for s in _steps(recipe)):
        require_av(recipe.name)
    record = sample_clip(seed, clip, len(arrays), shape[:2], recipe)
    return apply_clip(arrays, record, clip_generators(seed, clip)[1]), record


# ----------------------------------------------------------------------------- names, records
def require_av(name: str = REALBASICVSR.name) -> Any:
    """PyAV (``import av``), or the one-line error naming the step that needs it."""
    try:
        import av
    except ImportError:
        raise InputError(f"{name}: its video-compression step (mmagic's RandomVideoCompression: libx264/h264/mpeg4 "
                         "into mp4) needs PyAV, which is not installed: pip install av") from None
    return av


def recipe_record(recipe: Recipe = REALBASICVSR) -> dict:
    """The recipe as JSON: its steps (every probability, range and step), source and seeding."""
    def step(s: Step) -> dict:  # tuples as lists, as JSON reads them back
        return {f.name: list(v) if isinstance(v := getattr(s, f.name), tuple) else v for f in fields(s)}

    return {"name": recipe.name, "scale": recipe.scale, "source": recipe.source, "seeding": SEEDING,
            "first": [step(s) for s in recipe.first], "second": [step(s) for s in recipe.second],
            "shuffled": [[step(s) for s in g] for g in recipe.shuffled],
            "faithful": "recipe-faithful, not bit-identical to mmagic's random stream; the GT is not sharpened first"}


_LABEL = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(?:\[seed=(?P<seed>\d+)\])?$")


def degradation_label(name: str, seed: int | None = None) -> str:
    """How results name a degradation: ``bd-duf``, or a random one with its seed, ``realbasicvsr[seed=0]``."""
    return name if seed is None else f"{name}[seed={int(seed)}]"


def parse_degradation(text: str) -> tuple[str, int | None]:
    """``(name, seed or None)`` of a :func:`degradation_label`; a malformed label is one line."""
    m = _LABEL.match(str(text).strip())
    if m is None:
        raise InputError(f"degradation: expected NAME or NAME[seed=N] (e.g. realbasicvsr[seed=0]), got {text!r}")
    return m["name"], None if m["seed"] is None else int(m["seed"])


def refuse_framewise(name: str):
    """The frame-by-frame ``apply`` of a random degradation: it degrades whole clips, so it refuses (one line)."""
    def apply(frame: np.ndarray, scale: int) -> np.ndarray:
        raise InputError(f"{name} degrades whole clips with a seed, not single frames: make the LQ with "
                         f"`vsrbench degrade --kind {name} --seed N GT LQ` (or vsrbench.baselines.realworld."
                         "degrade_clip) and use the LQ folder")

    return apply
