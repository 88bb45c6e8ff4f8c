"""Published VSR results as data: one number per row, each with its convention and its source.

The database ships with the package (``vsrbench/data/published.csv``); a user may keep their own
file in the same format. Columns (a header line names them; ``#`` lines and blank lines are
skipped; one row per line):

``method``
    as the source names it (``PyTorch TecoGAN``, ``BasicVSR++``); rows are never re-labelled.
``suite``
    a benchmark suite: ``vid4``, ``reds4``, ``vimeo90k-t``, ``udm10``, ``spmcs``, ``tos3``.
``degradation``
    ``BI``, ``BD`` or ``RW`` (a real-world / random degradation, as diffusion-VSR papers use),
    optionally followed by what the source says of the kernel in parentheses: ``BD (sigma 1.6)``
    (BasicVSR / mmagic), ``BD (sigma 1.5)`` (TecoGAN), ``BD (DUF authors' LR, bd-duf)``,
    ``RW (DOVE's test-set LQ)``.
``metric``
    a vsrbench metric name: ``psnr``, ``ssim``, ``lpips``, ``tof``, ``tlp`` (``tlp`` on TecoGAN's ×100 scale),
    ``dists``, ``clipiqa``, ``fastervqa``, ``dover``, ``ewarp-evalcrafter``, ... (``vsrbench metrics``).
``value``
    the number as printed (kept as text too, so ``0.8800`` keeps its digits).
``sequence``
    empty for a dataset-level number, else the clip (``calendar``) of a per-clip number.
``averaging``
    ``seq_avg`` (mean of clip means), ``frame_avg`` (mean over all frames) or ``unknown``.
``convention``
    a vsrbench protocol as it names itself (``tecogan``, ``basicsr-rgb``,
    ``basicsr-y[frames_scored=center]``: a preset and its overridden fields), or a short
    description (``not stated in the source``), which never matches a protocol.
``source``
    paper + table, or ``owner/repo:path``.
``note`` (optional)
    anything else the reader must know.

Provenance columns (the shipped database has all three; a user's file may leave them out, its rows
are then ``published`` with no LQ or variant stated):

``kind``
    how vsrbench knows the number, re-checked against the ``source`` text:

    - ``published``: read by vsrbench in the source itself, the paper (its table, also its
      comparison rows for other methods) or a file of the authors' repository (a README, a
      ``metafile.yml``, a table image); ``source`` names no copy.
    - ``transcribed``: known only from a third-party copy of the source; ``source`` then reads
      ``ORIGINAL, as quoted in COPY`` (e.g. a README quoting a paper's row).
    - ``reproduced``: computed by vsrbench from the authors' outputs; ``source`` starts with
      ``vsrbench``. Such a row is vsrbench's own number, never shown as "published".
``lq``
    where the low-quality input came from, when the degradation does not fix it: empty (BI / BD:
    the suite's LR made by the named kernel), ``provided: WHERE`` (the LQ as distributed, e.g. a
    paper's test set) or ``regenerated: RECIPE, seed N`` / ``regenerated: RECIPE, seed not stated``
    (made again from GT with a random degradation such as RealBasicVSR's second-order pipeline), or
    ``unknown: WHY`` when the source does not say. A real-world degradation (``RW``) needs it.
``variant``
    which computation of the metric the source used, for the metrics whose family has several
    (DOVER and FasterVQA, E*warp, NIQE: ``dover`` = the fused overall score in [0, 1],
    ``dover-technical`` = the technical head x100, ``ewarp-evalcrafter`` = EvalCrafter's RAFT code);
    required for those metrics, free text (e.g. ``pyiqa clipiqa``) for the others.

A metric that papers print on another scale than vsrbench stores (E*warp, printed x10^-3:
:attr:`vsrbench.metrics.MetricInfo.display`) keeps the printed text in ``value``;
:attr:`PublishedRow.value` is then on vsrbench's scale (printed / 1000), so it compares with
vsrbench's own scores.

:func:`load_published` validates every row and raises one :class:`~vsrbench.core.errors.InputError`
naming ``file:line`` and the field at the first problem. :func:`disagreements` lists the numbers
two sources print differently for the same method, suite, degradation family and metric.
"""
from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from vsrbench.core.errors import InputError, UnknownNameError, unknown_name_message
from vsrbench.core.text import text_table

