"""``vsrbench metrics`` lists every registered metric (so an opt-in one such as E_warp is findable)."""
from __future__ import annotations

from vsrbench.cli import main
from vsrbench.metrics import METRICS


def test_lists_every_registered_metric_with_direction_and_defaults(capsys):
    assert main(["metrics"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines[1:-1]]
    assert names == list(METRICS) and "ewarp" in names
    row = {line.split()[0]: line for line in lines[1:-1]}
    assert "↓" in row["tof"] and "temporal" in row["tof"] and "tecogan" in row["tof"]
    assert "↑" in row["psnr"] and "basicsr-y" in row["psnr"]
    assert row["ewarp"].rstrip().endswith("opt-in")
    assert row["drift_rmse"].rstrip().endswith("vsrbench drift (runs a model)") and "model run" in row["drift_rmse"]


def test_one_metric_in_full_and_a_typo(capsys):
    assert main(["metrics", "ewarp"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ewarp (E_warp): flow warping error") and "lower is better" in out
    assert main(["metrics", "psrn"]) == 2
    assert "unknown metric 'psrn'; did you mean 'psnr'?" in capsys.readouterr().err
