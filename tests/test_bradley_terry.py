"""Bradley–Terry scores of a pairwise study (vsrbench.analysis.bradley_terry) and ``study score``'s store rows.

The fit is checked against an independent implementation (the ``choix`` package: ``opt_pairwise`` with
the same Gaussian penalty, ``mm_pairwise`` and ``ilsr_pairwise`` for plain maximum likelihood), against the
closed form of two methods, and against synthetic answers drawn from known strengths (the true
strengths must fall inside the participant-bootstrap intervals about as often as the level says).
"""
from __future__ import annotations

import math
import sys
import types
from itertools import combinations

import numpy as np
import pytest

from vsrbench.analysis.bradley_terry import (OVERALL, alpha_of, attention_results, circular_triads, consistency,
                                             fit_strengths, format_scores, score_answers, win_matrix)
from vsrbench.analysis.study_answers import DEGRADED, GT, Answer
from vsrbench.core.errors import InputError

choix = pytest.importorskip("choix", reason="choix (the independent Bradley-Terry implementation) is not installed")

TRUTH = {"bicubic": -1.2, "frvsr": -0.4, "duf": 0.1, "enet": 0.5, "tecogan": 1.0}  # mean 0


def _pairs(rng, strengths: np.ndarray, n: int) -> list[tuple[int, int]]:
    out = []
    for _ in range(n):
        i, j = rng.choice(len(strengths), 2, replace=False)
        p = 1.0 / (1.0 + math.exp(-(strengths[i] - strengths[j])))
        out.append((int(i), int(j)) if rng.random() < p else (int(j), int(i)))
    return out


def _wins(pairs, m):
    return win_matrix(pairs, list(range(m)))


def synthetic(seed: int, truth=TRUTH, *, clips: int = 3, people: int = 30, attention: int = 0,
              careless: int = 0) -> list[Answer]:
    """Every participant judges every pair of every clip once, preferring by the known strengths; ``careless``
    extra participants always choose the degraded copy and the worse method."""
    rng = np.random.default_rng(seed)
    out = []
    for p in range(people + careless):
        bad = p >= people
        k = 0
        for c in range(clips):
            for a, b in combinations(truth, 2):
                pr = 1.0 / (1.0 + math.exp(-(truth[a] - truth[b])))
                if bad:
                    win = a if truth[a] < truth[b] else b
                else:
                    win = a if rng.random() < pr else b
                left, right = (a, b) if rng.random() < 0.5 else (b, a)
                out.append(Answer(f"p{p}", f"t{k}", f"clip{c}", left, right, win))
                k += 1
        for i in range(attention):
            out.append(Answer(f"p{p}", f"a{i}", "clip0", GT, DEGRADED, DEGRADED if bad else GT, kind="attention"))
    return out


# ---------------------------------------------------------------------- the fit against choix and closed forms


@pytest.mark.parametrize("prior_sd", [3.0, 1.0, 0.4])
def test_the_map_fit_is_choix_opt_pairwise_with_the_same_penalty(prior_sd):
    rng = np.random.default_rng(7)
    m = 6
    pairs = _pairs(rng, rng.normal(size=m), 250)
    ours = fit_strengths(_wins(pairs, m), prior_sd=prior_sd)
    theirs = choix.opt_pairwise(m, pairs, alpha=alpha_of(prior_sd), method="Newton-CG", tol=1e-13)
    assert abs(ours.mean()) < 1e-12
    assert np.max(np.abs(ours - theirs)) < 1e-7


@pytest.mark.parametrize("reference", ["mm_pairwise", "ilsr_pairwise"])
def test_maximum_likelihood_is_choix_mm_and_ilsr(reference):
    rng = np.random.default_rng(3)
    m = 5
    pairs = _pairs(rng, rng.normal(size=m), 300)
    ours = fit_strengths(_wins(pairs, m), prior_sd=math.inf)
    theirs = getattr(choix, reference)(m, pairs, tol=1e-13)
    assert np.max(np.abs(ours - (theirs - theirs.mean()))) < 1e-7


