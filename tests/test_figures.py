"""Crop-comparison figures (vsrbench.visual.figures, `vsrbench figure crops`): layout facts, not pixels."""
from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from _support.paths import REPO
from _support.pdf import assert_truetype_only, pdf_font_subtypes
from vsrbench.visual import figures as F
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.io import write_frame
from vsrbench.results.store import ResultsStore, SequenceResult
from vsrbench.results.loading import load_results

HASH = "0123456789ab"
N, H, W, S = 6, 48, 64, 4
METHODS = ("bicubic", "good", "broken")
DEFECT = (3, 30, 8, 12, 12)  # frame, x, y, w, h of the planted defect in "broken"


def _write_seq(folder: Path, frames) -> None:
    for i, f in enumerate(frames):
        write_frame(folder / f"{i:04d}.png", f)


@pytest.fixture
def stored(tmp_path):
    """Store + GT + LR (made from a degradation, where the runner caches it) + outputs of three methods;
    "broken" has a square of wrong pixels on frame 3 and is otherwise as good as "good"."""
    rng = np.random.default_rng(5)
    gt = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(N)]
    res, gt_root = tmp_path / "res", tmp_path / "gt"
    _write_seq(gt_root / "pan", gt)
    _write_seq(res / "lr" / "toy" / f"bd-tecogan-x{S}" / "pan", [f[::S, ::S] for f in gt])
    outs = {}
    for j, m in enumerate(METHODS):
        noise = 12.0 if m == "bicubic" else 3.0
        outs[m] = [np.clip(f + rng.normal(0, noise, f.shape), 0, 255).astype(np.uint8) for f in gt]
    t, x, y, w, h = DEFECT
    outs["broken"][t][y:y + h, x:x + w] = 255 - gt[t][y:y + h, x:x + w]
    for m in METHODS:
        _write_seq(res / "outputs" / m / "toy" / "pan", outs[m])
    bench = {"datasets": {"toy": {"gt": str(gt_root), "degradation": "bd-tecogan", "scale": S}},
             "methods": {m: {"kind": "model"} for m in METHODS}}
    with ResultsStore(res) as store:
        run = store.start_run({"vsrbench_version": "test", "protocol": "tecogan", "protocol_hash": HASH,
                               "protocol_fields": {}, "metric_versions": {}, "bench": bench})
        for m in METHODS:
            rows = [(t, "psnr", 20 + 0.5 * t + METHODS.index(m)) for t in range(2, N - 2)]
            rows += [(t, "tof", 0.1 * t) for t in range(3, N - 2)]
            store.add_sequence(run, SequenceResult(m, "toy", "pan", rows, [f"{i:04d}.png" for i in range(N)],
                                                   {"psnr": "1", "tof": "1"}, "tecogan", HASH))
        store.finish_run(run, "done")
    return res, gt, outs


def _images(fig):
    """The crop panels' AxesImages, in order (the first axes is the full frame)."""
    return [ax.get_images()[0] for ax in fig.axes[1:]]


def test_panels_box_width_and_nearest_crops(stored):
    res, gt, outs = stored
    made = F.crop_figure(res, "toy", "pan", frame=2, box="8,4,16,12")
    fig, box = made.figure, made.box
    assert (made.frame, made.frame_name, box) == (2, "0002.png", F.Box(8, 4, 16, 12)) and not made.chosen
    assert len(fig.axes) == 1 + 1 + 1 + len(METHODS)  # full frame, GT, LR, methods
    assert fig.get_size_inches()[0] == pytest.approx(3.3)
    # The box is drawn on the full frame, where it lies inside, in the vermillion of Okabe-Ito.
    full = fig.axes[0]
    assert np.array_equal(full.get_images()[0].get_array(), gt[2])
    rects = [p for p in full.patches if isinstance(p, Rectangle) and p.get_gid() == "crop-box"]
    assert len(rects) == 1 and to_hex(rects[0].get_edgecolor()) == F.BOX_COLOR.lower()
    r = rects[0]
    assert (r.get_x() + 0.5, r.get_y() + 0.5, r.get_width(), r.get_height()) == (8, 4, 16, 12)
    assert 0 <= box.x and box.x + box.w <= W and 0 <= box.y and box.y + box.h <= H
    # Crops: the frame's own pixels, drawn nearest-neighbour without resampling.
    images = _images(fig)
    crop = np.s_[4:16, 8:24]
    expected = [gt[2][crop], np.repeat(np.repeat(gt[2][::S, ::S], S, 0), S, 1)[crop]] + [outs[m][2][crop]
                                                                                      for m in METHODS]
    for im, want in zip(images, expected):
        assert isinstance(im, AxesImage) and im.get_interpolation() == "nearest" and not im.get_resample()
        assert np.array_equal(np.asarray(im.get_array()), want)
        ax = im.axes
        assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    # Each method's crop is framed in its colour of every other figure; GT and LR in black.
    from vsrbench.visual.plots import method_colors

    colors = method_colors(METHODS)
    frames = [to_hex(im.axes.spines["top"].get_edgecolor()) for im in images]
    assert frames == ["#000000", "#000000"] + [colors[m] for m in METHODS]
    # The LR panel really is pixel repetition: each LR pixel is an S x S block.
    lr = np.asarray(images[1].get_array())
    assert np.array_equal(lr[0:4, 0:4], np.broadcast_to(gt[2][4, 8], (4, 4, 3)))  # LR pixel (1, 2) = GT (4, 8)


