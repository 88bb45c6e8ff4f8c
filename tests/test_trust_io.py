"""Frame I/O hardening and "no silent wrong numbers" warnings (the tracker's "trust" issue).

Each test pins one case: the one-line warning mechanism of the CLI, the size rule's warning,
gray/alpha/video inputs, libpng/libjpeg noise on stderr, long file names, the umask, profile
options, OSErrors in I/O, and float frames on the wrong scale.
"""
from __future__ import annotations

import warnings

import pytest

from vsrbench import cli
from vsrbench.core.errors import VsrbenchWarning


# ------------------------------------------------------------------ 1. the warning mechanism

def test_cli_shows_each_vsrbench_warning_once_as_one_line(capsys):
    def fake_run(args):
        for _ in range(3):
            warnings.warn("sequence 'a': frames are\n grayscale", VsrbenchWarning, stacklevel=2)
        warnings.warn("sequence 'b': frames are grayscale", VsrbenchWarning, stacklevel=2)
        return 0

    parser = cli.build_parser()
    args = parser.parse_args(["models"])
    args._run = fake_run
    with cli.one_line_warnings(args.command):
        assert fake_run(args) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "vsrbench models: warning: sequence 'a': frames are grayscale",
        "vsrbench models: warning: sequence 'b': frames are grayscale",
    ]


def test_cli_main_routes_warnings_through_one_line_display(monkeypatch, capsys):
    import vsrbench.commands.models as models_cmd

    def noisy_run(args):
        warnings.warn("something to know", VsrbenchWarning, stacklevel=2)
        warnings.warn("something to know", VsrbenchWarning, stacklevel=2)
        return 0

    monkeypatch.setattr(models_cmd, "run", noisy_run)
    assert cli.main(["models"]) == 0
    err = capsys.readouterr().err
    assert err == "vsrbench models: warning: something to know\n"


def test_vsrbench_warning_is_a_user_warning():
    assert issubclass(VsrbenchWarning, UserWarning)


# ------------------------------------------------------------------ helpers

import os
import stat
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from vsrbench.core.errors import InputError
from vsrbench.evaluate import evaluate_many, evaluate_sequence
from vsrbench.io import FrameSequence, decode_image, open_sequence, write_frame
from vsrbench.metrics import psnr

N, H, W = 5, 64, 80  # 5 frames: TecoGAN's protocol cuts 2 at each end and scores 1


def smooth_frames(rng, n=N, h=H, w=W) -> list[np.ndarray]:
    base = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3)).astype(np.uint8), (7, 7), 2)
    return [np.roll(base, i, axis=1) for i in range(n)]


def vsrbench_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, VsrbenchWarning)]


def write_folder(folder: Path, frames, ext: str = ".png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        write_frame(folder / f"{i:03d}{ext}", f)
    return folder


# ------------------------------------------------------------------ 2. an output larger than GT

SIZE_NOTE = ("output frames are 160x128 but GT is 80x64; the output's top-left 80x64 is scored "
             "(TecoGAN's size rule); is the output at the wrong scale?")


def test_evaluate_sequence_warns_once_per_sequence_when_the_output_is_cut(rng):
    gt = smooth_frames(rng)
    big = [cv2.resize(f, (2 * W, 2 * H), interpolation=cv2.INTER_NEAREST) for f in gt]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        scores = evaluate_sequence(gt, big, metrics=["psnr", "ssim"], device="cpu", name="calendar")
    assert vsrbench_warnings(rec) == [f"sequence 'calendar': {SIZE_NOTE}"]
    # the rule itself is kept: the top-left corner is scored
    want = evaluate_sequence(gt, [b[:H, :W] for b in big], metrics=["psnr"], device="cpu").values("psnr")
    np.testing.assert_allclose(scores.values("psnr"), want, rtol=0, atol=1e-9)


def test_evaluate_many_names_the_method_whose_output_is_cut(rng):
    gt = smooth_frames(rng, n=6)
    big = [cv2.resize(f, (2 * W, 2 * H)) for f in gt]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        evaluate_many(gt, {"ok": gt, "x2": big}, metrics=["psnr"], device="cpu", name="walk")
    assert vsrbench_warnings(rec) == [f"sequence 'walk', method 'x2': {SIZE_NOTE}"]


def test_same_size_outputs_do_not_warn(rng):
    gt = smooth_frames(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error", VsrbenchWarning)
        evaluate_sequence(gt, gt, metrics=["psnr"], device="cpu")
        psnr(gt[0], gt[0])


def test_metric_functions_warn_about_the_cut(rng):
    gt = smooth_frames(rng, n=1)[0]
    big = cv2.resize(gt, (2 * W, 2 * H))
    with pytest.warns(VsrbenchWarning) as rec:
        value = psnr(big, gt)
    assert [str(w.message) for w in rec] == [SIZE_NOTE]
    assert value == pytest.approx(psnr(big[:H, :W], gt), abs=1e-12)
    with pytest.warns(VsrbenchWarning, match=r"^output frames are 80x60 but GT is 80x64; the common top-left "
                                             r"80x60 of both is scored \(size rule crop-both\)"):
        psnr(gt[:60], gt, size_rule="crop-both")


def test_evaluate_cli_prints_the_size_warning_once(tmp_path, rng, capsys):
    gt = smooth_frames(rng, n=6)
    write_folder(tmp_path / "GT" / "calendar", gt)
    write_folder(tmp_path / "PRED" / "calendar", [cv2.resize(f, (2 * W, 2 * H)) for f in gt])
    code = cli.main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"),
                     "--out", str(tmp_path / "res"), "--metrics", "psnr,ssim"])
    err = capsys.readouterr().err
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if "warning" in ln]
    assert lines == [f"vsrbench evaluate: warning: sequence 'calendar': {SIZE_NOTE}"]


