"""Benchmark definitions (strict validation, pinned messages) and the resumable runner.

Synthetic sequences are small (48 x 64, 6 frames); scores are checked against scikit-image's
PSNR or a NumPy reference written here, never against numbers vsrbench produced itself.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from _support.paths import shared_path
from vsrbench.baselines import MODELS, ModelSpec, SRModel
from vsrbench.catalog.benchfile import BenchKeyError, load_bench
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.io import decode_image, open_sequence, write_frame
from vsrbench.runner import run_benchmark
from vsrbench.results.store import STORE_FILENAME
from vsrbench.results.loading import load_results, load_runs

H, W, N = 48, 64, 6
SEQS = ("s0", "s1", "s2")


# ---------------------------------------------------------------------- fixtures


def write_sequence(folder: Path, frames: list[np.ndarray], pattern: str = "{:03d}.png") -> None:
    for i, f in enumerate(frames):
        write_frame(folder / pattern.format(i + 1), f)


def gt_frames(seed: int) -> list[np.ndarray]:
    """A smooth textured pattern drifting by one pixel per frame (a little motion for tOF)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (H // 4 + 2, W // 4 + 2, 3)).astype(np.float64)
    big = np.kron(base, np.ones((4, 4, 1)))
    return [np.ascontiguousarray(big[1: H + 1, t % 4: t % 4 + W]).astype(np.uint8) for t in range(N)]


def noisy(frames: list[np.ndarray], seed: int, sigma: float) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0, sigma, f.shape), 0, 255).round().astype(np.uint8) for f in frames]


@pytest.fixture
def data(tmp_path) -> Path:
    """GT, two methods' outputs (A better than B), LR (every 4th pixel), under tmp_path/data."""
    root = tmp_path / "data"
    for k, s in enumerate(SEQS):
        gt = gt_frames(k)
        write_sequence(root / "GT" / s, gt, "Frame {:03d}.png")
        write_sequence(root / "A" / s, noisy(gt, 100 + k, 3.0), "Frame{:03d}.png")
        write_sequence(root / "B" / s, noisy(gt, 200 + k, 12.0))
        write_sequence(root / "LR" / s, [f[::4, ::4] for f in gt])
    return root


