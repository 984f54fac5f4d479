"""Eligibility: a trial's inclusion and exclusion rules, and screening.

Rules are short readable sentences over the patient variables of
:data:`lupsim.cohort.columns.VARIABLES`::

    include = ["selena_sledai >= 6", "ana_titre >= 80 or anti_dsdna_iu >= 30"]
    exclude = ["severe_active_nephritis", "severe_active_cns"]

A rule is ``term (and|or term)*`` where a term is ``variable op number``
(``op`` one of ``>= > <= < == !=``), a yes/no variable, or ``not`` a yes/no
variable. ``and`` binds tighter than ``or``; there are no parentheses (write
two rules instead: every ``include`` rule must hold, no ``exclude`` rule may).
Rules are checked when the scenario is loaded, so a misspelt variable is
reported before anything runs.

Examples
--------
>>> e = Eligibility(include=("selena_sledai >= 6",), exclude=("severe_active_cns",))
>>> e.include
('selena_sledai >= 6',)
>>> parse_rule("sledai >= 6")
Traceback (most recent call last):
...
ValueError: rule 'sledai >= 6': unknown variable 'sledai' (did you mean 'sledai_2k'?); ...
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from lupsim.cohort.columns import RANDOMISATION_VARIABLES, VARIABLES, PatientView
from lupsim.cohort.population import _JOIN, meta  # _JOIN: several problems in one message
from lupsim.errors import did_you_mean

__all__ = ["Eligibility", "Rule", "ScreeningResult", "parse_rule"]

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_TOKEN = re.compile(r"\s*(>=|<=|==|!=|>|<|[A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?|\S)")


@dataclass(frozen=True)
class _Term:
    variable: str
    op: str | None  # None: yes/no variable
    value: float | None
    negate: bool

    def evaluate(self, view: PatientView) -> NDArray[np.bool_]:
        x = view[self.variable]
        if self.op is None:
            out = np.asarray(x, dtype=bool)
            return ~out if self.negate else out
        return np.asarray(_OPS[self.op](x, self.value), dtype=bool)


@dataclass(frozen=True)
class Rule:
    """A parsed rule: an OR of ANDs of terms."""

    text: str
    clauses: tuple[tuple[_Term, ...], ...]

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(t.variable for c in self.clauses for t in c)

    def evaluate(self, view: PatientView) -> NDArray[np.bool_]:
        """Whether the rule holds for each patient."""
        out: NDArray[np.bool_] | None = None
        for clause in self.clauses:
            part = clause[0].evaluate(view)
            for term in clause[1:]:
                part = part & term.evaluate(view)
            out = part if out is None else (out | part)
        assert out is not None
        return out


@lru_cache(maxsize=512)
def parse_rule(text: str) -> Rule:
    """Parse a rule, raising ValueError that names the problem and the fix.

    Examples
    --------
    >>> r = parse_rule("ana_titre >= 80 or anti_dsdna_iu >= 30")
    >>> sorted(r.variables)
    ['ana_titre', 'anti_dsdna_iu']
    """
    tokens = [t for t in _TOKEN.findall(text) if t]
    if not tokens:
        raise ValueError("a rule cannot be empty; write e.g. 'selena_sledai >= 6'")
    clauses: list[tuple[_Term, ...]] = []
    current: list[_Term] = []
    i = 0

    def fail(why: str) -> ValueError:
        return ValueError(f"rule {text!r}: {why}")

    while i < len(tokens):
        negate = False
        if tokens[i] == "not":
            negate = True
            i += 1
            if i >= len(tokens):
                raise fail("'not' must be followed by a yes/no variable")
        name = tokens[i]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in ("and", "or", "not"):
            raise fail(f"expected a variable name, got {name!r}")
        if name not in VARIABLES:
            raise fail(
                f"unknown variable {name!r}{did_you_mean(name, VARIABLES)}"
                "; see docs/variables.md for the list"
            )
        var = VARIABLES[name]
        i += 1
        if i < len(tokens) and tokens[i] in _OPS:
            if negate:
                raise fail("'not' applies to yes/no variables; invert the comparison instead")
            op = tokens[i]
            i += 1
            if i >= len(tokens):
                raise fail(f"{name} {op} needs a number after it")
            try:
                value = float(tokens[i])
            except ValueError:
                raise fail(f"{name} {op} must be followed by a number, got {tokens[i]!r}") from None
            if var.kind == "text":
                raise fail(
                    f"{name!r} is text and cannot be compared with a number; use the yes/no "
                    f"variables such as 'race_black' or 'region_asia_pacific'"
                )
            current.append(_Term(name, op, value, False))
            i += 1
        else:
            if var.kind != "bool":
                raise fail(f"{name!r} is a {var.kind}, not yes/no; compare it, e.g. '{name} >= 1'")
            current.append(_Term(name, None, None, negate))
        if i < len(tokens):
            joiner = tokens[i]
            if joiner not in ("and", "or"):
                raise fail(f"expected 'and' or 'or' after {name!r}, got {joiner!r}")
            i += 1
            if i >= len(tokens):
                raise fail(f"'{joiner}' must be followed by a condition")
            if joiner == "or":
                clauses.append(tuple(current))
                current = []
    clauses.append(tuple(current))
    return Rule(text, tuple(clauses))


def _valid_rules(rules: tuple[str, ...]) -> tuple[str, ...]:
    for r in rules:
        parse_rule(r)
    return rules


def _valid_rule(rule: str) -> str:
    parse_rule(rule)
    return rule


RuleText = Annotated[str, AfterValidator(_valid_rule)]


class Eligibility(BaseModel):
    """Inclusion rules (all must hold), exclusion rules (none may hold) and
    enrichment rules (all must hold, on top of the others).

    ``include`` and ``exclude`` are the screen under which the population's
    published figures were observed: the cohort generator is fitted so that
    patients passing them reproduce the figures. ``enrich`` narrows a trial to
    a subgroup of that population (e.g. serologically active patients) without
    refitting it, so that the enriched trial enrols the subgroup as it was,
    higher disease activity and lower complement included.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    include: tuple[RuleText, ...] = Field(
        (),
        description="rules every patient must meet",
        json_schema_extra=meta("—", "rules over the variables of variables.md"),
    )
    exclude: tuple[RuleText, ...] = Field(
        (),
        description="rules that exclude a patient",
        json_schema_extra=meta("—", "rules over the variables of variables.md"),
    )
    enrich: tuple[RuleText, ...] = Field(
        (),
        description="further rules every patient must meet, applied after include and "
        "exclude; the population's figures describe patients screened without them",
        json_schema_extra=meta("—", "rules over the variables of variables.md"),
    )

    @model_validator(mode="after")
    def _screenable(self) -> Eligibility:
        # Candidates have no randomisation-time variables yet: a rule on one
        # would silently screen on "none".
        problems = []
        for kind in ("include", "exclude", "enrich"):
            for k, text in enumerate(getattr(self, kind)):
                late = sorted(parse_rule(text).variables & RANDOMISATION_VARIABLES)
                if late:
                    problems.append(
                        f"{kind}[{k}]: {late[0]!r} is assigned at randomisation "
                        "(design.background), so it cannot screen candidates; use it in "
                        "design.randomisation.stratify_by instead"
                    )
        if problems:
            raise ValueError(_JOIN.join(problems))
        return self

    @property
    def rules(self) -> tuple[tuple[str, Rule], ...]:
        """(``"include"``/``"exclude"``/``"enrich"``, parsed rule), in screening order."""
        return (
            tuple(("include", parse_rule(r)) for r in self.include)
            + tuple(("exclude", parse_rule(r)) for r in self.exclude)
            + tuple(("enrich", parse_rule(r)) for r in self.enrich)
        )

    @property
    def variables(self) -> frozenset[str]:
        """Every variable the rules use."""
        out: frozenset[str] = frozenset()
        for _, rule in self.rules:
            out |= rule.variables
        return out

    def reference(self) -> Eligibility:
        """The screen the population's figures describe: these rules without ``enrich``.

        Examples
        --------
        >>> e = Eligibility(include=("selena_sledai >= 6",), enrich=("serologically_active",))
        >>> e.reference().enrich, e.reference().include
        ((), ('selena_sledai >= 6',))
        """
        if not self.enrich:
            return self
        return Eligibility(include=self.include, exclude=self.exclude)

    def screen(self, view: PatientView) -> ScreeningResult:
        """Apply the rules to a batch of candidates.

        Each screen failure is attributed to the first rule it fails, in the
        order include, exclude, enrich, as a CONSORT diagram counts them.
        """
        n = len(view.patients.age)
        eligible = np.ones(n, dtype=bool)
        first_failure = np.full(n, -1, dtype=np.int16)
        for k, (kind, rule) in enumerate(self.rules):
            holds = rule.evaluate(view)
            fails = holds if kind == "exclude" else ~holds
            first_failure[(first_failure < 0) & fails] = k
            eligible &= ~fails
        return ScreeningResult(eligible=eligible, first_failure=first_failure)

    def labels(self) -> tuple[str, ...]:
        """Human labels of the rules, in screening order."""
        return tuple(f"{kind}: {rule.text}" for kind, rule in self.rules)


@dataclass(frozen=True)
class ScreeningResult:
    """Which candidates passed, and the first rule each failure broke."""

    eligible: NDArray[np.bool_]
    first_failure: NDArray[np.int16]