def test_two_methods_have_the_closed_form_log_odds():
    # maximum likelihood: s_a - s_b = log(k / (n - k)); with the prior the difference shrinks towards 0
    w = np.array([[0.0, 7.0], [3.0, 0.0]])
    s = fit_strengths(w, prior_sd=math.inf)
    assert s[0] - s[1] == pytest.approx(math.log(7 / 3), abs=1e-10) and s.sum() == pytest.approx(0, abs=1e-12)
    shrunk = fit_strengths(w, prior_sd=1.0)
    d = shrunk[0] - shrunk[1]
    # stationarity of the MAP objective in d = 2 s_a: 7 (1 - p) - 3 p = alpha * d  (p = sigmoid(d), alpha = 1/2)
    p = 1 / (1 + math.exp(-d))
    assert 0 < d < math.log(7 / 3) and 7 * (1 - p) - 3 * p == pytest.approx(0.5 * d, abs=1e-9)


def test_a_method_that_always_wins_gets_a_finite_score_and_ml_is_refused():
    w = np.array([[0, 10, 10], [0, 0, 6], [0, 4, 0]], dtype=float)
    s = fit_strengths(w)
    assert np.all(np.isfinite(s)) and s[0] > s[1] > s[2] and s[0] < 10
    with pytest.raises(InputError, match="does not exist"):
        fit_strengths(w, prior_sd=math.inf)
    with pytest.raises(InputError, match="prior_sd"):
        fit_strengths(w, prior_sd=0.0)


def test_a_batch_is_fitted_as_each_of_its_matrices():
    rng = np.random.default_rng(11)
    mats = np.stack([_wins(_pairs(rng, rng.normal(size=4) * 2, 40), 4) for _ in range(6)])
    batched = fit_strengths(mats)
    assert np.max(np.abs(batched - np.stack([fit_strengths(w) for w in mats]))) < 1e-12


# ---------------------------------------------------------------------- a study


def test_known_strengths_are_recovered_within_the_intervals():
    hit = total = 0
    for seed in range(8):
        scores = score_answers(synthetic(seed), bootstrap=400, seed=seed)
        for per in scores.intervals.values():
            for m, (lo, hi) in per.items():
                total += 1
                hit += lo <= TRUTH[m] <= hi
        overall = scores.strengths[OVERALL]
        assert sorted(overall, key=overall.get) == sorted(TRUTH, key=TRUTH.get)
    assert total == 8 * 4 * 5
    assert hit / total >= 0.88  # 95 % intervals; measured 0.95 (seeds 0-9, 500 resamples)


def test_careless_participants_are_excluded_and_counted():
    clean = score_answers(synthetic(1, attention=4), bootstrap=0)
    mixed = score_answers(synthetic(1, attention=4, careless=3), bootstrap=0)
    assert mixed.excluded == ("p30", "p31", "p32") and len(mixed.included) == 30
    assert mixed.attention["p30"] == (0, 4) and mixed.attention["p0"] == (4, 4)
    assert mixed.strengths == clean.strengths  # their answers are in no fit
    kept = score_answers(synthetic(1, attention=4, careless=3), bootstrap=0, min_attention=0.0)
    assert kept.excluded == () and kept.strengths != clean.strengths
    assert "excluded by the attention checks" in format_scores(mixed) and "p30" in format_scores(mixed)


def test_consistency_counts_repeats_that_chose_the_same_method():
    answers = [
        Answer("p", "t1", "c", "a", "b", "a"), Answer("p", "t2", "c", "b", "c", "c"),
        Answer("p", "r1", "c", "b", "a", "a", kind="repeat", repeat_of="t1"),  # sides swapped, same method
        Answer("p", "r2", "c", "c", "b", "b", kind="repeat", repeat_of="t2"),  # changed its mind
        Answer("q", "t1", "c", "a", "b", "b"),
        Answer("q", "r1", "c", "a", "b", "b", kind="repeat", repeat_of="t1"),
    ]
    assert consistency(answers) == {"p": (1, 2), "q": (1, 1)}
    with pytest.raises(InputError, match="repeats"):
        consistency([Answer("p", "t1", "c", "a", "b", "a"),
                     Answer("p", "r1", "c", "a", "c", "a", kind="repeat", repeat_of="t1")])
    scores = score_answers(answers, bootstrap=0)
    assert scores.comparisons["c"] == 3  # the repeats are not in the fit


