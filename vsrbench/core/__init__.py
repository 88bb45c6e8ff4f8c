"""The core that every layer of vsrbench depends on; it imports nothing else of vsrbench.

- :mod:`~vsrbench.core.errors`: user-facing errors and the did-you-mean :class:`Registry`;
- :mod:`~vsrbench.core.frames`: frame validation and the one rule for rounding to the 8-bit grid;
- :mod:`~vsrbench.core.io`: frame discovery, order and decoding, the pairing of output and GT frames
  by the number in their names, atomic writes;
- :mod:`~vsrbench.core.weights`: local look-up, verification and explicit download of weights;
- :mod:`~vsrbench.core.device`: the one rule for ``--device``;
- :mod:`~vsrbench.core.progress`: progress reporting (frames/s, ETA) for long work;
- :mod:`~vsrbench.core.text`: plain-text tables aligned for a terminal;
- :mod:`~vsrbench.core.kernels`: filter taps shared by the metrics and the degradations.

``metrics/`` and ``baselines/`` import only this package (and each other, bottom up); the harness
(the rest of :mod:`vsrbench`) imports all of them.
"""

__all__: list[str] = []
