"""One run of a writer of the results store, from its claim to its finished record.

Every command that writes a results folder (``vsrbench run``, ``vsrbench evaluate``,
``vsrbench drift --out``) writes it through one :class:`RunSession`:

1. entering it claims the run (:func:`~vsrbench.results.locks.run_claim`, a lock the OS frees
   when the process dies, even by SIGKILL), opens the store and marks ``interrupted`` the runs
   recorded as ``running`` whose process is gone (:meth:`ResultsStore.mark_stale_runs`), saying
   so in one ``note:`` line each;
2. the writer checks what it is about to add against what the folder holds (nothing is written
   yet), then :meth:`RunSession.start` inserts the run record with the process columns (pid, its
   start marker, the claim's token and the host), so that a later run can tell that this one died;
3. each sequence is scored under its own lock (:meth:`RunSession.claim_sequence`) and its rows and
   completion marks are stored in one transaction (:meth:`RunSession.add`);
4. leaving it finishes the record: ``done`` when the block ends normally, ``interrupted`` on
   ``KeyboardInterrupt`` (Ctrl-C, and SIGTERM where the CLI turns it into one), ``failed`` on any
   other exception; then the sequence locks, the store and the claim are released.

The resume rule is the same for every writer: :meth:`RunSession.missing_metrics` names the metrics
of a sequence not stored yet under this protocol hash and metric versions; only those are computed
and added beside the stored ones.
"""
from __future__ import annotations

import socket
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Iterable, Mapping

from vsrbench.core.errors import os_error
from vsrbench.results.locks import ProcessLock, run_claim
from vsrbench.results.store import ResultsStore, SequenceResult

__all__ = ["RunSession", "WRITABLE_HINT"]

#: the advice of the one-line error for a results folder that cannot be written
WRITABLE_HINT = "copy it to a writable place or choose another --out"


def _stale_note(run_id: int, who: str) -> str:
    """The line that says a run recorded as ``running`` was found dead and marked ``interrupted``."""
    return f"note: run {run_id} ({who}) ended without finishing; marked interrupted"


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class RunSession:
    """The claim, the store connection, the run record and the sequence locks of one run.

    ``results_dir`` is created when missing. ``say`` receives the ``note:`` lines about dead runs
    (default: stderr). Use as a context manager; :attr:`store` is open inside it.
    """

    def __init__(self, results_dir: str | Path, *, say: Callable[[str], None] = _stderr):
        self.results_dir = Path(results_dir)
        self.say = say
        self.store: ResultsStore | None = None
        self.run_id: int | None = None
        #: the weights files the stored rows are made with (``runs.weights``), written at the end and by
        #: :meth:`record_weights`
        self.weights: dict[str, Any] = {}
        self._claim: ProcessLock | None = None
        self._process: dict[str, Any] = {}
        self._held: dict[tuple[str, str], ProcessLock] = {}

    # ------------------------------------------------------------------ the lifecycle

    def __enter__(self) -> "RunSession":
        try:
            self.results_dir.mkdir(parents=True, exist_ok=True)
            self._claim, self._process = run_claim(self.results_dir)
        except OSError as e:  # e.g. a read-only folder: name it, not a lock file in it
            raise os_error(e, "write results folder", self.results_dir, WRITABLE_HINT) from None
        try:
            self.store = ResultsStore(self.results_dir)
            for run_id, who in self.store.mark_stale_runs():
                self.say(_stale_note(run_id, who))
        except BaseException:
            self._close()
            raise
        return self

    def start(self, record: Mapping[str, Any]) -> int:
        """Insert the run record (fields of :data:`~vsrbench.results.store.RUN_COLUMNS`) with this
        process's columns and ``host``; returns its ``run_id``. Call once, after the checks."""
        if self.store is None or self.run_id is not None:
            raise RuntimeError("RunSession.start: call it once, inside the session")
        self.weights.update(record.get("weights") or {})
        self.run_id = self.store.start_run({"host": socket.gethostname(), **record, **self._process})
        return self.run_id

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self.run_id is not None and self.store is not None:
                status = ("done" if kind is None else
                          "interrupted" if issubclass(kind, KeyboardInterrupt) else "failed")
                self.store.finish_run(self.run_id, status, weights=self.weights)
        finally:
            self._close()

    def _close(self) -> None:
        for lock in self._held.values():
            lock.release()
        self._held.clear()
        if self.store is not None:
            self.store.close()
        if self._claim is not None:
            self._claim.release()
            self._claim = None

    # ------------------------------------------------------------------ sequences

    def missing_metrics(self, protocol_hash: str, method: str, dataset: str, sequence: str,
                        versions: Mapping[str, str]) -> list[str]:
        """The metrics of ``versions`` (name -> version) without a completion mark for this
        (method, dataset, sequence) under ``protocol_hash``: what a run still has to compute."""
        done = self.store.completed(protocol_hash, method=method, dataset=dataset, sequence=sequence)
        return [m for m, v in versions.items() if (method, dataset, sequence, m, v) not in done]

    def claim_sequence(self, dataset: str, sequence: str, *, blocking: bool = True) -> bool:
        """Hold the lock of one sequence (all its methods) until :meth:`release_sequence` or the end
        of the session; False when another process holds it and ``blocking`` is False."""
        if (dataset, sequence) in self._held:
            return True
        lock = self.store.sequence_lock(dataset, sequence)
        if not lock.acquire(blocking=blocking):
            return False
        self._held[(dataset, sequence)] = lock
        return True

    def holder(self, dataset: str, sequence: str) -> str:
        """Who holds a sequence's lock, as its holder wrote it (``pid N on HOST``)."""
        return self.store.sequence_lock(dataset, sequence).holder()

    def release_sequence(self, dataset: str, sequence: str) -> None:
        """Release a sequence's lock (nothing when it is not held)."""
        lock = self._held.pop((dataset, sequence), None)
        if lock is not None:
            lock.release()

    def add(self, result: SequenceResult) -> int:
        """Store one sequence's rows and completion marks in one transaction (rows already stored
        are kept); returns the number of new rows."""
        if self.run_id is None:
            raise RuntimeError("RunSession.add: start() the run first")
        return self.store.add_sequence(self.run_id, result)

    def record_weights(self, weights: Mapping[str, Any]) -> None:
        """Add weights records (``name -> {"path", "sha256"}``) and write them into the run record now,
        so that a run killed before its end still says what its rows were made with."""
        self.weights.update(weights)
        if self.run_id is not None:
            self.store.record_weights(self.run_id, self.weights)

    def held(self) -> Iterable[tuple[str, str]]:
        """The (dataset, sequence) whose locks this session holds now."""
        return list(self._held)
