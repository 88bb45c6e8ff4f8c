"""Confidence intervals and paired significance tests (vsrbench.analysis.stats, vsrbench compare).

Properties (identical methods, added flicker, narrowing with more clips, seeds), and an
independent plain-loop implementation written here from the definitions, fed the same random
draws (the documented ``rng.integers(0, K, size=(R, K))`` / ``rng.random((R, K)) < 0.5``).
"""
from __future__ import annotations

import itertools
import math
import re
import warnings
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from vsrbench.analysis import stats
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError, VsrbenchWarning
from vsrbench.metrics import aggregate
from vsrbench.results.store import ResultsStore, SequenceResult

HASH = "aaaaaaaaaaaa"


def frame(data, metric="psnr", dataset="d", protocol_hash=HASH, protocol="tecogan") -> pd.DataFrame:
    """Long rows from ``{method: {clip: [values]}}``."""
    rows = [(method, dataset, seq, f, f"f{f:03d}.png", metric, float(v), protocol, protocol_hash, "1")
            for method, clips in data.items() for seq, values in clips.items() for f, v in enumerate(values)]
    return pd.DataFrame(rows, columns=["method", "dataset", "sequence", "frame", "frame_name", "metric", "value",
                                       "protocol", "protocol_hash", "metric_version"])


def clips_of(rng, k, n=6, mean=30.0, clip_sd=2.0, frame_sd=0.5):
    return {f"c{i:02d}": list(mean + clip_sd * rng.standard_normal() + frame_sd * rng.standard_normal(n))
            for i in range(k)}


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VsrbenchWarning)
        return fn(*args, **kw)


# ------------------------------------------------------------------ the independent implementation

def ref_stat(clips, average):
    """The statistic of a list of clips (lists of values), by hand: non-finite values left out."""
    if average == "seq_avg":
        means = []
        for values in clips:
            finite = [v for v in values if math.isfinite(v)]
            if finite:
                means.append(sum(finite) / len(finite))
        return sum(means) / len(means)
    finite = [v for values in clips for v in values if math.isfinite(v)]
    return sum(finite) / len(finite)


def ref_quantile(values, q):
    v = sorted(values)
    h = (len(v) - 1) * q
    i = math.floor(h)
    return v[i] if i + 1 >= len(v) else v[i] + (h - i) * (v[i + 1] - v[i])


def ref_bootstrap(clip_values, idx, average):
    out = []
    for row in idx:
        out.append(ref_stat([clip_values[j] for j in row], average))
    return out


def ref_bca(stats_, estimate, jack, level):
    nd = NormalDist()
    below = sum(1.0 if s < estimate else 0.5 if s == estimate else 0.0 for s in stats_) / len(stats_)
    z0 = nd.inv_cdf(below)
    mean = sum(jack) / len(jack)
    num = sum((mean - j) ** 3 for j in jack)
    den = 6 * sum((mean - j) ** 2 for j in jack) ** 1.5
    a = num / den
    ends = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        z = z0 + nd.inv_cdf(q)
        ends.append(ref_quantile(stats_, nd.cdf(z0 + z / (1 - a * z))))
    return ends


# ------------------------------------------------------------------ intervals

@pytest.mark.parametrize("average", ["seq_avg", "frame_avg"])
def test_cluster_bootstrap_matches_a_plain_loop_with_the_same_draws(average):
    rng = np.random.default_rng(5)
    data = clips_of(rng, 6, n=5)
    data["c02"][1] = math.inf  # PSNR of identical frames: left out of the means
    data["c04"] = [math.inf] * 5  # a clip with no finite value: left out of seq_avg
    df = frame({"A": data})
    R, seed = 300, 11
    got = stats.dataset_intervals(df, average=average, resamples=R, seed=seed)[("A", "d", "psnr")]
    clip_values = [data[c] for c in sorted(data)]
    idx = np.random.default_rng(seed).integers(0, len(clip_values), size=(R, len(clip_values)))
    boot = ref_bootstrap(clip_values, idx.tolist(), average)
    assert got.value == aggregate(df)["psnr"][average]  # the table's number
    assert got.lo == pytest.approx(ref_quantile(boot, 0.025), rel=1e-12)
    assert got.hi == pytest.approx(ref_quantile(boot, 0.975), rel=1e-12)
    assert got.lo < got.value < got.hi and got.n_clips == 6


