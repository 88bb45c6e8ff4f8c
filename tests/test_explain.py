"""``vsrbench explain``: which convention gives this number?

The cached one-pass numbers are checked against the normal pipeline
(``evaluate_sequence(pred, gt, protocol=...)`` + the accumulator's averages) for variants on every
axis; a number computed under a known override is traced back to it; bad targets are one line.
"""
from __future__ import annotations

import math
import subprocess
import sys

import cv2
import numpy as np
import pytest
from _support.paths import shared_path

from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.evaluate import evaluate_sequence
from vsrbench.explain import Target, explain, parse_target, verdict
from vsrbench.core.io import FrameSequence, open_dataset, pair_datasets, write_frame
from vsrbench.metrics import MetricAccumulator, get_protocol, psnr


def _clip(rng, n: int, shape=(80, 104)):
    gts, outs = [], []
    for _ in range(n):
        base = cv2.GaussianBlur(rng.uniform(0, 255, shape + (3,)), (0, 0), 2.0)
        gt = np.clip(np.round((base - base.min()) * 255 / np.ptp(base)), 0, 255).astype(np.uint8)
        out = cv2.GaussianBlur(gt.astype(np.float64), (0, 0), 0.8) + rng.normal(0, 6, gt.shape)
        # a wider error band along the border, so that every crop gives another number
        out[:6] += rng.normal(0, 12, out[:6].shape)
        gts.append(gt)
        outs.append(np.clip(np.round(out), 0, 255).astype(np.uint8))
    return gts, outs


@pytest.fixture(scope="module")
def pairs():
    """Three clips of different lengths (7, 9, 6 frames), so frame_avg and seq_avg differ."""
    rng = np.random.default_rng(8)
    out = []
    for name, n in (("a", 7), ("b", 9), ("c", 6)):
        g, p = _clip(rng, n)
        out.append((FrameSequence.from_arrays(name, g), FrameSequence.from_arrays(name, p)))
    return out


def _reference(pairs, protocol, average: str, metric: str) -> float:
    """The normal pipeline: evaluate_sequence(pred, gt) per clip, then the accumulator's average."""
    acc = MetricAccumulator()
    for g, p in pairs:
        acc.update(g.name, evaluate_sequence(p, g, protocol=protocol, metrics=[metric], device="cpu").rows)
    return acc.summary(metric)[average]


def _psnr_fields(p) -> tuple:
    """The fields PSNR depends on (a row may name another preset with the same PSNR convention)."""
    return (p.color, p.y_precision if p.color == "y" else "", p.crop, p.crop_border if p.crop == "border" else 0,
            p.cut_frames)


def test_every_axis_equals_the_normal_pipeline(pairs):
    ex = explain(pairs, [parse_target("psnr=30"), parse_target("ssim=0.9")])
    assert len(ex.rows) == 3 * 4 * 4 * (2 * 2 + 1)  # colours x crops x SSIM (window, range) x (cut 0/2 x avg + centre)
    wanted = [  # (colour, precision, crop, border, frames, cut, average, ssim, range): one of each value at least
        ("y", "float32", "border", 8, "all", 0, "frame_avg", "gaussian11", "255"),
        ("y", "float64", "border", 4, "all", 2, "seq_avg", "uniform7", "pred"),
        ("rgb", "float64", "border", 0, "all", 2, "frame_avg", "gaussian11", "pred"),
        ("y", "float64", "center32", 0, "all", 2, "seq_avg", "uniform7", "pred"),  # = tecogan
        ("y", "float32", "center32", 0, "all", 0, "frame_avg", "uniform7", "255"),
        ("rgb", "float64", "border", 8, "all", 0, "seq_avg", "uniform7", "255"),
    ]
    checked = 0
    for r in ex.rows:
        v = r.variant
        if (v.color, v.y_precision, v.crop, v.crop_border, v.frames_scored, v.cut_frames, v.average, v.ssim,
                v.ssim_data_range) not in wanted:
            continue
        proto = r.protocol()
        for metric in ("psnr", "ssim"):
            assert r.values[metric] == pytest.approx(_reference(pairs, proto, v.average, metric), abs=1e-9, rel=0), \
                (r.text, v.average, metric)
        checked += 1
    assert checked == len(wanted)
    tecogan = [r for r in ex.rows if r.text == "tecogan" and r.variant.average == "seq_avg"
               and r.variant.ssim == "uniform7" and r.variant.ssim_data_range == "pred"]
    assert len(tecogan) == 1  # the preset itself is written as just its name


