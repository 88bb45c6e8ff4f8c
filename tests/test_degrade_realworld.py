"""baselines/realworld.py (``realbasicvsr``) and ``vsrbench degrade --kind realbasicvsr --seed N``.

References:
- the published recipe, transcribed here on its own from open-mmlab/mmagic@0a560bba
  ``configs/real_basicvsr/realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py`` (train_pipeline) and
  the defaults of ``mmagic/datasets/transforms/random_degradations.py`` (``PUBLISHED`` below): the module's
  recipe must equal it and every sampled value must lie in its ranges;
- kernels: mmagic's own ``blur_kernels.py`` run on fixed parameters (tests/golden/realbasicvsr_kernels.json,
  its command inside), ``cv2.getGaussianKernel`` outer products, and the ideal circular low-pass filter as
  ``(1/2pi) int_0^omega J0(rho r) rho d rho`` (``scipy.integrate.quad``), not the closed form with J1;
- blur: ``scipy.ndimage.correlate`` with mode 'mirror' (= OpenCV's BORDER_REFLECT_101);
- seeding: ``SeedSequence`` built here from ``hashlib``/``struct`` as the docs state it.

The end-to-end tests that run the video-compression step need PyAV (``pip install av``) and skip without
it; the rest run the recipe without its video steps.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import struct
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy import integrate, ndimage, special

from vsrbench.baselines import realworld as RW
from vsrbench.baselines.degrade import degrade_uint8
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.io import open_sequence

# ---------------------------------------------------------------------------- the published recipe
# mmagic@0a560bba, configs/real_basicvsr/realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py, train_pipeline
PI = 3.1416
KERNELS = dict(zip(["iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso", "sinc"],
                   [0.405, 0.225, 0.108, 0.027, 0.108, 0.027, 0.1]))
SIZES = [7, 9, 11, 13, 15, 17, 19, 21]
PUBLISHED = {
    "blur1": dict(prob=1, sigma=(0.2, 3), rotation=(-PI, PI), beta_gaussian=(0.5, 4), beta_plateau=(1, 2),
                  sigma_step=0.02, rotation_step=0.31416, beta_gaussian_step=0.05, beta_plateau_step=0.1,
                  omega_step=0.0628),
    "resize1": dict(mode_probs=(0.2, 0.7, 0.1), scale=(0.15, 1.5), scale_step=0.015),
    "noise1": dict(gaussian_sigma=(1, 30), gaussian_gray_prob=0.4, poisson_scale=(0.05, 3), poisson_gray_prob=0.4,
                   gaussian_sigma_step=0.1, poisson_scale_step=0.005),
    "jpeg": dict(quality=(30, 95), quality_step=3),
    "video": dict(codecs=("libx264", "h264", "mpeg4"), bitrate=(10_000, 100_000)),
    "blur2": dict(prob=0.8, sigma=(0.2, 1.5), rotation=(-PI, PI), beta_gaussian=(0.5, 4), beta_plateau=(1, 2),
                  sigma_step=0.02, rotation_step=0.31416, beta_gaussian_step=0.05, beta_plateau_step=0.1,
                  omega_step=0.0628),
    "resize2": dict(mode_probs=(0.3, 0.4, 0.3), scale=(0.3, 1.2), scale_step=0.03),
    "noise2": dict(gaussian_sigma=(1, 25), gaussian_gray_prob=0.4, poisson_scale=(0.05, 2.5), poisson_gray_prob=0.4,
                   gaussian_sigma_step=0.1, poisson_scale_step=0.005),
    "sinc": dict(prob=0.8, omega=(PI / 3, PI), omega_step=0.0628),
}
DEFAULT_OMEGA = {"small": (math.pi / 3, math.pi), "large": (math.pi / 5, math.pi)}  # < 13 taps / from 13 taps

HAS_AV = True
try:
    import av  # noqa: F401
except ImportError:
    HAS_AV = False
needs_av = pytest.mark.skipif(not HAS_AV, reason="the video-compression step needs PyAV (pip install av)")

#: the recipe without its two video-compression steps (runs without PyAV)
NO_VIDEO = dataclasses.replace(RW.REALBASICVSR, first=RW.REALBASICVSR.first[:4], shuffled=RW.REALBASICVSR.shuffled[1:])


def _clip(rng, n=4, h=48, w=64):
    """A smooth random RGB clip (uint8) with some structure, so JPEG and the codecs have work to do."""
    base = cv2.resize(rng.integers(0, 256, (h // 4, w // 4, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    return [np.clip(base.astype(int) + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8) for _ in range(n)]


# ---------------------------------------------------------------------------- the recipe and its ranges
def test_recipe_equals_the_published_config():
    r = RW.REALBASICVSR
    blur1, resize1, noise1, jpeg1, video1 = r.first
    blur2, resize2, noise2, jpeg2 = r.second
    (video3,), (resize3, sinc3) = r.shuffled
    assert r.name == "realbasicvsr" and r.scale == 4 and "mmagic" in r.source
    for blur, key in ((blur1, "blur1"), (blur2, "blur2")):
        assert dict(zip(blur.kernel_types, blur.kernel_probs)) == KERNELS and list(blur.kernel_sizes) == SIZES
        assert blur.omega is None  # Real-ESRGAN's size rule
        for field, value in PUBLISHED[key].items():
            assert getattr(blur, field) == pytest.approx(value), (key, field)
    for spec, key in ((resize1, "resize1"), (resize2, "resize2"), (noise1, "noise1"), (noise2, "noise2"),
                      (jpeg1, "jpeg"), (jpeg2, "jpeg"), (video1, "video"), (video3, "video")):
        for field, value in PUBLISHED[key].items():
            assert getattr(spec, field) == (pytest.approx(value) if not isinstance(value, tuple) or
                                            not isinstance(value[0], str) else value), (key, field)
    for spec in (resize1, resize2, resize3):
        assert spec.methods == ("bilinear", "area", "bicubic") and spec.method_probs == pytest.approx([1 / 3] * 3)
    assert resize3.mode_probs is None  # to the final size
    assert sinc3.kernel_types == ("sinc",) and sinc3.kernel_sizes == tuple(SIZES)
    for field, value in PUBLISHED["sinc"].items():
        assert getattr(sinc3, field) == pytest.approx(value)
    assert video1.codec_probs == pytest.approx([1 / 3] * 3) and noise1.gaussian_prob == 0.5
    assert all(s.prob == 1 for s in (resize1, noise1, jpeg1, video1, resize2, noise2, jpeg2, video3, resize3))
    record = RW.recipe_record()
    assert json.loads(json.dumps(record)) == record and record["seeding"] == RW.SEEDING


def _check_walk(values, bounds, step):
    lo, hi = bounds
    assert all(lo - 1e-12 <= v <= hi + 1e-12 for v in values), (values, bounds)
    assert all(abs(b - a) <= step + 1e-12 for a, b in zip(values, values[1:])), (values, step)


def _check_blur(rec, key, stats):
    pub = PUBLISHED[key]
    kind, size = rec["kernel"], rec["size"]
    assert kind in KERNELS and size in SIZES
    stats.setdefault(key, []).append(kind)
    if kind == "sinc":
        _check_walk(rec["omega"], DEFAULT_OMEGA["small" if size < 13 else "large"], pub["omega_step"])
        return
    _check_walk(rec["sigma_x"], pub["sigma"], pub["sigma_step"])
    if "aniso" in kind:
        _check_walk(rec["sigma_y"], pub["sigma"], pub["sigma_step"])
        _check_walk(rec["rotation"], pub["rotation"], pub["rotation_step"])
    if kind.startswith(("generalized", "plateau")):
        lo, hi = pub["beta_plateau" if kind.startswith("plateau") else "beta_gaussian"]
        assert all(lo <= b <= hi for b in rec["beta"])


def _check_resize(rec, key, size):
    pub = PUBLISHED[key]
    lo, hi = pub["scale"]
    assert rec["method"] in ("bilinear", "area", "bicubic") and rec["mode"] in ("up", "down", "keep")
    first = rec["factor"][0]
    assert {"up": 1 <= first <= hi, "down": lo <= first <= 1, "keep": first == 1}[rec["mode"]]
    _check_walk(rec["factor"], pub["scale"], pub["scale_step"])
    for f, got in zip(rec["factor"], rec["sizes"]):  # floored to even sides (never under 2 px)
        assert got == [max(2, 2 * int(size[0] * f // 2)), max(2, 2 * int(size[1] * f // 2))]
    return rec["sizes"][0]


def _check_noise(rec, key):
    pub = PUBLISHED[key]
    if rec["type"] == "gaussian":
        _check_walk(rec["sigma"], pub["gaussian_sigma"], pub["gaussian_sigma_step"])
    else:
        assert rec["type"] == "poisson"
        _check_walk(rec["scale"], pub["poisson_scale"], pub["poisson_scale_step"])
    assert isinstance(rec["gray"], bool)


def _check_jpeg_video(rec):
    if rec["step"] == "jpeg":
        q = rec["quality"]
        assert all(isinstance(v, int) and 30 <= v <= 95 for v in q)
        assert all(abs(b - a) <= 3 for a, b in zip(q, q[1:]))
    else:
        assert rec["codec"] in PUBLISHED["video"]["codecs"] and 10_000 <= rec["bitrate"] <= 100_000


def test_sampled_parameters_stay_in_the_published_ranges_with_their_odds():
    stats: dict = {}
    n_clips, n_frames, size = 1500, 5, (64, 96)
    applied = {"blur2": 0, "sinc": 0}
    for i in range(n_clips):
        rec = RW.sample_clip(7, f"clip{i}", n_frames, size)
        assert json.loads(json.dumps(rec)) == rec
        blur1, resize1, noise1, jpeg1, video1 = rec["first"]
        _check_blur(blur1, "blur1", stats)
        current = _check_resize(resize1, "resize1", size)
        _check_noise(noise1, "noise1")
        _check_jpeg_video(jpeg1), _check_jpeg_video(video1)
        blur2, resize2, noise2, jpeg2 = rec["second"]
        if blur2["applied"]:
            applied["blur2"] += 1
            _check_blur(blur2, "blur2", stats)
        current = _check_resize(resize2, "resize2", current)
        _check_noise(noise2, "noise2")
        _check_jpeg_video(jpeg2)
        assert sorted(rec["order"]) == [0, 1]
        (video3,), (resize3, sinc3) = rec["shuffled"]
        _check_jpeg_video(video3)
        assert resize3["sizes"] == [[16, 24]] * n_frames  # exactly 1/4 of the GT
        if sinc3["applied"]:
            applied["sinc"] += 1
            assert sinc3["kernel"] == "sinc" and sinc3["size"] in SIZES
            _check_walk(sinc3["omega"], PUBLISHED["sinc"]["omega"], PUBLISHED["sinc"]["omega_step"])
        stats.setdefault("mode1", []).append(resize1["mode"])
        stats.setdefault("noise", []).append(noise1["type"])
        stats.setdefault("gray", []).append(noise1["gray"])
        stats.setdefault("codec", []).append(video1["codec"])
        stats.setdefault("order", []).append(rec["order"][0])

    def near(count, total, p):  # 4.5 standard deviations: the seeds are fixed, so this cannot flake
        return abs(count / total - p) <= 4.5 * math.sqrt(p * (1 - p) / total)

    assert near(applied["blur2"], n_clips, 0.8) and near(applied["sinc"], n_clips, 0.8)
    for key in ("blur1", "blur2"):
        for kind, p in KERNELS.items():
            assert near(stats[key].count(kind), len(stats[key]), p), (key, kind)
    for mode, p in zip(("up", "down", "keep"), PUBLISHED["resize1"]["mode_probs"]):
        assert near(stats["mode1"].count(mode), n_clips, p)
    assert near(stats["noise"].count("gaussian"), n_clips, 0.5) and near(sum(stats["gray"]), n_clips, 0.4)
    assert all(near(stats["codec"].count(c), n_clips, 1 / 3) for c in PUBLISHED["video"]["codecs"])
    assert near(stats["order"].count(0), n_clips, 0.5)


def test_seeding_is_the_documented_one_and_independent_of_other_clips():
    words = struct.unpack("<4I", hashlib.sha256("city".encode("utf-8")).digest()[:16])
    mine = [np.random.default_rng(c) for c in np.random.SeedSequence([11, *words]).spawn(2)]
    theirs = RW.clip_generators(11, "city")
    for a, b in zip(mine, theirs):
        assert a.integers(0, 2 ** 62, 8).tolist() == b.integers(0, 2 ** 62, 8).tolist()
    assert RW.sample_clip(11, "city", 3, (32, 32)) == RW.sample_clip(11, "city", 3, (32, 32))
    assert RW.sample_clip(11, "city", 3, (32, 32)) != RW.sample_clip(12, "city", 3, (32, 32))
    assert RW.sample_clip(11, "city", 3, (32, 32)) != RW.sample_clip(11, "walk", 3, (32, 32))
    with pytest.raises(InputError, match="seed: expected an integer >= 0"):
        RW.clip_generators(-1, "city")


# ---------------------------------------------------------------------------- kernels and steps
def _blur_record(kind, size, **values):
    return {"kernel": kind, "size": size, **{k: [v] for k, v in values.items()}}


def test_gaussian_kernels_are_outer_products_of_opencv_gaussians():
    gx, gy = cv2.getGaussianKernel(11, 2.0)[:, 0], cv2.getGaussianKernel(11, 0.7)[:, 0]
    iso = RW._kernel(_blur_record("iso", 11, sigma_x=2.0), 0)
    np.testing.assert_allclose(iso, np.outer(gx, gx), atol=1e-12)
    aniso = RW._kernel(_blur_record("aniso", 11, sigma_x=2.0, sigma_y=0.7, rotation=0.0), 0)
    np.testing.assert_allclose(aniso, np.outer(gy, gx), atol=1e-12)  # x (columns) wide, y (rows) narrow
    turned = RW._kernel(_blur_record("aniso", 11, sigma_x=2.0, sigma_y=0.7, rotation=math.pi / 2), 0)
    np.testing.assert_allclose(turned, np.outer(gx, gy), atol=1e-12)
    gen = RW._kernel(_blur_record("generalized_aniso", 11, sigma_x=2.0, sigma_y=0.7, rotation=0.0, beta=1.0), 0)
    np.testing.assert_allclose(gen, np.outer(gy, gx), atol=1e-12)  # beta 1 is the Gaussian


def test_kernels_equal_mmagics_on_the_same_parameters():
    golden = json.loads((Path(__file__).parent / "golden" / "realbasicvsr_kernels.json").read_text())
    assert len(golden["cases"]) == 14 and "mmagic" in golden["source"]
    for case in golden["cases"]:
        drawn = {"kernel": case["kernel"], "size": case["size"],
                 **{k: [case[k]] for k in ("sigma_x", "sigma_y", "rotation", "beta", "omega") if k in case}}
        # mmagic builds its covariance in float32: 1e-6 covers that on any machine
        np.testing.assert_allclose(RW._kernel(drawn, 0), np.array(case["values"]), atol=1e-6, err_msg=case["kernel"])


def test_plateau_kernel_by_hand():
    k = RW._kernel(_blur_record("plateau_iso", 7, sigma_x=1.5, beta=1.7), 0)
    r = np.arange(7) - 3.0
    yy, xx = np.meshgrid(r, r, indexing="ij")
    ref = 1.0 / (((xx ** 2 + yy ** 2) / 1.5 ** 2) ** 1.7 + 1.0)
    np.testing.assert_allclose(k, ref / ref.sum(), atol=1e-12)


def test_sinc_kernel_is_the_ideal_circular_low_pass():
    omega, size = 2.1, 9
    k = RW._kernel(_blur_record("sinc", size, omega=omega), 0)
    r = np.arange(size) - (size - 1) / 2
    rad = np.hypot(*np.meshgrid(r, r))
    ref = np.vectorize(lambda d: integrate.quad(lambda p: special.j0(p * d) * p, 0, omega)[0] / (2 * math.pi))(rad)
    np.testing.assert_allclose(k, ref / ref.sum(), atol=1e-9)


def test_blur_step_is_a_reflect101_correlation():
    rng = np.random.default_rng(3)
    frame = rng.uniform(0, 255, (20, 24, 3)).astype(np.float32)
    rec = {"step": "blur", "applied": True, **_blur_record("aniso", 7, sigma_x=1.2, sigma_y=0.5, rotation=0.4)}
    out = RW._apply_step([frame], rec, rng)[0]
    kernel = RW._kernel(rec, 0)
    ref = np.stack([ndimage.correlate(frame[..., c].astype(np.float64), kernel, mode="mirror") for c in range(3)], -1)
    np.testing.assert_allclose(out, ref, atol=1e-3)


def test_noise_steps():
    rng = np.random.default_rng(4)
    frames = [np.full((64, 64, 3), 120, np.float32)] * 2
    gauss = RW._apply_step(frames, {"step": "noise", "applied": True, "type": "gaussian", "gray": False,
                                    "sigma": [10.0, 20.0]}, rng)
    assert [round(float((g - 120).std()), 0) for g in gauss] == [10.0, 20.0]
    gray = RW._apply_step(frames, {"step": "noise", "applied": True, "type": "gaussian", "gray": True,
                                   "sigma": [10.0, 10.0]}, rng)
    assert np.array_equal(gray[0][..., 0], gray[0][..., 2]) and gray[0].std() > 5
    # Poisson on a flat frame: one distinct value, so counts of x * 1; variance x * scale^2
    pois = RW._apply_step(frames, {"step": "noise", "applied": True, "type": "poisson", "gray": False,
                                   "scale": [1.0, 2.0]}, rng)
    assert abs(float((pois[0] - 120).var()) / 120 - 1) < 0.1 and abs(float((pois[1] - 120).var()) / 480 - 1) < 0.1


def test_resize_and_jpeg_steps():
    rng = np.random.default_rng(5)
    frames = _clip(rng, 2)
    out = RW._apply_step(frames, {"step": "resize", "applied": True, "method": "area", "sizes": [[24, 32], [12, 16]]}, rng)
    assert [o.shape for o in out] == [(24, 32, 3), (12, 16, 3)]
    np.testing.assert_array_equal(out[1], cv2.resize(frames[1], (16, 12), interpolation=cv2.INTER_AREA))
    jp = RW._apply_step([f.astype(np.float32) + 0.4 for f in frames], {"step": "jpeg", "applied": True,
                                                                        "quality": [30, 95]}, rng)
    assert all(j.dtype == np.uint8 for j in jp)
    err = [float(np.abs(j.astype(float) - f).mean()) for j, f in zip(jp, frames)]
    assert err[0] > err[1] > 0  # quality 30 loses more than 95


# ---------------------------------------------------------------------------- whole clips
def test_clip_degradation_is_deterministic_and_exactly_a_quarter():
    clip = _clip(np.random.default_rng(6), n=3, h=48, w=64)
    a, rec = RW.degrade_clip(clip, 5, "walk", NO_VIDEO)
    b, _ = RW.degrade_clip(clip, 5, "walk", NO_VIDEO)
    c, _ = RW.degrade_clip(clip, 6, "walk", NO_VIDEO)
    assert [x.shape for x in a] == [(12, 16, 3)] * 3 and all(x.dtype == np.uint8 for x in a)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a, b))
    assert any(x.tobytes() != y.tobytes() for x, y in zip(a, c))
    assert rec == RW.sample_clip(5, "walk", 3, (48, 64), NO_VIDEO)


def test_bad_clips_are_refused_in_one_line():
    with pytest.raises(InputError, match=r"multiples of 4.*got 50x48; crop GT to 48x48"):
        RW.degrade_clip([np.zeros((48, 50, 3), np.uint8)], 0, "x", NO_VIDEO)
    with pytest.raises(InputError, match="RGB frames of one size"):
        RW.degrade_clip([np.zeros((48, 48), np.uint8)], 0, "x", NO_VIDEO)
    with pytest.raises(InputError, match="not single frames: make the LQ with `vsrbench degrade --kind realbasicvsr"):
        degrade_uint8(np.zeros((32, 32, 3), np.uint8), "realbasicvsr")


def test_without_pyav_the_video_step_is_named(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    with pytest.raises(InputError, match=r"^realbasicvsr: its video-compression step .* needs PyAV.*pip install av$"):
        RW.degrade_clip(_clip(np.random.default_rng(0), 2), 0, "x")
    gt = _write(tmp_path / "gt", {"a": _clip(np.random.default_rng(0), 2)})
    assert main(["degrade", "--kind", "realbasicvsr", "--seed", "0", str(gt), str(tmp_path / "lq")]) == 2
    assert not (tmp_path / "lq").exists()


def test_labels():
    assert RW.degradation_label("realbasicvsr", 3) == "realbasicvsr[seed=3]" and RW.degradation_label("bd-duf") == "bd-duf"
    assert RW.parse_degradation("realbasicvsr[seed=3]") == ("realbasicvsr", 3)
    assert RW.parse_degradation("bi-matlab") == ("bi-matlab", None)
    with pytest.raises(InputError, match=r"expected NAME or NAME\[seed=N\]"):
        RW.parse_degradation("realbasicvsr[seed=x]")
    from vsrbench.degrade import check_degradation

    assert check_degradation("realbasicvsr[seed=0]") == ("realbasicvsr", 0)
    with pytest.raises(InputError, match="bd-duf is deterministic, it takes no seed"):
        check_degradation("bd-duf[seed=1]")
    with pytest.raises(UnknownNameError, match="did you mean 'realbasicvsr'"):
        check_degradation("realbasicvs[seed=1]")


# ---------------------------------------------------------------------------- with PyAV: the full recipe, the CLI
def _write(root, clips):
    for name, frames in clips.items():
        (root / name).mkdir(parents=True)
        for i, f in enumerate(frames):
            cv2.imwrite(str(root / name / f"{i:08d}.png"), f[..., ::-1])
    return root


@needs_av
def test_video_step_keeps_count_and_odd_sizes():
    rng = np.random.default_rng(8)
    frames = [f[:9, :14] for f in _clip(rng, 3, 12, 16)] + [_clip(rng, 1, 12, 16)[0]]  # last one: another size
    for codec in PUBLISHED["video"]["codecs"]:
        out = RW._apply_step(frames, {"step": "video", "applied": True, "codec": codec, "bitrate": 100_000}, rng)
        assert [o.shape for o in out] == [(9, 14, 3)] * 4, codec  # all at the first frame's size
        assert float(np.abs(out[0] - frames[0]).mean()) < 40


@needs_av
def test_full_recipe_deterministic_and_a_quarter():
    clip = _clip(np.random.default_rng(9), n=3, h=36, w=40)  # LQ 9x10: odd sides through the codecs
    a, rec = RW.degrade_clip(clip, 2, "foliage")
    b, _ = RW.degrade_clip(clip, 2, "foliage")
    c, _ = RW.degrade_clip(clip, 3, "foliage")
    assert [x.shape for x in a] == [(9, 10, 3)] * 3
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a, b))
    assert any(x.tobytes() != y.tobytes() for x, y in zip(a, c))
    assert rec["first"][4]["step"] == "video" and rec["shuffled"][0][0]["step"] == "video"


@needs_av
def test_cli_writes_the_record_and_clip_order_does_not_matter(tmp_path):
    rng = np.random.default_rng(10)
    clips = {"calendar": _clip(rng, 3), "city": _clip(rng, 2)}
    gt = _write(tmp_path / "gt", clips)
    assert main(["degrade", "--kind", "realbasicvsr", "--seed", "4", str(gt), str(tmp_path / "lq")]) == 0
    assert main(["degrade", "--kind", "realbasicvsr", "--seed", "4", str(gt / "city"), str(tmp_path / "one")]) == 0
    assert main(["degrade", "--kind", "realbasicvsr", "--seed", "5", str(gt / "city"), str(tmp_path / "other")]) == 0
    record = json.loads((tmp_path / "lq" / "degradation.json").read_text())
    assert record["degradation"] == "realbasicvsr[seed=4]" and record["seed"] == 4 and record["scale"] == 4
    assert record["recipe"] == json.loads(json.dumps(RW.recipe_record())) and "mmagic" in record["recipe"]["source"]
    assert record["clips"]["calendar"] == RW.sample_clip(4, "calendar", 3, (48, 64))
    lq = open_sequence(tmp_path / "lq" / "city")
    assert len(lq) == 2 and lq[0].shape == (12, 16, 3)
    one, other = open_sequence(tmp_path / "one"), open_sequence(tmp_path / "other")
    assert all(np.array_equal(lq[i], one[i]) for i in range(2))  # the same clip alone: the same LQ
    assert not all(np.array_equal(lq[i], other[i]) for i in range(2))
    assert json.loads((tmp_path / "one" / "degradation.json").read_text())["clips"]["city"] == record["clips"]["city"]


def test_cli_refusals(tmp_path, capsys):
    gt = _write(tmp_path / "gt", {"a": _clip(np.random.default_rng(0), 2)})
    assert main(["degrade", "--kind", "realbasicvsr", str(gt), str(tmp_path / "lq")]) == 2
    assert "--seed: realbasicvsr is a random degradation; give --seed N" in capsys.readouterr().err
    assert main(["degrade", "--kind", "bd-duf", "--seed", "1", str(gt), str(tmp_path / "lq")]) == 2
    assert "--seed: bd-duf is deterministic" in capsys.readouterr().err
    if HAS_AV:
        assert main(["degrade", "--kind", "realbasicvsr", "--seed", "1", "--scale", "2", str(gt), str(tmp_path / "lq")]) == 2
        assert "realbasicvsr makes LQ at x4 only" in capsys.readouterr().err
    assert not (tmp_path / "lq").exists()


def test_evaluate_records_the_seeded_degradation(tmp_path, capsys):
    import sqlite3

    rng = np.random.default_rng(11)
    gt = _write(tmp_path / "gt", {"a": _clip(rng, 2)})
    pred = _write(tmp_path / "pred", {"a": _clip(rng, 2)})
    args = ["evaluate", "--gt", str(gt), "--pred", str(pred), "--metrics", "psnr", "--protocol", "basicsr-y",
            "--out", str(tmp_path / "res")]
    assert main(args + ["--degradation", "realbasicvsr[seed=3]"]) == 0
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert summary["degradation"] == "realbasicvsr[seed=3]"
    with sqlite3.connect(tmp_path / "res" / "results.sqlite") as db:
        bench = json.loads(db.execute("SELECT bench FROM runs").fetchone()[0])
    assert bench["datasets"]["gt"]["degradation"] == "realbasicvsr[seed=3]"
    capsys.readouterr()
    assert main(args + ["--degradation", "realbasicvsr[seed=4]"]) == 2  # another seed is another LQ: not mixed
    assert "not realbasicvsr[seed=4]" in capsys.readouterr().err
