"""Moved to :mod:`vsrbench.results`; this module re-exports its names for one release (``from vsrbench.store import ...``
keeps working). New code imports from the new place."""

# ruff: noqa: F401
from vsrbench.results.store import (
    STORE_FILENAME,
    APPLICATION_ID,
    SCHEMA_VERSION,
    DEFAULT_TIMEOUT_S,
    SQLITE_HEADER,
    RESULT_COLUMNS,
    RUN_COLUMNS,
    PROCESS_COLUMNS,
    JSON_RUN_FIELDS,
    now_iso,
    store_path,
    find_results_dir,
    SequenceResult,
    ResultsStore,
    writing,
)
from vsrbench.results.locks import (
    LOCKS_DIR,
    ProcessLock,
    run_claim,
    process_start_marker,
    run_is_gone,
)
from vsrbench.results.loading import (
    load_results,
    read_store,
    load_runs,
    refuse_mixed_lpips_files,
    recorded_inputs,
    outputs_path,
    recorded_paths,
)
from vsrbench.results.export import (
    EXPORT_FORMATS,
    export_results,
    json_number,
)

__all__ = [
    "STORE_FILENAME",
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "DEFAULT_TIMEOUT_S",
    "SQLITE_HEADER",
    "RESULT_COLUMNS",
    "RUN_COLUMNS",
    "PROCESS_COLUMNS",
    "JSON_RUN_FIELDS",
    "now_iso",
    "store_path",
    "find_results_dir",
    "SequenceResult",
    "ResultsStore",
    "writing",
    "LOCKS_DIR",
    "ProcessLock",
    "run_claim",
    "process_start_marker",
    "run_is_gone",
    "load_results",
    "read_store",
    "load_runs",
    "refuse_mixed_lpips_files",
    "recorded_inputs",
    "outputs_path",
    "recorded_paths",
    "EXPORT_FORMATS",
    "export_results",
    "json_number",
]
