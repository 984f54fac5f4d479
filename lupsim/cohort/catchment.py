"""General-population (catchment) mode: the SLE patients living in a catchment.

A trial cohort (:func:`lupsim.cohort.generate_cohort`) holds the patients a
trial enrols; a *catchment* holds every SLE patient living among ``N``
inhabitants (a city, a hospital's area), with the demographics, cumulative
organ involvement and current, mostly low, disease activity of the clinic
patients they are. It answers questions such as "how many patients would a
trial with these rules find in a region of 2 million people".

How a catchment is drawn (every number is a :class:`CatchmentSpec` field or a
constant below, each with its source):

1. **Counts.** Prevalent patients ~ Poisson(``inhabitants`` x prevalence), and
   incident cases in one year ~ Poisson(``inhabitants`` x incidence), both from
   the ``"catchment"`` stream (France 2010: crude prevalence 47.0 and incidence
   3.32 per 100,000 per year; Arnaud L et al., Autoimmun Rev 2014;13:1082-9).
2. **Demographics.** Age at onset (taken as age at diagnosis) is a normal
   truncated to 2-90 years whose untruncated mean and SD are solved so that the
   *generated* ages have the stated mean and SD. Sex follows the female:male
   ratio of the age band at onset. Disease duration is exponential with mean
   prevalence / incidence (about 14 years): in a steady state prevalence =
   incidence x mean duration, and the exponential is the one distribution whose
   time-since-onset among prevalent cases (length-biased) has the same law as
   the full duration. It is truncated so that the current age is at most 95.
   Race follows :meth:`CatchmentSpec.patient_race_pct`.
3. **Cumulative organ involvement** (the ``ever_*`` manifestations) is drawn
   first, independently per manifestation except two groups: *nephropathy*
   (proteinuria, cellular casts, biopsy classes) and *serositis* (pleuritis,
   pericarditis, effusion) are drawn as a group at the published group rate,
   then their items given the group, so that the Euro-Lupus group rates (39% and
   36%; Cervera et al., Medicine 1993) and item rates
   (:data:`~lupsim.cohort.model.EURO_LUPUS_FREQUENCY`) both hold. Nephropathy is
   more frequent in younger-onset, Black, Asian, Indigenous-American and male
   patients (the ``RENAL_*`` log-odds of :mod:`lupsim.cohort.model`, age taken
   at onset). A history that meets neither ACR 1997 nor SLICC 2012 is redrawn
   whole until it does, so every patient is classified. Because that
   conditioning raises the frequencies (by up to 0.7 point: at Euro-Lupus rates
   only 1.4% of draws fail), and the demographic gradients raise the average
   nephropathy rate (by 5 points), the *pre-conditioning* log-odds are fitted
   (:func:`history_fit`) so that the frequencies *after* conditioning match
   Euro-Lupus.
4. **Current state.** Serology, SLEDAI descriptors, BILAG, PGA, damage and
   therapy come from :func:`~lupsim.cohort.model.build_patients` with the default
   parameters shifted to a clinic population in low activity
   (:data:`CATCHMENT_PARAMETER_SHIFTS`), fed with noise that gives each patient
   her demographics and keeps current activity *inside* her history: no current
   activity in an organ, and no current positive test, that the history lacks
   (activity is dropped, history is never added). The cumulative manifestations
   are then the history unioned with what current activity implies
   (:func:`~lupsim.cohort.model.history`), which by construction is the history
   itself, and classification is re-checked.

The fit of step 3 is made on the default specification's demographics. For
another demographic mix the same log-odds are used, so nephropathy becomes
more (or less) frequent through its structural gradients, as it should: a
catchment with more Black patients has more lupus nephritis.

Examples
--------
>>> c = generate_catchment(CatchmentSpec(inhabitants=1_000_000), seed=1)
>>> c.n_prevalent == c.cohort.n
True
>>> bool(c.cohort.to_frame()[["acr1997", "slicc2012"]].any(axis=1).all())
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import special

from lupsim.activity import classification as _cls
from lupsim.activity.bilag import BILAG_DOMAINS
from lupsim.activity.sledai import DESCRIPTOR_CODES, score_sledai
from lupsim.cohort import model as _model
from lupsim.cohort.cohort import Cohort
from lupsim.cohort.model import (
    C3_LOW,
    C3_SD,
    C4_LOG_SD,
    C4_LOW,
    DSDNA_LOG10_SD,
    DSDNA_POSITIVE_IU,
    EURO_LUPUS_FREQUENCY,
    RENAL_AGE_LOGODDS_PER_DECADE,
    RENAL_MALE_LOGODDS,
    RENAL_RACE_LOGODDS,
    RHO_C3_C4,
    RHO_SERO_ACT,
    SDI_PER_YEAR,
    SDI_PER_YEAR_OF_AGE,
    WEIGHT_MEDIAN,
    Noise,
    Parameters,
    PatientArrays,
    build_patients,
    default_parameters,
    draw_noise,
    history,
)
from lupsim.cohort.population import (
    _JOIN,
    SHARE_SUM_TOLERANCE,
    Pct,
    Population,
    RaceGroup,
    Region,
    format_validation_error,
)
from lupsim.cohort.vocabulary import RACE_BY_REGION, RACE_GROUPS, REGIONS
from lupsim.errors import LupsimError, ScenarioError
from lupsim.random import stream

__all__ = [
    "CATCHMENT_PARAMETER_SHIFTS",
    "EURO_LUPUS_GROUPS",
    "Catchment",
    "CatchmentSpec",
    "HistoryFit",
    "catchment_parameters",
    "generate_catchment",
    "history_fit",
]

F = NDArray[np.float64]
B = NDArray[np.bool_]

# ---------------------------------------------------------------------------
# Epidemiology (defaults of CatchmentSpec)
# ---------------------------------------------------------------------------

#: France 2010, national health insurance data: crude prevalence 47.0 per
#: 100,000 and incidence 3.32 per 100,000 per year (Arnaud L et al., Autoimmun
#: Rev 2014;13:1082-9; lupsim reference, section 1, which names the journal
#: Lupus).
PREVALENCE_PER_100K: Final = 47.0
INCIDENCE_PER_100K_YEAR: Final = 3.32
#: Mean age at diagnosis 35-39 years, SD about 13-16 (lupsim reference, section 1).
ONSET_AGE_MEAN: Final = 36.0
ONSET_AGE_SD: Final = 15.0
#: Youngest age at onset (brief of the catchment mode: SLE before 2 years is
#: exceptional) and oldest (lupsim assumption: no first diagnosis after 90).
ONSET_AGE_MIN: Final = 2.0
ONSET_AGE_MAX: Final = 90.0
#: Oldest current age (lupsim assumption): disease duration is truncated so
#: that onset + duration <= 95.
AGE_MAX: Final = 95.0
#: Female:male ratio by age at onset: about 1 before puberty, 10-13 in young
#: adults, 3-4 after 50 (lupsim reference, section 1). Band limits 13 and 50
#: years are lupsim assumptions (puberty; menopause).
SEX_RATIO_CHILD: Final = 1.0
SEX_RATIO_ADULT: Final = 11.5
SEX_RATIO_OLDER: Final = 3.5
CHILD_ONSET_BEFORE: Final = 13.0
OLDER_ONSET_FROM: Final = 50.0
#: Race mix of the inhabitants of a Western-European catchment. lupsim
#: assumption (Western European countries keep few ethnic statistics; a city
#: population with a few percent of residents of African and of Asian origin).
INHABITANT_RACE_PCT: Final[dict[str, float]] = {
    "white": 86.0,
    "black": 5.0,
    "asian": 5.0,
    "indigenous_american": 0.5,
    "other": 3.5,
}
#: Prevalence of SLE relative to White residents. Black: 2.5, the middle of
#: "2-3x higher in Black women" (lupsim reference, section 1). Asian 1.5,
#: Indigenous American (incl. Hispanic mestizo) 2.0 and other 1.5 are lupsim
#: assumptions of the order of US surveillance registries, where Asian and
#: Hispanic residents lie between White and Black ones (e.g. Manhattan Lupus
#: Surveillance Program, Izmirly et al., Arthritis Rheumatol 2017).
RELATIVE_PREVALENCE_BY_RACE: Final[dict[str, float]] = {
    "white": 1.0,
    "black": 2.5,
    "asian": 1.5,
    "indigenous_american": 2.0,
    "other": 1.5,
}

# ---------------------------------------------------------------------------
# Cumulative organ involvement
# ---------------------------------------------------------------------------

#: Published group rates of the Euro-Lupus cohort (Cervera et al., Medicine
#: 1993;72:113-24): nephropathy 39%, serositis 36%, and the manifestations that
#: make up each group. Item rates within a group are those of
#: :data:`~lupsim.cohort.model.EURO_LUPUS_FREQUENCY` (their split of the group is
#: a lupsim assumption documented there).
EURO_LUPUS_GROUPS: Final[dict[str, tuple[float, tuple[str, ...]]]] = {
    "serositis": (0.36, ("pleuritis", "pericarditis", "serosal_effusion")),
    "nephropathy": (
        0.39,
        ("proteinuria", "cellular_casts", "nephritis_class_2_5", "nephritis_class_3_4"),
    ),
}
#: Fixed seed and size of the pilot on which the pre-conditioning log-odds are
#: fitted, the most fixed-point iterations, and the largest error (a proportion)
#: at which they stop early. The fit is deterministic; 3-4 iterations suffice.
FIT_SEED: Final = 19930301  # Euro-Lupus cohort paper, Medicine, March 1993
FIT_PILOT_SIZE: Final = 1 << 16
FIT_ITERATIONS: Final = 8
FIT_TOLERANCE: Final = 0.0005
#: A history that meets neither ACR 1997 nor SLICC 2012 is redrawn at most this
#: many times (at Euro-Lupus rates a draw fails for about 1.4% of patients, so
#: none is left after 50 rounds); any still left gets the commonest criteria.
HISTORY_REDRAWS: Final = 50
_FALLBACK: Final = ("ana", "arthritis", "acute_cutaneous", "anti_dsdna", "oral_ulcers")

# ---------------------------------------------------------------------------
# Current state of prevalent (clinic) patients
# ---------------------------------------------------------------------------

#: Changes to :func:`~lupsim.cohort.model.default_parameters` (which describe
#: trial candidates) for prevalent clinic patients, mostly in low activity.
#: lupsim assumptions, set by hand on a 23,500-patient catchment so that:
#:
#: - mean SLEDAI-2K is about 4 (3.5-4.5), clinic patients between visits, well
#:   below trial entry thresholds of 6, with 40-45% of patients at 0-2. (A third
#:   at 0-2 is not reachable at a mean of 4 once current activity is kept inside
#:   each patient's history: the score comes in lumps of 4 and 2 points.)
#: - anti-dsDNA >= 30 IU/mL in about 40%, low C3 in about 19% and low C4 in
#:   about 17% (quiescent serology, inside the Euro-Lupus "ever" rates of 78%
#:   and 45%);
#: - fewer skin items per active skin domain (``multiplicity``);
#: - hydroxychloroquine in about 85% (recommended for all, reference section 1);
#:   prednisone in about half, above 7.5 mg/day in about 15% of patients.
#:
#: ``tests/statistical/test_catchment.py`` checks these aims.
CATCHMENT_PARAMETER_SHIFTS: Final[dict[str, float]] = {
    "activity_shift": -0.9,
    "multiplicity": -1.0,
    "dsdna_mu": 1.5,
    "c3_mu": 95.0,
    "c4_log_mu": float(np.log(17.0)),
    "antimalarial_logit": 1.75,
    "prednisone_logit": 0.3,
    "prednisone_high_logit": -0.5,
}
#: Damage (SLICC/ACR index) is recomputed with the catchment's disease duration,
#: which is held at 25 years in the rate: the log-linear model of
#: :mod:`lupsim.cohort.model` was set on trial populations (durations mostly
#: < 25 years) and would otherwise give 7-8 items after 40 years. lupsim
#: assumption.
SDI_DURATION_CAP: Final = 25.0
#: Children's weight: median 2 x (age + 4) kg up to 10 years (the APLS formula,
#: Advanced Paediatric Life Support), then linear to the adult median at 18
#: (lupsim assumption). The adult model would give a 5-year-old 62 kg.
CHILD_WEIGHT_ADULT_AGE: Final = 18.0

_M = {m: i for i, m in enumerate(_cls.MANIFESTATIONS)}
_GROUPED = {m for _, items in EURO_LUPUS_GROUPS.values() for m in items}
_SINGLES: Final = tuple(m for m in _cls.MANIFESTATIONS if m not in _GROUPED)
#: The fitted units: every ungrouped manifestation, then each group.
UNITS: Final[tuple[str, ...]] = (*_SINGLES, *EURO_LUPUS_GROUPS)
_SINGLE_IDX = np.array([_M[m] for m in _SINGLES], dtype=np.intp)
_NEPHROPATHY_UNIT = UNITS.index("nephropathy")
_TARGET = np.array(
    [EURO_LUPUS_FREQUENCY[m] for m in _SINGLES] + [g[0] for g in EURO_LUPUS_GROUPS.values()]
)


def _item_probabilities(q: F) -> F:
    """Probabilities of a group's items given the group, before one is forced.

    A group member shows each item independently with probability ``p_i``; a
    member who drew none gets one item with probability ``w_i`` proportional to
    ``q_i``. Solves ``p_i + prod(1 - p) * w_i = q_i`` so that the item rates given
    the group are exactly ``q_i``.
    """
    w = q / q.sum()
    p = q.copy()
    for _ in range(200):
        p = np.clip(q - np.prod(1.0 - p) * w, 0.0, 1.0)
    return p


@dataclass(frozen=True)
class _GroupDraw:
    index: NDArray[np.intp]  # manifestation columns of the items
    p_item: F  # item probability given the group (before forcing one)
    w_cdf: F  # CDF of the forced item


_GROUP_DRAWS: Final = tuple(
    _GroupDraw(
        index=np.array([_M[m] for m in items], dtype=np.intp),
        p_item=_item_probabilities(q := np.array([EURO_LUPUS_FREQUENCY[m] / rate for m in items])),
        w_cdf=np.cumsum(q) / q.sum(),
    )
    for rate, items in EURO_LUPUS_GROUPS.values()
)
assert all(EURO_LUPUS_FREQUENCY[m] <= r for r, items in EURO_LUPUS_GROUPS.values() for m in items)

_RENAL_RACE = np.array([RENAL_RACE_LOGODDS[g] for g in RACE_GROUPS])


# ---------------------------------------------------------------------------
# The specification
# ---------------------------------------------------------------------------

PositiveFactor = Annotated[float, Field(gt=0, le=100, description="relative prevalence, > 0")]


class CatchmentSpec(BaseModel):
    """The inhabitants of a catchment and the epidemiology of SLE among them.

    Like :class:`~lupsim.cohort.Population`, user input is best validated with
    :meth:`from_mapping` (or passed to :func:`generate_catchment` as a mapping),
    which raises one :class:`~lupsim.errors.ScenarioError` listing every
    problem; the constructor raises pydantic's ``ValidationError`` (also a
    ``ValueError``), so the spec nests in larger pydantic models.

    Examples
    --------
    >>> spec = CatchmentSpec(inhabitants=1_000_000)
    >>> spec.expected_prevalent, round(spec.mean_duration_years, 1)
    (470.0, 14.2)
    >>> CatchmentSpec.from_mapping({"inhabitants": 0, "prevalence_per_100k": -1})
    Traceback (most recent call last):
    ...
    lupsim.errors.ScenarioError: 2 problems:
      - catchment.inhabitants: must be >= 1, got 0
      - catchment.prevalence_per_100k: must be > 0, got -1
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    inhabitants: int = Field(
        ge=1, le=1_000_000_000, description="people living in the catchment, 1 to 10^9"
    )
    prevalence_per_100k: float = Field(
        PREVALENCE_PER_100K,
        gt=0,
        le=10_000,
        description="prevalent SLE patients per 100,000 inhabitants, > 0 (France 2010: 47.0)",
    )
    incidence_per_100k_year: float = Field(
        INCIDENCE_PER_100K_YEAR,
        gt=0,
        le=1_000,
        description="new SLE cases per 100,000 inhabitants per year, > 0 (France 2010: 3.32)",
    )
    onset_age_mean: float = Field(
        ONSET_AGE_MEAN,
        ge=5,
        le=80,
        description="mean age at onset (diagnosis) of prevalent patients, years, 5-80",
    )
    onset_age_sd: float = Field(
        ONSET_AGE_SD, ge=1, le=30, description="SD of age at onset, years, 1-30"
    )
    sex_ratio_child: float = Field(
        SEX_RATIO_CHILD,
        gt=0,
        le=100,
        description="female:male ratio for onset before 13 years, women per man, > 0",
    )
    sex_ratio_adult: float = Field(
        SEX_RATIO_ADULT,
        gt=0,
        le=100,
        description="female:male ratio for onset at 13-49 years, women per man, > 0",
    )
    sex_ratio_older: float = Field(
        SEX_RATIO_OLDER,
        gt=0,
        le=100,
        description="female:male ratio for onset at 50 years or later, women per man, > 0",
    )
    race_pct: dict[RaceGroup, Pct] | None = Field(
        None,
        description=(
            "% of the catchment's SLE patients in each race group (0-100, summing to 100 "
            "+/- 1); by default derived from inhabitant_race_pct x relative_prevalence_by_race"
        ),
    )
    inhabitant_race_pct: dict[RaceGroup, Pct] = Field(
        default_factory=lambda: dict(INHABITANT_RACE_PCT),  # type: ignore[arg-type]
        description=(
            "% of the catchment's inhabitants in each race group (0-100, summing to 100 "
            "+/- 1); default a Western-European city (lupsim assumption)"
        ),
    )
    relative_prevalence_by_race: dict[RaceGroup, PositiveFactor] = Field(
        default_factory=lambda: dict(RELATIVE_PREVALENCE_BY_RACE),  # type: ignore[arg-type]
        description=(
            "SLE prevalence of each race group relative to White inhabitants, > 0 "
            "(Black 2.5); groups left out keep their default"
        ),
    )
    region: Region = Field(
        "western_europe", description="region the catchment lies in (sets the region column)"
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, path: str = "catchment") -> CatchmentSpec:
        """Validate a mapping (e.g. a TOML table), raising one ScenarioError listing
        every problem by field.

        Examples
        --------
        >>> CatchmentSpec.from_mapping({"inhabitants": 10, "size": 3})
        Traceback (most recent call last):
        ...
        lupsim.errors.ScenarioError: catchment.size: unknown key 'size'; ...
        """
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ScenarioError(format_validation_error(exc, prefix=path, model=cls)) from None

    @model_validator(mode="after")
    def _coherent(self) -> CatchmentSpec:
        problems: list[str] = []
        for name, shares in (
            ("race_pct", self.race_pct),
            ("inhabitant_race_pct", self.inhabitant_race_pct),
        ):
            if shares is not None:
                total = sum(shares.values())
                if abs(total - 100.0) > SHARE_SUM_TOLERANCE:
                    problems.append(
                        f"{name}: shares must sum to 100 (+/- {SHARE_SUM_TOLERANCE:g} for "
                        f"rounding), got {total:g}; fix the shares or add an 'other' group"
                    )
        if self.race_pct is not None and "inhabitant_race_pct" in self.model_fields_set:
            problems.append(
                "race_pct: give the race mix of the patients (race_pct) or of the "
                "inhabitants (inhabitant_race_pct), not both"
            )
        if _onset_normal(self.onset_age_mean, self.onset_age_sd) is None:
            problems.append(
                f"onset_age_sd: ages at onset between {ONSET_AGE_MIN:g} and {ONSET_AGE_MAX:g} "
                f"years cannot have mean {self.onset_age_mean:g} and SD "
                f"{self.onset_age_sd:g}; lower the SD or move the mean away from the limits"
            )
        if problems:
            raise ValueError(_JOIN.join(problems))
        return self

    @property
    def expected_prevalent(self) -> float:
        """Expected number of prevalent patients: inhabitants x prevalence."""
        return self.inhabitants * self.prevalence_per_100k / 1e5

    @property
    def expected_incident_per_year(self) -> float:
        """Expected number of new cases in one year: inhabitants x incidence."""
        return self.inhabitants * self.incidence_per_100k_year / 1e5

    @property
    def mean_duration_years(self) -> float:
        """Mean disease duration of prevalent patients, prevalence / incidence (steady state)."""
        return self.prevalence_per_100k / self.incidence_per_100k_year

    def relative_prevalence(self) -> dict[str, float]:
        """Relative prevalence of every race group (defaults for groups left out).

        Examples
        --------
        >>> CatchmentSpec(inhabitants=1, relative_prevalence_by_race={"black": 3.0}
        ...               ).relative_prevalence()["black"]
        3.0
        """
        stated = {str(k): float(v) for k, v in self.relative_prevalence_by_race.items()}
        return {g: stated.get(g, RELATIVE_PREVALENCE_BY_RACE[g]) for g in RACE_GROUPS}

    def patient_race_pct(self) -> dict[str, float]:
        """Race mix of the SLE patients, percent of every group (summing to 100).

        ``race_pct`` when given, otherwise the inhabitants' mix weighted by each
        group's relative prevalence.

        Examples
        --------
        >>> mix = CatchmentSpec(inhabitants=1).patient_race_pct()
        >>> round(mix["white"], 1), round(mix["black"], 1)
        (76.6, 11.1)
        """
        if self.race_pct is not None:
            w = {g: float(self.race_pct.get(g, 0.0)) for g in RACE_GROUPS}  # type: ignore[call-overload]
        else:
            rel = self.relative_prevalence()
            inhabitants = {str(k): float(v) for k, v in self.inhabitant_race_pct.items()}
            w = {g: inhabitants.get(g, 0.0) * rel[g] for g in RACE_GROUPS}
        total = sum(w.values())
        return {g: 100.0 * v / total for g, v in w.items()}

    def female_probability_by_band(self) -> tuple[float, float, float]:
        """Probability that a patient is a woman, by age band at onset (child, adult, older)."""
        return tuple(  # type: ignore[return-value]
            r / (1.0 + r)
            for r in (self.sex_ratio_child, self.sex_ratio_adult, self.sex_ratio_older)
        )

    def expected_female_pct(self) -> float:
        """Expected % of women among the patients, from the onset ages and sex ratios.

        Examples
        --------
        >>> round(CatchmentSpec(inhabitants=1).expected_female_pct(), 1)
        86.8
        """
        mu, sigma = _onset_normal_or_raise(self.onset_age_mean, self.onset_age_sd)
        z = (
            np.array([ONSET_AGE_MIN, CHILD_ONSET_BEFORE, OLDER_ONSET_FROM, ONSET_AGE_MAX]) - mu
        ) / sigma
        # Upper tails keep their precision when most of the mass is far above 2 years.
        sf = special.ndtr(-z)
        band = -np.diff(sf) / (sf[0] - sf[-1])
        return float(100.0 * band @ np.array(self.female_probability_by_band()))


