"""``vsrbench demo``: a complete benchmark that runs offline in seconds, as a working example.

It renders three short videos from photographs bundled with scikit-image, each with a
sub-pixel camera motion (a pan, a zoom, a rotation), makes their low-resolution inputs with a
named degradation (``bd-tecogan``), writes a benchmark file ``demo.toml`` next to the data
and runs it with :func:`vsrbench.runner.run_benchmark`. The methods need no downloaded
weights: two bicubic baselines and three bicubic variants that show what the temporal
metrics see:

- ``bicubic-flicker``: bicubic plus independent noise in every frame (flicker);
- ``bicubic-jitter``: bicubic, each frame shifted by a random sub-pixel offset (shaky);
- ``bicubic-frozen``: bicubic of every other frame, each held for two frames (judder).

Scores use the ``tecogan`` protocol; LPIPS and tLP are left out (and it is said once) when
the AlexNet backbone weights are not installed. The leaderboard (Markdown and LaTeX) and all
figures (with a crop comparison of the first scene, :mod:`vsrbench.visual.figures`) land in the demo
folder, ``./vsrbench-demo`` by default, with an HTML report in ``report/`` (:mod:`vsrbench.visual.report`).

Frames are rendered alias-free: each HR frame is warped (bicubic) at 4x its size and then
area-averaged down, so the motion between frames is sub-pixel and smooth.
"""
from __future__ import annotations

import hashlib
import math
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from vsrbench.core.errors import InputError
from vsrbench.core.frames import to_uint8
from vsrbench.core.io import write_frame

__all__ = [
    "DEFAULT_OUT", "DEFAULT_FRAMES", "HR_SIZE", "SUPERSAMPLE", "SCALE", "DEGRADATION", "PROTOCOL", "DATASET",
    "MARKER", "OWNED", "Scene", "SCENES", "camera", "render_matrix", "render_scene",
    "bicubic_flicker", "bicubic_jitter", "bicubic_frozen", "METHODS", "demo_metrics",
    "prepare_folder", "DemoResult", "DemoRequest", "demo", "run_demo",
]

DEFAULT_OUT = "vsrbench-demo"
DEFAULT_FRAMES = 12
HR_SIZE = (192, 256)  # (height, width) of the ground truth
SUPERSAMPLE = 4  # render at this multiple, then area-average down
SCALE = 4
DEGRADATION = "bd-tecogan"
PROTOCOL = "tecogan"
DATASET = "demo"
MARKER = "demo.toml"  # a folder holding it is a demo folder the demo may refresh
OWNED = ("data", "results", "figures", "report", "leaderboard.md", "leaderboard.tex", MARKER)


@dataclass(frozen=True)
class Scene:
    """A photograph seen by a moving camera; ``zoom_px`` is source pixels per HR pixel."""

    name: str
    image: str  # a function of skimage.data
    motion: str  # "pan", "zoom" or "rotate"
    zoom_px: float


SCENES = (
    Scene("astronaut-pan", "astronaut", "pan", 1.6),
    Scene("coffee-zoom", "coffee", "zoom", 1.4),
    Scene("chelsea-rotate", "chelsea", "rotate", 1.1),
)


# ------------------------------------------------------------------ rendering the videos

def camera(motion: str, t: int) -> tuple[np.ndarray, np.ndarray]:
    """The camera at frame ``t``: a 2x2 linear map and a shift (HR pixels) about the frame centre.

    Pan: 0.6 px/frame right and 0.25 px/frame down; zoom: 1.5 % per frame; rotation: 0.6 degree
    per frame. All are sub-pixel per frame.
    """
    if motion == "pan":
        return np.eye(2), np.array([0.6 * t, 0.25 * t])
    if motion == "zoom":
        return np.eye(2) / 1.015 ** t, np.zeros(2)
    if motion == "rotate":
        a = math.radians(0.6 * t)
        return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]), np.zeros(2)
    raise InputError(f"motion: expected pan, zoom or rotate, got {motion!r}")


def render_matrix(scene: Scene, source_hw: tuple[int, int], t: int) -> np.ndarray:
    """2x3 affine map from render-grid pixels (SUPERSAMPLE x HR) to source-image pixels.

    Render pixel u has its centre at HR coordinate p = (u + 0.5) / S - 0.5; the source point is
    ``c_src + zoom_px * A (p - c_hr + d)``.
    """
    a, d = camera(scene.motion, t)
    s = SUPERSAMPLE
    c_hr = np.array([(HR_SIZE[1] - 1) / 2, (HR_SIZE[0] - 1) / 2])
    c_src = np.array([(source_hw[1] - 1) / 2, (source_hw[0] - 1) / 2])
    linear = scene.zoom_px * a
    offset = c_src + linear @ (np.full(2, 0.5 / s - 0.5) - c_hr + d)
    return np.hstack([linear / s, offset[:, None]])


