"""Paper-ready outputs: fonts embedded in PDF figures and LaTeX tables, wide tables fit the line,
the nbconvert route of the tutorial, which datasets an ``outputs`` method runs on, reported numbers
from the benchmark file only, and the one "results hold one protocol" check."""
from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from _support.pdf import assert_truetype_only, pdf_font_subtypes

import vsrbench.analysis.tables as T
import vsrbench.results.frame as results_frame

from vsrbench.visual import plots as P
from vsrbench.analysis.render import render_tables
from vsrbench.analysis.table_model import Table
from vsrbench.analysis.tables import build_table, build_tables, reported_numbers
from vsrbench.results.frame import require_one_protocol, rows_of_dataset
from vsrbench.catalog.benchfile import load_bench
from vsrbench.cli import main
from vsrbench.core.errors import InputError
from vsrbench.core.io import write_frame
from vsrbench.runner import run_benchmark
from vsrbench.results.store import ResultsStore, SequenceResult
from vsrbench.results.loading import load_results

HASH = "0123456789ab"
N, H, W = 6, 24, 40


def _frames(seed: int, noise: float = 0.0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 200, (H, W + N, 3)).astype(np.float64)
    return [np.clip(base[:, t:t + W] + (rng.normal(0, noise, (H, W, 3)) if noise else 0), 0, 255).astype(np.uint8)
            for t in range(N)]


def _write_seq(folder: Path, frames) -> None:
    for i, f in enumerate(frames):
        write_frame(folder / f"{i:04d}.png", f)


def _long(values: dict, *, dataset: str = "toy", protocol: str = "tecogan", protocol_hash: str = HASH) -> pd.DataFrame:
    """A load_results-like frame from {(method, sequence, metric): per-frame values}."""
    return pd.DataFrame([
        dict(method=m, dataset=dataset, sequence=s, frame=i, frame_name=f"{i:04d}.png", metric=k, value=float(v),
             protocol=protocol, protocol_hash=protocol_hash, metric_version="1")
        for (m, s, k), vals in values.items() for i, v in enumerate(vals)])


# ---------------------------------------------------------------------- PDF fonts

def test_the_font_parser_sees_type3_fonts(tmp_path):
    """The check can fail: matplotlib's default (pdf.fonttype 3) is reported as Type 3."""
    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().set_title("PSNR (dB) ↑")
    with matplotlib.rc_context({"pdf.fonttype": 3}):
        fig.savefig(tmp_path / "t3.pdf")
    assert "Type3" in pdf_font_subtypes((tmp_path / "t3.pdf").read_bytes())


@pytest.fixture
def stored(tmp_path):
    """A results folder like the runner writes (store, GT and outputs found from the run record)."""
    gt_root, res = tmp_path / "gt", tmp_path / "res"
    _write_seq(gt_root / "pan", _frames(0))
    for j, method in enumerate(("bicubic", "Mine")):
        _write_seq(res / "outputs" / method / "toy" / "pan", _frames(0, noise=3.0 * (j + 1)))
    bench = {"datasets": {"toy": {"gt": str(gt_root)}}, "methods": {"bicubic": {"kind": "model"},
                                                                     "Mine": {"kind": "model"}}}
    rng = np.random.default_rng(1)
    with ResultsStore(res) as store:
        run = store.start_run({"vsrbench_version": "test", "protocol": "tecogan", "protocol_hash": HASH,
                               "protocol_fields": {}, "metric_versions": {}, "bench": bench})
        for method in ("bicubic", "Mine"):
            rows = [(t, "psnr", 30 + rng.normal()) for t in range(N)] + [(t, "tof", 0.2 + 0.1 * rng.random())
                                                                         for t in range(1, N)]
            store.add_sequence(run, SequenceResult(method, "toy", "pan", rows, [f"{i:04d}.png" for i in range(N)],
                                                   {"psnr": "1", "tof": "1"}, "tecogan", HASH))
        store.finish_run(run, "done")
    return res


def test_every_pdf_figure_embeds_truetype_and_leaves_rcparams_alone(stored, tmp_path):
    with matplotlib.rc_context({"pdf.fonttype": 3, "ps.fonttype": 3}):
        written = P.plot_results(stored, tmp_path / "figs", kinds="all", formats="pdf")
        assert matplotlib.rcParams["pdf.fonttype"] == 3 and matplotlib.rcParams["ps.fonttype"] == 3
    kinds = {p.name.split("_")[0] for p in written}
    assert kinds == set(P.KINDS) and all(p.suffix == ".pdf" for p in written)
    for path in written:
        assert_truetype_only(path)


def test_vsrbench_profile_pdf_embeds_truetype(tmp_path, capsys):
    _write_seq(tmp_path / "gt", _frames(2))
    _write_seq(tmp_path / "out", _frames(2, noise=5.0))
    out = tmp_path / "p.pdf"
    assert main(["profile", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "out"), "--out", str(out)]) == 0
    assert_truetype_only(out)


