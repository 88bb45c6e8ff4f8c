"""What vsrbench knows, as text: the metrics, the benchmark suites, the models and the published
results that ``vsrbench metrics``, ``datasets``, ``models`` and ``published`` list, one request each.

Nothing here computes or downloads anything; ``models`` looks for weights files locally (and, with
``verify``, hashes the ones it finds).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vsrbench.core.errors import WeightsError
from vsrbench.core.text import text_table
from vsrbench.core.weights import find_weights, sha256sum

__all__ = [
    "MetricsRequest", "describe_metrics", "DatasetsRequest", "describe_datasets", "ModelsRequest", "describe_models", "render_models", "checkpoint_status",
    "PublishedRequest", "describe_published",
]


# ------------------------------------------------------------------ metrics


@dataclass(frozen=True)
class MetricsRequest:
    """Every metric (``name`` None), or the one called ``name`` (case-insensitive) in full."""

    name: str | None = None


def _kind(info) -> str:
    if info.human:
        return "human"
    if info.model_run:
        return "model run"
    return "per clip" if info.per_clip else ("temporal" if info.temporal else "per frame")


def _needs(info) -> str:
    """What scoring the metric needs beyond the output frames: the GT (full-reference) and weights files."""
    if info.human:
        return "a user study"
    if info.model_run:
        return "a model, LR frames"
    parts = (["GT"] if info.reference else ["no GT"]) + list(info.weights)
    if info.name in ("lpips", "tlp"):
        parts.append("lpips-alex")
    return ", ".join(parts)


def _default_in(name: str) -> str:
    """Where a metric is scored without being asked for: the protocols that name it, or the command."""
    from vsrbench.metrics import METRICS, PROTOCOLS

    if METRICS[name].model_run:
        return "vsrbench drift (runs a model)"
    return ", ".join(p for p, proto in PROTOCOLS.items() if name in proto.default_metrics) or "opt-in"


def describe_metrics(request: MetricsRequest) -> str:
    """One row per metric (name, label, direction, unit, kind, version, default protocols), or one
    metric described in three lines; an unknown name is a did-you-mean error."""
    from vsrbench.metrics import METRICS

    if request.name:
        info = METRICS[request.name.strip().lower()]
        arrow = "higher" if info.higher_is_better else "lower"
        lines = [f"{info.name} ({info.label}): {info.description}",
                 f"  {arrow} is better; unit: {info.unit or '-'}; {_kind(info)}; version {info.version}; "
                 f"shown with {info.decimals} decimals",
                 f"  needs: {_needs(info)}"
                 + (f" (`vsrbench weights download NAME`)" if info.weights else ""),
                 f"  scored by default under: {_default_in(info.name)}"]
        if info.display:
            lines.insert(3, f"  printed x{info.display[0]:g} in papers ({info.display[1]}); stored unscaled")
        return "\n".join(lines) + "\n"
    rows = [(info.name, info.label, "↑" if info.higher_is_better else "↓", info.unit or "-", _kind(info),
             info.version, _needs(info), _default_in(info.name)) for info in METRICS.values()]
    lines = text_table(rows, header=("metric", "label", "better", "unit", "kind", "version", "needs", "default in"))
    lines.append("`vsrbench metrics NAME` describes one; `--metrics a,b` (evaluate) or `metrics = [...]` (run) picks "
                 "the others")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ benchmark suites


@dataclass(frozen=True)
class DatasetsRequest:
    """Every benchmark suite in a table (``name`` None), or the suite called ``name`` in full."""

    name: str | None = None


def describe_datasets(request: DatasetsRequest) -> str:
    """The table of suites, or one suite in full (:func:`_render_suite`); an unknown name is a did-you-mean error."""
    from vsrbench.catalog.suites import SUITES, get_suite

    if request.name:
        return _render_suite(get_suite(request.name))
    return _render_suite_table(SUITES.values())


def _suite_row(s) -> tuple[str, ...]:
    p = s.protocol()
    crop = "centre/32" if p.crop == "center32" else str(p.crop_border)
    scored = "centre" if s.frames_scored == "center" else s.frames_scored if s.frames_scored != "all" else (
        "all" if not p.cut_frames else f"all-{p.cut_frames}/end")
    colour = "RGB/Y*" if p.ssim == "pyiqa" else p.color.upper()  # pyiqa: PSNR on RGB, SSIM on its own luma
    return (s.name, "?" if s.n_clips is None else str(s.n_clips), "?" if s.n_frames is None else str(s.n_frames),
            scored, colour, crop, p.average, p.name, ", ".join(s.degradations) or ("no GT" if not s.ground_truth else ""))


def _render_suite_table(suites) -> str:
    """One row per suite: clips, frames, which are scored, colour, crop, averaging, protocol, degradations."""
    header = ("SUITE", "CLIPS", "FRAMES", "SCORED", "COLOUR", "CROP", "AVERAGE", "PROTOCOL", "DEGRADATIONS")
    rows = [_suite_row(s) for s in suites]
    foot = ["RGB/Y*: the pyiqa preset, PSNR on RGB and SSIM on pyiqa's luma"] if any(r[4] == "RGB/Y*" for r in rows) else []
    return "\n".join([*text_table(rows, header=header), *foot]) + "\n"


def _render_suite(s) -> str:
    """One suite in full: its convention, clips (the first 12), folder layouts, notes and sources."""
    p = s.protocol()
    lines = [f"{s.name}: {s.title}",
             f"  convention: {s.convention()}  [hash {p.hash}]",
             f"  frames scored: {s.frames_scored}",
             f"  degradations: {', '.join(s.degradations) or '-'}"]
    if s.sequences:
        lines.append(f"  clips: {len(s.sequences)}" + ("" if s.n_frames is None else f", {s.n_frames} frames"))
        for q in s.sequences[:12]:
            size = f"  {q.size[0]}x{q.size[1]} (HxW)" if q.size else ""
            lines.append(f"    {q.name}  {q.frames if q.frames is not None else '?'} frames{size}")
        if len(s.sequences) > 12:
            lines.append(f"    ... {len(s.sequences) - 12} more (the full list ships with vsrbench)")
    elif s.clip_count:
        lines.append(f"  clips: {s.clip_count} (names not known here: only the count is validated)")
    else:
        lines.append("  clips: not known here (not validated)")
    if s.layouts:
        lines.append("  layouts:")
        for lay in s.layouts:
            lines.append(f"    {lay.name}: {lay.frame_name(0)}, {lay.frame_name(1)}, ...  ({lay.source})")
    lines += ["  notes:"] + [f"    - {n}" for n in s.notes]
    lines += ["  sources:"] + [f"    - {src}" for src in s.sources]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ models and their checkpoints


@dataclass(frozen=True)
class ModelsRequest:
    """The registered models; ``verify``: also check the sha256 of the weights found locally."""

    verify: bool = False


def describe_models(request: ModelsRequest) -> str:
    """:func:`render_models` of every registered model, against the shipped published-results database."""
    from vsrbench.baselines import MODELS

    return render_models(MODELS, verify=request.verify)


def checkpoint_status(ckpt, verify: bool = False) -> str:
    """'present: PATH' (plus companion-file and checksum notes) or 'missing'."""
    try:
        path = find_weights(ckpt.local_name or ckpt.filename, source=ckpt.source)  # where `weights download` puts it
    except WeightsError:
        return "missing"
    notes = [f"present: {path}"]
    absent = [c for c in ckpt.companions if not (Path(path).parent / c).is_file()]
    if absent:
        notes.append(f"incomplete, missing {', '.join(absent)}")
    if verify and ckpt.sha256:
        notes.append("sha256 ok" if sha256sum(path) == ckpt.sha256 else "sha256 MISMATCH")
    elif verify:
        notes.append("sha256 not known")
    return "; ".join(notes)


def _published_lines(ckpt, rows) -> list[str]:
    """The database rows of a checkpoint (``Checkpoint.published`` names (method, BI/BD) pairs),
    one line per method, suite, degradation, clip and source: ``published PyTorch TecoGAN, vid4 BD
    (sigma 1.5): psnr 26.01, lpips 0.152 (averaging unknown, convention tecogan; SOURCE)``."""
    from vsrbench.catalog.published import rows_for

    groups: dict[tuple, list] = {}
    for method, family in ckpt.published:
        for r in rows_for(rows, method, family):
            key = (r.method, r.suite, r.degradation, r.sequence, r.averaging, r.convention, r.source)
            groups.setdefault(key, []).append(r)
    lines = []
    for (method, suite, degradation, sequence, averaging, convention, source), part in groups.items():
        where = f"{suite}/{sequence}" if sequence else suite
        numbers = ", ".join(f"{r.metric} {r.value_text}" for r in part)
        lines.append(f"published {method}, {where} {degradation}: {numbers} (averaging {averaging}, "
                     f"convention {convention}; {source})")
    return lines


def _checkpoint_lines(ckpt, verify: bool, rows) -> list[str]:
    sha = ckpt.sha256[:12] if ckpt.sha256 else "unknown"
    lines = [f"    {ckpt.filename} [{ckpt.format}]  sha256 {sha}  licence: {ckpt.licence}  "
             f"{checkpoint_status(ckpt, verify)}",
             f"        source: {ckpt.source}"]
    lines += [f"        {r}" for r in _published_lines(ckpt, rows)]
    return lines + ([f"        note: {ckpt.note}"] if ckpt.note else [])


def render_models(models, verify: bool = False, published=None) -> str:
    """The listing printed by ``vsrbench models`` for the specs in ``models`` (a name -> ModelSpec map);
    ``published``: the rows of the published-results database (default: the one shipped with vsrbench)."""
    if published is None:
        from vsrbench.catalog.published import load_published

        published = load_published()
    names = sorted(models)
    header = ("MODEL", "KIND", "SCALE", "WEIGHTS", "DEGRADATION", "DESCRIPTION")
    table = text_table([(s.name, s.kind, f"x{s.scale}", "required" if s.needs_weights else "none",
                         s.degradation or "-", s.description) for s in (models[n] for n in names)], header=header)
    lines = [table[0]]
    for name, row in zip(names, table[1:]):
        lines.append(row)
        for ckpt in models[name].checkpoints:
            lines += _checkpoint_lines(ckpt, verify, published)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ published results


@dataclass(frozen=True)
class PublishedRequest:
    """The published-results rows to list (each filter optional; ``published_file``: read this CSV
    instead of the shipped database) and how: ``fmt`` ``text`` or ``csv``."""

    suite: str | None = None
    method: str | None = None
    metric: str | None = None
    published_file: str | None = None
    fmt: str = "text"


def describe_published(request: PublishedRequest) -> str:
    """The rows of ``request`` as aligned text (each followed by its source) or as CSV."""
    from vsrbench.catalog.published import filter_rows, load_published, render_rows

    rows = filter_rows(load_published(request.published_file), suite=request.suite, method=request.method,
                       metric=request.metric.lower() if request.metric else None)
    return render_rows(rows, request.fmt)
