"""Frames in and out: discovery, ordering, decoding, pairing, atomic writes.

Frame order follows the TecoGAN protocol: file names sorted, then (stable) by the integer
formed by all digits in the name (-1 when there are none), so ``Frame 9.png`` comes before
``Frame 10.png`` and ``Frame 001.png`` pairs with ``Frame001.png``. Names starting with
``IB`` are ignored. Frames are decoded like ``cv2.imread`` (8-bit, 3 channels) and returned
as RGB ``uint8`` arrays of shape (H, W, 3); gray frames become R=G=B, an alpha channel is
dropped (:meth:`FrameSequence.input_notes` says so, from the first frame's header, and says when
frames are JPEG files or come from a lossy video). A PNG or JPEG file that ends early is refused
before the decoder sees it (so libpng prints nothing); a frame that is a broken symbolic link is
refused when its folder is listed, naming the link.

An output sequence is paired with its ground truth by :func:`pair_frames`: by the number in the
frame names (``frame_1.png`` pairs with ``Frame 001.png``) when both sides carry numbers, by
position otherwise (said once). Every command that scores or shows an output against GT uses it.

Files are written atomically (a short ``.vsrb-XXXXXXXX.tmp`` sibling, then a rename) with the
mode a plain ``open()`` would give them (``0o666`` minus the umask); I/O errors are one-line
:class:`~vsrbench.core.errors.InputError` messages naming the file.
"""
from __future__ import annotations

import os
import re
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from vsrbench.core.errors import InputError, os_error
from vsrbench.core.frames import check_frame

__all__ = [
    "IMAGE_EXTS", "VIDEO_EXTS", "frame_sort_key", "sort_frame_names", "is_image", "is_video", "list_frames",
    "PNG_SIGNATURE", "png_problem", "jpeg_problem", "decode_image", "stored_layout", "layout_note", "video_codec", "LOSSLESS_CODECS", "video_note", "JPEG_EXTS", "read_video", "FrameSequence",
    "png_names", "open_sequence", "open_dataset", "pick_sequence", "pair_datasets", "frame_numbers", "FramePairing",
    "pair_frames", "file_mode", "atomic_write_bytes", "atomic_write_text", "write_frame",
]

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
    for entry in _entries(folder):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and is_image(entry) and not entry.name.startswith(ignore_prefix):
            frames.append(entry.name)
        elif entry.is_file():
            ignored.append(entry)
        elif is_image(entry) and not entry.name.startswith(ignore_prefix) and entry.is_symlink():
            raise InputError(f"frame {str(entry)!r} is a broken symbolic link (to {_link_target(entry)!r}); "
                             "restore its target or remove the link")
    if not frames:
        raise InputError(f"no image frames in {str(folder)!r}" + (" (empty folder)" if not ignored else
                         f" ({len(ignored)} other file(s), e.g. {ignored[0].name!r})"))
    return [folder / n for n in sort_frame_names(frames)], sorted(ignored)


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError as e:
        raise os_error(e, "list folder", folder) from None


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
def png_problem(data) -> tuple[str, str] | None:
    """``(kind, detail)`` when PNG bytes are truncated or corrupt, else None.

    Walks the chunk structure (signature, lengths, CRCs of the critical chunks, IHDR first, IEND
    present), which is what libpng would stop on -- it then prints ``libpng error: ...`` on stderr,
    out of our control. Damaged compressed data inside intact chunks is left to the decoder.
    """
    buf = memoryview(np.ascontiguousarray(data, dtype=np.uint8)).cast("B")
    n, pos, first = len(buf), len(PNG_SIGNATURE), True
    while True:
        if pos + 12 > n:
            return "truncated", f"the file ends after {n} bytes, before the IEND chunk"
        length, kind = struct.unpack_from(">I4s", buf, pos)
        name = kind.decode("latin-1")
        end = pos + 12 + length
        if length > 0x7FFFFFFF or not kind.isalpha():
            return "corrupt", f"invalid chunk header at byte {pos}"
        if end > n:
            return "truncated", f"chunk {name!r} at byte {pos} needs {length + 12} bytes, the file ends after {n}"
        critical = kind[:1].isupper()  # libpng only warns about (and skips) a damaged ancillary chunk
        if critical and zlib.crc32(buf[pos + 4:end - 4]) != struct.unpack_from(">I", buf, end - 4)[0]:
            return "corrupt", f"CRC mismatch in chunk {name!r} at byte {pos}"
        if first and (kind != b"IHDR" or length != 13):
            return "corrupt", f"the first chunk is {name!r}, not IHDR"
        if kind == b"IEND":
            return None
        pos, first = end, False


