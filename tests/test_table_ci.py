"""Tables with intervals (--ci) and significance marks (--against): cells, captions, CSV columns, LaTeX.

The numbers come from vsrbench.analysis.stats (tested in test_stats.py); here: that the table shows them,
in every format, on the right rows, and says in its caption how they were made.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest

from vsrbench.analysis import stats
from vsrbench.analysis.render import render_html, render_latex, render_markdown, render_tables
from vsrbench.analysis.table_stats import CI_STYLES, SIGNIFICANT, half_width_text
from vsrbench.analysis.tables import build_table, build_tables
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError, VsrbenchWarning
from vsrbench.results.store import ResultsStore, SequenceResult

HASH = "aaaaaaaaaaaa"
COLUMNS = ["method", "dataset", "sequence", "frame", "frame_name", "metric", "value", "protocol", "protocol_hash",
           "metric_version"]


def frame(data, metric="psnr", dataset="d") -> pd.DataFrame:
    """Long rows from ``{method: {clip: [values]}}``."""
    rows = [(method, dataset, seq, f, f"f{f:03d}.png", metric, float(v), "tecogan", HASH, "1")
            for method, clips in data.items() for seq, values in clips.items() for f, v in enumerate(values)]
    return pd.DataFrame(rows, columns=COLUMNS)


def base_clips(k=8, n=6, seed=0):
    rng = np.random.default_rng(seed)
    return {f"c{i:02d}": list(30 + 2 * rng.standard_normal() + 0.5 * rng.standard_normal(n)) for i in range(k)}


@pytest.fixture()
def results():
    """A = the original, Same = an identical copy, Noisy = A with added noise (lower PSNR on every clip),
    tOF: Flicker = A's tOF + 0.01 on every frame (worse). 8 clips."""
    a = base_clips()
    rng = np.random.default_rng(1)
    noisy = {c: [v - 0.4 + 0.05 * rng.standard_normal() for v in vals] for c, vals in a.items()}
    tof = {c: [v / 100 for v in vals] for c, vals in a.items()}
    flicker = {c: [v + 0.01 for v in vals] for c, vals in tof.items()}
    return pd.concat([frame({"A": a, "Same": a, "Noisy": noisy}),
                      frame({"A": tof, "Same": tof, "Noisy": flicker}, "tof")], ignore_index=True)


def build(df, **kw):
    kw.setdefault("resamples", 400)
    return build_table(df, **kw)


def row(table, method, group=None):
    return next(r for r in table.rows if r.method == method and r.group == group)


# ------------------------------------------------------------------ the table model

def test_ci_cells_carry_the_stats_intervals(results):
    t = build(results, ci=True, seed=4)
    ivs = stats.dataset_intervals(results, resamples=400, seed=4)
    for method in ("A", "Same", "Noisy"):
        for k, col in enumerate(t.columns):
            cell, iv = row(t, method).cells[k], ivs[(method, "d", col.metric)]
            assert cell.value == pytest.approx(iv.value, abs=1e-12)
            assert (cell.lo, cell.hi) == pytest.approx((iv.lo, iv.hi), abs=1e-12)
            assert cell.lo < cell.value < cell.hi
            assert cell.interval_text == f"± {half_width_text(iv.half_width, col.decimals)}"
            assert cell.p is None and cell.significant is None  # no --against


def test_frame_avg_intervals_follow_the_tables_average(results):
    t = build(results, ci=True, average="frame_avg")
    ivs = stats.dataset_intervals(results, average="frame_avg", resamples=400)
    cell = row(t, "Noisy").cells[0]
    assert (cell.lo, cell.hi) == pytest.approx((ivs[("Noisy", "d", "psnr")].lo, ivs[("Noisy", "d", "psnr")].hi))


def test_half_width_has_two_significant_digits_at_most_the_columns_decimals():
    assert half_width_text(0.0512, 2) == "0.05"
    assert half_width_text(1.234, 2) == "1.2"
    assert half_width_text(12.34, 2) == "12"
    assert half_width_text(0.01234, 4) == "0.012"
    assert half_width_text(0.004, 2) == "0.004"  # never shown as 0
    assert half_width_text(0.0, 2) == "0.00"


