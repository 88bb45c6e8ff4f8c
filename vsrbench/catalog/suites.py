"""The standard VSR benchmark suites (Vid4, REDS4, Vimeo-90K-T, UDM10, SPMCS, ToS3) and those of
diffusion-VSR papers (YouHQ40, REDS30, VideoLQ without ground truth, RealVSR, MVSR4x), declared as data.

The facts live in ``vsrbench/data/suites.toml`` (and the Vimeo-90K-T clip list in
``vsrbench/data/vimeo90k_test_clips.txt.gz``), each with its source. A :class:`Suite` knows its
clips (names, frame counts, frame sizes where known), the folder layouts people have, which
frames are scored, its BI / BD degradations (names in :mod:`vsrbench.baselines.degrade`) and the
scoring convention the literature uses (a protocol preset plus overrides, :meth:`Suite.protocol`).

:meth:`Suite.validate` checks a GT folder (and optionally an outputs folder) against the suite
without reading any pixel: the clip set, the frame count of every clip and (``strict=True``) the
size of each clip's first frame, read from its header. It returns a :class:`SuiteCheck` (the
matched sequences) or raises an :class:`~vsrbench.core.errors.InputError` naming what was expected
where. Nothing is downloaded and no data is shipped.

Small look-alikes for tests: :meth:`Suite.lookalike` returns the same suite with fewer frames,
smaller frames and/or a subset of clips (``strict=False`` instead skips frame counts and sizes).
A part of a suite is scored with :meth:`Suite.select` (a clip list) or :meth:`Suite.partition` (a named
one: Vimeo-90K-T's ``fast`` / ``medium`` / ``slow``); GT and outputs may then hold other clips too.

>>> get_suite("reds4").protocol().name
'basicsr-rgb'
>>> get_suite("vimeo90k-t").protocol().frames_scored
'center'
"""
from __future__ import annotations

import dataclasses
import gzip
import os
import re
import struct
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from vsrbench.core.errors import InputError, Registry

SUITE_NAMES = ("vid4", "reds4", "vimeo90k-t", "udm10", "spmcs", "tos3", "youhq40", "reds30", "videolq", "realvsr",
               "mvsr4x")
FRAMES_SCORED = ("all", "center")  # or a list of frame indices, "0,50,99" (metrics.protocol)


@dataclass(frozen=True)
class SequenceSpec:
    """One clip of a suite: its name (``"calendar"``, ``"000"``, ``"00001/0266"``), its frame
    count and frame size ``(H, W)``; ``None`` where not known (then not validated)."""

    name: str
    frames: int | None = None
    size: tuple[int, int] | None = None


@dataclass(frozen=True)
class Layout:
    """A frame-naming layout people have: ``pattern.format(first + i)`` names frame ``i``."""

    name: str
    pattern: str
    first: int = 0
    source: str = ""

    def frame_name(self, i: int) -> str:
        return self.pattern.format(self.first + i)


