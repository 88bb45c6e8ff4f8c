"""Bad inputs a new user tried on the CLI: each is one line on stderr, ``vsrbench CMD: error/warning: ...``,
never a traceback and never a hint naming an option the command does not have."""
from __future__ import annotations

import numpy as np
import pytest

from vsrbench.cli import main
from vsrbench.core.io import write_frame


def _one_error(capsys, argv, code=2) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize("argv, message", [
    (["speed", "--repeat", "0"], "vsrbench speed: error: --repeat: expected a number of runs of at least 1, got 0"),
    (["speed", "--frames", "3"], "vsrbench speed: error: --frames: expected at least 6 synthetic frames (protocol "
                                 "tecogan cuts 2 at each end and tOF/tLP need 2 scored frames), got 3"),
    (["speed", "--frames", "0"], "vsrbench speed: error: --frames: expected at least 6 synthetic frames (protocol "
                                 "tecogan cuts 2 at each end and tOF/tLP need 2 scored frames), got 0"),
])
def test_speed_rejects_bad_counts_before_any_work(capsys, argv, message):
    # before: --repeat 0 ended in a traceback (min() of no timings); --frames 0 said "sequence 'sequence' has no
    # frames" and --frames 3 "sequence 'sequence' has 3 frames" after building a random backbone
    assert _one_error(capsys, argv) == message


def test_speed_frames_with_real_sequences_is_an_error_not_ignored(capsys, tmp_path):
    # before: --frames was silently ignored with --gt/--pred (every frame was timed)
    for name in ("gt", "pred"):
        write_frame(tmp_path / name / "000.png", np.zeros((8, 8, 3), np.uint8))
    msg = _one_error(capsys, ["speed", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"),
                              "--frames", "3"])
    assert msg.startswith("vsrbench speed: error: --frames 3: only sets the number of synthetic frames; ")


def test_report_viewer_warning_is_prefixed_and_names_no_foreign_option(capsys, tmp_path):
    # a method stored without recorded frame folders (drift over LR frames): the report still writes, and its
    # warning is `vsrbench report: warning: ...` without explain's "give --gt and --pred instead" (report has no
    # such options)
    for i in range(3):
        write_frame(tmp_path / "lr" / "a" / f"{i:03d}.png", np.full((8, 8, 3), 40 * i, np.uint8))
    res = tmp_path / "res"
    assert main(["drift", "--model", "bicubic", "--input", str(tmp_path / "lr"), "--out", str(res)]) == 0
    capsys.readouterr()
    assert main(["report", str(res), "--out", str(tmp_path / "site"), "--no-profiles"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "expected a warning about the viewer frames"
    for line in err:
        assert line.startswith("vsrbench report: warning: viewer of lr/a: the frames cannot be found"), line
        assert "--gt" not in line and "--pred" not in line, line
    assert (tmp_path / "site" / "index.html").is_file()


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 4), (8,)])
def test_write_frame_rejects_non_rgb_shapes(tmp_path, shape):
    # before: a grey (H, W) array ended in numpy's "IndexError: too many indices for array"
    from vsrbench.core.errors import InputError

    with pytest.raises(InputError, match=r"write_frame expects an RGB frame of shape \(H, W, 3\), got shape "):
        write_frame(tmp_path / "f.png", np.zeros(shape, np.uint8))
    assert not (tmp_path / "f.png").exists()


def test_table_standalone_without_latex_is_an_error(capsys, tmp_path):
    # before: --standalone was silently ignored for Markdown/CSV/HTML; checked before the results folder is read
    msg = _one_error(capsys, ["table", str(tmp_path), "--standalone"])
    assert msg == ("vsrbench table: error: --standalone: only used with LaTeX output (a compilable document), but "
                   "the format is markdown; add --format latex (or --out FILE.tex), or leave out --standalone")


def test_models_finds_a_checkpoint_where_weights_download_puts_it(tmp_path, monkeypatch):
    """ENet downloads to $VSRBENCH_HOME/enhancenet/weights (its local name); `vsrbench models` used
    to look for plain 'weights' and call it missing."""
    from vsrbench.baselines import MODELS
    from vsrbench.catalog.listings import checkpoint_status

    monkeypatch.setenv("VSRBENCH_HOME", str(tmp_path))
    ckpt = MODELS["enet"].checkpoints[0]
    assert ckpt.local_name and checkpoint_status(ckpt) == "missing"
    (tmp_path / ckpt.local_name).parent.mkdir(parents=True)
    (tmp_path / ckpt.local_name).write_bytes(b"x")
    assert checkpoint_status(ckpt).startswith(f"present: {tmp_path / ckpt.local_name}")


def test_check_lr_size_refuses_a_bad_scale_in_one_line():
    from vsrbench.baselines.degrade import check_lr_size
    from vsrbench.core.errors import InputError

    with pytest.raises(InputError, match=r"^scale: expected an integer >= 1, got 0$"):
        check_lr_size((16, 16, 3), 0)  # was a ZeroDivisionError