def test_ssim_target_alone(pairs):
    ex = explain(pairs, [parse_target("ssim=0.9")])
    assert len(ex.rows) == 3 * 4 * 4 * 5 and all(set(r.values) == {"ssim"} for r in ex.rows)
    r = [r for r in ex.rows if r.text == "basicsr-rgb --set crop_border=4" and r.variant.average == "frame_avg"][0]
    assert r.values["ssim"] == pytest.approx(_reference(pairs, r.protocol(), "frame_avg", "ssim"), abs=1e-9, rel=0)


def test_frame_and_clip_averages_differ_here(pairs):
    ex = explain(pairs, [parse_target("psnr=30")])
    by = {(r.text, r.variant.average): r.values["psnr"] for r in ex.rows}
    assert abs(by[("basicsr-y", "frame_avg")] - by[("basicsr-y", "seq_avg")]) > 1e-4


def test_one_row_when_both_averages_are_equal():
    rng = np.random.default_rng(3)
    same = []
    for name in ("x", "y"):
        g, p = _clip(rng, 5, (64, 64))
        same.append((FrameSequence.from_arrays(name, g), FrameSequence.from_arrays(name, p)))
    ex = explain(same, [parse_target("psnr=30")])
    assert len(ex.rows) == 3 * 4 * 3  # colours x crops x (cut 0, cut 2, centre): frame_avg = seq_avg everywhere
    assert all(r.averaging == "seq_avg=frame_avg" for r in ex.rows if r.variant.frames_scored == "all")
    ref = _reference(same, get_protocol("basicsr-y"), "frame_avg", "psnr")
    assert [r for r in ex.rows if r.text == "basicsr-y"][0].values["psnr"] == pytest.approx(ref, abs=1e-9, rel=0)


