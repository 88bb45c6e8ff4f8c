"""DUF: loading the authors' HDF5 parameter files, the network, sequence inference, errors.

References used here are written in this file from the authors' code as described in
models-spec.md section 7 (nets.py / utils.py / test.py of yhjo09/VSR-DUF): the TF variable
shapes, the HDF5 naming rule and its inverse (``LoadParams``), a NumPy NTHWC forward pass
that consumes the TF-layout kernels directly, and per-pixel loops for the dynamic filtering
and TF ``depth_to_space``. Weights are random with fixed seeds, written to temporary files
in the authors' format; the real files are not needed.
"""
from __future__ import annotations

import re

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vsrbench.baselines import MODELS, load_model
from vsrbench.baselines.duf import (
    DUF,
    DUFModel,
    dynamic_upsample,
    final_channels,
    h5_dataset_name,
    load_duf,
    read_params,
    windows,
)
from vsrbench.baselines.tfops import depth_to_space
from vsrbench.core.errors import InputError, WeightsError

VARIANTS = [(16, 2), (16, 3), (16, 4), (28, 4), (52, 4)]
PHASE_A = {16: (3, 32), 28: (9, 16), 52: (21, 16)}  # nets.py: FR_16L / FR_28L / FR_52L


# ------------------------------------------------------------------ references from nets.py
def tf_layer_shapes(layers: int, scale: int) -> dict[str, tuple]:
    """TF layer name -> ("conv", kernel shape [kt, kh, kw, in, out]) or ("bn", channels)."""
    n_a, g = PHASE_A[layers]
    shapes: dict[str, tuple] = {"conv1": ("conv", (1, 3, 3, 3, 64))}
    f = 64
    for r in range(1, n_a + 4):
        shapes[f"Rbn{r}a"] = ("bn", f)
        shapes[f"Rconv{r}a"] = ("conv", (1, 1, 1, f, f))
        shapes[f"Rbn{r}b"] = ("bn", f)
        shapes[f"Rconv{r}b"] = ("conv", (3, 3, 3, f, g))
        f += g
    shapes["fbn1"] = ("bn", f)
    shapes["conv2"] = ("conv", (1, 3, 3, f, 256))
    shapes["rconv1"] = ("conv", (1, 1, 1, 256, 256))
    shapes["rconv2"] = ("conv", (1, 1, 1, 256, 3 * scale * scale))
    shapes["fconv1"] = ("conv", (1, 1, 1, 256, 512))
    shapes["fconv2"] = ("conv", (1, 1, 1, 512, 25 * scale * scale))
    return shapes


def random_tf_params(layers: int, scale: int, seed: int, gamma: bool = True) -> dict[str, np.ndarray]:
    """TF variable name ("G/conv1/W:0", ...) -> random float32 array of the TF shape."""
    rng = np.random.default_rng(seed)
    out = {}
    for layer, (kind, shape) in tf_layer_shapes(layers, scale).items():
        if kind == "conv":
            fan_in = int(np.prod(shape[:4]))
            out[f"G/{layer}/W:0"] = rng.normal(0, np.sqrt(1.0 / fan_in), shape)
            out[f"G/{layer}/b:0"] = rng.normal(0, 0.01, shape[-1])
        else:
            out[f"G/{layer}/beta:0"] = rng.normal(0, 0.1, shape)
            if gamma:
                out[f"G/{layer}/gamma:0"] = 1 + rng.normal(0, 0.1, shape)
            out[f"G/{layer}/moving_mean:0"] = rng.normal(0, 0.1, shape)
            out[f"G/{layer}/moving_variance:0"] = rng.uniform(0.5, 1.5, shape)
    return {k: v.astype(np.float32) for k, v in out.items()}


def authors_name(h5_name: str) -> str:
    """The inverse mapping of the authors' ``LoadParams``: a lone '_' -> '/', then '__' -> '_'."""
    chars = list(h5_name)
    for i in range(1, len(chars) - 1):
        if chars[i] == "_" and chars[i - 1] != "_" and chars[i + 1] != "_":
            chars[i] = "/"
    return "".join(chars).replace("__", "_")


def write_h5(path, variables: dict[str, np.ndarray], extra: dict[str, np.ndarray] | None = None) -> str:
    with h5py.File(path, "w") as f:
        g = f.create_group("params")
        for name, value in {**variables, **(extra or {})}.items():
            g.create_dataset(name.replace("_", "__").replace("/", "_"), data=value)
    return str(path)