def test_identical_method_is_not_marked_and_noisy_one_is(results):
    t = build(results, against="A")
    same, noisy, ref = row(t, "Same"), row(t, "Noisy"), row(t, "A")
    assert all(c.significant is False and c.p == pytest.approx(1.0) for c in same.cells)
    assert all(c.significant is True for c in noisy.cells), noisy.cells
    assert all(c.p is None and c.significant is None for c in ref.cells)  # the reference itself
    # Holm over the 2 compared methods: the adjusted p is at least the raw one
    assert all(c.p_adjusted >= c.p for c in noisy.cells)
    assert not any(c.interval_text for c in noisy.cells)  # --against alone: no intervals
    md = render_markdown(t)
    assert re.search(r"\| Noisy \| <u>[\d.]+</u>\\\* \| <u>[\d.]+</u>\\\* \|", md), md
    assert re.search(r"\| Same \| \*\*[\d.]+\*\* \| \*\*[\d.]+\*\* \|", md), md  # bold (tie with A), no mark


def test_marks_match_compare_to_with_alpha_and_test(results):
    t = build(results, against="A", test="bootstrap", alpha=0.01, seed=2)
    cmp = stats.compare_to(results, "A", resamples=400, seed=2, test="bootstrap", level=0.99)
    for k, col in enumerate(t.columns):
        c = cmp[("Noisy", "d", col.metric)]
        cell = row(t, "Noisy").cells[k]
        assert (cell.p, cell.p_adjusted, cell.significant) == (c.p, c.p_adjusted, c.significant)
    assert "paired bootstrap test" in t.caption and "α=0.01" in t.caption


def test_caption_names_interval_test_alpha_correction_and_clips(results):
    t = build(results, ci=True, against="A", seed=7)
    cap = t.caption
    assert "95% percentile interval of a cluster bootstrap over clips (400 resamples, seed 7)" in cap
    assert "2 significant digits" in cap
    assert f"{SIGNIFICANT}: differs significantly from A (paired approximate randomisation test" in cap
    assert "Holm-adjusted" in cap and "α=0.05" in cap and "2 method(s) compared, 8 clip(s)" in cap
    assert "†" not in cap  # the dagger stays the published rows' mark
    t2 = build(results, against="A", seed=7)
    assert "400 resamples, seed 7" in t2.caption  # without --ci the test's own draws are named


def test_bold_and_underline_still_rank_the_values(results):
    t = build(results, ci=True, against="A")
    assert [c.rank for c in row(t, "A").cells] == [1, 1]
    assert [c.rank for c in row(t, "Noisy").cells] == [2, 2]


def test_bracket_style(results):
    t = build(results, ci=True, ci_style="bracket")
    cell = row(t, "A").cells[0]
    assert cell.interval_text == f"[{cell.lo:.2f}, {cell.hi:.2f}]"
    assert f"**{cell.text}** [{cell.lo:.2f}, {cell.hi:.2f}]" in render_markdown(t)
    assert "[lo, hi]: 95% percentile interval" in t.caption


def test_per_sequence_blocks_have_no_intervals_and_say_so(results):
    t = build(results, ci=True, against="A", per_sequence=True)
    for r in t.rows:
        has = any(c.interval_text or c.significant is not None for c in r.cells)
        assert has == (r.group == "Average"), r
    assert "only in the Average block" in t.caption


def test_published_rows_keep_their_dagger_and_get_no_interval(results):
    from vsrbench.catalog.published import PublishedRow

    pub = PublishedRow(method="Paper", suite="s", degradation="BI", metric="psnr", value=31.0, value_text="31.00",
                       sequence="", averaging="seq_avg", convention="tecogan", source="Paper X", note="", origin="x:1")
    t = build(results, ci=True, against="A", published=[pub], info={"suite": "s"})
    paper = next(r for r in t.rows if r.method == "Paper")
    assert paper.note_ref == 1 and all(not c.interval_text and c.significant is None for c in paper.cells)
    md = render_markdown(t)
    assert "| Paper†1 | 31.00 |" in md
    assert "Published rows (†) have no per-frame data" in t.caption


def test_against_missing_from_one_dataset_is_a_note_there(results):
    other = frame({"Noisy": base_clips(), "Same": base_clips()}, dataset="e")
    t_d, t_e = build_tables(pd.concat([results, other], ignore_index=True), against="A", resamples=200)
    assert any(c.significant for c in row(t_d, "Noisy").cells)
    assert "--against: A has no results for dataset e: no significance marks." in t_e.notes
    assert all(c.significant is None for r in t_e.rows for c in r.cells)


