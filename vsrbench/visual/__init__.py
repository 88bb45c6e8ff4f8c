"""Pictures of stored results: per-frame and trade-off plots, figures of crops and temporal
profiles, and the browsable HTML report.
"""

__all__: list[str] = []
