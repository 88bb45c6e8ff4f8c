"""``vsrbench table --published`` ranks each published row under its own convention (issue 20 §1): the
stored outputs are scored again under every convention the shown rows use (once: a second table reads
the cache), each published row competes only with numbers computed its way, and a row that cannot be
compared is shown with the reason. The numbers under another convention are checked against BasicSR's
Y PSNR written from its formula (tests/_support/border_lookalike.py)."""
from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
from _support.border_lookalike import lookalike_suite, psnr_y, write_lookalike

from vsrbench.analysis.leaderboard import TableRequest
from vsrbench.analysis.published_rows import dataset_info
from vsrbench.analysis.tables import build_tables
from vsrbench.catalog import suites
from vsrbench.catalog.published import load_published
from vsrbench.cli import main
from vsrbench.metrics import get_protocol
from vsrbench.rescore import cache_dir, make_table, outputs_rescorer
from vsrbench.results.loading import load_results

HEADER = "method,suite,degradation,metric,value,sequence,averaging,convention,source,note"
ROWS = [
    "P-y,vid4,BD (DUF authors' LR bd-duf),psnr,30.00,,seq_avg,basicsr-y,Paper A,",  # the stored convention
    "P-crop8,vid4,BD (DUF authors' LR bd-duf),psnr,40.00,,seq_avg,basicsr-y[crop_border=8],BasicSR zoo,",
    "P-crop8,vid4,BD (DUF authors' LR bd-duf),ssim,0.9000,,seq_avg,basicsr-y[crop_border=8],BasicSR zoo,",
    "P-duf,vid4,BD (DUF authors' LR bd-duf),psnr,36.00,,unknown,duf,DUF paper,",  # unknown averaging, equal clips
    "P-frame,vid4,BD (DUF authors' LR bd-duf),psnr,41.00,,frame_avg,basicsr-y[crop_border=8],Paper F,",
    "P-sigma15,vid4,BD (sigma 1.5),psnr,20.00,,seq_avg,tecogan,Paper T,",  # other LR: never ranked, never scored
    "P-words,vid4,BD (DUF authors' LR bd-duf),psnr,50.00,,seq_avg,Y after an unstated crop,Paper W,",
    "P-bi,vid4,BI,psnr,60.00,,seq_avg,basicsr-y,Paper B,",  # BI: not shown for a BD dataset
]


@pytest.fixture
def stored(tmp_path, rng, monkeypatch, capsys):
    """Broken (garbage border) and Clean outputs of a Vid4 look-alike, evaluated into one results folder."""
    suite = lookalike_suite()
    monkeypatch.setitem(suites.SUITES, "vid4", suite)
    refs = write_lookalike(tmp_path, rng, suite)
    res = tmp_path / "res"
    for method in ("Broken", "Clean"):
        assert main(["evaluate", "--suite", "vid4", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / method),
                     "--out", str(res), "--metrics", "psnr,ssim", "--degradation", "bd-duf"]) == 0
    (tmp_path / "pub.csv").write_text("\n".join([HEADER] + ROWS) + "\n")
    capsys.readouterr()
    return tmp_path, res, refs


def _tables(res, pub, rescore=True):
    return build_tables(load_results(res), published=load_published(pub), info=dataset_info(res), by_convention=True,
                        rescore=outputs_rescorer(res, say=lambda _: None) if rescore else None)


def _cells(table, metric="psnr"):
    k = [c.metric for c in table.columns].index(metric)
    return {(r.group, r.method): r.cells[k] for r in table.rows}