def test_holes_get_no_interval(results):
    df = results[~((results.method == "Noisy") & (results.sequence == "c03"))]
    t = build(df, ci=True, against="A")
    noisy = row(t, "Noisy")
    assert all(c.value is None and not c.interval_text and c.significant is None for c in noisy.cells)


# ------------------------------------------------------------------ errors and warnings

def test_unknown_against_is_a_did_you_mean_error(results):
    with pytest.raises(UnknownNameError, match="did you mean 'Noisy'"):
        build(results, against="noisy")
    with pytest.raises(InputError, match="ci_style: expected one of pm, bracket, got 'plusminus'"):
        build(results, ci=True, ci_style="plusminus")
    with pytest.raises(InputError, match="alpha: expected a significance level between 0 and 1"):
        build(results, against="A", alpha=5)


def test_few_clips_warns_once(results):
    df = results[results.sequence.isin(["c00", "c01", "c02", "c03"])]
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        t = build(df, ci=True, against="A")
    few = [w for w in got if issubclass(w.category, VsrbenchWarning)]
    assert len(few) == 1 and "has 4 clip(s) (< 5)" in str(few[0].message), [str(w.message) for w in got]
    assert all(c.significant is False for c in row(t, "Noisy").cells)  # 4 clips: p >= 0.125
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        build(results, ci=True, against="A")
    assert not got  # 8 clips: no warning


def test_seed_gives_identical_output_and_another_seed_other_intervals(results):
    one = render_tables([build(results, ci=True, against="A", seed=3)], "csv")
    assert render_tables([build(results, ci=True, against="A", seed=3)], "csv") == one
    assert render_tables([build(results, ci=True, against="A", seed=4)], "csv") != one


# ------------------------------------------------------------------ formats

def test_csv_has_separate_value_lo_hi_p_significant_columns(results):
    t = build(results, ci=True, against="A")
    back = pd.read_csv(io.StringIO(render_tables([t], "csv")))
    assert list(back.columns) == ["dataset", "method", "psnr", "psnr_lo", "psnr_hi", "psnr_p", "psnr_p_adjusted",
                                  "psnr_significant", "tof", "tof_lo", "tof_hi", "tof_p", "tof_p_adjusted",
                                  "tof_significant"]
    noisy = back[back.method == "Noisy"].iloc[0]
    cell = row(t, "Noisy").cells[0]
    assert noisy["psnr_lo"] == pytest.approx(cell.lo, rel=1e-12) and noisy["psnr_hi"] == pytest.approx(cell.hi)
    assert noisy["psnr_p"] == pytest.approx(cell.p) and bool(noisy["psnr_significant"]) is True
    assert back.loc[back.method == "Same", "tof_significant"].tolist() == [False]
    assert back.loc[back.method == "A", "psnr_p"].isna().all()  # the reference: empty
    plain = pd.read_csv(io.StringIO(render_tables([build(results)], "csv")))
    assert list(plain.columns) == ["dataset", "method", "psnr", "tof"]  # unchanged without --ci


def test_latex_and_html_cells(results):
    t = build(results, ci=True, against="A")
    noisy = row(t, "Noisy").cells[0]
    tex = render_latex(t)
    assert f"\\underline{{{noisy.text}}}$^{{*}}$\\,{{\\footnotesize$\\pm${noisy.interval_text[2:]}}}" in tex
    assert "$\\pm$ (the larger distance" in tex and "$\\alpha$=0.05" in tex
    page = render_html(t)
    assert f"<u>{noisy.text}</u><sup>*</sup> <small>{noisy.interval_text}</small>" in page


def _pdflatex_or_skip():
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    if not subprocess.run(["kpsewhich", "lmodern.sty"], capture_output=True, text=True).stdout.strip():
        pytest.skip("lmodern.sty is not installed (apt-get install lmodern); standalone tables use it")


def test_standalone_latex_with_ci_and_against_compiles_without_overfull_boxes(tmp_path, results):
    _pdflatex_or_skip()
    metrics = ["psnr", "ssim", "lpips", "tof", "tlp"]  # a table wider than the line: scaled to \linewidth
    names = ("A", "Noisy", "A-method-with-a-long-name-and-a-longer-configuration-suffix")
    wide = pd.concat([frame({m: base_clips(seed=i + j) for j, m in enumerate(names)}, metric)
                      .assign(value=lambda d, i=i: d["value"] / (1 if i == 0 else 40))
                      for i, metric in enumerate(metrics)], ignore_index=True)
    tables = [build(wide, ci=True, against="A", seed=1), build(results, ci=True, against="A", ci_style="bracket"),
              build(results, ci=True, against="A", per_sequence=True)]
    tex = render_tables(tables, "latex", standalone=True)
    (tmp_path / "t.tex").write_text(tex)
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log, log[-3000:]
    assert (tmp_path / "t.pdf").stat().st_size > 0


