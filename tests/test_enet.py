"""ENet (EnhanceNet-PAT ×4) with the authors' real weights against an independent NumPy forward.

The reference below is written from the architecture facts (models-spec.md §6) with NumPy only:
3×3 SAME convolutions as nine shifted matrix products in float64, ``np.repeat`` nearest
upsampling, and a Keys (a = -0.75) top-left-aligned bicubic whose weights are computed per
output pixel from the kernel formula. It shares no code with ``vsrbench.baselines.enet`` or
``tfops``; weights are read from ../shared with the project's TF reader (itself tested
against TensorFlow's own dump in test_tfckpt.py).

Regenerate the golden file with ``python tests/test_enet.py --write-golden``.
"""
from __future__ import annotations

import copy
import json
import math
import os
import platform
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from _support.paths import SHARED, shared_path
from _support.spec import keys_cubic_ref
from vsrbench.baselines import MODELS, load_model
from vsrbench.baselines import enet
from vsrbench.baselines.registry import locate_checkpoint
from vsrbench.baselines.tfckpt import _Table, crc32c, mask_crc, read_checkpoint
from vsrbench.baselines.tfops import resize_bicubic_legacy
from vsrbench.core.errors import InputError, WeightsError
from vsrbench.core.frames import to_uint8
from vsrbench.core.io import decode_image, write_frame

GOLDEN = Path(__file__).parent / "golden" / "enet_calendar.json"
GOLDEN_FRAMES = ("0001.png", "0002.png")
GOLDEN_PIXELS = ((0, 0), (100, 200), (287, 359), (575, 719), (333, 42))
MEAN = np.array([0.47614917, 0.45001204, 0.40904046])  # models-spec.md §6
ENET_PARAMS = 852_867


# ------------------------------------------------------------------------------------------
# independent NumPy reference (Keys' cubic written from the formula in test_tfops.py)

def _bicubic_matrix(n: int, scale: int) -> np.ndarray:
    """(n*scale, n) weights: output j samples input position j/scale, taps clamped to the edge."""
    m = np.zeros((n * scale, n))
    for j in range(n * scale):
        x = j / scale
        i0 = math.floor(x)
        for tap in range(-1, 3):
            m[j, min(max(i0 + tap, 0), n - 1)] += keys_cubic_ref(x - (i0 + tap))
    return m


def ref_bicubic(img: np.ndarray, scale: int = 4) -> np.ndarray:
    """(H, W, C) -> (sH, sW, C), TF1 legacy bicubic written from the formula."""
    my, mx = _bicubic_matrix(img.shape[0], scale), _bicubic_matrix(img.shape[1], scale)
    return np.stack([my @ img[:, :, c] @ mx.T for c in range(img.shape[2])], axis=2)


