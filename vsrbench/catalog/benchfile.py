"""Benchmark definitions: which methods, on which datasets, under which protocol.

A benchmark is a TOML file, validated strictly when loaded: an unknown key, a missing path or an
unknown protocol / metric / model / degradation name raises an
:class:`~vsrbench.core.errors.InputError` (or :class:`~vsrbench.core.errors.UnknownNameError`) whose one-line
message names the file and the key (``methods.duf52.outptus``) and suggests the closest valid one.
Relative paths are relative to the folder of the TOML file; ``~`` is expanded.

.. code-block:: toml

    name = "vid4-duf"                  # optional; default: the file name without extension
    description = "free text"          # optional
    protocol = "tecogan"               # a preset name, or a table with overrides:
    # [protocol]
    # name = "basicsr-y"
    # crop_border = 8                  # any field of vsrbench.metrics.Protocol
    metrics = ["psnr", "ssim", "tof"]  # optional; default: the protocol's default metrics
    lpips_weights = "weights/"         # optional; where the LPIPS backbone weights are

    [datasets.vid4]
    gt = "../shared/data/vid4/GT"      # a folder of sequence folders (or videos), or one sequence
    sequences = ["calendar", "city"]   # optional subset, in this order; default: all
    scale = 4                          # optional, default 4
    lr = "../data/vid4/BD"             # optional LR frames (sequences paired by name), or:
    degradation = "bd-duf"             # make LR from GT with a named degradation (cached)
    suite = "vid4"                     # optional: a benchmark suite (`vsrbench datasets`): GT is checked
                                       # against its clips, frame counts and sizes before running, and
                                       # the suite's convention is the protocol unless `protocol` is set
    suite_strict = false               # optional: check the suite's clips only (e.g. a partial copy)

    [methods.DUF-52L]                  # exactly one of outputs / model / command / callable:
    outputs = { vid4 = "../shared/data/vid4/DUF-52L" }   # precomputed outputs per dataset
    reported = { psnr = 27.37 }        # optional published numbers: {metric = x} for every
                                       # dataset or {vid4 = {metric = x}} per dataset
    [methods.Bicubic]
    model = "bicubic"                  # a built-in model (vsrbench.baselines)
    weights = "path/to/file"           # optional weights file (models that need them)
    device = "cpu"                     # optional; default: the run's --device
    options = { }                      # optional keyword arguments for load_model

    [methods.Mine]
    command = "python my_sr.py --in {lr} --out {out}"   # run once per sequence (in the TOML's folder)

    [methods.MineToo]
    callable = "my_pkg.sr:upscale"     # or "my_sr.py:upscale" (a file next to the TOML)

Any method may add ``description`` and ``datasets = ["vid4"]``, the datasets it runs on. Without
``datasets``, a method with ``outputs`` runs on the datasets its ``outputs`` table names (a single
path: on the one dataset), and any other method runs on every dataset. A dataset listed in
``datasets`` but missing from ``outputs`` is reported as a sequence without outputs.

Command placeholders: ``{lr}`` (folder of LR frames) and ``{out}`` (an empty folder the command
must fill with one image per LR frame, any names that sort in frame order) are required;
``{scale}``, ``{dataset}``, ``{sequence}`` and ``{method}`` are optional. Paths are shell-quoted.

A callable receives the list of LR frames (RGB ``uint8`` arrays, H x W x 3) and returns (or
yields) one HR frame per input: ``uint8`` arrays are kept as they are, float arrays are read
in [0, 1] units (like the built-in models) and rounded and clipped to ``uint8``. A module
path is imported with the TOML's folder first on ``sys.path``.
"""
from __future__ import annotations

import os
import re
import string
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from vsrbench.core.errors import InputError, UnknownNameError, closest

