"""Issue 18's done-when, end to end on the command line: two methods scored with PSNR, SSIM, LPIPS,
E*warp (EvalCrafter) and DOVER into one results folder, and ``vsrbench table`` shows all five for both.

The learned networks are the real vsrbench modules loading real files through the real look-up, with
seeded random weights (LPIPS's AlexNet from ``alexnet_home``, RAFT's ``raft-things.pth`` and ``DOVER.pth``
written here and accepted as deliberately unpublished); DOVER's views are the small ones of
``tests/golden/dover_small.json`` so that the test stays fast."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from _support.dover_reference import clip_frames, random_state
from _support.raft_reference import write_weights

import vsrbench.metrics.dover as dv
from vsrbench import load_results
from vsrbench.cli import main
from vsrbench.core.io import write_frame
from vsrbench.core.weights import accept_unverified

GOLDEN = Path(__file__).resolve().parent / "golden" / "dover_small.json"


@pytest.fixture
def weights_home(tmp_path, monkeypatch, alexnet_home, one_torch_thread):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("VSRBENCH_HOME", str(home))
    write_weights(home / "raft-things.pth")
    accept_unverified(home / "raft-things.pth")
    net = dv.DOVERNet()
    torch.save(random_state(net.state_dict(), 0), home / "DOVER.pth")
    accept_unverified(home / "DOVER.pth")
    st = json.loads(GOLDEN.read_text())["sample_types"]
    t, a = st["technical"], st["aesthetic"]
    monkeypatch.setattr(dv, "SCORER_SAMPLING", dv.Sampling(
        fragments=t["fragments_h"], fsize=t["fsize_h"], clip_len=t["clip_len"], frame_interval=t["frame_interval"],
        num_clips=t["num_clips"], aligned=t["aligned"], aesthetic_size=a["size_h"], aesthetic_frames=a["t_frag"]))
    return home


def _write(root: Path, frames) -> Path:
    for i, f in enumerate(frames):
        write_frame(root / "walk" / f"{i:04d}.png", f)
    return root


def test_a_table_shows_psnr_ssim_lpips_ewarp_and_dover_for_two_methods(weights_home, tmp_path, capsys):
    gt = clip_frames(8, 72, 96, seed=7)
    rng = np.random.default_rng(1)
    noisy = [np.clip(f.astype(int) + rng.integers(-12, 13, f.shape), 0, 255).astype(np.uint8) for f in gt]
    blurred = [((f.astype(np.uint16) + np.roll(f, 1, axis=1)) // 2).astype(np.uint8) for f in gt]
    _write(tmp_path / "gt", gt)
    metrics = "psnr,ssim,lpips,ewarp-evalcrafter,dover"
    for name, frames in (("Noisy", noisy), ("Blurred", blurred)):
        rc = main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(_write(tmp_path / name, frames)),
                   "--method", name, "--dataset", "toy", "--protocol", "basicsr-rgb", "--metrics", metrics,
                   "--out", str(tmp_path / "res")])
        assert rc == 0, capsys.readouterr().err
    df = load_results(tmp_path / "res")
    assert set(df["metric"]) == set(metrics.split(",")) and set(df["method"]) == {"Noisy", "Blurred"}
    dover_rows = df[df["metric"] == "dover"]
    assert len(dover_rows) == 2 and dover_rows["frame"].tolist() == [0, 0]  # one per clip and method
    assert ((dover_rows["value"] > 0) & (dover_rows["value"] < 1)).all()  # fused overall in [0, 1]
    ewarp = df[df["metric"] == "ewarp-evalcrafter"]
    assert sorted(set(ewarp["frame"])) == list(range(1, 8)) and (ewarp["value"] >= 0).all()
    capsys.readouterr()
    assert main(["table", str(tmp_path / "res")]) == 0
    header, _, *rows = capsys.readouterr().out.strip().splitlines()
    for label in ("PSNR", "SSIM", "LPIPS", "E\\*warp (EvalCrafter)", "DOVER"):  # Markdown escapes the star
        assert label in header, header
    rows = {r.split("|")[1].strip(): [c.strip() for c in r.split("|")[2:-1]] for r in rows if r.startswith("|")}
    assert sorted(rows) == ["Blurred", "Noisy"]
    # E*warp is shown on its printed scale (x10^-3), the store keeps the value itself
    col = [h.strip() for h in header.split("|")[2:-1]].index(next(h.strip() for h in header.split("|") if "warp" in h))
    assert "x10" in header.split("|")[col + 2]
    for method, cells in rows.items():
        stored = df[(df["metric"] == "ewarp-evalcrafter") & (df["method"] == method)]["value"].mean()
        assert cells[col].strip("*_ ") == f"{stored * 1e3:.2f}", (method, cells[col], stored)