def test_titles_carry_method_and_stored_score(stored):
    res, _, _ = stored
    df = load_results(res)
    made = F.crop_figure(res, "toy", "pan", frame=3, box=(0, 0, 8, 8), metric="psnr")
    titles = [ax.get_title() for ax in made.figure.axes[1:]]
    assert titles[0].startswith("GT\nPSNR") and titles[1].startswith("LR ×4")
    for m, title in zip(METHODS, titles[2:]):
        v = df[(df.method == m) & (df.metric == "psnr") & (df.frame == 3)].value.item()
        assert title == f"{m}\n{v:.2f}"
    # Temporal metrics: the value stored at index t (pair t-1, t).
    made = F.crop_figure(res, "toy", "pan", frame=3, box=(0, 0, 8, 8), metric="tof", methods=["good"])
    assert [ax.get_title() for ax in made.figure.axes[2:]] == ["LR ×4\n(nearest)", "good\n0.300"]
    assert len(made.figure.axes) == 1 + 1 + 1 + 1


def test_layouts_and_rows(stored):
    res, _, _ = stored
    one = F.crop_figure(res, "toy", "pan", frame=2, box=(0, 0, 8, 8)).figure
    two = F.crop_figure(res, "toy", "pan", frame=2, box=(0, 0, 8, 8), layout="two-column").figure
    assert one.get_size_inches()[0] == pytest.approx(3.3) and two.get_size_inches()[0] == pytest.approx(6.9)

    def rows(fig):
        return len({round(ax.get_position().y0, 4) for ax in fig.axes[1:]})

    assert rows(two) == 1 and rows(one) == 2  # 5 crops: one row of 5 in two columns, 3 + 2 in one column
    for fig in (one, two):  # no panel leaves the page
        for ax in fig.axes:
            p = ax.get_position()
            assert p.x0 >= 0 and p.x1 <= 1 and p.y0 >= 0 and p.y1 <= 1


@pytest.mark.parametrize("layout,width", [("one-column", 3.3), ("two-column", 6.9)])
def test_saved_pdf_is_the_layout_width_with_truetype_fonts(stored, tmp_path, layout, width):
    res, _, _ = stored
    out = tmp_path / f"{layout}.pdf"
    F.save_crop_figure(F.crop_figure(res, "toy", "pan", frame=2, box=(0, 0, 8, 8), layout=layout).figure, out)
    assert_truetype_only(out)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)", out.read_bytes())
    assert float(box.group(1)) == pytest.approx(width * 72, abs=0.5)
    png = F.save_crop_figure(F.crop_figure(res, "toy", "pan", frame=2, box=(0, 0, 8, 8), layout=layout).figure,
                             tmp_path / f"{layout}.png")
    from PIL import Image

    assert Image.open(png).size[0] == round(width * 200)
    assert "TrueType" not in pdf_font_subtypes(png.read_bytes())  # the PDF check looks at PDFs only