# ---------------------------------------------------------------------- LaTeX tables

def _wide_table() -> Table:
    """Per sequence, five metrics, with reported numbers: 17 columns."""
    rng = np.random.default_rng(0)
    metrics = ("psnr", "ssim", "lpips", "tof", "tlp")
    methods = ("Bicubic", "DUF-52L", "TecoGAN", "FRVSR")
    df = _long({(m, s, k): rng.random(3) * 30 for m in methods for s in ("calendar", "city", "foliage", "walk")
                for k in metrics}, dataset="Vid4")
    reported = {m: {k: 0.5 for k in metrics} for m in methods[1:]}
    return build_table(df, per_sequence=True, reported=reported)


def test_standalone_latex_source_uses_scalable_fonts_and_fits_wide_tables():
    tex = render_tables([_wide_table()], "latex", standalone=True)
    for package in ("\\usepackage[T1]{fontenc}", "\\usepackage{lmodern}", "\\usepackage{booktabs}",
                    "\\usepackage{graphicx}"):
        assert package in tex
    # the tabular is wrapped in a \resizebox that shrinks it to the line when it is wider (never enlarges)
    fit = "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n\\begin{tabular}"
    assert fit in tex and "\\end{tabular}}%\n" in tex  # no space inside the fitting boxes
    assert tex.index("\\resizebox") < tex.index("\\begin{tabular}") < tex.index("\\end{tabular}}")
    assert tex.count("{") == tex.count("}")  # unescaped and escaped braces both balance here


def _latex_tools() -> None:
    if shutil.which("pdflatex") is None or shutil.which("pdffonts") is None:
        pytest.skip("pdflatex or pdffonts is not installed (apt-get install texlive-latex-base "
                    "texlive-latex-recommended texlive-fonts-recommended lmodern poppler-utils)")
    found = subprocess.run(["kpsewhich", "lmodern.sty"], capture_output=True, text=True).stdout.strip()
    if not found:
        pytest.skip("lmodern.sty is not installed (apt-get install lmodern)")


@pytest.mark.parametrize("wide", [True, False], ids=["per-sequence-with-reported", "plain"])
def test_standalone_latex_compiles_without_type3_fonts_or_overfull_lines(tmp_path, wide):
    _latex_tools()
    table = _wide_table() if wide else build_table(_long({("A", "s", "psnr"): [30.0], ("B", "s", "psnr"): [29.0]}))
    (tmp_path / "t.tex").write_text(render_tables([table], "latex", standalone=True))
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "t.pdf")], capture_output=True, text=True, check=True).stdout
    listed = fonts.splitlines()[2:]
    assert listed and not [ln for ln in listed if "Type 3" in ln], fonts


# ---------------------------------------------------------------------- the tutorial with nbconvert

