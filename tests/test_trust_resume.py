"""Resuming `vsrbench run` never mixes results made with different weights files.

Stored LPIPS/tLP scores belong to the LPIPS files (backbone, linear layers) their run recorded in
``runs.weights``; stored outputs of a built-in model method belong to its weights file. A later run
into the same folder whose file has another sha256 is refused in one line before anything is
written; the same files resume as before, and a changed file nothing stored depends on is fine.
Backbones are seeded random AlexNets (accepted as unverified), never torchvision's real file.
"""
from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from vsrbench.baselines import MODELS, ModelSpec, SRModel
from vsrbench.cli import main
from vsrbench.core.io import write_frame
from vsrbench.metrics.lpips import _backbone
from vsrbench.runner import run_benchmark
from vsrbench.results.store import ResultsStore
from vsrbench.results.loading import load_results, load_runs

ALEX = "alexnet-owt-7be5be79.pth"
H, W, N = 48, 64, 4
SEQS = ("s0", "s1")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def random_alex(path: Path, seed: int) -> Path:
    """AlexNet features with seeded random weights in torchvision's key layout (not the published file)."""
    torch.manual_seed(seed)
    feats, _, _ = _backbone("alex")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({f"features.{k}": v for k, v in feats.state_dict().items()}, path)
    return path


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """GT and one method's outputs (two sequences), and two different backbones A and B."""
    monkeypatch.setenv("VSRBENCH_UNVERIFIED_WEIGHTS", "1")
    rng = np.random.default_rng(0)
    for s in SEQS:
        for i in range(N):
            gt = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
            write_frame(tmp_path / "data" / "GT" / s / f"{i:03d}.png", gt)
            write_frame(tmp_path / "data" / "LR" / s / f"{i:03d}.png", gt[::4, ::4])
            noisy = np.clip(gt + rng.normal(0, 8, gt.shape), 0, 255).round().astype(np.uint8)
            write_frame(tmp_path / "data" / "X" / s / f"{i:03d}.png", noisy)
    random_alex(tmp_path / "A" / ALEX, seed=1)
    random_alex(tmp_path / "B" / ALEX, seed=2)
    return tmp_path


def bench(root: Path, metrics: str, backbone: str | None, name: str = "bench.toml",
          protocol: str = "basicsr-rgb", extra: str = "") -> Path:
    path = root / name
    lp = f'lpips_weights = "{backbone}"\n' if backbone else ""
    path.write_text(textwrap.dedent(f"""\
        protocol = "{protocol}"
        metrics = [{metrics}]
        """) + lp + textwrap.dedent("""\
        [datasets.syn]
        gt = "data/GT"
        lr = "data/LR"
        scale = 4
        [methods.X]
        outputs = { syn = "data/X" }
        """) + extra)
    return path


def cli_run(path: Path, res: Path) -> int:
    return main(["run", str(path), "--out", str(res), "--device", "cpu", "--quiet"])


def lpips_refusal(res: Path, metrics: str, run: int, old: Path, new: Path) -> str:
    return (f"vsrbench run: error: {metrics} scores stored in {str(res)!r} were computed (run {run}) with LPIPS "
            f"backbone sha256 {sha(old)[:12]} ({str(old)!r}), this run's {str(new)!r} has sha256 "
            f"{sha(new)[:12]}: scores of two files must not be mixed; use the same file again, or another --out "
            f"(or move {str(res)!r} away) to score everything with the new one\n")


def snapshot(res: Path) -> tuple[pd.DataFrame, int]:
    return load_results(res, metric_versions="all"), len(load_runs(res))


# ---------------------------------------------------------------------- the LPIPS files

def test_another_backbone_is_refused_in_one_line_and_nothing_changes(root, capsys):
    a, b, res = root / "A" / ALEX, root / "B" / ALEX, root / "res"
    assert cli_run(bench(root, '"psnr", "lpips", "tlp"', "A"), res) == 0
    before, runs = snapshot(res)
    assert set(before.metric) == {"psnr", "lpips", "tlp"}
    assert load_runs(res).iloc[0]["weights"]["lpips:backbone"]["sha256"] == sha(a)
    capsys.readouterr()
    # a second method would be scored with B and compared with X's scores made with A
    extra = '[methods.Y]\noutputs = { syn = "data/X" }\n'
    assert cli_run(bench(root, '"psnr", "lpips", "tlp"', "B", "b.toml", extra=extra), res) == 2
    out, err = capsys.readouterr()
    assert err == lpips_refusal(res, "lpips/tlp", 1, a, b) and out == ""
    after, runs_after = snapshot(res)
    pd.testing.assert_frame_equal(after, before)
    assert runs_after == runs  # refused before a run record is written
    assert not (res / "outputs" / "Y").exists()