def test_auto_pick_finds_the_planted_defect_and_the_printed_choice_reproduces_it(stored, tmp_path, capsys):
    res, _, _ = stored
    made = F.crop_figure(res, "toy", "pan")
    t, x, y, w, h = DEFECT
    assert made.chosen and made.frame == t
    b = made.box
    assert b.w == b.h == round(H / 6)
    overlap = max(0, min(b.x + b.w, x + w) - max(b.x, x)) * max(0, min(b.y + b.h, y + h) - max(b.y, y))
    assert overlap == b.w * b.h  # the 8x8 box lies inside the 12x12 defect
    # With the frame fixed, only the box is chosen (the defect is on frame 3 only: frame 2 gives elsewhere).
    assert F.crop_figure(res, "toy", "pan", frame=2).frame == 2
    # With the box fixed, the frame is chosen.
    assert F.crop_figure(res, "toy", "pan", box=(x, y, w, h)).frame == t

    out = tmp_path / "auto.png"
    assert main(["figure", "crops", str(res), "--dataset", "toy", "--sequence", "pan", "--out", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0] == f"chosen where the methods differ most: {made.options}"
    options = shlex.split(err[0].split(": ", 1)[1])
    again = F.crop_figure(res, "toy", "pan", frame=int(options[1]), box=options[3])
    assert not again.chosen and (again.frame, again.box) == (made.frame, made.box)
    for a, b2 in zip(_images(made.figure), _images(again.figure)):
        assert np.array_equal(a.get_array(), b2.get_array())
    assert [ax.get_title() for ax in made.figure.axes] == [ax.get_title() for ax in again.figure.axes]
    out2 = tmp_path / "again.png"
    assert main(["figure", "crops", str(res), "--dataset", "toy", "--sequence", "pan", *options,
                 "--out", str(out2)]) == 0
    assert capsys.readouterr().err == ""  # nothing chosen, nothing said
    assert out.read_bytes() == out2.read_bytes()


def test_spread_map_is_a_box_filter_of_the_squared_error():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 256, (10, 12, 3)).astype(np.uint8)
    a, b = gt.copy(), gt.copy()
    b[2:5, 3:7] = 0
    spread = F.spread_map(gt, [a, b], (3, 4))
    assert spread.shape == (8, 9)
    err = ((b.astype(float) - gt) ** 2).mean(2)
    assert spread[2, 3] == pytest.approx(err[2:5, 3:7].mean()) and spread[2, 3] == spread.max()
    assert spread[7, 0] == 0


def test_no_lr_panel_when_the_lr_frames_are_unknown(stored):
    res, _, _ = stored
    import shutil

    shutil.rmtree(res / "lr")
    made = F.crop_figure(res, "toy", "pan", frame=2, box=(0, 0, 8, 8), methods=["broken", "good"])
    assert [ax.get_title().split("\n")[0] for ax in made.figure.axes[1:]] == ["GT", "broken", "good"]


def test_errors_are_one_line_with_did_you_mean(stored, capsys):
    res, _, _ = stored
    cases = [
        (dict(dataset="tyo"), UnknownNameError, "did you mean 'toy'"),
        (dict(sequence="pna"), UnknownNameError, "did you mean 'pan'"),
        (dict(methods=["brokn"]), UnknownNameError, "did you mean 'broken'"),
        (dict(metric="psrn"), UnknownNameError, "did you mean 'psnr'"),
        (dict(layout="one-col"), UnknownNameError, "did you mean 'one-column'"),
        (dict(box=(60, 0, 8, 8)), InputError, "--box 60,0,8,8: reaches x=68, y=8, outside the 64x48 frame of toy/pan; "
                                              "choose X+W <= 64 and Y+H <= 48"),
        (dict(box="1,2,3"), InputError, "--box: expected X,Y,W,H in pixels"),
        (dict(frame=0), InputError, "--frame 0: frame not scored: toy/pan has psnr stored for frames 2-3; "
                                    "choose one of them"),
    ]
    for kw, kind, text in cases:
        args = dict(dataset="toy", sequence="pan") | kw
        with pytest.raises(kind) as e:
            F.crop_figure(res, args.pop("dataset"), args.pop("sequence"), **args)
        assert text in str(e.value) and "\n" not in str(e.value), str(e.value)

    base = ["figure", "crops", str(res), "--dataset", "toy", "--sequence", "pan"]
    for argv, text in [(["--out", "x.jpg"], "--out 'x.jpg': expected a file ending in .pdf or .png"),
                       (["--frame", "5", "--out", "x.png"], "--frame 5: frame not scored"),
                       (["--methods", "good,nope", "--out", "x.png"], "unknown --methods"),
                       (["--box", "0,0,0,4", "--out", "x.png"], "--box: expected X,Y,W,H")]:
        assert main(base + argv) != 0
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "Traceback" not in err and text in err, err
    assert main(["figure", "crop", str(res), "--dataset", "toy", "--sequence", "pan", "--out", "x.png"]) != 0
    assert "did you mean 'crops'" in capsys.readouterr().err


