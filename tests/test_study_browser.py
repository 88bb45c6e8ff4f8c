"""The study page in a real browser: headless Chromium (as tests/test_report_browser.py drives it) completes
the study as a participant does, from disk (static: answers kept in localStorage, downloaded as one file)
and from ``vsrbench study serve`` on 127.0.0.1 (each answer stored as it is given). The page loads with no
console errors, every trial is clicked through with a planted preference, a reload mid-study loses
nothing, the attention checks and repeats are recorded, the order on screen is the one
:func:`~vsrbench.visual.study.design.participant_order` rebuilds from the recorded seed, frames are drawn
1:1 (one canvas pixel per frame pixel), and the answers read back show the planted method winning.
The time per trial is measured and written to ``study-timing.json`` (under ``VSRBENCH_ARTIFACTS`` when set).

Without chromium/chromedriver (or selenium) the tests skip with the reason; with
``VSRBENCH_REQUIRE_BROWSER=1`` that is a failure instead.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from _support.browser import chromium
from _support.study_data import build, make_results, trials_of

from vsrbench.analysis.study_answers import DEGRADED, GT
from vsrbench.visual.study.answers import load_answers
from vsrbench.visual.study.design import participant_order
from vsrbench.visual.study.server import StudyServeRequest, make_server

@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(downloads):
    d = chromium("1280,1000", prefs={"download.default_directory": str(downloads),
                                     "download.prompt_for_download": False})
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    yield d
    d.quit()


@pytest.fixture(scope="module")
def res(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("study_browser"))


TIMINGS: dict[str, list[float]] = {}


def wait_for(d, script: str, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = d.execute_script(script)
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {script}")


def console_problems(d) -> list:
    return [e for e in d.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def start(d, url: str) -> None:
    d.get(url)
    d.execute_script("localStorage.clear()")
    d.get_log("browser")  # each test starts with an empty log
    d.get(url)
    wait_for(d, "return document.body.dataset.ready === '1'")
    assert d.execute_script("return document.body.dataset.screen") == "intro"
    go = d.find_element("id", "to-instructions")
    assert not go.is_enabled()  # no consent, no study
    d.find_element("id", "consent").click()
    go.click()
    wait_for(d, "return document.body.dataset.screen === 'instructions'")
    d.find_element("id", "begin").click()


def answer_trial(d, prefer: str) -> tuple[str, str, str, float, float]:
    """Wait until the trial can be answered, click the side showing ``prefer`` (else the GT, else left);
    (trial, left, right, seconds until the buttons unlocked, seconds in all)."""
    t0 = time.monotonic()
    wait_for(d, "return document.getElementById('stage').dataset.ready === '1'")
    unlocked = time.monotonic() - t0
    stage = d.find_element("id", "stage")
    trial, left, right = (stage.get_attribute(f"data-{k}") for k in ("trial", "left", "right"))
    canvases = d.execute_script(
        "return Array.from(document.querySelectorAll('#stage canvas')).map(c => [c.width, c.height, "
        "c.getBoundingClientRect().width, c.getBoundingClientRect().height])")
    assert canvases and all(c == [64, 48, 64, 48] for c in canvases), canvases  # 1:1, never rescaled
    side = "left" if prefer == left or (prefer != right and GT != right) else "right"
    d.find_element("id", f"choose-{side}").click()
    wait_for(d, f"return document.getElementById('stage').dataset.trial !== '{trial}' || "
                "document.body.dataset.screen === 'done'")
    return trial, left, right, unlocked, time.monotonic() - t0


def run_through(d, total: int, prefer: str, *, reload_after: int, stop: int | None = None) -> list[tuple]:
    """Answer trials 0 .. stop - 1 of ``total`` (all by default), reloading the page before ``reload_after``."""
    shown = []
    for i in range(total if stop is None else stop):
        if i == reload_after:
            before = d.execute_script("return localStorage.getItem(Object.keys(localStorage)[0])")
            d.refresh()  # mid-study: the answers so far and the place in the study are kept
            wait_for(d, "return document.body.dataset.ready === '1'")
            assert d.execute_script("return document.body.dataset.screen") == "trial"
            assert int(d.find_element("id", "stage").get_attribute("data-index")) == i
            after = json.loads(d.execute_script("return localStorage.getItem(Object.keys(localStorage)[0])"))
            assert after["answers"] == json.loads(before)["answers"] and len(after["answers"]) == i
            assert d.find_element("id", "progress-text").text == f"Trial {i + 1} of {total}"
        shown.append(answer_trial(d, prefer))
    if stop is None:
        wait_for(d, "return document.body.dataset.screen === 'done'")
    return shown


def check_answers(study: dict, got: list, shown: list, prefer: str, design: int, seed: int) -> None:
    assert [(a.trial, a.left, a.right) for a in got] == [s[:3] for s in shown]
    assert [s[:3] for s in shown] == participant_order(study["designs"][design], trials_of(study), seed)
    attention = [a for a in got if a.kind == "attention"]
    assert attention and all(a.choice == GT and {a.left, a.right} == {GT, DEGRADED} for a in attention)
    repeats = [a for a in got if a.kind == "repeat"]
    assert repeats and all(a.repeat_of in {b.trial for b in got} for a in repeats)
    wins = Counter(a.choice for a in got if a.kind != "attention")
    losses = Counter(a.loser for a in got if a.kind != "attention")
    assert wins[prefer] > 0 and losses[prefer] == 0  # the planted preference wins every pair it is in
    assert wins.most_common(1)[0][0] == prefer
    assert all(a.seconds > 0 for a in got)


def record_timing(name: str, shown: list, tmp_path: Path) -> None:
    """Keep the seconds per trial (``study-timing.json`` under tmp_path, and VSRBENCH_ARTIFACTS when set)."""
    TIMINGS[name] = [round(s[4], 3) for s in shown]
    summary = {k: {"trials": len(v), "mean_seconds_per_trial": round(sum(v) / len(v), 3),
                   "max_seconds": max(v)} for k, v in TIMINGS.items()}
    for folder in filter(None, (tmp_path, os.environ.get("VSRBENCH_ARTIFACTS"))):
        Path(folder).mkdir(parents=True, exist_ok=True)
        Path(folder, "study-timing.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"\nstudy {name}: {summary[name]}")


def test_a_static_study_is_completed_from_disk_and_downloaded(driver, res, downloads, tmp_path):
    out = tmp_path / "study"
    study = build(res, out, reference=True)  # 6 pair trials, 1 attention check, 1 repeat
    total = len(study["designs"][0])
    start(driver, out.joinpath("index.html").as_uri() + "?design=0")
    shown = run_through(driver, total, "B", reload_after=total // 2)  # B: the worst by every metric
    record_timing("static", shown, tmp_path)
    assert driver.execute_script("return document.getElementById('stage').querySelectorAll('figure').length") == 3
    driver.find_element("id", "download").click()
    pattern = f"vsrbench-study-{study['id']}-*.json"
    end = time.monotonic() + 20
    while not list(downloads.glob(pattern)) and time.monotonic() < end:
        time.sleep(0.05)
    files = list(downloads.glob(pattern))
    assert len(files) == 1, list(downloads.iterdir())
    data = json.loads(files[0].read_text())
    assert data["study"] == study["id"] and data["design"] == 0 and data["mode"] == "static"
    shutil.copy2(files[0], out / "answers" / files[0].name)  # what the researcher does with the file
    got = load_answers(out)
    assert len(got) == total and {a.participant for a in got} == {data["participant"]}
    check_answers(study, got, shown, "B", 0, data["seed"])
    assert not console_problems(driver)
    from vsrbench.analysis.bradley_terry import OVERALL, score_answers

    overall = score_answers(got, bootstrap=0).strengths[OVERALL]  # the fit itself is tested in test_bradley_terry
    assert max(overall, key=overall.get) == "B", overall


def test_a_served_study_stores_each_answer_as_it_is_given(driver, res, tmp_path):
    out = tmp_path / "study"
    study = build(res, out)
    srv = make_server(StudyServeRequest(study=str(out), port=0))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        start(driver, srv.url)
        assert driver.execute_script("return document.body.dataset.mode") == "served"
        total = len(study["designs"][0])
        shown = run_through(driver, total, "C", reload_after=total, stop=total // 2)
        wait_for(driver, "return JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).pending.length === 0")
        assert len(load_answers(out)) == total // 2  # stored as given (acknowledged), before the study ends
        driver.refresh()
        wait_for(driver, "return document.body.dataset.ready === '1'")
        assert int(driver.find_element("id", "stage").get_attribute("data-index")) == total // 2
        for _ in range(total - total // 2):
            shown.append(answer_trial(driver, "C"))
        wait_for(driver, "return document.body.dataset.saved === '1'")
        record_timing("served", shown, tmp_path)
        assert not driver.find_element("id", "download").is_displayed()
        state = json.loads(driver.execute_script("return localStorage.getItem(Object.keys(localStorage)[0])"))
        got = load_answers(out)
        assert len(got) == total and {a.participant for a in got} == {state["participant"]}
        assert state["pending"] == [] and not state.get("refused")
        check_answers(study, got, shown, "C", state["design"], state["seed"])
        assert not console_problems(driver)
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def serve_in_thread(study_dir: Path, port: int = 0):
    srv = make_server(StudyServeRequest(study=str(study_dir), port=port))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    return srv, thread


def stop(srv, thread) -> None:
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def test_answers_given_while_the_server_is_down_are_sent_when_it_is_back(driver, res, tmp_path):
    out = tmp_path / "study"
    study = build(res, out)
    srv, thread = serve_in_thread(out)
    port = srv.server_address[1]
    try:
        start(driver, srv.url)
        answer_trial(driver, "A")
        wait_for(driver, "return JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).pending.length === 0")
    finally:
        stop(srv, thread)
    answer_trial(driver, "A")  # the server is away: kept in the browser, retried
    wait_for(driver, "return document.getElementById('trial-status').textContent.indexOf('retrying') >= 0")
    state = json.loads(driver.execute_script("return localStorage.getItem(Object.keys(localStorage)[0])"))
    assert len(state["answers"]) == 2 and len(state["pending"]) == 1
    assert len(load_answers(out)) == 1
    srv, thread = serve_in_thread(out, port)  # back on the same address and store
    try:
        wait_for(driver, "return JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).pending.length === 0",
                 timeout=30)
        got = load_answers(out)
        assert [(a.trial, a.left, a.right, a.choice) for a in got] == [
            (a["trial"], a["left"], a["right"], a["choice"]) for a in state["answers"]]
        assert len(study["designs"][0]) > 2
    finally:
        stop(srv, thread)