def test_each_published_row_is_ranked_against_your_outputs_scored_its_way(stored):
    root, res, refs = stored
    (table,) = _tables(res, root / "pub.csv")
    cells = _cells(table)
    stored_block, crop8 = "basicsr-y, seq_avg", "basicsr-y[crop_border=8], seq_avg"
    # the numbers under crop 8 are BasicSR's Y PSNR of the interior, mean of the clip means
    for method in ("Broken", "Clean"):
        want = np.mean([np.mean([psnr_y(o, g, crop=8) for o, g in zip(*refs[(method, clip)])])
                        for clip in suites.SUITES["vid4"].names])
        assert cells[(crop8, method)].value == pytest.approx(want, abs=1e-6)
    # the stored block: the garbage border sinks Broken; P-y competes with both
    assert cells[(stored_block, "Clean")].rank == 1 and cells[(stored_block, "P-y")].rank == 2
    assert cells[(stored_block, "Broken")].rank is None and cells[(stored_block, "Broken")].value < 25
    # under crop 8 Broken is best, then P-frame (frame_avg = seq_avg: every clip scores 6 frames), the others not
    assert [cells[(crop8, m)].rank for m in ("Broken", "P-frame", "P-crop8", "Clean")] == [1, 2, None, None]
    # Clean is best in the stored block though P-crop8 and P-frame print more: they were not compared with it
    assert cells[(stored_block, "Clean")].value < cells[(crop8, "P-crop8")].value
    # an unknown averaging is no obstacle either when the clips score as many frames under duf
    assert cells[("duf, seq_avg", "Broken")].rank == 1 and cells[("duf, seq_avg", "Clean")].rank == 2
    assert cells[("duf, seq_avg", "P-duf")].value < cells[("duf, seq_avg", "Clean")].value
    assert "†4 P-duf: S4; BD (DUF authors' LR bd-duf); averaging unknown; ranked." in table.notes
    # rows that cannot be compared: shown, never ranked, the reason in their note; BI rows not shown
    assert cells[("tecogan, seq_avg", "P-sigma15")].rank is None
    assert cells[("conventions that are not vsrbench protocols", "P-words")].rank is None
    assert not any(m == "P-bi" for _, m in cells)
    notes = "\n".join(table.notes)
    # the notes: one short line per row (source by key, why not ranked by letter), then the legends
    assert "†5 P-sigma15: S5; BD (sigma 1.5); averaging seq_avg; not ranked (a)." in notes
    assert "†6 P-words: S6; BD (DUF authors' LR bd-duf); averaging seq_avg; not ranked (b)." in notes
    assert "(a) not ranked: its BD kernel (sigma 1.5) is not the one of bd-duf." in notes
    assert "(b) not ranked: its convention (Y after an unstated crop) is not a vsrbench protocol" in notes
    assert "S5: Paper T." in notes and "S2: BasicSR zoo." in notes
    assert not (cache_dir(res, get_protocol("tecogan"))).exists()  # nothing to compare there: nothing scored


def test_second_table_is_read_from_the_cache(stored, capsys):
    root, res, _ = stored
    request = TableRequest(results=str(res), fmt="markdown", published=True, published_file=str(root / "pub.csv"),
                           metrics=("psnr", "ssim"))
    first = make_table(request)
    assert "scoring Broken on vid4 under basicsr-y[crop_border=8]" in capsys.readouterr().err
    store = cache_dir(res, get_protocol("basicsr-y", crop_border=8)) / "results.sqlite"
    stamp = store.stat().st_mtime_ns
    start = time.perf_counter()
    again = make_table(request)
    took = time.perf_counter() - start
    assert again == first and "scoring" not in capsys.readouterr().err
    assert store.stat().st_mtime_ns == stamp and took < 5
    assert "| P-crop8†2 | 40.00 | 0.9000 |\n|  | P-frame†3 | <u>41.00</u> | – |" in first  # notes numbered as shown
    # the stored results are untouched: a plain table still shows one protocol
    assert set(load_results(res)["protocol"]) == {"basicsr-y"}


def test_outputs_gone_or_no_rescorer_give_the_reason(stored):
    root, res, _ = stored
    (table,) = _tables(res, root / "pub.csv", rescore=False)
    assert _cells(table)[("basicsr-y[crop_border=8], seq_avg", "P-crop8")].rank is None
    assert "†2 P-crop8: S2; BD (DUF authors' LR bd-duf); averaging seq_avg; not ranked (a)." in table.notes
    assert any(n.startswith("(a) not ranked:") and "no rescorer given" in n for n in table.notes)
    shutil.rmtree(root / "Clean")
    (table,) = _tables(res, root / "pub.csv")
    cells = _cells(table)
    assert cells[("basicsr-y[crop_border=8], seq_avg", "Broken")].value is not None
    assert ("basicsr-y[crop_border=8], seq_avg", "Clean") not in cells or \
        cells[("basicsr-y[crop_border=8], seq_avg", "Clean")].value is None
    assert ("basicsr-y[crop_border=8], seq_avg", "Clean") not in cells
    assert "†2 P-crop8: S2; BD (DUF authors' LR bd-duf); averaging seq_avg; ranked." in table.notes
    assert any("Clean: no numbers under basicsr-y[crop_border=8]: its outputs are no longer on disk "
               f"({root / 'Clean'})." in n for n in table.notes)


# the published rows the comparison needs (method names as the database writes them)
WANTED = ("DUF", "EDVR", "BasicVSR", "IconVSR", "VRT", "RVRT")