def write_bench(folder: Path, body: str, name: str = "bench.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


BASE = """
protocol = "basicsr-rgb"
metrics = ["psnr"]
[datasets.syn]
gt = "data/GT"
lr = "data/LR"
scale = 4
[methods.A]
outputs = { syn = "data/A" }
[methods.B]
outputs = { syn = "data/B" }
"""


def ref_psnr(gt_dir: Path, out_dir: Path) -> list[float]:
    """scikit-image PSNR (RGB, data range 255) of every frame, paired by sorted position."""
    gts = sorted(gt_dir.iterdir(), key=lambda p: int("".join(filter(str.isdigit, p.name))))
    outs = sorted(out_dir.iterdir(), key=lambda p: int("".join(filter(str.isdigit, p.name))))
    return [peak_signal_noise_ratio(decode_image(g), decode_image(o), data_range=255) for g, o in zip(gts, outs)]


def bench_error(tmp_path, body: str) -> str:
    with pytest.raises(InputError) as e:
        load_bench(write_bench(tmp_path, body))
    return str(e.value)


# ---------------------------------------------------------------------- validation


def test_a_valid_definition_resolves_paths_relative_to_the_file(tmp_path, data):
    b = load_bench(write_bench(tmp_path, BASE))
    assert b.name == "bench" and b.metrics == ("psnr",) and b.protocol.name == "basicsr-rgb"
    assert b.datasets["syn"].gt == tmp_path / "data" / "GT" and b.datasets["syn"].sequences == SEQS
    assert b.methods["A"].kind == "outputs" and b.methods["A"].outputs == {"syn": tmp_path / "data" / "A"}
    assert [(d.name, m.name, s) for d, m, s in b.tasks()] == [("syn", m, s) for m in "AB" for s in SEQS]


def test_metrics_default_to_the_protocols(tmp_path, data):
    b = load_bench(write_bench(tmp_path, BASE.replace('metrics = ["psnr"]\n', "")))
    assert b.metrics == ("psnr", "ssim")


def test_protocol_table_applies_overrides(tmp_path, data):
    body = BASE.replace('protocol = "basicsr-rgb"', "").replace(
        "[datasets.syn]", '[protocol]\nname = "basicsr-y"\ncrop_border = 8\n[datasets.syn]')
    b = load_bench(write_bench(tmp_path, body))
    from vsrbench.metrics import get_protocol

    assert b.protocol.crop_border == 8 and b.protocol.hash != get_protocol("basicsr-y").hash


def test_reported_numbers_per_dataset_and_general(tmp_path, data):
    body = BASE.replace('outputs = { syn = "data/A" }',
                        'outputs = { syn = "data/A" }\nreported = { psnr = 27.37, syn = { ssim = 0.8 } }')
    m = load_bench(write_bench(tmp_path, body)).methods["A"]
    assert m.reported_for("syn") == {"psnr": 27.37, "ssim": 0.8} and m.reported_for("other") == {"psnr": 27.37}


def test_unknown_key_names_the_key_and_suggests_the_closest(tmp_path, data):
    body = BASE.replace("[methods.B]\noutputs", "[methods.B]\noutptus")
    with pytest.raises(BenchKeyError) as e:
        load_bench(write_bench(tmp_path, body))
    assert str(e.value) == (
        "bench.toml: unknown key 'methods.B.outptus'; did you mean 'methods.B.outputs'? (allowed in "
        "[methods.B]: outputs, model, command, callable, weights, device, options, datasets, reported, description)")
    assert isinstance(e.value, UnknownNameError)


def test_unknown_top_level_and_dataset_keys(tmp_path, data):
    assert bench_error(tmp_path, BASE.replace("metrics =", "metric =")) == (
        "bench.toml: unknown key 'metric'; did you mean 'metrics'? (allowed at the top level: name, description, "
        "protocol, metrics, metric_options, lpips_weights, datasets, methods)")
    assert bench_error(tmp_path, BASE.replace("scale = 4", "scael = 4")).startswith(
        "bench.toml: unknown key 'datasets.syn.scael'; did you mean 'datasets.syn.scale'?")


def test_unknown_names_suggest_the_closest(tmp_path, data):
    with pytest.raises(UnknownNameError):
        load_bench(write_bench(tmp_path, BASE.replace('["psnr"]', '["psnr", "tfo"]')))
    from vsrbench.metrics import METRICS

    scorable = sorted(m for m, i in METRICS.items() if not (i.model_run or i.human))  # not drift, not a user study
    assert {"psnr", "ssim", "lpips", "tof", "tlp", "ewarp"} <= set(scorable) and "human_bt" not in scorable
    assert bench_error(tmp_path, BASE.replace('["psnr"]', '["psnr", "tfo"]')) == (
        f"bench.toml: metrics[1]: unknown metric 'tfo'; did you mean 'tof'? (known: {', '.join(scorable)})")
    assert bench_error(tmp_path, BASE.replace('"basicsr-rgb"', '"tecogn"')).startswith(
        "bench.toml: protocol: unknown protocol 'tecogn'; did you mean 'tecogan'?")
    assert bench_error(tmp_path, BASE.replace('lr = "data/LR"', 'degradation = "bd-dfu"')).startswith(
        "bench.toml: datasets.syn.degradation: unknown degradation 'bd-dfu'; did you mean 'bd-duf'?")
    assert bench_error(tmp_path, BASE.replace('outputs = { syn = "data/B" }', 'model = "bicubc"')).startswith(
        "bench.toml: methods.B.model: unknown model 'bicubc'; did you mean 'bicubic'?")
    assert bench_error(tmp_path, BASE.replace('{ syn = "data/B" }', '{ sin = "data/B" }')).startswith(
        "bench.toml: methods.B.outputs.sin: unknown dataset 'sin'; did you mean 'syn'?")
    assert bench_error(tmp_path, BASE.replace("scale = 4", 'scale = 4\nsequences = ["s0", "S_1"]')) == (
        "bench.toml: datasets.syn.sequences[1]: unknown sequence 'S_1'; did you mean 's1'? (known: s0, s1, s2)")
    body = BASE.replace('protocol = "basicsr-rgb"', '[protocol]\nname = "tecogan"\ncrop_bordr = 8\n')
    body = body.replace('metrics = ["psnr"]\n', "")
    body = 'metrics = ["psnr"]\n' + body
    assert bench_error(tmp_path, body).startswith(
        "bench.toml: unknown key 'protocol.crop_bordr'; did you mean 'protocol.crop_border'?")


def test_missing_paths_name_the_key(tmp_path, data):
    assert bench_error(tmp_path, BASE.replace("data/GT", "data/GTX")) == (
        f"bench.toml: datasets.syn.gt: ground-truth folder not found: {str(tmp_path / 'data/GTX')!r}")
    assert bench_error(tmp_path, BASE.replace('"data/B"', '"data/C"')) == (
        f"bench.toml: methods.B.outputs.syn: outputs folder not found: {str(tmp_path / 'data/C')!r}")
    with pytest.raises(InputError, match=r"^benchmark file not found: '.*nope.toml'$"):
        load_bench(tmp_path / "nope.toml")


def test_method_shape_errors(tmp_path, data):
    assert bench_error(tmp_path, BASE.replace('outputs = { syn = "data/B" }', 'description = "x"')) == (
        "bench.toml: methods.B: give exactly one of outputs, model, command, callable (got none)")
    assert bench_error(tmp_path, BASE.replace('outputs = { syn = "data/B" }',
                                              'outputs = { syn = "data/B" }\nmodel = "bicubic"')) == (
        "bench.toml: methods.B: give exactly one of outputs, model, command, callable (got outputs, model)")
    assert bench_error(tmp_path, BASE.replace('outputs = { syn = "data/B" }',
                                              'outputs = { syn = "data/B" }\ndevice = "cpu"')) == (
        "bench.toml: methods.B.device: only applies to built-in models (model = ...), not to outputs")
    assert bench_error(tmp_path, BASE.replace('outputs = { syn = "data/B" }', 'command = "sr {lr}"')) == (
        "bench.toml: methods.B.command: the command must contain {out} (got 'sr {lr}')")
    assert bench_error(tmp_path, BASE.replace('outputs = { syn = "data/B" }', 'command = "sr {lr} {outt}"')) == (
        "bench.toml: methods.B.command: unknown placeholder 'outt'; did you mean 'out'? "
        "(known: dataset, lr, method, out, scale, sequence)")
    assert bench_error(tmp_path, BASE.replace('outputs = { syn = "data/B" }', 'callable = "mymodule.run"')) == (
        "bench.toml: methods.B.callable: expected \"module:function\" or \"file.py:function\", got 'mymodule.run'")
    assert bench_error(tmp_path, BASE.replace('lr = "data/LR"', "").replace(
        'outputs = { syn = "data/B" }', 'model = "bicubic"')) == (
        "bench.toml: methods.B: a model method needs LR frames, but datasets.syn has neither 'lr' nor 'degradation'")
    assert bench_error(tmp_path, BASE.replace("[methods.B]", "[methods.'B/x']")) == (
        "bench.toml: methods.B/x: name 'B/x' must start with a letter or digit and use only letters, digits "
        "and . _ + - (it becomes a folder name)")


def test_type_and_syntax_errors(tmp_path, data):
    assert bench_error(tmp_path, BASE.replace("scale = 4", 'scale = "4"')) == (
        "bench.toml: datasets.syn.scale: expected an integer, got a string ('4')")
    assert bench_error(tmp_path, BASE.replace("scale = 4", "scale = 0")) == (
        "bench.toml: datasets.syn.scale: expected an integer >= 1, got 0")
    assert bench_error(tmp_path, BASE.replace("scale = 4", "scale = 4\ndegradation = \"bd-duf\"")) == (
        "bench.toml: datasets.syn: give either 'lr' (LR frames) or 'degradation' (make them from GT), not both")
    assert bench_error(tmp_path, BASE + "\n[methods.C\n").startswith("bench.toml: not valid TOML (")
    assert bench_error(tmp_path, "name = 'x'\n") == (
        "bench.toml: datasets: at least one [datasets.NAME] table is required")
    assert bench_error(tmp_path, BASE.replace("scale = 4", "scale = 2").replace(
        'outputs = { syn = "data/B" }', 'model = "bicubic"')) == (
        "bench.toml: methods.B.model: model 'bicubic' upscales x4 but datasets.syn.scale is 2")


def test_cli_reports_a_bad_definition_in_one_line(tmp_path, data, capsys):
    path = write_bench(tmp_path, BASE.replace("metrics =", "metric ="))
    assert main(["run", str(path), "--out", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vsrbench run: error: bench.toml: unknown key 'metric'; did you mean 'metrics'?")
    assert err.count("\n") == 1 and not (tmp_path / "res").exists()


# ---------------------------------------------------------------------- running


def test_run_scores_outputs_like_scikit_image(tmp_path, data):
    summary = run_benchmark(write_bench(tmp_path, BASE), tmp_path / "res", device="cpu", progress=False)
    assert summary.ok and len(summary.scored) == 6 and not summary.missing
    df = load_results(tmp_path / "res")
    assert len(df) == 2 * 3 * N and set(df["metric"]) == {"psnr"}
    for method in "AB":
        for s in SEQS:
            got = df[(df.method == method) & (df.sequence == s)].sort_values("frame")
            assert got["frame"].tolist() == list(range(N))
            assert got["frame_name"].tolist() == [f"Frame {i:03d}.png" for i in range(1, N + 1)]
            np.testing.assert_allclose(got["value"], ref_psnr(data / "GT" / s, data / method / s), rtol=0, atol=1e-9)
    means = df.groupby("method")["value"].mean()
    assert means["A"] > means["B"] + 5


def test_run_record_holds_the_provenance(tmp_path, data):
    run_benchmark(write_bench(tmp_path, BASE), tmp_path / "res", device="cpu", progress=False)
    run = load_runs(tmp_path / "res").iloc[0]
    from vsrbench.metrics import METRICS, get_protocol

    assert run["status"] == "done" and run["device"] == "cpu" and run["bench_name"] == "bench"
    assert run["protocol"] == "basicsr-rgb" and run["protocol_hash"] == get_protocol("basicsr-rgb").hash
    assert run["protocol_fields"] == get_protocol("basicsr-rgb").to_dict()
    assert run["metric_versions"] == {"psnr": METRICS["psnr"].version}
    assert run["libraries"]["numpy"] == np.__version__ and set(run["libraries"]) >= {"torch", "opencv", "scikit-image"}
    assert run["bench"]["methods"]["A"]["outputs"] == {"syn": str(tmp_path / "data" / "A")}


def test_rerun_is_idempotent_and_skips_what_is_stored(tmp_path, data):
    bench = write_bench(tmp_path, BASE)
    run_benchmark(bench, tmp_path / "res", device="cpu", progress=False)
    before = load_results(tmp_path / "res")
    again = run_benchmark(bench, tmp_path / "res", device="cpu", progress=False)
    assert again.scored == [] and len(again.skipped) == 6
    assert load_results(tmp_path / "res").equals(before)


def test_missing_outputs_for_a_sequence_warn_and_the_rest_runs(tmp_path, data):
    import shutil

    shutil.rmtree(data / "B" / "s1")
    lines: list[str] = []
    summary = run_benchmark(write_bench(tmp_path, BASE), tmp_path / "res", device="cpu", progress=lines.append)
    assert summary.missing == [("B", "syn", "s1", f"no outputs for sequence 's1' in {str(data / 'B')!r}")]
    assert f"warning: [4/6] B syn/s1: no outputs for sequence 's1' in {str(data / 'B')!r}; skipped (no rows stored)" \
        in lines
    assert summary.ok and len(summary.scored) == 5
    df = load_results(tmp_path / "res")
    assert sorted(set(zip(df.method, df.sequence))) == [("A", s) for s in SEQS] + [("B", "s0"), ("B", "s2")]


def test_a_dataset_without_outputs_is_a_hole(tmp_path, data):
    # A lists "other" in its datasets but has no outputs for it: a hole; B (no datasets list) only
    # runs on the datasets its outputs table names (tests/test_trust_outputs.py).
    body = BASE.replace('[methods.A]\n', '[methods.A]\ndatasets = ["syn", "other"]\n') + \
        '[datasets.other]\ngt = "data/GT"\nsequences = ["s0"]\n'
    summary = run_benchmark(write_bench(tmp_path, body), tmp_path / "res", device="cpu", progress=False)
    assert [m[:3] for m in summary.missing] == [("A", "other", "s0")]
    assert summary.missing[0][3] == "no outputs folder given for dataset 'other'"


def test_frame_count_mismatch_fails_that_sequence_only(tmp_path, data, capsys):
    (data / "B" / "s2" / "006.png").unlink()
    assert main(["run", str(write_bench(tmp_path, BASE)), "--out", str(tmp_path / "res"), "--device", "cpu"]) == 1
    captured = capsys.readouterr()
    out, err = captured.out, captured.err.splitlines()
    assert re.fullmatch(r"\[1/6\] A syn/s0: psnr=[\d.]+ \(6 frames; outputs \d+\.\d s, scoring \d+\.\d s "
                        r"for 2 methods together; run ETA [\d:?]+\)", err[0]), err[0]
    assert ("warning: [6/6] B syn/s2: sequence 's2': GT has 6 frames but the output has 5; "
            "skipped (no rows stored)") in err  # methods of a sequence are scored together: s2's lines come last
    assert err[-2:] == sorted(err[-2:], key=lambda line: "warning" not in line)
    assert "5 sequence(s) scored, 0 already stored, 0 without outputs, 1 failed" in out
    assert "failed: B/syn/s2: sequence 's2': GT has 6 frames but the output has 5" in out


def test_interrupted_run_resumes_without_duplicates_or_losses(tmp_path, data, monkeypatch):
    from vsrbench.results.store import ResultsStore

    bench, res = write_bench(tmp_path, BASE), tmp_path / "res"
    real_add = ResultsStore.add_sequence
    calls = []

    def add_then_interrupt(self, run_id, result):
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C while the third sequence is being stored
        calls.append(result.sequence)
        return real_add(self, run_id, result)

    monkeypatch.setattr(ResultsStore, "add_sequence", add_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(bench, res, device="cpu", progress=False)
    partial = load_results(res)  # methods of a sequence are scored together: A/s0 and B/s0 were stored
    assert sorted(set(zip(partial.method, partial.sequence))) == [("A", "s0"), ("B", "s0")] and len(partial) == 2 * N
    assert load_runs(res)["status"].tolist() == ["interrupted"]

    monkeypatch.setattr(ResultsStore, "add_sequence", real_add)
    summary = run_benchmark(bench, res, device="cpu", progress=False)
    assert len(summary.skipped) == 2 and len(summary.scored) == 4
    full = load_results(res)
    assert len(full) == 6 * N and not full.duplicated(["method", "sequence", "frame", "metric"]).any()
    assert full.head(2 * N).equals(partial)  # what was committed before the interruption is untouched


def test_a_protocol_change_adds_rows_beside_the_old_ones(tmp_path, data):
    res = tmp_path / "res"
    run_benchmark(write_bench(tmp_path, BASE), res, device="cpu", progress=False)
    rgb = load_results(res)
    summary = run_benchmark(write_bench(tmp_path, BASE.replace("basicsr-rgb", "basicsr-y")), res,
                            device="cpu", progress=False)
    assert len(summary.scored) == 6
    both = load_results(res)
    assert len(both) == 2 * len(rgb) and set(both.protocol) == {"basicsr-rgb", "basicsr-y"}
    assert load_results(res, protocol="basicsr-rgb").equals(rgb)
    # Y-PSNR differs from RGB-PSNR: they are different results, not an overwrite
    y = load_results(res, protocol="basicsr-y")
    assert not np.allclose(y["value"].to_numpy(), rgb["value"].to_numpy())


def test_a_new_metric_scores_only_that_metric(tmp_path, data):
    res = tmp_path / "res"
    run_benchmark(write_bench(tmp_path, BASE), res, device="cpu", progress=False)
    psnr = load_results(res)
    summary = run_benchmark(write_bench(tmp_path, BASE.replace('["psnr"]', '["psnr", "ssim"]')), res,
                            device="cpu", progress=False)
    assert len(summary.scored) == 6
    df = load_results(res)
    assert df[df.metric == "psnr"].reset_index(drop=True).equals(psnr)
    assert (df.metric == "ssim").sum() == 6 * N


# ---------------------------------------------------------------------- generated outputs

CALLABLE = """
import os, time
import numpy as np

def nearest(frames):
    return [np.repeat(np.repeat(f, 4, axis=0), 4, axis=1) for f in frames]

def half_float(frames):  # float output in [0, 1] units, partly out of range
    return [np.repeat(np.repeat(f, 4, axis=0), 4, axis=1) / 255.0 * 1.25 - 0.1 for f in frames]

def broken(frames):
    raise RuntimeError("model exploded")

def slow_on_s2(frames):
    if os.environ.get("SLOW_SEQ") and frames[0].mean() == float(os.environ["SLOW_MEAN"]):
        open(os.environ["SLOW_SEQ"], "w").close()
        time.sleep(120)
    return nearest(frames)
"""


def callable_bench(tmp_path, func: str, extra: str = "") -> Path:
    (tmp_path / "my_sr.py").write_text(CALLABLE)
    return write_bench(tmp_path, BASE.replace('outputs = { syn = "data/B" }', f'callable = "my_sr.py:{func}"') + extra)


def test_callable_outputs_are_written_and_scored(tmp_path, data):
    res = tmp_path / "res"
    summary = run_benchmark(callable_bench(tmp_path, "nearest"), res, device="cpu", progress=False)
    assert summary.ok
    out = res / "outputs" / "B" / "syn" / "s1"
    assert sorted(p.name for p in out.iterdir()) == [f"{i:03d}.png" for i in range(1, N + 1)]
    lr = decode_image(data / "LR" / "s1" / "002.png")
    np.testing.assert_array_equal(decode_image(out / "002.png"), np.kron(lr, np.ones((4, 4, 1), np.uint8)))
    df = load_results(res)
    got = df[(df.method == "B") & (df.sequence == "s1")].sort_values("frame")["value"]
    np.testing.assert_allclose(got, ref_psnr(data / "GT" / "s1", out), atol=1e-9)


def test_float_outputs_are_rounded_and_clipped(tmp_path, data):
    res = tmp_path / "res"
    run_benchmark(callable_bench(tmp_path, "half_float"), res, device="cpu", progress=False)
    lr = decode_image(data / "LR" / "s0" / "001.png")
    x = np.repeat(np.repeat(lr, 4, axis=0), 4, axis=1) / 255.0 * 1.25 - 0.1  # what the callable returns
    expect = np.clip(np.rint(x * 255.0), 0, 255)  # BasicSR: * 255, round half to even, clip
    np.testing.assert_array_equal(decode_image(res / "outputs" / "B" / "syn" / "s0" / "001.png"), expect)


def test_a_failing_callable_fails_its_sequences_and_the_rest_runs(tmp_path, data):
    summary = run_benchmark(callable_bench(tmp_path, "broken"), tmp_path / "res", device="cpu", progress=False)
    assert not summary.ok and len(summary.scored) == 3
    assert summary.failed[0] == ("B", "syn", "s0", "callable failed: RuntimeError: model exploded")
    assert not (tmp_path / "res" / "outputs" / "B" / "syn" / "s0").exists()
    assert not any((tmp_path / "res" / "outputs" / "B" / "syn").iterdir())  # temporary folders removed


def test_an_unimportable_callable_is_reported(tmp_path, data):
    summary = run_benchmark(callable_bench(tmp_path, "nope"), tmp_path / "res", device="cpu", progress=False)
    assert summary.failed[0][3] == "methods.B.callable: 'my_sr.py' has no callable 'nope'"


SCRIPT = """
import sys
from pathlib import Path
import cv2, numpy as np
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
with open(Path(sys.argv[3]), "a") as log:
    log.write(src.name + "\\n")
for p in sorted(src.iterdir()):
    img = cv2.imread(str(p))
    cv2.imwrite(str(dst / ("out_" + p.name)), np.repeat(np.repeat(img, 4, axis=0), 4, axis=1))
"""


def test_command_outputs_are_made_once_and_reused(tmp_path, data):
    (tmp_path / "sr.py").write_text(SCRIPT)
    body = BASE.replace('outputs = { syn = "data/B" }',
                        f'command = "{sys.executable} sr.py {{lr}} {{out}} calls.txt"')
    body = body.replace("scale = 4", 'scale = 4\nsequences = ["s2"]')
    res = tmp_path / "res"
    assert run_benchmark(write_bench(tmp_path, body), res, device="cpu", progress=False).ok
    out = res / "outputs" / "B" / "syn" / "s2"
    assert len(list(out.iterdir())) == N
    np.testing.assert_allclose(load_results(res).query("method == 'B'")["value"],
                               ref_psnr(data / "GT" / "s2", out), atol=1e-9)
    # a different protocol re-scores but reuses the outputs: the command ran once
    run_benchmark(write_bench(tmp_path, body.replace("basicsr-rgb", "basicsr-y")), res, device="cpu", progress=False)
    assert (tmp_path / "calls.txt").read_text() == "s2\n"
    assert (res / "logs" / "B" / "syn" / "s2.log").read_text().startswith(f"$ {sys.executable} sr.py ")


def test_a_failing_command_is_reported_with_its_log(tmp_path, data):
    body = BASE.replace('outputs = { syn = "data/B" }',
                        'command = "echo trying {lr} > /dev/null; echo out of memory >&2; exit 3; {out}"')
    summary = run_benchmark(write_bench(tmp_path, body), tmp_path / "res", device="cpu", progress=False)
    log = tmp_path / "res" / "logs" / "B" / "syn" / "s0.log"
    assert summary.failed[0] == ("B", "syn", "s0", f"command exited with status 3: out of memory (log: {log})")
    assert len(summary.scored) == 3


def test_degraded_lr_is_cached_as_png(tmp_path, data):
    from vsrbench.baselines.degrade import degrade_uint8

    body = BASE.replace('lr = "data/LR"', 'degradation = "bd-duf"').replace(
        "scale = 4", 'scale = 4\nsequences = ["s0"]')
    (tmp_path / "my_sr.py").write_text(CALLABLE)
    body = body.replace('outputs = { syn = "data/B" }', 'callable = "my_sr.py:nearest"')
    res = tmp_path / "res"
    assert run_benchmark(write_bench(tmp_path, body), res, device="cpu", progress=False).ok
    cache = res / "lr" / "syn" / "bd-duf-x4" / "s0"
    assert sorted(p.name for p in cache.iterdir()) == [f"Frame {i:03d}.png" for i in range(1, N + 1)]
    gt = decode_image(data / "GT" / "s0" / "Frame 003.png")
    np.testing.assert_array_equal(decode_image(cache / "Frame 003.png"), degrade_uint8(gt, "bd-duf", 4))


class _Nearest(SRModel):
    """A test model: nearest-neighbour x4 in [0, 1] float units, loading a tiny weights file."""

    def __init__(self, weights, device):
        self.weights_path = weights
        self.device = device

    def upscale(self, frames):
        for f in frames:
            yield np.kron(f.astype(np.float32) / 255.0, np.ones((4, 4, 1), np.float32))


def test_builtin_model_method_records_its_weights(tmp_path, data, monkeypatch):
    weights = tmp_path / "nearest.bin"
    weights.write_bytes(b"\x00\x01fixed test weights")
    spec = ModelSpec("test-nearest", "nearest x4", lambda weights=None, device="cpu": _Nearest(weights, device))
    monkeypatch.setitem(MODELS, "test-nearest", spec)
    body = BASE.replace('outputs = { syn = "data/B" }', 'model = "test-nearest"\nweights = "nearest.bin"')
    res = tmp_path / "res"
    assert run_benchmark(write_bench(tmp_path, body), res, device="cpu", progress=False).ok
    lr = decode_image(data / "LR" / "s2" / "004.png")
    np.testing.assert_array_equal(decode_image(res / "outputs" / "B" / "syn" / "s2" / "004.png"),
                                  np.kron(lr, np.ones((4, 4, 1), np.uint8)))
    record = load_runs(res).iloc[0]["weights"]
    assert record == {"B": {"path": str(weights), "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}}


def test_bicubic_model_method_runs(tmp_path, data):
    body = BASE.replace('outputs = { syn = "data/B" }', 'model = "bicubic"').replace(
        "scale = 4", 'scale = 4\nsequences = ["s0"]')
    res = tmp_path / "res"
    summary = run_benchmark(write_bench(tmp_path, body), res, device="cpu", progress=False)
    assert summary.ok
    out = open_sequence(res / "outputs" / "B" / "syn" / "s0")
    assert len(out) == N and out[0].shape == (H, W, 3)
    assert load_runs(res).iloc[0]["weights"]["B"]["sha256"] is None


@pytest.mark.slow
def test_killed_process_loses_only_the_unfinished_sequence(tmp_path, data):
    """A real `vsrbench run` killed with SIGKILL while a method works on the third sequence."""
    marker = tmp_path / "s2.started"
    s2_mean = float(np.mean(decode_image(data / "LR" / "s2" / "001.png")))
    bench, res = callable_bench(tmp_path, "slow_on_s2"), tmp_path / "res"
    env = {**os.environ, "SLOW_SEQ": str(marker), "SLOW_MEAN": repr(s2_mean)}
    proc = subprocess.Popen([sys.executable, "-m", "vsrbench", "run", str(bench), "--out", str(res), "--device", "cpu"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), proc.stderr.read().decode() if proc.poll() is not None else "timed out"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with sqlite3.connect(res / STORE_FILENAME) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    partial = load_results(res)
    # the methods of a sequence are scored together, so s2 is lost for both (A's outputs are precomputed)
    assert sorted(set(zip(partial.method, partial.sequence))) == [("A", "s0"), ("A", "s1"), ("B", "s0"), ("B", "s1")]
    assert load_runs(res)["status"].tolist() == ["running"]  # killed: never finished
    assert not (res / "outputs" / "B" / "syn" / "s2").exists()  # no half-written outputs to reuse

    summary = run_benchmark(bench, res, device="cpu", progress=False)
    assert summary.scored == [("A", "syn", "s2"), ("B", "syn", "s2")] and len(summary.skipped) == 4
    full = load_results(res)
    assert len(full) == 6 * N and not full.duplicated(["method", "sequence", "frame"]).any()


# ---------------------------------------------------------------------- real data


def tecogan_psnr_reference(gt: np.ndarray, out: np.ndarray) -> float:
    """TecoGAN's PSNR written out from the spec: float64 BT.601 studio Y, crop_8x8, 255 peak."""
    def y(a):
        a = a.astype(np.float64)
        return 16 + 0.256788235294118 * a[..., 0] + 0.504129411764706 * a[..., 1] + 0.097905882352941 * a[..., 2]

    def window(length):
        keep = (length // 32) * 32
        while keep > length - 16:
            keep -= 32
        start = (length - keep) // 2
        return slice(start, start + keep)

    h, w = gt.shape[:2]
    cut = (window(h), window(w))
    mse = np.mean((y(gt)[cut] - y(out[:h, :w])[cut]) ** 2)
    return 20 * np.log10(255.0 / np.sqrt(mse))


@pytest.mark.slow
def test_vid4_duf_52l_beats_duf_16l(tmp_path):
    vid4 = shared_path("data", "vid4")
    body = f"""
    name = "vid4-duf"
    protocol = "tecogan"
    metrics = ["psnr", "ssim"]
    [datasets.vid4]
    gt = "{vid4 / 'GT'}"
    sequences = ["calendar", "city"]
    [methods.DUF-16L]
    outputs = {{ vid4 = "{vid4 / 'DUF-16L'}" }}
    [methods.DUF-52L]
    outputs = {{ vid4 = "{vid4 / 'DUF-52L'}" }}
    """
    res = tmp_path / "res"
    summary = run_benchmark(write_bench(tmp_path, body), res, device="cpu", progress=False)
    assert summary.ok and len(summary.scored) == 4
    df = load_results(res)
    means = df.groupby(["method", "sequence", "metric"])["value"].mean()
    for s in ("calendar", "city"):
        assert means[("DUF-52L", s, "psnr")] > means[("DUF-16L", s, "psnr")]
        assert means[("DUF-52L", s, "ssim")] > means[("DUF-16L", s, "ssim")]
    assert sorted(set(df[df.metric == "psnr"].frame)) == list(range(2, 8))  # 10 frames, 2 cut at each end
    row = df[(df.method == "DUF-52L") & (df.sequence == "city") & (df.metric == "psnr") & (df.frame == 4)]
    assert row["frame_name"].item() == "Frame 005.png"
    gt = decode_image(vid4 / "GT" / "city" / "Frame 005.png")
    out = decode_image(vid4 / "DUF-52L" / "city" / "Frame005.png")
    assert abs(row["value"].item() - tecogan_psnr_reference(gt, out)) < 1e-6


def test_runner_speed(tmp_path, data, benchmark):
    """Frames/s of a whole run (3 sequences x 2 methods, PSNR; fresh results folder each round)."""
    bench = load_bench(write_bench(tmp_path, BASE))
    rounds = iter(range(10**6))

    def run():
        return run_benchmark(bench, tmp_path / f"res{next(rounds)}", device="cpu", progress=False)

    assert len(benchmark(run).scored) == 6


def test_an_unavailable_cuda_device_stops_the_run_at_once(tmp_path, data, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["run", str(write_bench(tmp_path, BASE)), "--out", str(tmp_path / "res"), "--device", "cuda"]) == 2
    assert capsys.readouterr().err == ("vsrbench run: error: device 'cuda' requested but no CUDA device is available "
                                       "(use 'cpu' or 'auto')\n")
    assert not (tmp_path / "res").exists()
    with pytest.raises(InputError, match=r"^device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'$"):
        run_benchmark(write_bench(tmp_path, BASE), tmp_path / "res", device="gpu")


def test_a_model_that_cannot_load_fails_its_method_once(tmp_path, data):
    body = BASE.replace('outputs = { syn = "data/B" }', 'model = "duf-16l"')
    lines: list[str] = []
    summary = run_benchmark(write_bench(tmp_path, body), tmp_path / "res", device="cpu", progress=lines.append)
    assert len(summary.scored) == 3 and [f[:3] for f in summary.failed] == [("B", "syn", s) for s in SEQS]
    reason = summary.failed[0][3]
    assert reason.startswith("cannot load model 'duf-16l': weights file ") and "not found" in reason
    assert all(f[3] == reason for f in summary.failed)
    assert sum(line.startswith("loading model") for line in lines) == 1


def test_missing_lpips_weights_stop_the_run_with_one_line(tmp_path, data, capsys):
    body = BASE.replace('metrics = ["psnr"]', 'metrics = ["psnr", "lpips"]')
    res = tmp_path / "res"
    assert main(["run", str(write_bench(tmp_path, body)), "--out", str(res), "--device", "cpu", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vsrbench run: error: ") and "alexnet" in err and err.count("\n") == 1
    assert load_runs(res)["status"].tolist() == ["failed"] and load_results(res).empty


# ---------------------------------------------------------------------- changed definitions

def test_a_method_whose_definition_changed_is_refused_not_served_stale(tmp_path, data, capsys):
    res = tmp_path / "res"
    assert main(["run", str(write_bench(tmp_path, BASE)), "--out", str(res)]) == 0
    changed = BASE.replace('[methods.B]\noutputs = { syn = "data/B" }', '[methods.B]\noutputs = { syn = "data/A" }')
    capsys.readouterr()
    assert main(["run", str(write_bench(tmp_path, changed, "changed.toml")), "--out", str(res)]) == 2
    err = capsys.readouterr().err
    assert err == (f"vsrbench run: error: method 'B' was run into {str(res)!r} with a different outputs.syn; "
                   "its stored outputs and scores belong to that definition: give it a new name or use a new "
                   "results folder\n")
    # the stored results are untouched: B still has its own (worse) numbers
    df = load_results(res)
    means = df[df.metric == "psnr"].groupby("method")["value"].mean()
    assert means["A"] > means["B"]


def test_fields_that_do_not_change_frames_may_change(tmp_path, data):
    res = tmp_path / "res"
    assert main(["run", str(write_bench(tmp_path, BASE)), "--out", str(res)]) == 0
    body = BASE.replace('[methods.B]\noutputs = { syn = "data/B" }',
                        '[methods.B]\noutputs = { syn = "data/B" }\nreported = { psnr = 30.0 }\ndescription = "noisy"')
    assert main(["run", str(write_bench(tmp_path, body, "b2.toml")), "--out", str(res)]) == 0
    recorded = json.loads((res / "definitions.json").read_text())
    assert recorded["methods"]["B"]["outputs"] == {"syn": str(data / "B")}


def test_a_results_path_that_is_a_file_is_one_line(tmp_path, data, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["run", str(write_bench(tmp_path, BASE)), "--out", str(tmp_path / "notes.txt")]) == 2
    assert capsys.readouterr().err == (f"vsrbench run: error: results folder {str(tmp_path / 'notes.txt')!r} is a "
                                       "file, not a folder\n")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_output_equal_to_gt_logs_psnr_inf_not_nan(tmp_path, data):
    """PSNR of identical frames is +inf and means leave it out; the log line says so instead of 'nan'."""
    body = BASE + '[methods.Copy]\noutputs = { syn = "data/GT" }\n'
    lines: list[str] = []
    run_benchmark(write_bench(tmp_path, body), tmp_path / "res", device="cpu", progress=lines.append)
    copy = [x for x in lines if " Copy syn/s0: " in x]
    assert len(copy) == 1 and "psnr=inf (identical frames) (6 frames;" in copy[0], lines
    assert not any("psnr=nan" in x for x in lines)
