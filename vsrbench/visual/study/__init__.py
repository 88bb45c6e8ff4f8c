"""A pairwise user study of a results folder (``vsrbench study make / serve``): the design of the trials
(:mod:`~vsrbench.visual.study.design`), the static site (:mod:`~vsrbench.visual.study.site`), the
answer server (:mod:`~vsrbench.visual.study.server`) and the answers read back
(:mod:`~vsrbench.visual.study.answers`, the records of :mod:`vsrbench.analysis.study_answers`).
"""

__all__: list[str] = []