__all__ = [
    "DEFAULT_PATH", "SUITE_NAMES", "AVERAGINGS", "COLUMNS", "OPTIONAL", "PROVENANCE", "KINDS", "LQ",
    "VARIANT_FAMILIES", "DEGRADATION", "PROTOCOL_NAME", "metric_names", "known_suites", "PublishedRow",
    "convention_protocol", "kind_from_source", "metric_scale", "load_published", "filter_rows", "rows_for",
    "disagreements", "render_rows",
]

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "published.csv"
#: the classic suites, used when :mod:`vsrbench.catalog.suites` is not importable (a test checks they are suites)
SUITE_NAMES = ("vid4", "reds4", "vimeo90k-t", "udm10", "spmcs", "tos3")
AVERAGINGS = ("seq_avg", "frame_avg", "unknown")
COLUMNS = ("method", "suite", "degradation", "metric", "value", "sequence", "averaging", "convention", "source",
           "note", "kind", "lq", "variant")
#: fields that may be empty in a row
OPTIONAL = ("sequence", "note", "lq", "variant")
#: the provenance columns a user's file may leave out of its header (``kind`` then defaults to ``published``)
PROVENANCE = ("kind", "lq", "variant")
KINDS = ("published", "transcribed", "reproduced")
#: an ``lq`` field: ``provided: WHERE``, ``regenerated: RECIPE, seed N`` / ``... seed not stated``, or
#: ``unknown: WHY`` (the source does not say how its LQ was made)
LQ = re.compile(r"provided: \S.*|regenerated: \S.*, seed (?:\d+|not stated)|unknown: \S.*")
#: the metric families whose rows must name the variant the source computed
VARIANT_FAMILIES = ("dover", "ewarp", "niqe")
DEGRADATION = re.compile(r"(BI|BD|RW)(?: \((?P<kernel>[^()]+)\))?")
#: a convention written as a vsrbench protocol name: ``preset`` or ``preset[field=value,...]``
PROTOCOL_NAME = re.compile(r"(?P<preset>[a-z0-9][a-z0-9_-]*)(?:\[(?P<fields>[^\[\]]*)\])?")


def metric_names() -> tuple[str, ...]:
    """vsrbench's metric names (``vsrbench.metrics.METRICS``)."""
    from vsrbench.metrics import METRICS

    return tuple(METRICS)


def known_suites() -> tuple[str, ...]:
    """The suite names: ``vsrbench.catalog.suites.SUITES`` when it exists, else :data:`SUITE_NAMES`."""
    try:
        from vsrbench.catalog.suites import SUITES
    except ImportError:
        return SUITE_NAMES
    return tuple(SUITES)


@dataclass(frozen=True)
class PublishedRow:
    """One published number, as written in the database (``origin`` is ``file:line``)."""

    method: str
    suite: str
    degradation: str
    metric: str
    value: float
    value_text: str
    sequence: str
    averaging: str
    convention: str
    source: str
    note: str
    origin: str
    kind: str = "published"
    lq: str = ""
    variant: str = ""

    @property
    def family(self) -> str:
        """``"BI"``, ``"BD"`` or ``"RW"``."""
        return self.degradation[:2]

    @property
    def is_published(self) -> bool:
        """True for a number read in its source (``kind`` published or transcribed); False for a number
        vsrbench computed itself (``reproduced``), which is never shown as a published number."""
        return self.kind != "reproduced"

    @property
    def kernel(self) -> str | None:
        """What the source says of the degradation kernel (``"sigma 1.6"``), or None."""
        m = DEGRADATION.fullmatch(self.degradation)
        return m["kernel"] if m else None

    @property
    def protocol(self):
        """The vsrbench Protocol the convention names, or None for a description."""
        return convention_protocol(self.convention)


def _split_fields(text: str) -> dict[str, str] | None:
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            return None
        out[key.strip()] = value.strip()
    return out


