"""``vsrbench study make``: the design (balanced, seeded, repeats after their first showing), the site it
writes (lossless frames at their scored size, the degraded copies, study.json) and the refusals; the
answers read back (static files, de-duplicated) and ``vsrbench study score`` wired to the scorer."""
from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from _support.study_data import N_FRAMES, NOISE, answer_file, build, make_results, planted_answers

from vsrbench.analysis.study_answers import DEGRADED, GT
from vsrbench.cli import main
from vsrbench.core.errors import InputError, UnknownNameError
from vsrbench.core.io import decode_image
from vsrbench.visual.study.answers import load_answers
from vsrbench.visual.study.design import REPEAT_GAP, balanced_designs, block, mulberry32, participant_order


@pytest.fixture(scope="module")
def res(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("study_site"))


@pytest.fixture(scope="module")
def study(res) -> tuple[Path, dict]:
    out = res.parent / "study"
    return out, build(res, out, reference=True, segment="1:6", seed=5)


# ------------------------------------------------------------------ the design

@pytest.mark.parametrize("methods,clips,n", [(4, 3, 5), (3, 2, None), (5, 1, 4), (2, 4, 3)])
def test_the_designs_show_each_pair_equally_often_on_each_clip(methods, clips, n):
    names, clip_names = [f"m{i}" for i in range(methods)], [f"c{j}" for j in range(clips)]
    d = balanced_designs(names, clip_names, per_participant=n, attention=2, repeats=1, seed=3)
    pairs = Counter((t.clip, frozenset((t.a, t.b))) for design in d.designs for t in map(d.trials.get, design)
                    if t.kind == "pair")
    expected = {(c, frozenset(p)) for c in clip_names for p in itertools.combinations(names, 2)}
    assert set(pairs) == expected and set(pairs.values()) == {d.appearances} and d.appearances >= 1
    size = len(expected)
    per = n or size
    assert len(d.designs) == size // np.gcd(size, per)  # the fewest designs that balance
    for design in d.designs:
        kinds = Counter(d.trials[t].kind for t in design)
        assert kinds == {"pair": per, "attention": 2, "repeat": 1}
        within = Counter(frozenset((d.trials[t].a, d.trials[t].b)) for t in design if d.trials[t].kind == "pair")
        assert max(within.values()) - min(within.values()) <= 1 or per < len(names)  # pairs spread in a design


def test_the_block_is_every_pair_on_every_clip_once():
    items = block(list("ABCD"), ["x", "y", "z"])
    assert len(items) == len(set(items)) == 6 * 3


def test_an_unbalanced_number_of_designs_is_refused_with_the_multiple_to_use():
    with pytest.raises(InputError, match="use a multiple of 3"):
        balanced_designs(list("ABC"), ["x", "y"], per_participant=4, designs=2)
    with pytest.raises(InputError, match="at least 2 methods"):
        balanced_designs(["A"], ["x"])
    with pytest.raises(InputError, match="--repeats"):
        balanced_designs(list("AB"), ["x"], repeats=2)


def test_the_order_is_seeded_and_repeats_come_later_with_the_sides_swapped():
    d = balanced_designs(list("ABCD"), ["x", "y"], per_participant=12, attention=2, repeats=3, seed=1)
    design = d.designs[0]
    first = participant_order(design, d.trials, 42)
    assert first == participant_order(design, d.trials, 42)  # the recorded seed rebuilds the screen
    assert first != participant_order(design, d.trials, 43)
    assert sorted(t for t, _, _ in first) == sorted(design)
    where = {t: i for i, (t, _, _) in enumerate(first)}
    for t, left, right in first:
        trial = d.trials[t]
        assert {left, right} == {trial.a, trial.b}
        if trial.kind == "repeat":
            orig = first[where[trial.repeat_of]]
            assert where[t] >= where[trial.repeat_of] + REPEAT_GAP or where[t] == len(first) - 1
            assert (left, right) == (orig[2], orig[1])
    sides = Counter(left == d.trials[t].a for t, left, _ in first)
    assert sides[True] and sides[False]  # both sides drawn