def jpeg_problem(data) -> tuple[str, str] | None:
    """``(kind, detail)`` when JPEG bytes end before their image data does, else None.

    Entropy-coded data cannot hold the byte pair FF D9 (end of image) or FF DA (start of scan),
    so a complete image has an end-of-image marker after its last scan (trailing bytes allowed).
    """
    b = np.ascontiguousarray(data, dtype=np.uint8).tobytes()
    eoi, sos = b.rfind(b"\xff\xd9"), b.rfind(b"\xff\xda")
    if sos < 0 or eoi < sos:
        return "truncated", f"no end-of-image marker after the image data (the file ends after {len(b)} bytes)"
    return None


def _container_problem(data: np.ndarray) -> tuple[str, str, str] | None:
    """``(format, kind, detail)`` for a PNG/JPEG (by content, as OpenCV decides) that is broken."""
    head = data[:8].tobytes()
    if head == PNG_SIGNATURE:
        found = png_problem(data)
        return ("PNG", *found) if found else None
    if head[:3] == b"\xff\xd8\xff":
        found = jpeg_problem(data)
        return ("JPEG", *found) if found else None
    return None


def _read_bytes(path: Path) -> np.ndarray:
    try:
        return np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise os_error(e, "read frame", path) from None


def decode_image(path: str | os.PathLike) -> np.ndarray:
    """Decode one image as RGB uint8 (H, W, 3), like ``cv2.imread(path)[:, :, ::-1]``.

    A truncated or corrupt PNG/JPEG is refused (one line) before OpenCV sees it.
    """
    import cv2

    path = Path(path)
    data = _read_bytes(path)
    broken = _container_problem(data) if data.size else None
    if broken:
        fmt, kind, detail = broken
        raise InputError(f"cannot decode frame {str(path)!r}: {kind} {fmt} ({detail}); "
                         "copy or export the frame again")
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise InputError(f"cannot decode frame {str(path)!r} (unreadable, truncated or not an image)")
    return np.ascontiguousarray(img[:, :, ::-1])


