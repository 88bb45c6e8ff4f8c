"""CLIP-IQA (vsrbench.metrics.clipiqa) against pyiqa 0.1.16 and piq 0.8 with the same seeded random CLIP RN50.

The random CLIP is pyiqa's own ``CLIP`` module (RN50's configuration), perturbed with a seed and stored as
OpenAI's file stores it (convolution, linear and projection weights in float16: pyiqa and piq round them so
on loading). vsrbench loads that file strictly; pyiqa and piq get the same weights through their
``build_model``. Image and text features are compared directly (with random weights the scores of different
frames differ little, so the features are the sensitive check), then the scores.

pyiqa's ``CLIPIQA`` and piq's ``CLIPIQA`` import OpenAI's ``clip`` package (its tokenizer); where it is missing
those checks skip, saying so (``pip install --no-deps openai-clip && pip install ftfy regex "setuptools<80"``).
Timing with ``--benchmark-enable``: ``pytest tests/test_clipiqa.py --benchmark-enable -k bench``.
"""
from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
import torch
from _support.pyiqa_reference import import_pyiqa, pyiqa_module, randomize, to_pyiqa_input

from vsrbench.core.errors import WeightsError
from vsrbench.core.weights import accept_unverified
from vsrbench.metrics import clipiqa
from vsrbench.metrics.extension import Clip

NEED_CLIP = "pip install --no-deps openai-clip && pip install ftfy regex 'setuptools<80'"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """(pyiqa's CLIP RN50 with seeded random weights, float32; the file holding them in OpenAI's dtypes)."""
    cm = pyiqa_module("archs.clip_model")
    torch.manual_seed(0)
    model = cm.CLIP(1024, 224, (3, 4, 6, 3), 64, None, 77, 49408, 512, 8, 12)
    randomize(model, seed=3)
    _calibrate_batch_norms(model.visual)
    with torch.no_grad():
        model.logit_scale.fill_(np.log(100.0))  # CLIP's trained value: the scores spread as with real weights
    cm.convert_weights(model)  # OpenAI's file holds these weights in float16
    path = tmp_path_factory.mktemp("clip") / "random_RN50.pt"
    torch.save(model.state_dict(), path)
    accept_unverified(path)  # seeded random weights, not OpenAI's file
    return cm.build_model(torch.load(path)).float().eval(), path


def _calibrate_batch_norms(visual) -> None:
    """Set the BatchNorm running statistics to those of a few smooth random images (one pass in training mode,
    cumulative averages): with the initial statistics (0, 1) the random ResNet's features hardly depend on the
    image, and a comparison of features would prove little."""
    for m in visual.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    g = torch.Generator().manual_seed(5)
    visual.train()
    with torch.no_grad():
        visual(torch.nn.functional.interpolate(torch.randn(8, 3, 16, 16, generator=g), size=(96, 96), mode="bilinear"))
    visual.eval()


def _openai_clip():
    import_pyiqa()  # the torchvision work-around, which `clip` needs too
    try:
        with warnings.catch_warnings():  # its `from pkg_resources import packaging` is deprecated: not ours
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module("clip")
    except ImportError as e:
        pytest.skip(f"OpenAI's clip package is not importable ({e}); {NEED_CLIP}")


def _frames(shape, n=2, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape, 3), dtype=np.uint8)


def _normalized(frames):
    mean, std = torch.tensor(clipiqa.CLIP_MEAN).view(1, 3, 1, 1), torch.tensor(clipiqa.CLIP_STD).view(1, 3, 1, 1)
    return (to_pyiqa_input(frames) - mean) / std


@pytest.mark.parametrize("pos_embedding", [False, True])
@pytest.mark.parametrize("shape", [(64, 96), (100, 75)])
def test_image_features_match_pyiqa(reference, shape, pos_embedding):
    model, path = reference
    x = _normalized(_frames(shape, seed=shape[0]))
    with torch.no_grad():
        want = model.encode_image(x, pos_embedding=pos_embedding)
    got = clipiqa.get_clip(path).visual(x, pos_embedding)
    assert (got - want).abs().max() <= 1e-5 * want.abs().max()
    assert (want[0] - want[1]).abs().max() > 1e-3 * want.abs().max()  # the frames differ: the check can fail