def test_circular_triads_are_counted_per_participant_and_clip():
    cyc = [Answer("p", "1", "c", "a", "b", "a"), Answer("p", "2", "c", "b", "c", "b"),
           Answer("p", "3", "c", "c", "a", "c")]
    lin = [Answer("q", "1", "c", "a", "b", "a"), Answer("q", "2", "c", "b", "c", "b"),
           Answer("q", "3", "c", "c", "a", "a"), Answer("q", "4", "d", "a", "b", "a")]
    assert circular_triads(cyc + lin) == {"p": (1, 1), "q": (0, 1)}
    four = [Answer("r", str(k), "c", x, y, x) for k, (x, y) in enumerate(combinations("wxyz", 2))]
    assert circular_triads(four) == {"r": (0, 4)}


def test_attention_checks_and_duplicates_are_checked():
    good = [Answer("p", "a1", "c", GT, DEGRADED, GT, kind="attention"),
            Answer("p", "a2", "c", DEGRADED, GT, DEGRADED, kind="attention")]
    assert attention_results(good) == {"p": (1, 2)}
    with pytest.raises(InputError, match="expected"):
        attention_results([Answer("p", "a1", "c", GT, "x", GT, kind="attention")])
    one = Answer("p", "t1", "c", "a", "b", "a")
    scores = score_answers([one, one, Answer("q", "t1", "c", "a", "b", "b")], bootstrap=0)
    assert scores.duplicates == 1 and scores.comparisons["c"] == 2
    with pytest.raises(InputError, match="twice, differently"):
        score_answers([one, Answer("p", "t1", "c", "a", "b", "b")], bootstrap=0)
    with pytest.raises(InputError, match="no pair answers"):
        score_answers(good, bootstrap=0)


def test_the_intervals_follow_the_seed():
    answers = synthetic(4, people=12)
    a, b = (score_answers(answers, bootstrap=200, seed=s) for s in (5, 5))
    c = score_answers(answers, bootstrap=200, seed=6)
    assert a.intervals == b.intervals and a.intervals != c.intervals
    for clip, per in a.intervals.items():
        for m, (lo, hi) in per.items():
            assert lo <= a.strengths[clip][m] <= hi or abs(hi - lo) < 1e-9
    assert a.to_dict()["scores"][OVERALL]["tecogan"]["ci"] == list(a.intervals[OVERALL]["tecogan"])


# ---------------------------------------------------------------------- study score: the results store


def _computed_store(folder, methods=("bicubic", "tecogan"), sequences=("calendar", "city")):
    from vsrbench.results.session import RunSession
    from vsrbench.results.store import SequenceResult

    with RunSession(folder, say=lambda _: None) as session:
        session.start({"vsrbench_version": "test", "protocol": "tecogan", "protocol_hash": "abc123",
                       "protocol_fields": {"crop": 8}, "metric_versions": {"psnr": "1"}})
        for seq in sequences:
            for k, m in enumerate(methods):
                session.add(SequenceResult(m, "vid4", seq, [(f, "psnr", 20.0 + k + f) for f in (1, 2)],
                                           ["f0.png", "f1.png", "f2.png"], {"psnr": "1"}, "tecogan", "abc123"))


@pytest.fixture
def study_loader(monkeypatch):
    """Stands in for the study site's loader (vsrbench.visual.study.answers.load_answers)."""
    held: dict = {}
    module = types.ModuleType("vsrbench.visual.study.answers")
    module.load_answers = lambda folder: list(held["answers"])
    package = types.ModuleType("vsrbench.visual.study")
    package.answers = module
    monkeypatch.setitem(sys.modules, "vsrbench.visual.study", package)
    monkeypatch.setitem(sys.modules, "vsrbench.visual.study.answers", module)
    return held


