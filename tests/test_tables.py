"""Leaderboard tables: ranks, decimals, ties, holes, averages (by hand), escaping, shapes, CLI."""
from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import vsrbench.analysis.tables as T

from vsrbench.analysis.render import render_latex, render_tables
from vsrbench.analysis.table_model import Cell, Table, compute_scores, rank_values
from vsrbench.analysis.tables import build_table, build_tables, reported_numbers
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.results.store import ResultsStore, SequenceResult

HASH = "0123456789ab"


def results(values: dict[tuple[str, str, str], list[float]], *, dataset: str = "toy", protocol: str = "tecogan",
            protocol_hash: str = HASH, version: str = "1") -> pd.DataFrame:
    """A long results DataFrame from {(method, sequence, metric): per-frame values}."""
    rows = []
    for (method, seq, metric), vals in values.items():
        for i, v in enumerate(vals):
            rows.append(dict(method=method, dataset=dataset, sequence=seq, frame=i, frame_name=f"{i:04d}.png",
                             metric=metric, value=float(v), protocol=protocol, protocol_hash=protocol_hash,
                             metric_version=version))
    return pd.DataFrame(rows)


def cell(table: Table, method: str, key: str, group: str | None = None) -> Cell:
    col = [c.key for c in table.columns].index(key)
    (row,) = [r for r in table.rows if r.method == method and r.group == group]
    return row.cells[col]


# A: best PSNR, best tOF; B: second PSNR, worst tOF; C: worst PSNR, second tOF.
THREE = results({
    ("A", "s1", "psnr"): [30.0, 31.0], ("B", "s1", "psnr"): [28.0, 28.0], ("C", "s1", "psnr"): [25.0, 25.0],
    ("A", "s1", "tof"): [0.1, 0.2], ("B", "s1", "tof"): [0.5, 0.5], ("C", "s1", "tof"): [0.3, 0.3],
    ("A", "s1", "ssim"): [0.91234, 0.91234], ("B", "s1", "ssim"): [0.8, 0.8], ("C", "s1", "ssim"): [0.7, 0.7],
})


def test_best_bold_second_underlined_for_higher_and_lower_is_better():
    t = build_table(THREE)
    assert [cell(t, m, "psnr").rank for m in "ABC"] == [1, 2, None]  # PSNR ↑
    assert [cell(t, m, "tof").rank for m in "ABC"] == [1, None, 2]  # tOF ↓
    md = render_tables([t], "markdown")
    assert "| A | **30.50** | **0.9123** | **0.150** |" in md
    assert "| B | <u>28.00</u> | <u>0.8000</u> | 0.500 |" in md
    assert "| C | 25.00 | 0.7000 | <u>0.300</u> |" in md
    assert "PSNR (dB) ↑" in md and "tOF (px) ↓" in md and "SSIM ↑" in md


def test_columns_follow_the_registry_order_and_decimals():
    t = build_table(THREE)
    assert [c.key for c in t.columns] == ["psnr", "ssim", "tof"]
    assert [c.decimals for c in t.columns] == [2, 4, 3]
    assert cell(t, "A", "ssim").text == "0.9123" and cell(t, "A", "tof").text == "0.150"
    only = build_table(THREE, metrics=["tof", "psnr"])
    assert [c.key for c in only.columns] == ["tof", "psnr"]


def test_ties_on_the_shown_value_share_the_rank():
    df = results({("A", "s", "psnr"): [30.004], ("B", "s", "psnr"): [29.996], ("C", "s", "psnr"): [29.5],
                  ("D", "s", "psnr"): [29.0]})
    t = build_table(df)
    # 30.004 and 29.996 both show as 30.00: both best; the next shown value is second.
    assert [cell(t, m, "psnr").rank for m in "ABCD"] == [1, 1, 2, None]
    assert [cell(t, m, "psnr").text for m in "AB"] == ["30.00", "30.00"]


def test_rank_values_edge_cases():
    assert rank_values([0.5, 0.5], 3, False) == [1, 1]  # all tied: all best, no second
    assert rank_values([0.5, None], 3, False) == [None, None]  # one number: nothing to compare
    assert rank_values([0.2, 0.1, 0.3], 1, False) == [2, 1, None]