def np_conv3d(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: tuple[int, int, int]) -> np.ndarray:
    """TF ``conv3d(tf.pad(x, zeros), W, 'VALID') + b`` on a (T, H, W, C) array."""
    x = np.pad(x, [(p, p) for p in pad] + [(0, 0)])
    kt, kh, kw = w.shape[:3]
    t, h, wd = x.shape[0] - kt + 1, x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((t, h, wd, w.shape[4]))
    for a in range(kt):
        for c in range(kh):
            for d in range(kw):
                out += x[a:a + t, c:c + h, d:d + wd] @ w[a, c, d]
    return out + b


def np_bn(x: np.ndarray, p: dict, layer: str) -> np.ndarray:
    g = p.get(f"G/{layer}/gamma:0", 1.0)
    mean, var = p[f"G/{layer}/moving_mean:0"], p[f"G/{layer}/moving_variance:0"]
    return (x - mean) / np.sqrt(var + 1e-3) * g + p[f"G/{layer}/beta:0"]


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def np_dynamic_upsample_loops(centre: np.ndarray, filters: np.ndarray, r: int) -> np.ndarray:
    """DynFilter3D + depth_to_space per pixel: centre (H, W, C), filters (H, W, 25, R²) -> (RH, RW, C)."""
    h, w, c = centre.shape
    padded = np.pad(centre, ((2, 2), (2, 2), (0, 0)))
    out = np.zeros((h * r, w * r, c))
    for y in range(h):
        for x in range(w):
            for ch in range(c):
                taps = np.array([padded[y + ky, x + kx, ch] for ky in range(5) for kx in range(5)])
                for dy in range(r):
                    for dx in range(r):
                        out[y * r + dy, x * r + dx, ch] = taps @ filters[y, x, :, dy * r + dx]
    return out


def np_depth_to_space_loops(x: np.ndarray, r: int) -> np.ndarray:
    """tf.depth_to_space on (H, W, R²·C): out[y·R+dy, x·R+dx, c] = x[y, x, (dy·R+dx)·C + c]."""
    h, w, rrc = x.shape
    c = rrc // (r * r)
    out = np.zeros((h * r, w * r, c))
    for y in range(h):
        for xx in range(w):
            for dy in range(r):
                for dx in range(r):
                    for ch in range(c):
                        out[y * r + dy, xx * r + dx, ch] = x[y, xx, (dy * r + dx) * c + ch]
    return out


def np_duf(window: np.ndarray, p: dict, layers: int, scale: int) -> np.ndarray:
    """The authors' G(x) (nets.py FR_*L + test.py G) on one (7, H, W, 3) window, float64."""
    p = {k: v.astype(np.float64) for k, v in p.items()}

    def conv(x, layer, pad):
        return np_conv3d(x, p[f"G/{layer}/W:0"], p[f"G/{layer}/b:0"], pad)

    n_a = PHASE_A[layers][0]
    x = conv(window, "conv1", (0, 1, 1))
    for r in range(1, n_a + 4):
        t = conv(relu(np_bn(x, p, f"Rbn{r}a")), f"Rconv{r}a", (0, 0, 0))
        phase_a = r <= n_a
        t = conv(relu(np_bn(t, p, f"Rbn{r}b")), f"Rconv{r}b", (1 if phase_a else 0, 1, 1))
        x = np.concatenate([x if phase_a else x[1:-1], t], axis=-1)
    x = relu(conv(relu(np_bn(x, p, "fbn1")), "conv2", (0, 1, 1)))
    res = conv(relu(conv(x, "rconv1", (0, 0, 0))), "rconv2", (0, 0, 0))[0]
    f = conv(relu(conv(x, "fconv1", (0, 0, 0))), "fconv2", (0, 0, 0))[0]
    f = f.reshape(f.shape[0], f.shape[1], 25, scale * scale)
    f = np.exp(f - f.max(axis=2, keepdims=True))
    f /= f.sum(axis=2, keepdims=True)
    return np_dynamic_upsample_loops(window[3], f, scale) + np_depth_to_space_loops(res, scale)


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def params16() -> dict[str, np.ndarray]:
    return random_tf_params(16, 4, seed=16)


@pytest.fixture
def file16(tmp_path, params16) -> str:
    return write_h5(tmp_path / "params_16L_x4.h5", params16)


@pytest.fixture(scope="module")
def net16() -> DUF:
    """A 16L x4 net with random conv weights and non-trivial BN statistics (fixed seed)."""
    torch.manual_seed(0)
    net = DUF(16, 4)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm3d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return net.eval()