def test_a_changed_file_at_the_same_path_is_refused(root, capsys):
    res = root / "res"
    a = root / "A" / ALEX
    assert cli_run(bench(root, '"lpips"', "A"), res) == 0
    old = sha(a)
    random_alex(a, seed=3)  # same path, other content
    capsys.readouterr()
    assert cli_run(bench(root, '"lpips"', "A"), res) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"LPIPS backbone sha256 {old[:12]} ({str(a)!r}), this run's {str(a)!r} has sha256 {sha(a)[:12]}" in err


def test_the_same_backbone_resumes(root):
    res = root / "res"
    assert run_benchmark(bench(root, '"psnr", "lpips"', "A"), res, device="cpu", progress=False).ok
    before = load_results(res)
    again = run_benchmark(bench(root, '"psnr", "lpips"', "A"), res, device="cpu", progress=False)
    assert again.ok and len(again.skipped) == len(SEQS) and not again.scored
    extra = '[methods.Y]\noutputs = { syn = "data/X" }\n'  # a new method is scored, with the same files
    more = run_benchmark(bench(root, '"psnr", "lpips"', "A", "y.toml", extra=extra), res, device="cpu", progress=False)
    assert more.ok and sorted(k[0] for k in more.scored) == ["Y", "Y"]
    df = load_results(res)
    pd.testing.assert_frame_equal(df[df.method == "X"].reset_index(drop=True), before)
    x = df[(df.method == "X") & (df.metric == "lpips")]["value"].to_numpy()
    y = df[(df.method == "Y") & (df.metric == "lpips")]["value"].to_numpy()
    np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-6)  # same frames, same files: same scores


def test_a_backbone_nothing_stored_depends_on_may_change(root, capsys):
    """psnr only first: no LPIPS score is stored, so any backbone may score LPIPS next; from then on it is the one."""
    res = root / "res"
    assert cli_run(bench(root, '"psnr"', "A"), res) == 0
    assert "lpips:backbone" not in load_runs(res).iloc[0]["weights"]
    assert cli_run(bench(root, '"psnr", "lpips"', "B", "b.toml"), res) == 0
    assert set(load_results(res).metric) == {"psnr", "lpips"}
    capsys.readouterr()
    assert cli_run(bench(root, '"psnr", "lpips"', "A", "a.toml"), res) == 2
    assert capsys.readouterr().err == lpips_refusal(res, "lpips", 2, root / "B" / ALEX, root / "A" / ALEX)
    # psnr alone uses no LPIPS file: still fine
    assert cli_run(bench(root, '"psnr"', "A", "p.toml"), res) == 0


def test_another_protocol_keeps_its_scores_apart(root):
    """Scores of another protocol hash are stored beside the old ones, never reused: no refusal."""
    res = root / "res"
    assert run_benchmark(bench(root, '"lpips"', "A"), res, device="cpu", progress=False).ok
    assert run_benchmark(bench(root, '"lpips"', "B", "t.toml", protocol="basicsr-y"), res, device="cpu",
                         progress=False).ok
    assert load_results(res).groupby("protocol").size().to_dict() == {"basicsr-rgb": N * len(SEQS),
                                                                       "basicsr-y": N * len(SEQS)}


def test_a_killed_run_has_recorded_its_backbone(root, capsys, monkeypatch):
    """The files are recorded when the run starts, not only at its end: a run that never reaches its
    end (killed) still says what its stored rows were made with."""
    res = root / "res"
    monkeypatch.setattr(ResultsStore, "finish_run", lambda self, *a, **k: None)  # as if killed after its rows
    assert run_benchmark(bench(root, '"lpips"', "A"), res, device="cpu", progress=False).status == "done"
    monkeypatch.undo()
    monkeypatch.setenv("VSRBENCH_UNVERIFIED_WEIGHTS", "1")
    run = load_runs(res).iloc[0]
    assert run["status"] == "running" and run["weights"]["lpips:backbone"]["sha256"] == sha(root / "A" / ALEX)
    capsys.readouterr()
    assert cli_run(bench(root, '"lpips"', "B", "b.toml"), res) == 2
    assert capsys.readouterr().err == lpips_refusal(res, "lpips", 1, root / "A" / ALEX, root / "B" / ALEX)


# ---------------------------------------------------------------------- a model method's weights

