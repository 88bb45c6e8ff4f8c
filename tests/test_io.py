"""Frame I/O: discovery and ordering (TecoGAN's ``listPNGinDir``), decoding, pairing, atomic writes.

References: a transcription of TecoGAN's file ordering written here, PIL for decoding,
OpenCV's VideoWriter for a real video file.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from vsrbench.core.errors import InputError
from vsrbench.core.frames import check_frame, to_uint8
from vsrbench.core.io import FrameSequence, atomic_write_bytes, atomic_write_text, decode_image, frame_sort_key, list_frames, open_dataset, open_sequence, pair_datasets, sort_frame_names, write_frame


def published_order(names: list[str]) -> list[str]:
    """TecoGAN's ``listPNGinDir`` ordering (PNG filter and IB* skip left out), written out."""
    out = sorted(names)
    out.sort(key=lambda f: int("".join(c for c in f if c.isdigit()) or -1))
    return out


def touch_frames(folder: Path, names, value: int = 0, size=(8, 8)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, n in enumerate(names):
        write_frame(folder / n, np.full(size + (3,), (value + i) % 256, np.uint8))


# ------------------------------------------------------------------ ordering

@pytest.mark.parametrize("names", [
    ["Frame 10.png", "Frame 9.png", "Frame 1.png", "Frame 100.png"],
    ["b.png", "IA_1.png", "cover.png", "x2.png", "a.png"],           # no digits sort first, by name
    ["0012.png", "11.png", "frame_0010.png"],                      # leading zeros do not matter
    ["s1_f2.png", "s1_f10.png", "s2_f1.png"],                      # all digits concatenated: 12, 110, 21
])
def test_sort_frame_names_matches_published_order(names):
    assert sort_frame_names(names) == published_order(names)


def test_frame_sort_key_concatenates_digits():
    assert frame_sort_key("Frame 001.png") == frame_sort_key("Frame001.png") == 1
    assert frame_sort_key("s1_f10.png") == 110
    assert frame_sort_key("cover.png") == -1


def test_list_frames_ignores_ib_hidden_and_non_images(tmp_path):
    touch_frames(tmp_path, ["Frame 10.png", "Frame 9.png", "IB_9.png", ".hidden.png"])
    (tmp_path / "notes.txt").write_text("not a frame")
    (tmp_path / "sub").mkdir()
    frames, ignored = list_frames(tmp_path)
    assert [p.name for p in frames] == ["Frame 9.png", "Frame 10.png"]
    assert [p.name for p in ignored] == ["IB_9.png", "notes.txt"]


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "folder not found: '{d}'"),
    (lambda d: d.mkdir(), "no image frames in '{d}' (empty folder)"),
    (lambda d: (d.mkdir(), (d / "readme.txt").write_text("x")),
     "no image frames in '{d}' (1 other file(s), e.g. 'readme.txt')"),
    (lambda d: d.write_text("x"), "not a folder: '{d}'"),
])
def test_list_frames_errors(tmp_path, setup, message):
    d = tmp_path / "seq"
    setup(d)
    with pytest.raises(InputError) as e:
        list_frames(d)
    assert str(e.value) == message.format(d=d)


# ------------------------------------------------------------------ decoding

def test_decode_image_is_rgb_like_pil(tmp_path, rng):
    img = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "a.png")
    got = decode_image(tmp_path / "a.png")
    assert got.dtype == np.uint8 and got.shape == (12, 10, 3)
    np.testing.assert_array_equal(got, np.asarray(Image.open(tmp_path / "a.png").convert("RGB")))


def test_decode_grey_png_gives_three_equal_channels(tmp_path, rng):
    grey = rng.integers(0, 256, (6, 7), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "g.png")
    np.testing.assert_array_equal(decode_image(tmp_path / "g.png"), np.repeat(grey[..., None], 3, axis=2))


@pytest.mark.parametrize("content", [b"", b"not an image at all"])
def test_decode_unreadable_png(tmp_path, content):
    p = tmp_path / "Frame 001.png"
    p.write_bytes(content)
    with pytest.raises(InputError) as e:
        decode_image(p)
    assert str(e.value) == f"cannot decode frame '{p}' (unreadable, truncated or not an image)"


def test_decode_png_signature_then_garbage(tmp_path):
    p = tmp_path / "Frame 001.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n garbage bytes, not an image")
    with pytest.raises(InputError) as e:
        decode_image(p)
    assert str(e.value) == (f"cannot decode frame '{p}': truncated PNG (chunk 'bage' at byte 8 needs 543646078 "
                            "bytes, the file ends after 36); copy or export the frame again")