def test_frames_missing_on_disk(stored, capsys):
    res, _, _ = stored
    import shutil

    shutil.rmtree(res / "outputs" / "good" / "toy" / "pan")
    with pytest.raises(InputError, match=r"^frames missing on disk: the outputs of 'good' recorded at .*/outputs/good/toy' cannot be read "
                       r"\(.*\); restore them or re-run the benchmark$"):
        F.crop_figure(res, "toy", "pan", frame=2, box=(0, 0, 8, 8))
    # The other methods still draw.
    assert len(F.crop_figure(res, "toy", "pan", frame=2, box=(0, 0, 8, 8), methods=["broken"]).figure.axes) == 4
    (res / "outputs" / "broken" / "toy" / "pan" / "0003.png").unlink()
    (res / "outputs" / "broken" / "toy" / "pan" / "0004.png").unlink()
    (res / "outputs" / "broken" / "toy" / "pan" / "0005.png").unlink()
    with pytest.raises(InputError, match=r"frames missing on disk: .* has 3 frame\(s\), frame 3 is not there"):
        F.crop_figure(res, "toy", "pan", frame=3, box=(0, 0, 8, 8), methods=["broken"])
    shutil.rmtree(res.parent / "gt")
    assert main(["figure", "crops", str(res), "--dataset", "toy", "--sequence", "pan", "--methods", "bicubic",
                 "--out", str(res / "x.png")]) != 0
    err = capsys.readouterr().err.strip()
    assert "frames missing on disk: the ground truth recorded at" in err and "\n" not in err, err


@pytest.mark.slow
def test_vid4_example_gives_a_crop_figure(tmp_path, capsys, vid4_example):
    res = vid4_example
    capsys.readouterr()
    out = tmp_path / "calendar.pdf"
    start = time.perf_counter()
    assert main(["figure", "crops", str(res), "--dataset", "vid4", "--sequence", "calendar", "--layout",
                 "two-column", "--out", str(out)]) == 0
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    assert re.fullmatch(r"chosen where the methods differ most: --frame \d+ --box \d+,\d+,\d+,\d+\n", err), err
    assert_truetype_only(out)
    made = F.crop_figure(res, "vid4", "calendar", layout="two-column")
    # full frame, GT, LR (bd-duf made by the runner), DUF-16L, DUF-52L, Bicubic, Bicubic-TF
    assert len(made.figure.axes) == 1 + 1 + 1 + 4
    assert made.box.w == made.box.h == round(576 / 6) and seconds < 60


def test_the_readme_shows_a_small_crop_figure():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "](docs/crops-demo.png)" in readme and "vsrbench figure crops" in readme
    png = REPO / "docs" / "crops-demo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 150_000


def _add_run(res, metric: str, protocol_hash: str = HASH, protocol: str = "tecogan") -> None:
    with ResultsStore(res) as store:
        run = store.start_run({"vsrbench_version": "test", "protocol": protocol, "protocol_hash": protocol_hash,
                               "protocol_fields": {}, "metric_versions": {}, "bench": {}})
        for j, m in enumerate(METHODS):
            rows = [(t, metric, 0.1 * j + 0.01 * t) for t in range(2, N - 2)]
            store.add_sequence(run, SequenceResult(m, "toy", "pan", rows, [f"{i:04d}.png" for i in range(N)],
                                                   {metric: "1"}, protocol, protocol_hash))
        store.finish_run(run, "done")


def test_lpips_is_the_default_score_when_stored(stored):
    res, _, _ = stored
    _add_run(res, "lpips")
    made = F.crop_figure(res, "toy", "pan", frame=3, box=(0, 0, 8, 8))
    assert made.metric == "lpips"
    titles = [ax.get_title() for ax in made.figure.axes[1:]]
    assert titles[0] == "GT\nLPIPS ↓" and titles[2:] == ["bicubic\n0.030", "good\n0.130", "broken\n0.230"]


def test_mixed_protocols_need_a_choice(stored):
    res, _, _ = stored
    _add_run(res, "psnr", protocol_hash="ba9876543210", protocol="basicsr-y")
    with pytest.raises(InputError, match=r"toy/pan is stored under 2 protocols \(0123456789ab, ba9876543210\); "
                                         r"choose one with --protocol$"):
        F.crop_figure(res, "toy", "pan", frame=2, box=(0, 0, 8, 8))
    made = F.crop_figure(res, "toy", "pan", frame=2, box=(0, 0, 8, 8), protocol="basicsr-y")
    assert made.figure.axes[-1].get_title() == "broken\n0.22"