def test_mulberry32_matches_the_javascript_generator():
    # the 32-bit outputs of mulberry32 as JavaScript computes them (study.js's function with the final
    # division left out, run under Node 20: `node -e "...; var g = m(1); console.log(g(), g(), g())"`)
    for seed, words in ((1, (2693262067, 11749833, 2265367787)), (4000000000, (2971717173, 2367362249))):
        g = mulberry32(seed)
        assert [g() for _ in words] == [w / 2 ** 32 for w in words]


# ------------------------------------------------------------------ the site

def test_the_site_holds_the_page_the_frames_and_the_recorded_choices(study, res):
    out, s = study
    for name in ("index.html", "study.js", "study.css", "study.json", "answers/README.txt", ".vsrbench-study"):
        assert (out / name).is_file(), name
    assert json.loads((out / "study.json").read_text()) == s
    assert s["methods"] == list(NOISE) and set(s["clips"]) == {"GT/city", "GT/walk"}
    assert s["seed"] == 5 and s["reference"] and s["segment"] == [1, 6] and s["vsrbench"]
    assert s["frames"]["encoding"] == "png" and s["frames"]["lossless"] and not s["frames"]["rescaled"]
    assert s["design"]["balanced"] and s["design"]["trials_per_participant"] == 6
    assert Path(s["results"]) == res.resolve()
    page = (out / "index.html").read_text()
    assert '<meta name="vsrbench-mode" content="static">' in page and "http" not in page.replace("http-equiv", "")


def test_frames_are_the_scored_outputs_pixel_for_pixel(study, res):
    out, s = study
    clip = s["clips"]["GT/walk"]
    assert clip["frames"] == [1, 2, 3, 4, 5] and clip["size"] == [64, 48]
    root = res.parent
    for method in NOISE:
        for f, rel in zip(clip["frames"], clip["sources"][method]):
            shown = decode_image(out / rel)
            assert shown.shape == (48, 64, 3)  # native size, never rescaled
            np.testing.assert_array_equal(shown, decode_image(root / method / "walk" / f"{f:03d}.png"))
    gt = decode_image(root / "GT" / "walk" / "001.png")
    np.testing.assert_array_equal(decode_image(out / clip["sources"][GT][0]), gt)
    degraded = decode_image(out / clip["sources"][DEGRADED][0]).astype(float)
    psnr = 10 * np.log10(255 ** 2 / np.mean((degraded - gt) ** 2))
    assert psnr < 20, psnr  # strongly degraded: far below every method (the worst, B, is ~32 dB)


def test_the_same_seed_gives_the_same_design_and_degraded_frames(res, study, tmp_path):
    out, s = study
    again = build(res, tmp_path / "again", reference=True, segment="1:6", seed=5)
    assert again["designs"] == s["designs"] and again["trials"] == s["trials"] and again["id"] != s["id"]
    rel = s["clips"]["GT/city"]["sources"][DEGRADED][2]
    np.testing.assert_array_equal(decode_image(out / rel), decode_image(tmp_path / "again" / rel))
    other = build(res, tmp_path / "other", segment="1:6", seed=6, methods=("A", "C"))  # another seed
    assert other["methods"] == ["A", "C"] and not other["reference"]
    assert other["clips"]["GT/city"]["sources"][DEGRADED][2] == rel
    assert not np.array_equal(decode_image(out / rel), decode_image(tmp_path / "other" / rel))
    one = build(res, tmp_path / "one", segment="1:6", methods=("C", "A"), clips=("walk",))
    assert one["methods"] == ["C", "A"] and list(one["clips"]) == ["GT/walk"]