def frames_uint8(rng, n: int, h: int = 12, w: int = 16) -> list[np.ndarray]:
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def window_tensor(frames: list[np.ndarray | None], h: int = 12, w: int = 16) -> torch.Tensor:
    """(1, 3, 7, H, W) from 7 uint8 frames, None standing for a zero frame."""
    stack = np.stack([np.zeros((h, w, 3)) if f is None else f / 255.0 for f in frames])
    return torch.from_numpy(stack.astype(np.float32)).permute(3, 0, 1, 2)[None]


# ------------------------------------------------------------------ naming, loading, counts
def test_h5_names_follow_the_authors_scheme():
    assert h5_dataset_name("G/conv1/W:0") == "G_conv1_W:0"
    assert h5_dataset_name("G/Rbn1a/moving_mean:0") == "G_Rbn1a_moving__mean:0"
    assert h5_dataset_name("G/Rbn12b/moving_variance:0") == "G_Rbn12b_moving__variance:0"
    for name in random_tf_params(16, 2, seed=0):
        assert authors_name(h5_dataset_name(name)) == name


@pytest.mark.parametrize("layers,scale", VARIANTS)
def test_round_trip_every_tensor(tmp_path, layers, scale):
    p = random_tf_params(layers, scale, seed=layers * 10 + scale)
    net = load_duf(write_h5(tmp_path / f"params_{layers}L_x{scale}.h5", p))
    assert (net.layers, net.scale, net.training) == (layers, scale, False)
    layer_modules = dict(net.named_modules())
    seen = 0
    for layer, (kind, shape) in tf_layer_shapes(layers, scale).items():
        m = layer_modules[_torch_path(layer, layers)]
        if kind == "conv":
            w = p[f"G/{layer}/W:0"]
            np.testing.assert_array_equal(m.weight.detach().numpy(), np.transpose(w, (4, 3, 0, 1, 2)))
            np.testing.assert_array_equal(m.bias.detach().numpy(), p[f"G/{layer}/b:0"])
            seen += 2
        else:
            for var, got in (("beta", m.bias), ("gamma", m.weight), ("moving_mean", m.running_mean),
                             ("moving_variance", m.running_var)):
                np.testing.assert_array_equal(got.detach().numpy(), p[f"G/{layer}/{var}:0"])
                seen += 1
            assert m.eps == 1e-3
    assert seen == len(p)


def _torch_path(layer: str, layers: int) -> str:
    """This test's own mapping from a TF layer name to the module path of DUF."""
    m = re.fullmatch(r"R(bn|conv)(\d+)([ab])", layer)
    if not m:
        return layer
    return f"blocks.{int(m.group(2)) - 1}.{m.group(1)}_{m.group(3)}"


def _param_count_from_nets_py(layers: int, scale: int) -> int:
    """Trainable variables of nets.py (W, b, beta, gamma), counted from the TF shapes."""
    total = 0
    for kind, shape in tf_layer_shapes(layers, scale).values():
        total += int(np.prod(shape)) + shape[-1] if kind == "conv" else 2 * shape
    return total


@pytest.mark.parametrize("layers,scale,final,params", [
    (16, 4, 256, 1_900_640), (16, 2, 256, 1_737_488), (16, 3, 256, 1_805_468),
    (28, 4, 256, 2_118_432), (52, 4, 448, 5_821_952),
])
def test_channel_and_parameter_counts(layers, scale, final, params):
    net = DUF(layers, scale)
    assert final_channels(layers) == final == net.fbn1.num_features == net.conv2.in_channels
    counted = sum(p.numel() for p in net.parameters())
    assert counted == _param_count_from_nets_py(layers, scale) == params


# ------------------------------------------------------------------ numerics
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_dynamic_filtering_matches_per_pixel_loops(scale):
    rng = np.random.default_rng(scale)
    centre = rng.random((1, 3, 4, 5))
    logits = rng.normal(size=(1, 25, scale * scale, 4, 5))
    filters = torch.softmax(torch.from_numpy(logits), dim=1)
    got = dynamic_upsample(torch.from_numpy(centre).float(), filters.float(), scale)[0].permute(1, 2, 0)
    want = np_dynamic_upsample_loops(centre[0].transpose(1, 2, 0), filters[0].permute(2, 3, 0, 1).numpy(), scale)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-6, rtol=0)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_residual_depth_to_space_tfops_pixel_shuffle_and_loops_agree(scale):
    rng = np.random.default_rng(scale)
    res = rng.normal(size=(1, 3 * scale * scale, 3, 4)).astype(np.float32)
    via_tfops = depth_to_space(torch.from_numpy(res), scale)
    permuted = torch.from_numpy(res).reshape(1, scale * scale, 3, 3, 4).transpose(1, 2).reshape(res.shape)
    via_shuffle = F.pixel_shuffle(permuted, scale)
    want = np_depth_to_space_loops(res[0].transpose(1, 2, 0), scale)
    np.testing.assert_array_equal(via_tfops.numpy(), via_shuffle.numpy())
    np.testing.assert_allclose(via_tfops[0].permute(1, 2, 0).numpy(), want, atol=0)


