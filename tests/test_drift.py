"""Ping-pong drift (vsrbench.drift, `vsrbench drift`): per-frame models score 0, recurrent ones drift.

The recurrent models are the built-in FRVSR / TecoGAN generators with seeded random weights
(saved as a TecoGAN-PyTorch state dict and loaded through ``load_model`` like a real file), on
tiny 32x32 LR frames on the CPU. Their drift is checked against an independent computation: the
model run by the test over frames 0..n-1, n-2..0, the two legs compared with numpy.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vsrbench.baselines import load_model
from vsrbench.baselines.duf import DUF, DUFModel
from vsrbench.baselines.enet import ENet, ENetModel
from vsrbench.baselines.frvsr import FRNet
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.drift import DRIFT_PROTOCOL, pingpong_drift, pingpong_order
from vsrbench.core.io import write_frame
from vsrbench.metrics import METRICS, check_metrics

N = 6  # frames
SIZE = 32  # LR height and width


def moving_frames(n: int = N, seed: int = 0, size: int = SIZE) -> list[np.ndarray]:
    """A random texture moving by (1, 2) px per frame, uint8 RGB."""
    base = np.random.default_rng(seed).integers(0, 256, (size + 2 * n, size + 2 * n, 3), dtype=np.uint8)
    return [np.ascontiguousarray(base[t:t + size, 2 * t:2 * t + size]) for t in range(n)]


@pytest.fixture
def frvsr_weights(tmp_path):
    """A seeded random FRVSR (10 blocks) as a TecoGAN-PyTorch state dict file."""
    torch.manual_seed(0)
    path = tmp_path / "FRVSR_4x_BI_Vimeo_iter400K.pth"
    torch.save(FRNet(10, semantics="pt-bi").state_dict(), path)
    return path


def independent_drift(model, frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """RMSE / PSNR per frame t < n-1 of one pass over 0..n-1, n-2..0, with numpy; and the outputs."""
    n = len(frames)
    order = list(range(n)) + list(range(n - 2, -1, -1))
    outs = [np.clip(np.round(np.asarray(o, np.float64) * 255.0), 0, 255) for o in model.upscale([frames[i] for i in order])]
    assert len(outs) == 2 * n - 1
    mse = np.array([np.mean((outs[t] - outs[2 * n - 2 - t]) ** 2) for t in range(n - 1)])
    with np.errstate(divide="ignore"):
        psnr = 10 * np.log10(255.0 ** 2 / mse)
    return np.sqrt(mse), psnr, outs


def test_pingpong_order_is_tecogans():
    assert pingpong_order(4) == [0, 1, 2, 3, 2, 1, 0]
    assert pingpong_order(2) == [0, 1, 0]


def test_bicubic_by_name_has_exactly_zero_drift():
    d = pingpong_drift("bicubic", moving_frames())
    assert d.num_frames == N and d.rmse.shape == (N - 1,)
    assert np.all(d.rmse == 0.0) and np.all(np.isinf(d.psnr)) and d.mean_rmse == 0.0 and d.mean_psnr == math.inf


def test_enet_per_frame_model_has_exactly_zero_drift():
    torch.manual_seed(0)
    d = pingpong_drift(ENetModel(ENet()), moving_frames(4))
    assert np.all(d.rmse == 0.0) and np.all(d.psnr == math.inf)


def test_recurrent_frvsr_drifts_and_matches_an_independent_computation(frvsr_weights):
    frames = moving_frames()
    d = pingpong_drift("frvsr-pt-bi", frames, weights=frvsr_weights)
    model = load_model("frvsr-pt-bi", weights=frvsr_weights)
    rmse, psnr, outs = independent_drift(model, frames)
    np.testing.assert_allclose(d.rmse, rmse, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(d.psnr, psnr, rtol=1e-9)
    # the forward leg is the model's ordinary output for frames 0..n-1
    plain = [np.clip(np.round(o.astype(np.float64) * 255.0), 0, 255) for o in model.upscale(frames)]
    for t in range(N):
        np.testing.assert_array_equal(outs[t], plain[t])
    # frames 1..n-2: the previous frame differs between the legs (t-1 vs t+1): drift > 0, finite
    assert np.all(d.rmse[1:] > 0.1) and np.all(np.isfinite(d.psnr[1:]))
    assert d.mean_rmse > 0.1 and 30 < d.mean_psnr < 80
    # frame 0 follows frames 5..1 on both legs (the inference padding, see below): (almost) no drift;
    # a frame without drift (PSNR inf) is left out of the mean PSNR, as tables do
    assert d.rmse[0] < 0.05
    assert d.mean_psnr == pytest.approx(float(np.mean(psnr[np.isfinite(psnr)])), rel=1e-9)


def test_without_front_padding_frame_0_drifts_too(frvsr_weights):
    """With TF's inference padding (frames 5..1 first) frame 0 follows frames 5..1 on both legs; without
    it, the forward leg starts from an empty state, so frame 0 differs as well."""
    frames = moving_frames()
    padded = pingpong_drift("frvsr-pt-bi", frames, weights=frvsr_weights)
    bare = pingpong_drift(load_model("frvsr-pt-bi", weights=frvsr_weights, num_pad_front=0), frames)
    assert bare.rmse[0] > padded.rmse[0] and bare.rmse[0] > 0.1
    np.testing.assert_allclose(bare.rmse[1:], padded.rmse[1:], rtol=0.2)


def test_tecogan_tf_semantics_drifts(tmp_path):
    torch.manual_seed(1)
    net = FRNet(10, semantics="pt-bd")
    path = tmp_path / "TecoGAN_4x_BD_Vimeo_iter500K.pth"
    torch.save(net.state_dict(), path)
    frames = moving_frames(4, size=16)
    d = pingpong_drift("tecogan-pt-bd", frames, weights=path)
    rmse, _, _ = independent_drift(load_model("tecogan-pt-bd", weights=path), frames)
    np.testing.assert_allclose(d.rmse, rmse, rtol=1e-9, atol=1e-9)
    assert np.all(d.rmse[1:] > 0)


def test_a_callable_that_takes_a_frame_order():
    """A toy recurrent model: out_t = (frame_t + out_t-1) / 2 (no upscaling), run by the order given."""
    calls = []

    def recurrent(frames):
        calls.append(len(frames))
        prev = None
        for f in frames:
            cur = f.astype(np.float64) / 255.0
            prev = cur if prev is None else (cur + prev) / 2
            yield prev

    frames = moving_frames(5)
    d = pingpong_drift(recurrent, frames)
    assert calls == [9]
    outs = list(recurrent([frames[i] for i in pingpong_order(5)]))
    u8 = [np.clip(np.round(o * 255), 0, 255) for o in outs]
    want = [math.sqrt(np.mean((u8[t] - u8[8 - t]) ** 2)) for t in range(4)]
    np.testing.assert_allclose(d.rmse, want, rtol=1e-12)
    assert np.all(d.rmse > 1)
    # a per-frame callable, returning a list: no drift
    assert np.all(pingpong_drift(lambda fr: [f.astype(np.float32) / 255 for f in fr], frames).rmse == 0)


def test_duf_window_model_is_not_zero(rng):
    """DUF is not recurrent, but its window of frame t holds the neighbours in reversed order on
    the backward leg (and mirrored frames near the turn): a small, non-zero drift."""
    torch.manual_seed(0)
    d = pingpong_drift(DUFModel(DUF(16, 4).eval(), name="duf-16l"), moving_frames(5, size=16))
    assert np.all(d.rmse > 0) and np.all(np.isfinite(d.psnr))


def test_model_options_go_to_a_name_only(frvsr_weights):
    with pytest.raises(InputError, match="apply to a model name only"):
        pingpong_drift(lambda fr: fr, moving_frames(3), weights=frvsr_weights)
    with pytest.raises(InputError, match="expected a model name, an object with .upscale"):
        pingpong_drift(42, moving_frames(3))


def test_unknown_model_suggests_a_name():
    with pytest.raises(UnknownNameError, match="did you mean 'frvsr-pt-bi'"):
        pingpong_drift("frvsr-pt-b", moving_frames(3))


@pytest.mark.parametrize("n", [0, 1])
def test_too_few_frames(n):
    with pytest.raises(InputError, match=f"needs at least 2 frames .*got {n}$"):
        pingpong_drift("bicubic", moving_frames(3)[:n])


def test_a_model_returning_the_wrong_number_of_frames():
    with pytest.raises(InputError, match=r"returned 4 frames for the 5 frames of the ping-pong pass \(n = 3\)"):
        pingpong_drift(lambda fr: fr[:4], moving_frames(3))
    with pytest.raises(InputError, match="returned more than 5 frames"):
        pingpong_drift(lambda fr: list(fr) * 2, moving_frames(3))


def test_registered_as_model_run_metrics_that_evaluate_refuses():
    for m in ("drift_rmse", "drift_psnr"):
        assert METRICS[m].model_run and not METRICS[m].temporal
    assert not METRICS["drift_rmse"].higher_is_better and METRICS["drift_psnr"].higher_is_better
    assert check_metrics(["drift_rmse"], model_run=True) == ("drift_rmse",)
    with pytest.raises(InputError, match="'drift_psnr' is measured by running a model on LR frames"):
        check_metrics(["psnr", "drift_psnr"])


def write_seq(folder, frames):
    for i, f in enumerate(frames):
        write_frame(folder / f"{i:03d}.png", f)
    return folder


def test_evaluate_cli_refuses_a_drift_metric_in_one_line(tmp_path, capsys):
    frames = moving_frames(3)
    write_seq(tmp_path / "gt", frames)
    write_seq(tmp_path / "out", frames)
    code = main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "out"), "--metrics",
                 "psnr,drift_rmse", "--out", str(tmp_path / "res"), "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "Traceback" not in err[0]
    assert err[0].startswith("vsrbench evaluate: error: metric 'drift_rmse' is measured by running a model")


def test_benchfile_refuses_a_drift_metric(tmp_path):
    from vsrbench.catalog.benchfile import load_bench

    write_seq(tmp_path / "gt", moving_frames(2))
    path = tmp_path / "bench.toml"
    path.write_text('name = "b"\nmetrics = ["psnr", "drift_psnr"]\n[datasets.d]\ngt = "gt"\n'
                    '[methods.bicubic]\nmodel = "bicubic"\n')
    with pytest.raises(InputError, match=r"metrics\[1\]: 'drift_psnr' is measured by running a model"):
        load_bench(path)


def test_cli_prints_stores_and_tables_show_drift(tmp_path, capsys, frvsr_weights):
    import pandas as pd

    from vsrbench.results.loading import load_results

    lr = tmp_path / "vid_lr"
    write_seq(lr / "walk", moving_frames())
    write_seq(lr / "city", moving_frames(4, seed=1))
    res = tmp_path / "res"
    assert main(["drift", "--model", "bicubic", "--input", str(lr), "--out", str(res), "--device", "cpu"]) == 0
    assert main(["drift", "--model", "frvsr-pt-bi", "--weights", str(frvsr_weights), "--input", str(lr),
                 "--out", str(res), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "vid_lr/walk: ping-pong drift of bicubic (6 frames" in out
    assert "     0 000.png                 0.000        inf" in out
    df = load_results(res)
    assert set(df["metric"]) == {"drift_rmse", "drift_psnr"} and set(df["protocol"]) == {DRIFT_PROTOCOL}
    assert set(df["dataset"]) == {"vid_lr"} and set(df["method"]) == {"bicubic", "frvsr-pt-bi"}
    walk = df[(df["sequence"] == "walk") & (df["metric"] == "drift_rmse")]
    assert sorted(walk[walk["method"] == "bicubic"]["frame"]) == [0, 1, 2, 3, 4]
    assert (walk[walk["method"] == "bicubic"]["value"] == 0).all()
    want = pingpong_drift("frvsr-pt-bi", moving_frames(), weights=frvsr_weights).rmse
    got = walk[walk["method"] == "frvsr-pt-bi"].sort_values("frame")["value"].to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert isinstance(df, pd.DataFrame)
    from vsrbench.results.loading import load_runs

    runs = load_runs(res)
    assert list(runs["status"]) == ["done", "done"] and set(runs["protocol"]) == {DRIFT_PROTOCOL}
    assert runs["weights"].iloc[1]["frvsr-pt-bi"]["path"] == str(frvsr_weights)
    assert len(runs["weights"].iloc[1]["frvsr-pt-bi"]["sha256"]) == 64
    assert main(["table", str(res)]) == 0
    table = capsys.readouterr().out
    assert "PP-drift RMSE" in table and "frvsr-pt-bi" in table


def test_curves_plot_draws_drift(tmp_path):
    from vsrbench.visual.plots import plot_results

    lr = tmp_path / "lr"
    write_seq(lr / "walk", moving_frames(3))
    assert main(["drift", "--model", "bicubic", "--input", str(lr), "--out", str(tmp_path / "res"),
                 "--device", "cpu"]) == 0
    files = plot_results(tmp_path / "res", tmp_path / "plots", kinds="curves")
    assert [f.name for f in files] == ["curves_lr_walk.png"]


def test_cli_errors_are_one_line(tmp_path, capsys):
    lr = write_seq(tmp_path / "one", moving_frames(1))
    assert main(["drift", "--model", "frvsr-pt-b", "--input", str(lr)]) != 0
    assert main(["drift", "--model", "bicubic", "--input", str(lr)]) != 0
    assert main(["drift", "--model", "bicubic", "--input", str(tmp_path / "nope")]) != 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(e.startswith("vsrbench drift: error: ") for e in err), err
    assert "did you mean 'frvsr-pt-bi'" in err[0]
    assert "sequence 'one' has 1 frame(s); ping-pong drift needs at least 2 frames" in err[1]
    assert "path not found" in err[2]


def test_inputs_as_an_array_or_a_folder_and_outputs_of_changing_size(tmp_path):
    frames = moving_frames(3)
    want = pingpong_drift("bicubic", frames)
    assert pingpong_drift("bicubic", np.stack(frames)).rmse.tolist() == want.rmse.tolist()
    assert pingpong_drift("bicubic", write_seq(tmp_path / "seq", frames)).num_frames == 3
    with pytest.raises(InputError, match="path not found"):
        pingpong_drift("bicubic", tmp_path / "nope")

    def shrinking(fr):
        return [f[: 32 - i] for i, f in enumerate(fr)]

    with pytest.raises(InputError, match=r"frame 1: the backward leg's output is \(29, 32, 3\), the forward leg's "
                                         r"\(31, 32, 3\)"):
        pingpong_drift(shrinking, frames)


def test_cli_keeps_stored_values_and_says_so(tmp_path, capsys):
    from vsrbench.results.loading import load_results

    lr = write_seq(tmp_path / "lr", moving_frames(3))
    res = tmp_path / "res"
    args = ["drift", "--model", "bicubic", "--input", str(lr), "--out", str(res), "--device", "cpu"]
    assert main(args) == 0 and main(args) == 0
    err = capsys.readouterr().err
    assert err.count("drift: lr/lr of method 'bicubic' is already in") == 1 and "stored values are kept" in err
    assert len(load_results(res)) == 4
    assert main([*args, "--method", "bicubic-again"]) == 0
    assert set(load_results(res)["method"]) == {"bicubic", "bicubic-again"}

