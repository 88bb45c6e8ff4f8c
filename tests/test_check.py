"""Regression checks (``vsrbench check``) and the pytest plugin (``vsrbench_baseline``).

Stores are filled with hand-made rows; expected means are computed here with NumPy."""
from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from vsrbench.analysis.check import check_results, mean_entry, parse_tolerances, read_baseline
from vsrbench.cli import main
from vsrbench.core.errors import InputError
from vsrbench.pytest_plugin import assert_matches_baseline
from vsrbench.results.store import STORE_FILENAME, ResultsStore, SequenceResult

pytest_plugins = ["pytester"]

RUN = {"vsrbench_version": "0.1.0", "protocol": "tecogan", "protocol_hash": "aaaaaaaaaaaa",
       "protocol_fields": {}, "metric_versions": {"psnr": "1", "ssim": "1"}}
N = 6


def values(method: str, sequence: str, metric: str) -> list[float]:
    seed = sum(map(ord, method + sequence + metric))
    scale = 30.0 if metric == "psnr" else 0.9
    return (scale + np.random.default_rng(seed).normal(0, 0.01 * scale, N)).tolist()


def fill(results_dir, methods=("A", "B"), sequences=("s0", "s1"), metrics=("psnr", "ssim"),
         protocol=("tecogan", "aaaaaaaaaaaa")) -> None:
    with ResultsStore(results_dir) as store:
        run_id = store.start_run({**RUN, "protocol": protocol[0], "protocol_hash": protocol[1]})
        for m in methods:
            for s in sequences:
                rows = [(f, k, v) for k in metrics for f, v in enumerate(values(m, s, k))]
                store.add_sequence(run_id, SequenceResult(m, "vid", s, rows, [], {k: "1" for k in metrics}, *protocol))
        store.finish_run(run_id, "done")


def shift(results_dir, method: str, sequence: str, metric: str, frame: int, delta: float) -> None:
    with sqlite3.connect(results_dir / STORE_FILENAME) as c:
        c.execute("UPDATE results SET value = value + ? WHERE method = ? AND sequence = ? AND metric = ? AND frame = ?",
                  (delta, method, sequence, metric, frame))


@pytest.fixture
def res(tmp_path):
    fill(tmp_path / "res")
    return tmp_path / "res"


@pytest.fixture
def baseline(res, tmp_path):
    path = tmp_path / "baseline.json"
    assert main(["check", str(res), "--write-baseline", str(path)]) == 0
    return path


def test_write_baseline_records_per_sequence_means(capsys, res, baseline):
    assert capsys.readouterr().out == f"wrote {baseline}: 8 sequence mean(s), protocol tecogan (aaaaaaaaaaaa)\n"
    doc = json.loads(baseline.read_text())
    assert doc["format"] == "vsrbench-baseline" and doc["protocol"] == {"name": "tecogan", "hash": "aaaaaaaaaaaa"}
    got = {(e["method"], e["sequence"], e["metric"]): e for e in doc["entries"]}
    assert len(got) == 8
    for (m, s, k), e in got.items():
        assert e["frames"] == N and e["nonfinite"] == 0 and e["metric_version"] == "1"
        assert abs(e["mean"] - np.mean(values(m, s, k))) < 1e-12


def test_unchanged_results_pass(res, baseline, capsys):
    capsys.readouterr()
    assert main(["check", str(res), "--baseline", str(baseline)]) == 0
    assert capsys.readouterr().out == "ok: 8 sequence mean(s) within tolerance\n"


