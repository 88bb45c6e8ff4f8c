"""The bicubic baselines, ``vsrbench upscale``, ``vsrbench models`` and the progress reporter.

The bicubic models are checked against :mod:`vsrbench.baselines.resize` (itself tested against
PIL, a MATLAB imresize.m loop and hand-computed taps in test_resize.py); the CLI output is checked
pixel by pixel against ``imresize_matlab`` rounded half to even and clipped, computed here.
"""
from __future__ import annotations

import doctest
import io
import re
import time
import os

import cv2
import numpy as np
import pytest
import torch

from vsrbench.baselines import MODELS, Checkpoint, ModelSpec, SRModel, load_model
from vsrbench.baselines.resize import (
    imresize_matlab,
    resize_bicubic_cv2,
    resize_bicubic_tf_legacy,
    resize_bicubic_torch,
)
from vsrbench.cli import main
from vsrbench.catalog.listings import render_models
from vsrbench.core.errors import InputError
from vsrbench.core.io import decode_image
from vsrbench.core.progress import Progress
from vsrbench.core.weights import find_weights, sha256sum


# ----------------------------------------------------------------------------- helpers
def write_frames(folder, rng, names=("im1.png", "im2.png", "im10.png"), hw=(12, 16)):
    folder.mkdir(parents=True, exist_ok=True)
    frames = {}
    for n in names:
        frames[n] = rng.integers(0, 256, hw + (3,)).astype(np.uint8)
        cv2.imwrite(str(folder / n), frames[n][:, :, ::-1])
    return frames


