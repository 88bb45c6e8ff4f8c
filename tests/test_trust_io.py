"""Frame I/O hardening and "no silent wrong numbers" warnings (the tracker's "trust" issue).

Each test pins one case: the one-line warning mechanism of the CLI, the size rule's warning,
gray/alpha/video inputs, libpng/libjpeg noise on stderr, long file names, the umask, profile
options, OSErrors in I/O, and float frames on the wrong scale.
"""
from __future__ import annotations

import warnings

import pytest

from vsrbench import cli
from vsrbench.core.errors import VsrbenchWarning


# ------------------------------------------------------------------ 1. the warning mechanism

def test_cli_shows_each_vsrbench_warning_once_as_one_line(capsys):
    def fake_run(args):
        for _ in range(3):
            warnings.warn("sequence 'a': frames are\n grayscale", VsrbenchWarning, stacklevel=2)
        warnings.warn("sequence 'b': frames are grayscale", VsrbenchWarning, stacklevel=2)
        return 0

    parser = cli.build_parser()
    args = parser.parse_args(["models"])
    args._run = fake_run
    with cli.one_line_warnings(args.command):
        assert fake_run(args) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "vsrbench models: warning: sequence 'a': frames are grayscale",
        "vsrbench models: warning: sequence 'b': frames are grayscale",
    ]


def test_cli_main_routes_warnings_through_one_line_display(monkeypatch, capsys):
    import vsrbench.commands.models as models_cmd

    def noisy_run(args):
        warnings.warn("something to know", VsrbenchWarning, stacklevel=2)
        warnings.warn("something to know", VsrbenchWarning, stacklevel=2)
        return 0

    monkeypatch.setattr(models_cmd, "run", noisy_run)
    assert cli.main(["models"]) == 0
    err = capsys.readouterr().err
    assert err == "vsrbench models: warning: something to know\n"


def test_vsrbench_warning_is_a_user_warning():
    assert issubclass(VsrbenchWarning, UserWarning)
