"""Scoring without LPIPS and tLP when their backbone weights file is missing: the one policy of
``vsrbench run``, ``vsrbench evaluate`` and the demo, and its one ``note:`` line."""
from __future__ import annotations

import sys
from typing import Any, Callable, Iterable

__all__ = ["skip_missing_lpips", "lpips_skipped_note", "skip_missing_weights"]


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def skip_missing_lpips(metrics: Iterable[str], protocol: Any, *, named: bool, lpips_weights: Any = None,
                       say: Callable[[str], None] = _stderr) -> list[str]:
    """``metrics``, without LPIPS and tLP when their backbone weights file is missing: the one policy
    of ``vsrbench run``, ``vsrbench evaluate`` and the demo, said in one ``note:`` line (:func:`lpips_skipped_note`).

    Only the protocol's default list is thinned: metrics ``named`` by the user (``--metrics``, a
    benchmark's ``metrics``), an ``lpips_weights`` path, or LPIPS/tLP alone are returned as they are, and
    so is a backbone file that is found but unusable; then scoring them stops with the one-line error of
    :func:`vsrbench.metrics.lpips.require_lpips_weights`.
    """
    from vsrbench.core.errors import WeightsError
    from vsrbench.metrics.lpips import backbone_missing, require_lpips_weights

    metrics = list(metrics)
    rest = [m for m in metrics if m not in ("lpips", "tlp")]
    if named or lpips_weights is not None or len(rest) == len(metrics) or not rest:
        return metrics
    try:
        require_lpips_weights(protocol.lpips_net, protocol.lpips_version)
        return metrics
    except WeightsError:
        if not backbone_missing(protocol.lpips_net):  # found but unusable: scoring reports it in one line
            return metrics
    say(lpips_skipped_note(rest, protocol.lpips_net))
    return rest


def lpips_skipped_note(rest: Iterable[str], net: str = "alex") -> str:
    """The one line that says LPIPS and tLP are left out for a missing backbone file."""
    from vsrbench.metrics.lpips import BACKBONE_FILES

    return (f"note: LPIPS and tLP skipped, scoring {','.join(rest)}: weights file {BACKBONE_FILES[net]!r} not found; "
            f"`vsrbench weights download lpips-{net}` fetches it (or give its path: evaluate --lpips-weights, a "
            "benchmark's lpips_weights); a later run adds LPIPS and tLP to the stored sequences")


def skip_missing_weights(metrics: Iterable[str], *, named: bool, say: Callable[[str], None] = _stderr) -> list[str]:
    """``metrics`` without those computed by a scorer whose weights file is not found locally (the same
    policy as :func:`skip_missing_lpips`): only a default list is thinned, with one ``note:`` line per
    missing file; metrics ``named`` by the user are kept, and scoring them stops with the one-line error
    that names the file, where it was looked for and the download command."""
    from vsrbench.metrics.extension import how_to_get, weights_missing
    from vsrbench.metrics.info import METRICS

    metrics = list(metrics)
    if named:
        return metrics
    kept, missing = [], {}
    for m in metrics:
        file = weights_missing(METRICS[m])
        if file is None:
            kept.append(m)
        else:
            missing.setdefault(file, []).append(m)
    for file, names in missing.items():
        say(f"note: {', '.join(names)} skipped: weights file {file!r} not found; {how_to_get(file)}")
    return kept
