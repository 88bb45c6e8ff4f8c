"""Frame I/O hardening and "no silent wrong numbers" warnings (the tracker's "trust" issue).

Each test pins one case: the one-line warning mechanism of the CLI, the size rule's warning,
gray/alpha/video inputs, libpng/libjpeg noise on stderr, long file names, the umask, profile
options, OSErrors in I/O, and float frames on the wrong scale.
"""
from __future__ import annotations

import os
import re
import stat
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from vsrbench import cli
from vsrbench.core.errors import InputError, VsrbenchWarning
from vsrbench.evaluate import evaluate_many, evaluate_sequence
from vsrbench.core.io import decode_image, open_sequence, write_frame
from vsrbench.metrics import psnr


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
        scores = evaluate_sequence(big, gt, metrics=["psnr", "ssim"], device="cpu", name="calendar")
    assert vsrbench_warnings(rec) == [f"sequence 'calendar': {SIZE_NOTE}"]
    # the rule itself is kept: the top-left corner is scored
    want = evaluate_sequence([b[:H, :W] for b in big], gt, metrics=["psnr"], device="cpu").values("psnr")
    np.testing.assert_allclose(scores.values("psnr"), want, rtol=0, atol=1e-9)


def test_evaluate_many_names_the_method_whose_output_is_cut(rng):
    gt = smooth_frames(rng, n=6)
    big = [cv2.resize(f, (2 * W, 2 * H)) for f in gt]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        evaluate_many({"ok": gt, "x2": big}, gt, metrics=["psnr"], device="cpu", name="walk")
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
        got = evaluate_sequence(open_sequence(out), open_sequence(gt), metrics=["psnr"], device="cpu", name="x")
    jpeg = ["sequence 'x': output frames are JPEG files, a lossy format: the scores include its compression artefacts "
            "(use PNG frames to score the frames themselves)"] if kind == "gray-jpg" else []  # issue 16 §4
    assert vsrbench_warnings(rec) == [f"sequence 'x': {note}", *jpeg]
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
        evaluate_sequence(frames, open_sequence(gt), metrics=["psnr"], device="cpu", name="x")
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
        evaluate_sequence(open_sequence(path), frames, metrics=["psnr"], device="cpu", name="calendar")
    assert vsrbench_warnings(rec) == [
        "sequence 'calendar': output frames are decoded from video 'calendar.avi' (codec MJPG, .avi); lossy video "
        "frames include the compression loss, which the scores then include (use PNG frames to score the frames "
        "themselves)"]


# ------------------------------------------------------------------ 4. broken PNG/JPEG: no decoder noise on stderr

