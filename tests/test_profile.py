"""``vsrbench profile``: the figure it writes (decodable; one strip per sequence, stacked, so each
extra sequence makes the image taller), the row it picks, and its errors (one line on stderr, exit 2)."""
from __future__ import annotations

import numpy as np
import pytest
from _support.builders import stripe_sequence

from vsrbench.cli import main
from vsrbench.core.errors import InputError
from vsrbench.core.io import decode_image, write_frame
from vsrbench.visual.plots import plot_profiles


def write_seq(folder, frames, pattern="{:03d}.png"):
    for i, f in enumerate(frames):
        write_frame(folder / pattern.format(i), f)
    return folder


@pytest.fixture
def seqs(tmp_path):
    gt = stripe_sequence()
    write_seq(tmp_path / "GT", gt)
    write_seq(tmp_path / "a" / "out", [np.roll(f, 1, axis=1) for f in gt])
    write_seq(tmp_path / "b" / "out", [f // 2 for f in gt], "frame{}.png")
    return tmp_path


def profile(capsys, *argv):
    code = main(["profile", *map(str, argv)])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.parametrize("preds, panels", [(["a/out"], 2), (["a/out", "b/out"], 3)])
def test_profile_png_has_one_panel_per_sequence(seqs, capsys, preds, panels):
    argv = ["--gt", seqs / "GT", "--out", seqs / "p.png"]
    for p in preds:
        argv += ["--pred", seqs / p]
    code, out, err = profile(capsys, *argv)
    assert code == 0, err
    img = decode_image(seqs / "p.png")
    assert img.std() > 10  # not a blank canvas
    row = int(out.split("row y=")[1].split(",")[0])
    assert 23 <= row < 27  # the rows where the stripe moves
    assert out.strip() == f"wrote {seqs / 'p.png'} (row y={row}, 8 frames, {panels} panels)"


def test_strips_are_stacked_one_per_sequence(seqs, capsys):
    heights = []
    for preds in (["a/out"], ["a/out", "b/out"]):
        argv = ["--gt", seqs / "GT", "--out", seqs / f"h{len(preds)}.png", "--row", 25]
        for p in preds:
            argv += ["--pred", seqs / p]
        assert profile(capsys, *argv)[0] == 0
        heights.append(decode_image(seqs / f"h{len(preds)}.png").shape[0])
    assert heights[1] > heights[0]


def test_profile_column_zoom_window_and_labels(seqs, capsys):
    code, out, err = profile(capsys, "--gt", seqs / "GT", "--pred", seqs / "a" / "out", "--pred", seqs / "b" / "out",
                             "--label", "ours", "--label", "theirs", "--col", 30, "--zoom", 2, "--window", "5:35",
                             "--out", seqs / "c.png")
    assert code == 0, err
    assert out.strip() == f"wrote {seqs / 'c.png'} (column x=30, pixels 5..35, 8 frames, 3 panels)"
    assert decode_image(seqs / "c.png").std() > 10


def test_duplicate_folder_names_get_their_parent_in_the_label(seqs, monkeypatch, capsys):
    seen = {}
    import vsrbench.visual.plots as plots

    real = plots.plot_profiles
    monkeypatch.setattr(plots, "plot_profiles", lambda profiles, colors, **kw: seen.update(profiles) or real(profiles, colors, **kw))
    code, _, err = profile(capsys, "--gt", seqs / "GT", "--pred", seqs / "a" / "out", "--pred", seqs / "b" / "out",
                           "--row", 25, "--out", seqs / "d.png")
    assert code == 0, err
    assert list(seen) == ["GT", "a/out", "b/out"]
    gt = stripe_sequence()
    np.testing.assert_array_equal(seen["GT"], np.stack([f[25] for f in gt]))
    np.testing.assert_array_equal(seen["b/out"], np.stack([f[25] // 2 for f in gt]))


@pytest.mark.parametrize("extra, message", [
    (["--label", "x", "--label", "y"], "2 --label given for 1 --pred"),
    (["--window", "5-35"], "--window '5-35' is not START:STOP"),
])
def test_profile_argument_errors(seqs, capsys, extra, message):
    code, _, err = profile(capsys, "--gt", seqs / "GT", "--pred", seqs / "a" / "out", "--out", seqs / "e.png", *extra)
    assert code == 2
    assert err.strip() == f"vsrbench profile: error: {message}" and "Traceback" not in err


def test_profile_sequence_errors(seqs, capsys):
    (seqs / "a" / "out" / "007.png").unlink()
    code, _, err = profile(capsys, "--gt", seqs / "GT", "--pred", seqs / "a" / "out", "--out", seqs / "e.png")
    assert code == 2
    assert err.strip() == f"vsrbench profile: error: {seqs / 'a' / 'out'}: 7 frames, GT has 8"
    write_seq(seqs / "small", [f[:30] for f in stripe_sequence()])
    code, _, err = profile(capsys, "--gt", seqs / "GT", "--pred", seqs / "small", "--out", seqs / "e.png")
    assert code == 2
    assert err.strip() == f"vsrbench profile: error: {seqs / 'small'}: frames are 60x30, GT is 60x40"
    code, _, err = profile(capsys, "--gt", seqs / "GT", "--pred", seqs / "b" / "out", "--row", 99, "--out", seqs / "e.png")
    assert code == 2
    assert err.strip() == "vsrbench profile: error: --row 99 is outside the frames: expected rows 0..39 of the 60x40 GT frames"


def test_plot_profiles_needs_something():
    with pytest.raises(InputError) as e:
        plot_profiles({}, {}, title="t", where="row y = 1")
    assert str(e.value) == "no profiles to plot"


def test_profile_writes_pdf_and_refuses_other_extensions(seqs, capsys):
    code, _, err = profile(capsys, "--gt", seqs / "GT", "--pred", seqs / "a" / "out", "--out", seqs / "p.pdf")
    assert code == 0, err
    assert (seqs / "p.pdf").read_bytes()[:5] == b"%PDF-"
    code, _, err = profile(capsys, "--gt", seqs / "GT", "--pred", seqs / "a" / "out", "--out", seqs / "p.jpg")
    assert code == 2
    assert err.strip() == f"vsrbench profile: error: --out {str(seqs / 'p.jpg')!r}: expected a .png or .pdf file name"
