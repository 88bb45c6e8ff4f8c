"""Analysis of stored results: leaderboard tables (model, published rows, statistics, renderers),
bootstrap statistics and paired comparisons, and regression checks against a baseline.
"""

__all__: list[str] = []