def _study_answers(seed, people=10):
    truth = {"bicubic": -1.0, "tecogan": 1.0}
    out = synthetic(seed, truth, clips=2, people=people, attention=2)
    rename = {"clip0": "vid4/calendar", "clip1": "city"}
    return [Answer(a.participant, a.trial, rename[a.clip], a.left, a.right, a.choice, a.kind) for a in out]


def test_study_score_stores_human_bt_beside_the_computed_metrics(tmp_path, study_loader, capsys):
    from vsrbench.cli import main
    from vsrbench.results.loading import load_results
    from vsrbench.study_score import ScoreStudyRequest, score_study

    results, study = tmp_path / "results", tmp_path / "study"
    study.mkdir()
    _computed_store(results)
    study_loader["answers"] = _study_answers(0)
    done = score_study(ScoreStudyRequest(str(study), str(results), bootstrap=50), say=lambda _: None)
    assert done.stored == 4 and done.targets == {"vid4/calendar": ("vid4", "calendar"), "city": ("vid4", "city")}
    df = load_results(results)
    human = df[df.metric == "human_bt"]
    assert set(human.protocol_hash) == {"abc123"} and set(human.frame) == {1} and set(human.frame_name) == {"f1.png"}
    got = human.set_index(["method", "sequence"])["value"]
    assert got[("tecogan", "calendar")] == pytest.approx(done.scores.strengths["vid4/calendar"]["tecogan"])
    assert main(["table", str(results)]) == 0
    table = capsys.readouterr().out
    assert "Human (BT)" in table and "PSNR" in table
    mean = np.mean([done.scores.strengths[c]["tecogan"] for c in ("vid4/calendar", "city")])
    assert f"{mean:.3f}" in table
    assert (study / "scores.json").is_file() and '"excluded"' in (study / "scores.json").read_text()
    # the same answers again add nothing; a grown study is a new version, and the table shows the latest
    assert score_study(ScoreStudyRequest(str(study), str(results), bootstrap=0), say=lambda _: None).stored == 0
    study_loader["answers"] = _study_answers(0) + [a for a in _study_answers(1, people=14) if int(a.participant[1:]) >= 10]
    grown = score_study(ScoreStudyRequest(str(study), str(results), bootstrap=0), say=lambda _: None)
    assert grown.stored == 4
    latest = load_results(results)
    assert latest[latest.metric == "human_bt"].metric_version.nunique() == 1
    assert len(load_results(results, metric_versions="all").query("metric == 'human_bt'")) == 8


def test_study_score_refuses_clips_it_cannot_place(tmp_path, study_loader):
    from vsrbench.study_score import ScoreStudyRequest, score_study

    results, study = tmp_path / "results", tmp_path / "study"
    study.mkdir()
    _computed_store(results)
    study_loader["answers"] = [Answer("p", "t", "walk", "bicubic", "tecogan", "tecogan")]
    with pytest.raises(InputError, match="pass --dataset"):
        score_study(ScoreStudyRequest(str(study), str(results), bootstrap=0), say=lambda _: None)
    with pytest.raises(InputError, match="does not exist"):
        score_study(ScoreStudyRequest(str(tmp_path / "nope"), str(results)))
    # a dataset without computed results goes under the pseudo-protocol 'study'
    from vsrbench.results.loading import load_results
    from vsrbench.study_score import STUDY_PROTOCOL

    study_loader["answers"] = [Answer("p", "t", "reds4/000", "bicubic", "tecogan", "tecogan")]
    score_study(ScoreStudyRequest(str(study), str(results), bootstrap=0), say=lambda _: None)
    df = load_results(results)
    assert set(df[df.dataset == "reds4"].protocol) == {STUDY_PROTOCOL}