class _Nearest(SRModel):
    """Nearest-neighbour x4 that 'loads' a weights file: its first byte is added to every pixel."""

    def __init__(self, weights, device):
        self.weights_path = weights
        self.offset = Path(weights).read_bytes()[0]

    def upscale(self, frames):
        for f in frames:
            if self.offset == 255:  # "broken weights": no frames at all
                return
            yield np.clip(np.kron(f.astype(np.float32), np.ones((4, 4, 1), np.float32)) + self.offset, 0, 255) / 255


@pytest.fixture
def nearest(monkeypatch):
    monkeypatch.setitem(MODELS, "test-nearest", ModelSpec(
        "test-nearest", "nearest x4", lambda weights=None, device="cpu": _Nearest(weights, device)))


MODEL = '[methods.M]\nmodel = "test-nearest"\nweights = "m.bin"\n'


def test_changed_model_weights_are_refused(root, nearest, capsys):
    res, weights = root / "res", root / "m.bin"
    weights.write_bytes(b"\x00first weights")
    first = sha(weights)
    assert cli_run(bench(root, '"psnr"', None, extra=MODEL), res) == 0
    before, runs = snapshot(res)
    assert load_runs(res).iloc[0]["weights"]["M"]["sha256"] == first
    weights.write_bytes(b"\x05other weights, other size")
    capsys.readouterr()
    assert cli_run(bench(root, '"psnr", "ssim"', None, extra=MODEL), res) == 2
    assert capsys.readouterr().err == (
        f"vsrbench run: error: method 'M': its outputs and scores stored in {str(res)!r} were made (run 1) with "
        f"weights sha256 {first[:12]}, but {str(weights)!r} now has sha256 {sha(weights)[:12]}; restore that "
        f"file, or give the method a new name, or use another --out (or move {str(res)!r} away) to run it with "
        "the new file\n")
    after, runs_after = snapshot(res)
    pd.testing.assert_frame_equal(after, before)
    assert runs_after == runs
    # the same file again resumes (ssim is added, from the stored outputs)
    weights.write_bytes(b"\x00first weights")
    assert cli_run(bench(root, '"psnr", "ssim"', None, extra=MODEL), res) == 0
    assert set(load_results(res).query("method == 'M'").metric) == {"psnr", "ssim"}


def test_model_weights_nothing_stored_depends_on_may_change(root, nearest):
    """A first run whose model loaded but stored nothing (every sequence failed) leaves nothing made
    with its file: the next run may use a fixed file."""
    res, weights = root / "res", root / "m.bin"
    weights.write_bytes(b"\xffbroken weights")  # this model yields no frames with it
    failed = run_benchmark(bench(root, '"psnr"', None, extra=MODEL), res, device="cpu", progress=False)
    assert sorted(k[0] for k in failed.failed) == ["M", "M"] and not any((res / "outputs" / "M").glob("*/*"))
    assert load_runs(res).iloc[0]["weights"]["M"]["sha256"] == sha(weights)
    weights.write_bytes(b"\x03fixed weights")
    fixed = run_benchmark(bench(root, '"psnr"', None, extra=MODEL), res, device="cpu", progress=False)
    assert fixed.ok and sorted(k[0] for k in fixed.scored) == ["M", "M"]
    assert load_runs(res).iloc[-1]["weights"]["M"]["sha256"] == sha(weights)


def test_evaluate_refuses_lpips_of_another_backbone_beside_other_methods(root, capsys):
    """Two evaluate runs into one folder, methods A and B, with different LPIPS backbones: B's LPIPS
    would be ranked against A's, made with another network. Refused like vsrbench run refuses it."""
    res = root / "res"
    base = ["evaluate", "--gt", str(root / "data" / "GT"), "--pred", str(root / "data" / "X"), "--out", str(res),
            "--protocol", "basicsr-rgb", "--metrics", "psnr,lpips", "--device", "cpu"]
    assert main([*base, "--method", "A", "--lpips-weights", str(root / "A" / ALEX)]) == 0
    before = load_results(res)
    capsys.readouterr()
    assert main([*base, "--method", "B", "--lpips-weights", str(root / "B" / ALEX)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"vsrbench evaluate: error: lpips scores stored in {str(res)!r} were computed (run 1) with "
                          f"LPIPS backbone sha256 {sha(root / 'A' / ALEX)[:12]}"), err
    pd.testing.assert_frame_equal(load_results(res), before)  # nothing stored, nothing lost
    assert main([*base, "--method", "B", "--lpips-weights", str(root / "A" / ALEX)]) == 0  # the same file: fine