def test_bad_requests_are_refused_in_one_line(res, tmp_path, capsys):
    with pytest.raises(UnknownNameError, match="did you mean 'A'"):
        build(res, tmp_path / "x", methods=("A", "a"))
    with pytest.raises(UnknownNameError):
        build(res, tmp_path / "x", clips=("cty",))
    with pytest.raises(InputError, match="--segment"):
        build(res, tmp_path / "x", segment="5:6")
    with pytest.raises(InputError, match="holds 0 frame"):
        build(res, tmp_path / "x", segment=f"{N_FRAMES + 3}:")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        build(res, tmp_path / "busy")
    assert not list(tmp_path.glob(".vsrbench-study-*"))  # nothing left behind
    assert main(["study", "make", str(res), "--out", str(tmp_path / "y"), "--participants-designs", "2",
                 "--trials-per-participant", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "use a multiple of 3" in err[0]


def test_a_study_is_rebuilt_only_while_it_holds_no_answers(res, tmp_path):
    out = tmp_path / "s"
    first = build(res, out)
    second = build(res, out)  # an earlier study without answers is replaced
    answer_file(out, second, "p1", 0, 9, planted_answers(second, 0, 9, "A"))
    with pytest.raises(InputError, match="holds a study with answers"):
        build(res, out)
    assert first["id"] != second["id"] and json.loads((out / "study.json").read_text())["id"] == second["id"]


# ------------------------------------------------------------------ answers read back, and the score command

def test_downloaded_answers_are_read_checked_and_de_duplicated(res, tmp_path):
    out = tmp_path / "s"
    s = build(res, out, trials_per_participant=3)
    assert len(s["designs"]) == 2
    one = planted_answers(s, 0, 11, "B")
    answer_file(out, s, "p1", 0, 11, one)
    answer_file(out, s, "p1", 0, 11, one, name="p1-again.json")  # the same file put in twice
    answer_file(out, s, "p2", 1, 12, planted_answers(s, 1, 12, "C"))
    got = load_answers(out)
    assert len(got) == 2 * len(s["designs"][0])
    assert {(a.participant, a.trial) for a in got} == {("p1", t) for t in s["designs"][0]} | \
        {("p2", t) for t in s["designs"][1]}
    by_trial = {(a.participant, a.trial): a for a in got}
    for d in one:
        a = by_trial["p1", d["trial"]]
        trial = s["trials"][d["trial"]]
        assert (a.left, a.right, a.choice, a.kind, a.repeat_of, a.clip) == (
            d["left"], d["right"], d["choice"], trial["kind"], trial["repeat_of"], trial["clip"])
    assert [a.choice for a in got if a.kind == "attention"] == [GT, GT]
    bad = planted_answers(s, 0, 13, "A")
    bad[0] = {**bad[0], "trial": s["designs"][1][0]}  # a trial of the other design
    answer_file(out, s, "p3", 0, 13, bad)
    with pytest.raises(InputError, match=r"p3\.json: unknown trial"):
        load_answers(out)
    answer_file(out, {**s, "id": "0" * 16}, "p3", 0, 13, one)
    with pytest.raises(InputError, match="answers of another study"):
        load_answers(out)


def test_study_score_reads_the_answers_and_stores_human_scores(res, tmp_path, capsys):
    out = tmp_path / "s"
    s = build(res, out)
    for p in range(3):
        answer_file(out, s, f"p{p}", 0, 100 + p, planted_answers(s, 0, 100 + p, "C"))
    store = tmp_path / "res"
    import shutil

    shutil.copytree(res, store)
    assert main(["study", "score", str(out), "--out", str(store), "--bootstrap", "20", "--seed", "1"]) == 0
    summary = json.loads((out / "scores.json").read_text())
    assert summary["stored"]["rows"] > 0 and summary["stored"]["results"] == str(store)
    text = capsys.readouterr().out
    assert "human_bt" in text
    assert main(["study", "score", str(tmp_path / "nope")]) == 2