def ref_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3×3 SAME (zero-padded) cross-correlation of (H, W, Cin) with HWIO ``w``, float64."""
    h, wd, _ = x.shape
    xp = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    out = np.broadcast_to(b.astype(np.float64), (h, wd, w.shape[3])).copy()
    for dy in range(3):
        for dx in range(3):
            out += xp[dy:dy + h, dx:dx + wd, :] @ w[dy, dx].astype(np.float64)
    return out


def ref_enet(frame: np.ndarray, v: dict[str, np.ndarray]) -> np.ndarray:
    """The ENet forward in float64: RGB uint8 (H, W, 3) -> (4H, 4W, 3) in [0, 1] units."""
    def conv(h, i):
        name = "generator/Conv" if i == 0 else f"generator/Conv_{i}"
        return ref_conv(h, v[f"{name}/weights"], v[f"{name}/biases"])

    relu = lambda t: np.maximum(t, 0.0)  # noqa: E731
    up2 = lambda t: np.repeat(np.repeat(t, 2, axis=0), 2, axis=1)  # noqa: E731
    x = frame.astype(np.float64) / 255.0 - MEAN
    h = relu(conv(x, 0))
    for k in range(10):
        h = h + conv(relu(conv(h, 2 * k + 1)), 2 * k + 2)
    h = relu(conv(up2(h), 21))
    h = relu(conv(up2(h), 22))
    h = relu(conv(h, 23))
    return conv(h, 24) + ref_bicubic(x) + MEAN


# ------------------------------------------------------------------------------------------
# fixtures
@pytest.fixture(scope="module")
def weights_path() -> Path:
    return shared_path("weights", "enhancenet", "weights")


@pytest.fixture(scope="module")
def variables(weights_path) -> dict[str, np.ndarray]:
    return read_checkpoint(weights_path)


@pytest.fixture(scope="module")
def model(weights_path) -> enet.ENetModel:
    return load_model("enet", weights=weights_path)


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    """Three real 24×32 LR crops from calendar frames 1..3."""
    folder = shared_path("data", "calendar")
    return [decode_image(folder / f"000{i}.png")[40:64, 60:92] for i in (1, 2, 3)]


# ------------------------------------------------------------------------------------------
# agreement with the reference
def test_forward_matches_numpy_reference(model, variables, crops):
    got = next(model.upscale([crops[0]]))
    want = ref_enet(crops[0], variables)
    assert got.dtype == np.float32 and got.shape == want.shape == (96, 128, 3)
    assert np.abs(got - want).max() < 1e-5
    assert want.min() < 0 or want.max() > 1  # the output is not clipped


def test_zero_last_conv_gives_the_bicubic_skip_exactly(model, crops):
    net = copy.deepcopy(model.net)
    with torch.no_grad():
        net.convs[24].weight.zero_()
        net.convs[24].bias.zero_()
    x = torch.from_numpy(crops[1].astype(np.float32) / np.float32(255)).permute(2, 0, 1)[None]
    mean = torch.tensor(enet.MEAN).view(1, 3, 1, 1)
    with torch.inference_mode():
        out = net(x)
        skip = resize_bicubic_legacy(x - mean, 4) + mean
    assert torch.equal(out, skip)
    ref = ref_bicubic(crops[1].astype(np.float64) / 255 - MEAN) + MEAN
    assert np.abs(out[0].permute(1, 2, 0).numpy() - ref).max() < 1e-6


def test_parameter_count_and_variable_mapping(model, variables):
    assert sum(p.numel() for p in model.net.parameters()) == ENET_PARAMS
    assert enet.expected_variables() == {n: a.shape for n, a in variables.items()}
    kernel = variables["generator/Conv_7/weights"]  # HWIO -> OIHW
    assert np.array_equal(model.net.convs[7].weight.detach().numpy()[5, 9, 2, 1], kernel[2, 1, 9, 5])


def test_output_shapes_for_mixed_frame_sizes(model, crops):
    small = crops[0][:8, :12]
    outs = list(model.upscale([crops[0], small, crops[1]]))
    assert [o.shape for o in outs] == [(96, 128, 3), (32, 48, 3), (96, 128, 3)]
    assert np.array_equal(outs[1], next(model.upscale([small])))


def test_batch_and_chunk_invariance(model, crops):
    one = list(enet.ENetModel(model.net, chunk=1).upscale(crops))
    two = list(enet.ENetModel(model.net, chunk=2).upscale(iter(crops)))
    assert len(one) == len(two) == 3
    for a, b in zip(one, two):  # batched convolutions round differently (7.5e-7 measured here)
        assert np.abs(a - b).max() < 5e-6


def test_uint8_and_float_inputs_agree(model, crops):
    as_float = crops[2].astype(np.float32) / np.float32(255)
    assert np.array_equal(next(model.upscale([crops[2]])), next(model.upscale([as_float])))


# ------------------------------------------------------------------------------------------
# golden file (full 180×144 calendar frames)
def _summary(out: np.ndarray) -> dict:
    return {
        "mean": out.mean(axis=(0, 1), dtype=np.float64).tolist(),
        "std": out.std(axis=(0, 1), dtype=np.float64).tolist(),
        "min": float(out.min()),
        "max": float(out.max()),
        "pixels": {f"{r},{c}": out[r, c].astype(np.float64).tolist() for r, c in GOLDEN_PIXELS},
    }


#: The 8-bit output may differ from the golden PNG by one level where a value sits on a rounding
#: boundary: float32 convolutions round differently on another CPU/BLAS (the NumPy float64 reference
#: itself rounds 16 and 20 of the 1.24 M values of the two frames otherwise; see the golden file).
#: More than this share of values (124 per frame), or any by more than one level, is a real change.
MAX_ONE_LEVEL_SHARE = 1e-4


def golden_png(name: str) -> Path:
    return GOLDEN.parent / f"enet_calendar_{Path(name).stem}_uint8.png"


def compare_uint8(got: np.ndarray, want: np.ndarray) -> tuple[int, int]:
    """(largest |difference| in levels, number of values that differ) of two uint8 frames."""
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    return int(diff.max()), int(np.count_nonzero(diff))


def _environment() -> dict:
    return {"torch": torch.__version__, "machine": platform.machine(), "device": "cpu"}


@pytest.mark.slow
def test_golden_calendar_frames(model):
    golden = json.loads(GOLDEN.read_text())
    folder = shared_path("data", "calendar")
    outs = list(model.upscale(decode_image(folder / name) for name in GOLDEN_FRAMES))
    assert sorted(golden["frames"]) == sorted(GOLDEN_FRAMES)
    for name, out in zip(GOLDEN_FRAMES, outs):
        want, got = golden["frames"][name], _summary(out)
        assert out.shape == (576, 720, 3)
        np.testing.assert_allclose(got["mean"], want["mean"], atol=1e-6, rtol=0)
        np.testing.assert_allclose(got["std"], want["std"], atol=1e-6, rtol=0)
        np.testing.assert_allclose([got["min"], got["max"]], [want["min"], want["max"]], atol=1e-5, rtol=0)
        for key, value in want["pixels"].items():
            np.testing.assert_allclose(got["pixels"][key], value, atol=1e-5, rtol=0)
        # the saved 8-bit frame: equal but for single-level flips on rounding boundaries
        largest, n_diff = compare_uint8(to_uint8(out), decode_image(golden_png(name)))
        assert largest <= 1, f"{name}: a value moved by {largest} levels"
        assert n_diff <= MAX_ONE_LEVEL_SHARE * out.size, f"{name}: {n_diff} values differ by one level"


def test_uint8_golden_comparison_tolerates_rounding_flips_only():
    """The rule of the golden check: one-level flips on a few values pass; a real change does not."""
    rng = np.random.default_rng(0)
    want = rng.integers(1, 255, size=(576, 720, 3), dtype=np.uint8)
    got = want.copy()
    flat = got.reshape(-1)
    flat[rng.choice(flat.size, 100, replace=False)] += 1  # rounding-boundary flips
    largest, n = compare_uint8(got, want)
    assert largest == 1 and n == 100 <= MAX_ONE_LEVEL_SHARE * want.size
    got[10, 10, 0] = want[10, 10, 0] + 2  # a value that really moved
    assert compare_uint8(got, want)[0] == 2
    shifted = np.clip(want.astype(np.int16) + 1, 0, 255).astype(np.uint8)  # a systematic change of one level
    assert compare_uint8(shifted, want)[1] > MAX_ONE_LEVEL_SHARE * want.size


def write_golden() -> None:
    """Run ENet and the NumPy reference on the golden frames and write GOLDEN (slow: minutes)."""
    weights = SHARED / "weights" / "enhancenet" / "weights"
    variables = read_checkpoint(weights)
    model = load_model("enet", weights=weights)
    frames = {}
    for name in GOLDEN_FRAMES:
        frame = decode_image(SHARED / "data" / "calendar" / name)
        out = next(model.upscale([frame]))
        ref = ref_enet(frame, variables)
        diff = float(np.abs(out - ref).max())
        if diff >= 1e-5:
            raise SystemExit(f"{name}: torch and the NumPy reference differ by {diff:.3g}; golden not written")
        _, flips = compare_uint8(to_uint8(out), to_uint8(ref))
        write_frame(golden_png(name), to_uint8(out))
        frames[name] = {**_summary(out), "reference_max_abs_diff": diff, "uint8_png": golden_png(name).name,
                        "uint8_values_differing_from_reference": flips}
    golden = {
        "what": "ENet-PAT x4 on real calendar LR frames (180x144 -> 720x576), float output in [0, 1] units, "
                "unclipped; pixels are [row, col] -> RGB; uint8_png is vsrbench.core.frames.to_uint8(output) saved as PNG "
                "(a test allows single-level flips on rounding boundaries, see MAX_ONE_LEVEL_SHARE), and "
                "uint8_values_differing_from_reference counts the values where the NumPy reference rounds otherwise",
        "produced_by": "python tests/test_enet.py --write-golden",
        "implementation": "vsrbench.baselines.enet.ENet (PyTorch, float32, CPU) with the authors' weights file "
                          f"(sha256 {enet.CHECKPOINT.sha256}) read by vsrbench.baselines.tfckpt",
        "checked_by": "ref_enet in tests/test_enet.py (NumPy float64, no shared code) on the same full frames: "
                      "max |torch - reference| per frame in reference_max_abs_diff (< 1e-5 required)",
        "inputs": "../shared/data/calendar (Vid4 calendar LR as in the TecoGAN repository)",
        "environment": _environment(),
        "frames": frames,
    }
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {GOLDEN}: " + ", ".join(f"{n} diff {f['reference_max_abs_diff']:.2e}" for n, f in frames.items()))


# ------------------------------------------------------------------------------------------
# speed
@pytest.mark.slow
def test_benchmark_frames_per_second_cpu(benchmark, model):
    frame = decode_image(shared_path("data", "calendar") / "0001.png")
    out = benchmark.pedantic(lambda: next(model.upscale([frame])), rounds=1, iterations=1, warmup_rounds=0)
    assert out.shape == (576, 720, 3)


# ------------------------------------------------------------------------------------------
# weights look-up and errors (messages pinned)
def test_registered_with_checkpoint_data():
    spec = MODELS["enet"]
    ckpt = spec.checkpoints[0]
    assert (spec.scale, spec.kind, ckpt.filename, ckpt.format) == (4, "sisr", "weights", "tf-v1")
    assert ckpt.sha256 == "4250b3dc5e69c5bd625e90543fd588ce2fff88510f874f9e9394c48c44b96434"
    assert ckpt.licence == "CC BY-NC-ND 4.0" and "github.com/msmsajjadi/EnhanceNet-Code" in ckpt.source
    assert "PIL Image.ANTIALIAS" in ckpt.note


@pytest.mark.parametrize("layout", ["enhancenet/weights", "enhancenet.ckpt"])
def test_found_under_vsrbench_home(weights_path, layout):
    target = Path(os.environ["VSRBENCH_HOME"]) / layout
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(weights_path)
    assert locate_checkpoint(enet.CHECKPOINT) == target
    assert isinstance(load_model("enet"), enet.ENetModel)


def test_folder_holding_weights_is_accepted(weights_path, tmp_path):
    (tmp_path / "weights").symlink_to(weights_path)
    assert locate_checkpoint(enet.CHECKPOINT, tmp_path) == tmp_path / "weights"


def test_missing_weights_message():
    with pytest.raises(WeightsError, match=r"ENet weights not found \(searched: .*enhancenet/weights, "
                                           r".*enhancenet.ckpt.*\); get the file 'weights' from "
                                           r"https://github.com/msmsajjadi/EnhanceNet-Code .* and place it as "
                                           r".*enhancenet/weights \(or set VSRBENCH_HOME\), or pass its path"):
        load_model("enet")


def test_wrong_explicit_path_message(tmp_path):
    with pytest.raises(WeightsError, match=r"ENet weights not found at the given path '.*nope' \(expected the file "
                                           r"itself, a folder holding 'weights', or a TF checkpoint prefix\); the "
                                           r"authors publish it at https://github.com/msmsajjadi/EnhanceNet-Code"):
        load_model("enet", weights=tmp_path / "nope")


def test_tecogan_checkpoint_names_the_missing_variables():
    prefix = shared_path("fixtures", "tf_checkpoint_v2") / "model"
    with pytest.raises(WeightsError, match=r"'.*model' is not an EnhanceNet \(ENet\) checkpoint: missing 50 of its "
                                           r"50 variables \(generator/Conv/biases, generator/Conv/weights, "
                                           r"generator/Conv_1/biases, .* and 44 more\); it holds "
                                           r"fnet/autoencode_unit/output_stage/conv2/Conv/biases, .* and 5 more$"):
        load_model("enet", weights=prefix)


def test_wrong_shape_message(variables):
    bad = dict(variables, **{"generator/Conv_3/weights": np.zeros((3, 3, 64, 32), np.float32)})
    with pytest.raises(WeightsError, match=r"the checkpoint has ENet variables of the wrong shape: "
                                           r"generator/Conv_3/weights \(3, 3, 64, 32\) \(expected \(3, 3, 64, 64\)\)"):
        enet.load_tf_variables(enet.ENet(), bad)


def _resealed_copy_with_one_weight_changed(src: Path, dst: Path) -> None:
    """A valid V1 checkpoint differing from ``src`` in one float (its block crc recomputed)."""
    data = bytearray(src.read_bytes())
    offset, size = _Table(src).handles[-1]  # the last data block
    data[offset + size // 2] ^= 0x01  # low mantissa bit of some float of that block
    data[offset + size + 1: offset + size + 5] = mask_crc(crc32c(bytes(data[offset: offset + size + 1]))).to_bytes(4, "little")
    dst.write_bytes(bytes(data))


def test_sha256_mismatch_and_opt_out(weights_path, variables, tmp_path):
    other = tmp_path / "weights"
    _resealed_copy_with_one_weight_changed(weights_path, other)
    with pytest.raises(WeightsError, match=r"ENet weights '.*weights' hold the right variables but have sha256 "
                                           r"[0-9a-f]{64}, expected 4250b3dc5e69c5bd625e90543fd588ce2fff88510f874f9e9394c48c44b96434 "
                                           r"\(the authors' release\); pass check_sha256=False to load other ENet weights"):
        load_model("enet", weights=other)
    changed = read_checkpoint(other)
    assert sum(not np.array_equal(changed[n], variables[n]) for n in variables) == 1
    assert isinstance(load_model("enet", weights=other, check_sha256=False), enet.ENetModel)


@pytest.mark.parametrize("chunk", [0, -1, 1.5, True, "2"])
def test_bad_chunk_message(model, chunk):
    with pytest.raises(InputError, match=r"chunk: expected a positive integer \(frames per forward pass\), got "):
        enet.ENetModel(model.net, chunk=chunk)


def test_bad_device_message(model):
    with pytest.raises(InputError, match=r"device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'"):
        enet.ENetModel(model.net, device="gpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match=r"device 'cuda' requested but no CUDA device is available"):
            enet.ENetModel(model.net, device="cuda")


def test_bad_frames_messages(model):
    with pytest.raises(InputError, match=r"frame 1: expected an RGB array of shape \(H, W, 3\), got shape \(8, 8\)"):
        list(model.upscale([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8)]))
    with pytest.raises(InputError, match=r"frame 0: expected uint8 or float in \[0, 1\], got dtype int16"):
        list(model.upscale([np.zeros((8, 8, 3), np.int16)]))
    with pytest.raises(InputError, match=r"ENet input: expected a tensor of shape \(N, 3, H, W\), got \(1, 4, 8, 8\)"):
        model.net(torch.zeros(1, 4, 8, 8))


@pytest.mark.gpu
def test_cuda_matches_cpu(model, crops):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device; none is available here")
    gpu = enet.ENetModel(copy.deepcopy(model.net), device="cuda")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    assert np.abs(next(gpu.upscale([crops[0]])) - next(model.upscale([crops[0]]))).max() < 1e-5


if __name__ == "__main__":
    if sys.argv[1:] != ["--write-golden"]:
        raise SystemExit("usage: python tests/test_enet.py --write-golden")
    write_golden()