def test_seq_avg_and_frame_avg_by_hand():
    # s1 has 3 frames (mean 2), s2 one frame (10): seq_avg = (2 + 10) / 2 = 6, frame_avg = 16 / 4 = 4.
    df = results({("A", "s1", "psnr"): [1.0, 2.0, 3.0], ("A", "s2", "psnr"): [10.0],
                  ("B", "s1", "psnr"): [4.0, 4.0, 4.0], ("B", "s2", "psnr"): [4.0]})
    seq = build_table(df, average="seq_avg")
    frame = build_table(df, average="frame_avg")
    assert cell(seq, "A", "psnr").value == pytest.approx(6.0, abs=1e-12)
    assert cell(frame, "A", "psnr").value == pytest.approx(4.0, abs=1e-12)
    assert cell(frame, "B", "psnr").value == pytest.approx(4.0, abs=1e-12)
    assert "mean of the per-sequence means (seq_avg)" in seq.caption
    assert "mean over all scored frames of all sequences (frame_avg)" in frame.caption
    assert "protocol tecogan (hash 0123456789ab)" in seq.caption


def test_per_sequence_blocks_are_ranked_separately():
    df = results({("A", "s1", "psnr"): [30.0], ("A", "s2", "psnr"): [20.0],
                  ("B", "s1", "psnr"): [29.0], ("B", "s2", "psnr"): [21.0]})
    t = build_table(df, per_sequence=True)
    assert [r.group for r in t.rows] == ["s1", "s1", "s2", "s2", "Average", "Average"]
    assert cell(t, "A", "psnr", "s1").rank == 1 and cell(t, "B", "psnr", "s2").rank == 1
    assert cell(t, "A", "psnr", "Average").text == "25.00" and cell(t, "B", "psnr", "Average").text == "25.00"
    md = render_tables([t], "markdown")
    assert md.splitlines()[0] == "| Sequence | Method | PSNR (dB) ↑ |"
    assert "| s2 | A | <u>20.00</u> |" in md and "|  | B | **21.00** |" in md
    tex = render_latex(t)
    assert tex.count("\\midrule") == 3  # header rule + between the three blocks


def test_holes_are_shown_and_footnoted_never_averaged_over_fewer_sequences():
    df = results({("A", "s1", "psnr"): [30.0, 30.0], ("A", "s2", "psnr"): [20.0, 20.0],
                  ("B", "s1", "psnr"): [40.0, 40.0],  # no s2
                  ("C", "s1", "psnr"): [25.0, 25.0], ("C", "s2", "psnr"): [25.0],  # s2 partial
                  ("D", "s1", "psnr"): [10.0, 10.0], ("D", "s2", "psnr"): [10.0, 10.0]})
    t = build_table(df)
    assert cell(t, "B", "psnr").text == "–" and cell(t, "B", "psnr").value is None
    assert cell(t, "C", "psnr").text == "–"
    assert cell(t, "A", "psnr").rank == 1 and cell(t, "D", "psnr").rank == 2  # B's 40 (one sequence) does not win
    assert "B: no complete PSNR results for s2 (shown as –; never averaged over fewer sequences)." in t.notes
    assert "C: no complete PSNR results for s2 (shown as –; never averaged over fewer sequences)." in t.notes
    per_seq = build_table(df, per_sequence=True)
    assert cell(per_seq, "B", "psnr", "s1").text == "40.00" and cell(per_seq, "B", "psnr", "s2").text == "–"
    # A method without any row of the metric shown (only another metric stored) is a hole too.
    only_ssim = build_table(pd.concat([df, results({("E", "s1", "ssim"): [0.5]})]), metrics=["psnr"])
    assert cell(only_ssim, "E", "psnr").text == "–"
    assert "E: no complete PSNR results for s1, s2 (shown as –; never averaged over fewer sequences)." in only_ssim.notes


def test_nonfinite_values_are_left_out_and_counted():
    df = results({("A", "s", "psnr"): [float("inf"), 30.0, 32.0], ("B", "s", "psnr"): [20.0, 20.0, 20.0]})
    t = build_table(df)
    assert cell(t, "A", "psnr").value == pytest.approx(31.0)
    assert ("A, PSNR: 1 non-finite per-frame value(s) (e.g. PSNR of identical frames) left out of the means."
            in t.notes)


def test_reported_columns_and_difference():
    t = build_table(THREE, reported={"A": {"psnr": 30.0}, "C": {"psnr": 26.0}})
    assert [c.key for c in t.columns] == ["psnr", "psnr_reported", "psnr_delta", "ssim", "tof"]
    assert cell(t, "A", "psnr_reported").text == "30.00" and cell(t, "A", "psnr_delta").text == "+0.50"
    assert cell(t, "C", "psnr_delta").text == "-1.00" and cell(t, "B", "psnr_reported").text == "–"
    assert cell(t, "A", "psnr_delta").rank is None  # only measured columns are ranked


