"""The SQLite results store: atomic sequences, idempotence, versions kept apart, corruption, locks,
concurrent writers, exports. Expected values are written out by hand in each test."""
from __future__ import annotations

import json
import math
import multiprocessing
import sqlite3

import numpy as np
import pandas as pd
import pytest

from vsrbench.cli import main
from vsrbench.core.errors import InputError
from vsrbench.results.store import RESULT_COLUMNS, STORE_FILENAME, ResultsStore, SequenceResult
from vsrbench.results.loading import load_results, load_runs

RUN = {"vsrbench_version": "0.1.0", "protocol": "tecogan", "protocol_hash": "aaaaaaaaaaaa",
       "protocol_fields": {"cut_frames": 2}, "metric_versions": {"psnr": "1", "ssim": "1"}}


def seq_result(method="m", dataset="d", sequence="s", *, n=3, metrics=("psnr",), protocol_hash="aaaaaaaaaaaa",
               version="1", offset=0.0) -> SequenceResult:
    rows = [(f, m, 10.0 * f + i + offset) for f in range(n) for i, m in enumerate(metrics)]
    return SequenceResult(method, dataset, sequence, rows, [f"f{f:03d}.png" for f in range(n)],
                          {m: version for m in metrics}, "tecogan", protocol_hash)


def add(results_dir, *results, **store_options) -> int:
    with ResultsStore(results_dir, **store_options) as store:
        run_id = store.start_run(RUN)
        added = sum(store.add_sequence(run_id, r) for r in results)
        store.finish_run(run_id, "done")
    return added


def test_round_trip_columns_values_and_frame_names(tmp_path):
    rows = [(0, "psnr", 30.5), (1, "psnr", math.inf), (2, "psnr", math.nan), (1, "ssim", 0.25)]
    r = SequenceResult("DUF", "vid4", "city", rows, ["a.png", "b.png", "c.png"], {"psnr": "1", "ssim": "2"},
                       "tecogan", "abcdefabcdef")
    assert add(tmp_path, r) == 4
    df = load_results(tmp_path)
    assert list(df.columns) == list(RESULT_COLUMNS)
    assert df["frame"].tolist() == [0, 1, 2, 1]
    assert df["frame_name"].tolist() == ["a.png", "b.png", "c.png", "b.png"]
    assert df["metric_version"].tolist() == ["1", "1", "1", "2"]
    v = df["value"].to_numpy()
    assert v[0] == 30.5 and v[1] == math.inf and math.isnan(v[2]) and v[3] == 0.25
    assert set(df["protocol"]) == {"tecogan"} and set(df["protocol_hash"]) == {"abcdefabcdef"}


def test_wal_mode_and_busy_timeout(tmp_path):
    add(tmp_path, seq_result())
    with sqlite3.connect(tmp_path / STORE_FILENAME) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rerun_is_idempotent(tmp_path):
    assert add(tmp_path, seq_result(n=4)) == 4
    assert add(tmp_path, seq_result(n=4, offset=100.0)) == 0  # same keys: the first copy is kept
    df = load_results(tmp_path)
    assert len(df) == 4 and df["value"].tolist() == [0.0, 10.0, 20.0, 30.0]


def test_changed_protocol_is_a_new_result_kept_apart(tmp_path):
    add(tmp_path, seq_result(protocol_hash="aaaaaaaaaaaa"))
    add(tmp_path, seq_result(protocol_hash="bbbbbbbbbbbb", offset=0.5))
    assert len(load_results(tmp_path)) == 6
    only_b = load_results(tmp_path, protocol="bbbbbbbbbbbb")
    assert only_b["value"].tolist() == [0.5, 10.5, 20.5]
    assert len(load_results(tmp_path, protocol="tecogan")) == 6  # the name covers both hashes


def test_unknown_protocol_is_refused_with_what_is_stored(tmp_path):
    add(tmp_path, seq_result())
    with pytest.raises(InputError) as e:
        load_results(tmp_path, protocol="basicsr-y")
    assert str(e.value) == (f"no results for protocol 'basicsr-y' in {str(tmp_path)!r} "
                            "(stored: tecogan (aaaaaaaaaaaa))")


def test_changed_metric_version_is_kept_and_latest_is_the_default(tmp_path):
    add(tmp_path, seq_result(version="1"))
    add(tmp_path, seq_result(version="2", offset=0.25))
    latest = load_results(tmp_path)
    assert latest["metric_version"].tolist() == ["2", "2", "2"]
    assert latest["value"].tolist() == [0.25, 10.25, 20.25]
    assert len(load_results(tmp_path, metric_versions="all")) == 6
    with pytest.raises(InputError, match=r"^metric_versions must be 'latest' or 'all', got 'new'$"):
        load_results(tmp_path, metric_versions="new")


