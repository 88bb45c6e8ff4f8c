"""DOVER and FasterVQA (vsrbench.metrics.dover / fastervqa) against the original code's numbers.

The goldens (tests/golden/dover_*.json) were made by running ``VQAssessment/DOVER`` and
``VQAssessment/FAST-VQA-and-FasterVQA`` themselves (their model, sampler and view code, their
``fuse_results`` / ``sigmoid_rescale``) on the seeded random weights and clips of
``tests/_support/dover_reference.py``; each file records the command and the commits. The small cases use the
original's view functions with smaller grids/clips (their parameters), so the network is the real
architecture on small inputs; the full-size case (dover.yml / f3dvqa-b.yml as released) is checked by the
benchmark tests (``--benchmark-enable``; a full-size DOVER run takes about a minute on 2 CPU cores).
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from _support.dover_reference import clip_frames, random_state, write_random_fastervqa
from vsrbench.core.errors import InputError, UnknownNameError, WeightsError
from vsrbench.metrics import dover as dv
from vsrbench.metrics import fastervqa as fq
from vsrbench.metrics.extension import Clip

GOLDEN = Path(__file__).parent / "golden"
TOL = 1e-5


def _golden(name: str) -> dict:
    return json.loads((GOLDEN / name).read_text())


def _dover_sampling(st: dict) -> dv.Sampling:
    t, a = st["technical"], st["aesthetic"]
    return dv.Sampling(fragments=t["fragments_h"], fsize=t["fsize_h"], clip_len=t["clip_len"],
                       frame_interval=t["frame_interval"], num_clips=t["num_clips"], aligned=t["aligned"],
                       aesthetic_size=a["size_h"], aesthetic_frames=a["t_frag"])


def _fq_sampling(st: dict) -> dv.Sampling:
    f = st["fragments"]
    return dv.Sampling(fragments=f["fragments_h"], fsize=f["fsize_h"], clip_len=f["clip_len"], frame_interval=1,
                       num_clips=f["num_clips"], aligned=f["aligned"])


SMALL = _dover_sampling(_golden("dover_small.json")["sample_types"])
FQ_SMALL = _fq_sampling(_golden("dover_fastervqa_small.json")["sample_types"])


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small networks, a shared machine


@pytest.fixture(scope="module")
def dover_net():
    net = dv.DOVERNet()
    net.load_state_dict(random_state(net.state_dict(), 0))
    return net.eval()


@pytest.fixture(scope="module")
def fq_net():
    net = fq.FasterVQANet()
    net.load_state_dict(random_state(net.state_dict(), 0))
    return net.eval()


def _frames(case: dict) -> list[np.ndarray]:
    f = case["frames"]
    return clip_frames(f["n"], f["h"], f["w"], f["seed"])


# ------------------------------------------------------------------ against the original code

@pytest.mark.parametrize("i", range(5))
def test_dover_matches_the_original_code(dover_net, i):
    case = _golden("dover_small.json")["cases"][i]
    res = dv.dover_scores(_frames(case), seed=case["seed"], model=dover_net, sampling=SMALL,
                          antialias=case["antialias"])
    d = res.draws[0]
    # the same draws the original made after np.random.seed(s); torch.manual_seed(s)
    assert d.technical_frames.tolist() == case["technical_frames"]
    assert d.aesthetic_frames.tolist() == case["aesthetic_frames"]
    assert [o.tolist() for o in (d.offsets_h, d.offsets_w) if o is not None] == case["torch_draws"]
    assert res.technical_raw[0] == pytest.approx(case["technical_raw"], abs=TOL)
    assert res.aesthetic_raw[0] == pytest.approx(case["aesthetic_raw"], abs=TOL)
    t, a = case["technical_raw"], case["aesthetic_raw"]  # the fusions, on the original's raw outputs
    assert dv.fuse_results(t, a)["overall"] == pytest.approx(case["one_video_fused"], abs=1e-12)
    for k, v in case["set_script"].items():
        assert dv.fuse_results(t, a)[k] == pytest.approx(v, abs=1e-12)
    for k, v in case["old_set_script"].items():
        assert dv.fuse_results_swapped(t, a)[k] == pytest.approx(v, abs=1e-12)
    assert res.mean("overall") == pytest.approx(case["one_video_fused"], abs=TOL)
    assert res.mean("swapped") == pytest.approx(100 * case["old_set_script"]["overall"], abs=100 * TOL)


@pytest.mark.parametrize("i", range(3))
def test_fastervqa_matches_the_original_code(fq_net, i):
    case = _golden("dover_fastervqa_small.json")["cases"][i]
    frames = _frames(case)
    _, (idx, oh, ow) = fq.fastervqa_view(frames, case["seed"], s=FQ_SMALL)
    assert idx.tolist() == case["frame_indices"]
    assert [o.tolist() for o in (oh, ow) if o is not None] == case["torch_draws"]
    res = fq.fastervqa_scores(frames, seed=case["seed"], model=fq_net, sampling=FQ_SMALL)
    assert res.raw[0] == pytest.approx(case["raw"], abs=TOL)
    assert res.mean(sigmoid=True) == pytest.approx(case["sigmoid"], abs=TOL)
    assert fq.sigmoid_rescale(case["raw"]) == pytest.approx(case["sigmoid"], abs=1e-12)


# ------------------------------------------------------------------ fuse_results and head order

def test_fuse_results_constants():
    assert (dv.TECHNICAL_SHIFT, dv.TECHNICAL_SCALE, dv.AESTHETIC_SHIFT, dv.AESTHETIC_SCALE) == \
        (0.1107, 0.07355, -0.08285, 0.03774)
    assert (dv.TECHNICAL_WEIGHT, dv.AESTHETIC_WEIGHT) == (0.6104, 0.3896)
    mid = dv.fuse_results(0.1107, -0.08285)  # each head at its centre: every score 1/2
    assert mid == pytest.approx({"overall": 0.5, "technical": 0.5, "aesthetic": 0.5}, abs=1e-12)
    sig = lambda x: 1 / (1 + math.exp(-x))
    one_t = dv.fuse_results(0.1107 + 0.07355, -0.08285)  # technical one scale above its centre
    assert one_t["technical"] == pytest.approx(sig(1)) and one_t["aesthetic"] == pytest.approx(0.5)
    assert one_t["overall"] == pytest.approx(sig(0.6104))
    one_a = dv.fuse_results(0.1107, -0.08285 + 0.03774)
    assert one_a["aesthetic"] == pytest.approx(sig(1)) and one_a["overall"] == pytest.approx(sig(0.3896))
    assert fq.sigmoid_rescale(0.14759505) == pytest.approx(0.5)
    assert fq.sigmoid_rescale(0.14759505 + 0.03613452) == pytest.approx(sig(1))


def test_swapped_heads_variant_is_the_old_script():
    t, a = 0.3, -0.2
    right, old = dv.fuse_results(t, a), dv.fuse_results_swapped(t, a)
    exchanged = dv.fuse_results(a, t)  # the heads fed to each other's constants
    assert old["overall"] == pytest.approx(exchanged["overall"], abs=1e-15)
    assert old["technical"] == pytest.approx(exchanged["aesthetic"], abs=1e-15)
    assert old["aesthetic"] == pytest.approx(exchanged["technical"], abs=1e-15)
    assert old["overall"] != pytest.approx(right["overall"], abs=1e-3)
    s = dv.DoverScores((0,), (t,), (a,))
    assert s.mean("overall") == pytest.approx(right["overall"])
    assert s.mean("technical") == pytest.approx(100 * right["technical"])
    assert s.mean("aesthetic") == pytest.approx(100 * right["aesthetic"])
    assert (s.mean("technical-raw"), s.mean("aesthetic-raw")) == (t, a)
    assert s.mean("swapped") == pytest.approx(100 * old["overall"])
    assert s.mean("swapped-technical") == pytest.approx(100 * old["technical"])
    with pytest.raises(UnknownNameError, match="overall"):
        s.mean("overal")


def test_head_order_technical_branch_and_aesthetic_branch(dover_net):
    """A shift of one head's last bias moves that head's raw score alone, by exactly the shift."""
    views, _ = dv.sample_views(clip_frames(12, 64, 64, 4), 0, s=SMALL)
    t0, a0 = dover_net(views)
    tb, ab = dover_net.technical_head.fc_last.bias, dover_net.aesthetic_head.fc_last.bias
    try:
        with torch.no_grad():
            tb += 0.25
        t1, a1 = dover_net(views)
        with torch.no_grad():
            tb -= 0.25
            ab -= 0.5
        t2, a2 = dover_net(views)
    finally:
        with torch.no_grad():
            ab += 0.5
    assert (t1 - t0, a1) == (pytest.approx(0.25, abs=1e-5), a0)
    assert (t2, a2 - a0) == (pytest.approx(t0, abs=1e-6), pytest.approx(-0.5, abs=1e-5))


# ------------------------------------------------------------------ sampling

def test_same_seed_same_draw_and_k_seeds_k_draws():
    a, b = dv.draw(300, 540, 960, 7), dv.draw(300, 540, 960, 7)
    assert np.array_equal(a.technical_frames, b.technical_frames)
    assert np.array_equal(a.aesthetic_frames, b.aesthetic_frames)
    assert torch.equal(a.offsets_h, b.offsets_h) and torch.equal(a.offsets_w, b.offsets_w)
    draws = [dv.draw(300, 540, 960, s) for s in range(6)]
    keys = {(d.technical_frames.tobytes(), d.aesthetic_frames.tobytes(), d.offsets_h.numpy().tobytes(),
             d.offsets_w.numpy().tobytes()) for d in draws}
    assert len(keys) == 6
    assert len({d.offsets_h.numpy().tobytes() for d in draws}) == 6
    # dover.yml sizes: 3 x 32 technical frames 2 apart, 32 aesthetic frames, 7x7x3 offsets per axis
    assert a.technical_frames.shape == (96,) and a.aesthetic_frames.shape == (32,)
    assert a.offsets_h.shape == (7, 7, 3) and int(a.offsets_h.max()) < 540 // 7 - 32
    assert np.all(np.diff(a.technical_frames.reshape(3, 32), axis=1) == 2)


def test_full_size_draws_are_the_originals():
    """dover.yml / f3dvqa-b.yml sizes: the frames and offsets the original drew for the full-size goldens."""
    g = _golden("dover_full.json")["cases"][0]
    f = g["frames"]
    d = dv.draw(f["n"], f["h"], f["w"], g["seed"])
    assert d.technical_frames.tolist() == g["technical_frames"]
    assert d.aesthetic_frames.tolist() == g["aesthetic_frames"]
    assert [d.offsets_h.tolist(), d.offsets_w.tolist()] == g["torch_draws"]
    g = _golden("dover_fastervqa_full.json")["cases"][0]
    f = g["frames"]
    _, (idx, oh, ow) = fq.fastervqa_view(clip_frames(f["n"], f["h"], f["w"], f["seed"]), g["seed"])
    assert idx.tolist() == g["frame_indices"] and [oh.tolist(), ow.tolist()] == g["torch_draws"]


def test_short_clips_wrap_as_the_original():
    d = dv.draw(5, 64, 64, 0)
    starts = np.array([0, 1, 2])  # 3 segments of 5 // 3 = 1 frame, no room to draw: each from its own start
    assert d.technical_frames.tolist() == (((np.arange(32) * 2)[None] + starts[:, None]).reshape(-1) % 5).tolist()
    assert set(d.aesthetic_frames.tolist()) == {0}  # 32 segments of 0 frames: start 0 each
    assert (d.offsets_h, d.offsets_w) == (None, None)  # 64 // 7 = 9 < 32: no room, as the original (zeros)
    assert fq.sample_frame_indices(41).tolist() == list(range(5, 37))
    assert fq.sample_frame_indices(7).tolist() == [i % 7 for i in range(32)]


def test_repeats_report_mean_and_spread(dover_net):
    frames = clip_frames(12, 72, 96, 5)  # room for the fragments to move: seeds draw different views
    res = dv.dover_scores(frames, seed=3, repeats=2, model=dover_net, sampling=SMALL)
    assert res.seeds == (3, 4) and len(res.draws) == 2
    one = [dv.dover_scores(frames, seed=s, model=dover_net, sampling=SMALL) for s in (3, 4)]
    per_seed = [o.mean("overall") for o in one]
    assert res.values("overall") == pytest.approx(per_seed, abs=1e-12)
    assert res.mean() == pytest.approx(np.mean(per_seed), abs=1e-12)
    assert res.spread() == pytest.approx(np.std(per_seed, ddof=1), abs=1e-12)
    assert res.spread("technical-raw") > 0 and one[0].spread() == 0.0


# ------------------------------------------------------------------ weights files

def test_strict_load_refuses_missing_extra_and_misshapen_keys(dover_net, tmp_path):
    state = dict(dover_net.state_dict())
    target = dv.DOVERNet()  # refused files leave it untouched: one network for the three cases
    missing = {k: v for k, v in state.items() if k != "aesthetic_head.fc_hid.weight"}
    with pytest.raises(WeightsError, match="1 missing .*aesthetic_head.fc_hid.weight"):
        dv.load_strict(target, missing, "x.pth", "the DOVER weights")
    with pytest.raises(WeightsError, match="1 unexpected .*extra.key"):
        dv.load_strict(target, {**state, "extra.key": torch.zeros(1)}, "x.pth", "the DOVER weights")
    bad = {**state, "technical_head.fc_last.bias": torch.zeros(2)}
    with pytest.raises(WeightsError, match=r"technical_head.fc_last.bias has shape \(2,\), expected \(1,\)"):
        dv.load_strict(target, bad, "x.pth", "the DOVER weights")
    fq_like = tmp_path / "fq.pth"
    torch.save({"state_dict": {"fragments_backbone.norm.weight": torch.ones(768)}}, fq_like)
    with pytest.raises(WeightsError, match="is not the DOVER weights .*FAST-VQA/FasterVQA file") as e:
        dv.load_dover(fq_like)
    assert "\n" not in str(e.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="cannot read weights file"):
        dv.load_dover(junk)


def test_weights_files_load_strictly_and_are_told_apart(fq_net, tmp_path):
    fq_file = write_random_fastervqa(tmp_path / "FAST_VQA_3D_1_1.pth", 0)  # as released: {"state_dict": ...}
    net = fq.load_fastervqa(fq_file)
    for k, v in fq_net.state_dict().items():
        assert torch.equal(net.state_dict()[k], v), k
    with pytest.raises(WeightsError, match="is not the DOVER weights .*FAST-VQA/FasterVQA file"):
        dv.load_dover(fq_file)
    dover_like = tmp_path / "DOVER.pth"
    torch.save({"technical_backbone.norm.weight": torch.ones(768), "aesthetic_backbone.norm.weight": torch.ones(768)},
               dover_like)
    with pytest.raises(WeightsError, match="is not the FasterVQA weights .*a DOVER file"):
        fq.load_fastervqa(dover_like)
    mobile = tmp_path / "DOVER-Mobile.pth"
    torch.save({"technical_backbone.downsample_layers.0.0.weight": torch.ones(1),
                "aesthetic_backbone.stages.0.0.grn.gamma": torch.ones(1)}, mobile)
    with pytest.raises(WeightsError, match="DOVER-Mobile"):
        dv.load_dover(mobile)


def test_missing_weights_one_line_with_the_download_command(tmp_path):
    clip = Clip("calendar", clip_frames(3, 64, 64), None, (0, 1, 2), None, weights={"dover": tmp_path / "nowhere"})
    with pytest.raises(WeightsError) as e:
        dv.score_overall(clip)
    msg = str(e.value)
    assert "DOVER.pth" in msg and "vsrbench weights download dover" in msg and "\n" not in msg
    clip = Clip("calendar", clip_frames(3, 64, 64), None, (0, 1, 2), None, weights={"fastervqa": tmp_path})
    with pytest.raises(WeightsError, match="vsrbench weights download fastervqa"):
        fq.score_sigmoid(clip)


# ------------------------------------------------------------------ scorers and bad input

def test_scorers_one_row_per_clip_and_share_one_run(dover_net, monkeypatch, tmp_path):
    monkeypatch.setattr(dv, "SCORER_SAMPLING", SMALL)
    monkeypatch.setattr(dv, "require_weights", lambda name, path=None: tmp_path / "DOVER.pth")
    monkeypatch.setattr(dv, "_cached", lambda path, device: dover_net)  # the file's network (load: tests above)
    frames = clip_frames(9, 72, 80, 6)
    clip = Clip("walk", frames, None, tuple(range(2, 9)), None, options={"seed": 2, "repeats": 2})
    direct = dv.dover_scores(frames[2:9], seed=2, repeats=2, model=dover_net, sampling=SMALL)
    calls = []
    real = dv.dover_scores
    monkeypatch.setattr(dv, "dover_scores", lambda *a, **k: calls.append(1) or real(*a, **k))
    for name, conv in [("score_overall", "overall"), ("score_technical", "technical"), ("score_aesthetic", "aesthetic"),
                       ("score_technical_raw", "technical-raw"), ("score_aesthetic_raw", "aesthetic-raw"),
                       ("score_swapped", "swapped"), ("score_swapped_technical", "swapped-technical"),
                       ("score_swapped_aesthetic", "swapped-aesthetic")]:
        rows = getattr(dv, name)(clip)
        assert len(rows) == 1 and rows[0][0] == 2
        assert rows[0][1] == pytest.approx(direct.mean(conv), abs=1e-6), name
    assert len(calls) == 1  # the eight conventions share one network run


def test_evaluate_stores_one_row_per_clip(dover_net, fq_net, monkeypatch, tmp_path):
    from vsrbench.evaluate import evaluate_sequence

    monkeypatch.setattr(dv, "SCORER_SAMPLING", SMALL)
    monkeypatch.setattr(fq, "SCORER_SAMPLING", FQ_SMALL)
    for mod, net in ((dv, dover_net), (fq, fq_net)):
        monkeypatch.setattr(mod, "require_weights", lambda name, path=None: tmp_path / name)
        monkeypatch.setattr(mod, "_cached", lambda path, device, net=net: net)
    gt, out = clip_frames(10, 72, 96, 7), clip_frames(10, 72, 96, 8)
    sc = evaluate_sequence(out, gt, protocol="tecogan", metrics=["psnr", "dover", "dover-technical", "fastervqa"],
                           device="cpu", options={"dover": {"seed": 1}}, name="walk")
    frames = sorted({t for t, m, _ in sc.rows if m == "psnr"})
    rows = {m: [(t, v) for t, mm, v in sc.rows if mm == m] for m in ("dover", "dover-technical", "fastervqa")}
    want = dv.dover_scores([out[i] for i in frames], seed=1, model=dover_net, sampling=SMALL)
    assert rows["dover"] == [(frames[0], pytest.approx(want.mean("overall"), abs=1e-6))]
    assert rows["dover-technical"] == [(frames[0], pytest.approx(want.mean("technical"), abs=1e-4))]
    fqs = fq.fastervqa_scores([out[i] for i in frames], seed=1, model=fq_net, sampling=FQ_SMALL)
    assert rows["fastervqa"] == [(frames[0], pytest.approx(fqs.mean(), abs=1e-6))]
    as_float = [f / 255.0 for f in out]  # float frames in [0, 1] are scored on the 8-bit grid
    sc = evaluate_sequence(as_float, [f / 255.0 for f in gt], protocol="tecogan", metrics=["dover"], device="cpu",
                           options={"dover": {"seed": 1}}, name="walk")
    assert [(t, v) for t, m, v in sc.rows] == rows["dover"]


def test_bad_input_is_one_line(dover_net):
    with pytest.raises(InputError, match="too small for 32x32 fragments"):
        dv.dover_scores(clip_frames(4, 24, 64), model=dover_net, sampling=SMALL)
    mixed = clip_frames(3, 64, 64) + clip_frames(1, 64, 72)
    with pytest.raises(InputError, match="different sizes"):
        dv.dover_scores(mixed, model=dover_net, sampling=SMALL)
    with pytest.raises(InputError, match="at least one frame"):
        dv.dover_scores([], model=dover_net, sampling=SMALL)
    with pytest.raises(InputError, match="repeats must be at least 1"):
        dv.dover_scores(clip_frames(3, 64, 64), repeats=0, model=dover_net, sampling=SMALL)
    clip = Clip("c", clip_frames(3, 64, 64), None, (0, 1, 2), None, options={"seeed": 1})
    with pytest.raises(UnknownNameError, match="seed"):
        dv.score_overall(clip)
    with pytest.raises(InputError, match="RGB uint8"):
        dv.dover_scores([np.zeros((64, 64), np.uint8)], model=dover_net, sampling=SMALL)


def test_printed_numbers_name_their_convention():
    assert dv.printed_conventions(0.78)[0][0] == "dover"
    assert dv.printed_conventions(7.7)[0][0] == "dover-technical"
    top = [m for m, _ in dv.printed_conventions(90)]
    assert top[:2] == ["dover", "dover-aesthetic"] and "x100" in dv.printed_conventions(90)[0][1]
    assert [m for m, _ in dv.printed_conventions(-3.2)] == ["dover-technical-raw"]
    with pytest.raises(InputError, match="finite"):
        dv.printed_conventions(float("nan"))


def test_metric_entries_name_their_scorers():
    from vsrbench.metrics.extension import scorer_of
    from vsrbench.metrics.info import METRICS

    names = ["dover", "dover-technical", "dover-aesthetic", "dover-technical-raw", "dover-aesthetic-raw",
             "dover-swapped", "dover-swapped-technical", "dover-swapped-aesthetic", "fastervqa", "fastervqa-raw"]
    for n in names:
        info = METRICS[n]
        assert info.per_clip and not info.reference and info.family == "dover"
        assert callable(scorer_of(info))
    assert METRICS["dover"].weights == ("dover",) and METRICS["fastervqa"].weights == ("fastervqa",)


# ------------------------------------------------------------------ full size (benchmarks)

def _benchmarks_on(config) -> bool:
    return not config.getoption("benchmark_disable", False) or config.getoption("benchmark_enable", False)


@pytest.mark.parametrize("which", ["dover", "fastervqa"])
def test_bench_full_size_matches_the_original(benchmark, request, which, dover_net, fq_net):
    """Full-size (released configs) golden check and CPU seconds per clip at 480x270 and 720x576."""
    if not _benchmarks_on(request.config):
        pytest.skip("full-size run (15-30 s per clip on this CPU): only with --benchmark-enable")
    g = _golden(f"dover_{'full' if which == 'dover' else 'fastervqa_full'}.json")["cases"][0]
    frames = _frames(g)
    if which == "dover":
        res = dv.dover_scores(frames, seed=g["seed"], model=dover_net)
        assert res.technical_raw[0] == pytest.approx(g["technical_raw"], abs=TOL)
        assert res.aesthetic_raw[0] == pytest.approx(g["aesthetic_raw"], abs=TOL)
        run = lambda f: dv.dover_scores(f, model=dover_net)
    else:
        res = fq.fastervqa_scores(frames, seed=g["seed"], model=fq_net)
        assert res.raw[0] == pytest.approx(g["raw"], abs=TOL)
        run = lambda f: fq.fastervqa_scores(f, model=fq_net)
    big = clip_frames(41, 576, 720, 9)
    t0, c0 = time.perf_counter(), time.process_time()
    run(big)
    benchmark.extra_info["s_per_clip_720x576"] = time.perf_counter() - t0
    benchmark.extra_info["cpu_s_per_clip_720x576"] = time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    run(frames)
    benchmark.extra_info["s_per_clip_480x270"] = time.perf_counter() - t0
    benchmark.extra_info["cpu_s_per_clip_480x270"] = time.process_time() - c0
    benchmark.extra_info["torch_threads"] = torch.get_num_threads()
    benchmark.pedantic(run, args=(frames,), rounds=1, iterations=1)