def convention_protocol(convention: str):
    """The :class:`vsrbench.metrics.Protocol` a convention names, or None when it is a description.

    ``"basicsr-y[frames_scored=center]"`` -> ``get_protocol("basicsr-y", frames_scored="center")``.
    Raises InputError / UnknownNameError when it is written like a protocol name but is not one
    (a misspelt preset or field).
    """
    m = PROTOCOL_NAME.fullmatch(convention)
    if not m:
        return None
    from vsrbench.metrics import PROTOCOLS, get_protocol

    preset = m["preset"]
    if preset not in PROTOCOLS:
        raise UnknownNameError("protocol", preset, PROTOCOLS.keys())
    overrides = _split_fields(m["fields"]) if m["fields"] else {}
    if overrides is None:
        raise InputError(f"expected {preset}[FIELD=VALUE,...], got {convention!r}")
    try:
        return get_protocol(preset, **overrides)
    except (TypeError, ValueError) as e:
        raise InputError(" ".join(str(e).split())) from None


def kind_from_source(source: str) -> str:
    """The ``kind`` a row's ``source`` text implies: ``reproduced`` when it starts with ``vsrbench``
    (vsrbench computed it), ``transcribed`` when it names a copy (``..., as quoted in COPY``),
    else ``published``."""
    text = source.strip().lower()
    if text.startswith("vsrbench"):
        return "reproduced"
    if " as quoted in " in text:
        return "transcribed"
    return "published"


def metric_scale(metric: str) -> float:
    """The factor papers print ``metric`` with (E*warp: 1000, printed x10^-3); 1.0 for the others."""
    from vsrbench.metrics import METRICS

    display = METRICS[metric].display if metric in METRICS else ()
    return float(display[0]) if display else 1.0


def _metric_family(metric: str) -> str:
    from vsrbench.metrics import METRICS

    return METRICS[metric].family if metric in METRICS else ""


def _where(path: Path, line: int) -> str:
    return f"{path}:{line}"


def _check_name(where: str, field: str, value: str, known: Sequence[str]) -> None:
    if value not in known:
        raise InputError(f"{where}: {field}: {unknown_name_message(field, value, known)}")


#: the values a metric can take (low, high; None: unbounded): PSNR >= 0 dB (an 8-bit MSE is at most 255^2),
#: SSIM in [-1, 1], distances and errors >= 0
POSSIBLE = {"psnr": (0.0, None), "ssim": (-1.0, 1.0), "drift_psnr": (0.0, None)}
NON_NEGATIVE = (0.0, None)


def _check_possible(where: str, metric: str, value: float, text: str) -> None:
    low, high = POSSIBLE.get(metric, NON_NEGATIVE)
    if value < low or (high is not None and value > high):
        span = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        raise InputError(f"{where}: value: {text} is not a possible {metric} (expected {span}); "
                         "check the number and its column")


def _row(path: Path, line: int, record: dict[str, str], suites: Sequence[str], metrics: Sequence[str]) -> PublishedRow:
    where = _where(path, line)
    for name in COLUMNS:
        if name in PROVENANCE and name not in record:
            continue  # a user's file without the provenance columns
        if name not in OPTIONAL and not record.get(name):
            raise InputError(f"{where}: {name}: expected a value, got an empty field; fill it in or remove the row")
    _check_name(where, "suite", record["suite"], suites)
    _check_name(where, "metric", record["metric"], metrics)
    _check_name(where, "averaging", record["averaging"], AVERAGINGS)
    if not DEGRADATION.fullmatch(record["degradation"]):
        raise InputError(f"{where}: degradation: expected BI or BD (or RW, a real-world degradation), optionally "
                         f"with the kernel in parentheses (e.g. 'BD (sigma 1.6)'), got {record['degradation']!r}")
    text = record["value"]
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: value: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: value: expected a finite number, got {text!r}")
    _check_possible(where, record["metric"], value, text)
    try:
        convention_protocol(record["convention"])
    except (InputError, UnknownNameError) as e:
        raise InputError(f"{where}: convention: {e}; write a vsrbench protocol name "
                         f"(e.g. basicsr-y[frames_scored=center]) or a description with spaces") from None
    kind, lq, variant = _check_provenance(where, record)
    return PublishedRow(record["method"], record["suite"], record["degradation"], record["metric"],
                        value / metric_scale(record["metric"]), text, record.get("sequence") or "",
                        record["averaging"], record["convention"], record["source"], record.get("note") or "", where,
                        kind, lq, variant)