def _png_bytes(rng) -> bytes:
    ok, buf = cv2.imencode(".png", rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    return buf.tobytes()


DECODE = ("import sys\nfrom vsrbench.core.io import decode_image\nfrom vsrbench.core.errors import InputError\n"
          "try:\n    decode_image(sys.argv[1])\nexcept InputError as e:\n    print(e)\n")
RAW = "import sys, cv2, numpy as np\nprint(cv2.imdecode(np.fromfile(sys.argv[1], np.uint8), cv2.IMREAD_COLOR))\n"


def _run_python(code: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("damage, kind, detail", [
    ("cut", "truncated", r"chunk 'IDAT' at byte 33 needs \d+ bytes, the file ends after \d+"),
    ("no-iend", "truncated", r"the file ends after \d+ bytes, before the IEND chunk"),
    ("crc", "corrupt", r"CRC mismatch in chunk 'IDAT' at byte 33"),
])
def test_broken_png_is_one_line_and_libpng_stays_silent(tmp_path, rng, damage, kind, detail):
    data = _png_bytes(rng)
    if damage == "cut":
        data = data[: len(data) // 2]
    elif damage == "no-iend":
        data = data[:-12]
    else:
        data = bytearray(data)
        data[60] ^= 0xFF
        data = bytes(data)
    p = tmp_path / "Frame 001.png"
    p.write_bytes(data)
    r = _run_python(DECODE, p)
    assert r.stderr == ""  # neither libpng's "libpng error: ..." nor OpenCV's log lines
    assert re.fullmatch(rf"cannot decode frame '{re.escape(str(p))}': {kind} PNG \({detail}\); "
                        r"copy or export the frame again\n", r.stdout), r.stdout


def test_libpng_would_print_without_the_check(tmp_path, rng):
    """The case the check exists for: OpenCV's decoder lets libpng write on stderr."""
    p = tmp_path / "t.png"
    p.write_bytes(_png_bytes(rng)[:-12])
    r = _run_python(RAW, p)
    if "libpng" not in r.stderr:
        pytest.skip(f"this OpenCV build's libpng does not print for a truncated PNG (stderr: {r.stderr!r})")
    assert r.stdout.strip() == "None"


def test_evaluate_cli_names_the_truncated_png_in_one_line(tmp_path, rng):
    gt = smooth_frames(rng)
    write_folder(tmp_path / "GT", gt)
    out = write_folder(tmp_path / "PRED", gt)
    bad = out / "002.png"
    bad.write_bytes(bad.read_bytes()[:100])
    r = _run_python("import sys\nfrom vsrbench.cli import main\nraise SystemExit(main(sys.argv[1:]))",
                    "evaluate", "--gt", tmp_path / "GT", "--pred", out, "--out", tmp_path / "res", "--metrics", "psnr")
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("evaluate: ")]  # progress lines aside
    assert len(lines) == 1 and re.fullmatch(
        rf"vsrbench evaluate: error: cannot decode frame '{re.escape(str(bad))}': truncated PNG \(.*\); "
        r"copy or export the frame again", lines[0]), r.stderr


def test_truncated_jpeg_is_refused_in_one_line(tmp_path, rng):
    ok, buf = cv2.imencode(".jpg", smooth_frames(rng, n=1)[0])
    data = buf.tobytes()
    good, p = tmp_path / "good.jpg", tmp_path / "cut.jpg"
    good.write_bytes(data + b"trailing bytes after the image are allowed")
    assert decode_image(good).shape == (H, W, 3)
    p.write_bytes(data[: len(data) - 40])
    r = _run_python(DECODE, p)
    assert r.stderr == ""
    assert r.stdout == (f"cannot decode frame '{p}': truncated JPEG (no end-of-image marker after the image data "
                        f"(the file ends after {len(data) - 40} bytes)); copy or export the frame again\n")


# ------------------------------------------------------------------ 5. long file names

def test_atomic_write_accepts_a_255_byte_name(tmp_path):
    from vsrbench.core.io import atomic_write_bytes, atomic_write_text

    name = "f" * 250 + ".json"
    assert len(name.encode()) == 255
    atomic_write_text(tmp_path / name, "{}\n")
    assert (tmp_path / name).read_text() == "{}\n"
    write_frame(tmp_path / ("g" * 251 + ".png"), np.zeros((4, 4, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "g" * 251 + ".png"])  # no temp left

    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real(src, dst)

    import vsrbench.core.io as io_mod

    orig = io_mod.os.replace
    io_mod.os.replace = spy
    try:
        atomic_write_bytes(tmp_path / name, b"x")
    finally:
        io_mod.os.replace = orig
    assert re.fullmatch(r"\.vsrb-[A-Za-z0-9_]{8}\.tmp", seen[0]), seen


def test_run_with_a_250_character_sequence_name(tmp_path, rng):
    from vsrbench.runner import run_benchmark
    from vsrbench.results.loading import load_results

    seq = "s" * 250
    frames = smooth_frames(rng, n=6, h=48, w=64)
    write_folder(tmp_path / "GT" / seq, frames)
    write_folder(tmp_path / "LR" / seq, [f[::4, ::4] for f in frames])
    (tmp_path / "my_sr.py").write_text("import numpy as np\n\ndef nearest(frames):\n"
                                       "    return [np.repeat(np.repeat(f, 4, axis=0), 4, axis=1) for f in frames]\n")
    (tmp_path / "b.toml").write_text('protocol = "basicsr-rgb"\nmetrics = ["psnr"]\n[datasets.syn]\ngt = "GT"\n'
                                     'lr = "LR"\nscale = 4\n[methods.B]\ncallable = "my_sr.py:nearest"\n')
    summary = run_benchmark(tmp_path / "b.toml", tmp_path / "res", device="cpu", progress=False)
    assert summary.ok and summary.scored == [("B", "syn", seq)], summary.failed
    assert set(load_results(tmp_path / "res").sequence) == {seq}
    assert (tmp_path / "res" / "outputs" / "B" / "syn" / seq / "000.png").is_file()


# ------------------------------------------------------------------ 6. the umask decides the mode

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, umask, mode):
    from vsrbench.core.io import atomic_write_text

    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "table.md", "| a |\n")
        write_frame(tmp_path / "frame.png", np.zeros((4, 4, 3), np.uint8))
    finally:
        os.umask(old)
    for name in ("table.md", "frame.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def test_a_figure_follows_the_umask_in_a_fresh_process(tmp_path):
    code = ("import os, sys\nos.umask(0o022)\nimport matplotlib\nmatplotlib.use('Agg')\n"
            "import matplotlib.pyplot as plt\nfrom vsrbench.visual.plots import save_figure\n"
            "fig = plt.figure()\nsave_figure(fig, sys.argv[1], 'fig', ('png',))\n")
    r = _run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((tmp_path / "fig.png").stat().st_mode) == 0o644


# ------------------------------------------------------------------ 8. OSErrors in I/O are one line naming the file

def test_a_read_only_folder_names_the_target_not_the_temp_file(tmp_path, monkeypatch):
    import errno
    import tempfile as tempfile_mod

    from vsrbench.core.io import atomic_write_text

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".frames.csv.abc.tmp"))

    monkeypatch.setattr(tempfile_mod, "mkstemp", read_only)
    with pytest.raises(InputError) as e:
        atomic_write_text(tmp_path / "frames.csv", "x\n")
    assert str(e.value) == f"cannot write '{tmp_path / 'frames.csv'}': read-only file system"


