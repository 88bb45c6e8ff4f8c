"""`vsrbench demo`: end to end in a tmp dir, the rendered motion, the demo's methods, its folder rules."""
from __future__ import annotations

import numpy as np
import pytest

from vsrbench import demo as D
from vsrbench.catalog.benchfile import load_bench
from vsrbench.cli import main
from vsrbench.core.errors import InputError
from vsrbench.results.loading import load_results
from vsrbench.analysis.tables import build_table


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--frames", "6"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == f"demo written to {out.resolve()}"
    # The test home has no AlexNet weights: said once, and LPIPS / tLP are left out.
    notes = [ln for ln in captured.err.splitlines() if "LPIPS" in ln]
    assert len(notes) == 1 and notes[0].startswith("note: LPIPS and tLP skipped, scoring psnr,ssim,tof: "
                                                   "weights file 'alexnet-owt-7be5be79.pth' not found")
    bench = load_bench(out / "demo.toml")  # the demo is a working benchmark file
    assert list(bench.methods) == list(D.METHODS) and bench.metrics == ("psnr", "ssim", "tof")
    assert bench.datasets["demo"].degradation == "bd-tecogan" and bench.datasets["demo"].sequences == tuple(
        sorted(s.name for s in D.SCENES))

    md = (out / "leaderboard.md").read_text()
    for method in D.METHODS:
        assert f"| {method} | " in md
    assert "protocol tecogan" in md and md == captured.out[:len(md)]
    tex = (out / "leaderboard.tex").read_text()
    assert tex.startswith("\\documentclass") and "bicubic-flicker & " in tex
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert len(figures) == 11 and all((out / "figures" / f).stat().st_size > 1000 for f in figures)
    from vsrbench.visual.report import load_embedded  # the HTML report: every method in the viewer of every scene

    assert f"report: {out / 'report' / 'index.html'} (open it in a browser)" in captured.out
    viewer = load_embedded(out / "report" / "index.html")["viewer"]["demo"]
    assert sorted(viewer) == sorted(s.name for s in D.SCENES)
    assert all(list(v["panels"]) == ["GT", *D.METHODS] for v in viewer.values())
    assert "crops_demo_astronaut-pan.png" in figures  # the crop comparison (vsrbench.visual.figures)

    df = load_results(out / "results")
    assert set(df["method"]) == set(D.METHODS) and set(df["metric"]) == {"psnr", "ssim", "tof"}
    assert (df.groupby(["method", "sequence"]).size() == 2 + 2 + 1).all()  # 6 frames: 2 scored, 1 pair
    table = build_table(df, metrics=["tof"])
    tof = {row.method: row.cells[0].value for row in table.rows}
    # What temporal metrics see: flicker, shake and judder all move the flow away from GT's.
    assert tof["bicubic-flicker"] > tof["bicubic"]
    assert tof["bicubic-jitter"] > tof["bicubic"] and tof["bicubic-frozen"] > tof["bicubic"]


def test_camera_motion_is_subpixel_as_measured_by_phase_correlation():
    import cv2

    frames = D.render_scene(D.SCENES[0], 3)  # the pan: 0.6 px right, 0.25 px down per frame
    assert frames[0].shape == (*D.HR_SIZE, 3) and frames[0].dtype == np.uint8
    win = cv2.createHanningWindow(D.HR_SIZE[::-1], cv2.CV_64F)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float64) for f in frames]
    (dx, dy), _ = cv2.phaseCorrelate(grey[1], grey[0], win)  # content moves against the camera
    assert dx == pytest.approx(0.6, abs=0.1) and dy == pytest.approx(0.25, abs=0.1)


def test_render_matrix_maps_hr_pixel_centres_by_hand():
    scene = D.Scene("s", "astronaut", "rotate", 2.0)
    t = 5
    m = D.render_matrix(scene, (512, 512), t)
    a = np.radians(0.6 * t)
    s = D.SUPERSAMPLE
    for p in ((0.0, 0.0), (255.0, 191.0), (100.0, 50.0)):
        u = np.array([s * (p[0] + 0.5) - 0.5, s * (p[1] + 0.5) - 0.5, 1.0])  # render pixel with centre p
        rel = np.array(p) - [127.5, 95.5]
        expected = np.array([255.5, 255.5]) + 2.0 * np.array([np.cos(a) * rel[0] - np.sin(a) * rel[1],
                                                              np.sin(a) * rel[0] + np.cos(a) * rel[1]])
        np.testing.assert_allclose(m @ u, expected, atol=1e-9)


def test_demo_methods(rng):
    from vsrbench.baselines import load_model

    lr = [rng.integers(0, 256, (12, 16, 3), dtype=np.uint8) for _ in range(5)]
    plain = list(load_model("bicubic").upscale(lr))
    noisy = D.bicubic_flicker(lr)
    diff = np.stack(noisy) - np.stack(plain)
    assert diff.std() == pytest.approx(0.04, rel=0.05) and abs(diff.mean()) < 0.005
    assert not np.allclose(diff[0], diff[1])  # independent noise per frame
    frozen = D.bicubic_frozen(lr)
    for t in range(5):
        np.testing.assert_array_equal(frozen[t], plain[t - t % 2])
    jitter = D.bicubic_jitter(lr)
    assert len(jitter) == 5 and all(j.shape == (48, 64, 3) for j in jitter) and not np.allclose(jitter[0], plain[0])
    other = [f[::-1].copy() for f in lr]  # a different input must not reuse the cached upscale
    np.testing.assert_array_equal(D.bicubic_frozen(other)[0], next(load_model("bicubic").upscale(other[:1])))


def test_folder_rules(tmp_path):
    with pytest.raises(InputError, match=r"^--frames: expected an integer >= 6 \(the tecogan protocol cuts 2 frames "
                                         r"at each end and temporal metrics need 2 more\), got 5$"):
        D.run_demo(tmp_path / "x", 5)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.tex").write_text("mine")
    with pytest.raises(InputError, match=r"^--out: '.*busy' is not empty and holds no previous demo \(demo.toml\); "
                                         r"choose a new or empty folder$"):
        D.prepare_folder(busy)
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match=r"^--out: '.*file' is a file, expected a folder$"):
        D.prepare_folder(tmp_path / "file")
    old = tmp_path / "old"
    (old / "results").mkdir(parents=True)
    (old / "demo.toml").write_text("")
    (old / "leaderboard.md").write_text("")
    (old / "notes.txt").write_text("keep")
    D.prepare_folder(old)  # a previous demo is replaced; what the demo did not write is kept
    assert sorted(p.name for p in old.iterdir()) == ["notes.txt"]


def test_cli_demo_error_is_one_line(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "d"), "--frames", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--frames: expected an integer >= 6" in err


def test_a_failed_demo_run_is_one_error(tmp_path, monkeypatch):
    import vsrbench.runner
    from vsrbench.runner import RunSummary

    def failing(bench, results_dir, **_):
        return RunSummary(results_dir, 1, "tecogan", "x", failed=[("bicubic", "demo", "coffee-zoom", "boom")],
                          status="done")

    monkeypatch.setattr(vsrbench.runner, "run_benchmark", failing)
    with pytest.raises(InputError, match=r"^the demo benchmark did not complete \(done\): bicubic/demo/coffee-zoom: "
                                         r"boom$"):
        D.run_demo(tmp_path / "d", 6, say=lambda line: None)
