"""One answer of a pairwise user study (``vsrbench study``): the record the study site stores and the
Bradley-Terry fit reads."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Answer", "GT", "DEGRADED", "KINDS"]

#: the method names of the two sides of an attention check: the ground truth against a strongly degraded copy
GT = "__gt__"
DEGRADED = "__degraded__"
#: ``pair``: two methods on one clip; ``attention``: GT against its degraded copy (the GT must win);
#: ``repeat``: a pair shown again (``repeat_of`` names the first trial) to measure consistency
KINDS = ("pair", "attention", "repeat")


@dataclass(frozen=True)
class Answer:
    """A participant's choice in one trial: ``left`` and ``right`` are the methods shown (after the
    per-participant randomisation), ``choice`` the one chosen (one of them), ``seconds`` the time
    from the trial's start to the answer."""

    participant: str
    trial: str
    clip: str
    left: str
    right: str
    choice: str
    kind: str = "pair"
    repeat_of: str | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.choice not in (self.left, self.right):
            raise ValueError(f"answer to trial {self.trial!r}: choice {self.choice!r} is neither side "
                             f"({self.left!r}, {self.right!r})")
        if self.kind not in KINDS:
            raise ValueError(f"answer to trial {self.trial!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def loser(self) -> str:
        return self.right if self.choice == self.left else self.left
