"""The results layer: the SQLite store of a results folder, the locks and run claims between
processes, loading rows and run records as DataFrames, the results frame and exports.

It imports only :mod:`vsrbench.core` and :mod:`vsrbench.metrics` (never the analysis, visual or
runner layers).
"""

__all__: list[str] = []
