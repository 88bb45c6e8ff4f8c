"""baselines/frvsr.py: architecture, both weight formats, recurrence, inference rules, references.

The reference (``ref_step``) is a plain NumPy float64 implementation written here from
models-spec.md sections 1.2-1.4 (3×3 convs as 9 shifted matrix products, conv-transpose as a
strided scatter, index/weight resizes, per-pixel clamped bilinear warps, explicit (dy, dx, c)
space-to-depth). For the TF semantics it reads the TF variables by their TF names, so it also
checks the name mapping and the (3, 2, 0, 1) permutation. Weights are random with fixed seeds.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from _support.paths import shared_path
from vsrbench.baselines import MODELS, load_model
from vsrbench.baselines import frvsr
from vsrbench.baselines.frvsr import FNet, FRNet, FRVSRModel, SameConvTranspose2d, SRNet, load_frnet, state_dict_from_tf
from vsrbench.core.errors import InputError, UnknownNameError, WeightsError

LR_H, LR_W = 21, 27  # neither is a multiple of 8: the LR flow is padded by (5, 3)
SEQ = {"h": 12, "w": 17}  # smaller still for the many-step sequence tests: padded by (4, 1)

# ============================================================================= random weights
FNET_BLOCKS = [("encoder_1", 6, 32), ("encoder_2", 32, 64), ("encoder_3", 64, 128),
               ("decoder_1", 128, 256), ("decoder_2", 256, 128), ("decoder_3", 128, 64)]
FNET = "fnet/autoencode_unit"
GEN = "generator/generator_unit"


def random_tf_variables(num_blocks: int, seed: int = 0, extras: bool = True) -> dict[str, np.ndarray]:
    """A TF-checkpoint-like dict with the official variable names (models-spec.md table 1.5)."""
    rng = np.random.default_rng(seed)
    v: dict[str, np.ndarray] = {}

    def conv(scope: str, c_in: int, c_out: int, transpose: bool = False, gain: float = 1.0) -> None:
        op, shape = ("Conv2d_transpose", (3, 3, c_out, c_in)) if transpose else ("Conv", (3, 3, c_in, c_out))
        v[f"{scope}/{op}/weights"] = (rng.normal(0, gain / math.sqrt(9 * c_in), shape)).astype(np.float32)
        v[f"{scope}/{op}/biases"] = rng.normal(0, 0.02, c_out).astype(np.float32)

    for name, c_in, c_out in FNET_BLOCKS:
        conv(f"{FNET}/{name}/conv_1", c_in, c_out)
        conv(f"{FNET}/{name}/conv_2", c_out, c_out)
    conv(f"{FNET}/output_stage/conv1", 64, 32)
    conv(f"{FNET}/output_stage/conv2", 32, 2, gain=0.3)  # flows of a few LR pixels
    conv(f"{GEN}/input_stage/conv", 51, 64)
    for i in range(1, num_blocks + 1):
        conv(f"{GEN}/resblock_{i}/conv_1", 64, 64)
        conv(f"{GEN}/resblock_{i}/conv_2", 64, 64, gain=0.3)
    conv(f"{GEN}/conv_tran2highres/conv_tran1", 64, 64, transpose=True)
    conv(f"{GEN}/conv_tran2highres/conv_tran2", 64, 64, transpose=True)
    conv(f"{GEN}/output_stage/conv", 64, 3, gain=0.3)
    if extras:  # what a training Saver also writes: optimizer slots, D, the step
        v[f"{GEN}/input_stage/conv/Conv/weights/Adam"] = np.ones((3, 3, 51, 64), np.float32)
        v[f"{GEN}/Adam_1"] = np.zeros((5, 7), np.float32)
        v["tdiscriminator/discriminator_unit/disblock_1/BatchNorm/moving_mean"] = np.zeros(64, np.float32)
        v["global_step"] = np.array(500000, np.int64)
    return v


def random_pt_net(semantics: str, num_blocks: int = 3, seed: int = 0) -> FRNet:
    torch.manual_seed(seed)
    return FRNet(num_blocks, semantics=semantics).eval()


def random_frames(n: int, seed: int = 0, h: int = LR_H, w: int = LR_W) -> list[np.ndarray]:
    """A moving random texture (so the flow has something to find), uint8 RGB."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h + 2 * n, w + 2 * n, 3), dtype=np.uint8)
    return [np.ascontiguousarray(base[t:t + h, 2 * t:2 * t + w]) for t in range(n)]