def _check_provenance(where: str, record: dict[str, str]) -> tuple[str, str, str]:
    """``kind``, ``lq``, ``variant`` of a row, each checked (see the module docstring)."""
    kind = record.get("kind") or "published"
    _check_name(where, "kind", kind, KINDS)
    implied = kind_from_source(record["source"])
    if kind != implied:
        why = {"reproduced": "a number vsrbench computed has a source starting with 'vsrbench'",
               "transcribed": "a transcribed number names its copy: 'ORIGINAL, as quoted in COPY'",
               "published": "a published number's source names neither vsrbench nor a copy ('as quoted in')"}
        raise InputError(f"{where}: kind: {kind!r} does not fit the source {record['source']!r} ({why[kind]}; "
                         f"the source reads as {implied})")
    lq = record.get("lq") or ""
    if lq and not LQ.fullmatch(lq):
        raise InputError(f"{where}: lq: expected 'provided: WHERE' or 'regenerated: RECIPE, seed N' "
                         f"(or 'seed not stated'), or 'unknown: WHY', got {lq!r}")
    if record["degradation"].startswith("RW") and not lq:
        raise InputError(f"{where}: lq: a real-world degradation (RW) needs the LQ source: "
                         f"'provided: WHERE' or 'regenerated: RECIPE, seed N'")
    variant = record.get("variant") or ""
    if not variant and _metric_family(record["metric"]) in VARIANT_FAMILIES:
        raise InputError(f"{where}: variant: {record['metric']} is computed several ways "
                         f"({_metric_family(record['metric'])} family); say which one the source used")
    return kind, lq, variant


