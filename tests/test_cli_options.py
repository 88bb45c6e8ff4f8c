"""The thin CLI: one spelling per concept, metrics lists, argument groups and examples in every ``--help``,
the aliases of former spellings, the single vocabulary module and the one plain-text table layout."""
from __future__ import annotations

import argparse
import shlex
import subprocess
import sys

import numpy as np
import pytest

from vsrbench.cli import _command_modules, build_parser, main
from vsrbench.core.io import write_frame
from vsrbench.core.text import display_width, text_table


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


COMMANDS = sorted(m.NAME for m in _command_modules())


# ------------------------------------------------------------------ --help: groups and examples


@pytest.mark.parametrize("name", COMMANDS)
def test_every_help_has_argument_groups_and_examples(name):
    p = _commands()[name]
    text = p.format_help()
    lines = text.splitlines()
    assert "examples:" in lines, text
    examples = lines[lines.index("examples:") + 1:]
    assert examples and all(e.startswith(f"  vsrbench {name}") for e in examples), examples
    titles = {g.title for g in p._action_groups if g._group_actions}
    assert titles - {"positional arguments", "options"}, f"{name}: no argument group of its own: {titles}"
    for g in p._action_groups:
        if g._group_actions and g.title not in ("positional arguments", "options"):
            assert f"\n{g.title}:\n" in text


@pytest.mark.parametrize("name", COMMANDS)
def test_every_example_parses(name):
    """The examples are real command lines: each parses (nothing runs)."""
    mod = next(m for m in _command_modules() if m.NAME == name)
    assert 1 <= len(mod.EXAMPLES) <= 2
    for line in mod.EXAMPLES:
        argv = shlex.split(line)
        assert argv[:2] == ["vsrbench", name]
        args = build_parser().parse_args(argv[1:])
        assert args.command == name


def test_a_plain_description_is_still_wrapped():
    text = _commands()["check"].format_help()
    assert max(len(line) for line in text.splitlines() if not line.startswith("  vsrbench")) <= 100


# ------------------------------------------------------------------ metrics lists


@pytest.mark.parametrize("words", [["psnr,tof"], ["psnr", "tof"], ["psnr,", "tof"], ["PSNR", ",tof", "psnr"]])
def test_a_metrics_list_is_read_the_same_in_every_spelling(words):
    for cmd in (["table", "R"], ["plot", "R", "--out", "D"], ["report", "R", "--out", "D"], ["compare", "R", "A", "B"]):
        assert build_parser().parse_args([*cmd, "--metrics", *words]).metrics == ["psnr", "tof"], cmd
    assert build_parser().parse_args(["compare", "R", "A", "B", "--metric", *words]).metrics == ["psnr", "tof"]
    evaluate = ["evaluate", "--gt", "G", "--pred", "P", "--out", "O", "--metrics", *words]
    assert build_parser().parse_args(evaluate).metrics == "psnr,tof"  # read as text by evaluate


@pytest.mark.parametrize("cmd", [["table", "R"], ["evaluate", "--gt", "G", "--pred", "P", "--out", "O"],
                                 ["compare", "R", "A", "B"]])
def test_an_unknown_metric_is_one_line_with_did_you_mean_before_any_work(capsys, tmp_path, cmd):
    argv = [a if a not in ("R", "G", "P", "O") else str(tmp_path / a) for a in cmd]
    assert main([*argv, "--metrics", "psnr", "tfo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vsrbench {cmd[0]}: error: unknown metric 'tfo'; did you mean 'tof'? (known: ")
    assert err.count("\n") == 1 and "psnr, ssim, tlp, tof" in err  # the metric registry's names
    assert not any(tmp_path.iterdir())  # nothing made


def test_an_empty_metrics_list_is_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["table", "R", "--metrics", ","])
    assert e.value.code == 2
    assert capsys.readouterr().err == ("vsrbench table: error: argument --metrics: expected metric names, e.g. "
                                       "psnr,ssim or psnr ssim\n")


# ------------------------------------------------------------------ aliases of former spellings


