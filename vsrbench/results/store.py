"""The results store: one SQLite file, ``results.sqlite``, in a results folder.

Layout (stdlib :mod:`sqlite3`, WAL journal, a busy timeout so concurrent writers wait):

``runs``
    one row per ``vsrbench run``: vsrbench version, benchmark name and definition, protocol
    name + hash + fields (JSON), metric versions, weights sha256 per method, library versions
    (torch, numpy, opencv, scikit-image, ...), device, host, start/end time and status
    (``running``, ``done``, ``interrupted``, ``failed``), and (schema 2) the process running it:
    ``pid``, ``pid_start`` (tells a reused pid apart) and ``claim`` (the token of the lock file
    ``.locks/run-TOKEN.lock`` it holds while it runs). A run killed outright stays ``running``
    until the next run finds its process gone (:meth:`ResultsStore.mark_stale_runs`) and marks
    it ``interrupted``.
``results``
    long-format per-frame rows ``(run_id, method, dataset, sequence, frame, frame_name, pred_name,
    metric, value, protocol, protocol_hash, metric_version)``. ``frame`` is the 0-based index in the
    sequence (temporal metrics use the index ``t`` of the pair ``(t-1, t)``); the runner stores
    the ground-truth frame's file name as ``frame_name``, the same for every method, and (schema 3)
    the file name of the output frame scored against it as ``pred_name`` (frames pair by the number
    in their names, :func:`vsrbench.core.io.pair_frames`); ``pred_name`` is NULL in rows stored
    before schema 3 and where no output file was named (e.g. ``drift``). The key
    ``(method, dataset, sequence, frame, metric, protocol_hash, metric_version)`` is UNIQUE:
    storing the same result twice keeps the first copy, and a changed protocol or metric
    version is a *different* result kept beside the old one, never an overwrite.
``completed``
    the completion mark of one (method, dataset, sequence, metric, protocol hash, metric
    version). It is written in the **same transaction** as that sequence's rows, so a run
    killed at any moment leaves either all of a sequence's rows and its mark, or neither.
    Resuming re-runs exactly the sequences without a mark.

Values that SQLite cannot hold as REAL (NaN) are stored as NULL and read back as NaN;
``inf`` (PSNR of identical frames) is stored as is.

A file that is not a SQLite database, fails SQLite's integrity check, or belongs to another
application is refused with a one-line :class:`~vsrbench.core.errors.InputError` and left
untouched. A store kept busy by another process longer than the timeout gives an
``InputError`` too. Concurrent runs into one folder take a :class:`ProcessLock` (``flock``, freed
by the OS when a process dies) per (dataset, sequence), so each sequence is scored once. Readers
(:func:`load_results`, :func:`load_runs`, :func:`read_store`) open the file read-only and never
create, migrate or change it, also in a folder they cannot write; :func:`find_results_dir` finds
the store of a folder that holds it in its one sub-folder. Exports: :func:`load_results` (a pandas DataFrame), :func:`load_runs`,
:func:`export_results` (CSV or JSON, written atomically).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from vsrbench.core.errors import InputError, os_error
from vsrbench.results.locks import LOCKS_DIR, ProcessLock, run_is_gone

__all__ = [
    "STORE_FILENAME", "APPLICATION_ID", "SCHEMA_VERSION", "DEFAULT_TIMEOUT_S", "SQLITE_HEADER", "RESULT_COLUMNS",
    "RUN_COLUMNS", "PROCESS_COLUMNS", "JSON_RUN_FIELDS", "now_iso", "store_path", "find_results_dir",
    "SequenceResult", "ResultsStore", "writing",
]


STORE_FILENAME = "results.sqlite"
APPLICATION_ID = 0x76737262  # "vsrb"
SCHEMA_VERSION = 3  # 2: runs.pid, runs.pid_start, runs.claim (find runs whose process is gone); 3: results.pred_name
DEFAULT_TIMEOUT_S = 30.0
SQLITE_HEADER = b"SQLite format 3\x00"

RESULT_COLUMNS = (
    "method", "dataset", "sequence", "frame", "frame_name", "pred_name", "metric", "value",
    "protocol", "protocol_hash", "metric_version",
)
RUN_COLUMNS = (
    "run_id", "started", "finished", "status", "vsrbench_version", "bench_name", "bench",
    "protocol", "protocol_hash", "protocol_fields", "metric_versions", "weights", "libraries",
    "device", "host", "python", "argv",
)
# who runs a run: its process id, that process's start marker (tells a reused pid apart) and the
# token of the lock it holds while it runs (see ProcessLock); stored since schema version 2
PROCESS_COLUMNS = ("pid", "pid_start", "claim")
JSON_RUN_FIELDS = ("bench", "protocol_fields", "metric_versions", "weights", "libraries", "argv")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    vsrbench_version TEXT NOT NULL,
    bench_name TEXT,
    bench TEXT,
    protocol TEXT NOT NULL,
    protocol_hash TEXT NOT NULL,
    protocol_fields TEXT NOT NULL,
    metric_versions TEXT NOT NULL,
    weights TEXT NOT NULL DEFAULT '{{}}',
    libraries TEXT NOT NULL DEFAULT '{{}}',
    device TEXT,
    host TEXT,
    python TEXT,
    argv TEXT,
    pid INTEGER,
    pid_start TEXT,
    claim TEXT
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    method TEXT NOT NULL,
    dataset TEXT NOT NULL,
    sequence TEXT NOT NULL,
    frame INTEGER NOT NULL,
    frame_name TEXT NOT NULL,
    pred_name TEXT,
    metric TEXT NOT NULL,
    value REAL,
    protocol TEXT NOT NULL,
    protocol_hash TEXT NOT NULL,
    metric_version TEXT NOT NULL,
    UNIQUE (method, dataset, sequence, frame, metric, protocol_hash, metric_version)
);
CREATE TABLE IF NOT EXISTS completed (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    method TEXT NOT NULL,
    dataset TEXT NOT NULL,
    sequence TEXT NOT NULL,
    metric TEXT NOT NULL,
    protocol TEXT NOT NULL,
    protocol_hash TEXT NOT NULL,
    metric_version TEXT NOT NULL,
    n_values INTEGER NOT NULL,
    completed_at TEXT NOT NULL,
    UNIQUE (method, dataset, sequence, metric, protocol_hash, metric_version)
);
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""


def now_iso() -> str:
    """The current local time, ISO 8601 with offset, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def store_path(results_dir: str | os.PathLike) -> Path:
    """The store file inside a results folder."""
    return Path(results_dir) / STORE_FILENAME