TOP_KEYS = ("name", "description", "protocol", "metrics", "metric_options", "lpips_weights", "datasets", "methods")
DATASET_KEYS = ("gt", "lr", "degradation", "scale", "sequences", "suite", "suite_strict")
METHOD_SOURCES = ("outputs", "model", "command", "callable")
METHOD_KEYS = (*METHOD_SOURCES, "weights", "device", "options", "datasets", "reported", "description")
MODEL_ONLY_KEYS = ("weights", "device", "options")
COMMAND_FIELDS = ("lr", "out", "scale", "dataset", "sequence", "method")
COMMAND_REQUIRED = ("lr", "out")
DEVICES = ("auto", "cpu", "cuda")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


class BenchKeyError(UnknownNameError, InputError):
    """An unknown key or name in a benchmark definition (the message names file and key).

    Both an :class:`UnknownNameError` and an :class:`InputError`.
    """

    def __init__(self, message: str, kind: str, name: str, known):
        super().__init__(kind, name, known)
        self.args = (message,)


@dataclass(frozen=True)
class DatasetDef:
    """One dataset of a benchmark."""

    name: str
    gt: Path
    scale: int = 4
    lr: Path | None = None
    degradation: str | None = None
    sequences: tuple[str, ...] = ()  # the sequences to run, in order
    suite: str | None = None  # a benchmark suite of vsrbench.catalog.suites; GT was validated against it
    protocol: Any = None  # the suite's convention when the benchmark sets no protocol (else None: the benchmark's)

    @property
    def has_lr(self) -> bool:
        return self.lr is not None or self.degradation is not None


@dataclass(frozen=True)
class MethodDef:
    """One method of a benchmark; ``kind`` is one of :data:`METHOD_SOURCES`."""

    name: str
    kind: str
    outputs: Mapping[str, Path] = field(default_factory=dict)
    model: str | None = None
    weights: Path | None = None
    device: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    command: str | None = None
    callable: str | None = None
    datasets: tuple[str, ...] = ()
    reported: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # dataset or "*" -> metric -> x
    description: str = ""

    def reported_for(self, dataset: str) -> dict[str, float]:
        """Published numbers for ``dataset`` (dataset-specific ones win over the general ones)."""
        return reported_for(self.reported, dataset)

    def runs_on(self, dataset: str) -> bool:
        """True when the method runs on ``dataset``: it is in ``datasets`` when that is given, else,
        for precomputed ``outputs``, it is a key of the outputs table; other methods run everywhere."""
        if self.datasets:
            return dataset in self.datasets
        return dataset in self.outputs if self.kind == "outputs" else True


def reported_for(reported: Mapping[str, Mapping[str, float]], dataset: str) -> dict[str, float]:
    """A method's ``reported`` table ({"*": {...}, dataset: {...}}) for one dataset; the
    dataset-specific numbers win over the general ones."""
    return {**reported.get("*", {}), **reported.get(dataset, {})}


@dataclass(frozen=True)
class Benchmark:
    """A validated benchmark definition (see the module docstring for the TOML format)."""

    name: str
    protocol: Any  # vsrbench.metrics.Protocol
    metrics: tuple[str, ...]
    datasets: Mapping[str, DatasetDef]
    methods: Mapping[str, MethodDef]
    base_dir: Path
    source: str = "<dict>"
    description: str = ""
    lpips_weights: Path | None = None
    #: whether the file names its ``metrics`` (False: the protocols' defaults were taken)
    metrics_given: bool = True
    #: settings of the metrics computed by a scorer, per family (``[metric_options.dover] seed = 3``):
    #: :func:`vsrbench.metrics.extension.parse_metric_options`; they are part of the stored metric version
    metric_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: str | os.PathLike = ".",
                  source: str = "<dict>") -> "Benchmark":
        """Validate a parsed definition; relative paths are relative to ``base_dir``."""
        return _DefinitionReader(Path(base_dir), source).benchmark(data)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description (paths as strings), recorded with every run."""
        return {
            "name": self.name,
            "source": self.source,
            "description": self.description,
            "protocol": self.protocol.to_dict(),
            "metrics": list(self.metrics),
            "lpips_weights": _str(self.lpips_weights),
            "metric_options": {k: dict(v) for k, v in self.metric_options.items()},
            "datasets": {n: _plain(d) for n, d in self.datasets.items()},
            "methods": {n: _plain(m) for n, m in self.methods.items()},
        }

    def methods_for(self, dataset: str) -> list[MethodDef]:
        """The methods that run on ``dataset``, in definition order."""
        return [m for m in self.methods.values() if m.runs_on(dataset)]

    def tasks(self) -> list[tuple[DatasetDef, MethodDef, str]]:
        """Every (dataset, method, sequence name) the benchmark defines, in run order."""
        return [(d, m, s) for d in self.datasets.values() for m in self.methods_for(d.name) for s in d.sequences]


def load_bench(path: str | os.PathLike) -> Benchmark:
    """Read and validate a benchmark TOML file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"benchmark file not found: {str(path)!r}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path.name}: not valid TOML ({e})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not a UTF-8 text file") from None
    data.setdefault("name", path.stem)
    return Benchmark.from_dict(data, base_dir=path.resolve().parent, source=str(path))