def render_scene(scene: Scene, n_frames: int) -> list[np.ndarray]:
    """``n_frames`` RGB uint8 HR frames of ``scene``."""
    import cv2
    import skimage.data

    source = getattr(skimage.data, scene.image)()[:, :, :3].astype(np.float32)
    size = (HR_SIZE[1] * SUPERSAMPLE, HR_SIZE[0] * SUPERSAMPLE)
    frames = []
    for t in range(n_frames):
        big = cv2.warpAffine(source, render_matrix(scene, source.shape[:2], t), size,
                             flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT_101)
        small = cv2.resize(big, (HR_SIZE[1], HR_SIZE[0]), interpolation=cv2.INTER_AREA)
        frames.append(to_uint8(small, unit=255.0))
    return frames


def _write_ground_truth(folder: Path, n_frames: int) -> None:
    """One folder of PNG frames per scene under ``folder``."""
    for scene in SCENES:
        for t, frame in enumerate(render_scene(scene, n_frames)):
            write_frame(folder / scene.name / f"{t:04d}.png", frame)


# ------------------------------------------------------------------ the demo's own methods (callables)

_BICUBIC_CACHE: dict[str, list[np.ndarray]] = {}


def _bicubic(lr_frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The "bicubic" model's output, computed once per distinct input (three variants share it)."""
    from vsrbench.baselines import load_model

    digest = hashlib.sha1()
    for f in lr_frames:
        digest.update(repr(f.shape).encode() + np.ascontiguousarray(f).tobytes())
    key = digest.hexdigest()
    if key not in _BICUBIC_CACHE:
        _BICUBIC_CACHE.clear()  # one sequence at a time: keep memory flat
        _BICUBIC_CACHE[key] = list(load_model("bicubic").upscale(lr_frames))
    return [f.copy() for f in _BICUBIC_CACHE[key]]


def bicubic_flicker(lr_frames: Sequence[np.ndarray], sigma: float = 0.04, seed: int = 0) -> list[np.ndarray]:
    """Bicubic plus independent Gaussian noise (``sigma`` in [0, 1] units) in every frame."""
    rng = np.random.default_rng(seed)
    return [f + rng.normal(0.0, sigma, f.shape).astype(np.float32) for f in _bicubic(lr_frames)]


def bicubic_jitter(lr_frames: Sequence[np.ndarray], amplitude: float = 0.75, seed: int = 0) -> list[np.ndarray]:
    """Bicubic, each frame shifted by a random offset of up to ``amplitude`` HR pixels per axis."""
    import cv2

    rng = np.random.default_rng(seed)
    out = []
    for f in _bicubic(lr_frames):
        dx, dy = rng.uniform(-amplitude, amplitude, 2)
        m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
        out.append(cv2.warpAffine(f, m, (f.shape[1], f.shape[0]), flags=cv2.INTER_CUBIC,
                                  borderMode=cv2.BORDER_REFLECT_101))
    return out


def bicubic_frozen(lr_frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Bicubic of frames 0, 0, 2, 2, 4, 4, ...: every other frame is a repeat (judder)."""
    up = _bicubic(lr_frames)
    return [up[t - t % 2] for t in range(len(lr_frames))]


METHODS = {  # name -> (TOML source line, description)
    "bicubic": ('model = "bicubic"', "MATLAB imresize bicubic"),
    "bicubic-tf": ('model = "bicubic-tf"', "TF1 legacy resize_bicubic (TecoGAN's skip connection)"),
    "bicubic-flicker": ('callable = "vsrbench.demo:bicubic_flicker"', "bicubic + per-frame noise (flicker)"),
    "bicubic-jitter": ('callable = "vsrbench.demo:bicubic_jitter"', "bicubic, random sub-pixel shake"),
    "bicubic-frozen": ('callable = "vsrbench.demo:bicubic_frozen"', "bicubic of every other frame, held"),
}


# ------------------------------------------------------------------ the benchmark and the report

def demo_metrics(say: Callable[[str], None]) -> list[str]:
    """The protocol's metrics, without LPIPS and tLP when their weights file is missing (said once, in
    the words of :func:`vsrbench.runner.skip_missing_lpips`)."""
    from vsrbench.metrics import get_protocol
    from vsrbench.runner import skip_missing_lpips

    protocol = get_protocol(PROTOCOL)
    return skip_missing_lpips(protocol.default_metrics, protocol, named=False, say=say)


def _bench_toml(metrics: Sequence[str]) -> str:
    """The demo's benchmark definition (paths relative to the demo folder)."""
    lines = [
        "# vsrbench demo benchmark: written by `vsrbench demo`; run it again with",
        "#   vsrbench run demo.toml --out results",
        'name = "vsrbench-demo"',
        'description = "three rendered camera motions over scikit-image photographs, x4 BD"',
        f'protocol = "{PROTOCOL}"',
        "metrics = [" + ", ".join(f'"{m}"' for m in metrics) + "]",
        "",
        f"[datasets.{DATASET}]",
        'gt = "data/gt"',
        f'degradation = "{DEGRADATION}"',
        f"scale = {SCALE}",
    ]
    for name, (source, description) in METHODS.items():
        lines += ["", f"[methods.{name}]", source, f'description = "{description}"']
    return "\n".join(lines) + "\n"


def prepare_folder(out: Path) -> None:
    """Create ``out``; a previous demo there is replaced, any other non-empty folder refused."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {str(out)!r} is a file, expected a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise InputError(f"--out: {str(out)!r} is not empty and holds no previous demo ({MARKER}); "
                             "choose a new or empty folder")
        for name in OWNED:
            p = out / name
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


@dataclass
class DemoResult:
    """What :func:`run_demo` wrote."""

    out: Path
    bench: Path
    results: Path
    metrics: list[str]
    tables: dict[str, Path] = field(default_factory=dict)  # format -> file
    figures: list[Path] = field(default_factory=list)
    markdown: str = ""
    report: Path | None = None  # report/index.html (vsrbench.visual.report)

    def summary(self) -> str:
        """What ``vsrbench demo`` prints: the Markdown table, then where each part was written."""
        lines = [f"\nbenchmark file: {self.bench}",
                 f"tables: {', '.join(str(p) for p in self.tables.values())}",
                 f"figures: {len(self.figures)} in {self.out / 'figures'}",
                 f"report: {self.report} (open it in a browser)",
                 f"user study: vsrbench study make {self.results} --out {self.out / 'study'} --reference",
                 f"demo written to {self.out.resolve()}"]
        return self.markdown + "\n".join(lines) + "\n"


@dataclass(frozen=True)
class DemoRequest:
    """The demo ``vsrbench demo`` makes: in ``out``, sequences of ``frames`` frames; ``verbose``:
    also tell the runner's per-sequence lines."""

    out: str | Path = DEFAULT_OUT
    frames: int = DEFAULT_FRAMES
    verbose: bool = False


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")


def demo(request: DemoRequest, *, say: Callable[[str], None] = _stderr) -> DemoResult:
    """:func:`run_demo` of ``request``."""
    return run_demo(request.out, request.frames, say=say, progress=request.verbose)


def run_demo(out: str | Path = DEFAULT_OUT, frames: int = DEFAULT_FRAMES, *,
             say: Callable[[str], None] = _stderr, progress: bool = False) -> DemoResult:
    """Build, run and report the demo benchmark in ``out``; returns what was written.

    ``say`` receives the few lines worth telling (missing LPIPS weights, failures);
    ``progress=True`` also passes the runner's per-sequence lines to it.
    """
    from vsrbench.visual.figures import crop_figure, save_crop_figure
    from vsrbench.core.io import atomic_write_text
    from vsrbench.visual.plots import plot_results
    from vsrbench.runner import run_benchmark
    from vsrbench.results.loading import load_results
    from vsrbench.analysis.tables import build_tables
    from vsrbench.analysis.render import render_tables

    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 6:
        raise InputError(f"--frames: expected an integer >= 6 (the {PROTOCOL} protocol cuts 2 frames at each end "
                         f"and temporal metrics need 2 more), got {frames!r}")
    out = Path(out)
    prepare_folder(out)
    metrics = demo_metrics(say)
    _write_ground_truth(out / "data" / "gt", frames)
    bench = out / MARKER
    atomic_write_text(bench, _bench_toml(metrics))
    def runner_line(line: str) -> None:  # warnings and the run's ETA lines always, all progress on request
        if progress or line.startswith(("warning", "run: ")):
            say(line)

    summary = run_benchmark(bench, out / "results", device="cpu", progress=runner_line)
    if not summary.ok:
        raise InputError(f"the demo benchmark did not complete ({summary.status}): " + "; ".join(
            f"{m}/{d}/{s}: {why}" for m, d, s, why in summary.failed))
    result = DemoResult(out, bench, out / "results", metrics)
    tables = build_tables(load_results(result.results))
    result.markdown = render_tables(tables, "markdown")
    for fmt, name, text in (("markdown", "leaderboard.md", result.markdown),
                            ("latex", "leaderboard.tex", render_tables(tables, "latex", standalone=True))):
        atomic_write_text(out / name, text)
        result.tables[fmt] = out / name
    result.figures = plot_results(result.results, out / "figures", kinds="all", formats="png", warn=say)
    crops = crop_figure(result.results, DATASET, SCENES[0].name)  # where the methods differ most
    result.figures.append(save_crop_figure(crops.figure, out / "figures" / f"crops_{DATASET}_{SCENES[0].name}.png"))
    from vsrbench.visual.report import build_report  # the HTML report (about 5 MiB, 2-3 s)

    result.report = build_report(result.results, out / "report", warn=say).index
    return result
