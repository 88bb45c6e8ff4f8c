"""Frames in and out: discovery, ordering, decoding, pairing, atomic writes.

Frame order follows the TecoGAN protocol: file names sorted, then (stable) by the integer
formed by all digits in the name (-1 when there are none), so ``Frame 9.png`` comes before
``Frame 10.png`` and ``Frame 001.png`` pairs with ``Frame001.png``. Names starting with
``IB`` are ignored. Frames are decoded like ``cv2.imread`` (8-bit, 3 channels) and returned
as RGB ``uint8`` arrays of shape (H, W, 3).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from vsrbench.core.errors import InputError
from vsrbench.core.frames import check_frame

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".y4m")


def frame_sort_key(name: str) -> int:
    """The integer of all digits in ``name``; -1 when there are none *or they are all zeros*
    (TecoGAN computes ``int(digits) or -1``, so ``a0.png`` ranks with names without digits)."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 0) or -1


def sort_frame_names(names: Sequence[str]) -> list[str]:
    """Sort file names the way TecoGAN's ``listPNGinDir`` does."""
    return sorted(sorted(names), key=frame_sort_key)


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTS


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTS


def list_frames(folder: str | os.PathLike, *, ignore_prefix: str = "IB") -> tuple[list[Path], list[Path]]:
    """Return (frame paths in protocol order, other files that were ignored)."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(f"folder not found: {str(folder)!r}")
    if not folder.is_dir():
        raise InputError(f"not a folder: {str(folder)!r}")
    frames, ignored = [], []
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_file() and is_image(entry) and not entry.name.startswith(ignore_prefix):
            frames.append(entry.name)
        elif entry.is_file():
            ignored.append(entry)
    if not frames:
        raise InputError(f"no image frames in {str(folder)!r}" + (" (empty folder)" if not ignored else
                         f" ({len(ignored)} other file(s), e.g. {ignored[0].name!r})"))
    return [folder / n for n in sort_frame_names(frames)], sorted(ignored)


def decode_image(path: str | os.PathLike) -> np.ndarray:
    """Decode one image as RGB uint8 (H, W, 3), like ``cv2.imread(path)[:, :, ::-1]``."""
    import cv2

    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise InputError(f"cannot read frame {str(path)!r}: {e.strerror or e}") from None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise InputError(f"cannot decode frame {str(path)!r} (unreadable, truncated or not an image)")
    return np.ascontiguousarray(img[:, :, ::-1])


def read_video(path: str | os.PathLike) -> list[np.ndarray]:
    import cv2

    path = Path(path)
    if not path.is_file():
        raise InputError(f"video not found: {str(path)!r}")
    cap = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(np.ascontiguousarray(img[:, :, ::-1]))
    finally:
        cap.release()
    if not frames:
        raise InputError(f"cannot decode any frame of video {str(path)!r}")
    return frames


@dataclass
class FrameSequence:
    """An ordered sequence of RGB uint8 frames from image files, a video, or arrays."""

    name: str
    paths: list[Path] = field(default_factory=list)
    arrays: list[np.ndarray] | None = None
    source: str = ""
    ignored: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.arrays) if self.arrays is not None else len(self.paths)

    def __getitem__(self, i: int) -> np.ndarray:
        if self.arrays is not None:
            return self.arrays[i]
        return decode_image(self.paths[i])

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self[i]

    def frame_name(self, i: int) -> str:
        return self.paths[i].name if self.arrays is None else f"{i:05d}"

    @classmethod
    def from_arrays(cls, name: str, frames: Sequence[np.ndarray], source: str = "<arrays>") -> "FrameSequence":
        frames = [check_frame(f, f"{name} frame {i}") for i, f in enumerate(frames)]
        if not frames:
            raise InputError(f"sequence {name!r} has no frames")
        return cls(name=name, arrays=frames, source=source)


def png_names(seq: "FrameSequence") -> list[str]:
    """Output file names for a sequence's frames: each frame's name with a ``.png`` suffix
    (``00000.png``... for videos); two frames that would get the same name are an error."""
    names = [Path(seq.frame_name(i)).stem + ".png" for i in range(len(seq))]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"sequence {seq.name!r}: frames {', '.join(dup)} would be written twice "
                         "(same name with different image extensions)")
    return names



def open_sequence(path: str | os.PathLike, name: str | None = None) -> FrameSequence:
    """Open a folder of frames or a video file as one sequence."""
    path = Path(path)
    if path.is_file():
        if not is_video(path):
            raise InputError(f"{str(path)!r} is neither a folder of frames nor a video file ({', '.join(VIDEO_EXTS)})")
        return FrameSequence(name=name or path.stem, arrays=read_video(path), source=str(path))
    frames, ignored = list_frames(path)
    return FrameSequence(name=name or path.name, paths=frames, source=str(path), ignored=ignored)


def open_dataset(path: str | os.PathLike) -> dict[str, FrameSequence]:
    """Open a single sequence or a dataset (a folder of sequence folders / video files).

    A folder that directly holds image frames is one sequence named after the folder.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"path not found: {str(path)!r}")
    if path.is_file():
        seq = open_sequence(path)
        return {seq.name: seq}
    entries = [e for e in path.iterdir() if not e.name.startswith(".")]
    if any(e.is_file() and is_image(e) for e in entries):
        seq = open_sequence(path)
        return {seq.name: seq}
    seqs: dict[str, FrameSequence] = {}
    for e in sorted(entries):
        if e.is_dir():
            seqs[e.name] = open_sequence(e)
        elif e.is_file() and is_video(e):
            seqs[e.stem] = open_sequence(e)
    if not seqs:
        raise InputError(f"no frames, sequence folders or videos in {str(path)!r}" + ("" if entries else " (empty folder)"))
    return seqs


def pick_sequence(sequences: dict[str, FrameSequence], name: str, *, lone_ok: bool) -> FrameSequence | None:
    """Sequence ``name`` of a dataset, or None. With ``lone_ok`` (the GT is a single sequence), a
    dataset holding a single sequence pairs with it whatever the names."""
    if name in sequences:
        return sequences[name]
    return next(iter(sequences.values())) if lone_ok and len(sequences) == 1 else None


def pair_datasets(gt: dict[str, FrameSequence], pred: dict[str, FrameSequence]) -> list[tuple[FrameSequence, FrameSequence]]:
    """Pair sequences by name; a single sequence on each side pairs regardless of names."""
    if len(gt) == 1 and len(pred) == 1:
        return [(next(iter(gt.values())), next(iter(pred.values())))]
    missing = sorted(set(gt) - set(pred))
    extra = sorted(set(pred) - set(gt))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing in PRED: {', '.join(missing)}")
        if extra:
            parts.append(f"not in GT: {', '.join(extra)}")
        raise InputError("GT and PRED sequences differ (" + "; ".join(parts) + ")")
    return [(gt[k], pred[k]) for k in sorted(gt)]


# ---------------------------------------------------------------- writing, atomically

def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))




def write_frame(path: str | os.PathLike, rgb: np.ndarray) -> None:
    """Write an RGB uint8 frame atomically; the format follows the extension (PNG by default)."""
    import cv2

    path = Path(path)
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        raise InputError(f"write_frame expects uint8, got {rgb.dtype} (use vsrbench.core.frames.to_uint8)")
    ok, buf = cv2.imencode(path.suffix or ".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise InputError(f"cannot encode frame as {path.suffix!r}")
    atomic_write_bytes(path, buf.tobytes())