def find_results_dir(results_dir: str | os.PathLike, *, note: Any = None) -> Path:
    """The results folder that reading commands (table, plot, check, export) use for RESULTS.

    RESULTS itself when it holds a store (or is not a folder: the store then says what is
    wrong); else its one immediate sub-folder holding a store (e.g. the ``results`` folder of a
    ``vsrbench demo`` folder), said in one ``note:`` line through ``note`` (default: stderr);
    several such sub-folders are refused, listing them. Nothing is created or changed.
    """
    folder = Path(results_dir)
    if store_path(folder).exists() or not folder.is_dir():
        return folder
    try:
        found = sorted(p for p in folder.iterdir() if p.is_dir() and store_path(p).is_file())
    except OSError:
        return folder
    if len(found) > 1:
        raise InputError(
            f"{str(folder)!r} holds no {STORE_FILENAME}, but {len(found)} of its sub-folders do "
            f"({', '.join(p.name for p in found)}); pass one of them as RESULTS")
    if not found:
        return folder
    line = f"note: {str(folder)!r} holds no {STORE_FILENAME}; reading the one in {str(found[0])!r}"
    if note is None:
        sys.stderr.write(line + "\n")
    else:
        note(line)
    return found[0]


@dataclass(frozen=True)
class SequenceResult:
    """Everything stored for one (method, dataset, sequence) in one transaction."""

    method: str
    dataset: str
    sequence: str
    rows: Sequence[tuple[int, str, float]]  # (frame, metric, value)
    frame_names: Sequence[str]  # the GT frames' file names, by frame index
    metric_versions: Mapping[str, str]  # the metrics this result completes -> their version
    protocol: str
    protocol_hash: str
    pred_names: Sequence[str] = ()  # the output frames' file names, by frame index (empty: not known)