def test_bca_matches_the_formula_with_a_clip_jackknife():
    rng = np.random.default_rng(8)
    data = {f"c{i}": list(np.exp(rng.standard_normal(4) + 2 * rng.standard_normal())) for i in range(9)}  # skewed
    df = frame({"A": data}, metric="tof")
    R, seed = 400, 3
    got = stats.dataset_intervals(df, resamples=R, seed=seed, interval="bca")[("A", "d", "tof")]
    clip_values = [data[c] for c in sorted(data)]
    idx = np.random.default_rng(seed).integers(0, 9, size=(R, 9))
    boot = ref_bootstrap(clip_values, idx.tolist(), "seq_avg")
    jack = [ref_stat(clip_values[:i] + clip_values[i + 1:], "seq_avg") for i in range(9)]
    lo, hi = ref_bca(boot, got.value, jack, 0.95)
    assert (got.lo, got.hi) == pytest.approx((lo, hi), rel=1e-9)
    pct = stats.dataset_intervals(df, resamples=R, seed=seed)[("A", "d", "tof")]
    assert (got.lo, got.hi) != pytest.approx((pct.lo, pct.hi), rel=1e-6)  # the corrections moved the ends


def test_two_stage_with_one_frame_per_clip_is_the_cluster_bootstrap_and_is_wider_with_frames():
    rng = np.random.default_rng(2)
    one = frame({"A": {f"c{i}": [30 + rng.standard_normal()] for i in range(8)}})
    a = stats.dataset_intervals(one, resamples=200, seed=4)[("A", "d", "psnr")]
    b = stats.dataset_intervals(one, resamples=200, seed=4, scheme="two-stage")[("A", "d", "psnr")]
    assert (a.lo, a.hi) == pytest.approx((b.lo, b.hi), rel=1e-12)
    many = frame({"A": clips_of(rng, 8, n=20, clip_sd=0.2, frame_sd=3.0)})
    c = stats.dataset_intervals(many, resamples=1000, seed=4)[("A", "d", "psnr")]
    t = stats.dataset_intervals(many, resamples=1000, seed=4, scheme="two-stage")[("A", "d", "psnr")]
    assert t.hi - t.lo > c.hi - c.lo  # adds the within-clip variation once more


def test_drawing_in_blocks_gives_the_same_numbers(monkeypatch):
    rng = np.random.default_rng(1)
    df = frame({"A": clips_of(rng, 7), "B": clips_of(rng, 7)})
    full = stats.dataset_intervals(df, resamples=500, seed=9)
    cmp_full = stats.compare_methods(df, "A", "B", resamples=100, seed=9)  # 2**7 > 100: random swaps
    monkeypatch.setattr(stats, "BLOCK_ELEMENTS", 13)  # blocks of 1 row
    assert stats.dataset_intervals(df, resamples=500, seed=9) == full
    assert stats.compare_methods(df, "A", "B", resamples=100, seed=9) == cmp_full


def test_same_seed_same_output_other_seed_slightly_different():
    rng = np.random.default_rng(3)
    df = frame({"A": clips_of(rng, 10)})
    a = stats.dataset_intervals(df, seed=1)[("A", "d", "psnr")]
    assert stats.dataset_intervals(df, seed=1)[("A", "d", "psnr")] == a
    b = stats.dataset_intervals(df, seed=2)[("A", "d", "psnr")]
    assert (a.lo, a.hi) != (b.lo, b.hi) and a.value == b.value
    width = a.hi - a.lo
    assert abs(a.lo - b.lo) < 0.1 * width and abs(a.hi - b.hi) < 0.1 * width


