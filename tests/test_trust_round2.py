"""Issue 16 §4, the edge cases: each message a user can hit, pinned (report with a long clip name, a
published CSV with a byte-order mark or impossible values, explain's ambiguous and impossible targets,
``table --ci`` on one clip, strings for integer protocol fields in a bench file, a garbage weights file)."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from vsrbench.catalog.benchfile import load_bench
from vsrbench.catalog.published import load_published
from vsrbench.cli import main
from vsrbench.core.errors import InputError, WeightsError
from vsrbench.core.io import write_frame
from vsrbench.metrics.lpips import _torch_load


def clip(root: Path, name: str, n: int = 3, noise: int = 6, seed: int = 0) -> None:
    """GT and output frames of one clip: root/GT/name and root/out/name."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (40, 56, 3)).astype(np.int16)
    for i in range(n):
        gt = np.roll(base, i, axis=1).astype(np.uint8)
        write_frame(root / "GT" / name / f"{i:03d}.png", gt)
        out = np.clip(gt + rng.integers(-noise, noise + 1, gt.shape), 0, 255).astype(np.uint8)
        write_frame(root / "out" / name / f"{i:03d}.png", out)


def evaluate(root: Path, *extra: str) -> Path:
    res = root / "res"
    assert main(["evaluate", "--gt", str(root / "GT"), "--pred", str(root / "out"), "--out", str(res),
                 "--protocol", "basicsr-y", "--metrics", "psnr,ssim", *extra]) == 0
    return res


# ------------------------------------------------------------------ report

def test_report_on_a_244_character_clip_name(tmp_path, capsys):
    """Before: 'File name too long' and a half-written folder; after: short image paths, the report written."""
    name = "c" * 244
    clip(tmp_path, name)
    res = evaluate(tmp_path)
    site = tmp_path / "site"
    assert main(["report", str(res), "--out", str(site), "--no-profiles"]) == 0, capsys.readouterr().err
    images = list((site / "img").rglob("*.png"))
    assert images and max(len(p.name) for p in images) < 64
    assert max(len(part) for p in images for part in p.relative_to(site).parts) <= 48
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".vsrbench-report-")]


def test_a_failed_report_leaves_no_folder(tmp_path, capsys, monkeypatch):
    from vsrbench.visual import report

    clip(tmp_path, "walk")
    res = evaluate(tmp_path)

    def fail(*args, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "_page", fail)
    with pytest.raises(OSError):
        report.build_report(res, tmp_path / "site")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["GT", "out", "res"]  # no site, no temporary folder


def test_a_failed_report_keeps_the_earlier_one(tmp_path, monkeypatch):
    from vsrbench.visual import report

    clip(tmp_path, "walk")
    res = evaluate(tmp_path)
    site = tmp_path / "site"
    report.build_report(res, site, profiles=False)
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    monkeypatch.setattr(report, "_page", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        report.build_report(res, site, profiles=False)
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["GT", "out", "res", "site"]


# ------------------------------------------------------------------ published CSV

HEADER = "method,suite,degradation,metric,value,sequence,averaging,convention,source"


def test_published_csv_with_a_byte_order_mark_is_read(tmp_path):
    """Before: 'header: ... missing method' (the first column read as '\\ufeffmethod')."""
    path = tmp_path / "mine.csv"
    path.write_bytes("\ufeff".encode() + f"{HEADER}\nDUF-52L,vid4,BD,psnr,27.33,,seq_avg,tecogan,paper\n".encode())
    (row,) = load_published(path)
    assert (row.method, row.metric, row.value) == ("DUF-52L", "psnr", 27.33)


@pytest.mark.parametrize("metric,value,span", [("psnr", "-3.1", ">= 0"), ("ssim", "1.2", "between -1 and 1"),
                                               ("lpips", "-0.1", ">= 0"), ("tof", "-2", ">= 0")])
def test_published_impossible_values_are_refused(tmp_path, metric, value, span):
    """Before: accepted."""
    path = tmp_path / "mine.csv"
    path.write_text(f"{HEADER}\nDUF-52L,vid4,BD,{metric},{value},,seq_avg,tecogan,paper\n")
    with pytest.raises(InputError) as e:
        load_published(path)
    assert str(e.value) == (f"{path}:2: value: {value} is not a possible {metric} (expected {span}); "
                            "check the number and its column")


# ------------------------------------------------------------------ explain

@pytest.mark.parametrize("target,message", [
    ("ssim=1.7", "--target 'ssim=1.7': 1.7 is not a possible SSIM (expected between -1 and 1); "
                 "no convention can give it"),
    ("psnr=-5", "--target 'psnr=-5': -5 is not a possible PSNR (expected >= 0); no convention can give it"),
])
def test_explain_refuses_an_impossible_target(tmp_path, capsys, target, message):
    """Before: exit 0 and a 'closest:' line."""
    clip(tmp_path, "walk")
    code = main(["explain", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "out"), "--target", target])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"vsrbench explain: error: {message}"


def explained(tmp_path, capsys, target: str) -> list[str]:
    clip(tmp_path, "walk")
    assert main(["explain", "--gt", str(tmp_path / "GT"), "--pred", str(tmp_path / "out"), "--target", target]) == 0
    return capsys.readouterr().out.strip().splitlines()