@pytest.mark.parametrize("scale", [3, 4])
def test_forward_matches_numpy_reference_of_the_authors_graph(tmp_path, scale):
    p = random_tf_params(16, scale, seed=100 + scale)
    net = load_duf(write_h5(tmp_path / "p.h5", p)).double()
    window = np.random.default_rng(7).random((7, 6, 8, 3))
    x = torch.from_numpy(window).permute(3, 0, 1, 2)[None]
    with torch.no_grad():
        got = net(x)[0].permute(1, 2, 0).numpy()
    want = np_duf(window, p, 16, scale)
    assert got.shape == (6 * scale, 8 * scale, 3)
    assert np.abs(want).max() > 0.1  # a non-trivial output
    np.testing.assert_allclose(got, want, atol=1e-9, rtol=0)


def test_filters_are_a_softmax_over_the_25_taps(net16):
    x = torch.rand(2, 3, 7, 12, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        filters, residual = net16.filters_and_residual(x)
    assert filters.shape == (2, 25, 16, 12, 16) and residual.shape == (2, 48, 12, 16)
    assert (filters >= 0).all()
    torch.testing.assert_close(filters.sum(dim=1), torch.ones(2, 16, 12, 16), atol=1e-6, rtol=0)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_upscale_output_shape_and_dtype(rng, scale):
    torch.manual_seed(scale)
    model = DUFModel(DUF(16, scale), name="duf", chunk=2)
    out = list(model.upscale(frames_uint8(rng, 2, 5, 7)))
    assert len(out) == 2
    assert all(o.shape == (5 * scale, 7 * scale, 3) and o.dtype == np.float32 for o in out)


# ------------------------------------------------------------------ sequences
def test_sequence_ends_are_padded_with_three_zero_frames(rng, net16):
    f = frames_uint8(rng, 5)
    out = list(DUFModel(net16, name="duf").upscale(f))
    with torch.no_grad():
        first = net16(window_tensor([None, None, None, f[0], f[1], f[2], f[3]]))
        last = net16(window_tensor([f[1], f[2], f[3], f[4], None, None, None]))
    assert len(out) == 5
    np.testing.assert_allclose(out[0], first[0].permute(1, 2, 0).numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(out[-1], last[0].permute(1, 2, 0).numpy(), atol=1e-6, rtol=0)


def test_single_frame_sequence_uses_zero_frames_on_both_sides(rng):
    f = frames_uint8(rng, 1)
    got = list(windows(f))
    assert len(got) == 1
    torch.testing.assert_close(got[0][None], window_tensor([None, None, None, f[0], None, None, None]))
    assert list(windows([])) == []


def test_outputs_do_not_depend_on_chunk_size(rng, net16):
    f = frames_uint8(rng, 5)
    runs = [np.stack(list(DUFModel(net16, name="duf", chunk=c).upscale(f))) for c in (1, 2, 5)]
    np.testing.assert_allclose(runs[1], runs[0], atol=1e-5, rtol=0)
    np.testing.assert_allclose(runs[2], runs[0], atol=1e-5, rtol=0)


def test_uint8_and_float_frames_give_the_same_output(rng, net16):
    f = frames_uint8(rng, 2)
    model = DUFModel(net16, name="duf")
    a = np.stack(list(model.upscale(f)))
    b = np.stack(list(model.upscale([x / 255.0 for x in f])))
    np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


@pytest.mark.gpu
def test_cuda_matches_cpu(rng, net16):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device; none is available here")
    f = frames_uint8(rng, 3)
    cpu = np.stack(list(DUFModel(net16, name="duf").upscale(f)))
    gpu = np.stack(list(DUFModel(_copy(net16), name="duf", device="cuda").upscale(f)))
    np.testing.assert_allclose(gpu, cpu, atol=1e-4, rtol=0)


def _copy(net: DUF) -> DUF:
    clone = DUF(net.layers, net.scale)
    clone.load_state_dict(net.state_dict())
    return clone.eval()


# ------------------------------------------------------------------ registry and weights look-up
def test_registered_models_and_checkpoints():
    expected = {"duf-16l": (16, 4), "duf-28l": (28, 4), "duf-52l": (52, 4),
                "duf-16l-x2": (16, 2), "duf-16l-x3": (16, 3)}
    for name, (layers, scale) in expected.items():
        spec = MODELS[name]
        assert (spec.scale, spec.kind, spec.degradation, spec.needs_weights) == (scale, "vsr", "bd-duf", True)
        (ckpt,) = spec.checkpoints
        assert (ckpt.filename, ckpt.format) == (f"params_{layers}L_x{scale}.h5", "hdf5")
        assert "github.com/yhjo09/VSR-DUF" in ckpt.source and ckpt.licence.startswith("unknown")
    # their numbers are rows of the published-results database (tests/test_published.py checks the values)
    assert MODELS["duf-16l"].checkpoints[0].published == (("DUF-16L", "BD"),)
    assert MODELS["duf-52l"].checkpoints[0].published == (("DUF-52L", "BD"),)
    assert "computed" in MODELS["duf-52l"].checkpoints[0].note
    assert MODELS["duf-28l"].checkpoints[0].published == ()


def test_load_model_from_a_file_a_folder_and_the_weights_home(tmp_path, file16, monkeypatch, rng):
    f = frames_uint8(rng, 1, 4, 5)
    outs = []
    for weights in (file16, tmp_path, None):
        if weights is None:
            monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path))
        model = load_model("duf-16l", weights=weights, chunk=1)
        assert (model.name, model.scale) == ("duf-16l", 4)
        outs.append(next(model.upscale(f)))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