def load_published(path: str | os.PathLike | None = None) -> list[PublishedRow]:
    """The rows of a published-results CSV (the one shipped with vsrbench when ``path`` is None).

    Every row is checked; the first problem raises one InputError naming ``file:line`` and the
    field (unknown names with a did-you-mean). A number given twice (same method, suite,
    degradation, metric, sequence, averaging, convention and source) is refused.
    """
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # -sig: a byte-order mark (Excel's) is dropped
    except OSError as e:
        from vsrbench.core.errors import os_error

        raise os_error(e, "read published-results file", path) from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: expected UTF-8 text, got a byte {e.object[e.start]:#04x} at offset {e.start}") from None
    suites, metrics = known_suites(), metric_names()
    header: list[str] | None = None
    rows: list[PublishedRow] = []
    seen: dict[tuple, str] = {}
    for number, text in enumerate(lines, 1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in next(csv.reader([text]))]
        if header is None:
            missing = [c for c in COLUMNS if c not in fields and c not in ("note", *PROVENANCE)]
            if missing:
                raise InputError(f"{_where(path, number)}: header: expected the columns {', '.join(COLUMNS)} "
                                 f"(note, kind, lq, variant optional); missing {', '.join(missing)}")
            unknown = [f for f in fields if f not in COLUMNS]
            if unknown:
                raise InputError(f"{_where(path, number)}: header: "
                                 f"{unknown_name_message('column', unknown[0], COLUMNS)}")
            header = fields
            continue
        if len(fields) != len(header):
            raise InputError(f"{_where(path, number)}: expected {len(header)} fields ({', '.join(header)}), "
                             f"got {len(fields)}; quote a field that holds a comma")
        row = _row(path, number, dict(zip(header, fields)), suites, metrics)
        key = (row.method, row.suite, row.degradation, row.metric, row.sequence, row.averaging, row.convention,
               row.source)
        if key in seen:
            raise InputError(f"{row.origin}: the same number (method, suite, degradation, metric, sequence, "
                             f"averaging, convention, source) as {seen[key]}; keep one row per number")
        seen[key] = row.origin
        rows.append(row)
    if header is None:
        raise InputError(f"{path}: expected a header line ({', '.join(COLUMNS)}), got no rows")
    return rows


def filter_rows(rows: Iterable[PublishedRow], *, suite: str | None = None, method: str | None = None,
                metric: str | None = None) -> list[PublishedRow]:
    """The rows of one suite / method / metric (None: any). Names are checked: an unknown suite or
    metric, or a method no row has, raises UnknownNameError with a did-you-mean. Methods match
    case-insensitively."""
    rows = list(rows)
    if suite is not None and suite not in known_suites():
        raise UnknownNameError("suite", suite, known_suites())
    if metric is not None and metric not in metric_names():
        raise UnknownNameError("metric", metric, metric_names())
    if method is not None:
        methods = {r.method for r in rows}
        if method.lower() not in {m.lower() for m in methods}:
            raise UnknownNameError("published method", method, methods)
    return [r for r in rows
            if (suite is None or r.suite == suite) and (metric is None or r.metric == metric)
            and (method is None or r.method.lower() == method.lower())]


def rows_for(rows: Iterable[PublishedRow], method: str, family: str | None = None) -> list[PublishedRow]:
    """The rows of ``method`` (exact name), only those of degradation ``family`` ("BI"/"BD") when given."""
    return [r for r in rows if r.method == method and (family is None or r.family == family)]


def disagreements(rows: Iterable[PublishedRow], tolerance: float | None = None) -> list[list[PublishedRow]]:
    """Groups of dataset-level rows where sources print different numbers for the same method (its name
    compared without case, spaces or dashes), suite, degradation family and metric (e.g. one baseline
    re-run by two papers on differently made LQ).

    Rows whose values differ by no more than ``tolerance`` (default: one unit of the coarser printed
    digit, so 27.35 and 27.3500 agree) are not a disagreement; per-clip rows are left out. Each group
    lists its rows in database order.
    """
    groups: dict[tuple, list[PublishedRow]] = {}
    for r in rows:
        if not r.sequence:  # method names as papers spell them: 'MGLDVSR' is 'MGLD-VSR', 'RealESRGAN' 'Real-ESRGAN'
            name = re.sub(r"[^a-z0-9+]", "", r.method.lower())
            groups.setdefault((name, r.suite, r.family, r.metric), []).append(r)
    out = []
    for group in groups.values():
        if len({r.source for r in group}) < 2:
            continue
        lo, hi = min(group, key=lambda r: r.value), max(group, key=lambda r: r.value)
        tol = tolerance if tolerance is not None else max(_unit(lo), _unit(hi))
        if hi.value - lo.value > tol * (1 + 1e-9):
            out.append(group)
    return out


def _unit(row: PublishedRow) -> float:
    """One unit of the last printed digit of ``row``, on vsrbench's scale."""
    decimals = len(row.value_text.partition(".")[2])
    return 10.0 ** -decimals / metric_scale(row.metric)


def render_rows(rows: Sequence[PublishedRow], fmt: str = "text") -> str:
    """``text``: aligned columns, one row per number, then its source; ``csv``: the database format."""
    if fmt == "csv":
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([r.method, r.suite, r.degradation, r.metric, r.value_text, r.sequence, r.averaging,
                        r.convention, r.source, r.note, r.kind, r.lq, r.variant])
        return buf.getvalue()
    if fmt != "text":
        raise InputError(f"format: expected text or csv, got {fmt!r}")
    if not rows:
        return "no published rows match\n"
    head = ("METHOD", "SUITE", "DEGRADATION", "METRIC", "VALUE", "SEQUENCE", "AVERAGING", "CONVENTION", "KIND")
    table = text_table([(r.method, r.suite, r.degradation, r.metric, r.value_text, r.sequence or "-", r.averaging,
                         r.convention, r.kind) for r in rows], header=head)
    lines = table[:1]
    for r, line in zip(rows, table[1:]):
        lines.append(line)
        extra = "".join(f"; {name}: {text}" for name, text in (("LQ", r.lq), ("variant", r.variant), ("note", r.note))
                        if text)
        lines.append(f"    source: {r.source}{extra}")
    return "\n".join(lines) + "\n"