def test_explain_says_when_nothing_fits(tmp_path, capsys):
    """Before: only 'closest: ...'."""
    lines = explained(tmp_path, capsys, "psnr=99")
    assert lines[-2].startswith("nothing fits: none of the ")
    assert lines[-2].endswith(" variants gives psnr=99 within rounding (|Δ psnr| <= 0.500); the closest is shown, "
                              "it does not explain the number")
    assert lines[-1].startswith("closest: ")


def test_explain_lists_every_variant_that_fits(tmp_path, capsys):
    """Before: one 'closest' named although several conventions fit within rounding."""
    from vsrbench.core.io import open_dataset, pair_datasets
    from vsrbench.explain import explain, parse_target

    clip(tmp_path, "walk")
    pairs = pair_datasets(open_dataset(tmp_path / "GT"), open_dataset(tmp_path / "out"))
    values = sorted(r.values["psnr"] for r in explain(pairs, [parse_target("psnr=40")]).rows)
    target = f"psnr={round(float(np.median(values)), 1)}"  # rounded to 0.1 dB: several variants fit
    ex = explain(pairs, [parse_target(target)])
    fitting = [r for r in ex.rows if abs(r.values["psnr"] - float(target[5:])) <= 0.05 + 1e-12]
    assert len(fitting) >= 2 and ex.fitting == fitting
    lines = explained(tmp_path, capsys, target)
    assert lines[-2] == (f"ambiguous: {len(fitting)} variants give {target} within rounding (|Δ psnr| <= 0.050); "
                         "these frames cannot tell them apart: " + "; ".join(f"{r.text}, {r.averaging}" for r in fitting))
    assert lines[-1].startswith(f"closest: {fitting[0].text}, ")


# ------------------------------------------------------------------ table --ci

def test_table_ci_with_one_clip_shows_no_interval(tmp_path, capsys):
    """Before: '± 0.00' in every cell."""
    clip(tmp_path, "walk")
    res = evaluate(tmp_path)
    capsys.readouterr()
    assert main(["table", str(res), "--ci"]) == 0
    out = capsys.readouterr().out
    assert "±" not in out.replace("--ci: dataset GT has 1 clip; intervals resample clips, so one clip gives none "
                                  "(it would show ± 0)", "")
    assert ("- --ci: dataset GT has 1 clip; intervals resample clips, so one clip gives none (it would show ± 0); "
            "score two or more clips for an interval.") in out


def test_table_ci_with_two_clips_still_shows_intervals(tmp_path, capsys):
    clip(tmp_path, "walk")
    clip(tmp_path, "city", noise=12, seed=1)
    res = evaluate(tmp_path)
    capsys.readouterr()
    assert main(["table", str(res), "--ci"]) == 0
    out = capsys.readouterr().out
    assert "± " in out and "has 1 clip" not in out


# ------------------------------------------------------------------ bench file: integer fields

BENCH = """
[protocol]
name = "basicsr-y"
{line}

[datasets.d]
gt = "GT"
degradation = "bi-matlab"

[methods.bicubic]
model = "bicubic"
"""


@pytest.mark.parametrize("line,message", [
    ('crop_border = "8"', "protocol.crop_border: expected an integer, got a string ('8')"),
    ('cut_frames = "0"', "protocol.cut_frames: expected an integer, got a string ('0')"),
    ("crop_border = 8.0", "protocol.crop_border: expected an integer, got a number (8.0)"),
    ('tlp_scale = "100"', "protocol.tlp_scale: expected a number, got a string ('100')"),
])
def test_bench_file_refuses_strings_for_number_fields(tmp_path, line, message):
    """Before: crop_border = "8" was read as 8 (while scale = "four" was refused)."""
    clip(tmp_path, "walk")
    path = tmp_path / "bench.toml"
    path.write_text(BENCH.format(line=line))
    with pytest.raises(InputError) as e:
        load_bench(path)
    assert str(e.value) == f"bench.toml: {message}"


def test_bench_file_takes_integers_and_the_cli_still_takes_text(tmp_path):
    from vsrbench.metrics.protocol import get_protocol, parse_overrides

    clip(tmp_path, "walk")
    path = tmp_path / "bench.toml"
    path.write_text(BENCH.format(line="crop_border = 8"))
    assert load_bench(path).protocol.crop_border == 8
    assert get_protocol("basicsr-y", **parse_overrides(["crop_border=8"])).crop_border == 8  # --set is text


# ------------------------------------------------------------------ weights files

def test_a_garbage_weights_file_is_described_without_torchs_advice(tmp_path):
    """Before: torch's 'Re-running `torch.load` with `weights_only` set to `False` will likely succeed' relayed."""
    cases = {
        "pickle.pth": (pickle.dumps({"x": object}), "it is not a file of tensors: it holds pickled data a weights "
                                                    "file does not (Unsupported operand 149)"),
        "text.pth": (b"this is not a checkpoint\n" * 4, "it is not a PyTorch weights file (neither torch.save's zip "
                                                        "archive nor a pickle of tensors)"),
        "empty.pth": (b"", "the file is empty"),
    }
    for name, (data, problem) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(WeightsError) as e:
            _torch_load(path)
        assert str(e.value) == f"cannot read weights file {str(path)!r}: {problem}"
        assert "weights_only" not in str(e.value)