# ---------------------------------------------------------------------------
# Age at onset: a truncated normal with the stated mean and SD
# ---------------------------------------------------------------------------


def _truncated_moments(mu: float, sigma: float) -> tuple[float, float]:
    """Mean and SD of a normal (mu, sigma) truncated to the onset ages."""
    a = (ONSET_AGE_MIN - mu) / sigma
    b = (ONSET_AGE_MAX - mu) / sigma
    # Mass between the limits, from the tail that keeps its precision.
    z = special.ndtr(-a) - special.ndtr(-b) if a > 0 else special.ndtr(b) - special.ndtr(a)
    pa, pb = np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi), np.exp(-0.5 * b * b) / np.sqrt(2 * np.pi)
    mean = mu + sigma * (pa - pb) / z
    var = sigma**2 * (1.0 + (a * pa - b * pb) / z - ((pa - pb) / z) ** 2)
    return float(mean), float(np.sqrt(max(var, 0.0)))


@lru_cache(maxsize=256)
def _onset_normal(mean: float, sd: float) -> tuple[float, float] | None:
    """Untruncated (mu, sigma) whose truncation to the onset ages has this mean
    and SD, or None if no normal truncated to those ages has them.

    Damped Newton steps on (mu, log sigma) with a finite-difference Jacobian;
    an infeasible pair (e.g. mean 6 and SD 30: near the lower limit the SD can
    hardly exceed mean - 2) makes the steps stall, and gives None.
    """

    def residual(x: F) -> F:
        if not (abs(x[0]) < 1e4 and abs(x[1]) < 9.0):  # sigma within e^-9 .. e^9 years
            return np.array([np.inf, np.inf])
        with np.errstate(all="ignore"):
            m, s = _truncated_moments(float(x[0]), float(np.exp(x[1])))
        return np.array([m - mean, s - sd])

    x = np.array([float(mean), float(np.log(sd))])
    r = residual(x)
    for _ in range(100):
        if np.abs(r).max() < 1e-8:
            return float(x[0]), float(np.exp(x[1]))
        h = 1e-6
        jac = np.column_stack([(residual(x + h * e) - r) / h for e in np.eye(2)])
        try:
            dx = np.linalg.solve(jac, -r)
        except np.linalg.LinAlgError:
            return None
        t = 1.0
        while t > 1e-6:
            x_new = x + t * dx
            r_new = residual(x_new)
            if np.isfinite(r_new).all() and np.abs(r_new).max() < np.abs(r).max():
                break
            t /= 2.0
        else:
            return None
        x, r = x_new, r_new
    return None


