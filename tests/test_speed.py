"""Speed of the one-pass evaluation against the straightforward loop, with pytest-benchmark.

Both score Vid4 calendar: GT against DUF-52L's output (../shared/data/vid4, 10 frames of
720x576, protocol tecogan, all five metrics, a seeded random torchvision AlexNet as LPIPS
backbone). The two tests are one benchmark group, and each checks its numbers against the
other implementation's (run once, outside the timer, and reused).

pyproject's ``addopts`` has ``--benchmark-disable``: in the normal suite each function runs
once, as a plain test. To measure:

    pytest tests/test_speed.py --benchmark-enable --benchmark-group-by=group

Also here: ``vsrbench speed --frames 6`` on synthetic frames (prints the speed-up line).
"""
from __future__ import annotations

import re

import pytest
from _support.calendar_runs import one_pass, run_key, straightforward, untimed
from _support.lpips_reference import remember
from _support.paths import shared_path

from vsrbench.cli import main
from vsrbench.core.io import open_sequence
from vsrbench.metrics.lpips import get_lpips

GROUP = "evaluate vid4/calendar GT vs DUF-52L, 10 frames, 5 metrics"
TOL = {"psnr": 1e-6, "ssim": 1e-7, "lpips": 1e-6, "tof": 1e-6, "tlp": 1e-4}


@pytest.fixture(scope="module")
def calendar():
    return (open_sequence(shared_path("data", "vid4", "GT", "calendar")),
            open_sequence(shared_path("data", "vid4", "DUF-52L", "calendar")))


def timed(benchmark, fn, calendar) -> list:
    get_lpips(device="cpu")  # load the backbone before the clock starts
    rows = benchmark.pedantic(fn, args=calendar, rounds=3, iterations=1)
    remember(run_key(fn, *calendar), rows)
    benchmark.extra_info["frames_scored"] = len({f for f, m, _ in rows if m == "psnr"})
    return rows


def assert_same(a: list, b: list) -> None:
    da, db = {(f, m): v for f, m, v in a}, {(f, m): v for f, m, v in b}
    assert sorted(da) == sorted(db) and len(da) == 6 * 3 + 5 * 2
    for key, value in db.items():
        assert da[key] == pytest.approx(value, abs=TOL[key[1]]), key


@pytest.mark.slow
@pytest.mark.benchmark(group=GROUP)
def test_bench_one_pass(benchmark, calendar, alexnet_home):
    rows = timed(benchmark, one_pass, calendar)
    assert_same(rows, untimed(straightforward, *calendar))


@pytest.mark.slow
@pytest.mark.benchmark(group=GROUP)
def test_bench_straightforward(benchmark, calendar, alexnet_home):
    rows = timed(benchmark, straightforward, calendar)
    assert_same(rows, untimed(one_pass, *calendar))


@pytest.mark.slow
def test_bench_command_on_synthetic_frames(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # where the random backbone goes (then removed)
    assert main(["speed", "--frames", "6"]) == 0
    cap = capsys.readouterr()
    assert "note: no AlexNet backbone found; timing with a seeded random one" in cap.err
    assert "6 synthetic 720x576 frames: 2 scored frames" in cap.out
    assert re.search(r"^  speed-up             : \d+\.\d\dx$", cap.out, re.M), cap.out
    diffs = dict(re.findall(r"(psnr|ssim|lpips|tof|tlp) ([0-9.e+-]+)", cap.out.split("max |difference|")[1]))
    assert set(diffs) == set(TOL) and all(float(diffs[m]) <= TOL[m] for m in TOL)
    assert list(tmp_path.iterdir()) == []  # the temporary backbone is gone


def test_bench_command_needs_both_paths(capsys):
    assert main(["speed", "--gt", "somewhere"]) == 2
    assert capsys.readouterr().err.strip() == (
        "vsrbench speed: error: give both --gt and --pred, or neither (synthetic frames)")


# ---------------------------------------------------------------------- two outputs, one GT

GROUP2 = "evaluate vid4/calendar GT vs DUF-52L and DUF-16L, 10 frames, 5 metrics"


@pytest.fixture(scope="module")
def two_outputs(calendar):
    return calendar[0], [calendar[1], open_sequence(shared_path("data", "vid4", "DUF-16L", "calendar"))]


def one_pass_many(gt, outs) -> list[list]:
    from vsrbench.evaluate import evaluate_many

    scores = evaluate_many(dict(enumerate(outs)), gt, device="cpu")
    return [scores[k].rows for k in range(len(outs))]


def straightforward_each(gt, outs) -> list[list]:
    return [straightforward(gt, out) for out in outs]


@pytest.mark.slow
@pytest.mark.benchmark(group=GROUP2)
def test_bench_one_pass_two_outputs(benchmark, two_outputs, alexnet_home):
    get_lpips(device="cpu")
    many = benchmark.pedantic(one_pass_many, args=two_outputs, rounds=2, iterations=1)
    for rows, out in zip(many, two_outputs[1]):
        assert_same(rows, untimed(straightforward, two_outputs[0], out))


@pytest.mark.slow
@pytest.mark.benchmark(group=GROUP2)
def test_bench_straightforward_two_outputs(benchmark, two_outputs, alexnet_home):
    get_lpips(device="cpu")
    each = benchmark.pedantic(straightforward_each, args=two_outputs, rounds=2, iterations=1)
    for rows, out in zip(each, two_outputs[1]):
        assert_same(untimed(one_pass, two_outputs[0], out), rows)
