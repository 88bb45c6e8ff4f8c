"""Running a benchmark, in the modules of its concepts (:func:`vsrbench.runner.run_benchmark` is the entry point).

- :mod:`~vsrbench.run.driver`: plans one task per sequence, hands the tasks to an executor and stores
  each outcome through a :class:`~vsrbench.results.session.RunSession`; :class:`~vsrbench.run.driver.RunOptions`
  are what ``vsrbench evaluate`` changes in a run (outputs already paired, stop on the first error,
  one progress bar over frames, an export after each stored sequence, its run record);
- :mod:`~vsrbench.run.guards`: the checks of definitions and weights files against what a results folder
  holds, before anything is written;
- :mod:`~vsrbench.run.worker`: what computes one task in a worker process (picklable, for
  ``--workers`` and ``--executor ray``);
- :mod:`~vsrbench.run.making`: making outputs (models, commands, callables) and LR frames (degradations);
- :mod:`~vsrbench.run.record`: what a run record says about the software and the machine;
- :mod:`~vsrbench.run.policy`: scoring without LPIPS/tLP when their backbone file is missing;
- :mod:`~vsrbench.run.evaluation`: ``vsrbench evaluate`` as a one-method benchmark run, and its exports.
"""

__all__: list[str] = []