def _onset_ppf(u: F, mu: float, sigma: float) -> F:
    """Inverse CDF of the normal (mu, sigma) truncated to the onset ages."""
    a = (ONSET_AGE_MIN - mu) / sigma
    b = (ONSET_AGE_MAX - mu) / sigma
    if a > 0:  # mostly above the lower limit: work with upper tails
        sa, sb = special.ndtr(-a), special.ndtr(-b)
        x = mu - sigma * special.ndtri(sa - u * (sa - sb))
    else:
        fa, fb = special.ndtr(a), special.ndtr(b)
        x = mu + sigma * special.ndtri(fa + u * (fb - fa))
    return np.clip(x, ONSET_AGE_MIN, ONSET_AGE_MAX)


def _onset_normal_or_raise(mean: float, sd: float) -> tuple[float, float]:
    solved = _onset_normal(mean, sd)
    if solved is None:  # the spec validator rejects these; kept for type safety
        raise ScenarioError(f"onset_age_sd: no onset distribution with mean {mean} and SD {sd}")
    return solved


# ---------------------------------------------------------------------------
# Demographics and history
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Demographics:
    onset: F
    duration: F
    female: B
    race: NDArray[np.int8]

    @property
    def age(self) -> F:
        return self.onset + self.duration


def _demographics(spec: CatchmentSpec, n: int, rng: np.random.Generator) -> _Demographics:
    """Age at onset, sex, race and disease duration of ``n`` prevalent patients."""
    u_onset, u_sex, u_race, u_duration = (rng.random(n) for _ in range(4))
    mu, sigma = _onset_normal_or_raise(spec.onset_age_mean, spec.onset_age_sd)
    onset = _onset_ppf(u_onset, mu, sigma)
    band = (onset >= CHILD_ONSET_BEFORE).astype(np.intp) + (onset >= OLDER_ONSET_FROM)
    female = u_sex < np.array(spec.female_probability_by_band())[band]
    shares = np.array([spec.patient_race_pct()[g] for g in RACE_GROUPS])
    cdf = np.cumsum(shares) / shares.sum()
    race = np.minimum(np.searchsorted(cdf, u_race, side="right"), len(RACE_GROUPS) - 1)
    # Exponential duration truncated at AGE_MAX - onset, by inverse CDF.
    mean = spec.mean_duration_years
    top = -np.expm1(-(AGE_MAX - onset) / mean)
    duration = -mean * np.log1p(-u_duration * top)
    return _Demographics(onset=onset, duration=duration, female=female, race=race.astype(np.int8))