def test_text_features_match_pyiqa(reference):
    model, path = reference
    net = clipiqa.get_clip(path)
    for name, prompts in clipiqa.PROMPTS.items():
        tokens = torch.zeros(len(prompts), 77, dtype=torch.long)
        for i, p in enumerate(prompts):
            tokens[i, :len(clipiqa.PROMPT_TOKENS[p])] = torch.tensor(clipiqa.PROMPT_TOKENS[p])
        with torch.no_grad():
            want = model.encode_text(tokens)
        want = want / want.norm(dim=-1, keepdim=True)
        torch.testing.assert_close(net.anchors(name), want, rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def pyiqa_clipiqa(reference):
    _openai_clip()
    arch = pyiqa_module("archs.clipiqa_arch")
    cm = pyiqa_module("archs.clip_model")
    path = reference[1]
    real = arch.load
    arch.load = lambda name, device="cpu": cm.build_model(torch.load(path)).float()  # instead of downloading RN50.pt
    try:
        model = arch.CLIPIQA().eval()
    finally:
        arch.load = real
    return model


def test_prompt_tokens_are_pyiqas_and_openai_tokenizers(pyiqa_clipiqa):
    clip = _openai_clip()
    for p, ids in clipiqa.PROMPT_TOKENS.items():
        row = clip.tokenize([p])[0]
        assert tuple(int(v) for v in row[row > 0]) == ids, p
    ours = torch.zeros(10, 77, dtype=torch.int32)
    for i, p in enumerate(clipiqa.PROMPTS["pyiqa"]):
        ours[i, :len(clipiqa.PROMPT_TOKENS[p])] = torch.tensor(clipiqa.PROMPT_TOKENS[p])
    assert torch.equal(pyiqa_clipiqa.prompt_pairs.int(), ours)  # pyiqa's pairs, in its order


@pytest.mark.parametrize("pos_embedding", [False, True])
def test_scores_match_pyiqa(reference, pyiqa_clipiqa, pos_embedding):
    frames = _frames((72, 120), seed=11)
    pyiqa_clipiqa.pos_embedding = pos_embedding  # the attribute pyiqa's forward reads (its constructor option)
    with torch.no_grad():
        want = pyiqa_clipiqa(to_pyiqa_input(frames)).flatten().double().numpy()
    pyiqa_clipiqa.pos_embedding = False
    got = clipiqa.clipiqa_scores(frames, weights=reference[1], pos_embedding=pos_embedding)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert abs(want[0] - want[1]) > 1e-4


def test_piq_pair_matches_piq(reference):
    clip = _openai_clip()
    try:
        piq_iqa = importlib.import_module("piq.clip_iqa")
    except ImportError as e:
        pytest.skip(f"piq is not installed ({e})")
    state = torch.load(reference[1])
    tokens = clip.tokenize(["Good photo.", "Bad photo."])  # what piq's clipiqa_tokens.pt holds
    real = piq_iqa.clip.load, piq_iqa.download_tensor
    piq_iqa.clip.load = lambda: piq_iqa.clip.build_model(dict(state)).float()
    piq_iqa.download_tensor = lambda url, root, map_location="cpu": tokens
    try:
        metric = piq_iqa.CLIPIQA(data_range=1.0)
    finally:
        piq_iqa.clip.load, piq_iqa.download_tensor = real
    frames = _frames((72, 120), seed=12)
    want = metric(to_pyiqa_input(frames)).flatten().double().numpy()
    clip_ = Clip("seq", pred=list(frames), gt=None, frames=(0, 1), protocol=None, weights={"clip-rn50": str(reference[1])})
    rows = clipiqa.score_piq(clip_)
    np.testing.assert_allclose([v for _, v in rows], want, rtol=0, atol=1e-5)


def test_single_frame_equals_batch_and_scorer(reference):
    path = reference[1]
    frames = _frames((48, 64), n=3, seed=5)
    batch = clipiqa.clipiqa_scores(frames, weights=path)
    single = [clipiqa.clipiqa_scores(f, weights=path) for f in frames]
    np.testing.assert_allclose(single, batch, rtol=0, atol=1e-6)
    clip = Clip("seq", pred=list(frames), gt=None, frames=(0, 2), protocol=None, weights={"clip-rn50": str(path)})
    rows = clipiqa.score_clipiqa(clip)
    assert [t for t, _ in rows] == [0, 2]
    np.testing.assert_allclose([v for _, v in rows], batch[[0, 2]], rtol=0, atol=1e-6)


def test_reads_a_torchscript_archive(reference, tmp_path):
    """OpenAI publishes RN50.pt as a TorchScript archive (with three scalar buffers a module's state dict lacks):
    the same weights traced into one score the same."""
    cm = pyiqa_module("archs.clip_model")
    model = cm.build_model(torch.load(reference[1])).float().eval()
    for k, v in (("input_resolution", 224), ("context_length", 77), ("vocab_size", 49408)):
        model.__dict__.pop(k, None)
        model.register_buffer(k, torch.tensor(v))
    model.forward = model.visual.forward
    archive = tmp_path / "RN50.pt"
    with warnings.catch_warnings():  # torch.jit's deprecation and tracer notes: not what is tested
        warnings.simplefilter("ignore")
        torch.jit.trace(model, torch.zeros(1, 3, 32, 32), check_trace=False).save(str(archive))
    accept_unverified(archive)
    frames = _frames((40, 40), seed=13)
    np.testing.assert_array_equal(clipiqa.clipiqa_scores(frames, weights=archive),
                                  clipiqa.clipiqa_scores(frames, weights=reference[1]))


def test_wrong_files_one_line(reference, tmp_path):
    state = {k: torch.zeros((), dtype=v.dtype).expand(v.shape) for k, v in reference[0].state_dict().items()}
    state.pop("visual.attnpool.positional_embedding")  # unused by clipiqa, still required
    cut = tmp_path / "cut.pt"
    torch.save(state, cut)
    accept_unverified(cut)
    with pytest.raises(WeightsError, match="1 keys missing.*visual.attnpool.positional_embedding") as e:
        clipiqa.clipiqa_scores(_frames((32, 32)), weights=cut)
    assert "\n" not in str(e.value)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"PK\x03\x04 not an archive")
    accept_unverified(junk)
    with pytest.raises(WeightsError, match="cannot read"):
        clipiqa.clipiqa_scores(_frames((32, 32)), weights=junk)


