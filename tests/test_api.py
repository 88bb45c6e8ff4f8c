"""The public entry: a researcher's common imports come from ``vsrbench`` itself, lazily."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import vsrbench


def test_common_imports_come_from_the_top_level_package():
    from vsrbench.baselines import load_model
    from vsrbench.evaluate import evaluate_many, evaluate_sequence
    from vsrbench.metrics import get_protocol, lpips, psnr, ssim, temporal_profile, tlp, tof
    from vsrbench.results.loading import load_results

    assert vsrbench.psnr is psnr and vsrbench.ssim is ssim and vsrbench.lpips is lpips
    assert vsrbench.tof is tof and vsrbench.tlp is tlp and vsrbench.temporal_profile is temporal_profile
    assert vsrbench.get_protocol is get_protocol and vsrbench.load_model is load_model
    assert vsrbench.evaluate_sequence is evaluate_sequence and vsrbench.evaluate_many is evaluate_many
    assert vsrbench.load_results is load_results
    for name in vsrbench.__all__:
        assert getattr(vsrbench, name) is not None, name


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'psrn'"):
        vsrbench.psrn  # noqa: B018


def test_importing_vsrbench_does_not_load_torch():
    code = "import sys, vsrbench; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_top_level_psnr_scores_like_the_metric_module():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    out = np.clip(gt.astype(np.int16) + rng.integers(-3, 4, gt.shape), 0, 255).astype(np.uint8)
    mse = np.mean((out.astype(np.float64) - gt) ** 2)
    assert vsrbench.psnr(out, gt, protocol="basicsr-rgb") == pytest.approx(10 * np.log10(255**2 / mse), abs=1e-12)


def test_evaluators_take_pred_first_like_the_metrics():
    """One argument order everywhere: (pred, gt). The SSIM data range of the tecogan protocol is
    the *output's* luma range, so swapping the arguments changes the number: pin which is which."""
    from vsrbench.core.errors import InputError

    rng = np.random.default_rng(1)
    gt = [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(5)]
    out = [(g // 2).astype(np.uint8) for g in gt]  # a low-contrast output: its luma range is half the GT's
    scores = vsrbench.evaluate_sequence(out, gt, metrics=["ssim"], device="cpu")
    assert scores.values("ssim")[0] == pytest.approx(vsrbench.ssim(out[2], gt[2]), abs=1e-12)
    assert vsrbench.ssim(out[2], gt[2]) != pytest.approx(vsrbench.ssim(gt[2], out[2]), abs=1e-3)
    many = vsrbench.evaluate_many({"half": out}, gt, metrics=["ssim"], device="cpu")
    assert many["half"].values("ssim").tolist() == scores.values("ssim").tolist()
    with pytest.raises(InputError, match=r"^evaluate_many\(preds, gt\): preds must be a mapping \{method: frames\} "
                                         r"and gt one sequence \(got list and dict\); the order is \(pred, gt\)"):
        vsrbench.evaluate_many(gt, {"half": out}, metrics=["ssim"], device="cpu")


#: the deep imports documented before the harness was grouped by role -> the modules that now define the names
MOVED = {
    "vsrbench.io": ("vsrbench.core.io",),
    "vsrbench.store": ("vsrbench.results.store", "vsrbench.results.locks", "vsrbench.results.loading",
                       "vsrbench.results.export"),
    "vsrbench.tables": ("vsrbench.results.frame", "vsrbench.analysis.table_model", "vsrbench.analysis.published_rows",
                        "vsrbench.analysis.table_stats", "vsrbench.analysis.tables", "vsrbench.analysis.render"),
    "vsrbench.plots": ("vsrbench.visual.plots",),
    "vsrbench.suites": ("vsrbench.catalog.suites",),
    "vsrbench.stats": ("vsrbench.analysis.stats",),
    "vsrbench.report": ("vsrbench.visual.report",),
    "vsrbench.figures": ("vsrbench.visual.figures",),
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_deep_imports_still_give_the_same_objects(old):
    """``from vsrbench.tables import build_tables`` (and the README's other deep imports) keep working for a
    release: the old module re-exports the very objects its new home defines, and nothing else."""
    import importlib

    shim = importlib.import_module(old)
    homes = [importlib.import_module(m) for m in MOVED[old]]
    expected = {name: getattr(home, name) for home in homes for name in home.__all__
                if not isinstance(getattr(home, name), type(sys))}  # names, not re-exported modules
    missing = sorted(n for n in expected if n not in shim.__all__)
    assert not missing, f"{old} does not re-export {missing}"
    for name in shim.__all__:  # the old module's names that are private (or vocabulary) in their new home
        same = expected.get(name, None)
        if same is None:
            same = next(getattr(h, n) for h in homes for n in (name, "_" + name) if hasattr(h, n))
        assert getattr(shim, name) is same, f"{old}.{name}"