def test_intervals_narrow_as_clips_are_added():
    rng = np.random.default_rng(4)
    data = clips_of(rng, 80)
    widths = []
    for k in (5, 20, 80):
        df = frame({"A": {c: data[c] for c in sorted(data)[:k]}})
        iv = stats.dataset_intervals(df, seed=0)[("A", "d", "psnr")]
        widths.append(iv.hi - iv.lo)
    assert widths[0] > widths[1] > widths[2]
    assert widths[2] < 0.7 * widths[1]  # about 1/sqrt(4) in expectation


def test_few_clips_warn_in_one_line_and_five_do_not():
    rng = np.random.default_rng(0)
    with pytest.warns(VsrbenchWarning, match=r"^dataset 'd' has 4 clip\(s\) \(< 5\).*cannot give p below 0.125"):
        stats.dataset_intervals(frame({"A": clips_of(rng, 4)}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", VsrbenchWarning)
        stats.dataset_intervals(frame({"A": clips_of(rng, 5)}))


def test_a_method_with_a_hole_gets_no_interval_and_formatting():
    rng = np.random.default_rng(0)
    data = clips_of(rng, 6)
    short = {c: v[:-1] if c == "c03" else v for c, v in data.items()}
    got = stats.dataset_intervals(frame({"A": data, "B": short}))
    assert ("A", "d", "psnr") in got and ("B", "d", "psnr") not in got
    iv = stats.Interval(27.38, 27.331, 27.434, 0.95, 4)
    assert stats.format_interval(iv, metric="psnr") == "27.38 ± 0.05"
    assert stats.format_interval(iv, 2, style="bracket") == "[27.33, 27.43]"
    with pytest.raises(InputError, match="style: expected 'pm' or 'bracket', got 'x'"):
        stats.format_interval(iv, 2, style="x")


def test_mixed_protocols_and_bad_options_are_refused():
    rng = np.random.default_rng(0)
    df = pd.concat([frame({"A": clips_of(rng, 5)}), frame({"B": clips_of(rng, 5)}, protocol_hash="bbbbbbbbbbbb")])
    with pytest.raises(InputError, match="mix protocols"):
        stats.dataset_intervals(df)
    ok = frame({"A": clips_of(rng, 5)})
    with pytest.raises(InputError, match=r"^level: expected a confidence level between 0 and 1 .*got 95"):
        stats.dataset_intervals(ok, level=95)
    with pytest.raises(UnknownNameError, match="unknown interval 'bcb'; did you mean 'bca'"):
        stats.dataset_intervals(ok, interval="bcb")
    with pytest.raises(UnknownNameError, match="unknown metric 'pnsr'; did you mean 'psnr'"):
        stats.dataset_intervals(ok, metrics=["pnsr"])


# ------------------------------------------------------------------ paired comparisons

@pytest.mark.parametrize("test", ["randomization", "bootstrap"])
@pytest.mark.parametrize("average", ["seq_avg", "frame_avg"])
def test_identical_methods_differ_by_exactly_zero_and_not_significantly(test, average):
    rng = np.random.default_rng(6)
    data = clips_of(rng, 12)
    data["c01"][2] = math.inf
    df = frame({"A": data, "B": data})
    c = stats.compare_methods(df, "A", "B", test=test, average=average)[("d", "psnr")]
    assert c.diff == 0.0 and c.lo == 0.0 and c.hi == 0.0
    assert c.p == 1.0 and not c.significant and c.better is None
    assert "no difference" in c.verdict()


def test_randomization_matches_a_plain_loop_with_the_same_swaps():
    rng = np.random.default_rng(7)
    a, b = clips_of(rng, 12, n=4), clips_of(rng, 12, n=4)
    b = {c: [v - 0.4 + 0.3 * rng.standard_normal() for v in vals] for c, vals in a.items()}  # B a bit worse
    df = frame({"A": a, "B": b})
    R, seed = 500, 21  # 2**12 > 500: random swaps
    got = stats.compare_methods(df, "A", "B", resamples=R, seed=seed)[("d", "psnr")]
    clips = sorted(a)
    observed = ref_stat([a[c] for c in clips], "seq_avg") - ref_stat([b[c] for c in clips], "seq_avg")
    swaps = np.random.default_rng(seed).random((R, 12)) < 0.5
    count = 0
    for row in swaps.tolist():
        xa = [b[c] if s else a[c] for c, s in zip(clips, row)]
        xb = [a[c] if s else b[c] for c, s in zip(clips, row)]
        if abs(ref_stat(xa, "seq_avg") - ref_stat(xb, "seq_avg")) >= abs(observed) * (1 - 1e-9):
            count += 1
    assert got.p == (count + 1) / (R + 1)
    assert got.diff == pytest.approx(observed, rel=1e-12)
    # the interval: the same index matrix for both methods, the difference of the two statistics
    idx = np.random.default_rng(seed).integers(0, 12, size=(R, 12)).tolist()
    diffs = [x - y for x, y in zip(ref_bootstrap([a[c] for c in clips], idx, "seq_avg"),
                                   ref_bootstrap([b[c] for c in clips], idx, "seq_avg"))]
    assert (got.lo, got.hi) == pytest.approx((ref_quantile(diffs, 0.025), ref_quantile(diffs, 0.975)), rel=1e-9)
    boot = stats.compare_methods(df, "A", "B", resamples=R, seed=seed, test="bootstrap")[("d", "psnr")]
    flips = min(sum(d <= 0 for d in diffs), sum(d >= 0 for d in diffs))
    assert boot.p == min(1.0, 2 * (flips + 1) / (R + 1))


def test_randomization_enumerates_every_swap_when_there_are_few_clips():
    rng = np.random.default_rng(9)
    a = clips_of(rng, 4)
    b = {c: [v + (0.3 if c != "c02" else -0.05) for v in vals] for c, vals in a.items()}
    df = frame({"A": a, "B": b})
    with pytest.warns(VsrbenchWarning, match="4 clip"):
        got = stats.compare_methods(df, "A", "B")[("d", "psnr")]
    clips = sorted(a)
    observed = ref_stat([a[c] for c in clips], "seq_avg") - ref_stat([b[c] for c in clips], "seq_avg")
    count = 0
    for row in itertools.product([False, True], repeat=4):
        xa = [b[c] if s else a[c] for c, s in zip(clips, row)]
        xb = [a[c] if s else b[c] for c, s in zip(clips, row)]
        count += abs(ref_stat(xa, "seq_avg") - ref_stat(xb, "seq_avg")) >= abs(observed) * (1 - 1e-9)
    assert got.p == count / 16 and got.p >= 2 / 16  # exact; never below 2/2**K
    assert quiet(stats.compare_methods, df, "A", "B", seed=123)[("d", "psnr")].p == got.p  # no randomness


def test_holm_bonferroni():
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5]) == [0.5]
    assert stats.holm([0.6, 0.9]) == [1.0, 1.0]


