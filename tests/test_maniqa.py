"""MANIQA (vsrbench.metrics.maniqa) against pyiqa 0.1.16's MANIQA with the same seeded random weights.

pyiqa's ``MANIQA(pretrained=False)`` (its timm ViT-B/8 built without downloading), randomly perturbed with a
seed, is saved in pyiqa's key layout; vsrbench loads that file strictly. A crop costs a ViT-B/8 pass (~2 s
here), so the network checks use 1 or 2 crops per frame (pyiqa's ``test_sample``); the 20 crops of the
default are checked as geometry against pyiqa's ``uniform_crop``. Timing with ``--benchmark-enable``:

    pytest tests/test_maniqa.py --benchmark-enable -k bench
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from _support.pyiqa_reference import no_timm_download, pyiqa_module, randomize, to_pyiqa_input

from vsrbench.core.errors import WeightsError
from vsrbench.core.weights import accept_unverified
from vsrbench.metrics import maniqa
from vsrbench.metrics.extension import Clip


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """(pyiqa's MANIQA with seeded random weights, the file holding them)."""
    arch = pyiqa_module("archs.maniqa_arch")
    torch.manual_seed(0)
    with no_timm_download():
        model = arch.MANIQA(pretrained=False, train_dataset="koniq", scale=0.8).eval()
    state = randomize(model, seed=1)
    path = tmp_path_factory.mktemp("maniqa") / "random_maniqa.pt"
    torch.save(state, path)
    accept_unverified(path)  # seeded random weights, not the published file
    return model, path


def _frames(shape, n=1, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape, 3), dtype=np.uint8)


@torch.no_grad()
def _pyiqa(model, frames, crops):
    model.test_sample = crops
    return model(to_pyiqa_input(frames)).flatten().double().numpy()


def test_two_crops_match_pyiqa(reference):
    model, path = reference
    frames = _frames((240, 260), seed=3)
    want = _pyiqa(model, frames, 2)
    got = maniqa.maniqa_scores(frames, weights=path, crops=2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_scorer_on_small_frames_matches_pyiqa_batch(reference):
    """Frames under 224 pixels are enlarged first; pyiqa scores the two frames as one batch, vsrbench's scorer
    one by one."""
    model, path = reference
    frames = _frames((100, 150), n=2, seed=4)
    want = _pyiqa(model, frames, 1)
    clip = Clip("seq", pred=list(frames), gt=None, frames=(0, 1), protocol=None, options={"crops": 1},
                weights={"maniqa-koniq": str(path)})
    rows = maniqa.score_koniq(clip)
    assert [t for t, _ in rows] == [0, 1]
    got = np.array([v for _, v in rows])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert abs(want[0] - want[1]) > 1e-3 * abs(want[0])  # the frames score differently: the check can fail


def test_crops_match_pyiqa_uniform_crop():
    util = pyiqa_module("archs.arch_util")
    for h, w in ((576, 720), (224, 300), (100, 150), (1080, 1920), (230, 229), (225, 800)):
        x = torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w).expand(1, 3, h, w).contiguous()
        for n in (20, 1, 2, 9):
            assert torch.equal(maniqa._crops(x, n), util.uniform_crop(x, 224, n)), (h, w, n)
    enlarge, boxes = maniqa.crop_boxes(576, 720)
    assert enlarge is None and len(boxes) == 20 and boxes[:6] == [(0, 0), (0, 124), (0, 248), (0, 372), (0, 496),
                                                                 (88, 0)]


def test_variant_settings_are_pyiqas():
    configs = pyiqa_module("default_model_configs").DEFAULT_CONFIGS
    arch = pyiqa_module("archs.maniqa_arch")
    defaults = inspect.signature(arch.MANIQA).parameters
    assert maniqa.CROPS == defaults["test_sample"].default == 20
    for variant, (_, fname, scale) in maniqa.VARIANTS.items():
        opts = configs["maniqa" if variant == "koniq" else f"maniqa-{variant}"]["metric_opts"]
        assert opts["train_dataset"] == variant
        assert scale == opts.get("scale", defaults["scale"].default)
        assert arch.default_model_urls[variant].endswith("/" + fname)


def _hollow(model) -> dict:
    """``model``'s keys and shapes, every tensor a broadcast view of one zero (a file of a few KB)."""
    return {k: torch.zeros(1, dtype=v.dtype).expand(v.shape) for k, v in model.state_dict().items()}


def test_wrong_files_one_line(reference, tmp_path):
    model, _ = reference
    state = _hollow(model)
    state.pop("swintransformer2.downsample.bias")  # a key the score never reads is still required
    cut = tmp_path / "cut.pt"
    torch.save(state, cut)
    accept_unverified(cut)
    with pytest.raises(WeightsError, match="1 keys missing.*swintransformer2.downsample.bias") as e:
        maniqa.maniqa_scores(_frames((32, 32)), weights=cut)
    assert "\n" not in str(e.value)
    state = {"module." + k: v for k, v in _hollow(model).items()}  # DataParallel's prefix, as pyiqa accepts it
    state["extra.weight"] = torch.zeros(1)
    odd = tmp_path / "odd.pt"
    torch.save(state, odd)
    accept_unverified(odd)
    with pytest.raises(WeightsError, match="1 unexpected keys.*extra.weight"):
        maniqa.maniqa_scores(_frames((32, 32)), weights=odd)
    state.pop("extra.weight")
    state["module.conv2.weight"] = torch.zeros(1).expand(384, 768, 3, 3)
    torch.save(state, odd)
    accept_unverified(odd)
    with pytest.raises(WeightsError, match="'conv2.weight' has shape \\(384, 768, 3, 3\\), expected \\(384, 768, 1, 1\\)"):
        maniqa.maniqa_scores(_frames((32, 32)), weights=odd)


def test_missing_file_names_the_download(tmp_path, monkeypatch):
    monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsError) as e:
        maniqa.maniqa_scores(_frames((32, 32)))
    msg = str(e.value)
    assert "ckpt_koniq10k.pt" in msg and "vsrbench weights download maniqa-koniq" in msg and "\n" not in msg


# ---------------------------------------------------------------- speed (only with --benchmark-enable)

@pytest.mark.parametrize("case", ["pyiqa-single", "pyiqa-batch", "vsrbench-single", "vsrbench-batch"])
def test_bench_maniqa(benchmark, reference, case):
    if benchmark.disabled:
        pytest.skip("timing only with --benchmark-enable")
    model, path = reference
    frames = _frames((576, 720), n=2, seed=8)
    x = to_pyiqa_input(frames)
    model.test_sample = maniqa.CROPS
    calls = {
        "pyiqa-single": lambda: [model(x[i:i + 1]) for i in range(len(frames))],
        "pyiqa-batch": lambda: model(x),
        "vsrbench-single": lambda: [maniqa.maniqa_scores(f, weights=path) for f in frames],
        "vsrbench-batch": lambda: maniqa.maniqa_scores(frames, weights=path),
    }
    maniqa.get_maniqa(weights=path)  # loaded outside the clock
    benchmark.group = "maniqa"
    benchmark.extra_info.update(case=case, frames=len(frames), source="synthetic 576x720, 20 crops each")
    with torch.no_grad():
        benchmark.pedantic(calls[case], rounds=1, iterations=1)