def test_decode_truncated_png(tmp_path, rng):
    p = tmp_path / "t.png"
    write_frame(p, rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    p.write_bytes(p.read_bytes()[:60])
    with pytest.raises(InputError, match=r"^cannot decode frame '.*t\.png': truncated PNG \(chunk 'IDAT' at byte 33 "):
        decode_image(p)


def test_decode_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"^cannot read frame '.*nope\.png': "):
        decode_image(tmp_path / "nope.png")


# ------------------------------------------------------------------ sequences, videos, datasets

def write_avi(path: Path, frames: list[np.ndarray]) -> None:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG .avi files (no video backend)")
    for f in frames:
        writer.write(np.ascontiguousarray(f[:, :, ::-1]))
    writer.release()


def test_open_sequence_reads_a_video(tmp_path):
    frames = [np.full((48, 64, 3), (40 * i, 200 - 30 * i, 90), np.uint8) for i in range(5)]
    write_avi(tmp_path / "clip.avi", frames)
    seq = open_sequence(tmp_path / "clip.avi")
    assert seq.name == "clip" and len(seq) == 5
    for got, want in zip(seq, frames):
        assert got.shape == (48, 64, 3) and got.dtype == np.uint8
        # MJPG is lossy; flat colours come back within a few levels, in RGB order
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 4


def test_open_sequence_on_a_non_video_file(tmp_path):
    p = tmp_path / "frames.txt"
    p.write_text("x")
    with pytest.raises(InputError, match=r"is neither a folder of frames nor a video file \(\.mp4, "):
        open_sequence(p)


def test_open_dataset_single_sequence_and_folders(tmp_path):
    touch_frames(tmp_path / "one", ["1.png", "2.png"])
    assert list(open_dataset(tmp_path / "one")) == ["one"]
    touch_frames(tmp_path / "ds" / "walk", ["1.png"])
    touch_frames(tmp_path / "ds" / "city", ["1.png"])
    (tmp_path / "ds" / "README").write_text("ignored")
    ds = open_dataset(tmp_path / "ds")
    assert list(ds) == ["city", "walk"] and all(isinstance(s, FrameSequence) for s in ds.values())


@pytest.mark.parametrize("make, message", [
    (lambda d: None, "path not found: '{d}'"),
    (lambda d: d.mkdir(), "no frames, sequence folders or videos in '{d}' (empty folder)"),
    (lambda d: (d.mkdir(), (d / "x.txt").write_text("x")), "no frames, sequence folders or videos in '{d}'"),
])
def test_open_dataset_errors(tmp_path, make, message):
    d = tmp_path / "ds"
    make(d)
    with pytest.raises(InputError) as e:
        open_dataset(d)
    assert str(e.value) == message.format(d=d)


def test_pair_datasets_by_name(tmp_path):
    for side in ("gt", "pred"):
        for s in ("city", "walk"):
            touch_frames(tmp_path / side / s, ["1.png"])
    pairs = pair_datasets(open_dataset(tmp_path / "gt"), open_dataset(tmp_path / "pred"))
    assert [(g.name, p.name) for g, p in pairs] == [("city", "city"), ("walk", "walk")]
    assert pairs[0][1].source == str(tmp_path / "pred" / "city")


def test_pair_single_sequences_regardless_of_names(tmp_path):
    touch_frames(tmp_path / "GT_calendar", ["1.png"])
    touch_frames(tmp_path / "out", ["1.png"])
    ((g, p),) = pair_datasets(open_dataset(tmp_path / "GT_calendar"), open_dataset(tmp_path / "out"))
    assert (g.name, p.name) == ("GT_calendar", "out")


def test_pair_datasets_with_different_names(tmp_path):
    for s in ("city", "walk"):
        touch_frames(tmp_path / "gt" / s, ["1.png"])
    for s in ("city", "wlak", "extra"):
        touch_frames(tmp_path / "pred" / s, ["1.png"])
    with pytest.raises(InputError) as e:
        pair_datasets(open_dataset(tmp_path / "gt"), open_dataset(tmp_path / "pred"))
    assert str(e.value) == "GT and PRED sequences differ (missing in PRED: walk; not in GT: extra, wlak)"


def test_frame_sequence_from_arrays_checks_frames():
    with pytest.raises(InputError) as e:
        FrameSequence.from_arrays("s", [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8)])
    assert str(e.value) == "s frame 1: expected an RGB array of shape (H, W, 3), got shape (4, 4)"
    with pytest.raises(InputError) as e:
        FrameSequence.from_arrays("s", [])
    assert str(e.value) == "sequence 's' has no frames"
    seq = FrameSequence.from_arrays("s", [np.zeros((4, 4, 3), np.uint8)] * 2)
    assert len(seq) == 2 and seq.frame_name(1) == "00001"


