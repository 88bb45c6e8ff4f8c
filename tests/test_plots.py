"""Figures: every kind written as PNG and PDF, colours shared across figures, profile content, errors."""
from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.colors import to_hex

from vsrbench.visual import plots as P
from vsrbench.cli import main
from vsrbench.core.errors import InputError
from vsrbench.core.io import write_frame
from vsrbench.results.store import ResultsStore, SequenceResult
from vsrbench.results.loading import load_results

HASH = "0123456789ab"
METHODS = ("bicubic", "flicker", "Mine")
SEQS = ("pan", "zoom")
N, H, W = 6, 24, 40


def _frames(seed: int, noise: float = 0.0) -> list[np.ndarray]:
    """A bright bar moving one pixel per frame over a random texture (plus optional per-frame noise)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 120, (H, W + N, 3)).astype(np.float64)
    base[:, 10:14] = 250
    out = []
    for t in range(N):
        f = base[:, t:t + W] + (rng.normal(0, noise, (H, W, 3)) if noise else 0)
        out.append(np.clip(f, 0, 255).astype(np.uint8))
    return out


def _write_seq(folder, frames) -> None:
    for i, f in enumerate(frames):
        write_frame(folder / f"{i:04d}.png", f)


@pytest.fixture
def stored(tmp_path):
    """A results folder like the runner writes: store + GT (from the run record) + output frames."""
    gt_root, res = tmp_path / "gt", tmp_path / "res"
    frames = {}
    for k, seq in enumerate(SEQS):
        frames[("GT", seq)] = _frames(k)
        _write_seq(gt_root / seq, frames[("GT", seq)])
        for j, method in enumerate(METHODS):
            frames[(method, seq)] = _frames(k, noise=4.0 * j)
            # "Mine" brings its own outputs folder; the others are under RESULTS/outputs like model outputs.
            where = tmp_path / "mine" / seq if method == "Mine" else res / "outputs" / method / "toy" / seq
            _write_seq(where, frames[(method, seq)])
    bench = {"datasets": {"toy": {"gt": str(gt_root)}},
             "methods": {"bicubic": {"kind": "model"}, "flicker": {"kind": "callable"},
                         "Mine": {"kind": "outputs", "outputs": {"toy": str(tmp_path / "mine")}}}}
    rng = np.random.default_rng(7)
    with ResultsStore(res) as store:
        run = store.start_run({"vsrbench_version": "test", "protocol": "tecogan", "protocol_hash": HASH,
                               "protocol_fields": {}, "metric_versions": {}, "bench": bench})
        for seq in SEQS:
            for method in METHODS:
                rows = [(t, "psnr", 30 + rng.normal()) for t in range(N)]
                rows += [(t, "ssim", 0.9 + 0.01 * rng.normal()) for t in range(N)]
                rows += [(t, "tof", 0.2 + 0.05 * rng.random()) for t in range(1, N)]
                store.add_sequence(run, SequenceResult(method, "toy", seq, rows, [f"{i:04d}.png" for i in range(N)],
                                                       {"psnr": "1", "ssim": "1", "tof": "1"}, "tecogan", HASH))
        store.finish_run(run, "done")
    return res, frames


def test_method_colors_are_deterministic_and_order_free():
    a = P.method_colors(["b", "a", "c", "a"])
    assert a == P.method_colors(["c", "b", "a"]) == {"a": "#1f77b4", "b": "#ff7f0e", "c": "#2ca02c"}
    many = P.method_colors(f"m{i:02d}" for i in range(21))
    assert len(set(many.values())) == 20 and many["m20"] == many["m00"]  # the palette repeats after 20


def test_every_kind_written_as_png_and_pdf(stored, tmp_path):
    res, _ = stored
    out = tmp_path / "figs"
    written = P.plot_results(res, out, kinds="all", formats="png,pdf")
    names = sorted(p.name for p in written)
    stems = ["bars_toy_psnr", "bars_toy_ssim", "bars_toy_tof", "curves_toy_pan", "curves_toy_zoom",
             "profiles_toy_pan", "profiles_toy_zoom", "tradeoff_toy_tof_psnr"]
    assert names == sorted(f"{s}.{ext}" for s in stems for ext in ("png", "pdf"))
    for p in written:
        head = p.read_bytes()[:8]
        assert head == b"\x89PNG\r\n\x1a\n" if p.suffix == ".png" else head.startswith(b"%PDF-")
        assert p.stat().st_size > 1000


def test_a_method_has_the_same_colour_in_every_figure(stored):
    res, _ = stored
    df = load_results(res)
    colors = P.method_colors(df["method"])
    curves = P.plot_curves(df, "toy", "pan", ["psnr", "tof"], colors)
    for ax in curves.axes:
        assert {ln.get_label(): to_hex(ln.get_color()) for ln in ax.get_lines()} == colors
    bars = P.plot_bars(df, "toy", "psnr", colors)
    ax = bars.axes[0]
    assert len(ax.containers) == len(METHODS)
    for container, method in zip(ax.containers, ax.get_legend_handles_labels()[1]):
        assert {to_hex(patch.get_facecolor()) for patch in container} == {colors[method]}
    trade = P.plot_tradeoff(df, "toy", "tof", "psnr", colors)
    got = {c.get_label(): to_hex(c.get_facecolor()[0]) for c in trade.axes[0].collections}
    assert got == colors
    prof = P.profile_figure(res, "toy", "pan", list(METHODS), colors, row=3)
    assert {a.get_ylabel(): to_hex(a.yaxis.label.get_color()) for a in prof.axes} == {"GT": "#000000", **colors}


def test_profile_strips_are_the_rows_of_each_sequence(stored):
    res, frames = stored
    fig = P.profile_figure(res, "toy", "zoom", list(METHODS), P.method_colors(METHODS), row=5)
    assert [a.get_ylabel() for a in fig.axes] == ["GT", *METHODS]
    for ax in fig.axes:
        expected = np.stack([f[5] for f in frames[(ax.get_ylabel(), "zoom")]])  # (T, W, 3): row 5 over time
        np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), expected)


def test_axis_labels_have_units_and_direction(stored):
    res, _ = stored
    df = load_results(res)
    fig = P.plot_tradeoff(df, "toy", "tof", "psnr", P.method_colors(df["method"]))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "tOF (px), lower is better" and ax.get_ylabel() == "PSNR (dB), higher is better"
    assert sorted(t.get_text() for t in ax.texts) == sorted(METHODS)  # every point labelled
    curves = P.plot_curves(df, "toy", "pan", ["psnr"], P.method_colors(df["method"]))
    assert curves.axes[0].get_xlabel() == "frame index (0-based)"
    assert curves.axes[0].get_ylabel() == "PSNR (dB) ↑"


def test_profiles_without_ground_truth_warn_or_fail(stored, tmp_path):
    res, _ = stored
    import shutil

    shutil.rmtree(tmp_path / "gt")
    lines: list[str] = []
    written = P.plot_results(res, tmp_path / "figs", kinds="curves,profiles", warn=lines.append)
    assert all(p.name.startswith("curves_") for p in written) and len(written) == 2
    assert len(lines) == 2 and lines[0].startswith("warning: profiles: ground truth of 'toy' is not readable any more")
    with pytest.raises(InputError, match=r"^profiles: ground truth of 'toy' is not readable any more \(path not "
                                         r"found: '.*gt'\)$"):
        P.plot_results(res, tmp_path / "figs", kinds="profiles")


def test_option_errors():
    with pytest.raises(InputError, match=r"^kind: expected all or a comma-separated subset of "
                                         r"curves,profiles,tradeoff,bars, got 'curve'$"):
        P.parse_kinds("curve")
    with pytest.raises(InputError, match=r"^format: expected a comma-separated subset of png,pdf, got 'png,svg'$"):
        P.parse_formats("png,svg")
    assert P.parse_kinds("bars, curves") == ("bars", "curves") and P.parse_formats(".PDF") == ("pdf",)


def test_cli_plot(stored, tmp_path, capsys):
    res, _ = stored
    assert main(["plot", str(res), "--kind", "bars", "--out", str(tmp_path / "f"), "--format", "pdf",
                 "--metrics", "psnr"]) == 0
    assert capsys.readouterr().out.strip() == f"1 file(s) written to {tmp_path / 'f'}"
    assert (tmp_path / "f" / "bars_toy_psnr.pdf").stat().st_size > 0
    assert main(["plot", str(res), "--kind", "pie", "--out", str(tmp_path / "f")]) == 2
    assert capsys.readouterr().err.strip().endswith("got 'pie'")


def test_docstring_examples():
    import doctest

    result = doctest.testmod(P)
    assert result.attempted > 0 and result.failed == 0


def test_error_messages_of_figures(stored, tmp_path):
    res, _ = stored
    df = load_results(res)
    with pytest.raises(InputError, match=r"^sequence: no results for 'tilt' in dataset 'toy'$"):
        P.plot_curves(df, "toy", "tilt", ["psnr"], P.method_colors(METHODS))
    from vsrbench.metrics import METRICS

    temporal = ", ".join(m for m, i in METRICS.items() if i.temporal)  # tof, tlp, ewarp and the E*warp variants
    assert temporal.startswith("tof, tlp, ewarp")
    with pytest.raises(InputError, match=rf"^tradeoff: dataset 'toy' needs a temporal metric \({re.escape(temporal)}\) "
                                         r"and psnr or lpips, has psnr, ssim$"):
        P.plot_results(res, tmp_path / "f", kinds="tradeoff", metrics=["psnr", "ssim"])
    with pytest.raises(InputError, match=r"^profiles: no sequence 'tilt' in the ground truth '.*gt'$"):
        P.sequence_frames(res, "toy", "tilt", METHODS)
    with pytest.raises(InputError, match=r"^profiles: no run record of '.*res' names dataset 'other', so its "
                                         r"ground-truth frames cannot be found$"):
        P.sequence_frames(res, "other", "pan", METHODS)
