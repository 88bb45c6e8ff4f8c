"""Metric-human agreement (vsrbench.analysis.agreement, vsrbench.agree, ``vsrbench agree``).

The coefficients are checked against scipy.stats (spearmanr, kendalltau, pearsonr) and the logistic
mapping against scipy.optimize.curve_fit on a function written here; the pipeline (results store ->
per-clip values -> agreement) on synthetic stores and on a small extract of the public AVT-VQDB-UHD-1-VSR
data (tests/data/avt_vqdb_uhd_1_vsr/README.md says how it was made), where the within-source
correlations must equal scipy's and CNN-based full-reference metrics must agree better than PSNR and the
no-reference ones, as its authors report.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import curve_fit

from vsrbench.analysis.agreement import (agreement, fit_logistic, format_agreement, kendall_tau_b, logistic4, pearson,
                                         rankdata, spearman)
from vsrbench.core.errors import InputError

AVT = Path(__file__).parent / "data" / "avt_vqdb_uhd_1_vsr" / "subset.csv"


def _data(seed, n=40, ties=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = np.tanh(1.5 * x) + rng.normal(scale=0.3, size=n)
    if ties:
        x, y = np.round(x * 2) / 2, np.round(y * 3) / 3
    return x, y


# ---------------------------------------------------------------------- the coefficients against scipy


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_coefficients_are_scipys(seed, ties):
    x, y = _data(seed, ties=ties)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
    assert kendall_tau_b(x, y) == pytest.approx(stats.kendalltau(x, y)[0], abs=1e-12)  # tau-b
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
    assert np.array_equal(rankdata(x), stats.rankdata(x))
    assert math.isnan(pearson(np.ones(5), np.arange(5.0))) and math.isnan(kendall_tau_b(np.ones(5), np.arange(5.0)))


def _vqeg(x, b1, b2, b3, b4):  # written out again here, as VQEG's report states it
    return b2 + (b1 - b2) / (1 + np.exp(-(x - b3) / np.abs(b4)))


def test_the_logistic_mapping_is_a_least_squares_vqeg_fit():
    rng = np.random.default_rng(5)
    x = np.sort(rng.uniform(20, 40, size=50))
    y = _vqeg(x, 4.6, 1.2, 30.0, 2.5)
    params = fit_logistic(x, y)
    assert params[:3] == pytest.approx([4.6, 1.2, 30.0], abs=1e-5) and abs(params[3]) == pytest.approx(2.5, abs=1e-5)
    noisy = y + rng.normal(scale=0.2, size=x.size)
    ours = fit_logistic(noisy_x := x, noisy)
    theirs, _ = curve_fit(_vqeg, noisy_x, noisy, p0=[noisy.max(), noisy.min(), np.median(x), np.std(x)], maxfev=20000)
    assert np.max(np.abs(logistic4(x, *ours) - _vqeg(x, *theirs))) < 1e-6
    result = agreement(noisy, {"m": x}, np.arange(x.size), bootstrap=0)
    assert result.metrics[0].values["pearson"] == pytest.approx(stats.pearsonr(_vqeg(x, *theirs), noisy)[0], abs=1e-7)
    # a decreasing relation is fitted as one (b1 < b2), and a metric read lower-is-better is negated first
    down = agreement(noisy, {"m": -x}, np.arange(x.size), bootstrap=0).metrics[0]
    flipped = agreement(noisy, {"m": -x}, np.arange(x.size), higher_is_better={"m": False}, bootstrap=0).metrics[0]
    assert down.values["spearman"] < 0 < flipped.values["spearman"] and down.logistic[0] < down.logistic[1]
    assert down.values["pearson"] == pytest.approx(result.metrics[0].values["pearson"], abs=1e-6)
    assert flipped.values == result.metrics[0].values


def test_intervals_and_paired_tests():
    x, y = _data(2, n=60)
    groups = np.repeat(np.arange(12), 5)
    rng = np.random.default_rng(9)
    values = {"good": x, "same": x.copy(), "noise": x + rng.normal(scale=3, size=x.size)}
    r = agreement(y, values, groups, bootstrap=200, seed=1)
    again = agreement(y, values, groups, bootstrap=200, seed=1)
    assert r.to_dict() == again.to_dict()
    good = {m.metric: m for m in r.metrics}["good"]
    for k, (lo, hi) in good.intervals.items():
        assert lo <= good.values[k] <= hi
    tests = {(t.a, t.b, t.coefficient): t for t in r.tests}
    same = tests[("good", "same", "spearman")]
    assert same.diff == 0 and same.interval == (0.0, 0.0) and same.p == 1.0
    vs_noise = tests[("good", "noise", "spearman")]
    assert vs_noise.diff > 0.3 and vs_noise.p < 0.05 and vs_noise.interval[0] > 0
    assert "paired tests against the best metric" in format_agreement(r)
    with pytest.raises(InputError, match="finite value"):
        agreement(y, {"m": np.append(x[:-1], np.nan)}, groups)
    with pytest.raises(InputError, match="at least 3"):
        agreement(y[:2], {"m": x[:2]}, groups[:2])


def test_within_groups_is_the_mean_of_each_groups_coefficient():
    x, y = _data(3, n=48)
    groups = np.repeat(["a", "b", "c", "d"], 12)
    r = agreement(y, {"m": x}, groups, within=True, bootstrap=0).metrics[0].values
    parts = [groups == g for g in "abcd"]
    assert r["spearman"] == pytest.approx(np.mean([stats.spearmanr(x[p], y[p])[0] for p in parts]), abs=1e-12)
    assert r["kendall"] == pytest.approx(np.mean([stats.kendalltau(x[p], y[p])[0] for p in parts]), abs=1e-12)
    assert r["pearson"] == pytest.approx(np.mean([stats.pearsonr(x[p], y[p])[0] for p in parts]), abs=1e-12)


# ---------------------------------------------------------------------- vsrbench agree on a results store


def _store(folder, rows, protocol=("tecogan", "abc123")):
    """rows: (method, dataset, sequence, {metric: [per-frame values]})."""
    from vsrbench.results.session import RunSession
    from vsrbench.results.store import SequenceResult

    with RunSession(folder, say=lambda _: None) as session:
        session.start({"vsrbench_version": "test", "protocol": protocol[0], "protocol_hash": protocol[1],
                       "protocol_fields": {}, "metric_versions": {}})
        for method, ds, seq, values in rows:
            flat = [(f, m, v) for m, vs in values.items() for f, v in enumerate(vs)]
            n = max(len(vs) for vs in values.values())
            session.add(SequenceResult(method, ds, seq, flat, [f"{i}.png" for i in range(n)],
                                       {m: "1" for m in values}, *protocol))


def _synthetic_store(folder, seed=0):
    rng = np.random.default_rng(seed)
    quality = {"bicubic": -1.0, "frvsr": -0.2, "duf": 0.3, "tecogan": 0.9}
    rows, truth = [], {}
    for c in range(6):
        for m, q in quality.items():
            h = q + rng.normal(scale=0.3)
            truth[(m, f"s{c}")] = h
            rows.append((m, "vid4", f"s{c}", {"psnr": list(25 + 2 * h + rng.normal(scale=0.5, size=3)),
                                              "lpips": list(0.3 - 0.1 * h + rng.normal(scale=0.01, size=3)),
                                              "human_bt": [h]}))
    _store(folder, rows)
    return truth


def test_agree_reads_the_stored_human_scores_and_plots(tmp_path, capsys):
    from vsrbench.cli import main

    truth = _synthetic_store(tmp_path / "r")
    plot, out = tmp_path / "agree.png", tmp_path / "agree.json"
    assert main(["agree", str(tmp_path / "r"), "--bootstrap", "100", "--plot", str(plot), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "human_bt" in text and "LPIPS" in text and "PSNR" in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    got = json.loads(out.read_text())
    keys = sorted(truth)
    human = np.array([truth[k] for k in keys])
    # the per-clip value is the mean of the clip's frames; LPIPS is read lower-is-better
    from vsrbench.results.loading import load_results

    df = load_results(tmp_path / "r")
    lp = df[df.metric == "lpips"].groupby(["method", "sequence"])["value"].mean()
    assert got["metrics"]["lpips"]["spearman"] == pytest.approx(
        stats.spearmanr(-np.array([lp[k] for k in keys]), human)[0], abs=1e-12)
    assert got["metrics"]["lpips"]["higher_is_better"] is False and "human_bt" not in got["metrics"]
    assert len(got["paired"]) == 3


def _mos_file(path: Path, rows, header="clip,method,mos,ci") -> Path:
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_agree_reads_a_mos_file_and_refuses_bad_ones(tmp_path, capsys):
    from vsrbench.agree import AgreeRequest, run_agree
    from vsrbench.cli import main

    truth = _synthetic_store(tmp_path / "r")
    rows = [(f"vid4/{s}" if i % 2 else s, m, 3 + h, 0.2) for i, ((m, s), h) in enumerate(sorted(truth.items()))]
    mos = _mos_file(tmp_path / "mos.csv", rows + [("vid4/s0", "enet", 3.0, 0.1)])
    report = run_agree(AgreeRequest(str(tmp_path / "r"), mos=str(mos), metrics=("psnr",), bootstrap=0,
                                    plot=str(tmp_path / "p.svg")))
    assert len(report.points) == 24 and "1 row(s)" in report.notes[0]
    assert report.agreement.metrics[0].values["spearman"] == pytest.approx(
        stats.spearmanr(report.points["psnr"], report.points["human"])[0], abs=1e-12)
    assert (tmp_path / "p.svg").read_text().lstrip().startswith("<?xml")
    for bad, message in ((_mos_file(tmp_path / "b1.csv", [("s0", "duf", 3)], "clip,method,score"), "no column mos"),
                         (_mos_file(tmp_path / "b2.csv", [("s0", "duf", "high", "")]), "line 2: mos 'high'"),
                         (_mos_file(tmp_path / "b3.csv", [("s0", "duf", 3, ""), ("s0", "duf", 4, "")]), "given twice")):
        assert main(["agree", str(tmp_path / "r"), "--mos", str(bad)]) != 0
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert main(["agree", str(tmp_path / "r"), "--human", "human_bt", "--metrics", "human_bt"]) != 0
    assert "human score" in capsys.readouterr().err


def test_agree_without_human_scores_says_how_to_make_them(tmp_path, capsys):
    from vsrbench.cli import main

    _store(tmp_path / "r", [("a", "d", "s", {"psnr": [1.0]})])
    assert main(["agree", str(tmp_path / "r")]) != 0
    assert "vsrbench study score" in capsys.readouterr().err


# ---------------------------------------------------------------------- the public MOS data


def _avt_rows():
    with AVT.open(newline="") as f:
        return list(csv.DictReader(f))


AVT_METRICS = {"psnr": "psnr", "ssim": "ssim", "lpips-alex": "lpips", "dists": "dists", "niqe": "niqe", "dover": "dover"}


def test_the_public_mos_data_within_source_correlations(tmp_path):
    """Each source is a dataset, each degraded input a clip, each upscaler a method (AVT's 'within-sequence')."""
    from vsrbench.agree import AgreeRequest, run_agree

    rows = _avt_rows()
    assert len(rows) == 72
    _store(tmp_path / "r", [(r["method"], r["source"], f"{r['codec']}_{r['resolution']}",
                             {ours: [float(r[theirs])] for theirs, ours in AVT_METRICS.items()}) for r in rows])
    mos = _mos_file(tmp_path / "mos.csv", [(f"{r['source']}/{r['codec']}_{r['resolution']}", r["method"], r["mos"],
                                            r["ci"]) for r in rows])
    report = run_agree(AgreeRequest(str(tmp_path / "r"), mos=str(mos), within="dataset", bootstrap=0))
    got = {m.metric: m.values for m in report.agreement.metrics}
    lower = {"lpips", "dists", "niqe"}
    for theirs, ours in AVT_METRICS.items():
        expected = []
        for source in ("bigbuckbunny", "giftmord"):
            part = [r for r in rows if r["source"] == source]
            sign = -1 if ours in lower else 1
            x = sign * np.array([float(r[theirs]) for r in part])
            expected.append(stats.spearmanr(x, [float(r["mos"]) for r in part])[0])
        assert got[ours]["spearman"] == pytest.approx(np.mean(expected), abs=1e-12)
    # the authors' finding: CNN-based full-reference metrics agree better than PSNR and the no-reference models
    for cnn in ("lpips", "dists"):
        assert all(got[cnn]["spearman"] > got[o]["spearman"] + 0.2 for o in ("psnr", "niqe", "dover"))
