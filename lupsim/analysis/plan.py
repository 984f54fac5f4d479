"""AnalysisPlan: which analyses a trial's statistical analysis plan runs.

The plan (a scenario's ``[analysis]`` table) names the primary analysis, any
secondary ones, the significance level and sidedness, the multiplicity
procedure over the primary family (each active arm against control), and the
group-sequential boundaries for interim looks.

Examples
--------
>>> plan = AnalysisPlan()
>>> plan.primary.endpoint, plan.primary.method, plan.alpha
('sri4', 'logistic', 0.05)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lupsim.analysis.binary import BINARY_ENDPOINTS
from lupsim.cohort.population import meta
from lupsim.errors import did_you_mean

__all__ = [
    "INTERIM_MULTIPLICITY",
    "METHODS",
    "AnalysisPlan",
    "AnalysisSpec",
    "Interim",
    "Multiplicity",
]

#: Methods per kind of endpoint.
METHODS: dict[str, tuple[str, ...]] = {
    "binary": ("logistic", "logistic_unadjusted", "cmh", "risk_difference"),
    "sledai_change": ("ancova", "mixed_model", "gee"),
    "time_to_severe_flare": ("cox",),
}
ENDPOINTS_ALLOWED = "one of " + ", ".join(
    [*BINARY_ENDPOINTS, "sledai_change", "time_to_severe_flare"]
)
METHOD_ALLOWED = "; ".join(
    f"{', '.join(methods)} for {'a binary endpoint' if kind == 'binary' else kind}"
    for kind, methods in METHODS.items()
)
#: Multiplicity procedures over the primary comparisons.
Multiplicity = Literal["none", "bonferroni", "holm", "hochberg", "fixed_sequence"]
#: The procedures group-sequential looks combine with: each comparison is
#: tested on its own boundaries, with alpha split equally by Bonferroni.
INTERIM_MULTIPLICITY = ("bonferroni", "none")
Method = Literal[
    "logistic",
    "logistic_unadjusted",
    "cmh",
    "risk_difference",
    "ancova",
    "mixed_model",
    "gee",
    "cox",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AnalysisSpec(_Frozen):
    """One analysis: an endpoint, a method, and the visit it is read at."""

    endpoint: str = Field(
        "sri4",
        description="a binary endpoint (sri4 ... sri8, bicla, lldas, perr, crr, ...), "
        "'sledai_change' or 'time_to_severe_flare'",
        json_schema_extra=meta(
            "—",
            f"{ENDPOINTS_ALLOWED}; perr and crr need [design.background] induction",
        ),
    )
    method: Method = Field(
        "logistic", description="statistical method", json_schema_extra=meta("—", METHOD_ALLOWED)
    )
    week: float | None = Field(
        None,
        strict=True,
        gt=0,
        le=520,
        description="visit week (default: the primary week)",
        json_schema_extra=meta(
            "weeks", "a visit week of the design (in a binomial design, the primary week)"
        ),
    )

    @model_validator(mode="after")
    def _compatible(self) -> AnalysisSpec:
        kind = "binary" if self.endpoint in BINARY_ENDPOINTS else self.endpoint
        if kind not in METHODS:
            allowed = ", ".join([*BINARY_ENDPOINTS, "sledai_change", "time_to_severe_flare"])
            hint = did_you_mean(self.endpoint, [*BINARY_ENDPOINTS, *METHODS])
            raise ValueError(
                f"endpoint: unknown endpoint {self.endpoint!r}{hint}; use one of {allowed}"
            )
        if self.method not in METHODS[kind]:
            raise ValueError(
                f"method: {self.method!r} does not analyse the {kind} endpoint "
                f"{self.endpoint!r}; use one of {', '.join(METHODS[kind])}"
            )
        return self


class Interim(_Frozen):
    """Group-sequential boundaries for the design's milestones (interim looks).

    Efficacy boundaries spend alpha with a Lan-DeMets function; futility
    boundaries (non-binding) spend ``futility_beta`` under the design effect.
    Information at a look is the share of the planned patients who reached the
    primary visit.
    """

    spending: Literal["obf", "pocock"] = Field(
        "obf",
        description="alpha spending: O'Brien-Fleming-like or Pocock-like",
        json_schema_extra=meta("—"),
    )
    futility_beta: float | None = Field(
        None,
        strict=True,
        gt=0,
        lt=1,
        description="beta to spend on non-binding futility",
        json_schema_extra=meta("probability"),
    )
    stop_for_futility: bool = Field(
        False,
        strict=True,
        description="stop the simulated trial at a futility boundary",
        json_schema_extra=meta("—"),
    )


class AnalysisPlan(_Frozen):
    """The statistical analysis plan of a trial."""

    alpha: float = Field(
        0.05,
        strict=True,
        gt=0,
        lt=1,
        description="significance level (two-sided by default)",
        json_schema_extra=meta("probability"),
    )
    sided: Literal["two", "one"] = Field(
        "two", description="two-sided or one-sided tests", json_schema_extra=meta("—")
    )
    primary: AnalysisSpec = Field(
        default_factory=AnalysisSpec, description="primary analysis", json_schema_extra=meta("—")
    )
    secondary: tuple[AnalysisSpec, ...] = Field(
        (), description="secondary analyses", json_schema_extra=meta("—")
    )
    multiplicity: Multiplicity = Field(
        "none",
        description="procedure over the primary comparisons (each active arm vs control); "
        "fixed_sequence tests the arms from the last to the first",
        json_schema_extra=meta("—"),
    )
    interim: Interim | None = Field(
        None,
        description="group-sequential boundaries at the design's milestones",
        json_schema_extra=meta(
            "—",
            "see table; not in a binomial design; only with multiplicity 'bonferroni' or 'none'",
        ),
    )

    @property
    def one_sided_alpha(self) -> float:
        """The one-sided level each primary comparison is tested at."""
        return self.alpha / 2 if self.sided == "two" else self.alpha
