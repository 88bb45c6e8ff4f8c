"""The README's paper workflow end to end, on small look-alikes of REDS4, Vimeo-90K-T and Vid4:
three suites scored into one results folder, each under its own convention (checked against
independent formulas: scikit-image PSNR in RGB for REDS4, BasicSR's Y on im4 for Vimeo), then the
table with published rows (LaTeX that compiles), explain on the store and compare."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from vsrbench.catalog import suites
from vsrbench.cli import main
from vsrbench.core.io import write_frame
from vsrbench.results.loading import load_results

SIZE = (48, 64)


def frames(rng, n: int, noise: float):
    gt, out = [], []
    for _ in range(n):
        g = rng.integers(30, 220, SIZE + (3,)).astype(np.float64)
        g = (g + np.roll(g, 1, 0) + np.roll(g, 1, 1)) / 3  # a little spatial correlation
        gt.append(np.round(g).astype(np.uint8))
        out.append(np.clip(np.round(g + rng.normal(0, noise, g.shape)), 0, 255).astype(np.uint8))
    return gt, out


def y_basicsr(img: np.ndarray) -> np.ndarray:
    """BasicSR's to_y_channel: float32 on [0, 1], 65.481/128.553/24.966, + 16."""
    x = img.astype(np.float32) / 255.0
    return (x @ np.array([65.481, 128.553, 24.966], np.float32) + 16.0).astype(np.float64)


@pytest.fixture
def workflow(tmp_path, rng, monkeypatch):
    """Look-alike suites (fewer frames, smaller frames, fewer Vimeo clips) and their data for two methods."""
    small = {
        "reds4": suites.get_suite("reds4").lookalike(frames=3, size=SIZE),
        "vimeo90k-t": suites.get_suite("vimeo90k-t").lookalike(size=SIZE, clips=("00001/0266", "00001/0268")),
        "vid4": suites.get_suite("vid4").lookalike(frames=4, size=SIZE),
    }
    for name, suite in small.items():
        monkeypatch.setitem(suites.SUITES, name, suite)
    refs = {}
    for name, suite in small.items():
        layout = suite.layouts[0]
        root = tmp_path / name / "GT" / ("sequences" if name == "vimeo90k-t" else "")
        for k, clip in enumerate(suite.names):
            n = 7 if name == "vimeo90k-t" else suite.sequence(clip).frames
            gt, mine = frames(rng, n, 3.0)
            _, other = frames(rng, n, 9.0)
            for i in range(n):
                fname = f"im{i + 1}.png" if name == "vimeo90k-t" else layout.frame_name(i)
                write_frame(root / clip / fname, gt[i])
                for method, out in (("Mine", mine), ("Other", other)):
                    if name == "vimeo90k-t" and method == "Mine" and i != 3:
                        continue  # Mine gives Vimeo outputs as im4 only
                    sub = tmp_path / name / method / ("sequences" if name == "vimeo90k-t" else "")
                    write_frame(sub / clip / fname, out[i])
            refs[(name, clip)] = (gt, mine)
    return tmp_path, small, refs


def test_three_suites_into_one_store_then_table_explain_compare(workflow, capsys):
    root, small, refs = workflow
    res = root / "results"
    for name in small:
        for method in ("Mine", "Other"):
            code = main(["evaluate", "--suite", name, "--gt", str(root / name / "GT"), "--pred",
                         str(root / name / method), "--method", method, "--out", str(res), "--metrics", "psnr,ssim"])
            assert code == 0, capsys.readouterr().err
    df = load_results(res)
    assert set(df["dataset"]) == {"reds4", "vimeo90k-t", "vid4"} and set(df["method"]) == {"Mine", "Other"}
    protocols = df.groupby("dataset")["protocol"].first().to_dict()
    assert protocols == {"reds4": "basicsr-rgb", "vimeo90k-t": "basicsr-y[frames_scored=center]", "vid4": "basicsr-y"}
    psnr = df[(df.metric == "psnr") & (df.method == "Mine")]
    # REDS4: RGB PSNR of every frame (scikit-image), Vimeo: BasicSR's Y PSNR of im4 only
    for (name, clip), (gt, mine) in refs.items():
        got = psnr[(psnr.dataset == name) & (psnr.sequence == clip)].sort_values("frame")
        if name == "reds4":
            want = [peak_signal_noise_ratio(g, o, data_range=255) for g, o in zip(gt, mine)]
            np.testing.assert_allclose(got["value"], want, rtol=0, atol=1e-10)
        elif name == "vimeo90k-t":
            mse = np.mean((y_basicsr(gt[3]) - y_basicsr(mine[3])) ** 2)
            assert got["frame"].tolist() == [3] and got["value"].item() == pytest.approx(10 * np.log10(255**2 / mse),
                                                                                          abs=1e-5)
    capsys.readouterr()
    # the comparison table with published rows
    assert main(["table", str(res), "--published", "--format", "latex", "--standalone", "--out",
                 str(root / "table.tex")]) == 0
    tex = (root / "table.tex").read_text()
    assert "Mine" in tex and "\\dag" in tex and "BasicVSR" in tex
    # each published row in the block of its convention, Mine scored again under it; notes after the tabular
    assert "\\textit{BI: basicsr-rgb, seq\\_avg}" in tex  # EDVR's BasicSR RGB row on Vid4
    vid4 = tex[tex.index("\\label{tab:vsrbench-vid4}"):]
    assert vid4.count("\nMine & ") >= 3 and vid4.index("\\end{tabular}") < vid4.index("\\parbox{\\linewidth}")
    assert (res / "conventions").is_dir() and set(load_results(res)["protocol"]) == set(protocols.values())
    if shutil.which("pdflatex") and subprocess.run(["kpsewhich", "lmodern.sty"], capture_output=True).stdout.strip():
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "table.tex"], cwd=root,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:]
    # which convention gives Mine's stored REDS4 number? (RGB, crop 0, the suite's own)
    stored = float(psnr[psnr.dataset == "reds4"].groupby("sequence")["value"].mean().mean())
    capsys.readouterr()
    assert main(["explain", "--results", str(res), "--method", "Mine", "--dataset", "reds4",
                 "--target", f"psnr={stored!r}"]) == 0
    out = capsys.readouterr().out
    closest = next(line for line in out.splitlines() if line.startswith("closest:"))
    assert "basicsr-rgb" in closest and "(suite)" in out
    # figures and the report find the Vimeo clips two levels deep, and Mine's im4-only outputs at frame 3
    capsys.readouterr()
    assert main(["figure", "crops", str(res), "--dataset", "vimeo90k-t", "--sequence", "00001/0266",
                 "--methods", "Mine,Other", "--frame", "3", "--box", "8,8,16,16", "--out", str(root / "v.png")]) == 0, \
        capsys.readouterr().err
    from vsrbench.visual.report import build_report, dataset_frames

    gt, outs, missing = dataset_frames(res, "vimeo90k-t", ["Mine", "Other"])
    assert not missing and set(gt) == {"00001/0266", "00001/0268"}
    assert outs["Mine"]["00001/0266"].only_index == 3 and len(outs["Other"]["00001/0266"]) == 7
    warned: list[str] = []
    build_report(res, root / "site", warn=warned.append)
    assert not [w for w in warned if "vimeo90k-t" in w], warned  # nothing left out of the viewer
    # is Mine really better than Other on Vid4? paired, per clip
    assert main(["compare", str(res), "Mine", "Other", "--dataset", "vid4", "--metric", "psnr"]) == 0
    out = capsys.readouterr().out
    assert "Mine (A) vs Other (B)" in out and "Mine is better than Other on PSNR (vid4)" in out
