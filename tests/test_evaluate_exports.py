"""``vsrbench evaluate`` writes frames.csv / summary.json from the store at most every
``VSRBENCH_EXPORT_INTERVAL`` seconds while sequences arrive, and always at the end or on an interrupt:
one export per sequence re-read every row stored so far (quadratic: 600 small sequences spent 27 of
31 s in exports)."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest

import vsrbench.run.evaluation as ev_lib
from vsrbench.cli import main

N_SEQ = 5


@pytest.fixture
def folders(tmp_path):
    rng = np.random.default_rng(1)
    for k in range(N_SEQ):
        for name in ("gt", "out"):
            d = tmp_path / name / f"s{k}"
            d.mkdir(parents=True)
            for i in range(2):
                cv2.imwrite(str(d / f"{i}.png"), rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    return tmp_path


def _evaluate(root, out: str) -> int:
    return main(["evaluate", "--gt", str(root / "gt"), "--pred", str(root / "out"), "--protocol", "basicsr-y",
                 "--workers", "1", "--out", str(root / out)])


def test_exports_are_complete_at_the_end_however_rarely_they_are_written(folders, monkeypatch, capsys):
    calls = []
    real = ev_lib._Exports.export
    monkeypatch.setattr(ev_lib._Exports, "export", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    monkeypatch.setenv("VSRBENCH_EXPORT_INTERVAL", "3600")
    assert _evaluate(folders, "rare") == 0
    assert len(calls) == 1  # once, at the end
    monkeypatch.setenv("VSRBENCH_EXPORT_INTERVAL", "0")
    assert _evaluate(folders, "every") == 0
    assert len(calls) == 1 + N_SEQ  # after each sequence
    a, b = (pd.read_csv(folders / d / "frames.csv") for d in ("rare", "every"))
    assert len(a) == N_SEQ * 2 * 2 and a.equals(b)
    sa, sb = (json.loads((folders / d / "summary.json").read_text()) for d in ("rare", "every"))
    assert sa["seq_avg"] == sb["seq_avg"] and len(sa["sequences"]) == N_SEQ


def test_an_interrupt_exports_what_was_stored(folders, monkeypatch):
    monkeypatch.setenv("VSRBENCH_EXPORT_INTERVAL", "3600")
    real = ev_lib._Exports.after_store
    seen = []

    def store_then_interrupt(self, session, event):
        real(self, session, event)
        if event == "sequence":  # called once a sequence is in the store
            seen.append(1)
            if len(seen) == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(ev_lib._Exports, "after_store", store_then_interrupt)
    assert _evaluate(folders, "res") != 0
    rows = pd.read_csv(folders / "res" / "frames.csv")
    assert sorted(rows["sequence"].unique()) == ["s0", "s1"]  # the two stored sequences, not stale, not empty


def test_a_bad_interval_is_one_line_before_anything_is_written(folders, monkeypatch, capsys):
    monkeypatch.setenv("VSRBENCH_EXPORT_INTERVAL", "soon")
    assert _evaluate(folders, "res") != 0
    err = capsys.readouterr().err.strip()
    assert err == "vsrbench evaluate: error: VSRBENCH_EXPORT_INTERVAL: expected seconds (a number), got 'soon'"
    assert not (folders / "res").exists()