def test_extra_datasets_are_ignored(tmp_path, params16):
    extra = {"G/filter_localexpand:0": np.eye(25, dtype=np.float32).reshape(5, 5, 1, 25)}
    net = load_duf(write_h5(tmp_path / "p.h5", params16, extra))
    assert net.layers == 16


def test_file_without_any_gamma_loads_with_unit_scale(tmp_path):
    p = random_tf_params(16, 4, seed=5, gamma=False)
    net = load_duf(write_h5(tmp_path / "p.h5", p))
    assert torch.equal(net.fbn1.weight, torch.ones(256))
    assert torch.equal(net.blocks[0].bn_a.bias, torch.from_numpy(p["G/Rbn1a/beta:0"]))


# ------------------------------------------------------------------ error messages
def test_missing_weights_file_names_it_and_the_source():
    with pytest.raises(WeightsError, match=r"^weights file 'params_52L_x4\.h5' not found \(searched: .*\); "
                                           r"get it from https://github\.com/yhjo09/VSR-DUF \(file params_52L_x4\.h5"):
        load_model("duf-52l")


def test_missing_dataset_is_named(tmp_path, params16):
    p = dict(params16)
    del p["G/Rbn2b/moving_variance:0"]
    path = write_h5(tmp_path / "p.h5", p)
    with pytest.raises(WeightsError) as e:
        load_duf(path)
    assert str(e.value) == f"{path!r} is missing 1 dataset(s) of DUF 16L x4: G_Rbn2b_moving__variance:0"


def test_partly_missing_gamma_is_an_error(tmp_path, params16):
    p = dict(params16)
    del p["G/fbn1/gamma:0"]
    path = write_h5(tmp_path / "p.h5", p)
    with pytest.raises(WeightsError, match=r"is missing 1 dataset\(s\) of DUF 16L x4: G_fbn1_gamma:0$"):
        load_duf(path)


def test_wrong_layer_count_and_scale(tmp_path, file16):
    with pytest.raises(WeightsError) as e:
        load_duf(file16, layers=52)
    assert str(e.value) == f"{file16!r}: found 16L x4 parameters, expected 52L x4"
    with pytest.raises(WeightsError, match=r": found 16L x4 parameters, expected 16L x2$"):
        load_model("duf-16l-x2", weights=file16)


def test_unknown_depth_in_file(tmp_path):
    path = write_h5(tmp_path / "p.h5", {"G/Rbn5a/beta:0": np.zeros(3, np.float32)})
    with pytest.raises(WeightsError) as e:
        read_params(path)
    assert str(e.value) == (f"{path!r} holds 5 dense layers (Rbn*/Rconv* datasets), expected 6, 12 or 24 "
                            "(DUF 16L, 28L, 52L)")