def test_a_perturbed_value_fails_with_a_diff_table(res, baseline, capsys):
    shift(res, "B", "s1", "psnr", 3, 0.06)  # the sequence mean moves by 0.01
    capsys.readouterr()
    assert main(["check", str(res), "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out.splitlines()
    base = float(np.mean(values("B", "s1", "psnr")))
    cur = base + 0.01
    assert out[0] == "FAILED: 1 of 8 compared value(s) moved beyond tolerance, 0 mismatch(es)"
    assert out[1].split() == ["method", "dataset", "sequence", "metric", "baseline", "current", "diff", "tolerance",
                              "note"]
    assert out[2].split() == ["B", "vid", "s1", "psnr", f"{base:.10g}", f"{cur:.10g}", "+0.01", "1e-06"]
    assert len(out) == 3


def test_tolerances_per_metric_and_relative(res, baseline):
    shift(res, "B", "s1", "psnr", 3, 0.06)
    assert main(["check", str(res), "--baseline", str(baseline), "--tol", "psnr=0.011"]) == 0
    assert main(["check", str(res), "--baseline", str(baseline), "--tol", "ssim=1,psnr=0.009"]) == 1
    assert main(["check", str(res), "--baseline", str(baseline), "--rtol", "4e-4"]) == 0  # 0.01 / ~30 = 3.3e-4
    assert main(["check", str(res), "--baseline", str(baseline), "--rtol", "3e-4"]) == 1
    assert main(["check", str(res), "--baseline", str(baseline), "--atol", "0.02"]) == 0


def test_different_methods_sequences_or_metrics_are_a_mismatch(tmp_path, baseline, capsys):
    other = tmp_path / "other"
    fill(other, methods=("A", "C"), sequences=("s0", "s1"), metrics=("psnr",))
    capsys.readouterr()
    assert main(["check", str(other), "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAILED: 0 of 2 compared value(s) moved beyond tolerance, 8 mismatch(es)\n")
    lines = [line.split() for line in out.splitlines()[2:]]
    assert ["A", "vid", "s0", "ssim"] == lines[0][:4] and lines[0][-4:] == ["missing", "in", "current", "results"]
    assert sum(line[-3:] == ["not", "in", "baseline"] for line in lines) == 2  # C/s0, C/s1 psnr
    assert sum(line[-2:] == ["current", "results"] for line in lines) == 6  # A ssim x2, B x4


def test_results_under_another_protocol_do_not_pass(tmp_path, baseline, capsys):
    other = tmp_path / "other"
    fill(other, protocol=("basicsr-y", "bbbbbbbbbbbb"))
    capsys.readouterr()
    assert main(["check", str(other), "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == ("note: no results under the baseline's protocol tecogan (aaaaaaaaaaaa); "
                      "stored: basicsr-y (bbbbbbbbbbbb)")


def test_non_finite_values_are_counted_not_averaged(tmp_path):
    res = tmp_path / "res"
    with ResultsStore(res) as store:
        run_id = store.start_run(RUN)
        rows = [(0, "psnr", math.inf), (1, "psnr", 40.0), (2, "psnr", 42.0)]
        store.add_sequence(run_id, SequenceResult("A", "vid", "s", rows, [], {"psnr": "1"}, "tecogan", "aaaaaaaaaaaa"))
    path = tmp_path / "b.json"
    assert main(["check", str(res), "--write-baseline", str(path)]) == 0
    entry = json.loads(path.read_text())["entries"][0]
    assert entry["mean"] == 41.0 and entry["nonfinite"] == 1 and entry["frames"] == 3
    with sqlite3.connect(res / STORE_FILENAME) as c:
        c.execute("UPDATE results SET value = 50.0 WHERE frame = 0")  # identical frame no longer identical
    report = check_results(res, path, atol=100)
    assert not report.ok and report.diffs[0].note == "non-finite values: 1 -> 0"


def test_all_non_finite_means_are_null_and_compare_equal():
    a = mean_entry("A", "d", "s", "psnr", [math.inf, math.inf])
    assert a.mean is None and a.nonfinite == 2 and a.frames == 2


@pytest.mark.parametrize("body, message", [
    (None, "baseline file not found: {path!r} (write one with --write-baseline)"),
    ("{not json", "baseline {path!r} is not valid JSON (Expecting property name enclosed in double quotes: "
                  "line 1 column 2 (char 1))"),
    ('{"entries": []}', "baseline {path!r} is not a vsrbench baseline (expected \"format\": \"vsrbench-baseline\")"),
    ('{"format": "vsrbench-baseline", "version": 7, "entries": []}', "baseline {path!r} has version 7, expected 1"),
    ('{"format": "vsrbench-baseline", "version": 1, "entries": [{"method": "A"}]}',
     "baseline {path!r} has a malformed entry (KeyError: 'mean')"),
])
def test_unusable_baselines_exit_2(res, tmp_path, capsys, body, message):
    path = tmp_path / "bad.json"
    if body is not None:
        path.write_text(body)
    assert main(["check", str(res), "--baseline", str(path)]) == 2
    assert capsys.readouterr().err == f"vsrbench check: error: {message.format(path=str(path))}\n"


def test_missing_results_exit_2(tmp_path, baseline, capsys):
    assert main(["check", str(tmp_path / "none"), "--baseline", str(baseline)]) == 2
    assert capsys.readouterr().err.startswith("vsrbench check: error: no results store in ")


def test_write_baseline_needs_a_protocol_when_several_are_stored(res, tmp_path, capsys):
    fill(res, protocol=("basicsr-y", "bbbbbbbbbbbb"))
    path = tmp_path / "b.json"
    assert main(["check", str(res), "--write-baseline", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"vsrbench check: error: protocol: results in {str(res)!r} for dataset 'vid' mix protocols "
        "basicsr-y (bbbbbbbbbbbb), tecogan (aaaaaaaaaaaa); numbers of different protocols are not comparable; choose one with --protocol "
        "basicsr-y or --protocol tecogan\n")
    assert not path.exists()
    assert main(["check", str(res), "--write-baseline", str(path), "--protocol", "basicsr-y"]) == 0
    assert read_baseline(path)[1] == {"name": "basicsr-y", "hash": "bbbbbbbbbbbb"}
    assert main(["check", str(res), "--baseline", str(path)]) == 0  # compared under the baseline's hash only


def test_parse_tolerances():
    assert parse_tolerances(["psnr=0.01,tlp=0.05", "ssim=1e-4"]) == {"psnr": 0.01, "tlp": 0.05, "ssim": 1e-4}
    for bad in ("psnr", "psnr=-1", "psnr=abc", "=0.1"):
        with pytest.raises(InputError) as e:
            parse_tolerances(bad)
        assert str(e.value) == f"--tol expects METRIC=NUMBER (a number >= 0), got {bad!r}"


def test_bad_tolerance_on_the_command_line_exits_2(res, baseline, capsys):
    assert main(["check", str(res), "--baseline", str(baseline), "--tol", "psnr"]) == 2
    assert capsys.readouterr().err == "vsrbench check: error: --tol expects METRIC=NUMBER (a number >= 0), got 'psnr'\n"


# ---------------------------------------------------------------------- the pytest helper


def test_helper_passes_on_matching_results_and_fails_with_the_table(res, baseline):
    assert assert_matches_baseline(res, baseline).compared == 8
    shift(res, "A", "s0", "ssim", 0, 0.006)
    with pytest.raises(AssertionError) as e:
        assert_matches_baseline(res, baseline)
    text = str(e.value)
    assert text.startswith(f"metrics do not match baseline {str(baseline)!r}:\nFAILED: 1 of 8 compared value(s)")
    assert "A       vid      s0        ssim" in text
    assert_matches_baseline(res, baseline, tol={"ssim": 0.002})
    assert_matches_baseline(res, baseline, "ssim=0.002")
    assert_matches_baseline(res, baseline, 0.002)


def test_helper_on_one_sequences_scores(res, baseline):
    means = {k: float(np.mean(values("B", "s1", k))) for k in ("psnr", "ssim")}
    assert_matches_baseline(means, baseline, method="B", sequence="s1", atol=1e-9)
    with pytest.raises(AssertionError, match=r"FAILED: 1 of 2 compared value\(s\) moved"):
        assert_matches_baseline({**means, "psnr": means["psnr"] + 0.1}, baseline, method="B", sequence="s1")
    with pytest.raises(AssertionError, match=r"leave 4 \(A/vid/s0, A/vid/s1, B/vid/s0, B/vid/s1\)"):
        assert_matches_baseline(means, baseline)


def test_helper_on_real_sequence_scores(tmp_path, rng):
    from vsrbench.evaluate import evaluate_sequence
    from vsrbench.pytest_plugin import write_baseline_for

    gt = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(3)]
    out = [np.clip(g.astype(int) + 3, 0, 255).astype(np.uint8) for g in gt]
    scores = evaluate_sequence(out, gt, protocol="basicsr-rgb", metrics=["psnr"], device="cpu")
    path = tmp_path / "b.json"
    write_baseline_for(scores, path)
    entries, protocol = read_baseline(path)
    from vsrbench.metrics import get_protocol

    assert protocol == {"name": "basicsr-rgb", "hash": get_protocol("basicsr-rgb").hash}
    mse = [np.mean((g.astype(float) - o) ** 2) for g, o in zip(gt, out)]
    assert abs(entries[0].mean - np.mean([10 * np.log10(255 ** 2 / m) for m in mse])) < 1e-9
    assert_matches_baseline(scores, path)

    class OtherProtocol:  # the same rows, scored under another protocol
        rows = scores.rows
        protocol = get_protocol("basicsr-y")

    with pytest.raises(AssertionError, match=r"note: scores use protocol basicsr-y \("):
        assert_matches_baseline(OtherProtocol(), path)


FIXTURE_TEST = """
def test_model(vsrbench_baseline):
    vsrbench_baseline({"psnr": PSNR, "ssim": 0.9}, "baselines/model.json", tol={"psnr": 0.01})
"""


def test_fixture_writes_then_compares(pytester):
    pytester.makepyfile(test_model=FIXTURE_TEST.replace("PSNR", "30.0"))
    first = pytester.runpytest("-q", "-p", "no:cacheprovider")
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(["*vsrbench baseline '*baselines/model.json' not found; "
                                "run pytest --vsrbench-update-baselines to write it*"])
    pytester.runpytest("-q", "--vsrbench-update-baselines").assert_outcomes(passed=1)
    assert json.loads((pytester.path / "baselines" / "model.json").read_text())["entries"][0]["mean"] == 30.0
    pytester.runpytest("-q").assert_outcomes(passed=1)
    pytester.makepyfile(test_model=FIXTURE_TEST.replace("PSNR", "30.005"))
    pytester.runpytest("-q").assert_outcomes(passed=1)
    pytester.makepyfile(test_model=FIXTURE_TEST.replace("PSNR", "30.5"))
    bad = pytester.runpytest("-q")
    bad.assert_outcomes(failed=1)
    bad.stdout.fnmatch_lines(["*FAILED: 1 of 2 compared value(s) moved beyond tolerance*",
                              "*default*default*default*psnr*30*30.5*+0.5*0.01*"])


def test_plugin_is_registered_and_imports_without_torch_or_pandas():
    code = ("import sys, importlib.metadata as md; "
            "eps = [e.value for e in md.entry_points(group='pytest11') if e.name == 'vsrbench']; "
            "import vsrbench.pytest_plugin; "
            "print(eps, 'torch' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["['vsrbench.pytest_plugin']", "False", "False"]