def _video(rng, n=8, size=64):
    y, x = np.mgrid[0:size, 0:size]
    phase = rng.uniform(0, 2 * np.pi)
    frames = []
    for t in range(n):
        img = 128 + 60 * np.sin((x + 1.5 * t) / 5.0 + phase) * np.cos((y - t) / 7.0)
        frames.append(np.repeat(img[..., None], 3, axis=2))
    return np.stack(frames)


def test_added_flicker_is_significantly_worse_on_tof_and_psnr():
    from vsrbench.metrics import psnr, tof

    rng = np.random.default_rng(10)
    rows = []
    for i in range(8):
        gt = _video(rng)
        noise = 3 * rng.standard_normal(gt.shape[1:])
        original = np.clip(gt + noise, 0, 255).astype(np.uint8)  # the same noise every frame: temporally stable
        flicker = np.clip(gt + noise + 6 * rng.standard_normal(gt.shape)
                          + np.array([8.0, -8.0] * 4)[:, None, None, None], 0, 255).astype(np.uint8)
        gt8 = gt.astype(np.uint8)
        for method, out in (("original", original), ("flicker", flicker)):
            for t, v in zip(range(3, 6), tof(out, gt8)):
                rows.append((method, "synthetic", f"clip{i}", t, "tof", float(v)))
            for t in range(8):
                rows.append((method, "synthetic", f"clip{i}", t, "psnr", float(psnr(out[t], gt8[t], value_range=255))))
    df = pd.DataFrame(rows, columns=["method", "dataset", "sequence", "frame", "metric", "value"])
    df["frame_name"], df["protocol"], df["protocol_hash"], df["metric_version"] = "x", "tecogan", HASH, "1"
    for test in ("randomization", "bootstrap"):
        got = stats.compare_methods(df, "flicker", "original", test=test)
        if test == "randomization":  # 8 clips, all worse: only the identity and the full swap reach |d|
            assert got[("synthetic", "tof")].p == 2 / 2 ** 8
        t, p = got[("synthetic", "tof")], got[("synthetic", "psnr")]
        assert t.diff > 0 and t.lo > 0 and t.p < 0.05 and t.significant, t  # tOF: lower is better
        assert t.better == "original" and t.verdict().startswith("original is better than flicker on tOF")
        assert p.diff < 0 and p.hi < 0 and p.significant and p.better == "original"
    assert got[("synthetic", "tof")].p == 2 / 2001  # bootstrap: no resample of clips flips the sign