# ------------------------------------------------------------------ 3. gray, alpha, 16-bit, video

def _gray_rgba_16(rng, folder: Path, kind: str, frames) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        p = folder / f"{i:03d}.png"
        if kind == "gray":
            Image.fromarray(f[..., 0]).save(p)
        elif kind == "gray-jpg":
            Image.fromarray(f[..., 0]).save(p.with_suffix(".jpg"), quality=95)
        elif kind == "rgba":
            Image.fromarray(np.dstack([f, np.full(f.shape[:2], 128, np.uint8)])).save(p)
        elif kind == "16bit":
            cv2.imwrite(str(p), (f[..., ::-1].astype(np.uint16) * 257))
    return folder


@pytest.mark.parametrize("kind, note", [
    ("gray", "output frames are grayscale (1 channel); scored as RGB with R=G=B"),
    ("gray-jpg", "output frames are grayscale (1 channel); scored as RGB with R=G=B"),
    ("rgba", "output frames have an alpha channel; it is dropped"),
    ("16bit", "output frames are 16-bit; scored after reduction to 8 bits"),
])
def test_stored_layout_is_noted_once_per_sequence_and_numbers_unchanged(tmp_path, rng, kind, note):
    frames = smooth_frames(rng)
    if kind.startswith("gray"):
        frames = [np.repeat(f[..., :1], 3, axis=2) for f in frames]
    gt = write_folder(tmp_path / "gt", frames)
    out = _gray_rgba_16(rng, tmp_path / "out", kind, frames)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        got = evaluate_sequence(open_sequence(gt), open_sequence(out), metrics=["psnr"], device="cpu", name="x")
    assert vsrbench_warnings(rec) == [f"sequence 'x': {note}"]
    # the decoding (cv2.imread IMREAD_COLOR) is unchanged
    for p in sorted(out.iterdir()):
        np.testing.assert_array_equal(decode_image(p), cv2.imread(str(p), cv2.IMREAD_COLOR)[:, :, ::-1])
    if kind != "gray-jpg":  # lossless: the same numbers as the RGB frames
        assert got.values("psnr")[0] == float("inf")


def test_gt_layout_is_noted_as_gt(tmp_path, rng):
    frames = [np.repeat(f[..., :1], 3, axis=2) for f in smooth_frames(rng)]
    gt = _gray_rgba_16(rng, tmp_path / "gt", "gray", frames)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        evaluate_sequence(open_sequence(gt), frames, metrics=["psnr"], device="cpu", name="x")
    assert vsrbench_warnings(rec) == ["sequence 'x': GT frames are grayscale (1 channel); scored as RGB with R=G=B"]


def test_plain_rgb_png_frames_have_no_note(tmp_path, rng):
    assert open_sequence(write_folder(tmp_path / "a", smooth_frames(rng))).input_notes() == []


def test_video_as_pred_is_noted_with_its_codec(tmp_path, rng):
    frames = smooth_frames(rng)
    path = tmp_path / "calendar.avi"
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (W, H))
    if not vw.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG .avi files")
    for f in frames:
        vw.write(f[:, :, ::-1])
    vw.release()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        evaluate_sequence(frames, open_sequence(path), metrics=["psnr"], device="cpu", name="calendar")
    assert vsrbench_warnings(rec) == [
        "sequence 'calendar': output frames are decoded from video 'calendar.avi' (codec MJPG, .avi); lossy video "
        "frames include the compression loss, which the scores then include (use PNG frames to score the frames "
        "themselves)"]
