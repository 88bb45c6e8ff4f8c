"""``vsrbench study serve``: the answer server refuses what does not fit (malformed JSON, an unknown
participant or trial, wrong sides, a replayed answer, an oversized or length-less body) with a 4xx and
an unchanged store, serves only the page and its frames, and loses nothing it acknowledged when it is
killed (SIGKILL) between answers and started again."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from _support.study_data import build, make_results, planted_answers

from vsrbench.core.errors import InputError
from vsrbench.visual.study.answers import AnswerStore, load_answers
from vsrbench.visual.study.server import MAX_BODY, StudyServeRequest, make_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def res(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("study_server"))


@pytest.fixture
def study(res, tmp_path) -> tuple[Path, dict]:
    out = tmp_path / "study"
    return out, build(res, out, trials_per_participant=3)  # 2 designs of 3 pair trials


@pytest.fixture
def server(study):
    srv = make_server(StudyServeRequest(study=str(study[0]), port=0))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if r.getheader("Content-Type", "").startswith("application/json")
                          else data)
    finally:
        conn.close()


def post(port: int, path: str, obj) -> tuple[int, object]:
    return request(port, "POST", path, json.dumps(obj).encode(), {"Content-Type": "application/json"})


def join(port: int) -> tuple[str, int, int]:
    status, body = post(port, "/api/participant", {})
    assert status == 200, body
    return body["participant"], body["design"], body["seed"]


def stored(study_dir: Path) -> list:
    return load_answers(study_dir)


def test_participants_get_random_tokens_and_the_designs_in_turn(server, study):
    port = server.server_address[1]
    got = [join(port) for _ in range(4)]
    tokens = [t for t, _, _ in got]
    assert len(set(tokens)) == 4 and all(len(t) == 32 and int(t, 16) >= 0 for t in tokens)
    assert [d for _, d, _ in got] == [0, 1, 0, 1]
    assert len({s for _, _, s in got}) == 4


def test_answers_are_stored_as_given(server, study):
    out, s = study
    port = server.server_address[1]
    token, design, seed = join(port)
    answers = planted_answers(s, design, seed, "A")
    for a in answers:
        assert post(port, "/api/answer", {"participant": token, **a}) == (200, {"stored": a["trial"]})
    status, progress = request(port, "GET", f"/api/progress?participant={token}")
    assert status == 200 and progress == {"answered": [a["trial"] for a in answers]}
    assert request(port, "GET", "/api/progress?participant=" + "0" * 32)[0] == 404
    got = stored(out)
    assert [(g.trial, g.left, g.right, g.choice) for g in got] == [
        (a["trial"], a["left"], a["right"], a["choice"]) for a in answers]
    assert {g.kind for g in got} == {"pair", "attention", "repeat"} and all(g.participant == token for g in got)


def test_bad_submissions_are_refused_and_never_stored(server, study):
    out, s = study
    port = server.server_address[1]
    token, design, seed = join(port)
    good = planted_answers(s, design, seed, "B")[0]
    other = s["designs"][1 - design][0] if s["designs"][1 - design][0] not in s["designs"][design] else "t999"
    cases = {
        "malformed JSON": (b'{"participant": "' + token.encode() + b'", "trial": ', 400),
        "not an object": (b"[1, 2]", 400),
        "not UTF-8": (b"\xff\xfe{}", 400),
        "unknown participant": (json.dumps({**good, "participant": "f" * 32}).encode(), 404),
        "unknown trial": (json.dumps({**good, "participant": token, "trial": "t999"}).encode(), 404),
        "another design's trial": (json.dumps({**good, "participant": token, "trial": other}).encode(), 404),
        "sides of another trial": (json.dumps({**good, "participant": token, "left": "X"}).encode(), 400),
        "a choice of neither side": (json.dumps({**good, "participant": token, "choice": "Z"}).encode(), 400),
        "seconds not a number": (json.dumps({**good, "participant": token, "seconds": "1"}).encode(), 400),
        "a missing field": (json.dumps({"participant": token, "trial": good["trial"]}).encode(), 400),
    }
    for what, (body, status) in cases.items():
        got, reply = request(port, "POST", "/api/answer", body, {"Content-Type": "application/json"})
        assert got == status, (what, reply)
        assert isinstance(reply, dict) and reply["error"], what
    assert stored(out) == []
    assert post(port, "/api/answer", {"participant": token, **good})[0] == 200
    status, reply = post(port, "/api/answer", {"participant": token, **good})  # replayed
    assert status == 409 and "already been answered" in reply["error"]
    flipped = {**good, "choice": good["right"] if good["choice"] == good["left"] else good["left"]}
    assert post(port, "/api/answer", {"participant": token, **flipped})[0] == 409  # a changed mind is not stored
    got = stored(out)
    assert len(got) == 1 and got[0].choice == good["choice"]


def test_oversized_and_length_less_bodies_are_refused_unread(server, study):
    out, s = study
    port = server.server_address[1]
    token, design, seed = join(port)
    good = {"participant": token, **planted_answers(s, design, seed, "B")[0]}
    big = json.dumps({**good, "pad": "x" * MAX_BODY}).encode()
    status, reply = request(port, "POST", "/api/answer", big, {"Content-Type": "application/json"})
    assert status == 413 and str(MAX_BODY) in reply["error"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # no Content-Length at all
    conn.putrequest("POST", "/api/answer")
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == 411
    conn.close()
    assert stored(out) == []
    assert post(port, "/api/answer", good)[0] == 200  # the server still answers


def test_only_the_page_and_its_frames_are_served(server, study):
    out, s = study
    port = server.server_address[1]
    join(port)
    status, page = request(port, "GET", "/")
    assert status == 200 and b'<meta name="vsrbench-mode" content="served">' in page
    assert s["id"].encode() in page
    for name in ("/study.js", "/study.css", "/" + s["clips"]["GT/city"]["sources"]["A"][0]):
        assert request(port, "GET", name)[0] == 200, name
    for name in ("/study.sqlite", "/study.json", "/answers/README.txt", "/img/../study.sqlite",
                 "/img/%2e%2e/study.sqlite", "/../" + out.name + "/study.sqlite", "/.vsrbench-study", "/api/answer"):
        assert request(port, "GET", name)[0] == 404, name
    assert post(port, "/api/nothing", {})[0] == 404


def test_a_store_of_another_study_is_refused(study, res, tmp_path):
    out, s = study
    AnswerStore(out, s).close()
    other = tmp_path / "other"
    build(res, other)
    (other / "study.sqlite").write_bytes((out / "study.sqlite").read_bytes())
    with pytest.raises(InputError, match="answers of another build of the study"):
        make_server(StudyServeRequest(study=str(other), port=0))


def _start(study_dir: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "vsrbench", "study", "serve", str(study_dir), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    line = proc.stdout.readline()
    assert "serving the study" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, int(line.split("http://127.0.0.1:")[1].split("/")[0])


def test_a_killed_server_loses_no_acknowledged_answer(study):
    out, s = study
    proc, port = _start(out)
    try:
        token, design, seed = join(port)
        answers = planted_answers(s, design, seed, "C")
        for a in answers[:3]:
            assert post(port, "/api/answer", {"participant": token, **a})[0] == 200
    finally:
        proc.send_signal(signal.SIGKILL)  # between answers: no chance to close anything
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert [a.trial for a in load_answers(out)] == [a["trial"] for a in answers[:3]]
    proc, port = _start(out)  # started again on the same store: the participant is known, nothing is lost
    try:
        assert post(port, "/api/answer", {"participant": token, **answers[2]})[0] == 409
        for a in answers[3:]:
            assert post(port, "/api/answer", {"participant": token, **a})[0] == 200
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    got = load_answers(out)
    assert [a.trial for a in got] == [a["trial"] for a in answers] and {a.participant for a in got} == {token}