def _renal_offset(demo: _Demographics) -> F:
    """Log-odds of nephropathy added to the fitted intercept: ancestry, sex, age at onset."""
    return (
        _RENAL_RACE[demo.race]
        + RENAL_MALE_LOGODDS * ~demo.female
        + RENAL_AGE_LOGODDS_PER_DECADE * (demo.onset - 35.0) / 10.0
    )


def _sample_history(logits: F, renal_offset: F, rng: np.random.Generator) -> B:
    """One unconditioned draw of cumulative manifestations, (n, 30)."""
    n = renal_offset.shape[0]
    unit_logits = np.broadcast_to(logits, (n, len(UNITS))).copy()
    unit_logits[:, _NEPHROPATHY_UNIT] += renal_offset
    units = rng.random((n, len(UNITS))) < special.expit(unit_logits)
    out = np.zeros((n, _cls.N_MANIFESTATIONS), dtype=bool)
    out[:, _SINGLE_IDX] = units[:, : len(_SINGLES)]
    for g, draw in enumerate(_GROUP_DRAWS):
        member = units[:, len(_SINGLES) + g]
        items = (rng.random((n, draw.index.size)) < draw.p_item) & member[:, None]
        forced = np.minimum(
            np.searchsorted(draw.w_cdf, rng.random(n), side="right"), draw.index.size - 1
        )
        rows = np.flatnonzero(member & ~items.any(axis=1))
        items[rows, forced[rows]] = True
        out[:, draw.index] = items
    return out


