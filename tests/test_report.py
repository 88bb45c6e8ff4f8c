"""``vsrbench report RESULTS --out site/`` without a browser: the folder is self-contained (nothing from the
network), index.html parses and names only files it holds, the embedded JSON is the store's per-frame data,
images are written once, lossless at full resolution (never downscaled), for at most ``--viewer-frames`` frames
per sequence and ``--max-frames`` in all, and the folder stays small.

Data: three methods evaluated into one results folder (``vsrbench evaluate``) on two tiny synthetic sequences
(64x48, 7 frames; PSNR/SSIM/tOF, no weights needed). The browser tests (test_report_browser.py) use the same.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from _support.paths import shared_path
from _support.report_data import NOISE, SEQS, make_results

from vsrbench.cli import main
from vsrbench.core.io import decode_image, write_frame
from vsrbench.visual.report import (
    DEFAULT_FRAMES,
    build_report,
    embed_json,
    load_embedded,
    pick_frames,
    share_frames,
    table_html,
)
from vsrbench.results.loading import load_results

# the SVG namespace name: an identifier in document.createElementNS, never fetched
SVG_NS = "http://www.w3.org/2000/svg"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("report_data"))


@pytest.fixture(scope="module")
def site(results, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "site"
    assert main(["report", str(results), "--out", str(out)]) == 0
    return out


def page_files(site: Path) -> list[Path]:
    return [site / "index.html", site / "report.js", site / "report.css"]


class Collect(HTMLParser):
    """Tags, ids and every src/href of a page; an end tag that closes nothing open is an error."""

    VOID = {"meta", "link", "img", "br", "hr", "input", "source"}

    def __init__(self):
        super().__init__()
        self.stack, self.ids, self.refs, self.errors, self.tags = [], set(), [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        self.refs += [a[k] for k in ("src", "href") if a.get(k)]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag not in self.stack:
            self.errors.append(f"</{tag}> closes nothing")
            return
        while self.stack.pop() != tag:
            pass


def test_the_folder_is_self_contained(site):
    for path in page_files(site):
        text = path.read_text(encoding="utf-8").replace(SVG_NS, "")
        assert not re.search(r"https?://|//cdn|\bfetch\(|XMLHttpRequest|@import", text, re.I), path.name
    page = Collect()
    page.feed((site / "index.html").read_text(encoding="utf-8"))
    for ref in page.refs:  # every reference is a file of the folder, a link inside the page or a data: URL
        assert ref.startswith(("data:", "#")) or (site / ref).is_file(), ref
    data = load_embedded(site / "index.html")
    for entry in (s for ds in data["viewer"].values() for s in ds.values()):
        for paths in entry["panels"].values():
            assert all(p is None or ((site / p).is_file() and not p.startswith(("/", "http"))) for p in paths)


def test_index_html_parses_with_every_part(site):
    text = (site / "index.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    page = Collect()
    page.feed(text)
    page.close()
    assert not page.errors and page.stack == [], (page.errors, page.stack)
    assert {"leaderboard", "curves", "viewer", "profiles", "vsrbench-data", "main-img", "seq-select",
            "frame-select", "frame-indicator"} <= page.ids
    assert page.tags.count("table") == 1 and text.count('class="sortable"') == 3
    # the caption names the protocol and the average
    assert "protocol tecogan" in text and "mean of the per-sequence means (seq_avg)" in text


def test_embedded_json_is_the_store(site, results):
    df = load_results(results)
    data = load_embedded(site / "index.html")
    assert data["datasets"] == ["GT"] and set(data["metrics"]) == {"psnr", "ssim", "tof"}
    curves = data["curves"]["GT"]
    assert set(curves) == set(SEQS)
    n = 0
    for row in df.itertuples():
        points = dict(map(tuple, curves[row.sequence][row.metric][row.method]))
        assert points[row.frame] == pytest.approx(row.value, rel=1e-12)
        n += 1
    assert n == sum(len(p) for s in curves.values() for m in s.values() for p in m.values())
    assert list(curves["city"]["psnr"]) == list(NOISE)  # methods in run order
    assert data["colors"]["A"] != data["colors"]["B"]
    for seq in SEQS:  # the viewer: scored frames only, GT first, then every method
        entry = data["viewer"]["GT"][seq]
        scored = sorted(set(df.loc[df["sequence"] == seq, "frame"]))
        assert entry["frames"] == pick_frames(scored, DEFAULT_FRAMES) == scored
        assert list(entry["panels"]) == ["GT", *NOISE] and entry["size"] == [64, 48]


def test_images_are_written_once_and_match_the_frames(site, results):
    data = load_embedded(site / "index.html")
    entry = data["viewer"]["GT"]["walk"]
    all_paths = [p for s in data["viewer"]["GT"].values() for ps in s["panels"].values() for p in ps]
    assert len(all_paths) == len(set(all_paths))  # one file per (sequence, panel, frame)
    frame = entry["frames"][1]
    shown = decode_image(site / entry["panels"]["C"][1])  # 64 px wide: written at full resolution
    original = decode_image(results.parent / "C" / "walk" / f"{frame:03d}.png")
    np.testing.assert_array_equal(shown, original)
    pngs = sorted((site / "img").rglob("*.png"))
    profiles = [p for p in pngs if p.name.endswith("-profiles.png")]
    assert len(profiles) == len(SEQS) and len(pngs) == len(all_paths) + len(profiles)


def test_size_stays_small_and_is_accounted_for(site, results, tmp_path, capsys):
    files = [p for p in site.rglob("*") if p.is_file() and p.name != ".vsrbench-report"]
    total = sum(p.stat().st_size for p in files)
    assert total < 400 * 1024, total  # 2 sequences x 4 panels x 3 frames of 64x48 + 2 profiles + page
    report = build_report(results, tmp_path / "again")
    assert set(report.sizes) == {"page", "assets", "frames", "profiles"}
    assert report.total == pytest.approx(total, rel=0.02)  # the same content, byte counts agree
    assert report.images == len([p for p in files if p.suffix == ".png"])
    assert report.sizes["frames"] > 0 and report.sizes["profiles"] > 0 and report.sizes["assets"] > 1000


def test_viewer_frames_and_max_frames_limit_the_frames_not_their_pixels(results, tmp_path):
    report = build_report(results, tmp_path / "small", frames=2, profiles=False)
    data = load_embedded(report.index)
    for seq in SEQS:
        entry = data["viewer"]["GT"][seq]
        assert entry["frames"] == [2, 4]  # 2 of the scored frames 2..4, first and last
        img = decode_image(tmp_path / "small" / entry["panels"]["A"][0])
        assert img.shape == (48, 64, 3)  # every pixel
    assert report.sizes["profiles"] == 0 and not list((tmp_path / "small" / "img").glob("*profiles*"))
    warned: list[str] = []
    report = build_report(results, tmp_path / "capped", max_frames=3, warn=warned.append)  # 2 x 3 wanted
    viewer = load_embedded(report.index)["viewer"]["GT"]
    assert (viewer["city"]["frames"], viewer["walk"]["frames"]) == ([2, 4], [3])  # 2 + 1, each evenly spread
    assert warned == ["warning: viewer: --max-frames 3 keeps 3 of 6 frames (2 or fewer per sequence)"]
    warned.clear()
    report = build_report(results, tmp_path / "one", max_frames=1, warn=warned.append)
    assert list(load_embedded(report.index)["viewer"]["GT"]) == ["city"]
    assert warned == ["warning: viewer: --max-frames 1 keeps 1 of 6 frames (1 or fewer per sequence); "
                      "left out of the viewer: GT/walk"]
    assert len(list((tmp_path / "one" / "img").glob("*profiles.png"))) == 2  # profiles of both sequences
    assert report.images == 4 + 2  # GT and 3 methods for one frame, and the profiles


def test_frames_wider_than_the_former_480_px_are_kept_whole(tmp_path):
    """The viewer used to downscale frames to 480 px; a 520 x 200 output is now stored as it is."""
    rng = np.random.default_rng(3)
    for i in range(5):  # tecogan scores the middle one
        gt = rng.integers(0, 256, (200, 520, 3), dtype=np.uint8)
        write_frame(tmp_path / "GT" / "s" / f"{i:03d}.png", gt)
        write_frame(tmp_path / "M" / "s" / f"{i:03d}.png", np.clip(gt.astype(int) + 3, 0, 255).astype(np.uint8))
    assert main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "M"), "--method", "M",
                 "--out", str(tmp_path / "res"), "--metrics", "psnr"]) == 0
    report = build_report(tmp_path / "res", tmp_path / "site", profiles=False)
    entry = load_embedded(report.index)["viewer"]["GT"]["s"]
    assert entry["size"] == [520, 200]
    for name, folder in (("GT", "GT"), ("M", "M")):
        for f, rel in zip(entry["frames"], entry["panels"][name]):
            np.testing.assert_array_equal(decode_image(tmp_path / "site" / rel),
                                          decode_image(tmp_path / folder / "s" / f"{f:03d}.png"))


def test_share_frames_gives_each_sequence_its_turn():
    assert share_frames([4, 4, 4], 0) == [4, 4, 4] and share_frames([4, 4, 4], 12) == [4, 4, 4]
    assert share_frames([4, 4, 4], 10) == [4, 3, 3] and share_frames([2, 8, 8], 12) == [2, 5, 5]
    assert share_frames([3, 3], 1) == [1, 0] and share_frames([], 5) == []
    for counts, cap in (([5, 1, 7, 2], 9), ([10] * 7, 20), ([1, 2, 3], 5)):
        shares = share_frames(counts, cap)
        assert sum(shares) == min(cap, sum(counts)) and all(0 <= s <= c for s, c in zip(shares, counts))
        short = [s for s, c in zip(shares, counts) if s < c]  # those cut differ by at most one frame
        assert not short or max(short) - min(short) <= 1 and all(s >= min(short) for s in shares if s in short)


def test_pick_frames_spreads_evenly():
    assert pick_frames(range(2, 39), 8) == [2, 7, 12, 17, 23, 28, 33, 38]  # 2 + round(i * 36 / 7)
    assert pick_frames([5], 3) == [5] and pick_frames(range(10), 1) == [5]
    assert pick_frames(range(20), 0) == list(range(20))


def test_embedded_json_cannot_close_its_script():
    text = embed_json({"m</script><!--": [1.5, None]})
    assert "<" not in text and json.loads(text) == {"m</script><!--": [1.5, None]}


def test_a_report_folder_is_rewritten_but_another_folder_is_refused(results, tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["report", str(results), "--out", str(out), "--frames", "1", "--no-profiles"]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"report written to .*index\.html: [\d.]+ KiB \(page .*; \d+ PNG images\)", line), line
    assert main(["report", str(results), "--out", str(out), "--frames", "2", "--no-profiles"]) == 0
    capsys.readouterr()
    assert len(list((out / "img").rglob("*.png"))) == 2 * 4 * 2  # the earlier report's images are gone
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert main(["report", str(results), "--out", str(other)]) != 0
    err = capsys.readouterr().err.strip()
    assert err == (f"vsrbench report: error: --out: {str(other)!r} is not empty and holds no earlier vsrbench "
                   "report; choose a new or empty folder")
    assert (other / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("argv, message", [
    (["--frames", "-1"], "--viewer-frames: expected an integer >= 0 (0: all frames), got -1"),
    (["--max-frames", "-2"], "--max-frames: expected an integer >= 0 (0: no cap), got -2"),
    (["--width", "320"], "--width: removed; the viewer shows frames at full resolution (native pixels), make the "
                         "report smaller with --viewer-frames N or --max-frames N"),
    (["--published-file", "x.csv"], "--published-file: only used with --published; add --published"),
])
def test_bad_options_are_one_line(results, tmp_path, capsys, argv, message):
    assert main(["report", str(results), "--out", str(tmp_path / "s"), *argv]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip() == f"vsrbench report: error: {message}"


def test_missing_outputs_are_a_warning_and_the_rest_is_shown(tmp_path, capsys):
    res = make_results(tmp_path)
    capsys.readouterr()
    import shutil

    shutil.rmtree(tmp_path / "C")
    out = tmp_path / "site"
    assert main(["report", str(res), "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert "vsrbench report: warning: viewer of GT/city: no frames found for C (shown without them)" in err
    data = load_embedded(out / "index.html")
    assert list(data["viewer"]["GT"]["city"]["panels"]) == ["GT", "B", "A"]
    assert "C" in data["curves"]["GT"]["city"]["psnr"]  # its numbers are still shown


def test_published_rows_are_marked_in_the_leaderboard(results):
    from vsrbench.catalog.published import load_published
    from vsrbench.analysis.tables import build_tables

    df = load_results(results)
    tables = build_tables(df, published=load_published(), info={"GT": {"suite": "vid4", "degradation": None}})
    text = table_html(tables[0], {"psnr": True, "ssim": True, "tof": False})
    assert text.count('class="published"') >= 1 and "<sup>†1</sup>" in text
    assert text.count("<tr data-method=") == len(tables[0].rows)


def test_the_cli_defaults_are_the_library_defaults():
    import argparse

    from vsrbench.commands import report as cmd
    from vsrbench.visual.report import DEFAULT_MAX_FRAMES, ReportRequest

    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    args = parser.parse_args(["RES", "--out", "site"])
    assert (args.frames, args.max_frames) == (DEFAULT_FRAMES, DEFAULT_MAX_FRAMES)
    assert cmd._request(args) == ReportRequest(results="RES", out="site")


def test_the_readme_shows_a_small_report_screenshot():
    repo = Path(__file__).resolve().parents[1]
    readme = (repo / "README.md").read_text(encoding="utf-8")
    assert "](docs/report-demo.png)" in readme and "vsrbench report RESULTS --out site" in readme
    png = repo / "docs" / "report-demo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 100_000


@pytest.mark.slow
@pytest.mark.shared
def test_the_vid4_example_makes_a_small_report(tmp_path, capsys, vid4_walk_example):
    """Real frames: one Vid4 scene of the shipped example (GT, DUF-16L/52L outputs, both bicubics)."""
    res = vid4_walk_example
    report = build_report(res, tmp_path / "site")
    data = load_embedded(report.index)
    entry = data["viewer"]["vid4"]["walk"]
    assert list(entry["panels"]) == ["GT", "DUF-16L", "DUF-52L", "Bicubic", "Bicubic-TF"]
    assert len(entry["frames"]) == DEFAULT_FRAMES and entry["size"] == [720, 480]
    gt_files = sorted(shared_path("data", "vid4", "GT", "walk").glob("*.png"))
    for name in ("GT", "DUF-52L"):  # every pixel of the 720x480 frames, as they were scored
        shown = decode_image(tmp_path / "site" / entry["panels"][name][0])
        assert shown.shape == (480, 720, 3), name
    np.testing.assert_array_equal(decode_image(tmp_path / "site" / entry["panels"]["GT"][0]),
                                  decode_image(gt_files[entry["frames"][0]]))
    assert report.images == 5 * DEFAULT_FRAMES + 1 and report.sizes["frames"] < 5 * DEFAULT_FRAMES * 700 * 1024
    assert report.total < 15 * 1024 ** 2 and report.sizes["page"] < 100 * 1024, report.sizes


def test_an_unreadable_frame_is_named_as_such_not_as_a_write_failure(tmp_path, capsys, monkeypatch):
    """A frame that cannot be read is io's one-line read error; it used to be re-labelled
    'cannot write the report to ...' because the whole build was wrapped as a write."""
    import vsrbench.core.io

    res = make_results(tmp_path)
    capsys.readouterr()
    frame = tmp_path / "GT" / SEQS[0] / "000.png"
    real = vsrbench.core.io.np.fromfile

    def fromfile(path, *args, **kwargs):  # root reads any file: simulate a permission error on one
        if Path(path) == frame:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(vsrbench.core.io.np, "fromfile", fromfile)
    assert main(["report", str(res), "--out", str(tmp_path / "site"), "--frames", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"vsrbench report: error: cannot read frame '{frame}'") and "permission denied" in err, err