def test_evaluate_cli_read_only_out_is_one_line(tmp_path, rng, monkeypatch, capsys):
    import errno
    import tempfile as tempfile_mod

    frames = smooth_frames(rng)
    write_folder(tmp_path / "GT", frames)
    write_folder(tmp_path / "PRED", frames)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile_mod, "mkstemp", read_only)
    code = cli.main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"),
                     "--out", str(tmp_path / "res"), "--metrics", "psnr"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("evaluate: ")]
    assert code == 2
    assert err == [f"vsrbench evaluate: error: cannot write '{tmp_path / 'res' / 'frames.csv'}': read-only file system"]


def test_a_frame_that_is_a_folder_is_one_line(tmp_path):
    (tmp_path / "x.png").mkdir()
    with pytest.raises(InputError) as e:
        decode_image(tmp_path / "x.png")
    assert str(e.value) == f"cannot read frame '{tmp_path / 'x.png'}': is a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions, so a folder cannot be made unwritable")
def test_an_unwritable_folder_is_one_line(tmp_path):
    from vsrbench.core.io import atomic_write_text

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(InputError) as e:
            atomic_write_text(folder / "frames.csv", "x\n")
    finally:
        folder.chmod(0o755)
    assert str(e.value) == f"cannot write '{folder / 'frames.csv'}': permission denied"


# ------------------------------------------------------------------ 7. profile options

def _profile_data(tmp_path, rng) -> Path:
    gt = smooth_frames(rng, n=4)
    write_folder(tmp_path / "GT", gt)
    write_folder(tmp_path / "out", gt)
    return tmp_path


