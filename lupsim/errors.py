"""Domain exceptions of lupsim, all in one place.

Every exception subclasses :class:`LupsimError` and the builtin it refines, so
callers can catch either ``lupsim.errors.ScenarioError`` or ``ValueError``.
Messages name the field, the value, the rule and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from difflib import get_close_matches

__all__ = [
    "AnalysisError",
    "InstrumentError",
    "LupsimError",
    "ScenarioError",
    "did_you_mean",
]


class LupsimError(Exception):
    """Base class of every error lupsim raises on purpose."""


class AnalysisError(LupsimError, ValueError):
    """A statistical analysis was given inputs outside its definition.

    Examples: a p-value outside [0, 1], graph weights summing above 1, a
    transition matrix with a non-zero diagonal, group-sequential information
    fractions that do not increase to 1, a significance level outside (0, 0.5).
    """


class InstrumentError(LupsimError, ValueError):
    """A disease-activity instrument was given a value outside its definition.

    Examples: an unknown SLEDAI descriptor, a BILAG grade outside A-E, a PGA
    outside 0-3, an array of the wrong shape.
    """


class ScenarioError(LupsimError, ValueError):
    """A scenario, population, design or eligibility rule is invalid.

    ``problems`` lists every problem found, each as ``"path: message"``, so a
    user fixes a file in one pass instead of one error at a time.
    """

    def __init__(self, problems: Sequence[str] | str, *, source: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        head = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = f"{head}{self.problems[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{head}{len(self.problems)} problems:\n{lines}"
        super().__init__(message)


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``.

    Examples
    --------
    >>> did_you_mean("arthritus", ["arthritis", "myositis"])
    " (did you mean 'arthritis'?)"
    """
    match = get_close_matches(str(value), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
