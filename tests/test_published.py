"""Published results as data: the database and its loader (file:line errors), ``vsrbench published``,
``vsrbench table --published`` (dagger, footnotes, ranking only among matching conventions, every
format, LaTeX that compiles), the checkpoints' numbers as database rows, and an independent check
of every seeded number against the team's benchmark notes."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from _support.paths import shared_path
from vsrbench.catalog import published as P
from vsrbench.analysis.published_rows import dataset_info
from vsrbench.analysis.render import render_tables
from vsrbench.analysis.tables import build_table
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.metrics import METRICS, get_protocol
from vsrbench.results.store import ResultsStore, SequenceResult
from vsrbench.results.loading import load_results

HEADER = "method,suite,degradation,metric,value,sequence,averaging,convention,source,note"
Y = get_protocol("basicsr-y")


@pytest.fixture(scope="module")
def rows() -> list[P.PublishedRow]:
    return P.load_published()


# ---------------------------------------------------------------------- the database

def test_names_are_vsrbench_names():
    assert P.metric_names() == tuple(METRICS)
    try:
        from vsrbench.catalog.suites import SUITES
    except ImportError:
        pytest.skip("vsrbench.catalog.suites is not there yet: the fixed suite list is used")
    # the fallback names the classic suites; the catalog may define more (the diffusion-VSR suites)
    assert set(P.SUITE_NAMES) <= set(SUITES) and set(P.known_suites()) == set(SUITES)


def test_the_shipped_database_loads(rows):
    assert len(rows) >= 150
    assert {r.suite for r in rows} == {"vid4", "reds4", "vimeo90k-t", "udm10", "spmcs", "tos3", "youhq40", "reds30",
                                       "videolq", "realvsr", "mvsr4x"}
    assert all(r.source and r.convention for r in rows)
    # rows are kept as written: the number's digits, the method as the source names it
    edvr = P.filter_rows(rows, suite="reds4", method="EDVR", metric="ssim")
    assert [(r.value_text, r.value, r.averaging, r.convention) for r in edvr if "EvTexture" in r.source] == [
        ("0.8800", 0.88, "unknown", "basicsr-rgb")]
    # conventions written as protocol names resolve to the protocol (and its hash)
    vimeo = P.filter_rows(rows, suite="vimeo90k-t", method="RVRT", metric="psnr")[0]
    assert vimeo.protocol.hash == get_protocol("basicsr-y", frames_scored="center").hash != Y.hash
    assert P.filter_rows(rows, method="edvr", suite="vid4")[0].protocol is None  # "not stated in the source"


def test_filters_and_their_names(rows):
    pt = P.filter_rows(rows, method="pytorch tecogan")
    assert {(r.suite, r.family) for r in pt} == {("vid4", "BD"), ("vid4", "BI"), ("tos3", "BD"), ("tos3", "BI")}
    assert all(r.metric == "tlp" for r in P.filter_rows(rows, metric="tlp"))
    with pytest.raises(UnknownNameError, match=r"unknown suite 'vid5'; did you mean 'vid4'"):
        P.filter_rows(rows, suite="vid5")
    with pytest.raises(UnknownNameError, match=re.escape("unknown published method 'BasicVSR+'; did you mean 'BasicVSR++'")):
        P.filter_rows(rows, method="BasicVSR+")
    with pytest.raises(UnknownNameError, match=r"unknown metric 'psrn'; did you mean 'psnr'"):
        P.filter_rows(rows, metric="psrn")


def _csv(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    p = tmp_path / "mine.csv"
    p.write_text("\n".join(["# my numbers", header, *lines]) + "\n")
    return p


GOOD = "M,vid4,BI,psnr,27.10,,seq_avg,basicsr-y,Paper T1,"


@pytest.mark.parametrize("line, message", [
    ("M,vid5,BI,psnr,27.1,,seq_avg,basicsr-y,Paper,", "{f}:4: suite: unknown suite 'vid5'; did you mean 'vid4'?"),
    ("M,vid4,BI,psrn,27.1,,seq_avg,basicsr-y,Paper,", "{f}:4: metric: unknown metric 'psrn'; did you mean 'psnr'?"),
    ("M,vid4,BI,psnr,27.1,,seq-avg,basicsr-y,Paper,",
     "{f}:4: averaging: unknown averaging 'seq-avg'; did you mean 'seq_avg'?"),
    ("M,vid4,BI,psnr,27.1 dB,,seq_avg,basicsr-y,Paper,", "{f}:4: value: expected a number, got '27.1 dB'"),
    ("M,vid4,BI,psnr,nan,,seq_avg,basicsr-y,Paper,", "{f}:4: value: expected a finite number, got 'nan'"),
    ("M,vid4,BI,psnr,,,seq_avg,basicsr-y,Paper,", "{f}:4: value: expected a value, got an empty field"),
    ("M,vid4,BX,psnr,27.1,,seq_avg,basicsr-y,Paper,", "{f}:4: degradation: expected BI or BD"),
    ("M,vid4,BI,psnr,27.1,,seq_avg,basicsr_y,Paper,",
     "{f}:4: convention: unknown protocol 'basicsr_y'; did you mean 'basicsr-y'?"),
    ("M,vid4,BI,psnr,27.1,,seq_avg,basicsr-y[frames_scored=middle],Paper,", "{f}:4: convention: "),
    ("M,vid4,BI,psnr,27.1,,seq_avg,basicsr-y,Paper", "{f}:4: expected 10 fields"),
    (GOOD, "{f}:4: the same number (method, suite, degradation, metric, sequence, averaging, convention, source) "
           "as {f}:3"),
])
def test_a_bad_row_is_named_by_file_and_line(tmp_path, line, message):
    path = _csv(tmp_path, GOOD, line)
    with pytest.raises(InputError) as info:
        P.load_published(path)
    assert str(info.value).startswith(message.format(f=path)), str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_column_and_an_empty_file(tmp_path):
    path = _csv(tmp_path, GOOD, header=HEADER.replace(",averaging", ""))
    with pytest.raises(InputError, match=re.escape(f"{path}:2: header: expected the columns") + ".*missing averaging"):
        P.load_published(path)
    path = _csv(tmp_path, header=HEADER.replace("source", "sauce"))
    with pytest.raises(InputError, match="missing source"):
        P.load_published(path)
    (tmp_path / "empty.csv").write_text("# nothing\n")
    with pytest.raises(InputError, match="empty.csv: expected a header line"):
        P.load_published(tmp_path / "empty.csv")
    with pytest.raises(InputError, match="cannot read published-results file .*no such file"):
        P.load_published(tmp_path / "absent.csv")


def test_a_user_file_keeps_its_rows_as_written(tmp_path):
    path = _csv(tmp_path, GOOD, 'M,vid4,"BD (sigma 1.6)",psnr,26.9,calendar,unknown,"Y, crop 0",Paper T2,"a, b"')
    a, b = P.load_published(path)
    assert (a.origin, a.value_text, a.sequence, a.protocol.name) == (f"{path}:3", "27.10", "", "basicsr-y")
    assert (b.degradation, b.family, b.kernel, b.sequence, b.convention, b.protocol, b.note) == (
        "BD (sigma 1.6)", "BD", "sigma 1.6", "calendar", "Y, crop 0", None, "a, b")


# ---------------------------------------------------------------------- vsrbench published

def test_cli_lists_rows_with_their_sources(tmp_path, capsys):
    assert main(["published", "--suite", "reds4", "--method", "basicvsr++", "--metric", "PSNR"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["METHOD", "SUITE", "DEGRADATION", "METRIC", "VALUE", "SEQUENCE", "AVERAGING",
                              "CONVENTION", "KIND"]
    assert out[1].split() == ["BasicVSR++", "reds4", "BI", "psnr", "32.39", "-", "unknown", "basicsr-rgb", "published"]
    assert out[2].startswith("    source: EvTexture (Kai et al., ICML 2024) Table 1")
    assert any("open-mmlab/mmagic:configs/basicvsr_pp/README.md (reds4)" in ln for ln in out)
    # csv: the database format, read back by the loader (a user's own file works the same way)
    assert main(["published", "--suite", "vid4", "--format", "csv"]) == 0
    (tmp_path / "vid4.csv").write_text(capsys.readouterr().out)
    back = P.load_published(tmp_path / "vid4.csv")
    assert [(r.method, r.value_text, r.source) for r in back] == [
        (r.method, r.value_text, r.source) for r in P.filter_rows(P.load_published(), suite="vid4")]
    assert main(["published", "--published-file", str(tmp_path / "vid4.csv"), "--suite", "reds4"]) == 0
    assert capsys.readouterr().out == "no published rows match\n"
    assert main(["published", "--suite", "vid5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown suite 'vid5'; did you mean 'vid4'?" in err


# ---------------------------------------------------------------------- table --published

MINE = "\n".join([
    HEADER,
    "P1,vid4,BI,psnr,31.00,,seq_avg,basicsr-y,Paper X Table 1,",  # matches: ranked
    "P2,vid4,BI,psnr,35.00,,frame_avg,basicsr-y,Paper Y Table 2,",  # other averaging, unequal clips: not ranked
    "P3,vid4,BI,psnr,40.00,,seq_avg,tecogan,Paper Z,",  # another protocol: not ranked
    "P4,vid4,BD (sigma 1.6),psnr,45.00,,seq_avg,basicsr-y,Paper W,",  # BD: hidden when the dataset is BI
    "P1,vid4,BI,ssim,0.9000,,seq_avg,basicsr-y,Paper X Table 1,",
    "P5,reds4,BI,psnr,50.00,,seq_avg,basicsr-y,Paper V,",  # another suite: never shown
    "P1,vid4,BI,psnr,20.00,s1,frame_avg,basicsr-y,Paper X Table 1,",  # a per-clip number
])


def _results(lengths=(2, 3), dataset="toy", sequences=("s1", "s2"), protocol=Y) -> pd.DataFrame:
    """Two methods on two clips of different lengths: A 30.0 dB, B 29.0 dB everywhere."""
    recs = []
    for method, psnr, ssim in (("A", 30.0, 0.8), ("B", 29.0, 0.7)):
        for seq, n in zip(sequences, lengths):
            for f in range(n):
                for metric, v in (("psnr", psnr), ("ssim", ssim)):
                    recs.append(dict(method=method, dataset=dataset, sequence=seq, frame=f, frame_name=f"{f:04d}.png",
                                     metric=metric, value=v, protocol=protocol.name, protocol_hash=protocol.hash,
                                     metric_version=METRICS[metric].version))
    return pd.DataFrame(recs)


@pytest.fixture
def mine(tmp_path) -> list[P.PublishedRow]:
    (tmp_path / "mine.csv").write_text(MINE + "\n")
    return P.load_published(tmp_path / "mine.csv")


BI = {"suite": "vid4", "degradation": "bi-matlab"}


def _by_method(table):
    return {(r.method, r.note_ref): r for r in table.rows}


def test_published_rows_are_marked_and_ranked_only_when_conventions_match(mine):
    t = build_table(_results(), published=mine, info=BI, metrics=["psnr", "ssim"])
    rows = _by_method(t)
    assert [(r.method, r.note_ref) for r in t.rows] == [("A", None), ("B", None), ("P1", 1), ("P2", 2), ("P3", 3)]
    assert [(c.text, c.rank) for c in rows[("P1", 1)].cells] == [("31.00", 1), ("0.9000", 1)]
    assert [(c.text, c.rank) for c in rows[("A", None)].cells] == [("30.00", 2), ("0.8000", 2)]
    assert rows[("B", None)].cells[0].rank is None
    assert [(c.text, c.rank) for c in rows[("P2", 2)].cells] == [("35.00", None), ("–", None)]
    assert rows[("P3", 3)].cells[0].rank is None
    notes = [n for n in t.notes if n.startswith("†")]
    assert notes == [
        "†1 P1: published in Paper X Table 1; BI; averaging seq_avg; convention basicsr-y; ranked with the "
        "reproduced rows.",
        "†2 P2: published in Paper Y Table 2; BI; averaging frame_avg; convention basicsr-y; not ranked: its "
        "averaging (frame_avg) is not the one shown (seq_avg) and the sequences differ in length.",
        f"†3 P3: published in Paper Z; BI; averaging seq_avg; convention tecogan; not ranked: its convention "
        f"tecogan (hash {get_protocol('tecogan').hash}) is not the results' protocol (hash {Y.hash})."]
    assert "† published numbers for suite vid4" in t.caption and "2 of 3 excluded from the ranking" in t.caption


def test_matching_rules_averaging_and_degradation(mine):
    # equal clip lengths: seq_avg = frame_avg, so P2 (frame_avg) competes and is best
    t = build_table(_results(lengths=(3, 3)), published=mine, info=BI, metrics=["psnr"])
    assert _by_method(t)[("P2", 2)].cells[0].rank == 1 and _by_method(t)[("P1", 1)].cells[0].rank == 2
    # frame_avg shown: P2 matches, P1 (seq_avg) does not
    t = build_table(_results(), published=mine, info=BI, metrics=["psnr"], average="frame_avg")
    assert _by_method(t)[("P2", 2)].cells[0].rank == 1 and _by_method(t)[("P1", 1)].cells[0].rank is None
    # a BD dataset made with sigma 1.5 shows P4 (BD) only, not ranked (sigma 1.6); with bd-basicvsr it is ranked
    t = build_table(_results(), published=mine, info={"suite": "vid4", "degradation": "bd-tecogan"})
    assert [r.method for r in t.rows] == ["A", "B", "P4"] and t.rows[2].cells[0].rank is None
    assert any("its BD kernel (sigma 1.6) is not the one of bd-tecogan" in n for n in t.notes)
    t = build_table(_results(), published=mine, info={"suite": "vid4", "degradation": "bd-basicvsr"})
    assert t.rows[2].cells[0].rank == 1
    # no degradation recorded: both families shown, degradation not checked, and the table says so
    t = build_table(_results(), published=mine, info={"suite": "vid4"}, metrics=["psnr"])
    assert [r.method for r in t.rows] == ["A", "B", "P1", "P2", "P3", "P4"] and t.rows[5].cells[0].rank == 1
    assert any("records no degradation" in n for n in t.notes)


def test_per_sequence_blocks_hold_per_clip_numbers(mine):
    t = build_table(_results(), published=mine, info=BI, metrics=["psnr"], per_sequence=True)
    s1 = [(r.method, r.note_ref, r.cells[0].text, r.cells[0].rank) for r in t.rows if r.group == "s1"]
    assert s1 == [("A", None, "30.00", 1), ("B", None, "29.00", 2), ("P1", 1, "20.00", None)]  # lower: not bold
    assert [r.method for r in t.rows if r.group == "s2"] == ["A", "B"]
    assert [r.method for r in t.rows if r.group == "Average"] == ["A", "B", "P1", "P2", "P3"]


def test_no_suite_known_says_so_once(mine):
    t = build_table(_results(), published=mine, info=None)
    assert [r.method for r in t.rows] == ["A", "B"]
    assert [n for n in t.notes if "--published" in n] == [
        "--published: no suite known for dataset toy (record it with suite = \"NAME\" in the benchmark file's "
        "dataset, or vsrbench evaluate --suite NAME)."]
    t = build_table(_results(), published=mine, info={"suite": "udm10"})
    assert [n for n in t.notes if "--published" in n] == ["--published: no published psnr, ssim numbers for suite udm10."]


def test_every_format_marks_published_rows(mine):
    t = build_table(_results(), published=mine, info=BI, metrics=["psnr"])
    md = render_tables([t], "markdown")
    assert "| P1†1 | **31.00** |" in md and "| A | <u>30.00</u> |" in md and "| P2†2 | 35.00 |" in md
    assert "- †1 P1: published in Paper X Table 1" in md
    tex = render_tables([t], "latex")
    assert "P1\\textsuperscript{\\dag1} & \\textbf{31.00} \\\\" in tex and "\\par \\textsuperscript{\\dag1} P1: published in" in tex
    page = render_tables([t], "html")
    assert "<th>P1<sup>†1</sup></th><td><b>31.00</b></td>" in page and "†2 P2: published in Paper Y" in page
    back = pd.read_csv(pd.io.common.StringIO(render_tables([t], "csv")))
    assert list(back.columns) == ["dataset", "method", "psnr", "published", "degradation", "averaging", "convention",
                                  "source"]
    assert back[back.method == "P1"].iloc[0][["psnr", "published", "source"]].tolist() == [31.0, True,
                                                                                          "Paper X Table 1"]
    assert not back[back.method == "A"].iloc[0]["published"]


def test_latex_with_published_rows_compiles(tmp_path, mine):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    if not subprocess.run(["kpsewhich", "lmodern.sty"], capture_output=True, text=True).stdout.strip():
        pytest.skip("lmodern.sty is not installed (apt-get install lmodern); standalone tables use it")
    shipped = [r for r in P.load_published() if r.suite == "vid4"]
    tables = [build_table(_results(sequences=("calendar", "city")), published=mine + shipped, info={"suite": "vid4"},
                            per_sequence=True)]
    tex = render_tables(tables, "latex", standalone=True)
    assert "BasicVSR++\\textsuperscript{\\dag" in tex and "calendar" in tex
    (tmp_path / "t.tex").write_text(tex)
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 0


def _store(results_dir: Path, df: pd.DataFrame, bench: dict | None) -> None:
    with ResultsStore(results_dir) as store:
        run = store.start_run({"vsrbench_version": "test", "protocol": Y.name, "protocol_hash": Y.hash,
                               "protocol_fields": Y.to_dict(), "metric_versions": {}, "bench": bench})
        for (method, ds, seq), part in df.groupby(["method", "dataset", "sequence"], sort=False):
            store.add_sequence(run, SequenceResult(
                method, ds, seq, [(int(f), m, float(v)) for f, m, v in part[["frame", "metric", "value"]].itertuples(
                    index=False)], [f"{i:04d}.png" for i in range(int(part["frame"].max()) + 1)],
                {m: METRICS[m].version for m in set(part["metric"])}, Y.name, Y.hash))
        store.finish_run(run, "done")


def test_cli_table_published_reads_the_suite_from_the_run_record(tmp_path, capsys):
    (tmp_path / "mine.csv").write_text(MINE + "\n")
    df = pd.concat([_results(), _results(dataset="other")])
    _store(tmp_path / "res", df, {"datasets": {"toy": {"suite": "vid4", "degradation": "bi-matlab"}, "other": {}}})
    assert dataset_info(tmp_path / "res") == {"toy": {"suite": "vid4", "degradation": "bi-matlab"},
                                                "other": {"suite": None, "degradation": None}}
    assert main(["table", str(tmp_path / "res"), "--published", "--published-file", str(tmp_path / "mine.csv"),
                 "--metrics", "psnr"]) == 0
    out = capsys.readouterr().out
    assert "| P1†1 | **31.00** |" in out and out.count("no suite known for dataset other") == 1
    # the shipped database: vid4 rows beside the reproduced ones
    assert main(["table", str(tmp_path / "res"), "--published", "--dataset", "toy", "--metrics", "psnr"]) == 0
    out = capsys.readouterr().out
    assert "| BasicVSR++†" in out and "EvTexture (Kai et al., ICML 2024) Table 1" in out
    assert "| PyTorch TecoGAN†" in out and "Official TecoGAN" not in out  # BD rows: not for a bi-matlab dataset
    # a run record without a bench (vsrbench evaluate before it recorded one) is tolerated
    _store(tmp_path / "bare", _results(), None)
    assert main(["table", str(tmp_path / "bare"), "--published"]) == 0
    assert capsys.readouterr().out.count("no suite known for dataset toy") == 1
    assert main(["table", str(tmp_path / "bare"), "--published-file", str(tmp_path / "mine.csv")]) == 2
    assert "--published-file: only used with --published" in capsys.readouterr().err


# ---------------------------------------------------------------------- checkpoints

def test_every_checkpoint_names_database_rows(rows, capsys):
    from vsrbench.baselines import MODELS

    named = [(name, pair) for name, spec in MODELS.items() for c in spec.checkpoints for pair in c.published]
    assert len(named) >= 8
    for name, (method, family) in named:
        assert P.rows_for(rows, method, family), f"{name}: no database rows for {method} {family}"
    tecogan = {(r.metric, r.value_text) for r in P.rows_for(rows, "PyTorch TecoGAN", "BD") if r.suite == "tos3"}
    assert tecogan == {("psnr", "33.26"), ("lpips", "0.090"), ("tof", "0.136"), ("tlp", "0.205")}
    duf = {(r.sequence, r.value_text) for r in P.rows_for(rows, "DUF-52L")}
    assert duf == {("", "27.37"), ("calendar", "24.090"), ("city", "28.359"), ("foliage", "26.414"),
                   ("walk", "30.634")}
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert ("        published DUF-16L, vid4 BD (DUF authors' LR, bd-duf): psnr 26.85 (averaging seq_avg, "
            "convention duf; ") in out
    assert "published Official FRVSR, tos3 BD (sigma 1.5): psnr 34.01, lpips 0.145, tof 0.145, tlp 0.541" in out


# ---------------------------------------------------------------------- an independent check of the seeding

SUITE_WORDS = {"Vid4": "vid4", "ToS3": "tos3", "REDS4": "reds4", "Vimeo-90K-T": "vimeo90k-t", "UDM10": "udm10"}


def _doc_numbers(text: str) -> list[tuple[str, str, str, str, str, str, str]]:
    """(method, suite, family, metric, sequence, value as printed, source fragment) for every number of §2."""
    section = text.split("## 2.")[1].split("## 3.")[0]
    out = []
    teco, evt, mm = (section.split("### ")[i] for i in (1, 2, 3))
    for line in teco.splitlines():
        m = re.fullmatch(r"\| (Vid4|ToS3) (BD|BI) \| ([^|]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", line)
        if m:
            for metric, v in zip(("psnr", "lpips", "tof", "tlp"), m.groups()[3:]):
                out.append((m[3].strip(), SUITE_WORDS[m[1]], m[2], metric, "", v, "TecoGAN-PyTorch:resources/benchmark.png"))
    m = re.search(r"own Vid4 row for TecoGAN \(PSNR ([\d.]+), LPIPS ([\d.]+), tOF ([\d.]+), tLP ([\d.]+)\)", teco)
    for metric, v in zip(("psnr", "lpips", "tof", "tlp"), m.groups()):
        out.append(("TecoGAN", "vid4", "BD", metric, "", v, "TecoGAN paper"))
    for line in evt.splitlines():
        m = re.fullmatch(r"\| ([\w+]+) \| ([\d.]+) / ([\d.]+) \| ([\d.]+) / ([\d.]+) \|", line)
        if m:
            for suite, metric, v in (("reds4", "psnr", m[2]), ("reds4", "ssim", m[3]), ("vimeo90k-t", "psnr", m[4]),
                                     ("vimeo90k-t", "ssim", m[5])):
                out.append((m[1], suite, "BI", metric, "", v, "EvTexture"))
    flat = " ".join(evt.split())
    clips = re.findall(r"([\w+]+) ([\d.]+) / ([\d.]+) / ([\d.]+) / ([\d.]+) → ([\d.]+)", flat)
    assert len(clips) == 6
    for method, *values in clips:
        for seq, v in zip(("calendar", "city", "foliage", "walk", ""), values):
            out.append((method, "vid4", "BI", "psnr", seq, v, "EvTexture"))
    m = re.search(r"the BasicVSR\+\+ paper itself gives ([\d.]+)", flat)
    out.append(("BasicVSR++", "vid4", "BI", "psnr", "", m[1], "BasicVSR++ paper"))
    path = None
    for line in mm.splitlines():
        m = re.fullmatch(r"\| (?:`open-mmlab/mmagic:([^`]+)`|same), (\w+) \| ([^|]+) \| ([^|]+) \|", line)
        if not m:
            continue
        path = m[1] or path
        method = "BasicVSR++" if "basicvsr_pp" in path else "BasicVSR"
        for where, pair in zip(m[3].split(" / "), m[4].split(";")):
            suite_word, family = re.match(r"\s*(\S+) ?(BI|BD)?", where).groups()
            family = family or "BI"  # REDS4 is BI
            psnr, ssim = (v.strip() for v in pair.split("/"))
            for metric, v in (("psnr", psnr), ("ssim", ssim)):
                out.append((method, SUITE_WORDS[suite_word], family, metric, "", v, f"{path} ({m[2]})"))
    return out


def test_every_number_of_the_benchmark_notes_is_in_the_database_as_printed(rows):
    doc = shared_path("docs", "benchmarks.md").read_text(encoding="utf-8")
    numbers = _doc_numbers(doc)
    assert len(numbers) == 52 + 4 + 24 + 30 + 1 + 22, len(numbers)
    # one number of the notes is wrong: mmagic's README swapped BasicVSR's Vimeo-90K-T BI and UDM10 SSIMs; the
    # database keeps metafile.yml's 0.9451 (tests/test_published_db.py re-derives it)
    swapped = ("BasicVSR", "vimeo90k-t", "BI", "ssim", "", "0.9434", "configs/basicvsr/README.md (basicvsr_vimeo90k_bi)")
    assert swapped in numbers
    numbers = [n for n in numbers if n != swapped]
    for method, suite, family, metric, seq, value, source in numbers:
        hits = [r for r in rows if (r.method, r.suite, r.family, r.metric, r.sequence) == (method, suite, family, metric,
                                                                                          seq) and source in r.source]
        assert len(hits) == 1, (method, suite, family, metric, seq, source, hits)
        assert hits[0].value_text == value and hits[0].value == float(value), (hits[0], value)
    # and the other way round: no row claims one of these sources without its number being in the notes
    # (the mmagic READMEs hold more numbers than the notes quote; those are pinned below)
    doc_keys = {(m, s, f, k, q, v) for m, s, f, k, q, v, _ in numbers}
    for r in rows:
        if any(src in r.source for src in ("TecoGAN-PyTorch:resources/benchmark.png", "EvTexture",
                                           "configs/basicvsr_pp/")):
            assert (r.method, r.suite, r.family, r.metric, r.sequence, r.value_text) in doc_keys, r
    # the averaging of the Vid4 "Average" column is kept as the notes state it
    avg = {r.method: r.averaging for r in rows if r.suite == "vid4" and "EvTexture" in r.source and not r.sequence}
    assert avg == {"EDVR": "seq_avg", "BasicVSR": "frame_avg", "IconVSR": "frame_avg", "BasicVSR++": "frame_avg",
                   "RVRT": "seq_avg", "VRT": "seq_avg"}


def test_numbers_read_from_mmagic_readmes_beyond_the_notes(rows):
    """Rows read directly from open-mmlab/mmagic (configs/iconvsr/README.md at 05fcd877, configs/basicvsr/
    README.md at 07ceb604, configs/edvr/README.md at 31d5ab53): each model on the settings it was trained
    for, as printed."""
    got = {(r.method, r.suite, r.family, r.metric, r.value_text) for r in rows
           if "configs/iconvsr/" in r.source or "configs/edvr/" in r.source
           or "(basicvsr_vimeo90k_bd)" in r.source and r.suite == "vimeo90k-t"}
    assert got == {("EDVR", "reds4", "BI", "psnr", "31.0467"), ("EDVR", "reds4", "BI", "ssim", "0.8793"),
        ("IconVSR", "reds4", "BI", "psnr", "31.6926"), ("IconVSR", "reds4", "BI", "ssim", "0.8951"),
        ("IconVSR", "vimeo90k-t", "BI", "psnr", "37.3729"), ("IconVSR", "vimeo90k-t", "BI", "ssim", "0.9467"),
        ("IconVSR", "vid4", "BI", "psnr", "27.4238"), ("IconVSR", "vid4", "BI", "ssim", "0.8297"),
        ("IconVSR", "udm10", "BD", "psnr", "40.0640"), ("IconVSR", "udm10", "BD", "ssim", "0.9697"),
        ("IconVSR", "vid4", "BD", "psnr", "28.2464"), ("IconVSR", "vid4", "BD", "ssim", "0.8612"),
        ("IconVSR", "vimeo90k-t", "BD", "psnr", "37.7573"), ("IconVSR", "vimeo90k-t", "BD", "ssim", "0.9517"),
        ("BasicVSR", "vimeo90k-t", "BD", "psnr", "37.5501"), ("BasicVSR", "vimeo90k-t", "BD", "ssim", "0.9499")}


@pytest.mark.parametrize("suite, best", [("reds4", ("RVRT", "32.75")), ("vimeo90k-t", ("VRT", "38.20"))])
def test_results_scored_under_a_suites_convention_rank_with_its_published_rows(rows, suite, best):
    """A REDS4 / Vimeo-90K-T result scored under the suite's convention (evaluate --suite) competes with the
    published BI rows written under that convention (EvTexture, mmagic); equal clip lengths make the
    unknown averaging irrelevant."""
    try:
        from vsrbench.catalog.suites import get_suite
    except ImportError:
        pytest.skip("vsrbench.catalog.suites is not there yet")
    proto = get_suite(suite).protocol()
    df = _results(lengths=(1, 1) if suite == "vimeo90k-t" else (3, 3), sequences=("a", "b"), protocol=proto)
    t = build_table(df, published=rows, info={"suite": suite, "degradation": "bi-matlab"}, metrics=["psnr"])
    published = [r for r in t.rows if r.note_ref is not None]
    notes = [n for n in t.notes if n.startswith("†")]
    ranked = [n for n in notes if n.endswith("ranked with the reproduced rows.")]
    # EvTexture's six, mmagic's 3 (+EDVR on REDS4), VRT's and RVRT's own rows
    assert len(ranked) == (12 if suite == "reds4" else 11), notes
    # IART's README states no convention: shown, not ranked
    others = [n for n in notes if n not in ranked]
    assert len(published) == len(notes) == len(ranked) + len(others)
    assert others and all("kai422/IART:README.md" in n and "is not a vsrbench protocol" in n for n in others), others
    top = {(r.method, r.cells[0].text) for r in published if r.cells[0].rank == 1}
    assert top == {best}  # the same number from two sources (EvTexture's copy and the authors' own table)