@pytest.mark.parametrize("extra, message", [
    (["--window", "300:100"], "--window 300:100: expected START:STOP with 0 <= START < STOP (pixels along the slice), "
                              "got START=300, STOP=100"),
    (["--window", "10:10"], "--window 10:10: expected START:STOP with 0 <= START < STOP (pixels along the slice), "
                            "got START=10, STOP=10"),
    (["--window=-5:20"], "--window -5:20: expected START:STOP with 0 <= START < STOP (pixels along the slice), "
                            "got START=-5, STOP=20"),
    (["--window", "100:300"], "--window 100:300: STOP 300 is past the end of the row (80 pixels); expected "
                              "START:STOP with 0 <= START < STOP <= 80"),
    (["--col", "3", "--window", "0:65"], "--window 0:65: STOP 65 is past the end of the column (64 pixels); expected "
                                         "START:STOP with 0 <= START < STOP <= 64"),
    (["--row", "64"], "--row 64 is outside the frames: expected rows 0..63 of the 80x64 GT frames"),
    (["--row", "-1"], "--row -1 is outside the frames: expected rows 0..63 of the 80x64 GT frames"),
    (["--col", "80"], "--col 80 is outside the frames: expected columns 0..79 of the 80x64 GT frames"),
])
def test_profile_options_are_checked_in_one_line(tmp_path, rng, capsys, extra, message):
    root = _profile_data(tmp_path, rng)
    code = cli.main(["profile", "--gt", str(root / "GT"), "--pred", str(root / "out"),
                     "--out", str(root / "p.png"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and err == f"vsrbench profile: error: {message}\n"
    assert not (root / "p.png").exists()


def test_profile_window_inside_the_frame_works(tmp_path, rng, capsys):
    root = _profile_data(tmp_path, rng)
    code = cli.main(["profile", "--gt", str(root / "GT"), "--pred", str(root / "out"), "--row", "5",
                     "--window", "0:80", "--out", str(root / "p.png")])
    assert code == 0, capsys.readouterr().err
    assert decode_image(root / "p.png").std() > 5


def test_profile_frames_of_different_sizes_are_one_line(tmp_path, rng, capsys):
    root = _profile_data(tmp_path, rng)
    write_frame(root / "out" / "002.png", smooth_frames(rng, n=1, h=60)[0])
    code = cli.main(["profile", "--gt", str(root / "GT"), "--pred", str(root / "out"), "--row", "5",
                     "--out", str(root / "p.png")])
    assert code == 2
    assert capsys.readouterr().err == (f"vsrbench profile: error: {root / 'out'}: frame 2 (002.png) is 80x60 but "
                                       "frame 0 is 80x64: the frames of a sequence must have one size\n")


def test_profile_warns_when_an_output_larger_than_gt_is_cut(tmp_path, rng, capsys):
    root = _profile_data(tmp_path, rng)
    write_folder(root / "big", [cv2.resize(f, (2 * W, 2 * H)) for f in smooth_frames(rng, n=4)])
    code = cli.main(["profile", "--gt", str(root / "GT"), "--pred", str(root / "big"), "--row", "5",
                     "--out", str(root / "p.png")])
    assert code == 0
    assert capsys.readouterr().err == f"vsrbench profile: warning: {root / 'big'}: {SIZE_NOTE}\n"


def test_profile_of_one_frame_needs_a_row(tmp_path, rng, capsys):
    write_folder(tmp_path / "GT", smooth_frames(rng, n=1))
    code = cli.main(["profile", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "GT"),
                     "--out", str(tmp_path / "p.png")])
    assert code == 2
    assert capsys.readouterr().err == (f"vsrbench profile: error: {tmp_path / 'GT'}: 1 frame; the default row (the "
                                       "most temporal change) needs at least 2, give --row or --col\n")


# ------------------------------------------------------------------ 9. float frames on the 0..255 scale are refused

def test_psnr_and_ssim_refuse_float_frames_on_the_255_scale(rng):
    from vsrbench.metrics import ssim

    gt = smooth_frames(rng, n=1)[0]
    gt[0, 0] = 255
    f255 = gt.astype(np.float32)  # 0..255 floats where 0..1 is expected
    for fn in (psnr, ssim):
        with pytest.raises(InputError) as e:
            fn(f255, gt)
        assert str(e.value) == ("frame (pred): float values reach 255, but float frames are read as [0, 1] (they would "
                                "be clipped to white and score as a wrong number); divide by 255, pass uint8, or say "
                                "value_range=255")
    assert psnr(f255 / 255.0, gt) == float("inf")  # the same frame on the right scale
    assert psnr(f255, gt, value_range=255) == float("inf")


def test_evaluate_sequence_refuses_float_frames_on_the_255_scale(rng):
    gt = smooth_frames(rng)
    with pytest.raises(InputError) as e:
        evaluate_sequence([f.astype(np.float64) for f in gt], gt, metrics=["psnr"], device="cpu", name="walk")
    assert str(e.value).startswith(f"walk frame 0: float values reach {gt[0].max()}, but float frames are read as [0, 1]")
    got = evaluate_sequence([f / 255.0 for f in gt], gt, metrics=["psnr"], device="cpu", name="walk")
    assert got.values("psnr").tolist() == [float("inf")]


def test_a_callable_returning_255_floats_fails_its_sequences_and_the_rest_runs(tmp_path, rng):
    from vsrbench.runner import run_benchmark
    from vsrbench.results.loading import load_results

    for k, seq in enumerate(("s0", "s1")):
        frames = smooth_frames(np.random.default_rng(k), n=6, h=48, w=64)
        write_folder(tmp_path / "GT" / seq, frames)
        write_folder(tmp_path / "LR" / seq, [f[::4, ::4] for f in frames])
    (tmp_path / "my_sr.py").write_text(
        "import numpy as np\n\n"
        "def nearest(frames):\n    return [np.repeat(np.repeat(f, 4, axis=0), 4, axis=1) for f in frames]\n\n"
        "def float255(frames):  # 0..255 floats: the scale mix-up\n"
        "    return [x.astype(np.float32) for x in nearest(frames)]\n")
    (tmp_path / "b.toml").write_text('protocol = "basicsr-rgb"\nmetrics = ["psnr"]\n[datasets.syn]\ngt = "GT"\n'
                                     'lr = "LR"\nscale = 4\n[methods.good]\ncallable = "my_sr.py:nearest"\n'
                                     '[methods.bad]\ncallable = "my_sr.py:float255"\n')
    res = tmp_path / "res"
    summary = run_benchmark(tmp_path / "b.toml", res, device="cpu", progress=False)
    assert not summary.ok
    assert sorted(summary.scored) == [("good", "syn", "s0"), ("good", "syn", "s1")]
    assert sorted(f[:3] for f in summary.failed) == [("bad", "syn", "s0"), ("bad", "syn", "s1")]
    for *_, reason in summary.failed:
        assert "\n" not in reason
        assert re.search(r"output frame 0: float values reach \d+, but float frames are read as \[0, 1\]", reason), reason
    df = load_results(res)
    assert set(df.method) == {"good"}  # nothing of the bad method is stored
    bad = res / "outputs" / "bad" / "syn"
    assert not bad.exists() or not any(bad.iterdir())  # no outputs written, no temporary folders left


def test_run_cli_prints_the_size_and_layout_warnings_once(tmp_path, rng, capsys):
    frames = smooth_frames(rng, n=6)
    write_folder(tmp_path / "GT" / "calendar", frames)
    write_folder(tmp_path / "BIG" / "calendar", [cv2.resize(f, (2 * W, 2 * H)) for f in frames])
    gray = [np.repeat(f[..., :1], 3, axis=2) for f in frames]
    _gray_rgba_16(rng, tmp_path / "GRAY" / "calendar", "gray", gray)
    (tmp_path / "b.toml").write_text('protocol = "tecogan"\nmetrics = ["psnr"]\n[datasets.syn]\ngt = "GT"\n'
                                     '[methods.big]\noutputs = { syn = "BIG" }\n'
                                     '[methods.gray]\noutputs = { syn = "GRAY" }\n')
    code = cli.main(["run", str(tmp_path / "b.toml"), "--out", str(tmp_path / "res"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert [ln for ln in err.splitlines() if ": warning: " in ln] == [
        "vsrbench run: warning: sequence 'calendar', method 'gray': output frames are grayscale (1 channel); "
        "scored as RGB with R=G=B",
        f"vsrbench run: warning: sequence 'calendar', method 'big': {SIZE_NOTE}",
    ]


def test_a_damaged_ancillary_chunk_still_decodes_like_opencv(tmp_path, rng):
    """libpng skips an ancillary chunk with a bad CRC (a warning), so the frame decodes as before."""
    data = _png_bytes(rng)
    text = b"tEXt" + b"Comment\x00hello"
    chunk = struct.pack(">I", len(text) - 4) + text + struct.pack(">I", (zlib.crc32(text) ^ 1) & 0xFFFFFFFF)
    p = tmp_path / "a.png"
    p.write_bytes(data[:33] + chunk + data[33:])  # after IHDR
    np.testing.assert_array_equal(decode_image(p), cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[..., ::-1])


def test_layout_note_wording():
    from vsrbench.core.io import layout_note

    assert layout_note(3, 8) is None
    assert layout_note(1, 16) == ("frames are grayscale (1 channel); scored as RGB with R=G=B; "
                                  "their 16-bit values are reduced to 8 bits")
    assert layout_note(2, 8) == ("frames are grayscale with an alpha channel; scored as RGB with R=G=B, "
                                 "the alpha channel is dropped")