def _classified(m: B) -> B:
    return _cls.meets_acr1997(m) | _cls.meets_slicc2012(m)


def _draw_history(logits: F, renal_offset: F, rng: np.random.Generator) -> B:
    """Cumulative manifestations conditioned on meeting ACR 1997 or SLICC 2012.

    Failing histories are redrawn whole (a loop over rounds, not patients),
    which samples exactly the conditional distribution given the demographics.
    """
    hist = _sample_history(logits, renal_offset, rng)
    bad = np.flatnonzero(~_classified(hist))
    for _ in range(HISTORY_REDRAWS):
        if bad.size == 0:
            break
        hist[bad] = _sample_history(logits, renal_offset[bad], rng)
        bad = bad[~_classified(hist[bad])]
    for code in _FALLBACK:
        if bad.size == 0:
            break
        hist[bad, _M[code]] = True
        bad = bad[~_classified(hist[bad])]
    return hist


def _unit_frequencies(hist: B) -> F:
    groups = [hist[:, d.index].any(axis=1).mean() for d in _GROUP_DRAWS]
    return np.concatenate([hist[:, _SINGLE_IDX].mean(axis=0), groups])


@dataclass(frozen=True)
class HistoryFit:
    """Pre-conditioning log-odds of each unit (:data:`UNITS`), and the
    frequencies they give after conditioning on classification, on the pilot."""

    logits: dict[str, float]
    achieved: dict[str, float]
    targets: dict[str, float]

    @property
    def max_error(self) -> float:
        """Largest |achieved - target| on the pilot, as a proportion."""
        return max(abs(self.achieved[u] - self.targets[u]) for u in UNITS)