def test_nbconvert_is_installed_with_the_dev_extra():
    """`jupyter nbconvert --to notebook --execute notebooks/tutorial.ipynb` needs nbconvert's executor and the
    jupyter entry points; tests/test_notebook.py runs that very command."""
    nbconvert = pytest.importorskip("nbconvert", reason="nbconvert is a dev dependency (pip install -e .[dev])")
    from nbconvert.preprocessors import ExecutePreprocessor

    assert ExecutePreprocessor is not None and nbconvert.__version__
    proc = subprocess.run(["jupyter", "nbconvert", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and re.match(r"\d+\.", proc.stdout), proc.stderr[-1000:]
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    dev = pyproject[pyproject.index("dev = ["):]
    assert '"nbconvert' in dev[:dev.index("]")]


# ---------------------------------------------------------------------- which datasets a method runs on

def _two_datasets(tmp_path: Path) -> Path:
    for ds, seed in (("vid4", 0), ("reds", 5)):
        gt = _frames(seed)
        _write_seq(tmp_path / ds / "GT" / "s0", gt)
        _write_seq(tmp_path / ds / "LR" / "s0", [f[::4, ::4] for f in gt])
        _write_seq(tmp_path / ds / "Mine" / "s0", _frames(seed, noise=4.0))
    path = tmp_path / "bench.toml"
    path.write_text(textwrap.dedent("""
        protocol = "basicsr-rgb"
        metrics = ["psnr"]
        [datasets.vid4]
        gt = "vid4/GT"
        lr = "vid4/LR"
        [datasets.reds]
        gt = "reds/GT"
        lr = "reds/LR"
        [methods.Mine]
        outputs = { vid4 = "vid4/Mine" }
        [methods.Bicubic]
        model = "bicubic"
        [methods.Listed]
        outputs = { vid4 = "vid4/Mine" }
        datasets = ["vid4", "reds"]
    """))
    return path


def test_outputs_keys_are_the_datasets_a_method_runs_on(tmp_path):
    bench = load_bench(_two_datasets(tmp_path))
    assert [m.name for m in bench.methods_for("vid4")] == ["Mine", "Bicubic", "Listed"]
    assert [m.name for m in bench.methods_for("reds")] == ["Bicubic", "Listed"]  # explicit datasets still win
    assert not bench.methods["Mine"].runs_on("reds") and bench.methods["Bicubic"].runs_on("reds")
    lines: list[str] = []
    summary = run_benchmark(tmp_path / "bench.toml", tmp_path / "res", device="cpu", progress=lines.append)
    assert summary.missing == [("Listed", "reds", "s0", "no outputs folder given for dataset 'reds'")]
    assert not [ln for ln in lines if "Mine reds" in ln]  # Mine is neither tried nor warned about on reds
    df = load_results(tmp_path / "res")
    assert sorted(set(zip(df.method, df.dataset))) == [("Bicubic", "reds"), ("Bicubic", "vid4"), ("Listed", "vid4"),
                                                       ("Mine", "vid4")]


# ---------------------------------------------------------------------- reported numbers

def test_reported_numbers_come_only_from_the_benchmark_file(tmp_path):
    assert not hasattr(T, "_checkpoint_reported")  # the registry path that never matched is gone
    df = _long({("A", "s", "psnr"): [30.0], ("bicubic", "s", "psnr"): [28.0]})
    bench = {"datasets": {"toy": {}}, "methods": {
        "A": {"kind": "outputs", "reported": {"toy": {"psnr": 29.5}}},
        "bicubic": {"kind": "model", "model": "bicubic", "weights": None, "reported": {}}}}
    with ResultsStore(tmp_path / "res") as store:
        run = store.start_run({"vsrbench_version": "test", "protocol": "tecogan", "protocol_hash": HASH,
                               "protocol_fields": {}, "metric_versions": {}, "bench": bench})
        for m in ("A", "bicubic"):
            part = df[df["method"] == m]
            store.add_sequence(run, SequenceResult(m, "toy", "s", [(0, "psnr", float(part["value"].iloc[0]))],
                                                   ["0000.png"], {"psnr": "1"}, "tecogan", HASH))
        store.finish_run(run, "done")
    reported = reported_numbers(tmp_path / "res")
    assert reported == {"toy": {"A": {"psnr": 29.5}}}
    table = build_tables(load_results(tmp_path / "res"), reported=reported)[0]
    by_method = {r.method: [c.text for c in r.cells] for r in table.rows}
    assert [c.key for c in table.columns] == ["psnr", "psnr_reported", "psnr_delta"]
    assert by_method == {"A": ["30.00", "29.50", "+0.50"], "bicubic": ["28.00", "–", "–"]}


# ---------------------------------------------------------------------- one protocol

MIXED = pd.concat([_long({("A", "s", "psnr"): [30.0]}), _long({("B", "s", "psnr"): [29.0]}, protocol="basicsr-y",
                                                              protocol_hash="fedcba987654")])
MESSAGE = ("protocol: results for dataset 'toy' mix protocols basicsr-y (fedcba987654), tecogan (0123456789ab); "
           "numbers of different protocols are not comparable; choose one with --protocol basicsr-y or "
           "--protocol tecogan")


def test_require_one_protocol_returns_the_pair_or_raises_one_message():
    assert require_one_protocol(MIXED[MIXED["method"] == "A"]) == ("tecogan", HASH)
    assert require_one_protocol(MIXED.iloc[:0]) is None
    assert require_one_protocol(MIXED.drop(columns=["protocol", "protocol_hash"])) is None
    with pytest.raises(InputError) as e:
        require_one_protocol(MIXED, source="res")
    assert str(e.value) == MESSAGE.replace("results for", "results in 'res' for")


def test_tables_plots_check_and_the_plugin_share_the_protocol_check(tmp_path, monkeypatch):
    from vsrbench import pytest_plugin
    from vsrbench.analysis import check

    calls: list[int] = []
    real = require_one_protocol

    def spy(df, **kw):
        calls.append(len(df))
        return real(df, **kw)

    monkeypatch.setattr(results_frame, "require_one_protocol", spy)
    for build in (lambda: build_table(MIXED), lambda: build_tables(MIXED),
                  lambda: P.plot_bars(rows_of_dataset(MIXED), "toy", "psnr", P.method_colors("AB")),
                  lambda: check.entries_from_frame(MIXED),
                  lambda: pytest_plugin.write_baseline_for(MIXED, tmp_path / "b.json")):
        calls.clear()
        with pytest.raises(InputError) as e:
            build()
        assert str(e.value) == MESSAGE and calls
