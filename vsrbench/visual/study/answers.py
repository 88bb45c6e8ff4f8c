"""The answers of a study: checked against the study's design, stored in ``STUDY/study.sqlite`` (served
mode) or downloaded as JSON files that the researcher puts into ``STUDY/answers/`` (static mode), and
read back as :class:`~vsrbench.analysis.study_answers.Answer` records by :func:`load_answers`.

A submission (one answer, as the page sends it or writes it into the downloaded file) is a JSON object
``{"trial": ID, "left": M, "right": M, "choice": M, "seconds": S}``; the clip, the kind and the trial it
repeats come from ``study.json``, never from the browser. :func:`check_submission` turns it into an
Answer or says in one line why not.

The SQLite file is written one transaction per answer (WAL journal, ``synchronous=FULL``): an answer
the server has acknowledged is on disk. ``(participant, trial)`` is its primary key, so a replayed
answer is refused and never stored twice.
"""
from __future__ import annotations

import json
import math
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from vsrbench.analysis.study_answers import Answer
from vsrbench.core.errors import InputError

__all__ = [
    "STUDY_JSON", "DATABASE", "ANSWERS_DIR", "ANSWERS_FORMAT", "STUDY_FORMAT", "SubmissionError",
    "DuplicateAnswer", "load_study", "clip_names", "check_submission", "AnswerStore", "read_answer_file",
    "load_answers",
]

STUDY_JSON = "study.json"
DATABASE = "study.sqlite"
ANSWERS_DIR = "answers"
STUDY_FORMAT = "vsrbench-study"
ANSWERS_FORMAT = "vsrbench-study-answers"
_MAX_SECONDS = 24 * 3600.0


class SubmissionError(ValueError):
    """A submission that does not fit the study (a one-line reason); ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class DuplicateAnswer(SubmissionError):
    """The participant has already answered this trial."""

    def __init__(self, message: str):
        super().__init__(message, 409)


def load_study(study_dir: str | os.PathLike) -> dict:
    """The ``study.json`` of a study folder (written by ``vsrbench study make``)."""
    path = Path(study_dir) / STUDY_JSON
    if not path.is_file():
        raise InputError(f"{str(study_dir)!r} is not a study folder (no {STUDY_JSON}); "
                         "make one with `vsrbench study make RESULTS --out STUDY`")
    try:
        study = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: cannot be read as a study ({e})") from None
    if not isinstance(study, dict) or study.get("format") != STUDY_FORMAT:
        raise InputError(f"{path}: not a vsrbench study (format is not {STUDY_FORMAT!r})")
    return study


def clip_names(study: Mapping) -> dict[str, tuple[str, str]]:
    """clip name (``Answer.clip``) -> (dataset, sequence) of the results it was taken from."""
    return {name: (c["dataset"], c["sequence"]) for name, c in study["clips"].items()}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SubmissionError(f"{what}: expected a finite number, got {value!r}")
    return float(value)


def check_submission(study: Mapping, design: int, participant: str, sub: Any) -> Answer:
    """The :class:`Answer` of the submission ``sub`` by ``participant`` (shown design ``design``).

    Raises
    ------
    SubmissionError
        ``sub`` is not an object with the fields above (400), names a trial that is not in the
        participant's design (404), or sides that are not the trial's methods (400).
    """
    if not isinstance(sub, dict):
        raise SubmissionError("an answer must be a JSON object")
    for key in ("trial", "left", "right", "choice"):
        if not isinstance(sub.get(key), str):
            raise SubmissionError(f"answer field {key!r}: expected a string, got {sub.get(key)!r}")
    trial_id = sub["trial"]
    designs = study["designs"]
    if not (isinstance(design, int) and 0 <= design < len(designs)) or trial_id not in designs[design]:
        raise SubmissionError(f"unknown trial {trial_id[:64]!r} (not in this participant's design)", 404)
    trial = study["trials"][trial_id]
    if sorted((sub["left"], sub["right"])) != sorted((trial["a"], trial["b"])):
        raise SubmissionError(f"trial {trial_id}: left/right are not the trial's two sides")
    seconds = _number(sub.get("seconds", 0.0), "answer field 'seconds'")
    if not 0 <= seconds <= _MAX_SECONDS:
        raise SubmissionError(f"answer field 'seconds': {seconds} is out of range")
    try:
        return Answer(participant, trial_id, trial["clip"], sub["left"], sub["right"], sub["choice"],
                      trial["kind"], trial.get("repeat_of"), seconds)
    except ValueError as e:
        raise SubmissionError(str(e)) from None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    token TEXT PRIMARY KEY, design INTEGER NOT NULL, seed INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    participant TEXT NOT NULL REFERENCES participants(token), trial TEXT NOT NULL, clip TEXT NOT NULL,
    left_side TEXT NOT NULL, right_side TEXT NOT NULL, choice TEXT NOT NULL, kind TEXT NOT NULL,
    repeat_of TEXT, seconds REAL NOT NULL, received REAL NOT NULL, PRIMARY KEY (participant, trial));
"""