class ResultsStore:
    """A connection to ``<results_dir>/results.sqlite``; use as a context manager.

    ``create=False`` refuses a folder without a store (reading commands);
    ``timeout`` is how long (seconds) to wait for another process's write lock.
    ``readonly=True`` (what the loaders use) opens an existing store for reading only: it never
    creates, migrates or changes the file, and works in a folder the process cannot write (an
    archive, a read-only mount), see :meth:`_connect_readonly`. A writing open of a store in a
    folder that cannot be written is refused with one line naming it.
    """

    def __init__(self, results_dir: str | os.PathLike, *, create: bool = True,
                 timeout: float = DEFAULT_TIMEOUT_S, readonly: bool = False, _shared: bool = False):
        self.results_dir = Path(results_dir)
        self.path = store_path(results_dir)
        self.timeout = float(timeout)
        self.readonly = bool(readonly)
        self._copy_dir: str | None = None
        self._stat: tuple | None = None  # the file as an unlocked (immutable) read found it
        _check_file(self.path, create=create and not self.readonly)
        if self.readonly:
            self._conn = self._connect_readonly(shared=_shared)
        else:
            if create:
                try:
                    self.results_dir.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise os_error(e, "create results folder", self.results_dir, _WRITABLE_HINT) from None
            _require_writable(self.results_dir, self.path)
            self._conn = _connect(str(self.path), self.timeout)
        try:
            with self._translated():
                self._conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
                self._check_integrity()
                if self.readonly:
                    self._check_version()
                else:
                    self._init_schema()
        except BaseException:
            self.close()
            raise

    def _connect_readonly(self, shared: bool = False) -> sqlite3.Connection:
        """Open the store read-only, without writing a byte into its folder.

        A store without a ``-wal`` file is open in no writer (the last connection of a WAL store
        removes it): its file is read as it is (``immutable=1``: no lock, no ``-wal``/``-shm``
        created beside it); :meth:`changed_while_read` tells when a writer changed it meanwhile,
        and the loaders then read again with ``shared=True``. Otherwise (a writer is running, or
        was killed) it is opened ``mode=ro``, which uses the ``-wal`` and its index (``-shm``).
        Where that fails because the folder cannot hold the index: a ``-wal`` that still holds
        data would be ignored by ``immutable``, so the store and its ``-wal`` are read from a
        private temporary copy; an empty one holds nothing, and the file is read immutable.
        """
        sides = [self.path.with_name(self.path.name + suffix) for suffix in ("-wal", "-journal")]
        if not shared and not any(p.exists() for p in sides):
            self._stat = _file_stat(self.path)
            return self._opened(_connect(_uri(self.path, mode="ro", immutable=1), self.timeout, uri=True))
        conn = _connect(_uri(self.path, mode="ro"), self.timeout, uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # SQLite opens lazily
            return conn
        except sqlite3.OperationalError as e:
            conn.close()
            if _is_busy(e) or not _cannot_open(e):
                raise InputError(f"cannot read results store {str(self.path)!r}: {' '.join(str(e).split())}") from None
        wal = self.path.with_name(self.path.name + "-wal")
        if not (wal.is_file() and wal.stat().st_size > 0):
            return self._opened(_connect(_uri(self.path, mode="ro", immutable=1), self.timeout, uri=True))
        self._copy_dir = tempfile.mkdtemp(prefix="vsrbench-store-")
        copy = Path(self._copy_dir) / STORE_FILENAME
        try:
            shutil.copyfile(self.path, copy)
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        except OSError as e:
            raise os_error(e, "read results store", self.path) from None
        return self._opened(_connect(_uri(copy, mode="ro"), self.timeout, uri=True))

    def changed_while_read(self) -> bool:
        """True when an unlocked (immutable) read may have seen the file while a writer changed it."""
        return self._stat is not None and _file_stat(self.path) != self._stat

    def _opened(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as e:
            conn.close()
            raise InputError(f"cannot read results store {str(self.path)!r}: {' '.join(str(e).split())}") from None

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
        if self._copy_dir:
            shutil.rmtree(self._copy_dir, ignore_errors=True)
            self._copy_dir = None

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ checks and schema

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Turn SQLite's lock and corruption errors into one-line InputErrors."""
        try:
            yield
        except sqlite3.OperationalError as e:
            if _is_busy(e):
                raise InputError(
                    f"results store {str(self.path)!r} is locked by another process "
                    f"(waited {self.timeout:g} s); try again when it has finished"
                ) from None
            if not self.readonly and _is_readonly(e):
                raise InputError(f"cannot write results store {str(self.path)!r}: it is read-only; "
                                 f"{_WRITABLE_HINT}") from None
            raise
        except sqlite3.DatabaseError as e:
            raise _corrupted(self.path, str(e)) from None

    def _check_integrity(self) -> None:
        # one statement, one snapshot: read apart, another process creating the store between the two reads
        # made a new store look like another application's (its tables seen, its application id not yet)
        rows = self._conn.execute(
            "SELECT (SELECT application_id FROM pragma_application_id()), name FROM sqlite_master WHERE type = 'table' "
            "UNION ALL SELECT (SELECT application_id FROM pragma_application_id()), NULL").fetchall()
        app_id = rows[0][0]
        tables = {name for _, name in rows if name is not None}
        if app_id != APPLICATION_ID and tables - {"sqlite_sequence"}:
            raise InputError(
                f"{str(self.path)!r} is an SQLite database of another application "
                f"(tables: {', '.join(sorted(tables))}), not a vsrbench results store; it was left untouched"
            )
        if not tables:
            return
        problems = [r[0] for r in self._conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise _corrupted(self.path, problems[0])

    def _check_version(self) -> int:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputError(
                f"results store {str(self.path)!r} has schema version {version}, newer than this "
                f"vsrbench understands ({SCHEMA_VERSION}); upgrade vsrbench"
            )
        if self.readonly:
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"runs", "results", "completed"} <= tables:
                raise InputError(f"results store {str(self.path)!r} holds no results yet (it has no tables); "
                                 "run `vsrbench run BENCH.toml --out RESULTS` first")
        return version

    def _init_schema(self) -> None:
        version = self._check_version()
        self._wal()
        if version < SCHEMA_VERSION:
            with self.transaction():
                have = {r[1] for r in self._conn.execute("PRAGMA table_info(runs)")}
                if have:  # an older store: add what later versions record
                    for column, kind in (("pid", "INTEGER"), ("pid_start", "TEXT"), ("claim", "TEXT")):
                        if column not in have:
                            self._conn.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
                have = {r[1] for r in self._conn.execute("PRAGMA table_info(results)")}
                if have and "pred_name" not in have:  # schema 3: rows stored before read NULL
                    self._conn.execute("ALTER TABLE results ADD COLUMN pred_name TEXT")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)

    def _wal(self) -> None:
        """Switch to WAL; a concurrent opener may hold the lock briefly, so retry."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as e:
                if not _is_busy(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An IMMEDIATE transaction: all of it is committed, or none of it."""
        with self._translated():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:  # SQLite rolls back by itself on some errors (interrupt, full disk)
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ------------------------------------------------------------------ runs

    def start_run(self, record: Mapping[str, Any]) -> int:
        """Insert a run record (keys from :data:`RUN_COLUMNS`, :data:`PROCESS_COLUMNS`); returns its ``run_id``."""
        unknown = set(record) - set(RUN_COLUMNS) - set(PROCESS_COLUMNS)
        if unknown:
            raise ValueError(f"unknown run record field(s): {', '.join(sorted(unknown))}")
        values = {k: (json.dumps(v, sort_keys=True) if k in JSON_RUN_FIELDS else v) for k, v in record.items()}
        values.setdefault("started", now_iso())
        values.setdefault("status", "running")
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.transaction() as c:
            cur = c.execute(f"INSERT INTO runs ({cols}) VALUES ({marks})", tuple(values.values()))
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str, *, weights: Mapping[str, str] | None = None) -> None:
        """Mark a run finished with ``status`` and record the weights used per method."""
        with self.transaction() as c:
            if weights is not None:
                c.execute("UPDATE runs SET weights = ? WHERE run_id = ?", (json.dumps(dict(weights), sort_keys=True), run_id))
            c.execute("UPDATE runs SET finished = ?, status = ? WHERE run_id = ?", (now_iso(), status, run_id))

    def record_weights(self, run_id: int, weights: Mapping[str, Any]) -> None:
        """Record the weights files a still running run uses (as soon as it knows them), so that a
        run killed before :meth:`finish_run` still says which files its stored rows were made with."""
        with self.transaction() as c:
            c.execute("UPDATE runs SET weights = ? WHERE run_id = ?",
                      (json.dumps(dict(weights), sort_keys=True), run_id))

    def weights_of_runs(self) -> dict[int, dict[str, Any]]:
        """``run_id -> runs.weights`` (decoded) of every run that recorded weights files."""
        out = {}
        for run_id, text in self.query("SELECT run_id, weights FROM runs WHERE weights IS NOT NULL "
                                       "AND weights != '{}'"):
            try:
                record = json.loads(text)
            except ValueError:
                continue
            if isinstance(record, dict):
                out[int(run_id)] = record
        return out

    # ------------------------------------------------------------------ results

    def completed(self, protocol_hash: str, *, method: str | None = None, dataset: str | None = None,
                  sequence: str | None = None) -> set[tuple[str, str, str, str, str]]:
        """Completion marks ``(method, dataset, sequence, metric, metric_version)`` of a protocol.

        ``method`` / ``dataset`` / ``sequence`` narrow the look-up (served by the UNIQUE index).
        """
        where, params = ["protocol_hash = ?"], [protocol_hash]
        for column, value in (("method", method), ("dataset", dataset), ("sequence", sequence)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        with self._translated():
            rows = self._conn.execute(
                "SELECT method, dataset, sequence, metric, metric_version FROM completed WHERE "
                + " AND ".join(where), params,
            ).fetchall()
        return {tuple(r) for r in rows}

    def add_sequence(self, run_id: int, result: SequenceResult) -> int:
        """Store one sequence's rows and its completion marks in one transaction.

        Rows already stored (same key) are kept as they are; returns the number of new rows.
        """
        _check_rows(result)
        names, preds = list(result.frame_names), list(result.pred_names)
        rows = [
            (run_id, result.method, result.dataset, result.sequence, int(frame),
             names[frame] if 0 <= frame < len(names) else "", preds[frame] if 0 <= frame < len(preds) else None,
             metric, _sql_value(value), result.protocol, result.protocol_hash, result.metric_versions[metric])
            for frame, metric, value in result.rows
        ]
        counts = {m: 0 for m in result.metric_versions}
        for _, metric, _ in result.rows:
            counts[metric] += 1
        marks = [
            (run_id, result.method, result.dataset, result.sequence, metric, result.protocol,
             result.protocol_hash, version, counts[metric], now_iso())
            for metric, version in result.metric_versions.items()
        ]
        with self.transaction() as c:
            before = c.total_changes
            c.executemany(
                "INSERT OR IGNORE INTO results (run_id, method, dataset, sequence, frame, frame_name, pred_name, "
                "metric, value, protocol, protocol_hash, metric_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            added = c.total_changes - before
            c.executemany(
                "INSERT OR IGNORE INTO completed (run_id, method, dataset, sequence, metric, protocol, "
                "protocol_hash, metric_version, n_values, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                marks,
            )
        return added

    def remove_results(self, method: str, dataset: str) -> int:
        """Delete every stored row and completion mark of one (method, dataset), under every
        protocol and metric version, in one transaction (``vsrbench evaluate --no-resume``); run
        records and the other methods and datasets stay. Returns the number of rows removed."""
        with self.transaction() as c:
            before = c.total_changes
            c.execute("DELETE FROM results WHERE method = ? AND dataset = ?", (method, dataset))
            removed = c.total_changes - before
            c.execute("DELETE FROM completed WHERE method = ? AND dataset = ?", (method, dataset))
        return removed

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run a read-only query (used by the loaders)."""
        with self._translated():
            return self._conn.execute(sql, tuple(params)).fetchall()

    def result_columns(self, columns: Sequence[str] = RESULT_COLUMNS) -> str:
        """``columns`` of the results table as a SELECT list; a column an older store lacks (``pred_name``
        before schema 3, which readers do not migrate) reads NULL."""
        have = {r[1] for r in self.query("PRAGMA table_info(results)")}
        return ", ".join(c if c in have else f"NULL AS {c}" for c in columns)


    # ------------------------------------------------------------------ runs whose process is gone

    def mark_stale_runs(self) -> list[tuple[int, str]]:
        """Mark ``interrupted`` the runs still ``running`` whose process is gone; returns ``(run_id, who)``.

        A run is gone when the lock it holds while running (:class:`ProcessLock`, released by the
        OS when a process dies, even by SIGKILL) is free, or when it ran on this host and its
        process id is dead or belongs to a later process. Runs of stores older than schema 2 (no
        process recorded) are left as they are: nothing tells whether they still run.
        """
        rows = self.query("SELECT run_id, host, pid, pid_start, claim FROM runs WHERE status = 'running'")
        gone = [(int(r[0]), f"pid {r[2]} on {r[1]}") for r in rows if run_is_gone(self.results_dir, *r[1:])]
        if gone:
            with self.transaction() as c:
                c.executemany("UPDATE runs SET status = 'interrupted' WHERE run_id = ? AND status = 'running'",
                              [(rid,) for rid, _ in gone])
        return gone

    def sequence_lock(self, dataset: str, sequence: str) -> "ProcessLock":
        """The lock a run holds while it scores one sequence of a dataset (all its methods)."""
        digest = hashlib.sha1(json.dumps([dataset, sequence]).encode()).hexdigest()[:16]
        return ProcessLock(self.results_dir / LOCKS_DIR / f"seq-{digest}.lock")


# ---------------------------------------------------------------------- helpers

_WRITABLE_HINT = "copy the results folder to a writable place or choose another one"


@contextlib.contextmanager
def writing(action: str, path: str | os.PathLike, hint: str) -> Iterator[None]:
    """Turn a failed write of ``path`` (an OSError, or the one-line InputError :mod:`vsrbench.core.io`
    makes of one) into one line: ``cannot ACTION 'PATH': CAUSE; HINT``."""
    try:
        yield
    except OSError as e:
        raise os_error(e, action, path, hint) from None
    except InputError as e:
        code = getattr(e, "errno", None)
        if code is None:
            raise
        raise os_error(OSError(code, os.strerror(code)), action, path, hint) from None


def _file_stat(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _connect(target: str, timeout: float, *, uri: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(target, timeout=timeout, isolation_level=None, uri=uri)


def _uri(path: Path, **params: Any) -> str:
    """A SQLite ``file:`` URI for ``path`` (characters such as ``?``, ``#``, ``%`` escaped)."""
    return "file:" + urllib.parse.quote(str(Path(path).absolute())) + "?" + urllib.parse.urlencode(params)


def _cannot_open(e: sqlite3.OperationalError) -> bool:
    text = str(e).lower()
    return "unable to open" in text or "readonly" in text or "read-only" in text


def _is_readonly(e: sqlite3.OperationalError) -> bool:
    text = str(e).lower()
    return "readonly database" in text or "read-only" in text


def _require_writable(folder: Path, path: Path) -> None:
    """Refuse, in one line, a results folder or store file this process cannot write."""
    import errno

    for target in (folder, path):
        if not target.exists():
            continue
        try:
            readonly_fs = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):
            readonly_fs = False
        if readonly_fs:
            raise os_error(OSError(errno.EROFS, "Read-only file system"), "write results folder", folder,
                           _WRITABLE_HINT)
        if not os.access(target, os.W_OK):
            what = "results folder" if target == folder else "results store"
            raise os_error(PermissionError(errno.EACCES, "Permission denied"), f"write {what}", target,
                           _WRITABLE_HINT)


def _is_busy(e: sqlite3.OperationalError) -> bool:
    text = str(e).lower()
    return "locked" in text or "busy" in text


def _corrupted(path: Path, detail: str) -> InputError:
    detail = " ".join(str(detail).split())
    return InputError(
        f"results store {str(path)!r} is corrupted ({detail}); it was left untouched: "
        "move it away to start a new store, or restore a copy"
    )


def _check_file(path: Path, *, create: bool) -> None:
    """Refuse a missing store (unless creating) or a file that is not SQLite, before opening it."""
    if path.parent.exists() and not path.parent.is_dir():
        raise InputError(f"results folder {str(path.parent)!r} is a file, not a folder")
    if not path.exists():
        if not create:
            raise InputError(
                f"no results store in {str(path.parent)!r} (expected {path.name}; "
                "run `vsrbench run BENCH.toml --out RESULTS` first)"
            )
        return
    if path.is_dir():
        raise InputError(f"results store {str(path)!r} is a folder, expected an SQLite file")
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if head and head != SQLITE_HEADER:
        raise _corrupted(path, "not an SQLite database")


def _sql_value(value: float) -> float | None:
    v = float(value)
    return None if math.isnan(v) else v


def _check_rows(result: SequenceResult) -> None:
    if not result.metric_versions:
        raise ValueError("a sequence result must complete at least one metric")
    for frame, metric, _ in result.rows:
        if metric not in result.metric_versions:
            raise ValueError(
                f"row metric {metric!r} of {result.method}/{result.dataset}/{result.sequence} is not "
                f"among the metrics it completes ({', '.join(result.metric_versions)})"
            )
        if int(frame) < 0:
            raise ValueError(f"frame index must be >= 0, got {frame}")