def test_completion_marks(tmp_path):
    add(tmp_path, seq_result(sequence="s1", metrics=("psnr", "ssim")), seq_result(sequence="s2"))
    with ResultsStore(tmp_path) as store:
        assert store.completed("aaaaaaaaaaaa") == {
            ("m", "d", "s1", "psnr", "1"), ("m", "d", "s1", "ssim", "1"), ("m", "d", "s2", "psnr", "1")}
        assert store.completed("other") == set()
        assert store.completed("aaaaaaaaaaaa", method="m", dataset="d", sequence="s2") == {("m", "d", "s2", "psnr", "1")}
        assert store.completed("aaaaaaaaaaaa", sequence="s3") == set()


def test_a_failure_inside_the_transaction_leaves_no_partial_rows(tmp_path):
    add(tmp_path, seq_result(sequence="kept"))
    with ResultsStore(tmp_path) as store:
        run_id = store.start_run(RUN)
        statements: list[str] = []
        store._conn.set_trace_callback(statements.append)
        # abort while the completion mark is written: every row insert has already run
        store._conn.set_progress_handler(lambda: int("INTO completed" in statements[-1]), 1)
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            store.add_sequence(run_id, seq_result(sequence="lost", n=50))
        store._conn.set_progress_handler(None, 0)
        store._conn.set_trace_callback(None)
        assert sum("INTO results" in s for s in statements) == 50
        assert store.completed("aaaaaaaaaaaa") == {("m", "d", "kept", "psnr", "1")}
    assert set(load_results(tmp_path)["sequence"]) == {"kept"}


def test_rows_must_belong_to_the_completed_metrics(tmp_path):
    bad = SequenceResult("m", "d", "s", [(0, "tof", 1.0)], ["a"], {"psnr": "1"}, "tecogan", "h")
    with ResultsStore(tmp_path) as store, pytest.raises(ValueError, match="row metric 'tof' of m/d/s"):
        store.add_sequence(store.start_run(RUN), bad)


def test_runs_record_decodes_json_fields(tmp_path):
    add(tmp_path, seq_result())
    runs = load_runs(tmp_path)
    assert runs.loc[0, "status"] == "done" and runs.loc[0, "protocol_fields"] == {"cut_frames": 2}
    assert runs.loc[0, "metric_versions"] == {"psnr": "1", "ssim": "1"}
    assert runs.loc[0, "finished"] is not None


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(InputError) as e:
        load_results(tmp_path / "nowhere")
    assert str(e.value) == (f"no results store in {str(tmp_path / 'nowhere')!r} (expected results.sqlite; "
                            "run `vsrbench run BENCH.toml --out RESULTS` first)")


def test_not_a_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / STORE_FILENAME
    junk = b"this is not a database, it is a text file\n" * 100
    path.write_bytes(junk)
    for attempt in (lambda: load_results(tmp_path), lambda: add(tmp_path, seq_result())):
        with pytest.raises(InputError) as e:
            attempt()
        assert str(e.value) == (f"results store {str(path)!r} is corrupted (not an SQLite database); it was left "
                                "untouched: move it away to start a new store, or restore a copy")
    assert path.read_bytes() == junk
    assert sorted(p.name for p in tmp_path.iterdir()) == [STORE_FILENAME]


def test_damaged_database_pages_are_refused_and_left_untouched(tmp_path):
    add(tmp_path, *[seq_result(sequence=f"s{i}", n=200) for i in range(5)])
    path = tmp_path / STORE_FILENAME
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) > 6 * page
    data[2 * page: 5 * page] = np.random.default_rng(0).integers(0, 256, 3 * page, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"^results store .* is corrupted \(.+\); it was left untouched"):
        load_results(tmp_path)
    assert path.read_bytes() == bytes(data)


def test_another_applications_database_is_refused(tmp_path):
    path = tmp_path / STORE_FILENAME
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(InputError) as e:
        add(tmp_path, seq_result())
    assert str(e.value) == (f"{str(path)!r} is an SQLite database of another application (tables: notes), "
                            "not a vsrbench results store; it was left untouched")


def test_a_newer_schema_is_refused(tmp_path):
    add(tmp_path, seq_result())
    with sqlite3.connect(tmp_path / STORE_FILENAME) as c:
        c.execute("PRAGMA user_version = 99")
    with pytest.raises(InputError, match=r"has schema version 99, newer than this vsrbench understands \(3\)"):
        load_results(tmp_path)