def test_upscale_output_and_out_write_the_same_frames(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i in range(2):
        write_frame(tmp_path / "lr" / f"{i:03d}.png", rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    base = ["upscale", "--model", "bicubic", "--input", str(tmp_path / "lr")]
    assert main([*base, "--out", str(tmp_path / "new")]) == 0
    assert main([*base, "--output", str(tmp_path / "old")]) == 0
    new, old = sorted((tmp_path / "new").iterdir()), sorted((tmp_path / "old").iterdir())
    assert [p.name for p in new] == ["000.png", "001.png"] == [p.name for p in old]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(new, old))
    assert "--output: the former spelling, kept as an alias" in " ".join(_commands()["upscale"].format_help().split())


def test_explain_results_positional_and_option_are_the_same(tmp_path, capsys):
    missing = str(tmp_path / "nothing")
    errs = []
    for argv in (["explain", missing], ["explain", "--results", missing]):
        assert main([*argv, "--method", "m", "--target", "psnr=27"]) == 2
        errs.append(capsys.readouterr().err)
    assert errs[0] == errs[1] and errs[0].count("\n") == 1 and "no results store" in errs[0], errs
    assert main(["explain", missing, "--results", str(tmp_path / "other"), "--method", "m",
                 "--target", "psnr=27"]) == 2
    assert capsys.readouterr().err == (f"vsrbench explain: error: two results folders: RESULTS {missing!r} and "
                                       f"--results {str(tmp_path / 'other')!r}; give one\n")


def test_report_viewer_frames_and_frames_are_one_option():
    new = build_parser().parse_args(["report", "R", "--out", "D", "--viewer-frames", "2"])
    old = build_parser().parse_args(["report", "R", "--out", "D", "--frames", "2"])
    assert vars(new) == vars(old) and new.frames == 2
    assert "--frames: the former spelling" in " ".join(_commands()["report"].format_help().split())


def test_one_spelling_per_concept():
    """A results folder that a command reads is the positional RESULTS; what it writes is --out."""
    for name, p in _commands().items():
        dests = {a.dest: a for a in p._actions}
        flags = {o for a in p._actions for o in a.option_strings}
        assert "--output" not in flags or dests["out"].option_strings[0] == "--out", name
        assert not ({"--results"} & flags) or "results" in dests and not dests["results"].option_strings, name
        if "results" in dests:
            assert dests["results"].metavar == "RESULTS" and not dests["results"].option_strings, name


# ------------------------------------------------------------------ the vocabulary, declared once


def test_the_library_and_the_cli_use_the_one_vocabulary():
    from vsrbench.analysis import stats, table_model, table_stats, vocabulary as V
    from vsrbench.visual import figures, plots

    assert table_model.FORMATS is V.TABLE_FORMATS and table_model.AVERAGES is V.AVERAGES
    assert stats.AVERAGES is V.AVERAGES and stats.TESTS is V.TESTS and stats.INTERVALS is V.INTERVALS
    assert stats.SCHEMES is V.SCHEMES and stats.SIGNIFICANT_MARK == table_stats.SIGNIFICANT == V.SIGNIFICANT == "*"
    assert table_stats.CI_STYLES is V.CI_STYLES
    assert plots.KINDS is V.PLOT_KINDS and plots.PLOT_FORMATS is V.PLOT_FORMATS
    assert tuple(figures.LAYOUTS) == V.FIGURE_LAYOUTS and figures.FIGURE_FORMATS is V.FIGURE_FORMATS
    cmds = _commands()

    def choices(cmd: str, dest: str):
        return tuple(next(a for a in cmds[cmd]._actions if a.dest == dest).choices)

    assert choices("table", "format") == V.TABLE_FORMATS and choices("table", "ci_style") == V.CI_STYLES
    for cmd in ("table", "compare", "plot", "report"):
        assert choices(cmd, "average") == V.AVERAGES, cmd
    assert choices("table", "test") == V.TESTS == choices("compare", "test")
    assert choices("compare", "interval") == V.INTERVALS and choices("compare", "scheme") == V.SCHEMES


def test_the_vocabulary_imports_no_pandas_or_torch():
    code = ("import sys, vsrbench.analysis.vocabulary, vsrbench.core.text; "
            "print(sorted(m for m in ('torch', 'pandas', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ text_table


def test_text_table_aligns_columns_two_spaces_apart():
    assert text_table([["psnr", "27.1"], ["lpips", "0.2"]], header=["metric", "value"]) == [
        "metric  value", "psnr    27.1", "lpips   0.2"]


def test_text_table_right_alignment_and_rule():
    lines = text_table([["a", 1.5], ["bbb", 10.25]], header=["x", "v"], align="lr", rule="-")
    assert lines == ["x        v", "---  -----", "a      1.5", "bbb  10.25"]


def test_text_table_strips_trailing_spaces_and_fills_short_rows():
    assert text_table([["a", "b", "c"], ["dd"], ["e", "", ""]]) == ["a   b  c", "dd", "e"]


def test_text_table_counts_terminal_cells():
    assert display_width("↑±–") == 3 and display_width("画像") == 4 and display_width("e\u0301") == 1
    assert text_table([["画像", "x"], ["ab", "y"]]) == ["画像  x", "ab    y"]


def test_text_table_empty_and_bad_arguments():
    assert text_table([]) == [] and text_table([], header=["a", "b"]) == ["a  b"]
    with pytest.raises(ValueError, match="align is a string of 'l' and 'r'"):
        text_table([["a"]], align="c")
    with pytest.raises(ValueError, match="rule needs a header"):
        text_table([["a"]], rule="-")