@dataclass(frozen=True)
class Suite:
    """A benchmark suite (see the module docstring); build one with :func:`get_suite`."""

    name: str
    title: str
    sequences: tuple[SequenceSpec, ...]
    layouts: tuple[Layout, ...] = ()
    frames_scored: str = "all"
    degradations: tuple[str, ...] = ()
    protocol_name: str = "basicsr-y"
    protocol_overrides: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    #: the number of clips when the names are not known (then only the count is validated)
    clip_count: int | None = None
    #: 1: clips are folders of the GT folder; 2: ``<folder>/<clip>`` (Vimeo-90K-T)
    clip_depth: int = 1
    #: a sub-folder the clips may sit in (``sequences`` for Vimeo-90K-T)
    root: str | None = None
    #: False: the suite has no ground truth (VideoLQ): no-reference metrics only, outputs checked alone
    ground_truth: bool = True
    #: named clip subsets (Vimeo-90K-T fast / medium / slow): name -> the data file listing them
    partitions: Mapping[str, str] = field(default_factory=dict)
    #: the name of the subset this suite was cut to (:meth:`select`), None for the whole suite; a subset
    #: ignores clips of GT and outputs outside it
    subset: str | None = None

    # -- facts

    @property
    def names(self) -> tuple[str, ...]:
        """The clip names, in order (empty when not known)."""
        return tuple(s.name for s in self.sequences)

    @property
    def n_clips(self) -> int | None:
        return len(self.sequences) if self.sequences else self.clip_count

    @property
    def n_frames(self) -> int | None:
        """Frames in all clips (None when a count is unknown)."""
        if not self.sequences or any(s.frames is None for s in self.sequences):
            return None
        return sum(s.frames for s in self.sequences)

    def sequence(self, name: str) -> SequenceSpec:
        for s in self.sequences:
            if s.name == name:
                return s
        raise InputError(f"suite {self.name}: no clip {name!r} (clips: {_shorten(self.names)})")

    def protocol(self, **overrides):
        """The suite's convention as a :class:`~vsrbench.metrics.Protocol` (preset + the suite's
        overrides + ``frames_scored``), with ``overrides`` on top (e.g. ``crop_border=8``)."""
        from vsrbench.metrics import get_protocol

        base = dict(self.protocol_overrides)
        if self.frames_scored != "all":
            base["frames_scored"] = self.frames_scored
        return get_protocol(self.protocol_name, **{**base, **overrides})

    def convention(self) -> str:
        """One line: colour, crop, frames scored, averaging (the suite's default protocol)."""
        p = self.protocol()
        crop = "centre crop /32" if p.crop == "center32" else f"crop {p.crop_border}"
        frames = "centre frame only" if self.frames_scored == "center" else (
            f"frames {self.frames_scored}" if self.frames_scored != "all" else
            f"all frames but {p.cut_frames} at each end" if p.cut_frames else "all frames")
        avg = {"seq_avg": "mean of clip means", "frame_avg": "mean over frames"}.get(p.average, p.average)
        if self.frames_scored == "center":
            avg = "mean over clips"
        color = "PSNR on RGB, SSIM on pyiqa's luma" if p.ssim == "pyiqa" else p.color.upper()
        return f"{color}, {crop}, {frames}, {avg} (protocol {p.name})"

    def lookalike(self, *, frames: int | None = None, size: tuple[int, int] | None = None,
                  clips: Iterable[str] | None = None) -> "Suite":
        """A scaled-down copy for tests: every clip with ``frames`` frames and/or ``size`` (H, W),
        and/or only the clips named in ``clips`` (in that order; unknown names are an error)."""
        seqs = self.sequences
        if clips is not None:
            seqs = tuple(self.sequence(c) for c in clips)
        seqs = tuple(dataclasses.replace(s, frames=s.frames if frames is None else frames,
                                         size=s.size if size is None else tuple(size)) for s in seqs)
        return dataclasses.replace(self, sequences=seqs, clip_count=len(seqs) if clips is not None else self.clip_count)

    def validate_outputs(self, pred: str | os.PathLike, *, strict: bool = True) -> dict:
        """The outputs of a suite without ground truth (VideoLQ), checked as GT would be: the clip set (its
        names or count where known; ``strict=False``: not the count), every clip holding frames.
        Returns ``{clip: FrameSequence}`` in the suite's order."""
        from vsrbench.core.io import open_sequence

        root = _clip_root(self, Path(pred).expanduser(), "PRED")
        suite = self if strict else dataclasses.replace(self, clip_count=None)
        out = {}
        for name in _gt_clips(suite, Path(pred), root, "PRED"):
            seq = open_sequence(root / name, name=name)
            _check_gt_clip(self, root / name, seq, None, strict)
            out[name] = seq
        return out

    def select(self, clips: Iterable[str], label: str) -> "Suite":
        """The suite cut to ``clips`` (names of its clips, in the given order; an unknown name is an error
        naming it), called ``label`` (a partition's name or the clip list's); GT and outputs may hold
        other clips, which are left alone. A suite whose names are not known keeps the given names."""
        clips = list(dict.fromkeys(c.strip() for c in clips if c.strip()))
        if not clips:
            raise InputError(f"suite {self.name}: the clip list {label!r} names no clip")
        if self.sequences:
            known = {s.name: s for s in self.sequences}
            unknown = [c for c in clips if c not in known]
            if unknown:
                raise InputError(f"suite {self.name}: clip list {label!r}: {len(unknown)} clip(s) not in the suite: "
                                 f"{_shorten(unknown)}")
            seqs = tuple(known[c] for c in clips)
        else:
            seqs = tuple(SequenceSpec(c) for c in clips)
        return dataclasses.replace(self, sequences=seqs, clip_count=len(seqs), subset=label)

    def partition(self, name: str) -> "Suite":
        """The suite cut to its named partition (``get_suite("vimeo90k-t").partition("fast")``)."""
        if name not in self.partitions:
            from vsrbench.core.errors import UnknownNameError

            raise UnknownNameError(f"partition of suite {self.name}", name, self.partitions)
        file = self.partitions[name]
        clips = [ln.split()[1] for ln in _read_clip_list(file) if ln.split()[0] == name]
        return self.select(clips, name)

    # -- validation

    def validate(self, gt: str | os.PathLike, pred: str | os.PathLike | None = None, *,
                 strict: bool = True) -> "SuiteCheck":
        """Check the GT folder (and the outputs ``pred``) against the suite; see the module docstring.

        ``strict=False`` checks the clip set only (not frame counts or sizes), e.g. for a partial copy.
        Outputs must have the clips of GT and, per clip, as many frames as GT or, when the suite
        scores the centre frame only, just that frame (``im4.png`` of a Vimeo-90K-T septuplet).
        """
        return _validate(self, Path(gt).expanduser(), None if pred is None else Path(pred).expanduser(), strict)