# ------------------------------------------------------------------ the command

def _store(tmp_path, df):
    run = {"vsrbench_version": "0.1.0", "protocol": "tecogan", "protocol_hash": HASH, "protocol_fields": {},
           "metric_versions": {"psnr": "1", "tof": "1"}}
    with ResultsStore(tmp_path) as store:
        run_id = store.start_run(run)
        for (method, seq), part in df.groupby(["method", "sequence"], sort=False):
            store.add_sequence(run_id, SequenceResult(
                method, "d", seq, [(int(f), m, float(v)) for f, m, v in part[["frame", "metric", "value"]]
                                   .itertuples(index=False)],
                [f"{f}.png" for f in range(int(part["frame"].max()) + 1)], {"psnr": "1", "tof": "1"},
                "tecogan", HASH))
        store.finish_run(run_id, "done")
    return tmp_path


def test_cli_table_ci_against(tmp_path, capsys, results):
    res = _store(tmp_path, results)
    argv = ["table", str(res), "--ci", "--against", "A", "--resamples", "300", "--seed", "5"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert re.search(r"\| Noisy \| <u>[\d.]+</u>\\\* ± [\d.]+ \|", out), out
    assert "(300 resamples, seed 5)" in out
    assert main(argv) == 0 and capsys.readouterr().out == out  # reproducible
    assert main(argv + ["--format", "csv"]) == 0
    back = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert back.loc[back.method == "Noisy", "psnr_significant"].tolist() == [True]


def test_cli_errors_are_one_line(tmp_path, capsys, results):
    res = _store(tmp_path, results)
    assert main(["table", str(res), "--against", "noisy"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'Noisy'" in err, err
    assert main(["table", str(res), "--level", "0.9"]) != 0
    assert capsys.readouterr().err == "vsrbench table: error: --level: only used with --ci; add --ci\n"
    assert main(["table", str(res), "--ci", "--alpha", "0.1"]) != 0
    assert capsys.readouterr().err == "vsrbench table: error: --alpha: only used with --against; add --against\n"


def test_cli_few_clips_warning_printed_once(tmp_path, capsys, results):
    res = _store(tmp_path, results[results.sequence.isin(["c00", "c01", "c02"])])
    assert main(["table", str(res), "--ci", "--against", "A", "--resamples", "100"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "has 3 clip(s) (< 5)" in err, err


def test_cli_constants_match_the_library():
    from vsrbench.commands import table as cmd

    assert cmd.CI_STYLES == CI_STYLES and cmd.TESTS == stats.TESTS and cmd.SIGNIFICANT == SIGNIFICANT
    assert SIGNIFICANT == stats.SIGNIFICANT_MARK != "†"  # † marks published rows


# ------------------------------------------------------------------ real data: Vid4, DUF-52L vs DUF-16L

@pytest.mark.slow
def test_vid4_duf_table_with_ci_and_against(capsys, vid4_example):
    res = vid4_example
    capsys.readouterr()
    assert main(["table", str(res), "--ci", "--against", "DUF-16L"]) == 0
    out, err = capsys.readouterr()
    assert err.count("warning:") == 1 and "'vid4' has 4 clip(s)" in err, err
    # 4 clips: the exact randomisation test cannot go below p = 0.125, so no mark
    assert re.search(r"\| DUF-52L \| \*\*27\.5\d\*\* ± \d\.\d \| \*\*0\.84\d\d\*\* ± 0\.0\d\d? \| \*\*0\.14\d\*\* ± ", out), out
    assert "\\*" not in out.split("\n\n")[0]
    assert main(["table", str(res), "--ci", "--against", "DUF-16L", "--test", "bootstrap", "--format", "csv"]) == 0
    back = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("method")
    assert back.loc["DUF-52L", ["psnr_significant", "ssim_significant", "tof_significant"]].tolist() == [True] * 3
    for m in ("psnr", "ssim", "tof"):
        assert back.loc["DUF-52L", f"{m}_lo"] < back.loc["DUF-52L", m] < back.loc["DUF-52L", f"{m}_hi"]
