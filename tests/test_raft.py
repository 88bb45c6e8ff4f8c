"""vsrbench's RAFT against torchvision's ``raft_large`` and princeton-vl's code (same seeded random weights),
its key map (both published layouts, strict), small frames and the weights catalog."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from _support.raft_reference import (GOLDEN, ITERS, golden_frames, import_torchvision, original_layout,
                                     random_state_dict, torchvision_layout, write_weights)

from vsrbench.core.errors import UnknownNameError, WeightsError
from vsrbench.metrics import raft
from vsrbench.metrics.raft import RAFT, get_raft, load_raft, own_state_dict, raft_flow


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small networks, a shared machine


@pytest.fixture(scope="module")
def sd():
    return random_state_dict()


@pytest.fixture(scope="module")
def model(sd):
    m = RAFT()
    m.load_state_dict(own_state_dict(original_layout(sd)), strict=True)
    return m.eval()


def _inputs(h=128, w=160):
    a, b = golden_frames(h, w)
    return [torch.from_numpy(f).permute(2, 0, 1).float()[None] for f in (a, b)]


def test_flows_match_torchvision_raft_large(sd, model):
    tv = import_torchvision().models.optical_flow.raft_large(weights=None).eval()
    tv.load_state_dict(torchvision_layout(sd), strict=True)  # the layout helper names every key torchvision has
    a, b = _inputs(128, 128)
    a, b = 2 * (a / 255.0) - 1.0, 2 * (b / 255.0) - 1.0
    with torch.no_grad():
        want = tv(a, b, num_flow_updates=12)[-1]  # torchvision's default count; the golden checks 20
        got = model(a, b, 12)
    assert want.abs().max() > 1.0  # a flow worth comparing
    assert (got - want).abs().max().item() < 1e-4


def test_flows_match_princeton_vl_golden(model):
    gold = json.loads(GOLDEN.read_text())
    assert gold["seed"] == 2020 and gold["iters"] == ITERS
    shapes = {k: list(v.shape) for k, v in original_layout(random_state_dict(gold["seed"])).items()}
    assert shapes == gold["original_keys"]  # the original layout, as princeton-vl's model.state_dict() names it
    a, b = _inputs(*gold["frames_hw"])
    for key, scale in (("flow_0_255", 1.0), ("flow_0_1", 255.0)):  # 0..255 as intended; [0, 1] as EvalCrafter feeds
        ref = gold[key]
        with torch.no_grad():
            f = model(2 * (a / scale / 255.0) - 1.0, 2 * (b / scale / 255.0) - 1.0, ITERS)[0]
        got = [[float(f[0, y, x]), float(f[1, y, x])] for y, x in ref["points_yx"]]
        np.testing.assert_allclose(got, ref["values_xy"], atol=1e-4)
        np.testing.assert_allclose([float(f[0].double().mean()), float(f[1].double().mean())], ref["mean_xy"],
                                   atol=1e-5)
        assert abs(float(f.abs().max()) - ref["max_abs"]) < 1e-4


@pytest.mark.parametrize("hw", [(64, 48), (16, 24), (8, 16), (120, 200)])
def test_small_frames_give_finite_flows(model, hw):
    a, b = _inputs(*hw)
    with torch.no_grad():
        f = model(2 * (a / 255.0) - 1.0, 2 * (b / 255.0) - 1.0, 3)
    assert f.shape == (1, 2, *hw) and torch.isfinite(f).all()


def test_a_single_feature_pixel_is_refused(model):
    a, _ = _inputs(8, 8)
    with pytest.raises(ValueError, match="more than one 1/8-resolution pixel"):
        model(a, a, 1)


def test_a_one_pixel_level_is_bilinear_with_zeros_outside():
    # a level of 1x1 (value 8) looked up around x=0.25, y=0: the 9x9 window's (i, j) samples x-4+i+0.25, y-4+j
    levels = [torch.full((1, 1, 1, 1), 8.0)] * 4
    coords = torch.tensor([0.25, 0.0]).view(1, 2, 1, 1)
    out = raft._lookup(levels, coords).view(4, 9, 9)  # [level, i, j]
    for level, x in ((0, 0.25), (1, 0.125), (3, 0.25 / 8)):
        want = torch.zeros(9, 9)
        want[4, 4] = 8.0 * (1 - x)  # offset 0: x within the pixel
        want[3, 4] = 8.0 * x  # offset -1: at x - 1, between the zero outside and the pixel
        assert torch.allclose(out[level], want, atol=1e-6), level
    empty = raft._lookup([torch.zeros(1, 1, 0, 0)] * 4, coords)
    assert empty.shape == (1, 324, 1, 1) and not empty.any()


def test_torchvision_refuses_frames_below_128(sd):
    tv = import_torchvision().models.optical_flow.raft_large(weights=None).eval()
    a, _ = _inputs(64, 48)
    with pytest.raises(ValueError, match="too small"), torch.no_grad():
        tv(a, a, num_flow_updates=1)


def test_both_layouts_load_strictly_to_the_same_network(tmp_path, sd):
    p1 = write_weights(tmp_path / "raft-things.pth", "original")
    p2 = write_weights(tmp_path / "raft_large_C_T_V1-22a6c225.pth", "torchvision")
    m1, m2 = load_raft(p1), load_raft(p2)
    for (k, v1), v2 in zip(m1.state_dict().items(), m2.state_dict().values()):
        assert torch.equal(v1, v2), k
    assert all(torch.equal(v, sd[k]) for k, v in m1.state_dict().items())


def _error(sd_file) -> str:
    with pytest.raises(WeightsError) as e:
        own_state_dict(sd_file, source="f.pth")
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_wrong_files_say_what_they_look_like(sd):
    orig, tv = original_layout(sd), torchvision_layout(sd)
    assert "missing" in _error({k: v for k, v in orig.items() if "convc1.weight" not in k})
    assert "unused" in _error({**tv, "extra.weight": torch.zeros(1)})
    small = dict(orig, **{"module.fnet.conv1.weight": torch.zeros(32, 3, 7, 7)})
    assert "RAFT-small" in _error(small)
    alexnet = {"features.0.weight": torch.zeros(64, 3, 11, 11), "classifier.1.bias": torch.zeros(4)}
    assert "image classifier" in _error(alexnet)
    assert "not a RAFT state dict" in _error(torch.zeros(3))
    assert "has shape" in _error(dict(tv, **{"update_block.flow_head.conv2.bias": torch.zeros(3)}))
    twin = next(k for k in orig if ".norm3." in k)
    assert "unused" in _error(dict(orig, **{twin: orig[twin] + 1}))  # a norm3 that is not downsample.1's twin


def test_torchvision_raft_small_is_named():
    small = import_torchvision().models.optical_flow.raft_small(weights=None).state_dict()
    assert "RAFT-small" in _error(small)


def test_unreadable_file_is_one_line(tmp_path):
    p = tmp_path / "raft-things.pth"
    p.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="cannot read RAFT weights"):
        load_raft(p)


def test_missing_weights_name_the_file_and_the_download(tmp_path, monkeypatch):
    monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for name in raft.RAFT_WEIGHTS:
        with pytest.raises(WeightsError) as e:
            get_raft(name)
        msg = str(e.value)
        how = (f"vsrbench weights download {name}" if raft.RAFT_WEIGHTS[name].url else
               "no direct download is published: get it from princeton-vl/RAFT")  # raft-things: a models.zip
        assert raft.RAFT_WEIGHTS[name].filename in msg and how in msg
        assert "\n" not in msg
    with pytest.raises(UnknownNameError, match="raft-things"):
        get_raft("raft-thing")


def test_weights_catalog_knows_the_three_files():
    from vsrbench.catalog.weights import known_weights

    known = known_weights()
    assert known["raft-things"].url is None and "models.zip" in known["raft-things"].source
    for name, f in (("raft-large-c-t-v1", "raft_large_C_T_V1-22a6c225.pth"),
                    ("raft-large-c-t-skht-v2", "raft_large_C_T_SKHT_V2-ff5fadd5.pth")):
        assert known[name].filename == f and known[name].url == f"https://download.pytorch.org/models/{f}"
        assert known[name].check == f"sha256 prefix {f.rsplit('-', 1)[1][:8]}"


def test_raft_flow_pads_and_crops_back(tmp_path, monkeypatch):
    write_weights(tmp_path / "raft-things.pth")
    monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path))
    a, b = golden_frames(36, 52)
    ta, tb = (torch.from_numpy(f).permute(2, 0, 1).float() for f in (a, b))
    flow = raft_flow(ta, tb, iters=2)
    assert flow.shape == (2, 36, 52) and torch.isfinite(flow).all()
    again = raft_flow(ta[None] / 255.0, tb[None] / 255.0, iters=2, value_range=1.0)
    assert torch.allclose(again[0], flow, atol=1e-4)
    assert get_raft("raft-things") is get_raft("raft-things")  # loaded once per file and device


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_flows_match_the_cpu(model):
    a, b = _inputs(128, 160)
    a, b = 2 * (a / 255.0) - 1.0, 2 * (b / 255.0) - 1.0
    with torch.no_grad():
        cpu = model(a, b, ITERS)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        gpu = model.cuda()(a.cuda(), b.cuda(), ITERS).cpu()
        model.cpu()
    assert (cpu - gpu).abs().max().item() < 1e-3


def test_both_ways_is_forward_on_the_pairs(model):
    frames = torch.cat(_inputs(64, 48) + _inputs(64, 48)[:1])  # 3 frames: a, b, a
    v = 2 * (frames / 255.0) - 1.0
    with torch.no_grad():
        fw, bw = model.both_ways(v, 4)
        want = model(torch.cat([v[:-1], v[1:]]), torch.cat([v[1:], v[:-1]]), 4)
    assert fw.shape == bw.shape == (2, 2, 64, 48)
    assert (torch.cat([fw, bw]) - want).abs().max().item() < 1e-4