def expected_bicubic(lr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(round-half-even-and-clip of MATLAB bicubic x4, mask of pixels that are not exact .5 ties)."""
    exact = imresize_matlab(lr.astype(np.float64), scale=4)
    return np.clip(np.round(exact), 0, 255).astype(np.uint8), np.abs(exact - np.floor(exact) - 0.5) > 1e-6


class CountingVSR(SRModel):
    """A stand-in temporal model: output t = mean of frames 0..t, nearest-neighbour x2; records its inputs."""

    seen: list[int] = []

    def __init__(self, scale=2):
        self.scale = scale

    def upscale(self, frames):
        total, n = 0.0, 0
        for f in frames:
            CountingVSR.seen.append(int(f[0, 0, 0]))
            total, n = total + f.astype(np.float64) / 255.0, n + 1
            yield np.repeat(np.repeat(total / n, 2, axis=0), 2, axis=1).astype(np.float32)


def fake_spec(name, builder, kind="vsr", needs_weights=False, checkpoints=()):
    return ModelSpec(name=name, description=f"test stand-in {name}", builder=builder, scale=2, kind=kind,
                     checkpoints=checkpoints, needs_weights=needs_weights)


# ----------------------------------------------------------------------------- bicubic models
@pytest.mark.parametrize("name, resize", [
    ("bicubic", lambda x: imresize_matlab(x, scale=4)),
    ("bicubic-tf", lambda x: resize_bicubic_tf_legacy(x, 4)),
    ("bicubic-torch", lambda x: resize_bicubic_torch(x, scale=4)),
    ("bicubic-cv2", lambda x: resize_bicubic_cv2(x, scale=4)),
])
def test_bicubic_models_yield_unclipped_float32_in_unit_range(rng, name, resize):
    spec = MODELS[name]
    assert not spec.needs_weights and spec.kind == "sisr" and spec.scale == 4
    frames = [rng.integers(0, 256, (8, 10, 3)).astype(np.uint8) for _ in range(2)]
    outs = list(load_model(name).upscale(iter(frames)))
    assert len(outs) == 2
    for lr, hr in zip(frames, outs):
        assert hr.dtype == np.float32 and hr.shape == (32, 40, 3)
        np.testing.assert_allclose(hr, resize(lr.astype(np.float64)) / 255.0, rtol=0, atol=1e-6)
    assert min(o.min() for o in outs) < 0 or max(o.max() for o in outs) > 1  # overshoot is kept


def test_bicubic_accepts_float_frames_in_unit_range_and_other_scales(rng):
    lr = rng.uniform(0, 1, (6, 7, 3))
    hr = next(load_model("bicubic", scale=2).upscale([lr]))
    np.testing.assert_allclose(hr, imresize_matlab(lr, scale=2), rtol=0, atol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: load_model("bicubic", weights="w.pth"), "model 'bicubic' has no weights, got weights='w.pth'"),
    (lambda: load_model("bicubic", scale=0), "scale: expected an integer >= 1, got 0"),
    (lambda: next(load_model("bicubic").upscale([np.zeros((4, 4))])),
     "bicubic input frame 0: expected an RGB array of shape (H, W, 3), got shape (4, 4)"),
])
def test_bicubic_errors(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value) == message


# ----------------------------------------------------------------------------- upscale CLI
def test_upscale_bicubic_writes_same_names_and_matlab_values(tmp_path, rng, capsys):
    frames = write_frames(tmp_path / "lr", rng)
    assert main(["upscale", "--model", "bicubic", "--input", str(tmp_path / "lr"),
                 "--output", str(tmp_path / "hr"), "--device", "cpu"]) == 0
    assert sorted(p.name for p in (tmp_path / "hr").iterdir()) == sorted(frames)
    for name, lr in frames.items():
        got = decode_image(tmp_path / "hr" / name)
        want, not_tie = expected_bicubic(lr)
        assert got.shape == (48, 64, 3)
        np.testing.assert_array_equal(got[not_tie], want[not_tie])
    assert "upscale bicubic on cpu: 3 frames in " in capsys.readouterr().err


def test_upscale_resumes_and_keeps_existing_frames(tmp_path, rng, capsys):
    frames = write_frames(tmp_path / "lr", rng)
    out = tmp_path / "hr"
    out.mkdir()
    sentinel = np.full((5, 5, 3), 7, np.uint8)
    cv2.imwrite(str(out / "im2.png"), sentinel)
    before = os.stat(out / "im2.png").st_mtime_ns
    args = ["upscale", "--model", "bicubic", "--input", str(tmp_path / "lr"), "--output", str(out)]
    assert main(args) == 0
    assert os.stat(out / "im2.png").st_mtime_ns == before
    np.testing.assert_array_equal(decode_image(out / "im2.png"), sentinel)
    assert decode_image(out / "im1.png").shape == (48, 64, 3)
    err = capsys.readouterr().err
    assert f"upscale: 1 of 3 frames already in {out}; kept (use --overwrite to recompute them)" in err
    assert "2 frames in" in err  # a frame-by-frame model only processes the missing ones
    assert main(args + ["--overwrite"]) == 0
    np.testing.assert_array_equal(decode_image(out / "im2.png"), expected_bicubic(frames["im2.png"])[0])


def test_upscale_dataset_of_sequences_and_temporal_model_resume(tmp_path, rng, monkeypatch, capsys):
    monkeypatch.setitem(MODELS, "counting-vsr", fake_spec("counting-vsr", lambda weights=None, device="cpu": CountingVSR()))
    for seq in ("a", "b"):
        for i in range(3):
            (tmp_path / "lr" / seq).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(tmp_path / "lr" / seq / f"{i}.png"), np.full((4, 5, 3), 10 * i + (seq == "b"), np.uint8))
    out = tmp_path / "hr"
    (out / "a").mkdir(parents=True)
    cv2.imwrite(str(out / "a" / "2.png"), np.zeros((8, 10, 3), np.uint8))  # last frame of 'a' exists
    CountingVSR.seen = []
    assert main(["upscale", "--model", "counting-vsr", "--input", str(tmp_path / "lr"), "--output", str(out)]) == 0
    # the recurrent model still saw every frame of 'a' (its state needs them) but frame 2 was kept
    assert CountingVSR.seen == [0, 10, 20, 1, 11, 21]
    assert decode_image(out / "a" / "2.png").max() == 0
    assert decode_image(out / "a" / "1.png")[0, 0, 0] == 5  # mean of 0 and 10
    assert sorted(p.name for p in (out / "b").iterdir()) == ["0.png", "1.png", "2.png"]
    assert decode_image(out / "b" / "2.png")[0, 0, 0] == 11  # mean of 1, 11, 21
    assert "6 frames in" in capsys.readouterr().err


def test_upscale_a_video(tmp_path, rng):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (16, 12))
    for _ in range(2):
        writer.write(rng.integers(0, 256, (12, 16, 3)).astype(np.uint8))
    writer.release()
    assert main(["upscale", "--model", "bicubic-cv2", "--input", str(path), "--output", str(tmp_path / "hr")]) == 0
    assert sorted(p.name for p in (tmp_path / "hr").iterdir()) == ["00000.png", "00001.png"]


def test_upscale_unknown_model_is_one_line(tmp_path, rng, capsys):
    write_frames(tmp_path / "lr", rng)
    assert main(["upscale", "--model", "bicubc", "--input", str(tmp_path / "lr"), "--output", str(tmp_path / "hr")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vsrbench upscale: error: unknown model 'bicubc'; did you mean 'bicubic'? (known: ")
    assert err.count("\n") == 1 and not (tmp_path / "hr").exists()


def test_upscale_missing_weights_is_one_line_naming_the_file(tmp_path, rng, monkeypatch, capsys):
    def build(weights=None, device="cpu"):
        find_weights("fake_x2.pth", path=weights, source="https://example.org/fake")
        raise AssertionError("not reached")

    monkeypatch.setitem(MODELS, "fake-needs-weights", fake_spec("fake-needs-weights", build, needs_weights=True))
    write_frames(tmp_path / "lr", rng)
    base = ["upscale", "--model", "fake-needs-weights", "--input", str(tmp_path / "lr"), "--output", str(tmp_path / "hr")]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert err.startswith("vsrbench upscale: error: weights file 'fake_x2.pth' not found (searched: ")
    assert "get it from https://example.org/fake" in err and err.count("\n") == 1
    assert main(base + ["--weights", str(tmp_path / "nope.pth")]) == 2
    assert capsys.readouterr().err == (f"vsrbench upscale: error: weights file 'fake_x2.pth' not found at the given "
                                       f"path {str(tmp_path / 'nope.pth')!r}; the authors publish it at "
                                       "https://example.org/fake\n")


@pytest.mark.parametrize("extra, message", [
    (["--chunk", "4"], "--chunk: model 'bicubic' does not take a chunk size"),
    (["--chunk", "0"], "--chunk: expected a positive number of frames, got 0"),
    (["--device", "cuda"], "device 'cuda' requested but no CUDA device is available (use 'cpu' or 'auto')"),
])
def test_upscale_option_errors(tmp_path, rng, monkeypatch, capsys, extra, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    write_frames(tmp_path / "lr", rng)
    assert main(["upscale", "--model", "bicubic", "--input", str(tmp_path / "lr"), "--output", str(tmp_path / "hr")]
                + extra) == 2
    assert capsys.readouterr().err == f"vsrbench upscale: error: {message}\n"


def test_upscale_passes_chunk_to_models_that_take_it(tmp_path, rng, monkeypatch):
    got = {}

    def build(weights=None, device="cpu", chunk=1):
        got.update(chunk=chunk, device=device)
        return CountingVSR()

    monkeypatch.setitem(MODELS, "chunky", fake_spec("chunky", build))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    write_frames(tmp_path / "lr", rng)
    assert main(["upscale", "--model", "chunky", "--chunk", "3", "--input", str(tmp_path / "lr"),
                 "--output", str(tmp_path / "hr")]) == 0
    assert got == {"chunk": 3, "device": "cpu"}  # --device auto without CUDA


@pytest.mark.parametrize("extra, said", [(-1, "2"), (1, "more")])
def test_upscale_model_yielding_a_wrong_number_of_frames_fails_clearly(tmp_path, rng, monkeypatch, capsys, extra, said):
    class Miscounting(SRModel):
        def upscale(self, frames):
            outs = list(CountingVSR().upscale(frames))
            yield from (outs[:extra] if extra < 0 else outs + outs[:extra])

    monkeypatch.setitem(MODELS, "miscounting", fake_spec("miscounting", lambda weights=None, device="cpu": Miscounting()))
    write_frames(tmp_path / "lr", rng)
    assert main(["upscale", "--model", "miscounting", "--input", str(tmp_path / "lr"),
                 "--output", str(tmp_path / "hr")]) == 1
    assert capsys.readouterr().err.endswith(f"vsrbench upscale: error: RuntimeError: model 'miscounting' yielded "
                                            f"{said} frames for the 3 input frames of sequence 'lr'\n")


# ----------------------------------------------------------------------------- models CLI
def test_models_lists_bicubic_and_other_registered_models(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["MODEL", "KIND", "SCALE", "WEIGHTS", "DEGRADATION", "DESCRIPTION"]
    row = next(line for line in lines if line.startswith("bicubic "))
    assert row.split()[:5] == ["bicubic", "sisr", "x4", "none", "-"]
    for name in MODELS:
        assert any(line.startswith(name + " ") for line in lines), name


def test_models_reports_local_checkpoints(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("VSRBENCH_HOME", str(home))
    (home / "good.pth").write_bytes(b"weights")
    (home / "tf.data-00000-of-00001").write_bytes(b"tf")
    good = Checkpoint("good.pth", "torch-state-dict", "https://example.org/good", licence="MIT",
                      sha256=sha256sum(home / "good.pth"), published=(("PyTorch TecoGAN", "BD"),))
    bad = Checkpoint("bad.pth", "torch-state-dict", "https://example.org/bad", sha256="0" * 64)
    tf = Checkpoint("tf.data-00000-of-00001", "tf-v2", "https://example.org/tf", companions=("tf.index",))
    models = {"fake": fake_spec("fake", None, needs_weights=True, checkpoints=(good, bad, tf))}
    text = render_models(models, verify=True)
    assert f"    good.pth [torch-state-dict]  sha256 {good.sha256[:12]}  licence: MIT  present: {home / 'good.pth'}; sha256 ok" in text
    assert ("        published PyTorch TecoGAN, vid4 BD (sigma 1.5): psnr 26.01, lpips 0.152, tof 0.194, tlp 0.515 "
            "(averaging unknown, convention tecogan; skycrapers/TecoGAN-PyTorch:resources/benchmark.png)") in text
    assert "PyTorch TecoGAN, vid4 BI" not in text  # only the BD rows belong to these weights
    assert "    bad.pth [torch-state-dict]  sha256 000000000000  licence: unknown  missing" in text
    assert f"present: {home / 'tf.data-00000-of-00001'}; incomplete, missing tf.index; sha256 not known" in text
    (home / "bad.pth").write_bytes(b"other")
    assert "sha256 MISMATCH" in render_models(models, verify=True)
    assert "sha256 ok" not in render_models(models)  # no hashing without --verify


# ----------------------------------------------------------------------------- progress
def test_progress_writes_plain_lines_off_a_terminal(monkeypatch):
    monkeypatch.delenv("VSRBENCH_PROGRESS", raising=False)
    out = io.StringIO()
    with Progress(4, "run", stream=out, interval=0) as p:
        for _ in range(4):
            time.sleep(0.01)
            p.update()
    lines = out.getvalue().splitlines()
    assert len(lines) == 5, lines
    for k, line in enumerate(lines[:4], 1):
        assert re.fullmatch(rf"run: {k}/4 frames \({25 * k}%\), \d+\.\d\d frames/s, ETA \d\d:\d\d", line), line
    assert re.fullmatch(r"run: 4 frames in \d+\.\d s \(\d+\.\d\d frames/s\)", lines[4])
    out = io.StringIO()
    with Progress(4, "slow", stream=out, interval=3600) as p:  # no line due within the interval
        p.update(4)
    assert out.getvalue().startswith("slow: 4 frames in ") and out.getvalue().count("\n") == 1


def test_progress_off_leaves_only_the_summary(monkeypatch):
    monkeypatch.setenv("VSRBENCH_PROGRESS", "0")
    out = io.StringIO()
    with Progress(5, "quiet", stream=out, interval=0) as p:
        p.update(5)
    assert out.getvalue().startswith("quiet: 5 frames in ") and out.getvalue().count("\n") == 1
    monkeypatch.setenv("VSRBENCH_PROGRESS", "1")
    with Progress(5, "loud", stream=io.StringIO()) as p:
        assert p.enabled


def test_progress_redraws_a_tqdm_bar_in_place_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    with Progress(3, "tty", stream=out, interval=0) as p:
        time.sleep(0.01)
        p.update()
    text = out.getvalue()
    assert text.startswith("\rtty:") and "1/3 frames [" in text and "ETA " in text and "frames/s]" in text
    assert "\n" not in text[:-1] and text.rsplit("\r", 1)[1].startswith("tty: 1 frames in ")


def test_progress_docstring_example():
    import vsrbench.core.progress

    result = doctest.testmod(vsrbench.core.progress)
    assert result.attempted > 0 and result.failed == 0


def test_benchmark_bicubic_model_frames_per_second(benchmark, rng):
    """frames/s of the 'bicubic' model on Vid4-size LR frames (144x180 -> 576x720)."""
    frames = [rng.integers(0, 256, (144, 180, 3)).astype(np.uint8) for _ in range(4)]
    model = load_model("bicubic")
    outs = benchmark(lambda: list(model.upscale(frames)))
    assert len(outs) == 4 and outs[0].shape == (576, 720, 3)