def test_missing_file_names_the_download(tmp_path, monkeypatch):
    monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsError) as e:
        clipiqa.clipiqa_scores(_frames((32, 32)))
    msg = str(e.value)
    assert "RN50.pt" in msg and "vsrbench weights download clip-rn50" in msg and "\n" not in msg


# ---------------------------------------------------------------- speed (only with --benchmark-enable)

@pytest.mark.parametrize("case", ["pyiqa-single", "pyiqa-batch", "vsrbench-single", "vsrbench-batch"])
def test_bench_clipiqa(benchmark, reference, pyiqa_clipiqa, case):
    if benchmark.disabled:
        pytest.skip("timing only with --benchmark-enable")
    path = reference[1]
    model = pyiqa_clipiqa
    frames = _frames((576, 720), n=4, seed=8)
    x = to_pyiqa_input(frames)
    clipiqa.clipiqa_scores(frames[:1], weights=path)  # loaded (and the prompts encoded) outside the clock
    calls = {
        "pyiqa-single": lambda: [model(x[i:i + 1]) for i in range(len(frames))],
        "pyiqa-batch": lambda: model(x),
        "vsrbench-single": lambda: [clipiqa.clipiqa_scores(f, weights=path) for f in frames],
        "vsrbench-batch": lambda: clipiqa.clipiqa_scores(frames, weights=path),
    }
    benchmark.group = "clipiqa"
    benchmark.extra_info.update(case=case, frames=len(frames), source="synthetic 576x720")
    with torch.no_grad():
        benchmark.pedantic(calls[case], rounds=3, iterations=1)
