"""CLI sub-commands, one module each (see :mod:`vsrbench.cli`)."""
