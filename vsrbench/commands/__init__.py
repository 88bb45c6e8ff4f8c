"""CLI sub-commands, one module each (see :mod:`vsrbench.cli`)."""

__all__: list[str] = []