def test_compare_to_adjusts_with_holm_and_skips_holes():
    rng = np.random.default_rng(12)
    base = clips_of(rng, 10)
    data = {"base": base, "same": base,
            "better": {c: [v + 0.5 + 0.1 * rng.standard_normal() for v in vals] for c, vals in base.items()},
            "noisy": {c: [v + rng.standard_normal() for v in vals] for c, vals in base.items()},
            "hole": {c: vals for c, vals in base.items() if c != "c03"}}
    got = stats.compare_to(frame(data), "base")
    assert set(got) == {(m, "d", "psnr") for m in ("same", "better", "noisy")}
    ps = [got[(m, "d", "psnr")].p for m in ("same", "better", "noisy")]
    assert [got[(m, "d", "psnr")].p_adjusted for m in ("same", "better", "noisy")] == stats.holm(ps)
    assert got[("better", "d", "psnr")].significant and not got[("same", "d", "psnr")].significant
    assert got[("better", "d", "psnr")].p_adjusted >= got[("better", "d", "psnr")].p


def test_comparisons_refuse_different_frames_and_unknown_names():
    rng = np.random.default_rng(0)
    a = clips_of(rng, 5)
    b = {c: v[:-1] if c == "c01" else v for c, v in a.items()}
    df = frame({"A": a, "B": b})
    with pytest.raises(InputError, match=r"^compare: 'A' and 'B' were not scored on the same frames of 'd' for psnr: "
                                         r"1 frame\(s\) only in 'A', 0 only in 'B' \(e.g. c01 frame 5\)"):
        stats.compare_methods(df, "A", "B")
    with pytest.raises(UnknownNameError, match="unknown method 'a'; did you mean 'A'"):
        stats.compare_methods(df, "a", "B")
    with pytest.raises(InputError, match="expected two different methods"):
        stats.compare_methods(df, "A", "A")
    with pytest.raises(UnknownNameError, match="unknown test 'permutation'"):
        stats.compare_methods(frame({"A": a, "B": a}), "A", "B", test="permutation")


# ------------------------------------------------------------------ the command

def _store(tmp_path, data, metric="tof"):
    run = {"vsrbench_version": "0.1.0", "protocol": "tecogan", "protocol_hash": HASH,
           "protocol_fields": {}, "metric_versions": {metric: "1"}}
    with ResultsStore(tmp_path) as store:
        run_id = store.start_run(run)
        for method, clips in data.items():
            for seq, values in clips.items():
                store.add_sequence(run_id, SequenceResult(
                    method, "set", seq, [(f, metric, v) for f, v in enumerate(values)],
                    [f"{f}.png" for f in range(len(values))], {metric: "1"}, "tecogan", HASH))
        store.finish_run(run_id, "done")
    return tmp_path