@dataclass
class SuiteCheck:
    """What :meth:`Suite.validate` matched: GT (and outputs) sequences by clip name, in suite order."""

    suite: Suite
    gt_root: Path
    gt: dict  # clip name -> vsrbench.core.io.FrameSequence
    pred_root: Path | None = None
    pred: dict | None = None
    #: clips whose outputs hold only the centre frame (scored against GT's centre frame)
    center_only: tuple[str, ...] = ()
    layout: str | None = None  # the matched frame-naming layout of GT, when one matched
    notes: list[str] = field(default_factory=list)

    @property
    def clips(self) -> tuple[str, ...]:
        return tuple(self.gt)

    def pairs(self) -> list[tuple[Any, Any]]:
        """(GT, output) sequence pairs. Where an output holds only the centre frame, it stands at GT's
        centre index (:func:`centre_padded`), so frame indices and names are GT's whether the outputs
        hold every frame or only im4; such a pair can only be scored with ``frames_scored="center"``."""
        if self.pred is None:
            raise InputError(f"suite {self.suite.name}: no outputs folder was validated (give pred)")
        out = []
        for name, g in self.gt.items():
            p = self.pred[name]
            if name in self.center_only:
                p = centre_padded(p, len(g))
            out.append((g, p))
        return out

    def summary(self) -> str:
        """One line: suite, clips, frames, layout."""
        frames = sum(len(s) for s in self.gt.values())
        bits = [f"suite {self.suite.name}: {len(self.gt)} clip(s), {frames} GT frame(s)"]
        if self.layout:
            bits.append(f"layout {self.layout}")
        if self.center_only:
            bits.append(f"outputs: centre frame only in {len(self.center_only)} clip(s)")
        return "; ".join(bits)


# ---------------------------------------------------------------------- loading

def _data_text(name: str, *, binary: bool = False):
    ref = resources.files("vsrbench").joinpath("data", name)
    return ref.read_bytes() if binary else ref.read_text(encoding="utf-8")


def _read_clip_list(name: str) -> list[str]:
    raw = _data_text(name, binary=True)
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return [ln.strip() for ln in raw.decode("utf-8").splitlines() if ln.strip() and not ln.startswith("#")]


def _suite_from_table(name: str, t: Mapping[str, Any]) -> Suite:
    if "clip_list" in t:
        size = tuple(t["clip_size"]) if "clip_size" in t else None
        seqs = tuple(SequenceSpec(c, t.get("clip_frames"), size) for c in _read_clip_list(t["clip_list"]))
    else:
        seqs = tuple(SequenceSpec(s["name"], s.get("frames"), tuple(s["size"]) if "size" in s else None)
                     for s in t.get("sequences", []))
    frames_scored = str(t.get("frames_scored", "all"))
    if frames_scored not in FRAMES_SCORED and not all(x.strip().isdigit() for x in frames_scored.split(",")):
        raise ValueError(f"suites.toml: [{name}] frames_scored={frames_scored!r}")
    return Suite(
        name=name, title=t.get("title", name), sequences=seqs,
        layouts=tuple(Layout(**lay) for lay in t.get("layouts", [])),
        frames_scored=frames_scored, degradations=tuple(t.get("degradations", ())),
        protocol_name=t.get("protocol", "basicsr-y"), protocol_overrides=dict(t.get("protocol_overrides", {})),
        notes=tuple(t.get("notes", ())), sources=tuple(t.get("sources", ())),
        clip_count=t.get("clip_count"), clip_depth=int(t.get("clip_depth", 1)), root=t.get("root"),
        ground_truth=bool(t.get("ground_truth", True)), partitions=dict(t.get("partitions", {})),
    )