def to_nchw(frames: list[np.ndarray], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 frames -> (T, 3, H, W) in [0, 1], divided in the target precision (as the model does)."""
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    return torch.from_numpy(np.stack(frames).astype(np_dtype) / np_dtype(255.0)).permute(0, 3, 1, 2).contiguous()


# ============================================================================= NumPy reference
def conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SAME 3×3 cross-correlation, zero padding, as one matrix product over the 9 shifted copies;
    x (C, H, W), w (O, I, 3, 3)."""
    c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    cols = np.stack([xp[:, ky:ky + h, kx:kx + wd] for ky in range(3) for kx in range(3)], axis=1)
    return (w.reshape(w.shape[0], c * 9) @ cols.reshape(c * 9, h * wd)).reshape(-1, h, wd) + b[:, None, None]


def conv_transpose_s2(x: np.ndarray, w: np.ndarray, b: np.ndarray, tf_same: bool) -> np.ndarray:
    """Stride-2 3×3 transposed conv as a scatter: full[2i + k] += x[i] w[k]; w (I, O, 3, 3).

    TF SAME (the gradient of a SAME stride-2 conv, which pads 0 before / 1 after) keeps
    full[0:2H]; PyTorch padding=1, output_padding=1 keeps full[1:2H+1].
    """
    _, h, wd = x.shape
    full = np.zeros((w.shape[1], 2 * h + 1, 2 * wd + 1))
    for ky in range(3):
        for kx in range(3):
            contribution = w[:, :, ky, kx].T @ x.reshape(x.shape[0], -1)
            full[:, ky:ky + 2 * h:2, kx:kx + 2 * wd:2] += contribution.reshape(-1, h, wd)
    crop = full[:, :2 * h, :2 * wd] if tf_same else full[:, 1:2 * h + 1, 1:2 * wd + 1]
    return crop + b[:, None, None]


def lrelu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.2 * x)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def maxpool2(x: np.ndarray) -> np.ndarray:
    c, h, w = x.shape
    return x[:, :h // 2 * 2, :w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))


def keys(d: np.ndarray, a: float = -0.75) -> np.ndarray:
    d = np.abs(d)
    return np.where(d <= 1, (a + 2) * d**3 - (a + 3) * d**2 + 1,
                    np.where(d < 2, a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a, 0.0))


def resize_axis(x: np.ndarray, axis: int, s: int, kind: str) -> np.ndarray:
    """Upsample one axis by s. legacy: src = dst/s; half-pixel: src = max((dst+.5)/s - .5, 0)."""
    n = x.shape[axis]
    dst = np.arange(n * s)
    src = dst / s if kind.startswith("legacy") else np.maximum((dst + 0.5) / s - 0.5, 0.0)
    i0 = np.floor(src).astype(int)
    t = src - i0
    if kind == "legacy-cubic":
        taps = [(i0 + j, keys(t - j)) for j in (-1, 0, 1, 2)]
    else:
        taps = [(i0, 1 - t), (i0 + 1, t)]
    shape = [1] * x.ndim
    shape[axis] = -1
    return sum(np.take(x, np.clip(i, 0, n - 1), axis=axis) * wt.reshape(shape) for i, wt in taps)


def resize(x: np.ndarray, s: int, kind: str) -> np.ndarray:
    return resize_axis(resize_axis(x, -2, s, kind), -1, s, kind)


def warp(img: np.ndarray, qy: np.ndarray, qx: np.ndarray) -> np.ndarray:
    """Bilinear sample img (C, H, W) at (qy, qx), TF's clamped floor / weight (= border clamp)."""
    _, h, w = img.shape
    y0 = np.clip(np.floor(qy), 0, h - 2).astype(int)
    x0 = np.clip(np.floor(qx), 0, w - 2).astype(int)
    ay, ax = np.clip(qy - y0, 0, 1), np.clip(qx - x0, 0, 1)
    top = img[:, y0, x0] * (1 - ax) + img[:, y0, x0 + 1] * ax
    bottom = img[:, y0 + 1, x0] * (1 - ax) + img[:, y0 + 1, x0 + 1] * ax
    return top * (1 - ay) + bottom * ay


def s2d(x: np.ndarray, b: int = 4) -> np.ndarray:
    c, h, w = x.shape
    out = np.zeros((b * b * c, h // b, w // b))
    for dy in range(b):
        for dx in range(b):
            for ch in range(c):
                out[(dy * b + dx) * c + ch] = x[ch, dy::b, dx::b]
    return out


def params_from_tf(v: dict[str, np.ndarray], num_blocks: int) -> dict:
    """Logical layer -> (W, b) in (out, in, kh, kw) / (in, out, kh, kw) layout, read by TF name."""
    def get(scope: str, op: str = "Conv"):
        return (np.transpose(v[f"{scope}/{op}/weights"], (3, 2, 0, 1)).astype(np.float64),
                v[f"{scope}/{op}/biases"].astype(np.float64))

    p = {}
    for k in (1, 2, 3):
        for part in ("encoder", "decoder"):
            p[part, k] = (get(f"{FNET}/{part}_{k}/conv_1"), get(f"{FNET}/{part}_{k}/conv_2"))
    p["flow"] = (get(f"{FNET}/output_stage/conv1"), get(f"{FNET}/output_stage/conv2"))
    p["in"] = get(f"{GEN}/input_stage/conv")
    p["res"] = [(get(f"{GEN}/resblock_{i}/conv_1"), get(f"{GEN}/resblock_{i}/conv_2"))
                for i in range(1, num_blocks + 1)]
    p["up"] = [get(f"{GEN}/conv_tran2highres/conv_tran{j}", "Conv2d_transpose") for j in (1, 2)]
    p["out"] = get(f"{GEN}/output_stage/conv")
    return p


def params_from_pt(sd: dict[str, torch.Tensor], num_blocks: int) -> dict:
    """The same logical layers read from a TecoGAN-PyTorch state dict by PT key."""
    def get(prefix: str):
        return sd[f"{prefix}.weight"].double().numpy(), sd[f"{prefix}.bias"].double().numpy()

    p = {}
    for k in (1, 2, 3):
        for part in ("encoder", "decoder"):
            p[part, k] = (get(f"fnet.{part}{k}.0"), get(f"fnet.{part}{k}.2"))
    p["flow"] = (get("fnet.flow.0"), get("fnet.flow.2"))
    p["in"] = get("srnet.conv_in.0")
    p["res"] = [(get(f"srnet.resblocks.{i}.conv.0"), get(f"srnet.resblocks.{i}.conv.2")) for i in range(num_blocks)]
    p["up"] = [get("srnet.conv_up.0"), get("srnet.conv_up.2")]
    p["out"] = get("srnet.conv_out")
    return p


def ref_flow_hr(p: dict, sem: str, lr_prev: np.ndarray, lr_cur: np.ndarray) -> np.ndarray:
    """HR flow: TF (dy, dx) = upscale_four(4 * pad_symmetric(FNet(prev, cur)));
    PT (u, v) = 4 * up(pad_reflect(FNet(cur, prev))), up = bicubic (BD) / half-pixel bilinear (BI)."""
    x = np.concatenate([lr_prev, lr_cur] if sem == "tf" else [lr_cur, lr_prev])
    for k in (1, 2, 3):
        (w1, b1), (w2, b2) = p["encoder", k]
        x = maxpool2(lrelu(conv3x3(lrelu(conv3x3(x, w1, b1)), w2, b2)))
    for k in (1, 2, 3):
        (w1, b1), (w2, b2) = p["decoder", k]
        x = resize(lrelu(conv3x3(lrelu(conv3x3(x, w1, b1)), w2, b2)), 2,
                   "legacy-linear" if sem == "tf" else "half-pixel-linear")
    (w1, b1), (w2, b2) = p["flow"]
    flow = np.tanh(conv3x3(lrelu(conv3x3(x, w1, b1)), w2, b2)) * 24.0
    h, w = lr_cur.shape[1:]
    pads = ((0, 0), (0, h - flow.shape[1]), (0, w - flow.shape[2]))
    flow = np.pad(flow, pads, mode="symmetric" if sem == "tf" else "reflect")
    if sem == "tf":
        return resize(4.0 * flow, 4, "legacy-linear")
    return 4.0 * resize(flow, 4, "legacy-cubic" if sem == "pt-bd" else "half-pixel-linear")


def ref_step(p: dict, sem: str, lr_cur: np.ndarray, lr_prev: np.ndarray | None = None,
             hr_prev: np.ndarray | None = None) -> np.ndarray:
    """One step of the frame-recurrent generator on (3, H, W) float64 arrays in [0, 1]."""
    h, w = lr_cur.shape[1:]
    if lr_prev is None:
        warped_s2d = np.zeros((48, h, w))
    else:
        flow = ref_flow_hr(p, sem, lr_prev, lr_cur)
        yy, xx = np.mgrid[0:4 * h, 0:4 * w].astype(np.float64)
        if sem == "tf":
            warped = warp(hr_prev, yy - flow[0], xx - flow[1])
        else:
            warped = warp(hr_prev, yy + flow[1], xx + flow[0])
        warped_s2d = s2d(warped)
    x = relu(conv3x3(np.concatenate([lr_cur, warped_s2d]), *p["in"]))
    for (w1, b1), (w2, b2) in p["res"]:
        x = x + conv3x3(relu(conv3x3(x, w1, b1)), w2, b2)
    for wt, b in p["up"]:
        x = relu(conv_transpose_s2(x, wt, b, tf_same=(sem == "tf")))
    base = resize(lr_cur, 4, "half-pixel-linear" if sem == "pt-bi" else "legacy-cubic")
    return conv3x3(x, *p["out"]) + base


# ============================================================================= architecture
def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_parameter_counts_match_the_spec():
    assert n_params(FNet()) == 1_745_506
    assert n_params(SRNet(10)) == 843_587
    assert n_params(FRNet(10)) == 2_589_093
    assert n_params(SRNet(16)) == 1_286_723
    assert n_params(FRNet(16)) == 3_032_229


@pytest.mark.parametrize("semantics,blocks,scale,n_keys", [
    ("pt-bd", 10, 4, 78), ("pt-bi", 10, 4, 76), ("pt-bd", 16, 4, 102), ("pt-bd", 10, 2, 76), ("tf", 16, 4, 100)])
def test_state_dict_keys_are_tecogan_pytorch_names(semantics, blocks, scale, n_keys):
    sd = FRNet(blocks, scale, semantics).state_dict()
    assert len(sd) == n_keys
    assert sd["fnet.encoder1.0.weight"].shape == (32, 6, 3, 3)
    assert sd["fnet.flow.2.weight"].shape == (2, 32, 3, 3)
    assert sd["srnet.conv_in.0.weight"].shape == (64, (scale * scale + 1) * 3, 3, 3)
    assert sd[f"srnet.resblocks.{blocks - 1}.conv.2.bias"].shape == (64,)
    assert sd["srnet.conv_up.0.weight"].shape == (64, 64, 3, 3)
    assert ("srnet.conv_up.2.weight" in sd) == (scale == 4)
    assert sd["srnet.conv_out.weight"].shape == (3, 64, 3, 3)
    has_kernels = semantics == "pt-bd"
    assert ("upsample_func.kernels" in sd) == has_kernels == ("srnet.upsample_func.kernels" in sd)
    if has_kernels:
        assert sd["upsample_func.kernels"].shape == (scale, 4)


def test_tf_and_pt_conv_transpose_relation_and_scatter_reference():
    torch.manual_seed(3)
    pt = nn.ConvTranspose2d(64, 64, 3, 2, padding=1, output_padding=1)
    tf = SameConvTranspose2d(64, 64)
    tf.load_state_dict(pt.state_dict())
    x = torch.randn(1, 64, 5, 6)
    with torch.no_grad():
        a, b = pt(x), tf(x)
    assert a.shape == b.shape == (1, 64, 10, 12)
    torch.testing.assert_close(a[..., :-1, :-1], b[..., 1:, 1:], rtol=0, atol=1e-5)
    assert (a - b).abs().max() > 0.1
    w, bias, xn = pt.weight.detach().double().numpy(), pt.bias.detach().double().numpy(), x[0].double().numpy()
    np.testing.assert_allclose(b[0].numpy(), conv_transpose_s2(xn, w, bias, tf_same=True), atol=1e-5)
    np.testing.assert_allclose(a[0].numpy(), conv_transpose_s2(xn, w, bias, tf_same=False), atol=1e-5)


# ============================================================================= references
def _two_steps(net: FRNet, frames: torch.Tensor) -> list[torch.Tensor]:
    """The first frame, then one full recurrent step."""
    with torch.no_grad():
        o0 = net(frames[0:1])
        return [o0[0], net(frames[1:2], frames[0:1], o0)[0]]


def _ref_two_steps(p: dict, sem: str, frames: np.ndarray) -> list[np.ndarray]:
    r0 = ref_step(p, sem, frames[0])
    return [r0, ref_step(p, sem, frames[1], frames[0], r0)]


@pytest.fixture(scope="module")
def tf_reference():
    """A 16-block TF-semantics net loaded from random TF variables, its inputs and the reference outputs."""
    variables = random_tf_variables(16, seed=7)
    net = FRNet(16, semantics="tf")
    net.load_state_dict(state_dict_from_tf(variables, 16), strict=True)
    frames = to_nchw(random_frames(2, seed=1), torch.float64)
    params = params_from_tf(variables, 16)
    flow = ref_flow_hr(params, "tf", frames[0].numpy(), frames[1].numpy())
    return net.eval(), frames, _ref_two_steps(params, "tf", frames.numpy()), flow


def test_tf_semantics_matches_numpy_reference_read_by_tf_names(tf_reference):
    """16 blocks, odd LR size, first frame + one recurrent step, float64 end to end."""
    net, frames, refs, flow = tf_reference
    assert 0.3 < np.abs(flow).mean() < 10  # the warp is really exercised
    ours = _two_steps(net.double(), frames)
    net.float()
    for o, r in zip(ours, refs):
        assert o.shape == (3, 4 * LR_H, 4 * LR_W)
        np.testing.assert_allclose(o.numpy(), r, rtol=0, atol=1e-9)


def test_tf_semantics_float32_stays_close_to_float64_reference(tf_reference):
    net, frames, refs, _ = tf_reference
    for o, r in zip(_two_steps(net, frames.float()), refs):
        assert np.abs(o.numpy() - r).max() < 1e-6  # measured 1.9e-7 (the spec reports <= 3e-7)


@pytest.mark.parametrize("semantics", ["pt-bd", "pt-bi"])
def test_pt_semantics_match_numpy_reference(semantics):
    net = random_pt_net(semantics, num_blocks=3, seed=11).double()
    frames = to_nchw(random_frames(2, seed=2), torch.float64)
    refs = _ref_two_steps(params_from_pt(net.state_dict(), 3), semantics, frames.numpy())
    for o, r in zip(_two_steps(net, frames), refs):
        np.testing.assert_allclose(o.numpy(), r, rtol=0, atol=1e-9)


def test_semantics_really_differ_on_the_same_weights():
    sd = random_pt_net("pt-bi", 2, seed=5).state_dict()
    frames = to_nchw(random_frames(2, seed=3))
    outs = {}
    for sem in ("tf", "pt-bi"):
        net = FRNet(2, semantics=sem).eval()
        net.load_state_dict(sd)
        outs[sem] = _two_steps(net, frames)[1]
    assert (outs["tf"] - outs["pt-bi"]).abs().max() > 1e-3


# ============================================================================= TF weights
def test_state_dict_from_tf_copies_every_tensor_permuted():
    variables = random_tf_variables(10, seed=2)
    sd = state_dict_from_tf(variables, 10)
    assert len(sd) == 76  # 38 layers (14 FNet, 24 generator), weights + biases
    mapped = frvsr.tf_variable_names(10)
    assert len(mapped) == 76
    for tf_name, key in mapped.items():
        v = variables[tf_name]
        want = np.transpose(v, (3, 2, 0, 1)) if v.ndim == 4 else v
        assert np.array_equal(sd[key].numpy(), want), tf_name
    assert mapped[f"{GEN}/resblock_10/conv_2/Conv/weights"] == "srnet.resblocks.9.conv.2.weight"
    assert mapped[f"{GEN}/conv_tran2highres/conv_tran2/Conv2d_transpose/biases"] == "srnet.conv_up.2.bias"
    net = FRNet(10, semantics="tf")
    net.load_state_dict(sd, strict=True)
    assert torch.equal(net.srnet.conv_up[0].weight, torch.from_numpy(
        np.transpose(variables[f"{GEN}/conv_tran2highres/conv_tran1/Conv2d_transpose/weights"], (3, 2, 0, 1))))


def test_tf_ten_blocks_loaded_as_sixteen():
    with pytest.raises(WeightsError) as err:
        state_dict_from_tf(random_tf_variables(10), 16, source="model/ourFRVSR")
    assert str(err.value) == ("model/ourFRVSR: found 10 residual blocks, expected 16 "
                              "(load it with num_blocks=10: TecoGAN has 16, ourFRVSR 10)")


def test_tf_missing_tensor_is_named():
    variables = random_tf_variables(16)
    del variables[f"{FNET}/decoder_2/conv_1/Conv/biases"]
    with pytest.raises(WeightsError) as err:
        state_dict_from_tf(variables, 16, source="ckpt")
    assert str(err.value) == ("ckpt: 1 of the 100 generator/fnet variables are missing "
                              f"(e.g. {FNET}/decoder_2/conv_1/Conv/biases); "
                              "not a TecoGAN/FRVSR checkpoint or an incomplete one")


def test_tf_wrong_shape_is_named():
    variables = random_tf_variables(16)
    variables[f"{GEN}/input_stage/conv/Conv/weights"] = np.zeros((3, 3, 15, 64), np.float32)
    with pytest.raises(WeightsError) as err:
        state_dict_from_tf(variables, 16, source="ckpt")
    assert str(err.value) == (f"ckpt: variable {GEN}/input_stage/conv/Conv/weights has shape (3, 3, 15, 64), "
                              "expected (3, 3, 51, 64)")


def test_real_tf_checkpoint_fixture_is_read_and_rejected_readably():
    """The shared fixture is a real TF V2 checkpoint with only a few official names."""
    prefix = shared_path("fixtures", "tf_checkpoint_v2", "model.index").with_suffix("")
    with pytest.raises(WeightsError) as err:
        load_frnet(prefix, num_blocks=16, semantics="tf")
    msg = str(err.value)
    assert msg.startswith(f"{prefix}: 96 of the 100 generator/fnet variables are missing (e.g. ")
    with pytest.raises(WeightsError) as err:
        load_frnet(Path(str(prefix) + ".index"), num_blocks=16, semantics="pt-bd")
    assert str(err.value) == (f"{prefix}.index: a TF checkpoint needs semantics='tf' (its weights were trained "
                              "with TF's primitives), got 'pt-bd'")


@pytest.fixture
def fake_tf_checkpoint(tmp_path, monkeypatch):
    """TecoGAN.index / .data files on disk whose reading is replaced by a random variable dict."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("TecoGAN.index", "TecoGAN.data-00000-of-00001"):
        (folder / name).write_bytes(b"stand-in")
    variables = random_tf_variables(16, seed=4)
    seen = []

    def fake_read(prefix):
        seen.append(Path(prefix))
        return variables

    monkeypatch.setattr(frvsr, "_read_tf", fake_read)
    return folder, variables, seen


@pytest.mark.parametrize("how", ["prefix", "index", "folder", "home"])
def test_tecogan_builder_finds_tf_checkpoint(fake_tf_checkpoint, monkeypatch, how):
    folder, variables, seen = fake_tf_checkpoint
    weights = {"prefix": folder / "TecoGAN", "index": folder / "TecoGAN.index", "folder": folder, "home": None}[how]
    if how == "home":
        monkeypatch.setenv("VSRBENCH_HOME", str(folder))
    model = load_model("tecogan", weights=weights)
    assert isinstance(model, FRVSRModel) and model.net.semantics.name == "tf" and model.net.num_blocks == 16
    assert seen == [folder / "TecoGAN"]
    w = variables[f"{GEN}/output_stage/conv/Conv/weights"]
    assert np.array_equal(model.net.srnet.conv_out.weight.detach().numpy(), np.transpose(w, (3, 2, 0, 1)))
    assert not any(p.requires_grad for p in model.net.parameters())


def test_missing_tf_weights_message_names_file_places_and_source():
    with pytest.raises(WeightsError) as err:
        load_model("tecogan")
    msg = str(err.value)
    assert msg.startswith("weights file 'TecoGAN.index' not found (searched: ")
    assert "https://ge.in.tum.de/download/data/TecoGAN/model.zip" in msg
    with pytest.raises(WeightsError) as err:
        load_model("frvsr")
    assert "'ourFRVSR.index'" in str(err.value) and frvsr.FRVSR_SOURCE in str(err.value)


# ============================================================================= PT weights
@pytest.mark.parametrize("semantics", ["pt-bd", "pt-bi"])
def test_pt_state_dict_file_loads_strictly(tmp_path, semantics):
    src = random_pt_net(semantics, num_blocks=10, seed=9)
    path = tmp_path / "weights.pth"
    torch.save(src.state_dict(), path)
    net = load_frnet(path, num_blocks=10, semantics=semantics)
    for key, value in src.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key
    assert not net.training


def test_pt_builders_find_new_and_old_file_names(tmp_path, monkeypatch):
    sd = random_pt_net("pt-bi", num_blocks=10, seed=1).state_dict()
    torch.save(sd, tmp_path / "FRVSR_BI_iter400000.pth")  # the old download_models.sh name
    monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path))
    model = load_model("frvsr-pt-bi", num_pad_front=0, chunk=2)
    assert model.net.semantics.name == "pt-bi" and model.num_pad_front == 0 and model.chunk == 2
    assert torch.equal(model.net.fnet.flow[2].weight, sd["fnet.flow.2.weight"])
    torch.save(random_pt_net("pt-bd", 10).state_dict(), tmp_path / "TecoGAN_4x_BD_Vimeo_iter500K.pth")
    assert load_model("tecogan-pt-bd", weights=tmp_path).net.semantics.name == "pt-bd"


def test_bd_weights_loaded_as_bi_and_back(tmp_path):
    bd, bi = tmp_path / "bd.pth", tmp_path / "bi.pth"
    torch.save(random_pt_net("pt-bd", 10).state_dict(), bd)
    torch.save(random_pt_net("pt-bi", 10).state_dict(), bi)
    with pytest.raises(WeightsError) as err:
        load_frnet(bd, num_blocks=10, semantics="pt-bi")
    assert str(err.value) == (f"{bd}: holds 'upsample_func.kernels' buffers, i.e. BD weights (bicubic "
                              "upsampling); load them with semantics='pt-bd' (got 'pt-bi')")
    with pytest.raises(WeightsError) as err:
        load_frnet(bi, num_blocks=10, semantics="pt-bd")
    assert str(err.value) == (f"{bi}: has no 'upsample_func.kernels' buffers, i.e. BI weights (bilinear "
                              "upsampling) or TF-converted ones; load BI weights with semantics='pt-bi' (got 'pt-bd')")


def test_bd_kernels_buffer_equals_the_bicubic_phase_weights_and_is_checked(tmp_path):
    spec = np.array([[0, 1, 0, 0], [-0.10547, 0.87891, 0.26172, -0.03516],
                     [-0.09375, 0.59375, 0.59375, -0.09375], [-0.03516, 0.26172, 0.87891, -0.10547]])
    sd = random_pt_net("pt-bd", 10).state_dict()
    np.testing.assert_allclose(sd["upsample_func.kernels"].numpy(), spec, atol=5e-6)
    sd["srnet.upsample_func.kernels"] = sd["srnet.upsample_func.kernels"] * 1.01
    sd["upsample_func.kernels"] = sd["srnet.upsample_func.kernels"]
    torch.save(sd, tmp_path / "k.pth")
    with pytest.raises(WeightsError) as err:
        load_frnet(tmp_path / "k.pth", num_blocks=10, semantics="pt-bd")
    assert str(err.value) == (f"{tmp_path / 'k.pth'}: buffer upsample_func.kernels does not hold the "
                              "bicubic (a=-0.75) phase weights (max difference 0.01)")


def test_pt_block_count_missing_and_unexpected_keys(tmp_path):
    sd = random_pt_net("pt-bi", 10).state_dict()
    torch.save(sd, tmp_path / "ten.pth")
    with pytest.raises(WeightsError) as err:
        load_frnet(tmp_path / "ten.pth", num_blocks=16, semantics="pt-bi")
    assert str(err.value) == f"{tmp_path / 'ten.pth'}: found 10 residual blocks, expected 16"
    del sd["fnet.encoder2.2.bias"]
    sd["extra.weight"] = torch.zeros(1)
    torch.save(sd, tmp_path / "odd.pth")
    with pytest.raises(WeightsError) as err:
        load_frnet(tmp_path / "odd.pth", num_blocks=10, semantics="pt-bi")
    assert str(err.value) == (f"{tmp_path / 'odd.pth'}: does not match FRNet(num_blocks=10, scale=4): "
                              "missing 1 tensor(s): fnet.encoder2.2.bias; unexpected 1: extra.weight")


def test_pt_x2_weights_loaded_as_x4(tmp_path):
    torch.save(FRNet(10, 2, "pt-bi").state_dict(), tmp_path / "x2.pth")
    with pytest.raises(WeightsError) as err:
        load_frnet(tmp_path / "x2.pth", num_blocks=10, semantics="pt-bi")
    assert str(err.value) == (f"{tmp_path / 'x2.pth'}: does not match FRNet(num_blocks=10, scale=4): "
                              "missing 2 tensor(s): srnet.conv_up.2.bias, srnet.conv_up.2.weight")


def test_wrong_file_formats(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00\x01 not a checkpoint at all")
    with pytest.raises(WeightsError) as err:
        load_frnet(junk, num_blocks=10, semantics="pt-bd")
    assert str(err.value).startswith(f"{str(junk)!r} is neither a TF checkpoint (.index + "
                                     ".data-00000-of-00001) nor a PyTorch state dict readable with "
                                     "torch.load(weights_only=True): ")
    wrapped = tmp_path / "wrapped.pth"
    torch.save({"params": {"a": torch.zeros(1)}, "step": 3}, wrapped)
    with pytest.raises(WeightsError) as err:
        load_frnet(wrapped, num_blocks=10, semantics="pt-bd")
    assert str(err.value) == (f"{str(wrapped)!r}: expected a plain state dict (name -> tensor) as TecoGAN-PyTorch "
                              "saves it, got a dict with keys params, step")
    with pytest.raises(WeightsError) as err:
        load_frnet(tmp_path / "absent.pth", num_blocks=10, semantics="pt-bd")
    assert str(err.value) == f"weights file {str(tmp_path / 'absent.pth')!r} not found"


# ============================================================================= registry
def test_registered_variants():
    expect = {"tecogan": (16, "tf", "TecoGAN.index", "bd-tecogan"),
              "frvsr": (10, "tf", "ourFRVSR.index", "bd-tecogan"),
              "tecogan-pt-bd": (10, "pt-bd", "TecoGAN_4x_BD_Vimeo_iter500K.pth", "bd-tecogan-train"),
              "tecogan-pt-bi": (10, "pt-bi", "TecoGAN_4x_BI_Vimeo_iter500K.pth", "bi-matlab"),
              "frvsr-pt-bd": (10, "pt-bd", "FRVSR_4x_BD_Vimeo_iter400K.pth", "bd-tecogan-train"),
              "frvsr-pt-bi": (10, "pt-bi", "FRVSR_4x_BI_Vimeo_iter400K.pth", "bi-matlab")}
    variants = {v.name: v for v in frvsr.VARIANTS}
    for name, (blocks, sem, filename, degradation) in expect.items():
        spec = MODELS[name]
        assert (spec.scale, spec.kind, spec.degradation) == (4, "vsr", degradation)
        assert spec.checkpoints[0].filename == filename
        assert (variants[name].num_blocks, variants[name].semantics) == (blocks, sem)
    tecogan = MODELS["tecogan"].checkpoints[0]
    assert tecogan.companions == ("TecoGAN.data-00000-of-00001",) and tecogan.licence == "Apache-2.0"
    # their numbers are rows of the published-results database (tests/test_published.py checks the values)
    assert tecogan.published == (("TecoGAN", "BD"),)
    assert MODELS["frvsr"].checkpoints[0].published == (("Official FRVSR", "BD"),)
    with pytest.raises(UnknownNameError, match="did you mean 'tecogan'"):
        MODELS["tecogen"]


# ============================================================================= recurrence
@pytest.fixture(scope="module")
def small_tf_net() -> FRNet:
    net = FRNet(2, semantics="tf")
    net.load_state_dict(state_dict_from_tf(random_tf_variables(2, seed=3), 2))
    return net.eval()


def test_first_frame_uses_zero_space_to_depth_channels(small_tf_net):
    x = to_nchw(random_frames(1, **SEQ))
    with torch.no_grad():
        out = small_tf_net(x)
        assert torch.equal(out, small_tf_net.srnet(x, torch.zeros(1, 48, SEQ["h"], SEQ["w"])))
        pt = random_pt_net("pt-bd", 2)  # PT runs the step on zero previous frames: the same thing
        zeros_hr = torch.zeros(1, 3, 4 * SEQ["h"], 4 * SEQ["w"])
        assert torch.equal(pt(x), pt(x, torch.zeros_like(x), zeros_hr))


def test_output_depends_on_the_previous_frame_only_causally(small_tf_net):
    frames = to_nchw(random_frames(3, **SEQ))
    other = frames.clone()
    other[0] = torch.rand_like(other[0])
    with torch.no_grad():
        a, _, _ = small_tf_net.forward_sequence(frames[None])
        b, _, _ = small_tf_net.forward_sequence(other[None])
        c, _, _ = small_tf_net.forward_sequence(torch.cat([frames[:2], other[2:]])[None])
    assert (a[0, 1] - b[0, 1]).abs().max() > 1e-3  # frame 0 reaches output 1 through the recurrence
    assert torch.equal(a[0, :2], c[0, :2])  # a later frame never changes an earlier output


def test_previous_output_is_fed_back_unclipped(small_tf_net):
    frames = to_nchw(random_frames(2, **SEQ))
    with torch.no_grad():
        o0 = small_tf_net(frames[:1]) * 3.0 - 1.0  # far outside [0, 1]
        fed = small_tf_net(frames[1:2], frames[:1], o0)
        clipped = small_tf_net(frames[1:2], frames[:1], o0.clamp(0, 1))
    assert (fed - clipped).abs().max() > 1e-3


def test_batch_of_sequences_equals_each_sequence_alone(small_tf_net):
    a, b = to_nchw(random_frames(3, seed=1, **SEQ)), to_nchw(random_frames(3, seed=2, **SEQ))
    with torch.no_grad():
        both, _, _ = small_tf_net.forward_sequence(torch.stack([a, b]))
        alone = [small_tf_net.forward_sequence(s[None])[0][0] for s in (a, b)]
    torch.testing.assert_close(both[0], alone[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(both[1], alone[1], rtol=0, atol=1e-5)


@pytest.mark.parametrize("semantics", ["tf", "pt-bd", "pt-bi"])
@pytest.mark.parametrize("size", [(36, 45), (8, 8), (17, 23)])
def test_odd_sizes(semantics, size):
    net = random_pt_net(semantics, num_blocks=1)
    frames = random_frames(2, h=size[0], w=size[1])
    out = list(FRVSRModel(net, name="t", num_pad_front=0).upscale(frames))
    assert [o.shape for o in out] == [(4 * size[0], 4 * size[1], 3)] * 2
    assert all(o.dtype == np.float32 and np.isfinite(o).all() for o in out)


def test_residual_base_on_real_frames_is_tf_legacy_bicubic():
    """Real Vid4 LR frames (shared calendar, cropped): with the last conv zeroed the model returns its
    residual base, which must be TF1 legacy bicubic; OpenCV's cubic (a = -0.75) with the top-left
    mapping dst(x) = src(x / 4) and replicated borders is the independent reference."""
    import cv2

    folder = shared_path("data", "calendar")
    frames = [cv2.cvtColor(cv2.imread(str(folder / f"000{i}.png")), cv2.COLOR_BGR2RGB)[40:72, 60:108]
              for i in (1, 2)]
    net = random_pt_net("tf", num_blocks=1)
    with torch.no_grad():
        net.srnet.conv_out.weight.zero_()
        net.srnet.conv_out.bias.zero_()
    out = list(FRVSRModel(net, name="t", num_pad_front=0).upscale(frames))
    m = np.array([[0.25, 0, 0], [0, 0.25, 0]])
    for frame, hr in zip(frames, out):
        ref = cv2.warpAffine(frame.astype(np.float32) / np.float32(255), m, (4 * 48, 4 * 32),
                             flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        assert np.abs(hr - ref).max() < 2e-5


# ============================================================================= sequence inference
def _manual(net: FRNet, frames: list[np.ndarray], order: list[int]) -> np.ndarray:
    with torch.no_grad():
        hr, _, _ = net.forward_sequence(to_nchw([frames[i] for i in order])[None])
    return hr[0].permute(0, 2, 3, 1).numpy()


def test_five_frame_temporal_padding_rule(small_tf_net):
    """TF inference_data_loader: process f5 f4 f3 f2 f1 f0 f1 ... and drop the first 5 outputs."""
    frames = random_frames(6, **SEQ)
    got = np.stack(list(FRVSRModel(small_tf_net, name="t").upscale(frames)))
    assert got.shape == (6, 4 * SEQ["h"], 4 * SEQ["w"], 3)
    np.testing.assert_array_equal(got, _manual(small_tf_net, frames, [5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5])[5:])
    plain = np.stack(list(FRVSRModel(small_tf_net, name="t", num_pad_front=0).upscale(frames[:2])))
    np.testing.assert_array_equal(plain, _manual(small_tf_net, frames, [0, 1]))
    assert np.abs(plain[0] - got[0]).max() > 1e-3


def test_short_sequences_pad_what_they_have(small_tf_net):
    frames = random_frames(3, **SEQ)
    got = np.stack(list(FRVSRModel(small_tf_net, name="t").upscale(frames)))
    np.testing.assert_array_equal(got, _manual(small_tf_net, frames, [2, 1, 0, 1, 2])[2:])
    one = list(FRVSRModel(small_tf_net, name="t").upscale(frames[:1]))
    np.testing.assert_array_equal(one[0], _manual(small_tf_net, frames, [0])[0])
    assert list(FRVSRModel(small_tf_net, name="t").upscale([])) == []
    assert frvsr.temporal_padding(8, 5) == [5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7]


@pytest.fixture(scope="module")
def padded_run(small_tf_net):
    """4 frames (3 padding frames, so the dropped outputs span chunks) in one chunk."""
    frames = random_frames(4, **SEQ)
    return frames, np.stack(list(FRVSRModel(small_tf_net, name="t", chunk=64).upscale(frames)))


@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_chunking_does_not_change_results(small_tf_net, padded_run, chunk):
    frames, ref = padded_run
    got = np.stack(list(FRVSRModel(small_tf_net, name="t", chunk=chunk).upscale(iter(frames))))
    np.testing.assert_array_equal(got, ref)


def test_uint8_and_float_frames_agree(small_tf_net):
    frames = random_frames(2, **SEQ)
    model = FRVSRModel(small_tf_net, name="t", num_pad_front=0)
    a = list(model.upscale(frames))
    b = list(model.upscale([f.astype(np.float64) / 255.0 for f in frames]))
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-6)


# ============================================================================= input errors
@pytest.mark.parametrize("call,message", [
    (lambda net: list(FRVSRModel(net, name="t").upscale(random_frames(1, **SEQ) + random_frames(1, h=16, w=17))),
     "frame 1: expected size 12x17 (H x W) like frame 0, got 16x17"),
    (lambda net: list(FRVSRModel(net, name="t").upscale([np.zeros((7, 9, 3), np.uint8)])),
     "lr_curr: frames must be at least 8x8 pixels (FNet pools 3 times), got 7x9"),
    (lambda net: list(FRVSRModel(net, name="t").upscale([np.zeros((9, 9), np.uint8)])),
     "frame 0: expected an RGB array of shape (H, W, 3), got shape (9, 9)"),
    (lambda net: FRVSRModel(net, name="t", num_pad_front=-1), "num_pad_front: expected an integer >= 0, got -1"),
    (lambda net: FRVSRModel(net, name="t", chunk=0), "chunk: expected an integer >= 1, got 0"),
    (lambda net: FRVSRModel(net, name="t", device="tpu"),
     "device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
    (lambda net: FRNet(10, semantics="pt"), "semantics: expected one of 'tf', 'pt-bd', 'pt-bi', got 'pt'"),
    (lambda net: FRNet(10, scale=3), "scale: expected one of [2, 4], got 3"),
    (lambda net: FRNet(0), "num_blocks: expected an integer >= 1, got 0"),
    (lambda net: net(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 16)),
     "lr_prev and hr_prev: give both (a later frame) or neither (the first frame)"),
    (lambda net: net(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 60, 64)),
     "hr_prev: expected shape (1, 3, 64, 64), got (1, 3, 60, 64)"),
    (lambda net: net(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 8), torch.zeros(1, 3, 64, 64)),
     "lr_prev: expected shape (1, 3, 16, 16) like lr_curr, got (1, 3, 16, 8)"),
    (lambda net: net(torch.zeros(1, 4, 16, 16)),
     "lr_curr: expected a tensor of shape (N, 3, H, W), got (1, 4, 16, 16)"),
    (lambda net: net.forward_sequence(torch.zeros(1, 3, 16, 16)),
     "lr: expected a tensor of shape (N, T, 3, H, W), got (1, 3, 16, 16)"),
])
def test_input_error_messages(small_tf_net, call, message):
    with pytest.raises(InputError) as err:
        call(small_tf_net)
    assert str(err.value) == message


# ============================================================================= devices and speed
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device; none is available")
def test_cuda_matches_cpu(small_tf_net):
    frames = random_frames(3, **SEQ)
    cpu = np.stack(list(FRVSRModel(small_tf_net, name="t").upscale(frames)))
    net = FRNet(2, semantics="tf")
    net.load_state_dict(small_tf_net.state_dict())
    cuda = np.stack(list(FRVSRModel(net, name="t", device="cuda").upscale(frames)))
    np.testing.assert_allclose(cuda, cpu, rtol=0, atol=1e-4)


@pytest.mark.slow
def test_benchmark_tecogan16_frames_per_second(benchmark):
    """TecoGAN-16 (TF semantics), 180×144 → 720×576, CPU fp32: a first frame and one recurrent step.

    Run with ``--benchmark-enable`` for timings; ``extra_info['frames_per_s']`` then holds the rate.
    """
    torch.manual_seed(0)
    model = FRVSRModel(FRNet(16, semantics="tf"), name="tecogan", num_pad_front=0, chunk=2)
    frames = random_frames(2, h=144, w=180)
    out = benchmark.pedantic(lambda: list(model.upscale(frames)), rounds=1, iterations=1)
    assert [o.shape for o in out] == [(576, 720, 3)] * 2
    if benchmark.enabled:
        benchmark.extra_info["frames_per_s"] = len(frames) / benchmark.stats.stats.mean