def test_compare_command_prints_values_difference_interval_p_and_verdict(tmp_path, capsys):
    rng = np.random.default_rng(13)
    a = clips_of(rng, 6, mean=0.3, clip_sd=0.05, frame_sd=0.01)
    b = {c: [v + 0.02 for v in vals] for c, vals in a.items()}
    res = _store(tmp_path, {"A": a, "B": b})
    assert main(["compare", str(res), "A", "B", "--seed", "3"]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # 6 clips: no warning
    lines = out.splitlines()
    assert lines[0].startswith("A (A) vs B (B), protocol tecogan (aaaaaaaaaaaa), seq_avg; 95% interval: paired cluster")
    assert re.match(r"^set +tOF ↓ +6 +0\.\d{4} +0\.\d{4} +-0\.0200 +\[-0\.0200, -0\.0200\] +0\.031", lines[2]), out
    assert lines[3] == "A is better than B on tOF (set): significant at α=0.05 (p=0.0312, randomization)"
    assert main(["compare", str(res), "A", "B", "--seed", "3"]) == 0
    assert capsys.readouterr().out == out  # reproducible
    assert main(["compare", str(res), "A", "b"]) == 2
    assert capsys.readouterr().err == ("vsrbench compare: error: unknown method 'b'; did you mean 'B'? "
                                       "(known: A, B)\n")
    assert main(["compare", str(res), "A", "B", "--metric", "tfo"]) == 2
    assert "did you mean 'tof'?" in capsys.readouterr().err


def test_the_command_pins_the_option_names_of_the_library():
    from vsrbench.commands import compare

    assert compare.AVERAGES == stats.AVERAGES and compare.TESTS == stats.TESTS
    assert compare.INTERVALS == stats.INTERVALS and compare.SCHEMES == stats.SCHEMES


@pytest.mark.slow
def test_vid4_duf52_vs_duf16_on_the_real_outputs(capsys, vid4_example):
    res = vid4_example
    capsys.readouterr()
    assert main(["compare", str(res), "DUF-52L", "DUF-16L"]) == 0
    out, err = capsys.readouterr()
    assert "has 4 clip(s)" in err and err.count("\n") == 1
    rows = {line.split()[1]: line.split() for line in out.splitlines()[2:5]}
    psnr, tof_ = rows["PSNR"], rows["tOF"]
    assert float(psnr[6]) > 0.3 and float(psnr[7].strip("[,")) > 0  # 52L better on every resample of clips
    assert float(tof_[6]) < 0  # lower tOF: 52L better
    assert psnr[-1] == "0.125"  # exact randomisation over 4 clips: the smallest p there is
    assert "DUF-52L is better than DUF-16L on PSNR (vid4): not significant at α=0.05 (p=0.125, randomization)" in out
    assert main(["compare", str(res), "DUF-52L", "DUF-16L", "--test", "bootstrap"]) == 0
    assert "DUF-52L is better than DUF-16L on PSNR (vid4): significant at α=0.05" in capsys.readouterr().out


def test_a_metric_only_one_method_has_is_left_out_unless_asked_for():
    rng = np.random.default_rng(14)
    a = clips_of(rng, 6)
    df = pd.concat([frame({"A": a, "B": a}), frame({"A": clips_of(rng, 6, mean=0.2)}, metric="tof")])
    assert set(stats.compare_methods(df, "A", "B")) == {("d", "psnr")}
    with pytest.raises(InputError, match=r"^compare: method 'B' has no stored tof results for dataset 'd'"):
        stats.compare_methods(df, "A", "B", metrics=["tof"])


def test_caption_sentences_for_the_tables():
    assert stats.ci_caption() == ("± / [lo, hi]: 95% percentile interval of a cluster bootstrap over clips "
                                  "(2000 resamples, seed 0).")
    assert stats.against_caption("DUF-16L", level=0.99) == (
        "*: differs significantly from DUF-16L (paired approximate randomisation test over clips, two-sided, "
        "Holm-adjusted, α=0.01).")
