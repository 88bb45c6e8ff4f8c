"""Vid4 calendar scored by vsrbench's one-pass pipeline and by the straightforward loop, once per session.

Both return rows (frame, metric, value); test_speed.py times them and test_evaluate.py compares them with
other references, so each result is kept by :func:`~_support.lpips_reference.computed_once`.
"""
from __future__ import annotations

import os

from _support.lpips_reference import computed_once
from vsrbench.evaluate import evaluate_sequence
from vsrbench.metrics.lpips import get_lpips
from vsrbench.reference import reference_evaluate

__all__ = ["one_pass", "run_key", "straightforward", "untimed"]


def one_pass(gt, out) -> list:
    """vsrbench's pipeline: rows (frame, metric, value)."""
    return evaluate_sequence(out, gt, device="cpu").rows


def straightforward(gt, out) -> list:
    """The plain loop with vsrbench's LPIPS network: rows (frame, metric, value)."""
    return reference_evaluate(gt, out, lpips_fn=get_lpips(device="cpu"))


def run_key(fn, gt, out) -> tuple:
    """The key of ``fn``'s rows on (gt, out) under the current ``TORCH_HOME``."""
    return fn.__name__, gt.source, out.source, os.environ.get("TORCH_HOME", "")


def untimed(fn, gt, out) -> list:
    """``fn``'s rows, computed at most once per session (other test modules reuse them)."""
    return computed_once(run_key(fn, gt, out), lambda: fn(gt, out))
