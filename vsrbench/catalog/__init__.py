"""The catalog: benchmark definition files, the built-in suites (the standard VSR test sets and
their layouts) and the published-results database (data in ``vsrbench/data``).
"""

__all__: list[str] = []