def test_a_locked_store_is_a_one_line_error(tmp_path):
    add(tmp_path, seq_result(sequence="first"))
    holder = sqlite3.connect(tmp_path / STORE_FILENAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(InputError) as e:
            add(tmp_path, seq_result(sequence="second"), timeout=0.2)
        assert str(e.value) == (f"results store {str(tmp_path / STORE_FILENAME)!r} is locked by another process "
                                "(waited 0.2 s); try again when it has finished")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert add(tmp_path, seq_result(sequence="second")) == 3


def _writer(results_dir: str, worker: int, barrier) -> None:
    """One of two processes: 6 sequences shared with the other worker, 6 of its own."""
    names = [f"shared{i}" for i in range(6)] + [f"own{worker}-{i}" for i in range(6)]
    barrier.wait()
    with ResultsStore(results_dir) as store:
        run_id = store.start_run(RUN)
        for name in names:
            store.add_sequence(run_id, seq_result(sequence=name, n=25, metrics=("psnr", "ssim")))
        store.finish_run(run_id, "done")


def test_two_processes_writing_at_once_keep_the_store_consistent(tmp_path):
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, barrier)) for w in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    df = load_results(tmp_path)
    assert len(df) == 18 * 25 * 2  # 6 shared + 2 x 6 own sequences, each written once
    assert not df.duplicated(["sequence", "frame", "metric"]).any()
    with sqlite3.connect(tmp_path / STORE_FILENAME) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT COUNT(*) FROM completed").fetchone()[0] == 18 * 2
    assert load_runs(tmp_path)["status"].tolist() == ["done", "done"]


def test_export_csv_matches_the_store(tmp_path):
    add(tmp_path, SequenceResult("m", "d", "s", [(0, "psnr", 1.5), (1, "psnr", math.inf), (2, "psnr", math.nan)],
                                 ["a", "b", "c"], {"psnr": "1"}, "tecogan", "aaaaaaaaaaaa"))
    out = tmp_path / "x.csv"
    assert main(["export", str(tmp_path), "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(RESULT_COLUMNS)
    assert lines[1:] == ["m,d,s,0,a,,psnr,1.5,tecogan,aaaaaaaaaaaa,1", "m,d,s,1,b,,psnr,inf,tecogan,aaaaaaaaaaaa,1",
                         "m,d,s,2,c,,psnr,,tecogan,aaaaaaaaaaaa,1"]  # pred_name empty: no output names given
    back = pd.read_csv(out)
    assert back["value"].iloc[0] == 1.5 and back["value"].iloc[1] == math.inf and math.isnan(back["value"].iloc[2])


def test_export_json_is_strict_json(tmp_path):
    add(tmp_path, SequenceResult("m", "d", "s", [(0, "psnr", 1.5), (1, "psnr", math.inf), (2, "psnr", math.nan)],
                                 ["a", "b", "c"], {"psnr": "1"}, "tecogan", "aaaaaaaaaaaa"))
    out = tmp_path / "x.json"
    assert main(["export", str(tmp_path), "--format", "json", "--out", str(out)]) == 0

    def no_constants(token):
        raise AssertionError(f"non-standard JSON token {token}")

    doc = json.loads(out.read_text(), parse_constant=no_constants)
    assert doc["format"] == "vsrbench-results" and doc["version"] == 1
    assert [r["value"] for r in doc["results"]] == [1.5, "Infinity", "NaN"]
    assert doc["runs"][0]["protocol_fields"] == {"cut_frames": 2}
    assert set(doc["results"][0]) == set(RESULT_COLUMNS)


def test_export_refuses_an_unknown_format(tmp_path, capsys):
    add(tmp_path, seq_result())
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "x.txt")]) == 2
    assert capsys.readouterr().err == "vsrbench export: error: --format must be one of csv, json, got 'txt'\n"
    assert not (tmp_path / "x.txt").exists()


def test_export_of_a_missing_store_exits_2(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "x.csv")]) == 2
    assert "no results store in" in capsys.readouterr().err


def test_store_write_speed(tmp_path, benchmark):
    """Throughput of one sequence's transaction (100 frames x 5 metrics)."""
    counter = iter(range(10**6))
    with ResultsStore(tmp_path) as store:
        run_id = store.start_run(RUN)

        def write():
            r = seq_result(sequence=f"s{next(counter)}", n=100, metrics=("psnr", "ssim", "lpips", "tof", "tlp"))
            return store.add_sequence(run_id, r)

        assert benchmark(write) == 500