@lru_cache(maxsize=1)
def history_fit() -> HistoryFit:
    """Fit the pre-conditioning log-odds so conditioned frequencies match Euro-Lupus.

    A fixed pilot of :data:`FIT_PILOT_SIZE` patients with the default
    specification's demographics (seed :data:`FIT_SEED`) is drawn once. Each
    fixed-point step draws the pilot's histories conditioned on classification
    (from the same stream every step, so the steps share random numbers) and
    moves each unit's log-odds by logit(target) - logit(achieved). Conditioning
    changes frequencies by a few points at most, so the map is close to the
    identity: 3-4 steps bring every unit within :data:`FIT_TOLERANCE` (0.05
    percentage point) on the pilot, whose own Monte Carlo error is about 0.2
    point. At most :data:`FIT_ITERATIONS` steps. Cached for the process (about
    0.2 s the first time).

    Examples
    --------
    >>> fit = history_fit()
    >>> fit.max_error < 0.005
    True
    >>> bool(fit.logits["arthritis"] < np.log(0.84 / 0.16))  # conditioning raises it
    True
    """
    spec = CatchmentSpec(inhabitants=1)
    demo = _demographics(spec, FIT_PILOT_SIZE, stream(FIT_SEED, "catchment_fit", 0))
    offset = _renal_offset(demo)
    target_logit = special.logit(_TARGET)
    logits = target_logit.copy()
    achieved = _TARGET
    for iteration in range(FIT_ITERATIONS + 1):
        hist = _draw_history(logits, offset, stream(FIT_SEED, "catchment_fit", 1))
        achieved = _unit_frequencies(hist)
        if iteration == FIT_ITERATIONS or np.abs(achieved - _TARGET).max() < FIT_TOLERANCE:
            break
        logits = logits + target_logit - special.logit(np.clip(achieved, 1e-6, 1 - 1e-6))
    return HistoryFit(
        logits=dict(zip(UNITS, map(float, logits), strict=True)),
        achieved=dict(zip(UNITS, map(float, achieved), strict=True)),
        targets=dict(zip(UNITS, map(float, _TARGET), strict=True)),
    )


def _fitted_logits() -> F:
    fit = history_fit()
    return np.array([fit.logits[u] for u in UNITS])


# ---------------------------------------------------------------------------
# Current state: build_patients fed with noise that respects the history
# ---------------------------------------------------------------------------


def catchment_parameters() -> Parameters:
    """Model parameters of prevalent clinic patients (:data:`CATCHMENT_PARAMETER_SHIFTS`).

    Examples
    --------
    >>> catchment_parameters()["activity_shift"] < default_parameters()["activity_shift"]
    True
    """
    return default_parameters().replace(**CATCHMENT_PARAMETER_SHIFTS)


# Which manifestation each generic (two-step organ model) descriptor implies,
# or -1: current activity of that item needs the manifestation in the history.
_GENERIC_IMPLIES = np.array(
    [
        _M[_model._CURRENT_IMPLIES[c]] if c in _model._CURRENT_IMPLIES else -1
        for c in (DESCRIPTOR_CODES[j] for j in _model._GENERIC_IDX)
    ],
    dtype=np.intp,
)
# Organs whose activity needs history: those with at least one implying item.
_ORGAN_ITEMS = tuple(
    np.flatnonzero(np.equal(_model._GENERIC_DOMAIN, o) & (_GENERIC_IMPLIES >= 0))
    for o in range(len(_model._ORGANS))
)
_BILAG_HISTORY_IDX = tuple(
    np.array([_M[m] for m in _model._BILAG_HISTORY[d]], dtype=np.intp) for d in BILAG_DOMAINS
)
_CASTS_COLUMN = [DESCRIPTOR_CODES[j] for j in _model._SEDIMENT_IDX].index("urinary_casts")
# Margins that keep a current value on the "normal" side of a threshold after
# build_patients rounds it to 0.1.
_DSDNA_BELOW = np.log10(DSDNA_POSITIVE_IU - 0.2)
_C3_ABOVE = C3_LOW + 0.1
_C4_ABOVE = C4_LOW + 0.1


def _truncate_below(e: F, bound: F) -> F:
    """Map standard normals to standard normals truncated to ``<= bound``, monotonically."""
    p = np.maximum(special.ndtr(e) * special.ndtr(bound), 1e-300)
    return np.minimum(special.ndtri(p), bound)