def test_centre_frame_variant_scores_frame_n_over_2(pairs):
    ex = explain(pairs, [parse_target("psnr=30")])
    rows = [r for r in ex.rows if r.variant.frames_scored == "center" and r.variant.color == "y"
            and r.variant.y_precision == "float32" and r.variant.crop_key == ("border", 0)]
    assert len(rows) == 1 and rows[0].text == "basicsr-y --set frames_scored=center"
    # an independent reading: the public psnr() on the centre frame of each clip, mean over clips
    want = np.mean([psnr(p[len(p) // 2], g[len(g) // 2], protocol="basicsr-y") for g, p in pairs])
    assert rows[0].values["psnr"] == pytest.approx(want, abs=1e-9, rel=0)


def test_centre_frame_variant_equals_the_pipeline(pairs):
    ex = explain(pairs, [parse_target("psnr=30"), parse_target("ssim=0.9")])
    for r in [r for r in ex.rows if r.variant.frames_scored == "center"][:6]:
        for metric in ("psnr", "ssim"):
            assert r.values[metric] == pytest.approx(_reference(pairs, r.protocol(), "seq_avg", metric), abs=1e-9, rel=0)


@pytest.mark.parametrize("preset, overrides, average", [
    ("basicsr-y", {"crop_border": 8}, "frame_avg"),
    ("basicsr-rgb", {"cut_frames": 2}, "seq_avg"),
    ("tecogan", {"cut_frames": 0, "y_precision": "float32"}, "frame_avg"),
])
def test_finds_the_convention_of_a_number_computed_under_a_known_override(pairs, preset, overrides, average):
    number = _reference(pairs, get_protocol(preset, **overrides), average, "psnr")
    ex = explain(pairs, [Target("psnr", number, 0.01, f"psnr={number!r}")])
    top = ex.rows[0]
    assert abs(top.deltas["psnr"]) < 1e-9
    assert top.variant.average == average
    assert _psnr_fields(top.protocol()) == _psnr_fields(get_protocol(preset, **overrides))
    assert ex.rows[1].distance > 1e-8  # the only one that close (float64 vs float32 luma: ~1e-7 dB here)


def test_finds_psnr_and_ssim_together(pairs):
    proto = get_protocol("duf", ssim="gaussian11", ssim_data_range="255")
    targets = [Target(m, _reference(pairs, proto, "seq_avg", m), u, m) for m, u in (("psnr", 1e-9), ("ssim", 1e-9))]
    top = explain(pairs, targets).rows[0]
    assert top.protocol().hash == proto.hash and top.variant.average == "seq_avg"
    assert max(abs(d) for d in top.deltas.values()) < 1e-9 and top.distance < 1e-6


def test_ties_prefer_the_preset_without_overrides_and_the_verdict_says_it_rounds(pairs):
    """Printed to 2 / 4 decimals, the float64-luma number of duf with BasicSR's SSIM and its float32 twin are the
    same (they differ by ~1e-7 dB): the one written with fewer words comes first, not a needless
    y_precision=float64; the verdict says the number rounds to the printed values."""
    proto = get_protocol("duf", ssim="gaussian11", ssim_data_range="255")
    values = {m: _reference(pairs, proto, "seq_avg", m) for m in ("psnr", "ssim")}
    targets = [parse_target(f"psnr={values['psnr']:.2f}"), parse_target(f"ssim={values['ssim']:.4f}")]
    ex = explain(pairs, targets)
    twin = get_protocol("basicsr-y", crop_border=8, cut_frames=2)
    top = ex.rows[0]
    assert top.text == "basicsr-y --set crop_border=8 cut_frames=2" and top.protocol().hash == twin.hash
    exact = next(r for r in ex.rows if r.protocol().hash == proto.hash and r.variant.average == "seq_avg")
    assert ex.rows.index(exact) > 0 and abs(exact.distance - top.distance) < 0.1
    lines = verdict(ex, ("/data/GT", "/data/my outputs", "vid4", True))
    assert "; rounds to the printed values); reproduce with: vsrbench evaluate --suite vid4 --clips-only " \
           "--gt /data/GT --pred '/data/my outputs' --protocol basicsr-y --set crop_border=8 --set cut_frames=2" \
           in lines[-1]
    far = explain(pairs, [parse_target("psnr=99.00")])
    assert "does not round to the printed value)" in verdict(far)[-1] and "--gt GT --pred PRED" in verdict(far)[-1]


@pytest.mark.filterwarnings("ignore:.*is the output at the wrong scale")
def test_larger_outputs_are_cut_like_tecogan_and_the_override_says_so():
    rng = np.random.default_rng(5)
    g, p = _clip(rng, 5, (72, 80))
    big = [np.pad(x, ((0, 4), (0, 6), (0, 0)), mode="edge") for x in p]  # 4 rows and 6 columns too many
    pair = [(FrameSequence.from_arrays("s", g), FrameSequence.from_arrays("s", big))]
    notes = []
    ex = explain(pair, [parse_target("psnr=30")], warn=notes.append)
    assert len(notes) == 1 and "output frames are 86x76 but GT is 80x72" in notes[0]
    row = [r for r in ex.rows if r.preset == "basicsr-y" and r.overrides.get("crop_border") == 4
           and r.variant.y_precision == "float32" and r.variant.cut_frames == 0][0]
    assert row.text == "basicsr-y --set crop_border=4 size_rule=crop-pred"
    assert row.values["psnr"] == pytest.approx(_reference(pair, row.protocol(), "seq_avg", "psnr"), abs=1e-9, rel=0)


def test_gray_frames_are_noted_like_evaluate(tmp_path, pairs):
    g, p = pairs[2]
    (tmp_path / "PRED").mkdir()
    for i in range(len(g)):
        write_frame(tmp_path / "GT" / f"{i:03d}.png", g[i])
        cv2.imwrite(str(tmp_path / "PRED" / f"{i:03d}.png"), cv2.cvtColor(p[i], cv2.COLOR_RGB2GRAY))  # 1 channel
    notes = []
    ex = explain(pair_datasets(open_dataset(tmp_path / "GT"), open_dataset(tmp_path / "PRED")),
                 [parse_target("psnr=30")], warn=notes.append)
    assert len(notes) == 1 and notes[0].startswith("sequence 'GT': output frames") and "gray" in notes[0], notes
    assert ex.rows


def test_frame_count_mismatch_is_one_line(pairs):
    g, p = pairs[0]
    short = FrameSequence.from_arrays(g.name, [p[i] for i in range(len(p) - 1)])
    with pytest.raises(InputError, match=r"^sequence 'a': GT has 7 frames but the output has 6$"):
        explain([(g, short)], [parse_target("psnr=30")])


# ------------------------------------------------------------------ targets

def test_target_parsing():
    t = parse_target("PSNR=27.38")
    assert (t.metric, t.value, t.unit) == ("psnr", 27.38, pytest.approx(0.01))
    assert parse_target("ssim=0.8329").unit == pytest.approx(1e-4)
    assert parse_target("psnr=27").unit == 1.0


@pytest.mark.parametrize("text, expected", [
    ("psnrr=27.38", "unknown --target metric 'psnrr'; did you mean 'psnr'?"),
    ("psnr=abc", "--target 'psnr=abc': 'abc' is not a number; expected METRIC=VALUE, e.g. --target psnr=27.38"),
    ("psnr", "--target 'psnr': expected METRIC=VALUE, e.g. --target psnr=27.38"),
    ("psnr=nan", "--target 'psnr=nan': expected a finite number, got 'nan'"),
    ("lpips=0.2", "--target 'lpips=0.2': explain varies the PSNR and SSIM conventions only"),
])
def test_bad_targets_are_one_line(text, expected):
    with pytest.raises((InputError, UnknownNameError)) as e:
        parse_target(text)
    assert str(e.value).startswith(expected) and "\n" not in str(e.value)


def test_same_metric_twice_is_refused(pairs):
    with pytest.raises(InputError, match="psnr given twice"):
        explain(pairs, [parse_target("psnr=30"), parse_target("psnr=31")])


# ------------------------------------------------------------------ the command

@pytest.fixture(scope="module")
def folders(tmp_path_factory, pairs):
    root = tmp_path_factory.mktemp("explain")
    for g, p in pairs:
        for i in range(len(g)):
            write_frame(root / "GT" / g.name / f"Frame {i + 1:03d}.png", g[i])
            write_frame(root / "PRED" / g.name / f"Frame{i + 1:03d}.png", p[i])
    return root


def test_cli_table_and_closest_line(folders, pairs, capsys):
    number = _reference(pairs, get_protocol("basicsr-y", crop_border=8, cut_frames=2), "seq_avg", "psnr")
    code = main(["explain", "--gt", str(folders / "GT"), "--pred", str(folders / "PRED"),
                 "--target", f"psnr={number!r}", "--top", "5"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("60 variants scored on 3 clip(s), 22 frames")
    assert lines[1].split()[:5] == ["rank", "variant", "averaging", "PSNR", "Δ"]
    assert len(lines) == 1 + 2 + 5 + 1
    # the same convention as duf with BasicSR's float32 luma: written with the fewest overrides
    assert lines[3].split()[:6] == ["1", "duf", "--set", "y_precision=float32", "seq_avg", f"{number:.3f}"], out
    assert lines[-1].startswith("closest: duf --set y_precision=float32, seq_avg (Δ psnr ")
    assert lines[-1].endswith(f"reproduce with: vsrbench evaluate --gt {folders / 'GT'} --pred {folders / 'PRED'} "
                              "--protocol duf --set y_precision=float32 (read its seq_avg)")


@pytest.mark.parametrize("target, expected", [
    ("psnrr=27.38", "vsrbench explain: error: unknown --target metric 'psnrr'; did you mean 'psnr'?"),
    ("psnr=abc", "vsrbench explain: error: --target 'psnr=abc': 'abc' is not a number"),
    ("tof=0.2", "vsrbench explain: error: --target 'tof=0.2': explain varies the PSNR and SSIM conventions only"),
])
def test_cli_bad_target_one_line(folders, target, expected, capsys):
    code = main(["explain", "--gt", str(folders / "GT"), "--pred", str(folders / "PRED"), "--target", target])
    cap = capsys.readouterr()
    assert code != 0 and cap.out == ""
    assert cap.err.startswith(expected) and cap.err.count("\n") == 1, cap.err


def test_cli_error_is_one_line_in_a_subprocess(folders):
    r = subprocess.run([sys.executable, "-m", "vsrbench", "explain", "--gt", str(folders / "GT"),
                        "--pred", str(folders / "PRED"), "--target", "psnr=abc"], capture_output=True, text=True)
    assert r.returncode != 0 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.startswith("vsrbench explain: error: --target 'psnr=abc'") and r.stderr.count("\n") == 1


@pytest.fixture(scope="module")
def vid4_lookalike(tmp_path_factory, pairs):
    """The synthetic clips under Vid4's clip names (calendar, city, foliage: short and small)."""
    root = tmp_path_factory.mktemp("vid4like")
    for (g, p), name in zip(pairs, ("calendar", "city", "foliage", "walk")):
        for i in range(len(g)):
            write_frame(root / "GT" / name / f"Frame {i + 1:03d}.png", g[i])
            write_frame(root / "PRED" / name / f"Frame{i + 1:03d}.png", p[i])
    return root


def test_cli_suite_missing_clip_is_one_line(vid4_lookalike, capsys):
    pytest.importorskip("vsrbench.catalog.suites", reason="vsrbench.catalog.suites (helper A's benchmark suites) is not in this checkout")
    root = vid4_lookalike  # three clips of Vid4's four: 'walk' is missing
    code = main(["explain", "--gt", str(root / "GT"), "--pred", str(root / "PRED"), "--target", "psnr=30",
                 "--suite", "vid4", "--clips-only"])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "walk" in err and "missing" in err, err


def test_cli_suite_row_and_line(tmp_path, rng, capsys):
    pytest.importorskip("vsrbench.catalog.suites", reason="vsrbench.catalog.suites (helper A's benchmark suites) is not in this checkout")
    from vsrbench.catalog.suites import get_suite

    seqs = []
    for name in ("calendar", "city", "foliage", "walk"):
        g, p = _clip(rng, 5, (64, 72))
        for i in range(5):
            write_frame(tmp_path / "GT" / name / f"Frame {i + 1:03d}.png", g[i])
            write_frame(tmp_path / "PRED" / name / f"Frame{i + 1:03d}.png", p[i])
        seqs.append((FrameSequence.from_arrays(name, g), FrameSequence.from_arrays(name, p)))
    argv = ["explain", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"), "--target", "psnr=99",
            "--suite", "vid4", "--top", "2"]
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "5 frames, expected 41" in err, err  # strict: frame counts
    assert main(argv + ["--clips-only"]) == 0
    lines = capsys.readouterr().out.splitlines()
    proto = get_suite("vid4").protocol()
    want = _reference(seqs, proto, proto.average, "psnr")
    marked = [x for x in lines if "(suite)" in x]
    assert len(marked) == 1 and marked[0].split()[1] == "basicsr-y" and f"{want:.3f}" in marked[0]
    assert lines[-1].startswith("suite vid4 convention (Y, crop 0, all frames") and f"psnr {want:.3f}" in lines[-1]
    assert main(["explain", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "PRED"), "--target", "psnr=9",
                 "--clips-only"]) != 0
    assert capsys.readouterr().err.startswith("vsrbench explain: error: --clips-only applies to --suite only")


# ------------------------------------------------------------------ real Vid4 (DUF-52L outputs)

def test_vid4_duf_and_tecogan_presets_are_among_the_variants():
    gt, pred = shared_path("data", "vid4", "GT"), shared_path("data", "vid4", "DUF-52L")
    pairs = pair_datasets(open_dataset(gt), open_dataset(pred))[:2]  # calendar, city: enough, and fast
    ex = explain(pairs, [parse_target("psnr=27.38")])
    by = {(r.text, r.variant.average): r for r in ex.rows}
    for preset in ("duf", "tecogan"):
        proto = get_protocol(preset)
        want = _reference(pairs, proto, proto.average, "psnr")
        assert by[(preset, proto.average)].values["psnr"] == pytest.approx(want, abs=1e-9, rel=0)
    # the DUF number (crop 8) and TecoGAN's (centre window) differ by hundredths of a dB, both with 2 frames cut
    assert 0.005 < abs(by[("duf", "seq_avg")].values["psnr"] - by[("tecogan", "seq_avg")].values["psnr"]) < 0.2
    assert math.isfinite(ex.rows[0].distance)


def test_outputs_holding_only_the_centre_frame_are_explained_on_that_frame_only(rng):
    """An im4-only output (suites.centre_padded) gives only centre-frame variants: any other frame rule
    would compare im4 with the other GT frames."""
    from vsrbench.catalog.suites import centre_padded

    gt, out = _clip(rng, 7)
    g_seq = FrameSequence.from_arrays("c0", gt)
    p_seq = centre_padded(FrameSequence.from_arrays("c0", [out[3]]), 7)
    ex = explain([(g_seq, p_seq)], [parse_target("psnr=30")])
    assert ex.rows and {r.variant.frames_scored for r in ex.rows} == {"center"}
    rgb0 = [r.values["psnr"] for r in ex.rows if r.variant.color == "rgb" and r.variant.crop_key == ("border", 0)]
    assert rgb0 and all(v == pytest.approx(psnr(out[3], gt[3], protocol="basicsr-rgb"), abs=1e-9) for v in rgb0)


def test_explain_reads_a_results_store(tmp_path, capsys, rng):
    """explain on a results folder: the stored method's GT and outputs come from its run record, and
    the stored number is found again (issue #8 §4: explain works on the one store)."""
    from vsrbench.results.loading import load_results

    for k in range(2):
        gt, out = _clip(rng, 4, shape=(64, 80))
        for i in range(4):
            write_frame(tmp_path / "GT" / f"c{k}" / f"{i:03d}.png", gt[i])
            write_frame(tmp_path / "mine" / f"c{k}" / f"{i:03d}.png", out[i])
    res = tmp_path / "res"
    assert main(["evaluate", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "mine"), "--out", str(res),
                 "--protocol", "basicsr-y", "--set", "crop_border=4", "--metrics", "psnr"]) == 0
    df = load_results(res)
    stored = float(df.groupby("sequence")["value"].mean().mean())  # seq_avg
    capsys.readouterr()
    assert main(["explain", "--results", str(res), "--method", "mine", "--target", f"psnr={stored!r}"]) == 0
    out = capsys.readouterr().out
    closest = [line for line in out.splitlines() if line.startswith("closest:")][0]
    assert "crop_border=4" in closest, out
    # the command to reproduce it names the recorded folders, not placeholders
    assert f"--gt {(tmp_path / 'GT').resolve()} --pred {(tmp_path / 'mine').resolve()} --protocol" in closest, closest
    assert main(["explain", "--results", str(res), "--method", "mine", "--gt", "x", "--target", "psnr=1"]) == 2
    assert "give either --results (with --method) or --gt and --pred, not both" in capsys.readouterr().err
    assert main(["explain", "--results", str(res), "--method", "mien", "--target", "psnr=1"]) == 2
    assert "unknown method 'mien'; did you mean 'mine'?" in capsys.readouterr().err


def test_a_printed_dover_number_is_explained_by_its_scale(capsys):
    from vsrbench.cli import main

    assert main(["explain", "--target", "dover=0.78"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[0] == "dover" and "STAR" in out[1] and out[2].split()[0] == "fastervqa"
    assert main(["explain", "--target", "dover=7.7"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[0] == "dover-technical"  # SeedVR's x100 technical
    assert main(["explain", "--target", "dover=90"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[0] == "dover"  # overall x100 (AVT-VQDB-UHD-1-VSR)
    assert main(["explain", "--target", "dover=0.78", "--target", "psnr=27.3"]) != 0
    err = capsys.readouterr().err.strip()
    assert "explained by its scale alone" in err and "\n" not in err
