"""Helpers shared by the test modules: independent references, data builders and paths.

No test module imports another test module; what more than one of them needs lives here:

- :mod:`_support.paths`: the repository, ``../shared`` and :func:`~_support.paths.shared_path`;
- :mod:`_support.spec`: the metrics spec written out in NumPy/OpenCV (crop, luma, PSNR, SSIM, flow, tOF,
  Keys' cubic);
- :mod:`_support.builders`: synthetic frames and sequences, dataset folders, a random AlexNet file;
- :mod:`_support.report_data`: the small three-method results folder of the report tests;
- :mod:`_support.pdf`: the fonts a PDF embeds;
- :mod:`_support.calendar_runs`: Vid4 calendar scored by the one-pass pipeline and by the plain loop,
  computed once per session;
- :mod:`_support.lpips_reference`, :mod:`_support.peer_reference`: the ``lpips`` package and NumPy
  versions of the published conventions;
- :mod:`_support.bench_table`: the peer-speed table of ``docs/performance.md`` from pytest-benchmark JSON files.

``tests/`` is on ``sys.path`` while pytest runs (it has no ``__init__.py``), so these import as
``_support.…``.
"""