def _constrained_noise(
    noise: Noise, hist: B, demo: _Demographics, params: Parameters, region: int
) -> Noise:
    """Noise that makes build_patients give each patient her demographics and no
    current activity, or current positive test, outside her history."""
    inf = np.inf
    # Demographics: sex by the comparison build_patients makes; race by the
    # midpoint of its category; age by inverting the truncated normal.
    l_sex = np.where(demo.female, -inf, inf)
    base = RACE_BY_REGION[REGIONS[region]] * np.exp([params[f"race_{g}"] for g in RACE_GROUPS])
    cdf = np.cumsum(base)
    cdf /= cdf[-1]
    mid = (np.concatenate([[0.0], cdf[:-1]]) + cdf) / 2.0
    mu, sigma = params["age_mu"], float(np.exp(params["age_log_sigma"]))
    lo, hi = special.ndtr((np.array([0.0, 100.0]) - mu) / sigma)
    u_age = (special.ndtr((demo.age - mu) / sigma) - lo) / (hi - lo)

    # Clinical items and organs: none without the matching history.
    allowed = np.ones(noise.l_descriptor.shape, dtype=bool)
    implied = _GENERIC_IMPLIES >= 0
    allowed[:, implied] = hist[:, _GENERIC_IMPLIES[implied]]
    organ_ok = np.ones(noise.l_organ.shape, dtype=bool)
    for o, items in enumerate(_ORGAN_ITEMS):  # a loop over 7 organs
        if items.size:
            organ_ok[:, o] = allowed[:, items].any(axis=1)
    bilag_mild = noise.bilag_mild.copy()
    for k, idx in enumerate(_BILAG_HISTORY_IDX):  # 9 domains
        if idx.size:
            bilag_mild[:, k] &= hist[:, idx].any(axis=1)
    # Renal activity only with a history of proteinuria; casts only with casts.
    l_renal = np.where(hist[:, _M["proteinuria"]], noise.l_renal, inf)
    sediment = noise.sediment.copy()
    sediment[:, _CASTS_COLUMN] &= hist[:, _M["cellular_casts"]]

    # Serology: a test that was never positive is negative now. The residual
    # noise is truncated (not clipped), so the values keep a smooth law.
    z_sero = RHO_SERO_ACT * noise.z_act + np.sqrt(1 - RHO_SERO_ACT**2) * noise.z_sero
    lam_ds = float(np.tanh(params["dsdna_loading"]))
    lam_c = float(np.tanh(params["complement_loading"]))
    s_ds, s_c = np.sqrt(1 - lam_ds**2), np.sqrt(1 - lam_c**2)
    e_dsdna = noise.e_dsdna
    never = ~hist[:, _M["anti_dsdna"]]
    bound = ((_DSDNA_BELOW - params["dsdna_mu"]) / DSDNA_LOG10_SD - lam_ds * z_sero) / s_ds
    e_dsdna = np.where(never, _truncate_below(e_dsdna, bound), e_dsdna)
    e_c3 = noise.e_c3
    never = ~hist[:, _M["low_c3"]]
    bound = ((params["c3_mu"] - _C3_ABOVE) / C3_SD - lam_c * z_sero) / s_c
    e_c3 = np.where(never, _truncate_below(e_c3, bound), e_c3)
    e_c4 = noise.e_c4
    never = ~hist[:, _M["low_c4"]]
    s4 = np.sqrt(1 - RHO_C3_C4**2)
    bound4 = ((params["c4_log_mu"] - np.log(_C4_ABOVE)) / C4_LOG_SD - lam_c * z_sero) / s_c
    e_c4 = np.where(never, _truncate_below(e_c4, (bound4 - RHO_C3_C4 * e_c3) / s4), e_c4)
    l_ana = np.where(hist[:, _M["ana"]], noise.l_ana, inf)

    return dataclasses.replace(
        noise,
        l_sex=l_sex,
        u_race=mid[demo.race],
        u_age=np.clip(u_age, 0.0, 1.0),
        l_descriptor=np.where(allowed, noise.l_descriptor, inf),
        l_organ=np.where(organ_ok, noise.l_organ, inf),
        bilag_mild=bilag_mild,
        l_renal=l_renal,
        sediment=sediment,
        e_dsdna=e_dsdna,
        e_c3=e_c3,
        e_c4=e_c4,
        l_ana=l_ana,
        past=hist,
    )


def _child_weight_factor(age: F, female: B) -> F:
    adult = np.where(female, WEIGHT_MEDIAN["female"], WEIGHT_MEDIAN["male"])
    at_10 = 2.0 * (10.0 + 4.0)
    child = np.where(
        age <= 10.0,
        2.0 * (age + 4.0),
        at_10 + (adult - at_10) * (age - 10.0) / (CHILD_WEIGHT_ADULT_AGE - 10.0),
    )
    return np.where(age < CHILD_WEIGHT_ADULT_AGE, child / adult, 1.0)


def _patients(
    spec: CatchmentSpec, demo: _Demographics, hist: B, params: Parameters, seed: int
) -> PatientArrays:
    n = demo.onset.shape[0]
    region = REGIONS.index(spec.region)
    noise = _constrained_noise(
        draw_noise(n, stream(seed, "catchment_state")), hist, demo, params, region
    )
    p = build_patients(noise, params, region_codes=(region,), age_range=(0.0, 100.0))
    age = np.round(demo.age, 1)
    duration = np.round(demo.duration, 2)
    # Damage accrues with the catchment's (long) durations, capped in the rate.
    rate = np.exp(
        params["sdi_log_rate"]
        + SDI_PER_YEAR * np.minimum(demo.duration, SDI_DURATION_CAP)
        + SDI_PER_YEAR_OF_AGE * (demo.age - 35.0)
    )
    sdi = _model._poisson_ppf(noise.u_sdi, rate)
    p = dataclasses.replace(
        p,
        female=demo.female,
        age=age,
        race=demo.race,
        disease_duration=duration,
        weight_kg=np.round(p.weight_kg * _child_weight_factor(demo.age, demo.female), 1),
        sdi=sdi,
    )
    # History unioned with what current activity implies (the same, by construction).
    ever = history(p.present, p.ana_titre, p.anti_dsdna_iu, p.c3, p.c4, hist, p.proteinuria_g)
    # Re-check classification. The union only adds manifestations to a classified
    # history, and never haemolytic anaemia (the one addition that can undo SLICC
    # 2012), so a failure here is a bug, not bad luck: say so rather than patch it.
    failing = int((~_classified(ever)).sum())
    if failing:
        raise LupsimError(
            f"internal error: {failing} catchment patients meet neither ACR 1997 nor "
            "SLICC 2012 after adding current activity to their history; please report it"
        )
    p.manifestations = ever
    return p