def _load_suites() -> Registry:
    data = tomllib.loads(_data_text("suites.toml"))
    reg = Registry("suite")
    for name in SUITE_NAMES:
        reg.register(name, _suite_from_table(name, data[name]))
    return reg


SUITES: Registry = _load_suites()


def get_suite(name: "str | Suite") -> Suite:
    """A suite by name (unknown names raise :class:`~vsrbench.core.errors.UnknownNameError` with a
    did-you-mean); a :class:`Suite` is returned as it is."""
    return name if isinstance(name, Suite) else SUITES[str(name)]


def detect_suite(gt: str | os.PathLike) -> Suite | None:
    """The suite whose clip names match the clip folders of ``gt`` best (None when none matches)."""
    try:
        found = set(_clip_dirs(Path(gt), 1)) | set(_clip_dirs(Path(gt), 2))
        root = Path(gt) / "sequences"
        if root.is_dir():
            found |= set(_clip_dirs(root, 2))
    except OSError:
        return None
    best, score = None, 0
    for s in SUITES.values():
        hit = len(found & set(s.names))
        if hit > score:
            best, score = s, hit
    return best


# ---------------------------------------------------------------------- validation

_PNG = b"\x89PNG\r\n\x1a\n"


def frame_size(path: Path) -> tuple[int, int]:
    """(H, W) of an image file, from the PNG header (else one decode)."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError as e:
        from vsrbench.core.errors import os_error

        raise os_error(e, "read frame", path) from None
    if head[:8] == _PNG and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        return int(h), int(w)
    from vsrbench.core.io import decode_image

    return tuple(decode_image(path).shape[:2])


def _clip_dirs(root: Path, depth: int) -> list[str]:
    """Names of clip folders ``depth`` levels under ``root`` (``a/b`` for depth 2), sorted."""
    out = []
    if not root.is_dir():
        return out
    for e in sorted(os.scandir(root), key=lambda e: e.name):
        if e.name.startswith(".") or not e.is_dir():
            continue
        if depth == 1:
            out.append(e.name)
        else:
            out.extend(f"{e.name}/{sub}" for sub in _clip_dirs(Path(e.path), depth - 1))
    return out


def _shorten(names: Iterable[str], n: int = 8) -> str:
    names = list(names)
    head = ", ".join(names[:n])
    return head + (f", ... ({len(names)} in all)" if len(names) > n else "")


def _expected_frames(suite: Suite, spec: SequenceSpec | None) -> str:
    """'100 frames 00000000.png..00000099.png' (layout of the suite) for messages."""
    n = spec.frames if spec else None
    lay = suite.layouts[0] if suite.layouts else None
    count = f"{n} frames" if n else "frames"
    if lay and n:
        return f"{count} {lay.frame_name(0)}..{lay.frame_name(n - 1)}"
    if lay:
        return f"{count} named like {lay.frame_name(0)}"
    return count


def _clip_root(suite: Suite, path: Path, what: str) -> Path:
    if not path.exists():
        raise InputError(f"{what} folder not found: {str(path)!r}")
    if not path.is_dir():
        raise InputError(f"{what} {str(path)!r} is a file; suite {suite.name} expects a folder of clip folders")
    if suite.root and (path / suite.root).is_dir():
        return path / suite.root
    return path


def _layout_of(suite: Suite, frames: list[Path]) -> str | None:
    names = [p.name for p in frames]
    for lay in suite.layouts:
        if names and all(n == lay.frame_name(i) for i, n in enumerate(names)):
            return lay.name
    return None


def _expected_where(suite: Suite, what: str, root: Path) -> str:
    """'expected <root>/000/, 011/, ... each with 100 frames 00000000.png..' for messages."""
    if suite.names:
        first = suite.sequences[0]
        sub = "<5 digits>/<4 digits>/" if suite.clip_depth == 2 else ""
        clips = f"{sub}clip folders such as {first.name}/" if suite.clip_depth == 2 else \
            "clip folders " + ", ".join(f"{n}/" for n in suite.names[:8]) + (" ..." if len(suite.names) > 8 else "")
        return f"expected {clips} in {str(root)!r}, each with {_expected_frames(suite, first)}"
    if suite.clip_count:
        return f"expected {suite.clip_count} clip folders in {str(root)!r}"
    return f"expected clip folders in {str(root)!r}"


def _validate(suite: Suite, gt: Path, pred: Path | None, strict: bool) -> SuiteCheck:
    from vsrbench.core.io import open_sequence

    gt_root = _clip_root(suite, gt, "GT")
    order = _gt_clips(suite, gt, gt_root)
    specs = {s.name: s for s in suite.sequences}
    seqs: dict = {}
    layouts: set = set()
    for name in order:
        seq = open_sequence(gt_root / name, name=name)
        _check_gt_clip(suite, gt_root / name, seq, specs.get(name), strict)
        layouts.add(_layout_of(suite, seq.paths))
        seqs[name] = seq
    check = SuiteCheck(suite, gt_root, seqs)
    if len(layouts) == 1:
        check.layout = next(iter(layouts))
    if not strict:
        check.notes.append("frame counts and sizes not checked (strict=False)")
    if pred is not None:
        _validate_pred(check, pred)
    return check


def _gt_clips(suite: Suite, gt: Path, gt_root: Path, side: str = "GT") -> list[str]:
    """The clip folders of ``gt_root`` in the suite's order, checked against the suite's clip names (or count)."""
    found = _clip_dirs(gt_root, suite.clip_depth)
    wanted = list(suite.names)
    if not found:
        loose = [p.name for p in sorted(gt_root.iterdir()) if p.is_file() and not p.name.startswith(".")][:3]
        what = f"image files ({', '.join(loose)}, ...)" if loose else "no clip folders"
        other = detect_suite(gt)
        hint = f"; it looks like suite {other.name}" if other and other.name != suite.name else ""
        raise InputError(f"{side} {str(gt)!r} does not match suite {suite.name}: it holds {what}; "
                         f"{_expected_where(suite, side, gt_root)}{hint}")
    if not wanted:
        if suite.clip_count is not None and len(found) != suite.clip_count:
            raise InputError(f"{side} {str(gt_root)!r}: suite {suite.name}: {len(found)} clip folder(s), expected "
                             f"{suite.clip_count} (found {_shorten(found)})")
        return found
    have = set(found)
    missing = [n for n in wanted if n not in have]
    extra = [n for n in found if n not in set(wanted)]
    if missing and len(missing) == len(wanted):
        other = detect_suite(gt)
        hint = f"; it looks like suite {other.name}" if other and other.name != suite.name else ""
        raise InputError(f"{side} {str(gt)!r} matches no clip of suite {suite.name}: found {_shorten(found)}; "
                         f"{_expected_where(suite, side, gt_root)}{hint}")
    if missing:
        raise InputError(f"{side} {str(gt_root)!r}: suite {suite.name}: {len(missing)} clip(s) missing: "
                         f"{_shorten(missing)} (expected {len(wanted)} clips, found {len(found)})")
    if extra and suite.subset is None:
        raise InputError(f"{side} {str(gt_root)!r}: suite {suite.name}: {len(extra)} clip(s) not in the suite: "
                         f"{_shorten(extra)} (expected only {_shorten(wanted)}); remove them or name a dataset "
                         "without a suite")
    return wanted


def _check_gt_clip(suite: Suite, folder: Path, seq, spec, strict: bool) -> None:
    """A GT clip has frames; with ``strict``, as many and as large as the suite says (when it says)."""
    if len(seq) == 0:
        raise InputError(f"GT clip {str(folder)!r}: no frames; expected {_expected_frames(suite, spec)}")
    if strict and spec and spec.frames is not None and len(seq) != spec.frames:
        raise InputError(f"GT clip {str(folder)!r}: {len(seq)} frames, expected {spec.frames} "
                         f"({_expected_frames(suite, spec)}) for suite {suite.name}")
    if strict and spec and spec.size is not None:
        hw = frame_size(seq.paths[0])
        if hw != tuple(spec.size):
            raise InputError(f"GT frame {str(seq.paths[0])!r}: {hw[0]}x{hw[1]} (HxW), expected "
                             f"{spec.size[0]}x{spec.size[1]} for suite {suite.name}")


def _validate_pred(check: SuiteCheck, pred: Path) -> None:
    from vsrbench.core.io import open_sequence

    suite = check.suite
    root = _clip_root(suite, pred, "PRED")
    found = _clip_dirs(root, suite.clip_depth)
    have = set(found)
    missing = [n for n in check.gt if n not in have]
    extra = [n for n in found if n not in check.gt]
    if missing and len(missing) == len(check.gt):
        raise InputError(f"PRED {str(pred)!r} has none of the GT clips of suite {suite.name}: found "
                         f"{_shorten(found) or 'no clip folders'}; expected clip folders named like GT's "
                         f"({_shorten(check.gt)}) in {str(root)!r}")
    if missing:
        raise InputError(f"PRED {str(root)!r}: suite {suite.name}: outputs missing for {len(missing)} clip(s): "
                         f"{_shorten(missing)}")
    if extra and suite.subset is None:
        raise InputError(f"PRED {str(root)!r}: suite {suite.name}: {len(extra)} clip(s) not in GT: {_shorten(extra)}")
    out: dict = {}
    centre: list[str] = []
    for name, g in check.gt.items():
        seq = open_sequence(root / name, name=name)
        if len(seq) == len(g):
            out[name] = seq
            continue
        if suite.frames_scored == "center" and len(seq) == 1:
            mid = len(g) // 2
            if is_centre_frame(g, seq):
                out[name] = seq
                centre.append(name)
                continue
            raise InputError(f"PRED clip {str(root / name)!r}: its one frame {seq.paths[0].name!r} is not the centre "
                             f"frame {g.paths[mid].name!r} (suite {suite.name} scores the centre frame only)")
        also = f" or only the centre frame {g.paths[len(g) // 2].name}" if suite.frames_scored == "center" else ""
        raise InputError(f"PRED clip {str(root / name)!r}: {len(seq)} frames, expected {len(g)} like GT{also}")
    check.pred_root, check.pred, check.center_only = root, out, tuple(centre)


def open_clips(suite: "Suite | str", path: str | os.PathLike) -> dict:
    """The clip folders of ``path`` laid out as ``suite`` lays them out (``sequences/<5>/<4>/`` for
    Vimeo-90K-T), as ``{clip name: FrameSequence}``, without checking them against the suite;
    a folder of one level of clips falls back to :func:`vsrbench.core.io.open_dataset`."""
    from vsrbench.core.io import open_dataset, open_sequence

    suite = get_suite(suite)
    path = Path(path)
    if suite.clip_depth == 1:
        return open_dataset(path)
    root = _clip_root(suite, path, "folder")
    names = _clip_dirs(root, suite.clip_depth)
    if not names:
        raise InputError(f"no clip folders <folder>/<clip>/ in {str(root)!r} (suite {suite.name})")
    return {n: open_sequence(root / n, name=n) for n in names}


def open_recorded(path: str | os.PathLike, suite: "Suite | str | None" = None) -> dict:
    """The sequences of a folder a run record names: laid out as its suite lays them out
    (:func:`open_clips`) when the dataset has one, else :func:`vsrbench.core.io.open_dataset`."""
    from vsrbench.core.io import open_dataset

    return open_clips(suite, path) if suite else open_dataset(path)


def aligned_outputs(gt: dict, outputs: dict) -> dict:
    """``outputs`` with each output holding only its centre frame (e.g. Vimeo-90K-T im4) standing at
    its GT clip's centre index (:func:`centre_padded`), as the runner and evaluate store it."""
    return {name: centre_padded(seq, len(gt[name])) if name in gt and len(seq) == 1 < len(gt[name]) else seq
            for name, seq in outputs.items()}