def _check_latex_balanced(tex: str) -> None:
    """Braces balanced (escaped ones excluded), environments nested, inline math closed."""
    body = re.sub(r"\\[{}$&%#_]", "", tex)
    depth = 0
    for ch in body:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, "a closing brace without an opening one"
    assert depth == 0
    assert body.count("$") % 2 == 0
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{(\w+)\}", body):
        if kind == "begin":
            stack.append(env)
        else:
            assert stack and stack.pop() == env
    assert not stack


def test_latex_booktabs_escaping_and_balance():
    df = results({("my_model & 50% #1", "s", "psnr"): [30.0], ("a{b}~^\\", "s", "psnr"): [29.0]})
    tex = render_tables([build_table(df)], "latex")
    assert r"my\_model \& 50\% \#1 & \textbf{30.00} \\" in tex
    assert r"a\{b\}\textasciitilde{}\textasciicircum{}\textbackslash{} & \underline{29.00} \\" in tex
    assert r"PSNR (dB) $\uparrow$" in tex and r"\caption{toy: mean of the per-sequence means (seq\_avg)" in tex
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}{lr}"):
        assert rule in tex
    _check_latex_balanced(tex)
    rows = [ln for ln in tex.splitlines() if ln.endswith(r"\\")]
    assert all(len(re.findall(r"(?<!\\)&", ln)) == 1 for ln in rows)  # 2 columns everywhere


def test_latex_standalone_is_a_document():
    tex = render_tables([build_table(THREE)], "latex", standalone=True)
    assert tex.startswith("\\documentclass{article}") and tex.rstrip().endswith("\\end{document}")
    assert "\\usepackage{booktabs}" in tex
    _check_latex_balanced(tex)