class AnswerStore:
    """The SQLite store of a served study (``STUDY/study.sqlite``): participants and their answers.

    One connection, used under a lock (the server's threads share it); every write is one transaction,
    committed (WAL, ``synchronous=FULL``) before the method returns.
    """

    def __init__(self, study_dir: str | os.PathLike, study: Mapping | None = None, *, create: bool = True):
        self.study = study if study is not None else load_study(study_dir)
        self.path = Path(study_dir) / DATABASE
        if not create and not self.path.exists():
            raise InputError(f"{self.path}: no such file")
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._check_owner()
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise InputError(f"{self.path}: not a study answer store ({e}); move it away") from None

    def _check_owner(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'study'").fetchone()
        if row is None:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('study', ?)", (self.study["id"],))
        elif row[0] != self.study["id"]:
            self._db.close()
            raise InputError(f"{self.path}: holds the answers of another build of the study ({row[0]}, this is "
                             f"{self.study['id']}); move it away before serving this study")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def new_participant(self) -> tuple[str, int, int]:
        """A new participant: (random token, design (in turn), seed of the order)."""
        token, seed = secrets.token_hex(16), secrets.randbits(32)
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            count = self._db.execute("SELECT COUNT(*) FROM participants").fetchone()[0]
            design = count % len(self.study["designs"])
            self._db.execute("INSERT INTO participants VALUES (?, ?, ?, ?)", (token, design, seed, time.time()))
        return token, design, seed

    def participant(self, token: str) -> tuple[int, int] | None:
        """(design, seed) of a participant, None when unknown."""
        with self._lock:
            row = self._db.execute("SELECT design, seed FROM participants WHERE token = ?", (token,)).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def answered(self, participant: str) -> list[str]:
        """The trials a participant has answered (stored), in the order received."""
        with self._lock:
            rows = self._db.execute("SELECT trial FROM answers WHERE participant = ? ORDER BY rowid",
                                    (participant,)).fetchall()
        return [r[0] for r in rows]

    def add(self, participant: str, submission: Any) -> Answer:
        """Check and store one answer (one committed transaction); :class:`SubmissionError` when refused."""
        known = self.participant(participant) if isinstance(participant, str) else None
        if known is None:
            raise SubmissionError(f"unknown participant {str(participant)[:64]!r}", 404)
        a = check_submission(self.study, known[0], participant, submission)
        try:
            with self._lock, self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (a.participant, a.trial, a.clip, a.left, a.right, a.choice, a.kind, a.repeat_of,
                                  a.seconds, time.time()))
        except sqlite3.IntegrityError:
            raise DuplicateAnswer(f"trial {a.trial} has already been answered by this participant") from None
        return a

    def answers(self) -> list[Answer]:
        """Every stored answer, in the order received."""
        with self._lock:
            rows = self._db.execute("SELECT participant, trial, clip, left_side, right_side, choice, kind, repeat_of, "
                                    "seconds FROM answers ORDER BY rowid").fetchall()
        return [Answer(*row) for row in rows]


def read_answer_file(path: str | os.PathLike, study: Mapping) -> list[Answer]:
    """The answers of one downloaded file (static mode), checked against ``study``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a readable answers file ({e})") from None
    if not isinstance(data, dict) or data.get("format") != ANSWERS_FORMAT:
        raise InputError(f"{path}: not a vsrbench study answers file (format is not {ANSWERS_FORMAT!r})")
    if data.get("study") != study["id"]:
        raise InputError(f"{path}: answers of another study ({data.get('study')!r}, this is {study['id']!r})")
    participant, design = data.get("participant"), data.get("design")
    if not isinstance(participant, str) or not participant or not isinstance(design, int):
        raise InputError(f"{path}: no participant token or design number")
    if not isinstance(data.get("answers"), list):
        raise InputError(f"{path}: 'answers' is not a list")
    try:
        return [check_submission(study, design, participant, sub) for sub in data["answers"]]
    except SubmissionError as e:
        raise InputError(f"{path}: {e}") from None


def load_answers(study_dir: str | os.PathLike) -> list[Answer]:
    """Every answer of a study: the served ones (``study.sqlite``, in the order received) then those of
    the downloaded files in ``answers/*.json`` (by file name); a second answer of a participant to the
    same trial (a file put in twice, a participant both served and downloaded) is dropped.

    Raises
    ------
    vsrbench.core.errors.InputError
        Not a study folder, a store or answers file of another study, an answer that does not fit the
        study's design (each names the file).
    """
    study_dir = Path(study_dir)
    study = load_study(study_dir)
    found: list[Answer] = []
    if (study_dir / DATABASE).exists():
        store = AnswerStore(study_dir, study, create=False)
        try:
            found += store.answers()
        finally:
            store.close()
    for path in sorted((study_dir / ANSWERS_DIR).glob("*.json")):
        found += read_answer_file(path, study)
    seen: set[tuple[str, str]] = set()
    out = []
    for a in found:
        if (a.participant, a.trial) not in seen:
            seen.add((a.participant, a.trial))
            out.append(a)
    return out
