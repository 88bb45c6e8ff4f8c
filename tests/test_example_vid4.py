"""The shipped example benchmark on real data: Vid4 GT vs the DUF authors' outputs and bicubic.

Issue 2's acceptance check: the table is correct (DUF-52L best on PSNR, bold; DUF-16L second,
underlined; bicubic behind both) and every plot kind is written. The example file itself is
validated as shipped; the run is the session's one run of it (the ``vid4_example`` fixture of conftest.py).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from _support.paths import REPO, shared_path
from vsrbench.catalog.benchfile import load_bench
from vsrbench.cli import main

EXAMPLE = REPO / "examples" / "vid4-duf.toml"


def test_the_shipped_example_is_a_valid_benchmark():
    shared_path("data", "vid4", "GT")
    bench = load_bench(EXAMPLE)
    assert list(bench.methods) == ["DUF-16L", "DUF-52L", "Bicubic", "Bicubic-TF"]
    assert bench.protocol.name == "tecogan"
    assert bench.datasets["vid4"].sequences == ("calendar", "city", "foliage", "walk")


@pytest.mark.slow
def test_vid4_example_table_and_every_plot_kind(tmp_path, capsys, vid4_example):
    res = vid4_example
    capsys.readouterr()
    assert main(["table", str(res), "--format", "markdown"]) == 0
    table = capsys.readouterr().out
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| (\S+) \| ([^|]+) \|", table, re.M)}
    assert rows["DUF-52L"].strip().startswith("**"), table      # best PSNR: bold
    assert rows["DUF-16L"].strip().startswith("<u>"), table     # second: underlined
    psnr = {k: float(re.sub(r"[^0-9.]", "", v)) for k, v in rows.items() if k in ("DUF-16L", "DUF-52L", "Bicubic")}
    assert psnr["DUF-52L"] > psnr["DUF-16L"] > psnr["Bicubic"]
    assert "tecogan" in table and "seq" in table                # the caption names protocol and average

    figs = tmp_path / "figs"
    assert main(["plot", str(res), "--kind", "all", "--out", str(figs), "--format", "png,pdf"]) == 0
    written = {p.name.split("_")[0] for p in Path(figs).iterdir() if p.stat().st_size > 0}
    assert {"curves", "profiles", "tradeoff", "bars"} <= written
    assert any(p.suffix == ".pdf" for p in Path(figs).iterdir())