def test_missing_residual_kernel_is_named(tmp_path, params16):
    p = dict(params16)
    del p["G/rconv2/W:0"]
    path = write_h5(tmp_path / "p.h5", p)
    with pytest.raises(WeightsError) as e:
        read_params(path)
    assert str(e.value) == f"{path!r} is missing dataset 'G_rconv2_W:0'"


def test_wrong_shape_is_named(tmp_path, params16):
    p = dict(params16)
    p["G/conv1/W:0"] = np.zeros((3, 3, 3, 3, 64), np.float32)
    path = write_h5(tmp_path / "p.h5", p)
    with pytest.raises(WeightsError) as e:
        load_duf(path)
    assert str(e.value) == f"dataset 'G_conv1_W:0' in {path!r} has shape (3, 3, 3, 3, 64), expected (1, 3, 3, 3, 64)"


def test_bad_residual_channels(tmp_path, params16):
    p = dict(params16)
    p["G/rconv2/W:0"] = np.zeros((1, 1, 1, 256, 30), np.float32)
    path = write_h5(tmp_path / "p.h5", p)
    with pytest.raises(WeightsError, match=r"^dataset 'G_rconv2_W:0' in .* has 30 output channels, expected "
                                           r"3·R² for R in 2, 3, 4 \(12, 27 or 48\)$"):
        read_params(path)


def test_not_an_hdf5_file(tmp_path):
    path = tmp_path / "params_16L_x4.h5"
    path.write_text("not hdf5")
    with pytest.raises(WeightsError) as e:
        load_model("duf-16l", weights=path)
    assert str(e.value) == (f"{str(path)!r} is not an HDF5 file (expected a DUF parameter file like "
                            "params_16L_x4.h5 from https://github.com/yhjo09/VSR-DUF)")


def test_hdf5_without_params_group(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("weights", data=np.zeros(2))
    with pytest.raises(WeightsError) as e:
        read_params(path)
    assert str(e.value) == (f"{str(path)!r} has no 'params' group (top level: ['weights']); "
                            "not a DUF parameter file from https://github.com/yhjo09/VSR-DUF")


@pytest.mark.parametrize("call,message", [
    (lambda: DUF(layers=20), "layers: expected one of [16, 28, 52], got 20"),
    (lambda: DUF(scale=5), "scale: expected one of [2, 3, 4], got 5"),
    (lambda: DUFModel(DUF(16, 2), name="d", chunk=0),
     "chunk: expected a positive integer (frames per forward pass), got 0"),
    (lambda: DUFModel(DUF(16, 2), name="d", device="tpu"),
     "device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
    (lambda: DUF(16, 2)(torch.zeros(1, 3, 5, 4, 4)),
     "DUF input: expected a tensor of shape (N, 3, 7, H, W), got (1, 3, 5, 4, 4)"),
    (lambda: list(windows([np.zeros((4, 5, 3), np.uint8), np.zeros((4, 6, 3), np.uint8)])),
     "frame 1: expected size 4x5 (H x W) like frame 0, got 4x6"),
    (lambda: list(windows([np.zeros((4, 5, 3), np.uint16)])),
     "frame 0: expected uint8 or float in [0, 1], got dtype uint16"),
    (lambda: list(windows([np.zeros((4, 5), np.uint8)])),
     "frame 0: expected an RGB array of shape (H, W, 3), got shape (4, 5)"),
])
def test_input_errors(call, message):
    with pytest.raises(InputError) as e:
        call()
    assert str(e.value) == message


def test_cuda_requested_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError) as e:
        DUFModel(DUF(16, 2), name="d", device="cuda")
    assert str(e.value) == "device 'cuda' requested but no CUDA device is available (use 'cpu' or 'auto')"
    assert DUFModel(DUF(16, 2), name="d", device="auto").device == torch.device("cpu")


# ------------------------------------------------------------------ speed
@pytest.mark.slow
def test_benchmark_duf16_cpu_180x144_to_720x576(benchmark, net16, rng):
    """One frame (one 7-frame window) of DUF-16L ×4 on the CPU; frames/s = 1 / time."""
    model = DUFModel(net16, name="duf-16l")
    frame = frames_uint8(rng, 1, 144, 180)
    out = benchmark.pedantic(lambda: list(model.upscale(frame)), rounds=1, iterations=1)
    assert out[0].shape == (576, 720, 3)
    if benchmark.stats:  # absent under --benchmark-disable
        benchmark.extra_info["frames_per_s"] = 1.0 / benchmark.stats.stats.mean