@pytest.mark.parametrize("frame, message", [
    (np.array([[[0.0, np.nan, 1.0]]]), "f: contains NaN or inf values"),
    (np.array([[[0.0, np.inf, 1.0]]], np.float32), "f: contains NaN or inf values"),
    (np.zeros((2, 2, 3), dtype=bool), "f: unsupported dtype bool"),
    (np.zeros((2, 2, 4), np.uint8), "f: expected an RGB array of shape (H, W, 3), got shape (2, 2, 4)"),
])
def test_check_frame_errors(frame, message):
    with pytest.raises(InputError) as e:
        check_frame(frame, "f")
    assert str(e.value) == message


# ------------------------------------------------------------------ writing

def test_write_frame_round_trips_losslessly(tmp_path, rng):
    img = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    write_frame(tmp_path / "sub" / "f.png", img)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "sub" / "f.png")), img)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["f.png"]  # no temporary file left


def test_write_frame_refuses_floats(tmp_path):
    with pytest.raises(InputError) as e:
        write_frame(tmp_path / "f.png", np.zeros((2, 2, 3), np.float32))
    assert str(e.value) == "write_frame expects uint8, got float32 (use vsrbench.core.frames.to_uint8)"


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "summary.json"
    atomic_write_text(p, "old")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(InputError, match=r"^cannot write '.*summary\.json': disk full$"):
        atomic_write_bytes(p, b"new")
    assert p.read_text() == "old" and [q.name for q in tmp_path.iterdir()] == ["summary.json"]


@pytest.mark.parametrize("rounding", ["round", "truncate"])
def test_to_uint8_against_numpy(rounding):
    x = np.array([-0.2, 0.0, 0.4 / 255, 0.6 / 255, 0.5, 254.5 / 255, 1.0, 1.3])
    scaled = x * 255.0
    want = np.clip(np.round(scaled) if rounding == "round" else np.floor(np.clip(scaled, 0, 255)), 0, 255)
    got = to_uint8(x, rounding=rounding)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, want.astype(np.uint8))
    np.testing.assert_array_equal(to_uint8(x * 2, unit=2.0, rounding=rounding), got)


def test_all_zero_digits_rank_with_names_without_digits_as_in_tecogan():
    from vsrbench.core.io import frame_sort_key, sort_frame_names

    # TecoGAN: int(''.join(digits)) or -1, so "a0" (int 0) gets -1 like "b" (no digits)
    assert frame_sort_key("a0.png") == frame_sort_key("b.png") == -1
    assert sort_frame_names(["b.png", "a0.png", "f1.png"]) == ["a0.png", "b.png", "f1.png"]


def test_to_uint8_reads_integer_frames_on_the_0_255_scale():
    """A user's callable returning int32/int64 frames must not be scaled as if in [0, 1]."""
    from vsrbench.core.frames import to_uint8

    frame = np.array([[[100, -5, 300]]], dtype=np.int32)
    np.testing.assert_array_equal(to_uint8(frame), np.array([[[100, 0, 255]]], dtype=np.uint8))
    np.testing.assert_array_equal(to_uint8(np.array([[[0.5, 0.0, 1.2]]])), np.array([[[128, 0, 255]]], dtype=np.uint8))


def test_png_names_refuses_frames_that_would_overwrite_each_other(tmp_path):
    from vsrbench.core.errors import InputError
    from vsrbench.core.io import open_sequence, png_names, write_frame

    frame = np.zeros((4, 4, 3), np.uint8)
    write_frame(tmp_path / "s" / "f1.png", frame)
    write_frame(tmp_path / "s" / "f2.bmp", frame)
    assert png_names(open_sequence(tmp_path / "s")) == ["f1.png", "f2.png"]
    write_frame(tmp_path / "s" / "f1.jpg", frame)
    with pytest.raises(InputError, match=r"^sequence 's': frames f1.png would be written twice"):
        png_names(open_sequence(tmp_path / "s"))


def test_pick_sequence_pairs_a_lone_sequence_only_when_allowed():
    from vsrbench.core.io import FrameSequence, pick_sequence

    a = FrameSequence.from_arrays("a", [np.zeros((4, 4, 3), np.uint8)])
    b = FrameSequence.from_arrays("b", [np.zeros((4, 4, 3), np.uint8)])
    assert pick_sequence({"a": a, "b": b}, "b", lone_ok=False) is b
    assert pick_sequence({"a": a}, "calendar", lone_ok=True) is a
    assert pick_sequence({"a": a}, "calendar", lone_ok=False) is None
    assert pick_sequence({"a": a, "b": b}, "calendar", lone_ok=True) is None