# ---------------------------------------------------------------------------
# The product
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Catchment:
    """The SLE patients of a catchment.

    Attributes
    ----------
    spec, seed
        What generated them.
    n_prevalent
        Prevalent patients (the rows of ``cohort``).
    n_incident_per_year
        New cases diagnosed in one year.
    cohort
        The prevalent patients as a :class:`~lupsim.cohort.Cohort` (no
        eligibility rule; ``n_screened`` is ``n_prevalent``).
    """

    spec: CatchmentSpec
    seed: int
    n_prevalent: int
    n_incident_per_year: int
    cohort: Cohort

    def onset_age(self) -> F:
        """Age at onset (diagnosis) of each patient: age minus disease duration, years."""
        p = self.cohort.patients
        return np.asarray(p.age - p.disease_duration, dtype=np.float64)

    def cumulative_frequencies(self) -> pd.DataFrame:
        """Cumulative manifestations (ever present), generated vs Euro-Lupus.

        One row per manifestation of :data:`~lupsim.activity.classification.MANIFESTATIONS`,
        with the groups ``serositis`` and ``nephropathy`` (any of their items)
        before their items. Columns: ``manifestation``, ``generated_pct``
        (NaN for an empty catchment), ``euro_lupus_pct``.

        Examples
        --------
        >>> c = generate_catchment(CatchmentSpec(inhabitants=200_000), seed=3)
        >>> f = c.cumulative_frequencies().set_index("manifestation")
        >>> float(f.loc["nephropathy", "euro_lupus_pct"])
        39.0
        """
        m = self.cohort.patients.manifestations
        n = m.shape[0]

        def pct(x: Any) -> float:
            return 100.0 * float(np.mean(x)) if n else float("nan")

        first_item = {items[0]: g for g, (_, items) in EURO_LUPUS_GROUPS.items()}
        rows: list[dict[str, Any]] = []
        for k, code in enumerate(_cls.MANIFESTATIONS):
            if code in first_item:
                g = first_item[code]
                rate, items = EURO_LUPUS_GROUPS[g]
                idx = [_M[i] for i in items]
                rows.append(
                    {
                        "manifestation": g,
                        "generated_pct": pct(m[:, idx].any(axis=1)),
                        "euro_lupus_pct": 100.0 * rate,
                    }
                )
            rows.append(
                {
                    "manifestation": code,
                    "generated_pct": pct(m[:, k]),
                    "euro_lupus_pct": 100.0 * EURO_LUPUS_FREQUENCY[code],
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Counts, demographics, current activity and cumulative manifestations, as text.

        Examples
        --------
        >>> print(generate_catchment(CatchmentSpec(inhabitants=100_000), seed=1).summary())
        Catchment of 100,000 inhabitants (western europe), seed 1
        ...
        """
        s = self.spec
        p = self.cohort.patients
        lines = [
            f"Catchment of {s.inhabitants:,} inhabitants ({s.region.replace('_', ' ')}), "
            f"seed {self.seed}",
            f"  prevalent SLE patients   {self.n_prevalent:>8,}  (expected "
            f"{s.expected_prevalent:,.1f} at {s.prevalence_per_100k:g} per 100,000)",
            f"  incident cases per year  {self.n_incident_per_year:>8,}  (expected "
            f"{s.expected_incident_per_year:,.1f} at {s.incidence_per_100k_year:g} "
            "per 100,000 per year)",
        ]
        if self.n_prevalent == 0:
            lines.append("  (no prevalent patient to describe)")
            return "\n".join(lines)
        onset = self.onset_age()
        sd_onset = float(onset.std(ddof=1)) if onset.size > 1 else 0.0
        sledai = score_sledai(p.present, p.new, "2k")
        races = ", ".join(
            f"{g.replace('_', ' ')} {100.0 * float(np.mean(p.race == i)):.1f}%"
            for i, g in enumerate(RACE_GROUPS)
        )
        lines += [
            f"  female {100.0 * p.female.mean():.1f}% (expected {s.expected_female_pct():.1f}%)",
            f"  age at onset mean {onset.mean():.1f} (SD {sd_onset:.1f}); "
            f"current age mean {p.age.mean():.1f}; disease duration mean "
            f"{p.disease_duration.mean():.1f} years (prevalence / incidence "
            f"{s.mean_duration_years:.1f} before the cap at {AGE_MAX:g} years of age)",
            f"  race: {races}",
            f"  SLEDAI-2K mean {sledai.mean():.1f}, 0-2 in {100.0 * np.mean(sledai <= 2):.0f}%; "
            f"prednisone {100.0 * np.mean(p.prednisone_mg > 0):.0f}%, antimalarial "
            f"{100.0 * p.antimalarial.mean():.0f}%, immunosuppressant "
            f"{100.0 * np.mean(p.immunosuppressant > 0):.0f}%",
            "",
            f"  {'cumulative manifestation':28s} {'generated %':>12s} {'Euro-Lupus %':>13s}",
        ]
        for _, r in self.cumulative_frequencies().iterrows():
            lines.append(
                f"  {r['manifestation']:28s} {r['generated_pct']:12.1f} {r['euro_lupus_pct']:13.0f}"
            )
        return "\n".join(lines)


def generate_catchment(spec: CatchmentSpec | Mapping[str, Any], seed: int) -> Catchment:
    """Generate the SLE patients living in a catchment.

    Parameters
    ----------
    spec
        The catchment, or a mapping validated as one (e.g. a TOML table); an
        invalid mapping raises one :class:`~lupsim.errors.ScenarioError` listing
        every problem.
    seed
        Seed of the run; the same seed gives the same catchment.

    Returns
    -------
    Catchment
        Counts and the prevalent patients as a :class:`~lupsim.cohort.Cohort`.

    Examples
    --------
    >>> c = generate_catchment({"inhabitants": 1_000_000}, seed=7)
    >>> c.cohort.n == c.n_prevalent
    True
    >>> 400 < c.n_prevalent < 540
    True
    """
    if not isinstance(spec, CatchmentSpec):
        spec = CatchmentSpec.from_mapping(spec)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ScenarioError(f"seed: must be a whole number >= 0, got {seed!r}")
    seed = int(seed)
    counts = stream(seed, "catchment")
    n_prevalent = int(counts.poisson(spec.expected_prevalent))
    n_incident = int(counts.poisson(spec.expected_incident_per_year))

    demo = _demographics(spec, n_prevalent, stream(seed, "catchment_demographics"))
    hist = _draw_history(_fitted_logits(), _renal_offset(demo), stream(seed, "catchment_history"))
    params = catchment_parameters()
    patients = _patients(spec, demo, hist, params, seed)

    race_pct = spec.patient_race_pct()
    population = Population(
        name="catchment",
        source=(
            "lupsim catchment mode: Arnaud L et al., Autoimmun Rev 2014;13:1082-9 "
            "(prevalence, incidence); "
            "Cervera et al., Medicine 1993 (cumulative manifestations)"
        ),
        female_pct=spec.expected_female_pct(),
        age_min=ONSET_AGE_MIN,
        age_max=AGE_MAX,
        race_pct={g: v for g, v in race_pct.items() if v > 0},
        region_pct={spec.region: 100.0},
    )
    cohort = Cohort(
        patients=patients,
        population=population,
        eligibility=None,
        seed=seed,
        parameters=params,
        n_screened=n_prevalent,
    )
    return Catchment(
        spec=spec,
        seed=seed,
        n_prevalent=n_prevalent,
        n_incident_per_year=n_incident,
        cohort=cohort,
    )