# ---------------------------------------------------------------------- validation

class _DefinitionReader:
    """Validates a definition; every message starts with the file name and names the key."""

    def __init__(self, base_dir: Path, source: str):
        self.base_dir = base_dir
        self.source = source
        self.file = Path(source).name

    # -- generic checks

    def fail(self, key: str, message: str) -> InputError:
        return InputError(f"{self.file}: {key}: {message}")

    def keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
        for k in table:
            if k not in allowed:
                dotted = f"{prefix}.{k}" if prefix else k
                guess = closest(k, allowed)
                hint = f"; did you mean {(f'{prefix}.{guess}' if prefix else guess)!r}?" if guess else ""
                where = f"in [{prefix}]" if prefix else "at the top level"
                raise BenchKeyError(
                    f"{self.file}: unknown key {dotted!r}{hint} (allowed {where}: {', '.join(allowed)})",
                    "key", dotted, allowed,
                )

    def name(self, key: str, value: str, kind: str, known) -> None:
        known = sorted(known)
        if value not in known:
            guess = closest(value, known)
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise BenchKeyError(
                f"{self.file}: {key}: unknown {kind} {value!r}{hint} (known: {', '.join(known)})",
                kind, value, known,
            )

    def typed(self, key: str, value: Any, types: type | tuple[type, ...], expected: str) -> Any:
        if not isinstance(value, types) or isinstance(value, bool) and bool not in _as_tuple(types):
            raise self.fail(key, f"expected {expected}, got {_describe(value)}")
        return value

    def table(self, key: str, value: Any) -> Mapping[str, Any]:
        return self.typed(key, value, dict, "a table")

    def path(self, key: str, value: Any, *, kind: str = "path") -> Path:
        p = Path(self.typed(key, value, str, "a path (string)")).expanduser()
        p = p if p.is_absolute() else self.base_dir / p
        if not p.exists():
            raise self.fail(key, f"{kind} not found: {str(p)!r}")
        return p

    def str_list(self, key: str, value: Any) -> tuple[str, ...]:
        items = self.typed(key, value, list, "a list of strings")
        for i, item in enumerate(items):
            self.typed(f"{key}[{i}]", item, str, "a string")
        if len(set(items)) != len(items):
            raise self.fail(key, f"duplicate entries in {items}")
        return tuple(items)

    def entry_name(self, key: str, value: str) -> str:
        if not _NAME_RE.match(value):
            raise self.fail(key, f"name {value!r} must start with a letter or digit and use only "
                                 "letters, digits and . _ + - (it becomes a folder name)")
        return value

    # -- sections

    def benchmark(self, data: Mapping[str, Any]) -> Benchmark:
        self.table("<top level>", data)
        self.keys(data, TOP_KEYS, "")
        for required in ("datasets", "methods"):
            if required not in data or not self.table(required, data[required]):
                raise self.fail(required, f"at least one [{required}.NAME] table is required")
        protocol = self.protocol(data.get("protocol", "tecogan"))
        datasets = {n: self.dataset(n, t, explicit_protocol="protocol" in data)
                    for n, t in data["datasets"].items()}
        suited = [d.protocol for d in datasets.values() if d.protocol is not None]
        if suited and "protocol" not in data:  # no protocol set: the first suite's convention is the default
            protocol = suited[0]
        metrics = self.metrics(data.get("metrics"), protocol, [d.protocol or protocol for d in datasets.values()])
        self.suite_metrics(datasets, metrics)
        methods = {n: self.method(n, t, datasets) for n, t in data["methods"].items()}
        name = self.typed("name", data.get("name", "benchmark"), str, "a string")
        return Benchmark(
            name=name, protocol=protocol, metrics=metrics, datasets=datasets, methods=methods,
            base_dir=self.base_dir, source=self.source,
            description=self.typed("description", data.get("description", ""), str, "a string"),
            lpips_weights=self.path("lpips_weights", data["lpips_weights"]) if "lpips_weights" in data else None,
            metrics_given="metrics" in data,
            metric_options=self.metric_options(data.get("metric_options", {})),
        )

    def metric_options(self, value: Any) -> dict:
        """``[metric_options.FAMILY]`` tables of scalar settings, checked as ``--metric-option`` is."""
        from vsrbench.metrics.extension import parse_metric_options

        items = []
        for family, table in self.table("metric_options", value).items():
            for key, val in self.table(f"metric_options.{family}", table).items():
                if not isinstance(val, (str, int, float, bool)):
                    raise self.fail(f"metric_options.{family}.{key}", "expected a string, number or boolean")
                items.append(f"{family}.{key}={val}")
        try:
            return parse_metric_options(items)
        except InputError as e:
            raise self.fail("metric_options", str(e)) from None

    def protocol(self, value: Any):
        from vsrbench.metrics import get_protocol

        if isinstance(value, str):
            return self.preset("protocol", value)
        table = dict(self.table("protocol", value))
        if "name" not in table:
            raise self.fail("protocol", "the [protocol] table needs name = \"<preset>\"")
        base = self.preset("protocol.name", self.typed("protocol.name", table.pop("name"), str, "a string"))
        allowed = tuple(f.name for f in fields(base) if f.name != "name")
        self.keys(table, ("name", *allowed), "protocol")
        for key, val in table.items():  # TOML has types: "8" for an integer field is refused, as scale = "four" is
            default = getattr(base, key)
            if isinstance(default, bool):
                self.typed(f"protocol.{key}", val, bool, "true or false")
            elif isinstance(default, int):
                self.typed(f"protocol.{key}", val, int, "an integer")
            elif isinstance(default, float):
                self.typed(f"protocol.{key}", val, (int, float), "a number")
        try:
            return get_protocol(base, **table)
        except (InputError, TypeError, ValueError) as e:
            raise self.fail("protocol", str(e)) from None

    def preset(self, key: str, name: str):
        from vsrbench.metrics import get_protocol

        try:
            return get_protocol(name)
        except UnknownNameError as e:
            raise BenchKeyError(f"{self.file}: {key}: {e}", e.kind, e.name, e.known) from None

    def metrics(self, value: Any, protocol, protocols=()) -> tuple[str, ...]:
        from vsrbench.metrics import METRICS

        if value is None:  # the metrics every dataset's protocol computes by default
            return tuple(m for m in protocol.default_metrics if all(m in p.default_metrics for p in protocols))
        names = self.str_list("metrics", value)
        if not names:
            raise self.fail("metrics", "the list is empty; name at least one metric or leave the key out")
        for i, n in enumerate(names):
            if n in METRICS and METRICS[n].model_run:  # ping-pong drift: `vsrbench drift`, not scoring outputs
                raise self.fail(f"metrics[{i}]", f"{n!r} is measured by running a model on LR frames "
                                "(`vsrbench drift --model NAME --input LR --out RESULTS`), not by a benchmark "
                                "run; drop it from the list")
            self.name(f"metrics[{i}]", n, "metric", [m for m in METRICS if not (METRICS[m].model_run or METRICS[m].human)])
        return names

    def dataset(self, name: str, value: Any, explicit_protocol: bool = True) -> DatasetDef:
        key = f"datasets.{name}"
        self.entry_name(key, name)
        t = self.table(key, value)
        self.keys(t, DATASET_KEYS, key)
        if "gt" not in t:
            raise self.fail(key, "'gt' (the folder of ground-truth sequences) is required")
        if "suite" in t:
            return self.suite_dataset(name, key, t, explicit_protocol)
        if "suite_strict" in t:
            raise self.fail(f"{key}.suite_strict", "only applies with suite = \"NAME\"")
        if "lr" in t and "degradation" in t:
            raise self.fail(key, "give either 'lr' (LR frames) or 'degradation' (make them from GT), not both")
        scale = self.typed(f"{key}.scale", t.get("scale", 4), int, "an integer")
        if scale < 1:
            raise self.fail(f"{key}.scale", f"expected an integer >= 1, got {scale}")
        gt = self.path(f"{key}.gt", t["gt"], kind="ground-truth folder")
        sequences = self.sequences(key, gt, t.get("sequences"))
        lr = self.path(f"{key}.lr", t["lr"], kind="LR folder") if "lr" in t else None
        if lr is not None:
            self.lr_covers(f"{key}.lr", lr, sequences)
        degradation = None
        if "degradation" in t:
            degradation = self.typed(f"{key}.degradation", t["degradation"], str, "a string")
            from vsrbench.baselines.degrade import DEGRADATIONS

            self.name(f"{key}.degradation", degradation, "degradation", DEGRADATIONS)
        return DatasetDef(name=name, gt=gt, scale=scale, lr=lr, degradation=degradation, sequences=sequences)

    def suite_dataset(self, name: str, key: str, t: Mapping[str, Any], explicit_protocol: bool) -> DatasetDef:
        """A dataset with ``suite = "NAME"`` (or a :class:`vsrbench.catalog.suites.Suite` from Python): GT is
        validated against the suite (clips, frame counts, frame sizes; ``suite_strict = false``: the
        clips only), and its protocol is the suite's unless the benchmark sets ``protocol``."""
        from vsrbench.catalog.suites import SUITES, Suite

        suite = t["suite"]
        if not isinstance(suite, Suite):
            self.name(f"{key}.suite", self.typed(f"{key}.suite", suite, str, "a suite name"), "suite", SUITES)
            suite = SUITES[suite]
        strict = self.typed(f"{key}.suite_strict", t.get("suite_strict", True), bool, "true or false")
        gt = self.path(f"{key}.gt", t["gt"], kind="ground-truth folder")
        try:
            check = suite.validate(gt, strict=strict)
        except InputError as e:
            raise self.fail(f"{key}.gt", str(e)) from None
        sequences = self.sequences(key, gt, t.get("sequences"), found=list(check.clips))
        lr = self.path(f"{key}.lr", t["lr"], kind="LR folder") if "lr" in t else None
        if lr is not None:
            if "degradation" in t:
                raise self.fail(key, "give either 'lr' (LR frames) or 'degradation' (make them from GT), not both")
            self.lr_covers(f"{key}.lr", lr, sequences, suite=suite)
        base = self.dataset_plain(name, key, t)
        return DatasetDef(name=name, gt=gt, scale=base.scale, lr=lr, degradation=base.degradation,
                          sequences=sequences, suite=suite.name,
                          protocol=None if explicit_protocol else suite.protocol())

    def dataset_plain(self, name: str, key: str, t: Mapping[str, Any]) -> DatasetDef:
        """scale and degradation of a dataset table (shared with :meth:`suite_dataset`)."""
        scale = self.typed(f"{key}.scale", t.get("scale", 4), int, "an integer")
        if scale < 1:
            raise self.fail(f"{key}.scale", f"expected an integer >= 1, got {scale}")
        degradation = None
        if "degradation" in t:
            degradation = self.typed(f"{key}.degradation", t["degradation"], str, "a string")
            from vsrbench.baselines.degrade import DEGRADATIONS

            self.name(f"{key}.degradation", degradation, "degradation", DEGRADATIONS)
        return DatasetDef(name=name, gt=Path(), scale=scale, degradation=degradation)

    def suite_metrics(self, datasets: Mapping[str, DatasetDef], metrics: tuple[str, ...]) -> None:
        """A suite scored on its centre frame only cannot give temporal metrics: say so at load."""
        temporal = [m for m in metrics if m in ("tof", "tlp")]
        for d in datasets.values():
            if temporal and d.protocol is not None and getattr(d.protocol, "frames_scored", "all") != "all":
                raise self.fail("metrics", f"{', '.join(temporal)} need consecutive frames, but datasets.{d.name} "
                                           f"(suite {d.suite}) scores the centre frame of each clip only; remove "
                                           f"{', '.join(temporal)} from metrics or set a protocol")

    def sequences(self, key: str, gt: Path, value: Any, found: list[str] | None = None) -> tuple[str, ...]:
        from vsrbench.core.io import open_dataset

        try:
            found = list(open_dataset(gt)) if found is None else found
        except InputError as e:
            raise self.fail(f"{key}.gt", str(e)) from None
        if value is None:
            return tuple(found)
        wanted = self.str_list(f"{key}.sequences", value)
        for i, s in enumerate(wanted):
            self.name(f"{key}.sequences[{i}]", s, "sequence", found)
        return wanted

    def lr_covers(self, key: str, lr: Path, sequences: tuple[str, ...], suite=None) -> None:
        from vsrbench.core.io import open_dataset

        try:
            if suite is not None:
                from vsrbench.catalog.suites import open_clips

                have = open_clips(suite, lr)
            else:
                have = open_dataset(lr)
        except InputError as e:
            raise self.fail(key, str(e)) from None
        if len(have) == 1 and len(sequences) == 1:
            return
        missing = [s for s in sequences if s not in have]
        if missing:
            raise self.fail(key, f"no LR frames for sequence(s) {', '.join(missing)} in {str(lr)!r} "
                                 f"(found: {', '.join(sorted(have))})")

    def method(self, name: str, value: Any, datasets: Mapping[str, DatasetDef]) -> MethodDef:
        key = f"methods.{name}"
        self.entry_name(key, name)
        t = self.table(key, value)
        self.keys(t, METHOD_KEYS, key)
        sources = [s for s in METHOD_SOURCES if s in t]
        if len(sources) != 1:
            got = f"got {', '.join(sources)}" if sources else "got none"
            raise self.fail(key, f"give exactly one of {', '.join(METHOD_SOURCES)} ({got})")
        kind = sources[0]
        if kind != "model":
            extra = [k for k in MODEL_ONLY_KEYS if k in t]
            if extra:
                raise self.fail(f"{key}.{extra[0]}", f"only applies to built-in models (model = ...), not to {kind}")
        on = self.str_list(f"{key}.datasets", t["datasets"]) if "datasets" in t else ()
        for i, d in enumerate(on):
            self.name(f"{key}.datasets[{i}]", d, "dataset", datasets)
        fields_ = dict(name=name, kind=kind, datasets=on,
                       reported=self.reported(f"{key}.reported", t.get("reported", {}), datasets),
                       description=self.typed(f"{key}.description", t.get("description", ""), str, "a string"))
        if kind == "outputs":
            fields_["outputs"] = self.outputs(f"{key}.outputs", t["outputs"], datasets)
        elif kind == "model":
            fields_.update(self.model(key, t, [datasets[d] for d in (on or datasets)]))
        elif kind == "command":
            fields_["command"] = self.command(f"{key}.command", t["command"])
        else:
            fields_["callable"] = self.callable(f"{key}.callable", t["callable"])
        if kind != "outputs":
            self.needs_lr(key, kind, [datasets[d] for d in (on or datasets)])
        return MethodDef(**fields_)

    def outputs(self, key: str, value: Any, datasets: Mapping[str, DatasetDef]) -> dict[str, Path]:
        if isinstance(value, str):
            if len(datasets) != 1:
                raise self.fail(key, "with several datasets, give a table {dataset = \"path\", ...}")
            value = {next(iter(datasets)): value}
        t = self.table(key, value)
        out = {}
        for d, p in t.items():
            self.name(f"{key}.{d}", d, "dataset", datasets)
            out[d] = self.path(f"{key}.{d}", p, kind="outputs folder")
        return out

    def model(self, key: str, t: Mapping[str, Any], datasets: list[DatasetDef]) -> dict[str, Any]:
        from vsrbench.baselines import MODELS

        name = self.typed(f"{key}.model", t["model"], str, "a string")
        self.name(f"{key}.model", name, "model", MODELS)
        spec = MODELS[name]
        for d in datasets:
            if getattr(spec, "scale", d.scale) != d.scale:
                raise self.fail(f"{key}.model", f"model {name!r} upscales x{spec.scale} but datasets.{d.name}.scale "
                                                 f"is {d.scale}")
        device = t.get("device")
        if device is not None:
            device = self.typed(f"{key}.device", device, str, "a string")
            if device.split(":")[0] not in DEVICES:
                raise self.fail(f"{key}.device", f"expected one of {', '.join(DEVICES)} (cuda:N allowed), got {device!r}")
        return dict(
            model=name,
            weights=self.path(f"{key}.weights", t["weights"], kind="weights file") if "weights" in t else None,
            device=device,
            options=dict(self.table(f"{key}.options", t.get("options", {}))),
        )

    def command(self, key: str, value: Any) -> str:
        template = self.typed(key, value, str, "a command line (string)")
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
        except ValueError as e:
            raise self.fail(key, f"bad placeholder syntax in {template!r} ({e}; write {{{{ and }}}} for braces)") from None
        for f in sorted(used):
            self.name(key, f, "placeholder", COMMAND_FIELDS)
        missing = [f"{{{f}}}" for f in COMMAND_REQUIRED if f not in used]
        if missing:
            raise self.fail(key, f"the command must contain {' and '.join(missing)} (got {template!r})")
        return template

    def callable(self, key: str, value: Any) -> str:
        spec = self.typed(key, value, str, "\"module:function\" or \"file.py:function\"")
        module, sep, func = spec.rpartition(":")
        if not sep or not module or not func.isidentifier():
            raise self.fail(key, f"expected \"module:function\" or \"file.py:function\", got {spec!r}")
        if module.endswith(".py"):
            self.path(key, module, kind="Python file")
        return spec

    def needs_lr(self, key: str, kind: str, datasets: list[DatasetDef]) -> None:
        for d in datasets:
            if not d.has_lr:
                raise self.fail(key, f"a {kind} method needs LR frames, but datasets.{d.name} has neither "
                                     "'lr' nor 'degradation'")

    def reported(self, key: str, value: Any, datasets: Mapping[str, DatasetDef]) -> dict[str, dict[str, float]]:
        from vsrbench.metrics import METRICS

        t = self.table(key, value)
        out: dict[str, dict[str, float]] = {}
        for k, v in t.items():
            if isinstance(v, dict):
                self.name(f"{key}.{k}", k, "dataset", datasets)
                out[k] = {m: self.number(f"{key}.{k}.{m}", m, x, METRICS) for m, x in v.items()}
            else:
                out.setdefault("*", {})[k] = self.number(f"{key}.{k}", k, v, METRICS)
        return out

    def number(self, key: str, metric: str, value: Any, known) -> float:
        self.name(key, metric, "metric", known)
        return float(self.typed(key, value, (int, float), "a number"))


# ---------------------------------------------------------------------- small helpers

def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _describe(value: Any) -> str:
    kinds = {dict: "a table", list: "a list", str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r})" if not isinstance(value, dict) else "a table"


def _str(p: Path | None) -> str | None:
    return None if p is None else str(p)


def _plain(obj: Any) -> Any:
    """Dataclass / mapping / path -> JSON-safe values."""
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


__all__ = ["Benchmark", "DatasetDef", "MethodDef", "BenchKeyError", "load_bench", "METHOD_SOURCES"]
