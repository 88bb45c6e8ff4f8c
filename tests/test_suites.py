"""Benchmark suites as data (vsrbench.catalog.suites): facts, conventions and validation of small look-alike layouts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vsrbench.catalog.benchfile import load_bench
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.io import decode_image, write_frame
from vsrbench.runner import run_benchmark
from vsrbench.results.loading import load_results, load_runs
from vsrbench.catalog.suites import SUITE_NAMES, SUITES, Suite, detect_suite, get_suite

REDS4 = ("000", "011", "015", "020")
VIMEO_CLIPS = ("00001/0266", "00001/0268", "00002/0004")


def write_clip(folder: Path, names, size=(8, 12), seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        write_frame(folder / n, rng.integers(0, 256, (*size, 3), dtype=np.uint8))


def reds_lookalike(root: Path, clips=REDS4, frames=3, size=(8, 12), seed=0) -> Path:
    for k, c in enumerate(clips):
        write_clip(root / c, [f"{i:08d}.png" for i in range(frames)], size, seed + k)
    return root


def vimeo_lookalike(root: Path, clips=VIMEO_CLIPS, frames=range(1, 8), size=(8, 12), seed=0) -> Path:
    for k, c in enumerate(clips):
        write_clip(root / "sequences" / c, [f"im{i}.png" for i in frames], size, seed + k)
    return root


# ---------------------------------------------------------------------- facts

def test_the_suites_are_registered():
    assert tuple(SUITES) == SUITE_NAMES == ("vid4", "reds4", "vimeo90k-t", "udm10", "spmcs", "tos3", "youhq40",
                                            "reds30", "videolq", "realvsr", "mvsr4x")
    assert all(isinstance(s, Suite) for s in SUITES.values())


def test_unknown_suite_suggests_the_closest():
    with pytest.raises(UnknownNameError, match=r"unknown suite 'reds'; did you mean 'reds4'\?"):
        get_suite("reds")


def test_vid4_and_reds4_facts():
    vid4 = get_suite("vid4")
    assert [(s.name, s.frames, s.size) for s in vid4.sequences] == [
        ("calendar", 41, (576, 720)), ("city", 34, (576, 704)), ("foliage", 49, (480, 720)), ("walk", 47, (480, 720))]
    assert vid4.n_frames == 171
    reds = get_suite("reds4")
    assert reds.names == REDS4 and {(s.frames, s.size) for s in reds.sequences} == {(100, (720, 1280))}
    assert reds.layouts[0].frame_name(99) == "00000099.png"


def test_vimeo_clip_list_is_basicsr_meta_info():
    v = get_suite("vimeo90k-t")
    assert v.n_clips == 7824 and len(set(v.names)) == 7824
    assert v.names[:2] == ("00001/0266", "00001/0268")
    assert all(len(n) == 10 and n[5] == "/" and n[:5].isdigit() and n[6:].isdigit() for n in v.names)
    assert {(s.frames, s.size) for s in v.sequences} == {(7, (256, 448))}
    assert v.frames_scored == "center"


def test_conventions():
    assert get_suite("vid4").protocol().name == "basicsr-y"
    assert get_suite("reds4").protocol().color == "rgb"
    p = get_suite("vimeo90k-t").protocol()
    assert (p.color, p.crop_border, p.frames_scored) == ("y", 0, "center")
    assert get_suite("tos3").protocol().name == "tecogan"
    assert get_suite("vid4").protocol(crop_border=8).crop_border == 8


def test_degradations_exist():
    from vsrbench.baselines.degrade import DEGRADATIONS

    for s in SUITES.values():
        for d in s.degradations:
            assert d in DEGRADATIONS, (s.name, d)
    assert "bd-basicvsr" in get_suite("vid4").degradations and "bd-tecogan" in get_suite("tos3").degradations


# ---------------------------------------------------------------------- validation

def test_reds4_lookalike_validates(tmp_path):
    gt = reds_lookalike(tmp_path / "gt")
    suite = get_suite("reds4").lookalike(frames=3, size=(8, 12))
    check = suite.validate(gt)
    assert check.clips == REDS4 and check.layout == "basicsr"
    assert [len(s) for s in check.gt.values()] == [3] * 4


def test_reds4_strict_refuses_wrong_count_and_lenient_accepts(tmp_path):
    gt = reds_lookalike(tmp_path / "gt")
    with pytest.raises(InputError, match=r"GT clip '.*000': 3 frames, expected 100 \(100 frames "
                                         r"00000000.png..00000099.png\) for suite reds4"):
        get_suite("reds4").validate(gt)
    assert get_suite("reds4").validate(gt, strict=False).clips == REDS4


def test_missing_clip(tmp_path):
    gt = reds_lookalike(tmp_path / "gt", clips=("000", "011", "020"))
    with pytest.raises(InputError, match=r"suite reds4: 1 clip\(s\) missing: 015 \(expected 4 clips, found 3\)"):
        get_suite("reds4").lookalike(frames=3, size=(8, 12)).validate(gt)


def test_extra_clip(tmp_path):
    gt = reds_lookalike(tmp_path / "gt", clips=(*REDS4, "021"))
    with pytest.raises(InputError, match=r"suite reds4: 1 clip\(s\) not in the suite: 021 \(expected only "
                                         r"000, 011, 015, 020\)"):
        get_suite("reds4").lookalike(frames=3, size=(8, 12)).validate(gt)


def test_wrong_frame_count_and_size(tmp_path):
    gt = reds_lookalike(tmp_path / "gt")
    (gt / "015" / "00000002.png").unlink()
    suite = get_suite("reds4").lookalike(frames=3, size=(8, 12))
    with pytest.raises(InputError, match=r"GT clip '.*015': 2 frames, expected 3 \(3 frames "
                                         r"00000000.png..00000002.png\) for suite reds4"):
        suite.validate(gt)
    gt2 = reds_lookalike(tmp_path / "gt2", size=(8, 10))
    with pytest.raises(InputError, match=r"GT frame '.*000.00000000.png': 8x10 \(HxW\), expected 8x12 for suite reds4"):
        suite.validate(gt2)
    assert get_suite("reds4").lookalike(frames=3).validate(gt2, strict=False).clips == REDS4


def test_layout_matching_no_suite_says_what_was_expected_where(tmp_path):
    gt = reds_lookalike(tmp_path / "gt", clips=("a", "b"))
    with pytest.raises(InputError, match=r"GT '.*gt' matches no clip of suite reds4: found a, b; expected clip "
                                         r"folders 000/, 011/, 015/, 020/ in '.*gt', each with 100 frames "
                                         r"00000000.png..00000099.png"):
        get_suite("reds4").validate(gt)
    flat = tmp_path / "flat"
    write_clip(flat, [f"{i:08d}.png" for i in range(3)])
    with pytest.raises(InputError, match=r"GT '.*flat' does not match suite vid4: it holds image files "
                                         r"\(00000000.png, 00000001.png, 00000002.png, \.\.\.\); expected clip folders "
                                         r"calendar/, city/, foliage/, walk/ in '.*flat', each with 41 frames"):
        get_suite("vid4").validate(flat)


def test_wrong_suite_is_named(tmp_path):
    gt = reds_lookalike(tmp_path / "gt")
    with pytest.raises(InputError, match=r"matches no clip of suite vid4: .*; it looks like suite reds4$"):
        get_suite("vid4").validate(gt)
    assert detect_suite(gt).name == "reds4"
    assert detect_suite(vimeo_lookalike(tmp_path / "v")).name == "vimeo90k-t"


def test_vimeo_lookalike_outputs_as_seven_frames_or_im4_only(tmp_path):
    suite = get_suite("vimeo90k-t").lookalike(clips=VIMEO_CLIPS, size=(8, 12))
    gt = vimeo_lookalike(tmp_path / "vimeo_septuplet")
    full = vimeo_lookalike(tmp_path / "pred7", seed=10)
    only4 = vimeo_lookalike(tmp_path / "pred1", frames=[4], seed=10)
    c7 = suite.validate(gt, full)
    assert c7.clips == VIMEO_CLIPS and c7.layout == "vimeo" and c7.center_only == ()
    assert [len(g) for g, _ in c7.pairs()] == [7, 7, 7]
    c1 = suite.validate(gt / "sequences", only4)  # GT given as sequences/ itself
    assert c1.center_only == VIMEO_CLIPS
    for g, p in c1.pairs():  # the im4-only output stands at GT's centre index, GT keeps its 7 frames
        assert len(g) == len(p) == 7 and p.only_index == 3
        assert g.paths[3].name == p.frame_name(3) == "im4.png" and set(p.paths) == {p.paths[0]}


def test_vimeo_bad_outputs(tmp_path):
    suite = get_suite("vimeo90k-t").lookalike(clips=VIMEO_CLIPS, size=(8, 12))
    gt = vimeo_lookalike(tmp_path / "gt")
    im3 = vimeo_lookalike(tmp_path / "im3", frames=[3])
    with pytest.raises(InputError, match=r"PRED clip '.*0266': its one frame 'im3.png' is not the centre frame "
                                         r"'im4.png' \(suite vimeo90k-t scores the centre frame only\)"):
        suite.validate(gt, im3)
    five = vimeo_lookalike(tmp_path / "five", frames=range(1, 6))
    with pytest.raises(InputError, match=r"PRED clip '.*0266': 5 frames, expected 7 like GT or only the centre "
                                         r"frame im4.png"):
        suite.validate(gt, five)
    part = vimeo_lookalike(tmp_path / "part", clips=VIMEO_CLIPS[:2])
    with pytest.raises(InputError, match=r"suite vimeo90k-t: outputs missing for 1 clip\(s\): 00002/0004"):
        suite.validate(gt, part)


def test_vimeo_real_list_reports_missing_clips_by_count(tmp_path):
    gt = vimeo_lookalike(tmp_path / "gt")
    with pytest.raises(InputError, match=r"suite vimeo90k-t: 7821 clip\(s\) missing: 00001/0275, .*\(7821 in all\) "
                                         r"\(expected 7824 clips, found 3\)"):
        get_suite("vimeo90k-t").validate(gt)


def test_udm10_counts_clips_only(tmp_path):
    gt = reds_lookalike(tmp_path / "gt", clips=[f"c{i}" for i in range(9)])
    with pytest.raises(InputError, match=r"suite udm10: 9 clip folder\(s\), expected 10"):
        get_suite("udm10").validate(gt)
    write_clip(gt / "c9", ["0000.png"])
    assert len(get_suite("udm10").validate(gt).clips) == 10


# ---------------------------------------------------------------------- benchmark TOML: suite = "..."

def psnr_rgb(gt: np.ndarray, pred: np.ndarray) -> float:
    """BasicSR's calculate_psnr on RGB uint8 frames, crop 0 (written here, independently)."""
    mse = np.mean((gt.astype(np.float64) - pred.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


def psnr_y(gt: np.ndarray, pred: np.ndarray) -> float:
    """BasicSR's calculate_psnr(test_y_channel=True): BT.601 studio luma on 0..255."""
    def y(a):
        return 16.0 + a.astype(np.float64) @ np.array([65.481, 128.553, 24.966]) / 255.0
    mse = np.mean((y(gt) - y(pred)) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


def noisy_copy(src: Path, dst: Path, seed: int, only=None) -> Path:
    """Every frame under ``src`` with Gaussian noise (sigma 6), same relative paths, under ``dst``."""
    rng = np.random.default_rng(seed)
    for p in sorted(src.rglob("*.png")):
        a = decode_image(p).astype(np.float64)
        noisy = np.clip(a + rng.normal(0, 6, a.shape), 0, 255).round().astype(np.uint8)  # drawn for every frame
        if not only or p.name in only:
            write_frame(dst / p.relative_to(src), noisy)
    return dst


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bench.toml"
    path.write_text(text)
    return path


REDS_TOML = """
[datasets.reds4]
gt = "gt"
suite = "reds4"
suite_strict = false
[methods.Noisy]
outputs = "pred"
"""


def test_bench_suite_reds4_scores_rgb_and_records_the_suite(tmp_path):
    gt = reds_lookalike(tmp_path / "gt", size=(16, 20))
    pred = noisy_copy(gt, tmp_path / "pred", seed=1)
    bench = load_bench(write_toml(tmp_path, REDS_TOML))
    d = bench.datasets["reds4"]
    assert d.suite == "reds4" and d.protocol.name == "basicsr-rgb" and bench.protocol.name == "basicsr-rgb"
    assert bench.metrics == ("psnr", "ssim") and d.sequences == REDS4
    lines = []
    summary = run_benchmark(bench, tmp_path / "res", device="cpu", progress=lines.append)
    assert summary.ok and len(summary.scored) == 4
    assert any(ln.startswith("datasets.reds4: suite reds4, scored under its convention: RGB, crop 0, all frames, "
                             "mean of clip means (protocol basicsr-rgb)") for ln in lines), lines
    df = load_results(tmp_path / "res", "basicsr-rgb")
    for clip in REDS4:
        got = df[(df.sequence == clip) & (df.metric == "psnr")].sort_values("frame").value.to_numpy()
        want = [psnr_rgb(decode_image(gt / clip / f"{i:08d}.png"), decode_image(pred / clip / f"{i:08d}.png"))
                for i in range(3)]
        np.testing.assert_allclose(got, want, atol=1e-3)
    runs = load_runs(tmp_path / "res")
    assert runs["bench"].iloc[-1]["datasets"]["reds4"]["suite"] == "reds4"


def test_bench_protocol_set_by_the_benchmark_wins_and_is_said(tmp_path):
    gt = reds_lookalike(tmp_path / "gt", size=(16, 20))
    noisy_copy(gt, tmp_path / "pred", seed=1)
    bench = load_bench(write_toml(tmp_path, 'protocol = "basicsr-y"\n' + REDS_TOML))
    assert bench.datasets["reds4"].protocol is None and bench.protocol.name == "basicsr-y"
    lines = []
    run_benchmark(bench, tmp_path / "res", device="cpu", progress=lines.append)
    assert any("datasets.reds4: suite reds4, scored under the benchmark's protocol basicsr-y" in ln
               and "not the suite's convention (RGB" in ln for ln in lines), lines


def test_bench_unknown_suite_and_bad_layout(tmp_path):
    gt = reds_lookalike(tmp_path / "gt", clips=("000", "011", "020"))
    noisy_copy(gt, tmp_path / "pred", seed=1)
    with pytest.raises(UnknownNameError, match=r"^bench.toml: datasets.reds4.suite: unknown suite 'reds'; did you "
                                               r"mean 'reds4'\? \(known: mvsr4x, realvsr, reds30, reds4, spmcs, tos3, udm10, vid4, videolq, "
                                               r"vimeo90k-t, youhq40\)$"):
        load_bench(write_toml(tmp_path, REDS_TOML.replace('"reds4"', '"reds"')))
    with pytest.raises(InputError, match=r"^bench.toml: datasets.reds4.gt: GT '.*gt': suite reds4: 1 clip\(s\) "
                                         r"missing: 015 \(expected 4 clips, found 3\)$"):
        load_bench(write_toml(tmp_path, REDS_TOML))
    with pytest.raises(InputError, match=r"^bench.toml: datasets.reds4.gt: GT clip '.*000': 3 frames, expected 100"):
        reds_lookalike(tmp_path / "gt", clips=("015",))
        load_bench(write_toml(tmp_path, REDS_TOML.replace("suite_strict = false\n", "")))
    with pytest.raises(InputError, match=r"datasets.reds4.suite_strict: expected true or false, got a string"):
        load_bench(write_toml(tmp_path, REDS_TOML.replace("suite_strict = false", 'suite_strict = "no"')))


def vimeo_bench(tmp_path: Path, metrics=None) -> "Benchmark":
    from vsrbench.catalog.benchfile import Benchmark

    suite = get_suite("vimeo90k-t").lookalike(clips=VIMEO_CLIPS, size=(16, 20))
    gt = vimeo_lookalike(tmp_path / "vimeo_septuplet", size=(16, 20))
    noisy_copy(gt, tmp_path / "all7", seed=3)
    noisy_copy(gt, tmp_path / "im4", seed=3, only={"im4.png"})
    data = {"datasets": {"vimeo": {"gt": "vimeo_septuplet", "suite": suite}},
            "methods": {"All7": {"outputs": "all7"}, "Im4": {"outputs": "im4"}}}
    if metrics:
        data["metrics"] = metrics
    return Benchmark.from_dict(data, base_dir=tmp_path, source="bench.toml")


def test_bench_vimeo_lookalike_scores_im4_only_with_7_frames_or_im4_outputs(tmp_path):
    bench = vimeo_bench(tmp_path)
    assert bench.protocol.frames_scored == "center" and bench.datasets["vimeo"].sequences == VIMEO_CLIPS
    summary = run_benchmark(bench, tmp_path / "res", device="cpu", progress=False)
    assert summary.ok and len(summary.scored) == 6, summary.text()
    df = load_results(tmp_path / "res")
    psnr = df[df.metric == "psnr"]
    assert set(psnr.frame_name) == {"im4.png"} and len(psnr) == 6  # one frame per clip and method
    assert set(psnr.frame) == {3}  # GT's index of im4, whether the outputs hold 7 frames or only im4
    for clip in VIMEO_CLIPS:
        g = decode_image(tmp_path / "vimeo_septuplet" / "sequences" / clip / "im4.png")
        p = decode_image(tmp_path / "all7" / "sequences" / clip / "im4.png")
        for method in ("All7", "Im4"):  # the same noisy im4: the same number either way
            got = psnr[(psnr.sequence == clip) & (psnr.method == method)].value.item()
            assert got == pytest.approx(psnr_y(g, p), abs=1e-3)


def test_bench_vimeo_refuses_temporal_metrics(tmp_path):
    with pytest.raises(InputError, match=r"bench.toml: metrics: tof need consecutive frames, but datasets.vimeo "
                                         r"\(suite vimeo90k-t\) scores the centre frame of each clip only"):
        vimeo_bench(tmp_path, metrics=["psnr", "tof"])


# ---------------------------------------------------------------------- vsrbench datasets, real Vid4

def test_cli_datasets_lists_every_suite(capsys):
    from vsrbench.cli import main

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["SUITE", "CLIPS", "FRAMES", "SCORED", "COLOUR", "CROP", "AVERAGE", "PROTOCOL",
                              "DEGRADATIONS"]
    assert out[-1] == "RGB/Y*: the pyiqa preset, PSNR on RGB and SSIM on pyiqa's luma"
    rows = {ln.split()[0]: ln.split() for ln in out[1:-1]}
    assert list(rows) == list(SUITE_NAMES)
    assert rows["vimeo90k-t"][1:6] == ["7824", "54768", "centre", "Y", "0"]
    assert rows["videolq"][3:] == ["0,50,99", "RGB/Y*", "0", "seq_avg", "pyiqa[frames_scored=0,50,99]", "no", "GT"]
    assert rows["reds4"][1:6] == ["4", "400", "all", "RGB", "0"]
    assert rows["tos3"][3:6] == ["all-2/end", "Y", "centre/32"]


def test_cli_datasets_one_suite_in_full(capsys):
    from vsrbench.cli import main

    assert main(["datasets", "vid4"]) == 0
    out = capsys.readouterr().out
    assert "convention: Y, crop 0, all frames, mean of clip means (protocol basicsr-y)" in out
    assert "calendar  41 frames  576x720 (HxW)" in out and "duf: Frame 001.png, Frame 002.png" in out
    assert "open-mmlab/mmagic:configs/_base_/datasets/basicvsr_test_config.py" in out


def test_cli_datasets_unknown_name_is_one_line(capsys):
    from vsrbench.cli import main

    assert main(["datasets", "vimeo"]) != 0
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "vsrbench datasets: error: unknown suite 'vimeo'; did you mean 'vimeo90k-t'? "
        "(known: mvsr4x, realvsr, reds30, reds4, spmcs, tos3, udm10, vid4, videolq, vimeo90k-t, youhq40)"]


def test_shared_vid4_copy_matches_the_suite_clips():
    from _support.paths import shared_path

    gt = shared_path("data", "vid4", "GT")
    check = get_suite("vid4").validate(gt, shared_path("data", "vid4", "DUF-52L"), strict=False)
    assert check.clips == ("calendar", "city", "foliage", "walk")
    with pytest.raises(InputError, match=r"GT clip '.*calendar': 10 frames, expected 41"):
        get_suite("vid4").validate(gt)  # the shared copy holds the first 10 frames only
    from vsrbench.catalog.suites import frame_size

    assert frame_size(check.gt["city"].paths[0]) == (576, 704)


def test_resume_checks_lpips_weights_under_every_suite_protocol(tmp_path, monkeypatch):
    """A benchmark whose datasets score under different suite conventions: stored LPIPS of any of them,
    made with another backbone file, refuses the run (not only those under the first dataset's protocol)."""
    from vsrbench.catalog.benchfile import Benchmark
    from _support.builders import ALEX, random_alex

    monkeypatch.setenv("VSRBENCH_UNVERIFIED_WEIGHTS", "1")
    weights = random_alex(tmp_path / "w" / ALEX)
    vid = get_suite("vid4").lookalike(frames=2, size=(48, 64))
    reds = get_suite("reds4").lookalike(frames=2, size=(48, 64))
    for root, s in (("vid", vid), ("reds", reds)):
        for k, clip in enumerate(s.names):
            write_clip(tmp_path / root / clip, [f"{i:08d}.png" for i in range(2)], (48, 64), seed=k)
        noisy_copy(tmp_path / root, tmp_path / f"{root}_out", seed=5)

    def bench(names):
        return Benchmark.from_dict({
            "metrics": ["psnr", "lpips"], "lpips_weights": str(weights),
            "datasets": {n: {"gt": n, "suite": {"vid": vid, "reds": reds}[n]} for n in names},
            "methods": {"A": {"outputs": {n: f"{n}_out" for n in names}}}}, base_dir=tmp_path, source="b.toml")

    assert run_benchmark(bench(["vid"]), tmp_path / "res", device="cpu", progress=False).ok
    random_alex(weights, seed=3)  # the same path, other content
    with pytest.raises(InputError, match=r"lpips scores stored in .* were computed \(run 1\) with LPIPS backbone sha256"):
        run_benchmark(bench(["reds", "vid"]), tmp_path / "res", device="cpu", progress=False)


def test_bench_suite_lr_folder_and_default_metrics_of_mixed_suites(tmp_path):
    from vsrbench.catalog.benchfile import Benchmark

    vimeo = get_suite("vimeo90k-t").lookalike(clips=VIMEO_CLIPS, size=(16, 20))
    vimeo_lookalike(tmp_path / "v", size=(16, 20))
    vimeo_lookalike(tmp_path / "lr", clips=VIMEO_CLIPS[:2], size=(4, 5))
    data = {"datasets": {"vimeo": {"gt": "v", "suite": vimeo, "lr": "lr"}}, "methods": {"Bic": {"model": "bicubic"}}}
    with pytest.raises(InputError, match=r"^b.toml: datasets.vimeo.lr: no LR frames for sequence\(s\) 00002/0004 in "
                                         r"'.*lr' \(found: 00001/0266, 00001/0268\)$"):
        Benchmark.from_dict(data, base_dir=tmp_path, source="b.toml")
    vimeo_lookalike(tmp_path / "lr", clips=VIMEO_CLIPS[2:], size=(4, 5))
    assert Benchmark.from_dict(data, base_dir=tmp_path, source="b.toml").datasets["vimeo"].lr == tmp_path / "lr"
    # tos3 (tecogan: 5 metrics by default) with vid4 (basicsr-y: psnr, ssim): the metrics both compute
    tos3 = get_suite("tos3").lookalike(frames=5, size=(16, 20))
    vid4 = get_suite("vid4").lookalike(frames=3, size=(16, 20))
    for root, s in (("tos", tos3), ("vid", vid4)):
        for clip in s.names:
            write_clip(tmp_path / root / clip, [f"{i:04d}.png" for i in range(1, s.sequences[0].frames + 1)], (16, 20))
    mixed = {"datasets": {"tos3": {"gt": "tos", "suite": tos3}, "vid4": {"gt": "vid", "suite": vid4}},
             "methods": {"A": {"outputs": {"tos3": "tos", "vid4": "vid"}}}}
    b = Benchmark.from_dict(mixed, base_dir=tmp_path, source="b.toml")
    assert b.metrics == ("psnr", "ssim") and b.protocol.name == "tecogan"
    assert {n: d.protocol.name for n, d in b.datasets.items()} == {"tos3": "tecogan", "vid4": "basicsr-y"}
    assert b.to_dict()["datasets"]["vid4"]["suite"] == "vid4"
    only_tos = {"datasets": {"tos3": mixed["datasets"]["tos3"]}, "methods": {"A": {"outputs": "tos"}}}
    assert Benchmark.from_dict(only_tos, base_dir=tmp_path).metrics == ("psnr", "ssim", "lpips", "tof", "tlp")


def test_bench_suite_strict_without_suite_is_refused(tmp_path):
    reds_lookalike(tmp_path / "gt")
    (tmp_path / "pred").mkdir()
    with pytest.raises(InputError, match=r"^bench.toml: datasets.reds4.suite_strict: only applies with "
                                         r"suite = \"NAME\"$"):
        load_bench(write_toml(tmp_path, REDS_TOML.replace('suite = "reds4"\n', "")))