def stored_layout(path: str | os.PathLike) -> tuple[int, int]:
    """(channels, bits per channel) of an image file as stored (before ``decode_image`` makes it
    8-bit RGB): from the header for PNG, else from one ``IMREAD_UNCHANGED`` decode."""
    import cv2

    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(33)
    except OSError as e:
        raise os_error(e, "read frame", path) from None
    if head[:8] == PNG_SIGNATURE and len(head) == 33 and head[12:16] == b"IHDR":
        bits, color = head[24], head[25]
        channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(color, 3)
        return channels, (8 if color == 3 else bits)
    img = cv2.imdecode(_read_bytes(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        return 3, 8
    return (1 if img.ndim == 2 else img.shape[2]), 8 * img.dtype.itemsize


def layout_note(channels: int, bits: int) -> str | None:
    """What the 8-bit RGB decoding changes about a stored layout, or None (plain 8-bit RGB)."""
    notes = []
    if channels == 1:
        notes.append("are grayscale (1 channel); scored as RGB with R=G=B")
    elif channels == 2:
        notes.append("are grayscale with an alpha channel; scored as RGB with R=G=B, the alpha channel is dropped")
    elif channels == 4:
        notes.append("have an alpha channel; it is dropped")
    if bits > 8:
        notes.append(f"their {bits}-bit values are reduced to 8 bits" if notes
                     else f"are {bits}-bit; scored after reduction to 8 bits")
    return "frames " + "; ".join(notes) if notes else None


def video_codec(cap) -> str:
    """The FourCC of an open ``cv2.VideoCapture`` as text ('' when unknown)."""
    import cv2

    code = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
    text = "".join(chr((code >> 8 * i) & 0xFF) for i in range(4)).strip(" \0")
    return text if code and text.isprintable() else ""


def _video_pixel_format(cap) -> str:
    """The pixel format an open ``cv2.VideoCapture``'s codec stores, as FFmpeg's raw FourCC text
    (``I420``, ``BGRA``, ``BGR``, ``RGB``, ...; a trailing bits-per-pixel byte is dropped); '' when unknown."""
    import cv2

    prop = getattr(cv2, "CAP_PROP_CODEC_PIXEL_FORMAT", None)
    code = int(cap.get(prop) or 0) if prop is not None else 0
    if code <= 0 or code == 0xFFFFFFFF:
        return ""
    text = "".join(chr((code >> 8 * i) & 0xFF) for i in range(4))
    text = text[:next((i for i, ch in enumerate(text) if not ch.isprintable()), 4)].strip()
    return text


#: FourCCs (as OpenCV reports them, compared case-insensitively) of lossless video codecs: FFV1, HuffYUV
#: (HFYU, FFmpeg's FFVH), PNG in a video (MPNG, png), Lagarith, UT Video, MagicYUV, QuickTime Animation
#: and uncompressed frames. Lossless H.264 (x264 at qp 0) is not told apart from lossy H.264 by OpenCV.
LOSSLESS_CODECS = frozenset({
    "FFV1", "HFYU", "FFVH", "MPNG", "PNG", "LAGS", "ULRG", "ULRA", "ULY0", "ULY2", "ULY4", "ULH0", "ULH2",
    "ULH4", "UQRG", "UQRA", "UQY0", "UQY2", "M8RG", "M8RA", "M8Y0", "M8Y2", "M8Y4", "M8G0", "RLE", "RAW",
    "DIB", "RGB", "BGR", "RGBA", "BGRA",
})


def _rgb_pixel_format(fmt: str) -> bool:
    """True for a pixel format that holds 8-bit RGB (or grey) values as they are, without YUV conversion."""
    f = fmt.upper()
    return f.startswith(("RGB", "BGR", "ARGB", "ABGR")) or f in ("Y800", "GREY", "GRAY", "Y8")


def video_note(source: str, codec: str, pixel_format: str = "") -> str | None:
    """What decoding a video changes about its frames (a phrase starting with "frames"), or None.

    A lossless codec storing RGB (or an unknown pixel format) changes nothing; a lossless codec
    storing YUV changes the colours (conversion and, for 4:2:0 / 4:2:2, chroma subsampling); any
    other codec is taken as lossy.
    """
    src = Path(source).name or source
    suffix = Path(src).suffix or "video"
    if codec.upper() in LOSSLESS_CODECS:
        if not pixel_format or _rgb_pixel_format(pixel_format):
            return None
        return (f"frames are decoded from video {src!r} (codec {codec}, lossless, pixel format {pixel_format}); "
                "its YUV pixel format changes the colours (RGB to YUV and back, chroma subsampled), which the "
                "scores then include (use PNG frames or an RGB pixel format to score the frames themselves)")
    shown = f"codec {codec}, " if codec else ""
    return (f"frames are decoded from video {src!r} ({shown}{suffix}); "
            "lossy video frames include the compression loss, which the scores then include "
            "(use PNG frames to score the frames themselves)")


JPEG_EXTS = (".jpg", ".jpeg")


def _jpeg_note(paths: Sequence[Path]) -> str | None:
    """A phrase starting with "frames" when image frames are JPEG files (lossy), all or some of them; else None."""
    jpeg = [p for p in paths if p.suffix.lower() in JPEG_EXTS]
    if not jpeg:
        return None
    if len(jpeg) == len(paths):
        return ("frames are JPEG files, a lossy format: the scores include its compression artefacts "
                "(use PNG frames to score the frames themselves)")
    other = sorted({p.suffix.lower().lstrip(".").upper() for p in paths if p.suffix.lower() not in JPEG_EXTS})
    return (f"frames mix JPEG and {'/'.join(other)} files ({len(jpeg)} of {len(paths)} are JPEG, e.g. "
            f"{jpeg[0].name!r}): JPEG is lossy, and the scores of those frames include its compression artefacts")


def read_video(path: str | os.PathLike, info: dict | None = None) -> list[np.ndarray]:
    """All frames of a video as RGB uint8; ``info['codec']`` and ``info['pixel_format']`` receive its
    FourCC and its stored pixel format when given."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise InputError(f"video not found: {str(path)!r}")
    cap = cv2.VideoCapture(str(path))
    frames = []
    if info is not None:
        info["codec"] = video_codec(cap)
        info["pixel_format"] = _video_pixel_format(cap)
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
    #: the codec (FourCC) when the frames come from a video file ('' when unknown)
    codec: str | None = None
    #: the pixel format the video stores (``I420``, ``BGRA``, ...; '' when unknown or not a video)
    pixel_format: str = ""
    #: set when the sequence stands for one real frame at this index (a centre-frame-only output,
    #: e.g. Vimeo-90K-T's im4.png): every index reads that frame, and only this index may be scored
    only_index: int | None = None

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

    def input_notes(self) -> list[str]:
        """What the decoding changes about these frames, each a phrase starting with "frames":
        a gray/alpha/16-bit first frame, JPEG files (all or some), or frames from a lossy video or
        a lossless one storing YUV (:func:`video_note`). Computed once, cheaply (the first frame's
        header and the file names)."""
        if getattr(self, "_notes", None) is None:
            notes = []
            if self.codec is not None:
                note = video_note(self.source, self.codec, self.pixel_format)
                if note:
                    notes.append(note)
            elif self.arrays is None and self.paths:
                for note in (layout_note(*stored_layout(self.paths[0])), _jpeg_note(self.paths)):
                    if note:
                        notes.append(note)
            self._notes = notes
        return list(self._notes)

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
    """Open a folder of frames or a video file as one sequence.

    Parameters
    ----------
    path : str or os.PathLike
        A folder of image frames (``IMAGE_EXTS``; hidden files and names starting with ``IB`` are
        left out, the rest ordered as TecoGAN's ``listPNGinDir``: :func:`sort_frame_names`) or a
        video file (``VIDEO_EXTS``).
    name : str, optional
        The sequence's name (default: the folder's name, or the video file's name without its extension).

    Returns
    -------
    FrameSequence
        RGB uint8 ``(H, W, 3)`` frames: a folder's frames are decoded when indexed, a video's when opened.

    Raises
    ------
    vsrbench.core.errors.InputError
        A path that is missing, a file that is not a video, a folder without image frames, a frame
        that is a broken link, or a video of which no frame decodes.

    Examples
    --------
    Reads files::

        from vsrbench import open_sequence
        seq = open_sequence("Vid4/GT/calendar")  # or a video: open_sequence("calendar.mp4")
        len(seq), seq.frame_name(0), seq[0].shape  # frames, the first file's name, (H, W, 3) of uint8
    """
    path = Path(path)
    if path.is_file():
        if not is_video(path):
            raise InputError(f"{str(path)!r} is neither a folder of frames nor a video file ({', '.join(VIDEO_EXTS)})")
        info: dict = {}
        frames = read_video(path, info)
        return FrameSequence(name=name or path.stem, arrays=frames, source=str(path), codec=info.get("codec", ""),
                             pixel_format=info.get("pixel_format", ""))
    frames, ignored = list_frames(path)
    return FrameSequence(name=name or path.name, paths=frames, source=str(path), ignored=ignored)


def open_dataset(path: str | os.PathLike) -> dict[str, FrameSequence]:
    """Open a single sequence or a dataset (a folder of sequence folders / video files).

    A folder that directly holds image frames is one sequence named after the folder.

    Parameters
    ----------
    path : str or os.PathLike
        A folder of frames, a video file, or a folder whose sub-folders and video files are the
        sequences (each opened by :func:`open_sequence`; hidden entries are left out).

    Returns
    -------
    dict of str to FrameSequence
        The sequences by name (sub-folder names, video names without their extension), in name order;
        one entry for a single sequence.

    Raises
    ------
    vsrbench.core.errors.InputError
        A path that is missing, a folder holding no frames, sequence folders or videos, and the
        errors of :func:`open_sequence`.

    Examples
    --------
    Reads files::

        from vsrbench import open_dataset
        gt = open_dataset("Vid4/GT")  # a folder of the sequence folders calendar, city, foliage, walk
        {name: len(seq) for name, seq in gt.items()}  # {'calendar': 41, 'city': 34, 'foliage': 49, 'walk': 47}
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"path not found: {str(path)!r}")
    if path.is_file():
        seq = open_sequence(path)
        return {seq.name: seq}
    entries = [e for e in _entries(path) if not e.name.startswith(".")]
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


# ---------------------------------------------------------------- pairing frames

_DIGIT_RUN = re.compile(r"[0-9]+")


def frame_numbers(names: Sequence[str]) -> list[int] | None:
    """The frame number of each file name of one sequence, or None when the names carry none.

    A frame's number is the last run of digits in its file name's stem (``Frame 001.png``,
    ``frame_1.png`` and ``frame_01.png`` are all frame 1; ``calendar_0007.png`` is 7). Where that
    run is the same in every name of a sequence of several frames (a suffix, as ``_x4`` in
    ``0007_x4.png``), the run before it is used, and so on. None when a name has no digits.
    """
    runs = [_DIGIT_RUN.findall(Path(n).stem) for n in names]
    if not runs or not all(runs):
        return None
    last = [int(r[-1]) for r in runs]
    j = 1
    while len(runs) > 1 and all(len(r) >= j for r in runs):
        values = [int(r[-j]) for r in runs]
        if len(set(values)) > 1:
            return values
        j += 1
    return last


def _numbers_text(numbers: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f", ... ({len(numbers)} in all)" if len(numbers) > limit else "")


def _consecutive(numbers: Sequence[int]) -> bool:
    return sorted(numbers) == list(range(min(numbers), min(numbers) + len(numbers)))


@dataclass(frozen=True)
class FramePairing:
    """How the frames of an output sequence pair with those of its ground truth (:func:`pair_frames`).

    ``index[t]`` is the output frame that pairs with GT frame ``t`` (None: it has none), ``extra``
    the output frames that pair with no GT frame, ``by`` the rule used (``"number"``, ``"position"``),
    ``note`` what the user should be told once (position pairing of named frames, numbering from
    0 against numbering from 1), and ``problem`` why the pairing cannot be scored (a one-line
    message), or None.
    """

    gt: FrameSequence
    pred: FrameSequence
    by: str
    index: tuple[int | None, ...]
    extra: tuple[int, ...] = ()
    note: str | None = None
    problem: str | None = None

    def aligned(self, *, warn: bool = True) -> FrameSequence:
        """The output sequence with its frames in GT's order (frame ``t`` pairs with GT frame ``t``):
        ``pred`` itself when already so. Raises the one-line :class:`InputError` of ``problem``;
        ``note`` is said as a :class:`~vsrbench.core.errors.VsrbenchWarning` (``warn=True``)."""
        if self.problem:
            raise InputError(self.problem)
        if self.note and warn:
            import warnings

            from vsrbench.core.errors import VsrbenchWarning

            warnings.warn(self.note, VsrbenchWarning, stacklevel=2)
        if list(self.index) == list(range(len(self.pred))):
            return self.pred
        import dataclasses

        return dataclasses.replace(self.pred, paths=[self.pred.paths[i] for i in self.index])


def pair_frames(gt: FrameSequence, pred: FrameSequence) -> FramePairing:
    """Pair the frames of an output sequence with those of its ground truth; every command that
    scores or shows an output against GT uses this rule (``.aligned()`` gives the paired output).

    - Both sequences are image files whose names carry numbers (:func:`frame_numbers`): frames pair
      by number, whatever their order or spelling (``frame_1``/``frame_01``/``Frame 001``). A number
      on one side only is a problem naming the first few on each side. One exception, said in a
      note: each side numbered consecutively, one from 0 and the other from 1 (the suites' layouts
      number Vid4 both ways), pairs in the order of the numbers.
    - Names without numbers (on either side), a number repeated on one side, videos and arrays:
      frames pair by position (a note says so for image files, naming two names that repeat a
      number; a video's or an array's frames have no names).
    - An output holding only its centre frame (``only_index``, see the suites) is kept as it is;
      sequences of one frame each pair with each other.

    Different frame counts are a problem: ``GT has N frames but the output has M``, unless numbers
    say more (frames missing in the middle, or extra output frames).
    """
    where = f"sequence {gt.name!r}"
    count = f"{where}: GT has {len(gt)} frames but the output has {len(pred)}"
    position = tuple(t if t < len(pred) else None for t in range(len(gt)))
    extra = tuple(range(len(gt), len(pred)))
    problem = count if len(gt) != len(pred) else None
    if pred.only_index is not None or gt.only_index is not None or (len(gt) == 1 and len(pred) == 1):
        return FramePairing(gt, pred, "position", position, extra, None, problem)
    if gt.arrays is not None or pred.arrays is not None:
        return FramePairing(gt, pred, "position", position, extra, None, problem)
    g_names, p_names = [p.name for p in gt.paths], [p.name for p in pred.paths]
    g_num, p_num = frame_numbers(g_names), frame_numbers(p_names)
    note = None
    for side, names, nums in (("GT", g_names, g_num), ("output", p_names, p_num)):
        if nums is None:  # the same words for every sequence: said once
            note = (f"some {side} frame names carry no frame number, so GT and output frames are paired by position "
                    "(name frames with their number, e.g. 0001.png, to pair them by number)")
            break
        if len(set(nums)) != len(nums):
            dup = next(n for n in nums if nums.count(n) > 1)
            both = [names[i] for i, n in enumerate(nums) if n == dup][:2]
            note = (f"{side} frame names repeat a frame number ({both[0]!r} and {both[1]!r} are both {dup}): "
                    "GT and output frames are paired by position")
            break
    if note is not None:
        return FramePairing(gt, pred, "position", position, extra, note, problem)
    by_number = {n: i for i, n in enumerate(p_num)}
    if set(g_num) == set(p_num):
        return FramePairing(gt, pred, "number", tuple(by_number[n] for n in g_num))
    if (len(g_num) == len(p_num) and {min(g_num), min(p_num)} == {0, 1} and _consecutive(g_num)
            and _consecutive(p_num)):
        note = (f"GT frames are numbered from {min(g_num)}, output frames from {min(p_num)}: frames are paired "
                "in the order of their numbers")
        g_rank = {n: k for k, n in enumerate(sorted(g_num))}
        p_sorted = sorted(p_num)
        return FramePairing(gt, pred, "number", tuple(by_number[p_sorted[g_rank[n]]] for n in g_num), (), note)
    index = tuple(by_number.get(n) for n in g_num)
    have = set(g_num)
    lonely_gt = [n for n in g_num if n not in by_number]
    lonely_out = sorted(n for n in p_num if n not in have)
    extra = tuple(by_number[n] for n in lonely_out)
    stops_early = not lonely_out and g_num[len(p_num):] == lonely_gt
    if stops_early:  # the output is GT's first frames: the count says it all
        return FramePairing(gt, pred, "number", index, extra, None, count)
    parts = []
    if lonely_gt:
        parts.append(f"GT frame{'s' if len(lonely_gt) > 1 else ''} {_numbers_text(sorted(lonely_gt))} "
                     f"{'have' if len(lonely_gt) > 1 else 'has'} no output frame")
    if lonely_out:
        parts.append(f"output frame{'s' if len(lonely_out) > 1 else ''} {_numbers_text(lonely_out)} "
                     f"{'have' if len(lonely_out) > 1 else 'has'} no GT frame")
    problem = (f"{where}: {'; '.join(parts)} (frames pair by the number in their names; GT {gt.source!r}, "
               f"output {pred.source!r})")
    return FramePairing(gt, pred, "number", index, extra, None, problem)


# ---------------------------------------------------------------- writing, atomically

def _read_umask() -> int:
    """The process umask, without changing it (Linux: /proc/self/status), else set-and-restore."""
    try:
        with open("/proc/self/status") as f:
            m = re.search(r"^Umask:\s*([0-7]+)", f.read(), re.M)
        if m:
            return int(m.group(1), 8)
    except OSError:
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


_UMASK_AT_IMPORT = _read_umask()


def file_mode() -> int:
    """The mode ``open()`` gives a new file: ``0o666`` minus the umask (read now where cheap)."""
    umask = _read_umask() if os.path.exists("/proc/self/status") else _UMASK_AT_IMPORT
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file.

    The temporary sibling has a short name (``.vsrb-XXXXXXXX.tmp``) whatever the length of
    ``path``'s name; the file gets the umask's mode; an OSError becomes a one-line InputError
    naming ``path``.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vsrb-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            try:
                os.fchmod(f.fileno(), file_mode())  # mkstemp makes 0600
            except OSError:
                pass  # a file system without modes
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(e, OSError):
            raise os_error(e, "write", path) from None
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
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError(f"write_frame expects an RGB frame of shape (H, W, 3), got shape {rgb.shape} "
                         f"for {str(path)!r} (stack a grey frame with np.repeat(grey[..., None], 3, axis=2))")
    ok, buf = cv2.imencode(path.suffix or ".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise InputError(f"cannot encode frame as {path.suffix!r}")
    atomic_write_bytes(path, buf.tobytes())