def test_real_vid4_duf_52l_is_ranked_against_the_database(tmp_path, shared_path, capsys):
    """The done-when of issue 20 on ../shared's Vid4 (10 frames per clip): DUF-52L beside the published DUF,
    EDVR, BasicVSR, IconVSR, VRT and RVRT rows, each ranked under its own convention."""
    vid4 = shared_path("data", "vid4")
    try:
        rows = [r for r in load_published() if r.suite == "vid4"]
    except Exception as e:  # noqa: BLE001 - the database is being extended by another change
        pytest.skip(f"the shipped published database does not load yet: {' '.join(str(e).split())[:200]}")
    have = {r.method for r in rows if r.convention != "duf" and r.metric == "psnr"}
    absent = [m for m in WANTED if m not in have]
    if absent:
        pytest.skip(f"the shipped database has no Vid4 rows for {', '.join(absent)} yet (issue 20 item 3 adds them)")
    res = tmp_path / "res"
    assert main(["evaluate", "--suite", "vid4", "--clips-only", "--gt", str(vid4 / "GT"), "--pred",
                 str(vid4 / "DUF-52L"), "--out", str(res), "--metrics", "psnr,ssim"]) == 0
    capsys.readouterr()
    (table,) = build_tables(load_results(res), published=rows, info=dataset_info(res), by_convention=True,
                            rescore=outputs_rescorer(res, say=lambda _: None))
    ranked = {n.split(":")[0].split(" ", 1)[1] for n in table.notes if n[0] in "†‡" and n.endswith("; ranked.")}
    assert set(WANTED) <= ranked, "\n".join(table.notes)
    mine = [r for r in table.rows if r.method == "DUF-52L"]
    assert len({r.group for r in mine}) >= 2  # scored under more than the stored convention


@pytest.mark.filterwarnings("ignore:dataset 'vid4' has 4 clip")
def test_per_clip_rows_get_per_sequence_blocks_of_their_convention(stored):
    root, res, refs = stored
    with (root / "pub.csv").open("a") as f:
        f.write("P-crop8,vid4,BD (DUF authors' LR bd-duf),psnr,41.50,city,frame_avg,basicsr-y[crop_border=8],"
                "BasicSR zoo,\n")
    df = load_results(res)
    (table,) = build_tables(df, published=load_published(root / "pub.csv"), info=dataset_info(res),
                            by_convention=True, per_sequence=True, ci=True, resamples=50,
                            rescore=outputs_rescorer(res, say=lambda _: None))
    cells = _cells(table)
    block = "city (basicsr-y[crop_border=8], seq_avg)"
    want = np.mean([psnr_y(o, g, crop=8) for o, g in zip(*refs[("Broken", "city")])])
    assert cells[(block, "Broken")].value == pytest.approx(want, abs=1e-6)
    assert cells[(block, "P-crop8")].value == 41.5 and cells[(block, "P-crop8")].rank is not None
    # the per-clip number has no block of its own under the stored convention, and intervals stay there
    assert not [g for g, _ in cells if g.startswith("calendar (basicsr-y[crop_border=8]")]
    assert cells[("basicsr-y, seq_avg", "Clean")].interval_text.startswith("± ")
    assert cells[("basicsr-y[crop_border=8], seq_avg", "Clean")].interval_text == ""


def test_a_part_of_the_suite_is_scored_again_on_its_own_clips(tmp_path, rng, monkeypatch, capsys):
    """Outputs stored for two clips of the suite (evaluate --clips FILE) are compared on those two under every
    convention, never averaged with the clips they were not stored for."""
    suite = lookalike_suite()
    monkeypatch.setitem(suites.SUITES, "vid4", suite)
    refs = write_lookalike(tmp_path, rng, suite)
    (tmp_path / "two.txt").write_text("calendar\ncity\n")
    res = tmp_path / "res"
    assert main(["evaluate", "--suite", "vid4", "--clips", str(tmp_path / "two.txt"), "--gt", str(tmp_path / "GT"),
                 "--pred", str(tmp_path / "Broken"), "--out", str(res), "--metrics", "psnr",
                 "--degradation", "bd-duf"]) == 0, capsys.readouterr().err
    (tmp_path / "pub.csv").write_text("\n".join([HEADER] + ROWS) + "\n")
    (table,) = _tables(res, tmp_path / "pub.csv")
    want = np.mean([np.mean([psnr_y(o, g, crop=8) for o, g in zip(*refs[("Broken", clip)])])
                    for clip in ("calendar", "city")])
    assert _cells(table)[("basicsr-y[crop_border=8], seq_avg", "Broken")].value == pytest.approx(want, abs=1e-6)
    cached = load_results(cache_dir(res, get_protocol("basicsr-y", crop_border=8)))
    assert set(cached["sequence"]) == {"calendar", "city"}


def test_a_real_world_recipe_is_its_own_degradation_family():
    from vsrbench.analysis.published_rows import degradation_family

    assert degradation_family("realbasicvsr[seed=3]") == degradation_family("realbasicvsr") == "RW"
    assert degradation_family("bd-tecogan") == "BD" and degradation_family("bi-matlab") == "BI"
    assert degradation_family("something-else") is None and degradation_family(None) is None
