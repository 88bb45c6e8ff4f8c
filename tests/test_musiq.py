"""MUSIQ (vsrbench.metrics.musiq) against pyiqa 0.1.16's MUSIQ with the same seeded random weights.

A weights file is pyiqa's own ``MUSIQ(pretrained=False)`` state dict, randomly perturbed with a
seed and saved: vsrbench loads it strictly (pyiqa's published key layout) and both score the same small
frames. Timing (pyiqa vs vsrbench, frame by frame and batched) only with ``--benchmark-enable``:

    pytest tests/test_musiq.py --benchmark-enable -k bench
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from _support.pyiqa_reference import pyiqa_module, randomize, to_pyiqa_input

from vsrbench.core.errors import InputError, WeightsError
from vsrbench.core.weights import accept_unverified
from vsrbench.metrics import musiq
from vsrbench.metrics.extension import Clip

OUTPUTS = {"koniq": 1, "ava": 10}  # spaq and paq2piq have KonIQ's layout (one output): they reuse its file


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """head -> (pyiqa's MUSIQ with seeded random weights, the weights file holding them)."""
    arch = pyiqa_module("archs.musiq_arch")
    out = {}
    for i, (head, n) in enumerate(OUTPUTS.items()):
        torch.manual_seed(100 + i)
        model = arch.MUSIQ(pretrained=False, num_class=n).eval()
        state = randomize(model, seed=200 + i)
        path = tmp_path_factory.mktemp("musiq") / f"random_{head}.pth"
        torch.save(state, path)
        accept_unverified(path)  # seeded random weights, not the published file
        out[head] = (model, path)
    return out


def _frames(shape, n=2, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape, 3), dtype=np.uint8)


@torch.no_grad()
def _pyiqa(model, frames):
    return model(to_pyiqa_input(frames)).flatten().double().numpy()


# landscape, portrait, a very wide frame (padded 224/384 scales in pyiqa), sizes not multiples of 32
@pytest.mark.parametrize("head, shape", [("koniq", (48, 80)), ("koniq", (90, 61)), ("koniq", (40, 170)),
                                         ("ava", (90, 61)), ("spaq", (48, 80)), ("paq2piq", (40, 170))])
def test_matches_pyiqa(reference, head, shape):
    model, path = reference["ava" if head == "ava" else "koniq"]
    frames = _frames(shape, seed=shape[0])
    want = _pyiqa(model, frames)
    got = musiq.musiq_scores(frames, head=head, weights=path)
    assert got.shape == (2,)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert abs(want[0] - want[1]) > 1e-4  # the two frames score differently: the check can fail


def test_single_frame_equals_batch(reference):
    _, path = reference["koniq"]
    frames = _frames((64, 64), n=3, seed=5)
    batch = musiq.musiq_scores(frames, weights=path)
    single = [musiq.musiq_scores(f, weights=path) for f in frames]
    assert all(isinstance(v, float) for v in single)
    np.testing.assert_allclose(single, batch, rtol=0, atol=1e-6)


def test_hashed_positions_match_pyiqa():
    util = pyiqa_module("data.multiscale_trans_util")
    for ch in (1, 3, 7, 12, 19, 30, 34):
        for cw in (1, 5, 10, 23, 60):
            want = util.get_hashed_spatial_pos_emb_index(10, ch, cw).long().flatten()
            assert torch.equal(musiq._hashed_positions(ch, cw), want), (ch, cw)


def test_scorer_rows(reference, tmp_path):
    _, path = reference["ava"]
    frames = _frames((40, 56), n=5, seed=9)
    clip = Clip("seq", pred=list(frames), gt=None, frames=(0, 2, 3, 4), protocol=None,
                weights={"musiq-ava": str(path)})
    rows = musiq.score_ava(clip)
    assert [t for t, _ in rows] == [0, 2, 3, 4]
    np.testing.assert_allclose([v for _, v in rows], musiq.musiq_scores(frames[[0, 2, 3, 4]], head="ava",
                                                                         weights=path), atol=1e-6)


def test_wrong_files_one_line(reference, tmp_path):
    _, ava = reference["ava"]
    with pytest.raises(WeightsError, match="2 keys missing.*head.weight") as e:  # the AVA file given as the KonIQ head
        musiq.musiq_scores(_frames((32, 32)), head="koniq", weights=ava)
    assert "\n" not in str(e.value)
    with pytest.raises(WeightsError, match="2 keys missing.*head.0.weight"):  # and the other way round
        musiq.musiq_scores(_frames((32, 32)), head="ava", weights=reference["koniq"][1])
    state = torch.load(reference["koniq"][1])
    state.pop("transformer_encoder.cls")
    cut = tmp_path / "cut.pth"
    torch.save(state, cut)
    accept_unverified(cut)
    with pytest.raises(WeightsError, match="1 keys missing.*transformer_encoder.cls"):
        musiq.musiq_scores(_frames((32, 32)), weights=cut)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a weights file")
    accept_unverified(junk)
    with pytest.raises(WeightsError, match="cannot read weights file"):
        musiq.musiq_scores(_frames((32, 32)), weights=junk)


@pytest.mark.parametrize("frames, message", [
    ([np.zeros((8, 8, 3), np.uint8), np.zeros((9, 8, 3), np.uint8)], "different shapes"),
    (np.zeros((8, 8, 3), np.float32), "expected uint8"),
    (np.zeros((8, 8), np.uint8), "expected RGB frames"),
    (torch.zeros(2, 1, 8, 8), "expected RGB frames"),
])
def test_bad_input_one_line(frames, message):
    with pytest.raises(InputError, match=message) as e:  # before any weights are looked up
        musiq.musiq_scores(frames, weights="/nonexistent")
    assert "\n" not in str(e.value)


def test_missing_file_names_the_download(tmp_path, monkeypatch):
    monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsError) as e:
        musiq.musiq_scores(_frames((32, 32)), head="spaq")
    msg = str(e.value)
    assert "musiq_spaq_ckpt-358bb6af.pth" in msg and "vsrbench weights download musiq-spaq" in msg and "\n" not in msg


# ---------------------------------------------------------------- speed (only with --benchmark-enable)

def _bench_frames():
    from _support.paths import SHARED

    folder = SHARED / "data" / "vid4" / "DUF-52L" / "calendar"
    if folder.is_dir():
        from vsrbench.core.io import open_sequence

        seq = open_sequence(folder)
        return np.stack([np.asarray(seq[i]) for i in range(4)]), "vid4/calendar DUF-52L, 4 frames"
    return _frames((576, 720), n=4), "synthetic 576x720, 4 frames"


@pytest.mark.parametrize("case", ["pyiqa-single", "pyiqa-batch", "vsrbench-single", "vsrbench-batch"])
def test_bench_musiq(benchmark, reference, case):
    if benchmark.disabled:
        pytest.skip("timing only with --benchmark-enable")
    model, path = reference["koniq"]
    frames, source = _bench_frames()
    x = to_pyiqa_input(frames)
    musiq.musiq_scores(frames[:1], weights=path)  # load once, outside the clock
    calls = {
        "pyiqa-single": lambda: [_pyiqa(model, frames[i:i + 1]) for i in range(len(frames))],
        "pyiqa-batch": lambda: model(x),
        "vsrbench-single": lambda: [musiq.musiq_scores(f, weights=path) for f in frames],
        "vsrbench-batch": lambda: musiq.musiq_scores(frames, weights=path),
    }
    benchmark.group = "musiq"
    benchmark.extra_info.update(case=case, frames=len(frames), source=source)
    with torch.no_grad():
        benchmark.pedantic(calls[case], rounds=3, iterations=1)