def test_latex_compiles_with_pdflatex(tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    if not subprocess.run(["kpsewhich", "lmodern.sty"], capture_output=True, text=True).stdout.strip():
        pytest.skip("lmodern.sty is not installed (apt-get install lmodern); standalone tables use it")
    df = THREE.copy()
    df.loc[df["method"] == "A", "method"] = "my_model & 50%"
    (tmp_path / "t.tex").write_text(render_tables([build_table(df, per_sequence=True)], "latex", standalone=True))
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 0


def test_markdown_shape_and_escaping():
    df = results({("a|b_c", "s", "psnr"): [30.0], ("d", "s", "psnr"): [29.0]})
    md = render_tables([build_table(df)], "markdown").splitlines()
    assert md[:4] == ["| Method | PSNR (dB) ↑ |", "|:--|--:|", r"| a\|b\_c | **30.00** |", "| d | <u>29.00</u> |"]


def test_csv_shape():
    t = build_table(THREE, reported={"A": {"psnr": 30.0}})
    back = pd.read_csv(io.StringIO(render_tables([t], "csv")))
    assert list(back.columns) == ["dataset", "method", "psnr", "psnr_reported", "psnr_delta", "ssim", "tof"]
    assert back.shape == (3, 7)
    assert back.loc[0, "psnr"] == 30.5 and back.loc[0, "ssim"] == 0.9123 and pd.isna(back.loc[1, "psnr_reported"])


class _Tags(HTMLParser):
    VOID = {"br", "hr", "img", "meta"}

    def __init__(self):
        super().__init__()
        self.stack, self.count = [], {}

    def handle_starttag(self, tag, attrs):
        self.count[tag] = self.count.get(tag, 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag


def test_html_shape_and_escaping():
    df = results({("<x&y>", "s", "psnr"): [30.0], ("B", "s", "psnr"): [29.0]})
    df = pd.concat([df, results({("B", "s2", "psnr"): [1.0]})])  # "<x&y>" lacks s2: a footnote
    text = render_tables([build_table(df)], "html")
    parser = _Tags()
    parser.feed(text)
    assert parser.stack == []
    assert parser.count["table"] == 1 and parser.count["caption"] == 1 and parser.count["tfoot"] == 1
    assert parser.count["tr"] == 1 + 2 + 1  # header, two methods, one footnote
    assert "<tr><th>&lt;x&amp;y&gt;</th><td>–</td></tr>" in text
    assert "<tr><th>B</th><td>15.00</td></tr>" in text  # a single number is not highlighted


def test_several_datasets_give_one_table_each():
    df = pd.concat([THREE, results({("A", "x", "psnr"): [1.0]}, dataset="other")])
    tables = build_tables(df)
    assert [t.dataset for t in tables] == ["toy", "other"]
    assert len(pd.read_csv(io.StringIO(render_tables(tables, "csv")))) == 4


# ------------------------------------------------------------------ errors (messages pinned)

def test_error_messages():
    mixed = pd.concat([THREE, results({("D", "s1", "psnr"): [1.0]}, protocol="basicsr-y", protocol_hash="fedcba987654")])
    with pytest.raises(InputError, match=r"^protocol: results for dataset 'toy' mix protocols basicsr-y "
                       r"\(fedcba987654\), tecogan \(0123456789ab\); numbers of different protocols are not "
                       r"comparable; choose one with --protocol basicsr-y or --protocol tecogan$"):
        build_table(mixed)
    with pytest.raises(UnknownNameError, match=r"unknown metric 'psnrr'; did you mean 'psnr'\?"):
        build_table(THREE, metrics=["psnrr"])
    with pytest.raises(InputError, match=r"^metrics: 'lpips' has no stored results \(stored: psnr, ssim, tof\)$"):
        build_table(THREE, metrics=["lpips"])
    with pytest.raises(InputError, match=r"^metrics: expected at least one metric name, got none$"):
        build_table(THREE, metrics=[])
    with pytest.raises(InputError, match=r"^average: expected one of seq_avg, frame_avg, got 'mean'$"):
        build_table(THREE, average="mean")
    with pytest.raises(UnknownNameError, match=r"unknown dataset 'tyo'; did you mean 'toy'\?"):
        build_table(THREE, dataset="tyo")
    with pytest.raises(InputError, match=r"^results: expected columns .*; missing protocol, protocol_hash$"):
        build_table(THREE.drop(columns=["protocol", "protocol_hash"]))
    with pytest.raises(InputError, match=r"^results: no stored rows \(run a benchmark first\)$"):
        build_table(THREE.iloc[:0])
    with pytest.raises(InputError, match=r"^format: expected one of markdown, latex, csv, html, got 'rst'$"):
        render_tables([build_table(THREE)], "rst")
    two = pd.concat([THREE, results({("A", "x", "psnr"): [1.0]}, dataset="other")])
    with pytest.raises(InputError, match=r"^dataset: the results hold several datasets \(toy, other\); choose one "
                       r"with dataset= \(CLI: --dataset\) or use build_tables$"):
        build_table(two)
    versions = pd.concat([THREE[THREE["method"] != "C"], results({("C", "s1", "psnr"): [1.0, 1.0]}, version="2")])
    with pytest.raises(InputError, match=r"^metric 'psnr' was scored by different versions \(A: 1; B: 1; C: 2\); "
                       r"re-score the older results$"):
        build_table(versions)


# ------------------------------------------------------------------ the command

def _store(results_dir, df: pd.DataFrame, bench: dict | None = None) -> None:
    """Write a results DataFrame into a real results store (the runner's storage path)."""
    with ResultsStore(results_dir) as store:
        run = store.start_run({"vsrbench_version": "test", "protocol": "tecogan", "protocol_hash": HASH,
                               "protocol_fields": {}, "metric_versions": {}, "bench": bench})
        for (method, ds, seq), part in df.groupby(["method", "dataset", "sequence"], sort=False):
            store.add_sequence(run, SequenceResult(
                method, ds, seq, [(int(f), m, float(v)) for f, m, v in part[["frame", "metric", "value"]].itertuples(
                    index=False)], [f"{i:04d}.png" for i in range(int(part["frame"].max()) + 1)],
                {m: "1" for m in set(part["metric"])}, "tecogan", HASH))
        store.finish_run(run, "done")


def test_cli_writes_each_format(tmp_path, capsys):
    _store(tmp_path / "res", THREE)
    assert main(["table", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    assert "| A | **30.50** | **0.9123** | **0.150** |" in out
    for fmt, ext in (("latex", "tex"), ("csv", "csv"), ("html", "html"), ("markdown", "md")):
        dest = tmp_path / f"t.{ext}"
        assert main(["table", str(tmp_path / "res"), "--format", fmt, "--out", str(dest), "--metrics", "psnr",
                     "tof"]) == 0
        assert dest.stat().st_size > 0
    assert list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text())))[0] == ["dataset", "method", "psnr", "tof"]
    assert main(["table", str(tmp_path / "res"), "--out", str(tmp_path / "x.tex"), "--standalone"]) == 0
    assert (tmp_path / "x.tex").read_text().startswith("\\documentclass")  # format from the extension


def test_cli_errors_are_one_line(tmp_path, capsys):
    _store(tmp_path / "res", THREE)
    assert main(["table", str(tmp_path / "res"), "--metrics", "psnrr"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown metric 'psnrr'; did you mean 'psnr'?" in err
    assert main(["table", str(tmp_path / "nothing")]) == 2
    assert "no results store in" in capsys.readouterr().err


def test_reported_numbers_come_from_the_run_record_only(tmp_path, monkeypatch, capsys):
    from vsrbench.baselines import MODELS, Checkpoint, ModelSpec

    # A built-in model's registry numbers are never shown as "reported" (they belong to the authors'
    # data and protocol); only a method's reported = {...} in the benchmark file is.
    ckpt = Checkpoint("c.pth", "torch-state-dict", "nowhere", published=(("PyTorch TecoGAN", "BD"),))
    monkeypatch.setitem(MODELS, "fake-sr", ModelSpec("fake-sr", "test model", builder=None, checkpoints=(ckpt,)))
    bench = {"datasets": {"toy": {}, "other": {}}, "methods": {
        "A": {"kind": "outputs", "reported": {"*": {"psnr": 31.0, "tof": 0.2}, "toy": {"psnr": 30.0}}},
        "B": {"kind": "model", "model": "fake-sr", "weights": None, "reported": {}},
        "C": {"kind": "model", "model": "bicubic", "reported": {"toy": {"psnr": 27.5}}}}}
    _store(tmp_path / "res", THREE, bench)
    assert reported_numbers(tmp_path / "res") == {
        "toy": {"A": {"psnr": 30.0, "tof": 0.2}, "C": {"psnr": 27.5}},
        "other": {"A": {"psnr": 31.0, "tof": 0.2}}}
    assert main(["table", str(tmp_path / "res"), "--reported", "--metrics", "psnr"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "| Method | PSNR (dB) ↑ | PSNR reported | PSNR Δ |"
    assert "| A | **30.50** | 30.00 | +0.50 |" in out and "| B | <u>28.00</u> | – | – |" in out
    assert not hasattr(T, "_checkpoint_reported")


def test_speed_vid4_sized_leaderboard(benchmark):
    """10 methods x 4 sequences x 41 frames x 5 metrics (~8000 rows): build + render (pytest-benchmark)."""
    rng = np.random.default_rng(3)
    metrics = ("psnr", "ssim", "lpips", "tof", "tlp")
    values = {(f"m{i}", s, m): rng.random(40 if m in ("tof", "tlp") else 41)
              for i in range(10) for s in ("calendar", "city", "foliage", "walk") for m in metrics}
    df = results(values)
    table = benchmark(lambda: build_table(df, per_sequence=True))
    assert len(table.rows) == 10 * 5
    # seq_avg of m3's tLP by hand: the mean of the four per-sequence means
    expected = np.mean([values[("m3", s, "tlp")].mean() for s in ("calendar", "city", "foliage", "walk")])
    assert cell(table, "m3", "tlp", "Average").value == pytest.approx(expected, rel=1e-12)


def test_docstring_examples():
    import doctest

    from vsrbench.analysis import table_model, table_stats

    results_ = [doctest.testmod(module) for module in (T, table_model, table_stats)]
    assert sum(r.attempted for r in results_) > 0 and sum(r.failed for r in results_) == 0


def test_more_error_messages(tmp_path):
    two = pd.concat([THREE, results({("A", "x", "psnr"): [1.0]}, dataset="other")])
    with pytest.raises(InputError, match=r"^dataset: expected the results of one dataset, got toy, other$"):
        compute_scores(two, ["psnr"])
    from vsrbench.commands.table import output_format

    with pytest.raises(InputError, match=r"^--out: cannot tell the format from the extension '.txt' of 't.txt'; use "
                                         r"\.md, \.markdown, \.tex, \.csv, \.html, \.htm or pass --format$"):
        output_format(None, "t.txt")
    assert output_format(None, "T.HTM") == "html" and output_format("csv", "t.tex") == "csv"


def test_cli_choices_match_the_library():
    """The table/plot commands spell the choices out (so the CLI starts without pandas/torch)."""
    import vsrbench.commands.table as cmd
    import vsrbench.analysis.table_model as tables

    assert tuple(cmd.FORMATS) == tuple(tables.FORMATS) and tuple(cmd.AVERAGES) == tuple(tables.AVERAGES)


def test_building_the_cli_does_not_import_torch_or_pandas():
    import subprocess
    import sys

    code = ("import sys, vsrbench.cli; vsrbench.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