def test_lr_frames_given_by_the_benchmark_are_used(stored, tmp_path):
    res, gt, _ = stored
    lr = [255 - f[1::S, 1::S] for f in gt]  # not what the runner's cache holds
    _write_seq(tmp_path / "lr-given" / "pan", lr)
    with ResultsStore(res) as store:
        run = store.start_run({"vsrbench_version": "test", "protocol": "tecogan", "protocol_hash": HASH,
                               "protocol_fields": {}, "metric_versions": {},
                               "bench": {"datasets": {"toy": {"gt": str(tmp_path / "gt"),
                                                              "lr": str(tmp_path / "lr-given")}}}})
        store.finish_run(run, "done")
    made = F.crop_figure(res, "toy", "pan", frame=2, box=(4, 8, 8, 8))
    panel = np.asarray(made.figure.axes[2].get_images()[0].get_array())
    assert made.figure.axes[2].get_title() == "LR ×4\n(nearest)"
    assert np.array_equal(panel, np.repeat(np.repeat(lr[2], S, 0), S, 1)[8:16, 4:12])


def test_lr_frames_given_with_lr_are_shown(stored, tmp_path, capsys):
    res, gt, _ = stored
    lr = [f[::S, ::S] // 2 for f in gt]
    _write_seq(tmp_path / "my-lr" / "pan", lr)
    made = F.crop_figure(res, "toy", "pan", frame=2, box=(4, 8, 8, 8), lr=tmp_path / "my-lr")
    panel = np.asarray(made.figure.axes[2].get_images()[0].get_array())
    assert made.figure.axes[2].get_title() == "LR ×4\n(nearest)"
    assert np.array_equal(panel, np.repeat(np.repeat(lr[2], S, 0), S, 1)[8:16, 4:12])
    assert main(["figure", "crops", str(res), "--dataset", "toy", "--sequence", "pan", "--lr", str(tmp_path / "no"),
                 "--out", str(tmp_path / "x.png")]) != 0
    err = capsys.readouterr().err.strip()
    assert "--lr" in err and "not found" in err and "\n" not in err


def test_the_cli_names_the_library_layouts():
    from vsrbench.commands import figure as cmd
    from vsrbench.visual.figures import LAYOUTS

    assert tuple(cmd.LAYOUTS) == tuple(LAYOUTS)


def test_failure_margins_drop_edge_strips_where_every_method_fails():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    good = np.clip(gt.astype(int) + rng.integers(-3, 4, gt.shape), 0, 255).astype(np.uint8)
    broken = good.copy()
    broken[:5] = 255 - gt[:5]  # five garbage rows at the top, as DUF's outputs have
    broken[:, -3:] = 0  # and three dead columns on the right
    assert F.failure_margins(gt, [broken], (0, 64, 0, 80)) == (5, 64, 0, 77)
    # one method fine there: not a strip where *every* method fails
    assert F.failure_margins(gt, [broken, good], (0, 64, 0, 80)) == (0, 64, 0, 80)
    # never more than 1/8 of a side; a frame failed everywhere has no strip
    wide = good.copy()
    wide[:20] = 255 - gt[:20]
    assert F.failure_margins(gt, [wide], (0, 64, 0, 80)) == (8, 64, 0, 80)
    assert F.failure_margins(gt, [255 - gt], (0, 64, 0, 80)) == (0, 64, 0, 80)


def test_scored_region_follows_the_protocol():
    from vsrbench.metrics import get_protocol

    assert F.scored_region(get_protocol("tecogan"), 576, 720) == (16, 560, 8, 712)
    assert F.scored_region(get_protocol("basicsr-y", crop_border=8), 480, 720) == (8, 472, 8, 712)
    assert F.scored_region(None, 10, 20) == (0, 10, 0, 20)


def test_duf_16l_top_rows_are_a_failure_strip_on_real_vid4():
    from _support.paths import shared_path

    from vsrbench.core.io import open_sequence

    gt = open_sequence(shared_path("data", "vid4", "GT", "calendar"))[5]
    duf16 = open_sequence(shared_path("data", "vid4", "DUF-16L", "calendar"))[5][:576, :720]
    top, bottom, left, right = F.failure_margins(gt, [duf16], (0, 576, 0, 720))
    assert top == 8 and bottom == 576  # its outer 8 rows are garbage; the chosen box starts below them