_NUM = re.compile(r"(\d+)(?!.*\d)")


def _frame_number(name: str) -> int | None:
    m = _NUM.search(Path(name).stem)
    return int(m.group(1)) if m else None


def is_centre_frame(gt, pred) -> bool:
    """Whether the one frame of ``pred`` is GT's centre frame ``len(gt) // 2`` by the number in their names
    (``im4.png`` of a Vimeo-90K-T septuplet)."""
    return _frame_number(pred.paths[0].name) == _frame_number(gt.paths[len(gt) // 2].name)


def centre_padded(seq, n: int):
    """A 1-frame output (the centre frame) as a sequence of ``n`` frames standing at index ``n // 2``:
    every index reads that one frame and ``only_index`` says which index is real (the evaluation
    refuses to score any other)."""
    if len(seq) != 1:
        raise InputError(f"sequence {seq.name!r}: expected one (centre) frame, got {len(seq)}")
    if seq.arrays is not None:
        return dataclasses.replace(seq, arrays=list(seq.arrays) * n, only_index=n // 2)
    return dataclasses.replace(seq, paths=list(seq.paths) * n, only_index=n // 2)


__all__ = ["SUITES", "SUITE_NAMES", "Suite", "SuiteCheck", "SequenceSpec", "Layout", "get_suite", "detect_suite",
           "frame_size", "open_clips", "open_recorded", "aligned_outputs", "is_centre_frame", "centre_padded"]
